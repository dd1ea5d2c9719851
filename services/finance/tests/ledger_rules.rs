//! Issue 10's ledger rules, through the public API on SQLite and PostgreSQL: contracts let
//! for the whole partnership are the partnership's (rule 14); commitments run across years
//! for every partnership, budget or none (rule 11); a closed period never changes, later facts
//! post adjustments to the first open period (rule 10).

use chrono::NaiveDate;
use hub_events::{BlockContractLet, Envelope, Event, ServiceContractLet};
use hub_platform::{Role, db::Migrations};
use hub_testkit::{ServiceCtx, call, on_both};
use serde_json::{Value, json};
use uuid::Uuid;

static SETS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &finance::MIGRATIONS];

const LIVERPOOL: &str = "E08000012";
const SEFTON: &str = "E08000014";

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

    let (status, budget) = call(
        &app,
        "POST",
        "/v1/budgets",
        &host,
        Some(json!({"partnership": "AIM", "year": 2018,
            "lines": [{"budget_line": "commissioned_adoption_support", "amount_pence": 20_000_000},
                      {"budget_line": "placements", "amount_pence": 5_000_000}],
            "costing_model": {"method": "equal"},
            "risk_share": {"share": {"method": "contribution"}}})),
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
    assert_eq!(detail(&r, "AIM"), committed);
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
