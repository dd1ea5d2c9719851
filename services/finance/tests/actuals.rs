//! Actuals: payments uploaded as CSV or JSON, checked line by line, applied whole or not at
//! all, counted once however often they are sent; closed periods and late adjustments.
//! SQLite and PostgreSQL.

use actix_web::test::TestRequest;
use hub_platform::directory::{KNOWSLEY, LIVERPOOL, SEFTON, WIRRAL};
use hub_platform::{Role, db::Migrations};
use hub_testkit::{ServiceCtx, assert_problem, call, call_request, on_both};
use serde_json::{Value, json};

static SETS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &finance::MIGRATIONS];

fn csv(path: &str, body: &str) -> TestRequest {
    TestRequest::post()
        .uri(path)
        .insert_header(("content-type", "text/csv"))
        .set_payload(body.to_owned())
}

/// The total of the payments `token`'s caller sees for AIM 2018/19.
macro_rules! total {
    ($app:expr, $token:expr) => {{
        let (status, body) = call(
            &$app,
            "GET",
            "/v1/actuals?partnership=AIM&year=2018",
            $token,
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body["total_pence"].as_i64().unwrap()
    }};
}

async fn flow(url: &str) {
    let ctx = ServiceCtx::start(url, finance::NAME, &SETS, finance::start).await;
    let app = ctx.app().await;
    let host = ctx.token_as("fin-lpool", LIVERPOOL, Role::Finance);
    let sefton = ctx.token_as("fin-sefton", SEFTON, Role::Finance);
    let wirral = ctx.token(WIRRAL, Role::Finance);
    let p3 = "/v1/actuals?partnership=AIM&year=2018&period=3";

    // No budget yet: nothing can be recorded.
    let file = "payment_reference,paid_on,budget_line,amount\n\
                SEF-001,2018-06-05,placements,2149.00\n\
                SEF-002,15/06/2018,inter_agency_fees,27000\n\
                SEF-003,2018-06-29,placements,-12.50\n";
    let got = call_request(&app, csv(p3, file), &sefton).await;
    assert_problem(&got, 409, "no-budget", None);
    let (status, budget) = call(
        &app,
        "POST",
        "/v1/budgets",
        &host,
        Some(json!({"partnership": "AIM", "year": 2018,
            "lines": [{"budget_line": "placements", "amount_pence": 50_000_000},
                      {"budget_line": "inter_agency_fees", "amount_pence": 10_000_000},
                      {"budget_line": "staffing", "amount_pence": 40_000_000}],
            "costing_model": {"method": "equal"}})),
    )
    .await;
    assert_eq!(status, 201, "{budget}");
    let budget_id = budget["id"].as_str().unwrap().to_owned();

    // Sefton's file for P3: three payments, a refund among them.
    let (status, first) = call_request(&app, csv(p3, file), &sefton).await;
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
    let (status, again) = call_request(&app, csv(p3, file), &sefton).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        (again["duplicate"].as_bool(), again["id"].as_str()),
        (Some(true), first["id"].as_str())
    );
    assert_eq!(total!(app, &sefton), 2_913_650);
    // Another file repeating one payment exactly: that one is skipped, the new one recorded.
    let (status, overlap) = call_request(
        &app,
        csv(p3, "payment_reference,paid_on,budget_line,amount\nSEF-003,2018-06-29,placements,-12.50\nSEF-004,2018-06-30,staffing,100\n"),
        &sefton,
    )
    .await;
    assert_eq!(status, 201, "{overlap}");
    assert_eq!(
        (
            overlap["applied"].as_i64(),
            overlap["already_recorded"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(total!(app, &sefton), 2_923_650);

    // Refused whole, nothing applied: a bad amount and an unknown budget line (the good line
    // before them is not kept); a payment recorded before with another amount; another
    // partner's council; a stranger's column.
    let bad = "payment_reference,paid_on,budget_line,amount\n\
               SEF-010,2018-06-01,placements,10.00\n\
               SEF-011,2018-06-01,placements,12.345\n\
               SEF-012,2018-06-01,catering,5.00\n";
    let got = call_request(&app, csv(p3, bad), &sefton).await;
    assert_problem(&got, 422, "validation", Some(("/rows/3/amount", "format")));
    let got = call_request(&app, csv(p3, &bad.replace("12.345", "12.34")), &sefton).await;
    assert_problem(
        &got,
        422,
        "validation",
        Some(("/rows/4/budget_line", "one_of")),
    );
    assert_eq!(got.1["errors"].as_array().unwrap().len(), 1, "{}", got.1);
    let got = call_request(
        &app,
        csv(
            p3,
            "payment_reference,paid_on,budget_line,amount\nSEF-001,2018-06-05,placements,2149.01\n",
        ),
        &sefton,
    )
    .await;
    assert_problem(
        &got,
        422,
        "validation",
        Some(("/rows/2/payment_reference", "conflict")),
    );
    let got = call_request(
        &app,
        csv(p3, "payment_reference,paid_on,budget_line,amount,council\nSEF-020,2018-06-05,placements,1,E08000015\n"),
        &sefton,
    )
    .await;
    assert_problem(&got, 422, "validation", Some(("/rows/2/council", "one_of")));
    let got = call_request(
        &app,
        csv(
            p3,
            "payment_reference,paid_on,budget_line,amount,child_name\n",
        ),
        &sefton,
    )
    .await;
    assert_problem(
        &got,
        422,
        "validation",
        Some(("/rows/1/child_name", "unknown_field")),
    );
    let got = call_request(
        &app,
        csv("/v1/actuals?partnership=AIM&year=2018", file),
        &sefton,
    )
    .await;
    assert_problem(&got, 422, "validation", Some(("period", "required")));
    let got = call_request(
        &app,
        TestRequest::post()
            .uri(p3)
            .insert_header(("content-type", "text/plain"))
            .set_payload(file),
        &sefton,
    )
    .await;
    assert_problem(&got, 415, "unsupported-media-type", None);
    assert_eq!(total!(app, &sefton), 2_923_650);

    // The hosting authority records a partner's payments as JSON.
    let (status, json_upload) = call(
        &app,
        "POST",
        "/v1/actuals",
        &host,
        Some(json!({"partnership": "AIM", "year": 2018, "period": 3, "payments": [
            {"payment_reference": "WIR-1", "paid_on": "2018-06-10", "budget_line": "placements",
             "amount_pence": 100_000, "council": WIRRAL, "contract_id": "ord-1"},
            {"payment_reference": "LIV-1", "paid_on": "2018-06-10", "budget_line": "staffing", "amount_pence": 5}
        ]})),
    )
    .await;
    assert_eq!(status, 201, "{json_upload}");
    assert_eq!(json_upload["payments"][1]["council"], LIVERPOOL);
    let got = call(
        &app,
        "POST",
        "/v1/actuals",
        &host,
        Some(json!({"partnership": "AIM", "year": 2018, "period": 3, "payments": [
            {"payment_reference": "X", "paid_on": "2019-04-01", "budget_line": "placements", "amount_pence": 1}]})),
    )
    .await;
    assert_problem(
        &got,
        422,
        "validation",
        Some(("/payments/0/paid_on", "range")),
    );
    // Money cannot overflow: i64::MIN (whose absolute value wraps) and a line over
    // £10,000,000.00 are refused naming the amount; nothing is recorded.
    for (i, amount) in [(0, i64::MIN), (1, 1_000_000_001)] {
        let mut payments = vec![
            json!({"payment_reference": "OK-1", "paid_on": "2018-06-10", "budget_line": "placements", "amount_pence": 1}),
        ];
        payments.insert(
            i,
            json!({"payment_reference": "BIG", "paid_on": "2018-06-10", "budget_line": "placements", "amount_pence": amount}),
        );
        let got = call(
            &app,
            "POST",
            "/v1/actuals",
            &host,
            Some(json!({"partnership": "AIM", "year": 2018, "period": 3, "payments": payments})),
        )
        .await;
        let pointer = format!("/payments/{i}/amount_pence");
        assert_problem(&got, 422, "validation", Some((pointer.as_str(), "range")));
    }
    // A payment belongs to its period: December's payment sent for June is refused naming its
    // row, in a file as in JSON; May's recorded late says it adjusts P2 and is counted in June.
    let got = call_request(
        &app,
        csv(
            p3,
            "payment_reference,paid_on,budget_line,amount\nSEF-040,2018-06-04,placements,1.00\nSEF-041,2018-12-05,placements,1.00\n",
        ),
        &sefton,
    )
    .await;
    assert_problem(&got, 422, "validation", Some(("/rows/3/paid_on", "range")));
    let got = call(
        &app,
        "POST",
        "/v1/actuals",
        &host,
        Some(json!({"partnership": "AIM", "year": 2018, "period": 3, "payments": [
            {"payment_reference": "LIV-40", "paid_on": "2018-12-05", "budget_line": "staffing", "amount_pence": 1}]})),
    )
    .await;
    assert_problem(
        &got,
        422,
        "validation",
        Some(("/payments/0/paid_on", "range")),
    );
    let (status, late) = call_request(
        &app,
        csv(
            p3,
            "payment_reference,paid_on,budget_line,amount,adjusts_period\nSEF-042,2018-05-31,placements,1.00,2\n",
        ),
        &sefton,
    )
    .await;
    assert_eq!(status, 201, "{late}");
    assert_eq!(
        (
            late["payments"][0]["period"].as_i64(),
            late["payments"][0]["adjusts_period"].as_i64()
        ),
        (Some(3), Some(2)),
        "{late}"
    );

    // Partners see their own payments; the host sees everyone's; another partner's upload is
    // not there for Wirral.
    assert_eq!(total!(app, &wirral), 100_000);
    // (Sefton's £1.00 of May, recorded late in P3, is Sefton's too.)
    assert_eq!(total!(app, &host), 2_923_650 + 100 + 100_005);
    let got = call(
        &app,
        "GET",
        &format!("/v1/actuals/uploads/{}", first["id"].as_str().unwrap()),
        &wirral,
        None,
    )
    .await;
    assert_problem(&got, 404, "not-found", None);
    let (status, _) = call(
        &app,
        "GET",
        &format!("/v1/actuals/uploads/{}", first["id"].as_str().unwrap()),
        &host,
        None,
    )
    .await;
    assert_eq!(status, 200);

    // Closing P3: a partner cannot; the host can, once.
    let close = format!("/v1/budgets/{budget_id}/periods/3/close");
    let got = call(&app, "POST", &close, &sefton, None).await;
    assert_problem(&got, 403, "forbidden", None);
    let (status, periods) = call(&app, "POST", &close, &host, None).await;
    assert_eq!(status, 200, "{periods}");
    assert_eq!(periods["periods"][2]["status"], "closed");
    assert_eq!(periods["periods"][2]["closed_by"], "fin-lpool");
    assert_eq!(periods["periods"][3]["status"], "open");
    let got = call(&app, "POST", &close, &host, None).await;
    assert_problem(&got, 409, "period-closed", None);

    // A late payment for P3 is refused as it stands, and posted to P4 as an adjustment.
    let late = "payment_reference,paid_on,budget_line,amount\nSEF-030,2018-06-28,inter_agency_fees,-270.00\n";
    let got = call_request(&app, csv(p3, late), &sefton).await;
    assert_problem(&got, 409, "period-closed", None);
    assert!(
        got.1["detail"].as_str().unwrap().contains("P4"),
        "{}",
        got.1
    );
    let (status, adjusted) =
        call_request(&app, csv(&format!("{p3}&adjust=true"), late), &sefton).await;
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
    let (_, p3_list) = call(
        &app,
        "GET",
        "/v1/actuals?partnership=AIM&year=2018&period=3",
        &sefton,
        None,
    )
    .await;
    assert_eq!(
        p3_list["total_pence"],
        2_923_650 + 100,
        "P3 stands as closed"
    );
    let (_, p4_list) = call(
        &app,
        "GET",
        "/v1/actuals?partnership=AIM&year=2018&period=4",
        &sefton,
        None,
    )
    .await;
    assert_eq!(p4_list["total_pence"], -27_000);
    // Nor can the budget change from a closed period.
    let got = call(
        &app,
        "POST",
        &format!("/v1/budgets/{budget_id}/versions"),
        &host,
        Some(
            json!({"from_period": 3, "lines": [{"budget_line": "placements", "amount_pence": 1}],
                    "costing_model": {"method": "equal"}, "reason": "late change"}),
        ),
    )
    .await;
    assert_problem(&got, 409, "period-closed", None);
    let knowsley = ctx.token(KNOWSLEY, Role::Finance);
    let (_, periods) = call(
        &app,
        "GET",
        &format!("/v1/budgets/{budget_id}/periods"),
        &knowsley,
        None,
    )
    .await;
    let closed: Vec<i64> = periods["periods"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] == "closed")
        .map(|p| p["period"].as_i64().unwrap())
        .collect();
    assert_eq!(closed, vec![3]);
    let _: Value = periods;
}

on_both!(
    flow,
    actuals_are_checked_applied_once_and_locked_on_sqlite,
    actuals_are_checked_applied_once_and_locked_on_postgres
);
