//! Issue 10's ledger rules, through the public API on SQLite and PostgreSQL: contracts let
//! for the whole partnership are the partnership's (rule 14); commitments run across years
//! for every partnership, budget or none (rule 11); a closed period never changes, later facts
//! post adjustments to the first open period (rule 10).

use chrono::NaiveDate;
use hub_events::{
    BlockContractLet, Envelope, Event, PlacementEnded, PlacementRateChanged, PlacementStarted,
    ServiceContractLet, ServiceContractTerminated,
};
use hub_platform::directory::{HALTON, LIVERPOOL, SEFTON};
use hub_platform::{Role, db::Migrations};
use hub_testkit::{ServiceCtx, call, on_both};
use serde_json::{Value, json};
use uuid::Uuid;

static SETS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &finance::MIGRATIONS];

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

async fn publish<E: Event>(ctx: &ServiceCtx, partnership: &str, event: &E) {
    ctx.publish_envelope(&Envelope::new("contract", partnership, event))
        .await;
}

fn money(v: &Value, key: &str) -> i64 {
    v[key].as_i64().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// A budget for `partnership`'s `year` in `lines`, shared equally, the variance by
/// contribution.
fn budget(partnership: &str, year: i32, lines: Value) -> Option<Value> {
    Some(
        json!({"partnership": partnership, "year": year, "lines": lines,
        "costing_model": {"method": "equal"},
        "risk_share": {"share": {"method": "contribution"}}}),
    )
}

/// Rule 14: a service contract Sefton lets for all of AIM, and a block bed it lets that no
/// council holds, are AIM's: in no partner's detail, in the partnership's own.
async fn pooled(url: &str) {
    let ctx = ServiceCtx::start(url, finance::NAME, &SETS, finance::start).await;
    let app = ctx.app().await;
    let (host, sefton) = (
        ctx.token(LIVERPOOL, Role::Finance),
        ctx.token(SEFTON, Role::Finance),
    );
    // £365 a day over 2018/19, and one empty bed at £700 a week (£100 a day) April–September.
    let (service, block) = (Uuid::now_v7(), Uuid::now_v7());
    publish(
        &ctx,
        "AIM",
        &ServiceContractLet {
            contract_id: service,
            lead_council: SEFTON.into(),
            provider_id: "prov-after-adoption".into(),
            services: vec!["letterbox".into()],
            value_pence: 365 * 36_500,
            start_date: d(2018, 4, 1),
            end_date: d(2019, 3, 31),
            budget_line: "commissioned_adoption_support".into(),
            extensions_allowed: 0,
        },
    )
    .await;
    publish(
        &ctx,
        "AIM",
        &BlockContractLet {
            block_contract_id: block,
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
    let (status, ledger) = call(
        &app,
        "GET",
        "/v1/ledger?partnership=AIM&year=2018",
        &sefton,
        None,
    )
    .await;
    assert_eq!(status, 200, "{ledger}");
    let lines = ledger["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 12 + 6, "{ledger}");
    for l in lines {
        assert_eq!(l["council"], "AIM", "{l}");
    }

    let lines = json!([{"budget_line": "commissioned_adoption_support", "amount_pence": 20_000_000},
                       {"budget_line": "placements", "amount_pence": 5_000_000}]);
    let (status, budget) = call(
        &app,
        "POST",
        "/v1/budgets",
        &host,
        budget("AIM", 2018, lines),
    )
    .await;
    assert_eq!(status, 201, "{budget}");
    let report = "/v1/monitoring?partnership=AIM&year=2018&period=3";
    let (status, r) = call(&app, "GET", report, &host, None).await;
    assert_eq!(status, 200, "{r}");
    // Committed after June: the contract's 274 days × £365 = £100,010.00 and the bed's 92
    // days × £100 = £9,200.00, all AIM's; Sefton's own detail has nothing.
    let committed = 274 * 36_500 + 92 * 10_000;
    assert_eq!(
        money(&r["totals"], "committed_rest_of_year_pence"),
        committed
    );
    let detail = |r: &Value, council: &str| -> i64 {
        let d = r["detail"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["council"] == council)
            .unwrap_or_else(|| panic!("no detail for {council} in {r}"));
        money(&d["totals"], "forecast_outturn_pence")
    };
    assert_eq!(detail(&r, SEFTON), 0);
    // AIM's forecast: April–June's 91 days of both, incurred and unpaid (accrued), and the
    // committed after June.
    let accrued = 91 * 36_500 + 91 * 10_000;
    assert_eq!(detail(&r, "AIM"), accrued + committed);
    let sum: i64 = r["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| money(&d["totals"], "forecast_outturn_pence"))
        .sum();
    assert_eq!(sum, money(&r["totals"], "forecast_outturn_pence"));
    // Sefton, a partner, sees its own detail and the partnership's, and can drill into it.
    let (_, mine) = call(&app, "GET", report, &sefton, None).await;
    let councils: Vec<&str> = mine["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["council"].as_str().unwrap())
        .collect();
    assert_eq!(councils, vec![SEFTON, "AIM"]);
    assert_eq!(detail(&mine, SEFTON), 0);
    let (status, drill) = call(
        &app,
        "GET",
        "/v1/monitoring/drill?partnership=AIM&year=2018&period=3&measure=committed&council=AIM",
        &sefton,
        None,
    )
    .await;
    assert_eq!(status, 200, "{drill}");
    assert_eq!(money(&drill, "total_pence"), committed);
    let (_, own) = call(
        &app,
        "GET",
        "/v1/monitoring/drill?partnership=AIM&year=2018&period=3&measure=committed",
        &sefton,
        None,
    )
    .await;
    assert_eq!(money(&own, "total_pence"), 0, "{own}");
}

on_both!(
    pooled,
    contracts_let_for_the_partnership_are_the_partnerships_on_sqlite,
    contracts_let_for_the_partnership_are_the_partnerships_on_postgres
);

/// A placement of `council`'s child at £700 a week (£100 a day) from `start`, no end.
fn started(placement: Uuid, council: &str, start: NaiveDate) -> PlacementStarted {
    PlacementStarted {
        placement_id: placement,
        order_id: Some(Uuid::now_v7()),
        referral_id: Uuid::now_v7(),
        council: council.into(),
        provider_id: "prov-care-assist".into(),
        weekly_rate_pence: 70_000,
        extras_weekly_pence: 0,
        start_date: start,
        block_contract_id: None,
        bed: None,
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

/// Rule 11: in LCR-PPA, which has no hosting authority and so no budget, a placement started
/// in January 2026 with no end is committed in 2026/27 and every later year asked for, until
/// it ends; the council's finance staff read its lines for any year.
async fn across_years(url: &str) {
    let ctx = ServiceCtx::start(url, finance::NAME, &SETS, finance::start).await;
    let app = ctx.app().await;
    let halton = ctx.token(HALTON, Role::Finance);
    let ledger = |year: i32| format!("/v1/ledger?partnership=LCR-PPA&year={year}");
    let placement = Uuid::now_v7();
    publish(&ctx, "LCR-PPA", &started(placement, HALTON, d(2026, 1, 15))).await;
    let committed = |v: &Value| money(v, "committed_pence");

    let (status, y2025) = call(&app, "GET", &ledger(2025), &halton, None).await;
    assert_eq!(status, 200, "{y2025}");
    // 15 January – 31 March: 17 + 28 + 31 days.
    assert_eq!(committed(&y2025), 76 * 10_000, "{y2025}");
    let (_, y2026) = call(&app, "GET", &ledger(2026), &halton, None).await;
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
    let (status, _) = call(
        &app,
        "POST",
        "/v1/budgets",
        &halton,
        budget("LCR-PPA", 2026, placements),
    )
    .await;
    assert_eq!(status, 409);
    // Asking for 2028/29 carries it there, and through 2027/28 (366 days, 29 February 2028).
    let (_, y2028) = call(&app, "GET", &ledger(2028), &halton, None).await;
    assert_eq!(committed(&y2028), 365 * 10_000, "{y2028}");
    let (_, y2027) = call(&app, "GET", &ledger(2027), &halton, None).await;
    assert_eq!(committed(&y2027), 366 * 10_000, "{y2027}");
    // A placement started after that runs to the year opened at once.
    let later = Uuid::now_v7();
    publish(&ctx, "LCR-PPA", &started(later, HALTON, d(2026, 6, 1))).await;
    let (_, y2028) = call(&app, "GET", &ledger(2028), &halton, None).await;
    assert_eq!(committed(&y2028), 2 * 365 * 10_000, "{y2028}");
    // The first ends on 30 June 2027: nothing after it.
    publish(&ctx, "LCR-PPA", &ended(placement, HALTON, d(2027, 6, 30))).await;
    let (_, y2027) = call(&app, "GET", &ledger(2027), &halton, None).await;
    assert_eq!(committed(&y2027), (91 + 366) * 10_000, "{y2027}");
    let (_, y2028) = call(&app, "GET", &ledger(2028), &halton, None).await;
    assert_eq!(committed(&y2028), 365 * 10_000, "{y2028}");
}

on_both!(
    across_years,
    commitments_run_across_years_without_a_budget_on_sqlite,
    commitments_run_across_years_without_a_budget_on_postgres
);

/// Rule 10: with April–June 2026 closed, a rate change backdated to 1 May and then an end
/// dated back to 15 May, and a service contract terminated back to 31 May, leave the closed
/// periods as posted, post their differences to July tagged with the period and the event,
/// and leave the June report as it was.
async fn closed_periods(url: &str) {
    let ctx = ServiceCtx::start(url, finance::NAME, &SETS, finance::start).await;
    let app = ctx.app().await;
    let host = ctx.token(LIVERPOOL, Role::Finance);
    let placement = Uuid::now_v7();
    publish(&ctx, "AIM", &started(placement, SEFTON, d(2026, 4, 1))).await;
    // And support Sefton lets for AIM at £10 a day over 2026/27.
    let support = Uuid::now_v7();
    publish(
        &ctx,
        "AIM",
        &ServiceContractLet {
            contract_id: support,
            lead_council: SEFTON.into(),
            provider_id: "prov-after-adoption".into(),
            services: vec!["letterbox".into()],
            value_pence: 365 * 1_000,
            start_date: d(2026, 4, 1),
            end_date: d(2027, 3, 31),
            budget_line: "commissioned_adoption_support".into(),
            extensions_allowed: 0,
        },
    )
    .await;
    let placements = json!([{"budget_line": "placements", "amount_pence": 5_000_000}]);
    let (status, budget) = call(
        &app,
        "POST",
        "/v1/budgets",
        &host,
        budget("AIM", 2026, placements),
    )
    .await;
    assert_eq!(status, 201, "{budget}");
    let budget_id = budget["id"].as_str().unwrap();
    for period in 1..=3 {
        let (status, body) = call(
            &app,
            "POST",
            &format!("/v1/budgets/{budget_id}/periods/{period}/close"),
            &host,
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let june = "/v1/monitoring?partnership=AIM&year=2026&period=3";
    let (status, report) = call(&app, "GET", june, &host, None).await;
    assert_eq!(status, 200, "{report}");
    // 30 + 31 + 30 days at £100 and £10 to June; July–March 274 days committed.
    assert_eq!(
        money(&report["totals"], "committed_rest_of_year_pence"),
        274 * 11_000
    );
    let ledger = "/v1/ledger?partnership=AIM&year=2026";

    // IPA v2: £1,400 a week (£200 a day) from 1 May.
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
    ctx.publish_envelope(&raised).await;
    let (_, body) = call(&app, "GET", ledger, &host, None).await;
    let (lines, adjustments) = split(&body, "placement");
    let cause = |e: &Envelope| (e.event_type.clone(), e.id.to_string());
    let (rate, rate_id) = cause(&raised);
    assert_eq!(
        adjustments,
        vec![
            (4, 2, 31 * 10_000, rate.clone(), rate_id.clone()),
            (4, 3, 30 * 10_000, rate.clone(), rate_id.clone()),
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
    let (_, again) = call(&app, "GET", june, &host, None).await;
    assert_eq!(again, report);

    // The placement ends on 15 May: May owes 15 days at £200 against £3,100 + £3,100, June
    // nothing against £3,000 + £3,000.
    let end = Envelope::new("contract", "AIM", &ended(placement, SEFTON, d(2026, 5, 15)));
    ctx.publish_envelope(&end).await;
    ctx.publish_envelope(&end).await;
    let (_, body) = call(&app, "GET", ledger, &host, None).await;
    let (lines, adjustments) = split(&body, "placement");
    let (ended_type, ended_id) = cause(&end);
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
    let (_, again) = call(&app, "GET", june, &host, None).await;
    assert_eq!(again, report);
    // The support contract is terminated back on 31 May: June's £300 comes off in July,
    // the partnership's (the contract was let for all of AIM); April and May stand.
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
    ctx.publish_envelope(&terminated).await;
    let (_, body) = call(&app, "GET", ledger, &host, None).await;
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
    let (_, again) = call(&app, "GET", june, &host, None).await;
    assert_eq!(again, report);
    // July's report counts the adjustments in July: its trend as at June has after June only
    // the adjustments posted to July (£3,100 + £3,000 − £3,200 − £6,000 − £300); nothing is
    // committed after July.
    let (_, july) = call(
        &app,
        "GET",
        "/v1/monitoring?partnership=AIM&year=2026&period=4",
        &host,
        None,
    )
    .await;
    assert_eq!(money(&july["totals"], "committed_rest_of_year_pence"), 0);
    assert_eq!(
        money(&july["trend"][2], "committed_rest_of_year_pence"),
        310_000 + 300_000 - 320_000 - 600_000 - 30_000
    );
}

on_both!(
    closed_periods,
    a_closed_period_never_changes_on_sqlite,
    a_closed_period_never_changes_on_postgres
);
