//! Pooled budgets and contributions through the HTTP API: the hosting authority's finance
//! staff set and version them, partners' finance staff read them. SQLite and PostgreSQL.

use chrono::NaiveDate;
use hub_events::{Envelope, PlacementStarted};
use hub_platform::directory::{HALTON, KNOWSLEY, LIVERPOOL, NOTTINGHAM, SEFTON, WIRRAL};
use hub_platform::{Role, db::Migrations};
use hub_testkit::{ServiceCtx, assert_problem, call, on_both};
use serde_json::{Value, json};
use uuid::Uuid;

static SETS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &finance::MIGRATIONS];

fn percentages(l: i64, k: i64, s: i64, w: i64) -> Value {
    json!({"method": "fixed_percentages",
           "shares_bp": {LIVERPOOL: l, KNOWSLEY: k, SEFTON: s, WIRRAL: w}})
}

/// £1,000,000.07 in three lines.
fn body(model: Value) -> Value {
    json!({
        "partnership": "AIM",
        "year": 2018,
        "lines": [
            {"budget_line": "staffing", "amount_pence": 60_000_000},
            {"budget_line": "inter_agency_fees", "amount_pence": 15_000_007},
            {"budget_line": "commissioned_adoption_support", "amount_pence": 25_000_000}
        ],
        "costing_model": model,
        "reason": "AIM's first year"
    })
}

fn amounts(budget: &Value) -> Vec<(String, i64)> {
    budget["version"]["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["council"].as_str().unwrap().to_owned(),
                c["amount_pence"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn flow(url: &str) {
    let ctx = ServiceCtx::start(url, finance::NAME, &SETS, finance::start).await;
    let app = ctx.app().await;
    let host = ctx.token_as("fin-lead-lpool", LIVERPOOL, Role::Finance);
    let sefton = ctx.token(SEFTON, Role::Finance);

    // A Sefton placement from 2017/18 still open: committed into 2018/19 as soon as the year
    // is asked for, budget or none (issue 10 rule 11; it used to wait for the budget).
    ctx.publish_envelope(&Envelope::new(
        "contract",
        "AIM",
        &PlacementStarted {
            placement_id: Uuid::now_v7(),
            order_id: Some(Uuid::now_v7()),
            referral_id: Uuid::now_v7(),
            council: SEFTON.into(),
            provider_id: "prov-1".into(),
            weekly_rate_pence: 70_000,
            extras_weekly_pence: 0,
            start_date: NaiveDate::from_ymd_opt(2018, 3, 1).unwrap(),
            block_contract_id: None,
            bed: None,
        },
    ))
    .await;
    let (_, before) = call(
        &app,
        "GET",
        "/v1/ledger?partnership=AIM&year=2018",
        &host,
        None,
    )
    .await;
    assert_eq!(before["committed_pence"], 3_650_000, "{before}");

    // Refused, nothing written: shares of 99.99%; a partner's finance lead; a stranger; the
    // wrong role; an unknown field; a partnership with no hosting authority.
    let bad = call(
        &app,
        "POST",
        "/v1/budgets",
        &host,
        Some(body(percentages(3733, 1867, 2150, 2249))),
    )
    .await;
    assert_problem(
        &bad,
        422,
        "validation",
        Some(("/costing_model/shares_bp", "sum")),
    );
    let got = call(
        &app,
        "POST",
        "/v1/budgets",
        &sefton,
        Some(body(percentages(3733, 1867, 2150, 2250))),
    )
    .await;
    assert_problem(&got, 403, "forbidden", None);
    let got = call(
        &app,
        "POST",
        "/v1/budgets",
        &ctx.token(NOTTINGHAM, Role::Finance),
        Some(body(percentages(3733, 1867, 2150, 2250))),
    )
    .await;
    assert_problem(&got, 404, "not-found", None);
    let got = call(
        &app,
        "POST",
        "/v1/budgets",
        &ctx.token(LIVERPOOL, Role::Commissioner),
        Some(body(percentages(3733, 1867, 2150, 2250))),
    )
    .await;
    assert_problem(&got, 403, "forbidden", None);
    let mut extra = body(percentages(3733, 1867, 2150, 2250));
    extra["costing_model"]["weights"] = json!({});
    let got = call(&app, "POST", "/v1/budgets", &host, Some(extra)).await;
    assert_problem(&got, 422, "validation", None);
    let mut lcr = body(json!({"method": "equal"}));
    lcr["partnership"] = json!("LCR-PPA");
    let got = call(
        &app,
        "POST",
        "/v1/budgets",
        &ctx.token(HALTON, Role::Finance),
        Some(lcr),
    )
    .await;
    assert_problem(&got, 409, "no-finance-host", None);
    let (_, list) = call(&app, "GET", "/v1/budgets?partnership=AIM", &sefton, None).await;
    assert_eq!(list["budgets"], json!([]), "{list}");

    // Liverpool sets it: £1,000,000.07 at 37.33% / 18.67% / 21.5% / 22.5%.
    let (status, created) = call(
        &app,
        "POST",
        "/v1/budgets",
        &host,
        Some(body(percentages(3733, 1867, 2150, 2250))),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (
            created["year_label"].as_str(),
            created["current_version"].as_i64(),
            created["version"]["total_pence"].as_i64()
        ),
        (Some("2018/19"), Some(1), Some(100_000_007))
    );
    assert_eq!(
        amounts(&created),
        vec![
            (LIVERPOOL.into(), 37_330_003),
            (KNOWSLEY.into(), 18_670_001),
            (SEFTON.into(), 21_500_001),
            (WIRRAL.into(), 22_500_002)
        ]
    );
    let wirral = &created["version"]["contributions"][3];
    assert_eq!(
        wirral["council_name"],
        "Wirral Metropolitan Borough Council"
    );
    assert_eq!(wirral["steps"][0]["exact_pence"], "22500001.5750");
    assert_eq!(wirral["steps"][0]["remainder_penny"], 1);
    assert_eq!(
        wirral["steps"][0]["basis"],
        "2,250 bp of 10,000 bp of £1,000,000.07"
    );
    assert_eq!(created["version"]["created_by"], "fin-lead-lpool");
    assert_eq!(
        created["version"]["risk_share"]["share"]["method"],
        "contribution"
    );
    let again = call(
        &app,
        "POST",
        "/v1/budgets",
        &host,
        Some(body(percentages(3733, 1867, 2150, 2250))),
    )
    .await;
    assert_problem(&again, 409, "budget-exists", None);

    // The ledger is open through 2018/19: the Sefton placement is committed to March 2019
    // (365 days at £100 a day).
    let (_, after) = call(
        &app,
        "GET",
        "/v1/ledger?partnership=AIM&year=2018",
        &host,
        None,
    )
    .await;
    assert_eq!(after["committed_pence"], 3_650_000, "{after}");

    // Partners read it; a stranger cannot tell it exists.
    let (status, read) = call(&app, "GET", &format!("/v1/budgets/{id}"), &sefton, None).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(amounts(&read), amounts(&created));
    let got = call(
        &app,
        "GET",
        &format!("/v1/budgets/{id}"),
        &ctx.token(NOTTINGHAM, Role::Finance),
        None,
    )
    .await;
    assert_problem(&got, 404, "not-found", None);
    // Nor can a member council's staff who are not finance staff: a real id and a random one
    // answer the same 404 (not 403 for the real one), for the budget, its periods, a new
    // version and a close.
    let commissioner = ctx.token(SEFTON, Role::Commissioner);
    for budget_id in [id.to_string(), Uuid::now_v7().to_string()] {
        for (method, path, body) in [
            ("GET", format!("/v1/budgets/{budget_id}"), None),
            ("GET", format!("/v1/budgets/{budget_id}/periods"), None),
            (
                "POST",
                format!("/v1/budgets/{budget_id}/versions"),
                Some(
                    json!({"from_period": 7, "costing_model": {"method": "equal"},
                            "lines": [{"budget_line": "staffing", "amount_pence": 1}],
                            "reason": "probe"}),
                ),
            ),
            (
                "POST",
                format!("/v1/budgets/{budget_id}/periods/1/close"),
                None,
            ),
        ] {
            let got = call(&app, method, &path, &commissioner, body).await;
            assert_problem(&got, 404, "not-found", None);
        }
    }

    // From P7 a blended model: 40% equally, 60% by children placed in 2016/17, and a budget
    // of £1,000,000.00 (fees down 7p). A version before it cannot follow; a partner cannot add one.
    let blend = json!({"method": "blend", "parts": [
        {"name": "base", "share_bp": 4000, "model": {"method": "equal"}},
        {"name": "activity", "share_bp": 6000, "model": {"method": "activity",
            "measure": "children_placed_2016_17",
            "values": {LIVERPOOL: 40, KNOWSLEY: 13, SEFTON: 20, WIRRAL: 24}}}
    ]});
    let version = |from: i64| {
        json!({
            "from_period": from,
            "lines": [
                {"budget_line": "staffing", "amount_pence": 60_000_000},
                {"budget_line": "inter_agency_fees", "amount_pence": 15_000_000},
                {"budget_line": "commissioned_adoption_support", "amount_pence": 25_000_000}
            ],
            "costing_model": blend,
            "risk_share": {"pool_pence": 500_000, "share": {"method": "usage"}},
            "reason": "agreed at the Governance board in September"
        })
    };
    let path = format!("/v1/budgets/{id}/versions");
    let got = call(&app, "POST", &path, &sefton, Some(version(7))).await;
    assert_problem(&got, 403, "forbidden", None);
    let (status, v2) = call(&app, "POST", &path, &host, Some(version(7))).await;
    assert_eq!(status, 201, "{v2}");
    assert_eq!(
        (
            v2["current_version"].as_i64(),
            v2["version"]["from_period"].as_i64()
        ),
        (Some(2), Some(7))
    );
    // £400,000 base, £100,000 each; £600,000 × 40/97 = 24,742,268.04, × 13/97 =
    // 8,041,237.11, × 20/97 = 12,371,134.02, × 24/97 = 14,845,360.82: the penny left to Wirral.
    assert_eq!(
        amounts(&v2),
        vec![
            (LIVERPOOL.into(), 10_000_000 + 24_742_268),
            (KNOWSLEY.into(), 10_000_000 + 8_041_237),
            (SEFTON.into(), 10_000_000 + 12_371_134),
            (WIRRAL.into(), 10_000_000 + 14_845_361)
        ]
    );
    assert_eq!(
        v2["version"]["contributions"][3]["steps"][1]["remainder_penny"],
        1
    );
    assert_eq!(v2["version"]["risk_share"]["pool_pence"], 500_000);
    assert_eq!(amounts(&v2).iter().map(|a| a.1).sum::<i64>(), 100_000_000);
    let got = call(&app, "POST", &path, &host, Some(version(6))).await;
    assert_problem(
        &got,
        422,
        "validation",
        Some(("/from_period", "after_last_version")),
    );
    let got = call(&app, "POST", &path, &host, Some(json!({"from_period": 13, "lines": [], "costing_model": {"method": "equal"}, "reason": ""}))).await;
    assert_problem(&got, 422, "validation", Some(("/from_period", "range")));
    assert_problem(&got, 422, "validation", Some(("/lines", "required")));
    assert_problem(&got, 422, "validation", Some(("/reason", "required")));

    // History stays: version 1 as it was, both in the list.
    let (_, v1) = call(
        &app,
        "GET",
        &format!("/v1/budgets/{id}?version=1"),
        &sefton,
        None,
    )
    .await;
    assert_eq!(amounts(&v1), amounts(&created));
    assert_eq!(v1["current_version"], 2);
    let history: Vec<(i64, i64, i64)> = v1["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["from_period"].as_i64().unwrap(),
                v["total_pence"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(history, vec![(1, 1, 100_000_007), (2, 7, 100_000_000)]);
    let (_, list) = call(
        &app,
        "GET",
        "/v1/budgets?partnership=AIM&year=2018",
        &sefton,
        None,
    )
    .await;
    assert_eq!(list["budgets"][0]["current_version"], 2, "{list}");
    assert_eq!(list["budgets"][0]["total_pence"], 100_000_000);
    let (_, none) = call(
        &app,
        "GET",
        "/v1/budgets?partnership=AIM&year=2019",
        &sefton,
        None,
    )
    .await;
    assert_eq!(none["budgets"], json!([]));
}

on_both!(
    flow,
    budgets_and_contributions_on_sqlite,
    budgets_and_contributions_on_postgres
);
