//! Monitoring with a block contract: savings planned and realised, an overspend met from the
//! risk pool first and then by usage with a cap; and the report's refusals. SQLite and
//! PostgreSQL.

mod common;

use common::{aim, d, finance, start};
use hub_events::{BlockContractLet, PlacementStarted};
use hub_platform::Role;
use hub_platform::directory::{KNOWSLEY, LIVERPOOL, SEFTON, WIRRAL};
use hub_testkit::{TestApp, assert_problem, on_both};
use serde_json::{Value, json};
use uuid::Uuid;

const JUNE: &str = "partnership=AIM&year=2018&period=3";
const NOVEMBER: &str = "partnership=AIM&year=2018&period=8";

/// Care Assist's 4 beds at £1,988 (spot £2,149) from 1 April 2018 for three years; a Sefton
/// child in bed 1 from the first day; beds 2–4 empty. £100,000 for placements, shared
/// equally; overspends met from a £10,000 pool, then by usage with Sefton capped at
/// £150,000. Answers the block and the budget (the report refused before it was set).
async fn block_and_budget(app: &TestApp) -> (Uuid, Value) {
    let host = finance(app, LIVERPOOL);
    app.finance().monitoring(&host, JUNE).await;
    let block = Uuid::now_v7();
    aim(
        app,
        &BlockContractLet {
            block_contract_id: block,
            lead_council: SEFTON.into(),
            provider_id: "prov-care-assist".into(),
            beds: 4,
            block_weekly_rate_pence: 198_800,
            spot_weekly_rate_pence: 214_900,
            start_date: d(2018, 4, 1),
            end_date: d(2021, 3, 31),
            planned_annual_saving_pence: 3_348_800,
        },
    )
    .await;
    let child = PlacementStarted {
        order_id: None,
        block_contract_id: Some(block),
        bed: Some(1),
        ..common::placement(SEFTON, "prov-care-assist", 198_800, d(2018, 4, 1))
    };
    aim(app, &child).await;
    let (status, budget) = app
        .finance()
        .set_budget(
            &host,
            &json!({"partnership": "AIM", "year": 2018,
            "lines": [{"budget_line": "placements", "amount_pence": 10_000_000}],
            "costing_model": {"method": "equal"},
            "risk_share": {"pool_pence": 1_000_000, "share": {"method": "usage"},
                           "caps_pence": {SEFTON: 15_000_000}}}),
        )
        .await;
    assert_eq!(status, 201, "{budget}");
    (block, budget)
}

/// The report as at June, which must answer.
async fn june_report(app: &TestApp) -> Value {
    let (status, r) = app
        .finance()
        .monitoring(&finance(app, LIVERPOOL), JUNE)
        .await;
    assert_eq!(status, 200, "{r}");
    r
}

async fn no_budget_no_report(url: &str) {
    let app = start(url).await;
    let got = app
        .finance()
        .monitoring(&finance(&app, LIVERPOOL), JUNE)
        .await;
    assert_problem(&got, 409, "no-budget", None);
}

on_both!(
    no_budget_no_report,
    no_budget_no_report_on_sqlite,
    no_budget_no_report_on_postgres
);

/// £284 a bed-day. To the end of June: bed 1 filled 91 days, 273 void bed-days. Realised:
/// £161 × 91 / 7 = £2,093.00; voids: £1,988 × 273 / 7 = £77,532.00. Planned for the year:
/// £161 × 1,460 bed-days / 7 = £33,580.00 (the contract's 52 weeks: £33,488.00).
async fn a_blocks_savings_planned_and_realised(url: &str) {
    let app = start(url).await;
    let (block, _) = block_and_budget(&app).await;
    let r = june_report(&app).await;
    let s = &r["block_savings"][0];
    assert_eq!(s["block_contract_id"], block.to_string());
    let got = common::pick(
        s,
        &[
            "planned_annual_saving_pence",
            "planned_for_year_pence",
            "occupied_bed_days_to_date",
            "void_bed_days_to_date",
            "realised_saving_to_date_pence",
            "void_cost_to_date_pence",
            "net_saving_to_date_pence",
        ],
    );
    assert_eq!(
        got,
        vec![
            3_348_800, 3_358_000, 91, 273, 209_300, 7_753_200, -7_543_900
        ]
    );
}

on_both!(
    a_blocks_savings_planned_and_realised,
    monitoring_with_a_block_contract_on_sqlite,
    monitoring_with_a_block_contract_on_postgres
);

/// Nothing paid, so April–June's 4 beds × 91 days × £284 = £103,376.00 is accrued (it was
/// left out of the forecast before: issue 10 rule 12); committed July–March: 4 beds × 274
/// days × £284 = £311,264.00. Forecast £414,640.00 (the year's cost), so £314,640.00 over:
/// £10,000 from the pool, then £304,640.00 by usage (all Sefton's, whose child is the only
/// one), capped at £150,000; the £154,640.00 left split evenly between the partners with no
/// usage: £51,546.67, £51,546.67, £51,546.66.
async fn an_overspend_is_met_from_the_pool_then_by_capped_usage(url: &str) {
    let app = start(url).await;
    block_and_budget(&app).await;
    let r = june_report(&app).await;
    let line = &r["lines"][0];
    assert_eq!(
        (
            line["actual_to_date_pence"].as_i64(),
            line["accrued_pence"].as_i64(),
            line["committed_rest_of_year_pence"].as_i64(),
            line["forecast_outturn_pence"].as_i64(),
            line["variance_pence"].as_i64()
        ),
        (
            Some(0),
            Some(10_337_600),
            Some(31_126_400),
            Some(41_464_000),
            Some(31_464_000)
        )
    );
    let sharing = &r["risk_share"];
    assert_eq!(
        (
            sharing["from_pool_pence"].as_i64(),
            sharing["shared_pence"].as_i64(),
            sharing["unmet_pence"].as_i64()
        ),
        (Some(1_000_000), Some(30_464_000), Some(0))
    );
    let shares: Vec<(String, i64, i64)> = common::items(&r, "partners")
        .iter()
        .map(|p| {
            (
                p["council"].as_str().unwrap().to_owned(),
                p["own_children_costs_pence"].as_i64().unwrap(),
                p["variance_share_pence"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shares,
        vec![
            (LIVERPOOL.into(), 0, 5_154_667),
            (KNOWSLEY.into(), 0, 5_154_667),
            (SEFTON.into(), 10_366_000, 15_000_000),
            (WIRRAL.into(), 0, 5_154_666),
        ]
    );
    let sefton_steps = sharing["partners"][2]["steps"].as_array().unwrap();
    assert_eq!(sefton_steps.last().unwrap()["method"], "cap");
}

on_both!(
    an_overspend_is_met_from_the_pool_then_by_capped_usage,
    an_overspend_is_met_from_the_pool_then_by_capped_usage_on_sqlite,
    an_overspend_is_met_from_the_pool_then_by_capped_usage_on_postgres
);

/// The block and the budget, the June report read, and a mid-year change: from P7 the
/// placements budget is £350,000 and the risk pool £0.
async fn revised_from_p7(app: &TestApp) {
    let (_, budget) = block_and_budget(app).await;
    june_report(app).await;
    let (status, v2) = app
        .finance()
        .revise_budget(
            &finance(app, LIVERPOOL),
            budget["id"].as_str().unwrap(),
            &json!({"from_period": 7,
            "lines": [{"budget_line": "placements", "amount_pence": 35_000_000}],
            "costing_model": {"method": "equal"},
            "risk_share": {"share": {"method": "contribution"}},
            "reason": "a second block contract agreed"}),
        )
        .await;
    assert_eq!(status, 201, "{v2}");
}

/// The report as at P8 uses version 2; the trend shows which version each period had.
async fn a_mid_year_version_is_used_from_its_period(url: &str) {
    let app = start(url).await;
    revised_from_p7(&app).await;
    let (_, p8) = app
        .finance()
        .monitoring(&finance(&app, LIVERPOOL), NOVEMBER)
        .await;
    assert_eq!(p8["budget_version"], 2);
    // Accrued April–November: 4 × 244 days × £284 = £277,184.00; committed December–March:
    // 4 × 121 days × £284 = £137,456.00; variance of the year's £414,640.00 against £350,000.
    assert_eq!(
        common::pick(
            &p8["totals"],
            &[
                "budget_pence",
                "accrued_pence",
                "committed_rest_of_year_pence",
                "variance_pence"
            ]
        ),
        vec![35_000_000, 27_718_400, 13_745_600, 41_464_000 - 35_000_000]
    );
    let versions: Vec<Vec<i64>> = common::items(&p8, "trend")
        .iter()
        .map(|t| common::pick(t, &["budget_version", "budget_pence"]))
        .collect();
    assert_eq!(
        versions,
        [vec![vec![1, 10_000_000]; 6], vec![vec![2, 35_000_000]; 2]].concat()
    );
    // An overspend under version 2 (no pool) is met by contribution (equal: 8,750,000 each).
    let back: Vec<i64> = common::items(&p8, "partners")
        .iter()
        .map(|p| p["variance_share_pence"].as_i64().unwrap())
        .collect();
    assert_eq!(back, vec![1_616_000; 4]);
}

on_both!(
    a_mid_year_version_is_used_from_its_period,
    a_mid_year_version_is_used_from_its_period_on_sqlite,
    a_mid_year_version_is_used_from_its_period_on_postgres
);

/// Refusals: a period out of range, a stranger, the wrong role, a bad view.
async fn the_report_refuses(url: &str) {
    let app = start(url).await;
    revised_from_p7(&app).await;
    let (reports, host) = (app.finance(), finance(&app, LIVERPOOL));
    reports.monitoring(&host, NOVEMBER).await;
    let got = reports
        .monitoring(&host, "partnership=AIM&year=2018&period=13")
        .await;
    assert_problem(&got, 422, "validation", Some(("period", "range")));
    let got = reports.monitoring(&finance(&app, "E06000018"), JUNE).await;
    assert_problem(&got, 404, "not-found", None);
    let got = reports
        .monitoring(&app.user(SEFTON, Role::Commissioner), JUNE)
        .await;
    assert_problem(&got, 403, "forbidden", None);
    let got = reports
        .monitoring(&host, &format!("{JUNE}&format=csv&view=children"))
        .await;
    assert_problem(&got, 422, "validation", Some(("view", "one_of")));
}

on_both!(
    the_report_refuses,
    the_report_refuses_on_sqlite,
    the_report_refuses_on_postgres
);
