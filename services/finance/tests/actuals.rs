//! Actuals: payments uploaded as CSV or JSON, checked line by line, applied whole or not at
//! all, counted once however often they are sent; closed periods and late adjustments.
//! SQLite and PostgreSQL.

mod common;

use common::{finance, start};
use hub_platform::Role;
use hub_platform::directory::{KNOWSLEY, LIVERPOOL, SEFTON, WIRRAL};
use hub_testkit::{TestApp, User, assert_problem, on_both};
use serde_json::{Value, json};

const P3: &str = "partnership=AIM&year=2018&period=3";

/// Sefton's file for P3: three payments, a refund among them.
const FILE: &str = "payment_reference,paid_on,budget_line,amount\n\
                    SEF-001,2018-06-05,placements,2149.00\n\
                    SEF-002,15/06/2018,inter_agency_fees,27000\n\
                    SEF-003,2018-06-29,placements,-12.50\n";

/// Another file, repeating one payment of [`FILE`] exactly.
const OVERLAP: &str = "payment_reference,paid_on,budget_line,amount\n\
                       SEF-003,2018-06-29,placements,-12.50\n\
                       SEF-004,2018-06-30,staffing,100\n";

/// Liverpool's finance lead (`fin-lpool`), the hosting authority.
fn host(app: &TestApp) -> User {
    app.user_as("fin-lpool", LIVERPOOL, Role::Finance)
}

/// Sefton's finance officer (`fin-sefton`), a partner.
fn sefton(app: &TestApp) -> User {
    app.user_as("fin-sefton", SEFTON, Role::Finance)
}

/// The total of the payments `user` sees for AIM 2018/19.
async fn total(app: &TestApp, user: &User) -> i64 {
    let (status, body) = app
        .finance()
        .payments(user, "partnership=AIM&year=2018")
        .await;
    assert_eq!(status, 200, "{body}");
    body["total_pence"].as_i64().unwrap()
}

/// AIM's budget for 2018/19, set by the host. Answers its id.
async fn budgeted(app: &TestApp) -> String {
    let (status, budget) = app
        .finance()
        .set_budget(
            &host(app),
            &json!({"partnership": "AIM", "year": 2018,
            "lines": [{"budget_line": "placements", "amount_pence": 50_000_000},
                      {"budget_line": "inter_agency_fees", "amount_pence": 10_000_000},
                      {"budget_line": "staffing", "amount_pence": 40_000_000}],
            "costing_model": {"method": "equal"}}),
        )
        .await;
    assert_eq!(status, 201, "{budget}");
    budget["id"].as_str().unwrap().to_owned()
}

/// The budget, Sefton's file for P3 uploaded twice, and another file repeating one of its
/// payments. Answers the budget's id and the first upload.
async fn sefton_uploaded(app: &TestApp) -> (String, Value) {
    let budget_id = budgeted(app).await;
    let (actuals, sefton) = (app.finance(), sefton(app));
    let (_, first) = actuals.upload_csv(&sefton, P3, FILE).await;
    actuals.upload_csv(&sefton, P3, FILE).await;
    let (status, body) = actuals.upload_csv(&sefton, P3, OVERLAP).await;
    assert_eq!(status, 201, "{body}");
    (budget_id, first)
}

/// No budget yet: nothing can be recorded.
async fn no_budget_no_actuals(url: &str) {
    let app = start(url).await;
    let got = app.finance().upload_csv(&sefton(&app), P3, FILE).await;
    assert_problem(&got, 409, "no-budget", None);
}

on_both!(
    no_budget_no_actuals,
    no_budget_no_actuals_on_sqlite,
    no_budget_no_actuals_on_postgres
);

/// Sefton's file is applied once: the same file again is the same upload.
async fn a_file_is_applied_once(url: &str) {
    let app = start(url).await;
    budgeted(&app).await;
    let (actuals, sefton) = (app.finance(), sefton(&app));
    let (status, first) = actuals.upload_csv(&sefton, P3, FILE).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(
        (
            first["applied"].as_i64(),
            first["applied_pence"].as_i64(),
            first["duplicate"].as_bool()
        ),
        (Some(3), Some(214_900 + 2_700_000 - 1_250), Some(false))
    );
    assert_eq!(first["payments"][1]["line_no"], 3);
    assert_eq!(first["payments"][0]["council"], SEFTON);
    assert_eq!(first["uploaded_by"], "fin-sefton");
    // The same file again: the same upload, nothing counted twice.
    let (status, again) = actuals.upload_csv(&sefton, P3, FILE).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        (again["duplicate"].as_bool(), again["id"].as_str()),
        (Some(true), first["id"].as_str())
    );
    assert_eq!(total(&app, &sefton).await, 2_913_650);
}

on_both!(
    a_file_is_applied_once,
    actuals_are_checked_applied_once_and_locked_on_sqlite,
    actuals_are_checked_applied_once_and_locked_on_postgres
);

/// Another file repeating one payment exactly: that one is skipped, the new one recorded.
async fn a_payment_recorded_before_is_skipped(url: &str) {
    let app = start(url).await;
    budgeted(&app).await;
    let (actuals, sefton) = (app.finance(), sefton(&app));
    actuals.upload_csv(&sefton, P3, FILE).await;
    actuals.upload_csv(&sefton, P3, FILE).await;
    let (status, overlap) = actuals.upload_csv(&sefton, P3, OVERLAP).await;
    assert_eq!(status, 201, "{overlap}");
    assert_eq!(
        (
            overlap["applied"].as_i64(),
            overlap["already_recorded"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(total(&app, &sefton).await, 2_923_650);
}

on_both!(
    a_payment_recorded_before_is_skipped,
    a_payment_recorded_before_is_skipped_on_sqlite,
    a_payment_recorded_before_is_skipped_on_postgres
);

/// Refused whole, nothing applied: a bad amount and an unknown budget line (the good line
/// before them is not kept); a payment recorded before with another amount.
async fn a_bad_row_refuses_the_whole_file(url: &str) {
    let app = start(url).await;
    sefton_uploaded(&app).await;
    let (actuals, sefton) = (app.finance(), sefton(&app));
    let bad = "payment_reference,paid_on,budget_line,amount\n\
               SEF-010,2018-06-01,placements,10.00\n\
               SEF-011,2018-06-01,placements,12.345\n\
               SEF-012,2018-06-01,catering,5.00\n";
    let got = actuals.upload_csv(&sefton, P3, bad).await;
    assert_problem(&got, 422, "validation", Some(("/rows/3/amount", "format")));
    let got = actuals
        .upload_csv(&sefton, P3, &bad.replace("12.345", "12.34"))
        .await;
    assert_problem(
        &got,
        422,
        "validation",
        Some(("/rows/4/budget_line", "one_of")),
    );
    assert_eq!(got.1["errors"].as_array().unwrap().len(), 1, "{}", got.1);
    let changed =
        "payment_reference,paid_on,budget_line,amount\nSEF-001,2018-06-05,placements,2149.01\n";
    let got = actuals.upload_csv(&sefton, P3, changed).await;
    assert_problem(
        &got,
        422,
        "validation",
        Some(("/rows/2/payment_reference", "conflict")),
    );
    assert_eq!(total(&app, &sefton).await, 2_923_650);
}

on_both!(
    a_bad_row_refuses_the_whole_file,
    a_bad_row_refuses_the_whole_file_on_sqlite,
    a_bad_row_refuses_the_whole_file_on_postgres
);

/// Refused whole, nothing applied: another partner's council; a stranger's column; no
/// period; a file that is not CSV.
async fn a_file_out_of_bounds_is_refused(url: &str) {
    let app = start(url).await;
    sefton_uploaded(&app).await;
    let (actuals, sefton) = (app.finance(), sefton(&app));
    let got = actuals
        .upload_csv(
            &sefton,
            P3,
            "payment_reference,paid_on,budget_line,amount,council\nSEF-020,2018-06-05,placements,1,E08000015\n",
        )
        .await;
    assert_problem(&got, 422, "validation", Some(("/rows/2/council", "one_of")));
    let got = actuals
        .upload_csv(
            &sefton,
            P3,
            "payment_reference,paid_on,budget_line,amount,child_name\n",
        )
        .await;
    assert_problem(
        &got,
        422,
        "validation",
        Some(("/rows/1/child_name", "unknown_field")),
    );
    let got = actuals
        .upload_csv(&sefton, "partnership=AIM&year=2018", FILE)
        .await;
    assert_problem(&got, 422, "validation", Some(("period", "required")));
    let got = actuals.upload_file(&sefton, P3, "text/plain", FILE).await;
    assert_problem(&got, 415, "unsupported-media-type", None);
    assert_eq!(total(&app, &sefton).await, 2_923_650);
}

on_both!(
    a_file_out_of_bounds_is_refused,
    a_file_out_of_bounds_is_refused_on_sqlite,
    a_file_out_of_bounds_is_refused_on_postgres
);

/// `payments` for P3 as the JSON body the host sends.
fn p3_json(payments: Value) -> Value {
    json!({"partnership": "AIM", "year": 2018, "period": 3, "payments": payments})
}

/// Wirral's placement payment and Liverpool's staffing, recorded by the host as JSON.
async fn host_json(app: &TestApp) -> (u16, Value) {
    app.finance()
        .upload_payments(
            &host(app),
            &p3_json(json!([
                {"payment_reference": "WIR-1", "paid_on": "2018-06-10", "budget_line": "placements",
                 "amount_pence": 100_000, "council": WIRRAL, "contract_id": "ord-1"},
                {"payment_reference": "LIV-1", "paid_on": "2018-06-10", "budget_line": "staffing", "amount_pence": 5}
            ])),
        )
        .await
}

/// The hosting authority records a partner's payments as JSON, each in its period.
async fn the_host_records_a_partners_payments_as_json(url: &str) {
    let app = start(url).await;
    sefton_uploaded(&app).await;
    let (status, json_upload) = host_json(&app).await;
    assert_eq!(status, 201, "{json_upload}");
    assert_eq!(json_upload["payments"][1]["council"], LIVERPOOL);
    let got = app
        .finance()
        .upload_payments(
            &host(&app),
            &p3_json(json!([
            {"payment_reference": "X", "paid_on": "2019-04-01", "budget_line": "placements", "amount_pence": 1}])),
        )
        .await;
    assert_problem(
        &got,
        422,
        "validation",
        Some(("/payments/0/paid_on", "range")),
    );
}

on_both!(
    the_host_records_a_partners_payments_as_json,
    the_host_records_a_partners_payments_as_json_on_sqlite,
    the_host_records_a_partners_payments_as_json_on_postgres
);

/// Money cannot overflow: i64::MIN (whose absolute value wraps) and a line over
/// £10,000,000.00 are refused naming the amount; nothing is recorded.
async fn money_cannot_overflow(url: &str) {
    let app = start(url).await;
    sefton_uploaded(&app).await;
    host_json(&app).await;
    for (i, amount) in [(0, i64::MIN), (1, 1_000_000_001)] {
        let mut payments = vec![
            json!({"payment_reference": "OK-1", "paid_on": "2018-06-10", "budget_line": "placements", "amount_pence": 1}),
        ];
        payments.insert(
            i,
            json!({"payment_reference": "BIG", "paid_on": "2018-06-10", "budget_line": "placements", "amount_pence": amount}),
        );
        let got = app
            .finance()
            .upload_payments(&host(&app), &p3_json(json!(payments)))
            .await;
        let pointer = format!("/payments/{i}/amount_pence");
        assert_problem(&got, 422, "validation", Some((pointer.as_str(), "range")));
    }
}

on_both!(
    money_cannot_overflow,
    money_cannot_overflow_on_sqlite,
    money_cannot_overflow_on_postgres
);

/// Sefton's £1.00 of May, recorded late in P3 (it adjusts P2).
async fn late_may(app: &TestApp) -> (u16, Value) {
    app.finance()
        .upload_csv(
            &sefton(app),
            P3,
            "payment_reference,paid_on,budget_line,amount,adjusts_period\nSEF-042,2018-05-31,placements,1.00,2\n",
        )
        .await
}

/// A payment belongs to its period: December's payment sent for June is refused naming its
/// row, in a file as in JSON; May's recorded late says it adjusts P2 and is counted in June.
async fn a_payment_belongs_to_its_period(url: &str) {
    let app = start(url).await;
    sefton_uploaded(&app).await;
    host_json(&app).await;
    let actuals = app.finance();
    let got = actuals
        .upload_csv(
            &sefton(&app),
            P3,
            "payment_reference,paid_on,budget_line,amount\nSEF-040,2018-06-04,placements,1.00\nSEF-041,2018-12-05,placements,1.00\n",
        )
        .await;
    assert_problem(&got, 422, "validation", Some(("/rows/3/paid_on", "range")));
    let december = json!([
        {"payment_reference": "LIV-40", "paid_on": "2018-12-05", "budget_line": "staffing", "amount_pence": 1}]);
    let got = actuals
        .upload_payments(&host(&app), &p3_json(december))
        .await;
    assert_problem(
        &got,
        422,
        "validation",
        Some(("/payments/0/paid_on", "range")),
    );
    let (status, late) = late_may(&app).await;
    assert_eq!(status, 201, "{late}");
    assert_eq!(
        (
            late["payments"][0]["period"].as_i64(),
            late["payments"][0]["adjusts_period"].as_i64()
        ),
        (Some(3), Some(2)),
        "{late}"
    );
}

on_both!(
    a_payment_belongs_to_its_period,
    a_payment_belongs_to_its_period_on_sqlite,
    a_payment_belongs_to_its_period_on_postgres
);

/// Every payment of P3 recorded: Sefton's files, the host's JSON, May's late £1.00. Answers
/// the budget's id and Sefton's first upload.
async fn p3_recorded(app: &TestApp) -> (String, Value) {
    let (budget_id, first) = sefton_uploaded(app).await;
    host_json(app).await;
    late_may(app).await;
    (budget_id, first)
}

/// Partners see their own payments; the host sees everyone's; another partner's upload is
/// not there for Wirral.
async fn partners_see_their_own_payments(url: &str) {
    let app = start(url).await;
    let (_, first) = p3_recorded(&app).await;
    let wirral = finance(&app, WIRRAL);
    assert_eq!(total(&app, &wirral).await, 100_000);
    // (Sefton's £1.00 of May, recorded late in P3, is Sefton's too.)
    assert_eq!(total(&app, &host(&app)).await, 2_923_650 + 100 + 100_005);
    let upload = first["id"].as_str().unwrap();
    let got = app.finance().upload(&wirral, upload).await;
    assert_problem(&got, 404, "not-found", None);
    let (status, _) = app.finance().upload(&host(&app), upload).await;
    assert_eq!(status, 200);
}

on_both!(
    partners_see_their_own_payments,
    partners_see_their_own_payments_on_sqlite,
    partners_see_their_own_payments_on_postgres
);

/// Closing P3: a partner cannot; the host can, once.
async fn the_host_closes_a_period_once(url: &str) {
    let app = start(url).await;
    let (budget_id, _) = p3_recorded(&app).await;
    let (budgets, host) = (app.finance(), host(&app));
    let got = budgets.close_period(&sefton(&app), &budget_id, 3).await;
    assert_problem(&got, 403, "forbidden", None);
    let (status, periods) = budgets.close_period(&host, &budget_id, 3).await;
    assert_eq!(status, 200, "{periods}");
    assert_eq!(periods["periods"][2]["status"], "closed");
    assert_eq!(periods["periods"][2]["closed_by"], "fin-lpool");
    assert_eq!(periods["periods"][3]["status"], "open");
    let got = budgets.close_period(&host, &budget_id, 3).await;
    assert_problem(&got, 409, "period-closed", None);
}

on_both!(
    the_host_closes_a_period_once,
    the_host_closes_a_period_once_on_sqlite,
    the_host_closes_a_period_once_on_postgres
);

/// A late payment for P3, after it closed.
const LATE: &str =
    "payment_reference,paid_on,budget_line,amount\nSEF-030,2018-06-28,inter_agency_fees,-270.00\n";

/// Every payment of P3 recorded, and P3 closed. Answers the budget's id.
async fn p3_closed(app: &TestApp) -> String {
    let (budget_id, _) = p3_recorded(app).await;
    let (status, _) = app.finance().close_period(&host(app), &budget_id, 3).await;
    assert_eq!(status, 200);
    budget_id
}

/// A late payment for P3 is refused as it stands, and posted to P4 as an adjustment; P3
/// stands as closed.
async fn a_late_payment_is_posted_to_the_next_open_period(url: &str) {
    let app = start(url).await;
    p3_closed(&app).await;
    let (actuals, sefton) = (app.finance(), sefton(&app));
    let got = actuals.upload_csv(&sefton, P3, LATE).await;
    assert_problem(&got, 409, "period-closed", None);
    assert!(
        got.1["detail"].as_str().unwrap().contains("P4"),
        "{}",
        got.1
    );
    let (status, adjusted) = actuals
        .upload_csv(&sefton, &format!("{P3}&adjust=true"), LATE)
        .await;
    assert_eq!(status, 201, "{adjusted}");
    assert_eq!(
        (
            adjusted["requested_period"].as_i64(),
            adjusted["posted_period"].as_i64(),
            adjusted["adjustment"].as_bool()
        ),
        (Some(3), Some(4), Some(true))
    );
    assert_eq!(
        (
            adjusted["payments"][0]["period"].as_i64(),
            adjusted["payments"][0]["adjusts_period"].as_i64()
        ),
        (Some(4), Some(3))
    );
    let (_, p3_list) = actuals.payments(&sefton, P3).await;
    assert_eq!(
        p3_list["total_pence"],
        2_923_650 + 100,
        "P3 stands as closed"
    );
    let (_, p4_list) = actuals
        .payments(&sefton, "partnership=AIM&year=2018&period=4")
        .await;
    assert_eq!(p4_list["total_pence"], -27_000);
}

on_both!(
    a_late_payment_is_posted_to_the_next_open_period,
    a_late_payment_is_posted_to_the_next_open_period_on_sqlite,
    a_late_payment_is_posted_to_the_next_open_period_on_postgres
);

/// Nor can the budget change from a closed period; the periods say which is closed.
async fn a_closed_period_holds_the_budget(url: &str) {
    let app = start(url).await;
    let budget_id = p3_closed(&app).await;
    let (actuals, sefton) = (app.finance(), sefton(&app));
    actuals
        .upload_csv(&sefton, &format!("{P3}&adjust=true"), LATE)
        .await;
    let change = json!({"from_period": 3, "lines": [{"budget_line": "placements", "amount_pence": 1}],
                        "costing_model": {"method": "equal"}, "reason": "late change"});
    let got = actuals
        .revise_budget(&host(&app), &budget_id, &change)
        .await;
    assert_problem(&got, 409, "period-closed", None);
    let (_, periods) = actuals.periods(&finance(&app, KNOWSLEY), &budget_id).await;
    let closed: Vec<i64> = common::items(&periods, "periods")
        .iter()
        .filter(|p| p["status"] == "closed")
        .map(|p| p["period"].as_i64().unwrap())
        .collect();
    assert_eq!(closed, vec![3]);
}

on_both!(
    a_closed_period_holds_the_budget,
    a_closed_period_holds_the_budget_on_sqlite,
    a_closed_period_holds_the_budget_on_postgres
);
