//! The finance service on its own: placements start on the in-process bus, and the ledger is
//! read through the HTTP API. Runs on SQLite, and on PostgreSQL (the local server, or the
//! `HUB_TEST_POSTGRES` URL template with `{service}`); a database per run is created and dropped.

use actix_web::{http::StatusCode, test};
use chrono::NaiveDate;
use hub_events::{Envelope, PlacementStarted};
use hub_platform::directory::{HALTON, LIVERPOOL, NOTTINGHAM, SEFTON};
use hub_platform::{Role, db::Migrations};
use hub_testkit::{ServiceCtx, on_both};
use serde_json::Value;
use uuid::Uuid;

static SETS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &finance::MIGRATIONS];

fn started(council: &str, weekly: i64, start: NaiveDate) -> PlacementStarted {
    PlacementStarted {
        placement_id: Uuid::now_v7(),
        order_id: Some(Uuid::now_v7()),
        referral_id: Uuid::now_v7(),
        council: council.into(),
        provider_id: "prov-family-care".into(),
        weekly_rate_pence: weekly,
        extras_weekly_pence: 0,
        start_date: start,
        block_contract_id: None,
        bed: None,
    }
}

async fn flow(url: &str) {
    let ctx = ServiceCtx::start(url, finance::NAME, &SETS, finance::start).await;
    let app = ctx.app().await;
    let get = |query: &str, org: &str, role: Role| {
        test::TestRequest::get()
            .uri(&format!("/v1/ledger{query}"))
            .insert_header((
                "authorization",
                format!("Bearer {}", ctx.token_as("fin-1", org, role)),
            ))
            .to_request()
    };

    let dec15 = NaiveDate::from_ymd_opt(2026, 12, 15).unwrap();
    let placement = started(SEFTON, 317_065, dec15);
    let env = Envelope::new("contract", "LCR-PPA", &placement);
    ctx.publish_envelope(&env).await;
    ctx.publish_envelope(&env).await; // redelivered
    ctx.publish_envelope(&Envelope::new("contract", "LCR-PPA", &placement))
        .await; // re-announced
    // Another partnership's placement, and one for the next financial year.
    ctx.publish_envelope(&Envelope::new(
        "contract",
        "D2N2",
        &started(NOTTINGHAM, 500_000, dec15),
    ))
    .await;
    let next_year = started(
        HALTON,
        100_001,
        NaiveDate::from_ymd_opt(2027, 4, 1).unwrap(),
    );
    ctx.publish_envelope(&Envelope::new("contract", "LCR-PPA", &next_year))
        .await;
    // A council outside the partnership named: refused (dead-lettered), nothing filed.
    ctx.publish_envelope(&Envelope::new(
        "contract",
        "LCR-PPA",
        &started(NOTTINGHAM, 1, dec15),
    ))
    .await;

    let ledger: Value = test::call_and_read_body_json(
        &app,
        get("?partnership=LCR-PPA&year=2026", HALTON, Role::Finance),
    )
    .await;
    assert_eq!(ledger["partnership"], "LCR-PPA");
    assert_eq!(
        (ledger["year"].as_i64(), ledger["year_label"].as_str()),
        (Some(2026), Some("2026/27"))
    );
    let lines = ledger["lines"].as_array().unwrap();
    let got: Vec<(i64, i64, i64)> = lines
        .iter()
        .map(|l| {
            (
                l["period"].as_i64().unwrap(),
                l["days"].as_i64().unwrap(),
                l["amount_pence"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (9, 17, 770_015),
            (10, 31, 1_404_145),
            (11, 28, 1_268_260),
            (12, 31, 1_404_145)
        ]
    );
    for l in lines {
        assert_eq!(l["source_kind"], "placement");
        assert_eq!(l["source_id"], placement.placement_id.to_string());
        assert_eq!(
            (l["council"].as_str(), l["partnership"].as_str()),
            (Some(SEFTON), Some("LCR-PPA"))
        );
        assert_eq!(
            (l["year"].as_i64(), l["weekly_rate_pence"].as_i64()),
            (Some(2026), Some(317_065))
        );
        assert_eq!(l["provider_id"], "prov-family-care");
    }
    let by_period: Vec<(i64, i64)> = ledger["by_period"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["period"].as_i64().unwrap(),
                p["amount_pence"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_period,
        vec![
            (9, 770_015),
            (10, 1_404_145),
            (11, 1_268_260),
            (12, 1_404_145)
        ]
    );
    assert_eq!(ledger["committed_pence"], 4_846_565);

    // Halton (the LCR PPA's lead commissioner; it has no hosting authority) sees every line:
    // Halton's child's from April 2027 and Sefton's, open since December 2026, which runs on
    // into 2027/28 once the year is asked for (issue 10 rule 11).
    let next: Value = test::call_and_read_body_json(
        &app,
        get("?partnership=LCR-PPA&year=2027", HALTON, Role::Finance),
    )
    .await;
    assert_eq!(next["lines"].as_array().unwrap().len(), 24);
    assert_eq!(
        (next["detail"].as_str(), next["withheld_lines"].as_i64()),
        (Some("all"), Some(0))
    );
    assert_eq!(next["year_label"], "2027/28");
    // Sefton, a partner, sees the partnership's totals and its own child's lines, not
    // Halton's child's.
    let partner_view: Value = test::call_and_read_body_json(
        &app,
        get("?partnership=LCR-PPA&year=2027", SEFTON, Role::Finance),
    )
    .await;
    assert_eq!(
        (
            partner_view["detail"].as_str(),
            partner_view["lines"].as_array().unwrap().len(),
            partner_view["withheld_lines"].as_i64()
        ),
        (Some("own"), 12, Some(12))
    );
    assert_eq!(partner_view["committed_pence"], next["committed_pence"]);
    assert_eq!(partner_view["by_period"], next["by_period"]);
    let d2n2: Value = test::call_and_read_body_json(
        &app,
        get("?partnership=D2N2&year=2026", NOTTINGHAM, Role::Finance),
    )
    .await;
    assert_eq!(d2n2["lines"].as_array().unwrap().len(), 4);
    assert!(
        d2n2["lines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["council"] == NOTTINGHAM)
    );

    // Access and input.
    let problem = |status: StatusCode| {
        move |res: actix_web::dev::ServiceResponse| {
            assert_eq!(res.status(), status);
            res
        }
    };
    let res = test::call_service(
        &app,
        get("?partnership=LCR-PPA&year=2026", SEFTON, Role::Commissioner),
    )
    .await;
    problem(StatusCode::FORBIDDEN)(res);
    for q in [
        "?partnership=LCR-PPA&year=2026",
        "?partnership=NOPE&year=2026",
    ] {
        let res = test::call_service(&app, get(q, NOTTINGHAM, Role::Finance)).await;
        let p: Value = test::read_body_json(problem(StatusCode::NOT_FOUND)(res)).await;
        assert_eq!(p["detail"], "no such partnership");
    }
    let res = test::call_service(&app, get("?partnership=AIM", LIVERPOOL, Role::Finance)).await;
    let p: Value = test::read_body_json(problem(StatusCode::UNPROCESSABLE_ENTITY)(res)).await;
    assert_eq!(
        (
            p["errors"][0]["field"].as_str(),
            p["errors"][0]["rule"].as_str()
        ),
        (Some("year"), Some("required"))
    );
    let res = test::call_service(&app, get("?year=26/27", LIVERPOOL, Role::Finance)).await;
    let p: Value = test::read_body_json(problem(StatusCode::UNPROCESSABLE_ENTITY)(res)).await;
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["partnership", "year"]);
    let empty: Value = test::call_and_read_body_json(
        &app,
        get("?partnership=AIM&year=2026", LIVERPOOL, Role::Finance),
    )
    .await;
    assert_eq!(
        (
            empty["lines"].as_array().unwrap().len(),
            empty["committed_pence"].as_i64()
        ),
        (0, Some(0))
    );
}

on_both!(
    flow,
    placements_become_commitment_lines_on_sqlite,
    placements_become_commitment_lines_on_postgres
);
