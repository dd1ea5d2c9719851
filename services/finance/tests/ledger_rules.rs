//! Issue 10's ledger rules, through the public API on SQLite and PostgreSQL: contracts let
//! for the whole partnership are the partnership's (rule 14); commitments run across years
//! for every partnership, budget or none (rule 11); a closed period never changes, later facts
//! post adjustments to the first open period (rule 10).

mod common;

use chrono::NaiveDate;
use common::{aim, d, finance, money, publish, start, support};
use hub_events::{
    BlockContractLet, Envelope, PlacementEnded, PlacementRateChanged, PlacementStarted,
    ServiceContractTerminated,
};
use hub_platform::directory::{HALTON, LIVERPOOL, SEFTON};
use hub_testkit::{TestApp, on_both};
use serde_json::{Value, json};
use uuid::Uuid;

/// A budget for `partnership`'s `year` in `lines`, shared equally, the variance by
/// contribution.
fn budget(partnership: &str, year: i32, lines: Value) -> Value {
    json!({"partnership": partnership, "year": year, "lines": lines,
    "costing_model": {"method": "equal"},
    "risk_share": {"share": {"method": "contribution"}}})
}

const JUNE_2018: &str = "partnership=AIM&year=2018&period=3";

/// Rule 14: a service contract Sefton lets for all of AIM, £365 a day over 2018/19, and one
/// empty bed of a block it lets at £700 a week (£100 a day) April–September, that no council
/// holds.
async fn pooled_contracts(app: &TestApp) {
    aim(app, &support(365 * 36_500, d(2018, 4, 1), d(2019, 3, 31))).await;
    aim(
        app,
        &BlockContractLet {
            block_contract_id: Uuid::now_v7(),
            lead_council: SEFTON.into(),
            provider_id: "prov-care-assist".into(),
            beds: 1,
            block_weekly_rate_pence: 70_000,
            spot_weekly_rate_pence: 80_000,
            start_date: d(2018, 4, 1),
            end_date: d(2018, 9, 30),
            planned_annual_saving_pence: 520_000,
        },
    )
    .await;
}

/// The pooled contracts, read in the ledger by Sefton, and a budget for AIM's 2018/19.
async fn pooled_and_budgeted(app: &TestApp) {
    pooled_contracts(app).await;
    let finance_of = |org| finance(app, org);
    app.finance()
        .ledger(&finance_of(SEFTON), "partnership=AIM&year=2018")
        .await;
    let lines = json!([{"budget_line": "commissioned_adoption_support", "amount_pence": 20_000_000},
                       {"budget_line": "placements", "amount_pence": 5_000_000}]);
    let (status, budget) = app
        .finance()
        .set_budget(&finance_of(LIVERPOOL), &budget("AIM", 2018, lines))
        .await;
    assert_eq!(status, 201, "{budget}");
}

/// Committed after June: the contract's 274 days × £365 = £100,010.00 and the bed's 92 days
/// × £100 = £9,200.00, all AIM's.
const COMMITTED: i64 = 274 * 36_500 + 92 * 10_000;

/// A council's forecast in a report's detail.
fn forecast_of(r: &Value, council: &str) -> i64 {
    let d = r["detail"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["council"] == council)
        .unwrap_or_else(|| panic!("no detail for {council} in {r}"));
    money(&d["totals"], "forecast_outturn_pence")
}

/// In no partner's detail: AIM's own lines.
async fn pooled_contracts_are_the_partnerships_lines(url: &str) {
    let app = start(url).await;
    pooled_contracts(&app).await;
    let (status, ledger) = app
        .finance()
        .ledger(&finance(&app, SEFTON), "partnership=AIM&year=2018")
        .await;
    assert_eq!(status, 200, "{ledger}");
    let lines = ledger["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 12 + 6, "{ledger}");
    for l in lines {
        assert_eq!(l["council"], "AIM", "{l}");
    }
}

on_both!(
    pooled_contracts_are_the_partnerships_lines,
    contracts_let_for_the_partnership_are_the_partnerships_on_sqlite,
    contracts_let_for_the_partnership_are_the_partnerships_on_postgres
);

/// The report counts them in AIM's own detail, none in Sefton's.
async fn pooled_contracts_are_the_partnerships_in_the_report(url: &str) {
    let app = start(url).await;
    pooled_and_budgeted(&app).await;
    let host = finance(&app, LIVERPOOL);
    let (status, r) = app.finance().monitoring(&host, JUNE_2018).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        money(&r["totals"], "committed_rest_of_year_pence"),
        COMMITTED
    );
    assert_eq!(forecast_of(&r, SEFTON), 0);
    // AIM's forecast: April–June's 91 days of both, incurred and unpaid (accrued), and the
    // committed after June.
    let accrued = 91 * 36_500 + 91 * 10_000;
    assert_eq!(forecast_of(&r, "AIM"), accrued + COMMITTED);
    let sum: i64 = r["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| money(&d["totals"], "forecast_outturn_pence"))
        .sum();
    assert_eq!(sum, money(&r["totals"], "forecast_outturn_pence"));
}

on_both!(
    pooled_contracts_are_the_partnerships_in_the_report,
    pooled_contracts_are_the_partnerships_in_the_report_on_sqlite,
    pooled_contracts_are_the_partnerships_in_the_report_on_postgres
);

/// Sefton, a partner, sees its own detail and the partnership's, and can drill into it.
async fn a_partner_sees_and_drills_into_the_partnerships_detail(url: &str) {
    let app = start(url).await;
    pooled_and_budgeted(&app).await;
    let (client, sefton) = (app.finance(), finance(&app, SEFTON));
    client
        .monitoring(&finance(&app, LIVERPOOL), JUNE_2018)
        .await;
    let (_, mine) = client.monitoring(&sefton, JUNE_2018).await;
    let councils: Vec<&str> = mine["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["council"].as_str().unwrap())
        .collect();
    assert_eq!(councils, vec![SEFTON, "AIM"]);
    assert_eq!(forecast_of(&mine, SEFTON), 0);
    let (status, drill) = client
        .drill(
            &sefton,
            &format!("{JUNE_2018}&measure=committed&council=AIM"),
        )
        .await;
    assert_eq!(status, 200, "{drill}");
    assert_eq!(money(&drill, "total_pence"), COMMITTED);
    let (_, own) = client
        .drill(&sefton, &format!("{JUNE_2018}&measure=committed"))
        .await;
    assert_eq!(money(&own, "total_pence"), 0, "{own}");
}

on_both!(
    a_partner_sees_and_drills_into_the_partnerships_detail,
    a_partner_sees_and_drills_into_the_partnerships_detail_on_sqlite,
    a_partner_sees_and_drills_into_the_partnerships_detail_on_postgres
);

/// A placement of `council`'s child at £700 a week (£100 a day) from `start`, no end.
fn started(placement: Uuid, council: &str, start: NaiveDate) -> PlacementStarted {
    PlacementStarted {
        placement_id: placement,
        ..common::placement(council, "prov-care-assist", 70_000, start)
    }
}

fn ended(placement: Uuid, council: &str, last_night: NaiveDate) -> PlacementEnded {
    PlacementEnded {
        placement_id: placement,
        council: council.into(),
        provider_id: "prov-care-assist".into(),
        end_date: last_night,
        reason: "moved_on".into(),
        block_contract_id: None,
        bed: None,
    }
}

/// Rule 11: in LCR-PPA, which has no hosting authority and so no budget, a placement started
/// in January 2026 with no end is committed in 2026/27 and every later year asked for, until
/// it ends; the council's finance staff read its lines for any year.
async fn across_years(url: &str) {
    let app = start(url).await;
    let (client, halton) = (app.finance(), finance(&app, HALTON));
    let ledger = |year: i32| {
        let (client, halton) = (&client, &halton);
        async move {
            client
                .ledger(halton, &format!("partnership=LCR-PPA&year={year}"))
                .await
        }
    };
    let committed = |v: &Value| money(v, "committed_pence");
    let placement = Uuid::now_v7();
    publish(&app, "LCR-PPA", &started(placement, HALTON, d(2026, 1, 15))).await;

    let (status, y2025) = ledger(2025).await;
    assert_eq!(status, 200, "{y2025}");
    // 15 January – 31 March: 17 + 28 + 31 days.
    assert_eq!(committed(&y2025), 76 * 10_000, "{y2025}");
    let (_, y2026) = ledger(2026).await;
    assert_eq!(committed(&y2026), 365 * 10_000, "{y2026}");
    assert_eq!(y2026["lines"].as_array().unwrap().len(), 12);
    assert!(
        y2026["lines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["council"] == HALTON && l["source_id"] == placement.to_string())
    );
    // Still no budget for LCR-PPA: the commitment does not need one.
    let placements = json!([{"budget_line": "placements", "amount_pence": 1_000_000}]);
    let (status, _) = client
        .set_budget(&halton, &budget("LCR-PPA", 2026, placements))
        .await;
    assert_eq!(status, 409);
    // Asking for 2028/29 carries it there, and through 2027/28 (366 days, 29 February 2028).
    let (_, y2028) = ledger(2028).await;
    assert_eq!(committed(&y2028), 365 * 10_000, "{y2028}");
    let (_, y2027) = ledger(2027).await;
    assert_eq!(committed(&y2027), 366 * 10_000, "{y2027}");
    // A placement started after that runs to the year opened at once.
    let later = Uuid::now_v7();
    publish(&app, "LCR-PPA", &started(later, HALTON, d(2026, 6, 1))).await;
    let (_, y2028) = ledger(2028).await;
    assert_eq!(committed(&y2028), 2 * 365 * 10_000, "{y2028}");
    // The first ends on 30 June 2027: nothing after it.
    publish(&app, "LCR-PPA", &ended(placement, HALTON, d(2027, 6, 30))).await;
    let (_, y2027) = ledger(2027).await;
    assert_eq!(committed(&y2027), (91 + 366) * 10_000, "{y2027}");
    let (_, y2028) = ledger(2028).await;
    assert_eq!(committed(&y2028), 365 * 10_000, "{y2028}");
}

on_both!(
    across_years,
    commitments_run_across_years_without_a_budget_on_sqlite,
    commitments_run_across_years_without_a_budget_on_postgres
);

/// `(period, amount)` of each ordinary line and `(period, adjusted period, amount, cause
/// type, cause id)` of each adjustment in a ledger.
type Adjustment = (i64, i64, i64, String, String);

fn split(ledger: &Value, kind: &str) -> (Vec<(i64, i64)>, Vec<Adjustment>) {
    let (mut lines, mut adjustments) = (Vec::new(), Vec::new());
    for l in ledger["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["source_kind"] == kind)
    {
        let period = l["period"].as_i64().unwrap();
        let amount = money(l, "amount_pence");
        match l.get("adjusts") {
            Some(a) => adjustments.push((
                period,
                a["period"].as_i64().unwrap(),
                amount,
                a["cause_event_type"].as_str().unwrap().to_owned(),
                a["cause_event_id"].as_str().unwrap().to_owned(),
            )),
            None => lines.push((period, amount)),
        }
    }
    (lines, adjustments)
}

const JUNE_2026: &str = "partnership=AIM&year=2026&period=3";
const LEDGER_2026: &str = "partnership=AIM&year=2026";

/// A Sefton placement from 1 April 2026 at £100 a day, and support Sefton lets for AIM at £10
/// a day over 2026/27; a budget; April–June closed. Answers the placement, the support
/// contract and the June report as it then stood.
struct Closed {
    placement: Uuid,
    support: Uuid,
    june: Value,
}

async fn april_to_june_closed(app: &TestApp) -> Closed {
    let (client, host) = (app.finance(), finance(app, LIVERPOOL));
    let placement = Uuid::now_v7();
    aim(app, &started(placement, SEFTON, d(2026, 4, 1))).await;
    let support = support(365 * 1_000, d(2026, 4, 1), d(2027, 3, 31));
    aim(app, &support).await;
    let placements = json!([{"budget_line": "placements", "amount_pence": 5_000_000}]);
    let (status, budget) = client
        .set_budget(&host, &budget("AIM", 2026, placements))
        .await;
    assert_eq!(status, 201, "{budget}");
    let budget_id = budget["id"].as_str().unwrap();
    for period in 1..=3 {
        let (status, body) = client.close_period(&host, budget_id, period).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, report) = client.monitoring(&host, JUNE_2026).await;
    assert_eq!(status, 200, "{report}");
    // 30 + 31 + 30 days at £100 and £10 to June; July–March 274 days committed.
    assert_eq!(
        money(&report["totals"], "committed_rest_of_year_pence"),
        274 * 11_000
    );
    Closed {
        placement,
        support: support.contract_id,
        june: report,
    }
}

/// IPA v2 for the placement: £1,400 a week (£200 a day) from 1 May, published.
async fn raised(app: &TestApp, placement: Uuid) -> Envelope {
    let raised = Envelope::new(
        "contract",
        "AIM",
        &PlacementRateChanged {
            placement_id: placement,
            council: SEFTON.into(),
            provider_id: "prov-care-assist".into(),
            weekly_rate_pence: 140_000,
            extras_weekly_pence: 0,
            effective_from: d(2026, 5, 1),
            ipa_version: 2,
            block_contract_id: None,
        },
    );
    app.publish_envelope(&raised).await;
    raised
}

/// The placement's end on 15 May, published twice.
async fn ended_in_may(app: &TestApp, placement: Uuid) -> Envelope {
    let end = Envelope::new("contract", "AIM", &ended(placement, SEFTON, d(2026, 5, 15)));
    app.publish_envelope(&end).await;
    app.publish_envelope(&end).await;
    end
}

/// The support contract terminated back on 31 May, published.
async fn support_terminated(app: &TestApp, support: Uuid) -> Envelope {
    let terminated = Envelope::new(
        "contract",
        "AIM",
        &ServiceContractTerminated {
            contract_id: support,
            lead_council: SEFTON.into(),
            provider_id: "prov-after-adoption".into(),
            terminated_on: d(2026, 5, 31),
            reason: "provider_closed".into(),
        },
    );
    app.publish_envelope(&terminated).await;
    terminated
}

/// An event's type and id, as an adjustment names its cause.
fn cause(e: &Envelope) -> (String, String) {
    (e.event_type.clone(), e.id.to_string())
}

/// Rule 10: a rate change backdated to 1 May leaves April–June as posted and posts May's
/// and June's differences to July, tagged with the period and the event; the June report is
/// as it was.
async fn a_backdated_rate_change_is_adjusted_in_july(url: &str) {
    let app = start(url).await;
    let Closed {
        placement, june, ..
    } = april_to_june_closed(&app).await;
    let (client, host) = (app.finance(), finance(&app, LIVERPOOL));
    let (rate, rate_id) = cause(&raised(&app, placement).await);
    let (_, body) = client.ledger(&host, LEDGER_2026).await;
    let (lines, adjustments) = split(&body, "placement");
    assert_eq!(
        adjustments,
        vec![
            (4, 2, 31 * 10_000, rate.clone(), rate_id.clone()),
            (4, 3, 30 * 10_000, rate, rate_id),
        ]
    );
    // April, May and June as posted; July on at the new rate.
    assert_eq!(
        &lines[..4],
        &[
            (1, 30 * 10_000),
            (2, 31 * 10_000),
            (3, 30 * 10_000),
            (4, 31 * 20_000)
        ]
    );
    // The year still adds up to what the facts cost: April at £100, then 335 days at £200
    // (and the support's 365 days at £10).
    assert_eq!(
        money(&body, "committed_pence"),
        30 * 10_000 + 335 * 20_000 + 365 * 1_000
    );
    let (_, again) = client.monitoring(&host, JUNE_2026).await;
    assert_eq!(again, june);
}

on_both!(
    a_backdated_rate_change_is_adjusted_in_july,
    a_closed_period_never_changes_on_sqlite,
    a_closed_period_never_changes_on_postgres
);

/// Then the placement ends on 15 May: May owes 15 days at £200 against £3,100 + £3,100, June
/// nothing against £3,000 + £3,000.
async fn a_backdated_end_is_adjusted_in_july(url: &str) {
    let app = start(url).await;
    let Closed {
        placement, june, ..
    } = april_to_june_closed(&app).await;
    let (client, host) = (app.finance(), finance(&app, LIVERPOOL));
    let (rate, rate_id) = cause(&raised(&app, placement).await);
    client.ledger(&host, LEDGER_2026).await;
    client.monitoring(&host, JUNE_2026).await;
    let (ended_type, ended_id) = cause(&ended_in_may(&app, placement).await);
    let (_, body) = client.ledger(&host, LEDGER_2026).await;
    let (lines, adjustments) = split(&body, "placement");
    assert_eq!(
        adjustments,
        vec![
            (4, 2, 31 * 10_000, rate.clone(), rate_id.clone()),
            (4, 2, -32 * 10_000, ended_type.clone(), ended_id.clone()),
            (4, 3, 30 * 10_000, rate, rate_id),
            (4, 3, -60 * 10_000, ended_type, ended_id),
        ]
    );
    assert_eq!(
        lines,
        vec![(1, 30 * 10_000), (2, 31 * 10_000), (3, 30 * 10_000)]
    );
    assert_eq!(
        money(&body, "committed_pence"),
        30 * 10_000 + 15 * 20_000 + 365 * 1_000
    );
    let (_, again) = client.monitoring(&host, JUNE_2026).await;
    assert_eq!(again, june);
}

on_both!(
    a_backdated_end_is_adjusted_in_july,
    a_backdated_end_is_adjusted_in_july_on_sqlite,
    a_backdated_end_is_adjusted_in_july_on_postgres
);

/// The rate change and the end, each read as it arrived in the ledger and the June report,
/// then the support terminated back to 31 May. Answers the state April–June closed with and
/// the termination.
async fn every_backdated_fact(app: &TestApp) -> (Closed, Envelope) {
    let closed = april_to_june_closed(app).await;
    let (client, host) = (app.finance(), finance(app, LIVERPOOL));
    raised(app, closed.placement).await;
    client.ledger(&host, LEDGER_2026).await;
    client.monitoring(&host, JUNE_2026).await;
    ended_in_may(app, closed.placement).await;
    client.ledger(&host, LEDGER_2026).await;
    client.monitoring(&host, JUNE_2026).await;
    let terminated = support_terminated(app, closed.support).await;
    (closed, terminated)
}

/// The support contract terminated back on 31 May: June's £300 comes off in July, the
/// partnership's (the contract was let for all of AIM); April and May stand.
async fn a_backdated_termination_is_the_partnerships(url: &str) {
    let app = start(url).await;
    let (closed, terminated) = every_backdated_fact(&app).await;
    let (client, host) = (app.finance(), finance(&app, LIVERPOOL));
    let (_, body) = client.ledger(&host, LEDGER_2026).await;
    let (lines, adjustments) = split(&body, "service_contract");
    let (kind, id) = cause(&terminated);
    assert_eq!(adjustments, vec![(4, 3, -30 * 1_000, kind, id)]);
    assert_eq!(
        lines,
        vec![(1, 30 * 1_000), (2, 31 * 1_000), (3, 30 * 1_000)]
    );
    assert!(
        body["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["source_kind"] == "service_contract")
            .all(|l| l["council"] == "AIM" && l["attribution"] == "pooled")
    );
    let (_, again) = client.monitoring(&host, JUNE_2026).await;
    assert_eq!(again, closed.june);
}

on_both!(
    a_backdated_termination_is_the_partnerships,
    a_backdated_termination_is_the_partnerships_on_sqlite,
    a_backdated_termination_is_the_partnerships_on_postgres
);

/// July's report counts the adjustments in July: its trend as at June has after June only
/// the adjustments posted to July (£3,100 + £3,000 − £3,200 − £6,000 − £300); nothing is
/// committed after July.
async fn julys_report_counts_the_adjustments(url: &str) {
    let app = start(url).await;
    every_backdated_fact(&app).await;
    let (client, host) = (app.finance(), finance(&app, LIVERPOOL));
    client.ledger(&host, LEDGER_2026).await;
    client.monitoring(&host, JUNE_2026).await;
    let (_, july) = client
        .monitoring(&host, "partnership=AIM&year=2026&period=4")
        .await;
    assert_eq!(money(&july["totals"], "committed_rest_of_year_pence"), 0);
    assert_eq!(
        money(&july["trend"][2], "committed_rest_of_year_pence"),
        310_000 + 300_000 - 320_000 - 600_000 - 30_000
    );
}

on_both!(
    julys_report_counts_the_adjustments,
    julys_report_counts_the_adjustments_on_sqlite,
    julys_report_counts_the_adjustments_on_postgres
);
