//! Pooled budgets and contributions through the HTTP API: the hosting authority's finance
//! staff set and version them, partners' finance staff read them. SQLite and PostgreSQL.

mod common;

use common::{aim, d, finance, start};
use hub_platform::Role;
use hub_platform::directory::{HALTON, KNOWSLEY, LIVERPOOL, NOTTINGHAM, SEFTON, WIRRAL};
use hub_testkit::{TestApp, User, assert_problem, on_both};
use serde_json::{Value, json};
use uuid::Uuid;

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

/// The budget Liverpool sets: 37.33% / 18.67% / 21.5% / 22.5%.
fn agreed() -> Value {
    body(percentages(3733, 1867, 2150, 2250))
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

/// Liverpool's finance lead (`fin-lead-lpool`), who sets AIM's budgets.
fn host(app: &TestApp) -> User {
    app.user_as("fin-lead-lpool", LIVERPOOL, Role::Finance)
}

/// A Sefton placement from 2017/18 still open at £100 a day; AIM's 2018 ledger read (which
/// commits it into 2018/19).
async fn placed(app: &TestApp) -> Value {
    aim(
        app,
        &common::placement(SEFTON, "prov-1", 70_000, d(2018, 3, 1)),
    )
    .await;
    let (_, ledger) = app
        .finance()
        .ledger(&host(app), "partnership=AIM&year=2018")
        .await;
    ledger
}

/// The placement, and AIM's budget for 2018/19 as Liverpool set it. Answers the budget.
async fn set(app: &TestApp) -> Value {
    placed(app).await;
    let (status, created) = app.finance().set_budget(&host(app), &agreed()).await;
    assert_eq!(status, 201, "{created}");
    created
}

/// A placement from 2017/18 still open is committed into 2018/19 as soon as the year is
/// asked for, budget or none (issue 10 rule 11; it used to wait for the budget).
async fn a_commitment_needs_no_budget(url: &str) {
    let app = start(url).await;
    let before = placed(&app).await;
    assert_eq!(before["committed_pence"], 3_650_000, "{before}");
}

on_both!(
    a_commitment_needs_no_budget,
    a_commitment_needs_no_budget_on_sqlite,
    a_commitment_needs_no_budget_on_postgres
);

/// Refused, nothing written: shares of 99.99%; a partner's finance lead; a stranger; the
/// wrong role; an unknown field; a partnership with no hosting authority.
async fn budgets_are_refused_with_nothing_written(url: &str) {
    let app = start(url).await;
    placed(&app).await;
    let (budgets, host) = (app.finance(), host(&app));
    let bad = budgets
        .set_budget(&host, &body(percentages(3733, 1867, 2150, 2249)))
        .await;
    assert_problem(
        &bad,
        422,
        "validation",
        Some(("/costing_model/shares_bp", "sum")),
    );
    let sefton = finance(&app, SEFTON);
    let got = budgets.set_budget(&sefton, &agreed()).await;
    assert_problem(&got, 403, "forbidden", None);
    let got = budgets
        .set_budget(&finance(&app, NOTTINGHAM), &agreed())
        .await;
    assert_problem(&got, 404, "not-found", None);
    let got = budgets
        .set_budget(&app.user(LIVERPOOL, Role::Commissioner), &agreed())
        .await;
    assert_problem(&got, 403, "forbidden", None);
    let mut extra = agreed();
    extra["costing_model"]["weights"] = json!({});
    let got = budgets.set_budget(&host, &extra).await;
    assert_problem(&got, 422, "validation", None);
    let mut lcr = body(json!({"method": "equal"}));
    lcr["partnership"] = json!("LCR-PPA");
    let got = budgets.set_budget(&finance(&app, HALTON), &lcr).await;
    assert_problem(&got, 409, "no-finance-host", None);
    let (_, list) = budgets.budgets(&sefton, "partnership=AIM").await;
    assert_eq!(list["budgets"], json!([]), "{list}");
}

on_both!(
    budgets_are_refused_with_nothing_written,
    budgets_are_refused_with_nothing_written_on_sqlite,
    budgets_are_refused_with_nothing_written_on_postgres
);

/// Liverpool sets it: £1,000,000.07 at 37.33% / 18.67% / 21.5% / 22.5%; once only.
async fn the_host_sets_the_budget_by_fixed_percentages(url: &str) {
    let app = start(url).await;
    let created = set(&app).await;
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
    let again = app.finance().set_budget(&host(&app), &agreed()).await;
    assert_problem(&again, 409, "budget-exists", None);
    // The ledger is open through 2018/19: the Sefton placement is committed to March 2019
    // (365 days at £100 a day).
    let (_, after) = app
        .finance()
        .ledger(&host(&app), "partnership=AIM&year=2018")
        .await;
    assert_eq!(after["committed_pence"], 3_650_000, "{after}");
}

on_both!(
    the_host_sets_the_budget_by_fixed_percentages,
    budgets_and_contributions_on_sqlite,
    budgets_and_contributions_on_postgres
);

/// Partners read it; a stranger cannot tell it exists. Nor can a member council's staff who
/// are not finance staff: a real id and a random one answer the same 404 (not 403 for the
/// real one), for the budget, its periods, a new version and a close.
async fn partners_read_it_and_others_cannot_tell_it_exists(url: &str) {
    let app = start(url).await;
    let created = set(&app).await;
    let id = created["id"].as_str().unwrap();
    let budgets = app.finance();
    let (status, read) = budgets.budget(&finance(&app, SEFTON), id).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(amounts(&read), amounts(&created));
    let got = budgets.budget(&finance(&app, NOTTINGHAM), id).await;
    assert_problem(&got, 404, "not-found", None);
    let commissioner = app.user(SEFTON, Role::Commissioner);
    let probe = json!({"from_period": 7, "costing_model": {"method": "equal"},
                       "lines": [{"budget_line": "staffing", "amount_pence": 1}],
                       "reason": "probe"});
    for budget_id in [id.to_owned(), Uuid::now_v7().to_string()] {
        for got in [
            budgets.budget(&commissioner, &budget_id).await,
            budgets.periods(&commissioner, &budget_id).await,
            budgets
                .revise_budget(&commissioner, &budget_id, &probe)
                .await,
            budgets.close_period(&commissioner, &budget_id, 1).await,
        ] {
            assert_problem(&got, 404, "not-found", None);
        }
    }
}

on_both!(
    partners_read_it_and_others_cannot_tell_it_exists,
    partners_read_it_and_others_cannot_tell_it_exists_on_sqlite,
    partners_read_it_and_others_cannot_tell_it_exists_on_postgres
);

/// From P7 a blended model: 40% equally, 60% by children placed in 2016/17, and a budget of
/// £1,000,000.00 (fees down 7p).
fn version(from: i64) -> Value {
    let blend = json!({"method": "blend", "parts": [
        {"name": "base", "share_bp": 4000, "model": {"method": "equal"}},
        {"name": "activity", "share_bp": 6000, "model": {"method": "activity",
            "measure": "children_placed_2016_17",
            "values": {LIVERPOOL: 40, KNOWSLEY: 13, SEFTON: 20, WIRRAL: 24}}}
    ]});
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
}

/// The budget set, read by its partners and probed by others, then version 2 from P7 (a
/// partner's attempt refused first). Answers the budget as created and version 2's reply.
async fn revised(app: &TestApp) -> (Value, (u16, Value)) {
    let created = set(app).await;
    let id = created["id"].as_str().unwrap();
    let budgets = app.finance();
    budgets.budget(&finance(app, SEFTON), id).await;
    let got = budgets
        .revise_budget(&finance(app, SEFTON), id, &version(7))
        .await;
    assert_problem(&got, 403, "forbidden", None);
    let v2 = budgets.revise_budget(&host(app), id, &version(7)).await;
    (created, v2)
}

/// A partner cannot add a version; the host's blends: £400,000 base, £100,000 each; £600,000
/// × 40/97 = 24,742,268.04, × 13/97 = 8,041,237.11, × 20/97 = 12,371,134.02, × 24/97 =
/// 14,845,360.82: the penny left to Wirral.
async fn a_new_version_blends_from_p7(url: &str) {
    let app = start(url).await;
    let (_, (status, v2)) = revised(&app).await;
    assert_eq!(status, 201, "{v2}");
    assert_eq!(
        (
            v2["current_version"].as_i64(),
            v2["version"]["from_period"].as_i64()
        ),
        (Some(2), Some(7))
    );
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
}

on_both!(
    a_new_version_blends_from_p7,
    a_new_version_blends_from_p7_on_sqlite,
    a_new_version_blends_from_p7_on_postgres
);

/// A version before the last cannot follow it; a period out of range, no lines and no
/// reason are each named.
async fn a_version_must_follow_the_last(url: &str) {
    let app = start(url).await;
    let (created, _) = revised(&app).await;
    let id = created["id"].as_str().unwrap();
    let (budgets, host) = (app.finance(), host(&app));
    let got = budgets.revise_budget(&host, id, &version(6)).await;
    assert_problem(
        &got,
        422,
        "validation",
        Some(("/from_period", "after_last_version")),
    );
    let empty =
        json!({"from_period": 13, "lines": [], "costing_model": {"method": "equal"}, "reason": ""});
    let got = budgets.revise_budget(&host, id, &empty).await;
    assert_problem(&got, 422, "validation", Some(("/from_period", "range")));
    assert_problem(&got, 422, "validation", Some(("/lines", "required")));
    assert_problem(&got, 422, "validation", Some(("/reason", "required")));
}

on_both!(
    a_version_must_follow_the_last,
    a_version_must_follow_the_last_on_sqlite,
    a_version_must_follow_the_last_on_postgres
);

/// History stays: version 1 as it was, both in the list.
async fn history_stays(url: &str) {
    let app = start(url).await;
    let (created, _) = revised(&app).await;
    let id = created["id"].as_str().unwrap();
    let (budgets, sefton) = (app.finance(), finance(&app, SEFTON));
    let (_, v1) = budgets.budget_version(&sefton, id, 1).await;
    assert_eq!(amounts(&v1), amounts(&created));
    assert_eq!(v1["current_version"], 2);
    let history: Vec<Vec<i64>> = common::items(&v1, "versions")
        .iter()
        .map(|v| common::pick(v, &["version", "from_period", "total_pence"]))
        .collect();
    assert_eq!(
        history,
        vec![vec![1, 1, 100_000_007], vec![2, 7, 100_000_000]]
    );
    let (_, list) = budgets.budgets(&sefton, "partnership=AIM&year=2018").await;
    assert_eq!(list["budgets"][0]["current_version"], 2, "{list}");
    assert_eq!(list["budgets"][0]["total_pence"], 100_000_000);
    let (_, none) = budgets.budgets(&sefton, "partnership=AIM&year=2019").await;
    assert_eq!(none["budgets"], json!([]));
}

on_both!(
    history_stays,
    history_stays_on_sqlite,
    history_stays_on_postgres
);
