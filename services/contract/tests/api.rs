//! The contract service on its own: an award comes in on the in-process bus, and the
//! order, its signature and the placement go through the HTTP API. Runs on SQLite, and on
//! PostgreSQL (the local server, or the `HUB_TEST_POSTGRES` URL template with `{service}`);
//! a database per run is created and dropped.

use actix_web::{http::StatusCode, test};
use chrono::NaiveDate;
use diesel::{QueryableByName, RunQueryDsl, sql_types::Text};
use hub_events::{CompetitionAwarded, Envelope, OrderIssued, OrderSigned, PlacementStarted};
use hub_platform::directory::{SEFTON, WIRRAL};
use hub_platform::{Role, db::Migrations};
use hub_testkit::{ServiceCtx, on_both};
use serde_json::{Value, json};
use uuid::Uuid;

static SETS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &contract::MIGRATIONS];

const PROVIDER: &str = "prov-care-assist";

fn award(council: &str) -> CompetitionAwarded {
    CompetitionAwarded {
        competition_id: Uuid::now_v7(),
        referral_id: Uuid::now_v7(),
        council: council.into(),
        framework_id: Uuid::now_v7(),
        lot_id: Uuid::now_v7(),
        provider_id: PROVIDER.into(),
        bid_id: Some(Uuid::now_v7()),
        weekly_rate_pence: 317_065,
        start_date: NaiveDate::from_ymd_opt(2026, 12, 15).unwrap(),
        unsuccessful: vec!["prov-other".into()],
        awarded_by: "jo".into(),
        direct: false,
        outcomes: Vec::new(),
    }
}

async fn flow(url: &str) {
    let ctx = ServiceCtx::start(url, contract::NAME, &SETS, contract::start).await;
    let app = ctx.app().await;
    let token = |org: &str, role: Role| format!("Bearer {}", ctx.token_as("user-1", org, role));

    // competition.awarded → an issued order and contract.order_issued, in the award's partnership.
    let a = award(SEFTON);
    let env = Envelope::new("competition", "LCR-PPA", &a);
    ctx.publish_envelope(&env).await;
    ctx.publish_envelope(&env).await; // redelivered: no second order
    ctx.publish_envelope(&Envelope::new("competition", "LCR-PPA", &a))
        .await; // re-announced: none either
    let events = ctx.outbox().await;
    assert_eq!(events.len(), 1, "one order_issued");
    assert_eq!(
        (
            events[0].event_type.as_str(),
            events[0].partnership.as_str()
        ),
        ("contract.order_issued", "LCR-PPA")
    );
    let issued: OrderIssued = events[0].decode().unwrap();
    assert_eq!(
        (issued.competition_id, issued.weekly_rate_pence),
        (a.competition_id, 317_065)
    );
    let order_id = issued.order_id.to_string();
    let order_path = format!("/v1/orders/{order_id}");

    // Who sees the order.
    let get = |path: String, auth: String| {
        test::TestRequest::get()
            .uri(&path)
            .insert_header(("authorization", auth))
            .to_request()
    };
    for (org, role, status) in [
        (SEFTON, Role::SocialWorker, StatusCode::OK),
        (SEFTON, Role::Finance, StatusCode::OK),
        (PROVIDER, Role::Provider, StatusCode::OK),
        (WIRRAL, Role::Commissioner, StatusCode::NOT_FOUND),
        ("prov-other", Role::Provider, StatusCode::NOT_FOUND),
    ] {
        let res = test::call_service(&app, get(order_path.clone(), token(org, role))).await;
        assert_eq!(res.status(), status, "{org} {role:?}");
    }
    let res =
        test::call_service(&app, test::TestRequest::get().uri(&order_path).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let order: Value = test::call_and_read_body_json(
        &app,
        get(order_path.clone(), token(SEFTON, Role::Commissioner)),
    )
    .await;
    assert_eq!(order["status"], "issued");
    assert_eq!(order["partnership"], "LCR-PPA");
    assert_eq!(order["start_date"], "2026-12-15");
    assert_eq!(order["due_by"], issued.due_by.to_string());

    // A placement before the order is signed.
    let place = |auth: String, body: Value| {
        test::TestRequest::post()
            .uri("/v1/placements")
            .insert_header(("authorization", auth))
            .set_json(body)
            .to_request()
    };
    let res = test::call_service(
        &app,
        place(
            token(SEFTON, Role::Commissioner),
            json!({ "order_id": order_id }),
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let p: Value = test::read_body_json(res).await;
    assert_eq!(p["type"], "/problems/order-not-signed");

    // Signing: the provider only.
    let sign = |auth: String, body: Option<Value>| {
        let req = test::TestRequest::post()
            .uri(&format!("{order_path}/sign"))
            .insert_header(("authorization", auth));
        match body {
            Some(b) => req.set_json(b).to_request(),
            None => req.to_request(),
        }
    };
    let res = test::call_service(&app, sign(token(SEFTON, Role::Commissioner), None)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = test::call_service(&app, sign(token("prov-other", Role::Provider), None)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = test::call_service(
        &app,
        sign(
            token(PROVIDER, Role::Provider),
            Some(json!({ "note": "x" })),
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let signed: Value =
        test::call_and_read_body_json(&app, sign(token(PROVIDER, Role::Provider), Some(json!({}))))
            .await;
    assert_eq!(
        (signed["status"].as_str(), signed["signed_by"].as_str()),
        (Some("signed"), Some("user-1"))
    );
    let res = test::call_service(&app, sign(token(PROVIDER, Role::Provider), None)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let p: Value = test::read_body_json(res).await;
    assert_eq!(p["type"], "/problems/order-not-issued");
    let events = ctx.outbox().await;
    let s: OrderSigned = events[1].decode().unwrap();
    assert_eq!(
        (
            s.order_id,
            s.signed_by.as_str(),
            events[1].partnership.as_str()
        ),
        (issued.order_id, "user-1", "LCR-PPA")
    );

    // Placing: a commissioner of the order's council.
    let body = json!({ "order_id": order_id });
    let res =
        test::call_service(&app, place(token(SEFTON, Role::SocialWorker), body.clone())).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res =
        test::call_service(&app, place(token(WIRRAL, Role::Commissioner), body.clone())).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = test::call_service(
        &app,
        place(
            token(SEFTON, Role::Commissioner),
            json!({ "order_id": order_id, "x": 1 }),
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = test::call_service(
        &app,
        place(
            token(SEFTON, Role::Commissioner),
            json!({ "order_id": Uuid::now_v7() }),
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res =
        test::call_service(&app, place(token(SEFTON, Role::Commissioner), body.clone())).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let placement: Value = test::read_body_json(res).await;
    assert_eq!(
        (
            placement["status"].as_str(),
            placement["start_date"].as_str()
        ),
        (Some("active"), Some("2026-12-15"))
    );
    assert_eq!(placement["weekly_rate_pence"], 317_065);
    let res =
        test::call_service(&app, place(token(SEFTON, Role::Commissioner), body.clone())).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let p: Value = test::read_body_json(res).await;
    assert_eq!(p["type"], "/problems/already-placed");

    let events = ctx.outbox().await;
    assert_eq!(events.len(), 3);
    assert_eq!(
        (
            events[2].event_type.as_str(),
            events[2].partnership.as_str()
        ),
        ("contract.placement_started", "LCR-PPA")
    );
    let started: PlacementStarted = events[2].decode().unwrap();
    assert_eq!(
        started.placement_id.to_string(),
        placement["id"].as_str().unwrap()
    );
    assert_eq!(
        (started.referral_id, started.weekly_rate_pence),
        (a.referral_id, 317_065)
    );

    let placement_path = format!("/v1/placements/{}", started.placement_id);
    for (org, role, status) in [
        (SEFTON, Role::Admin, StatusCode::OK),
        (PROVIDER, Role::Provider, StatusCode::OK),
        (WIRRAL, Role::Commissioner, StatusCode::NOT_FOUND),
        (SEFTON, Role::Provider, StatusCode::NOT_FOUND),
    ] {
        let res = test::call_service(&app, get(placement_path.clone(), token(org, role))).await;
        assert_eq!(res.status(), status, "{org} {role:?}");
    }

    // A placement starting on another day than the order says.
    let a2 = award(SEFTON);
    ctx.publish_envelope(&Envelope::new("competition", "AIM", &a2))
        .await;
    let order2: OrderIssued = ctx.outbox().await[3].decode().unwrap();
    let res = test::call_service(
        &app,
        test::TestRequest::post()
            .uri(&format!("/v1/orders/{}/sign", order2.order_id))
            .insert_header(("authorization", token(PROVIDER, Role::Provider)))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = test::call_service(
        &app,
        place(
            token(SEFTON, Role::Commissioner),
            json!({ "order_id": order2.order_id, "start_date": "2027-01-04" }),
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let p2: Value = test::read_body_json(res).await;
    assert_eq!(
        (p2["start_date"].as_str(), p2["partnership"].as_str()),
        (Some("2027-01-04"), Some("AIM"))
    );

    // An award whose council is not in the partnership named is dead-lettered, not filed.
    ctx.publish_envelope(&Envelope::new("competition", "D2N2", &award(SEFTON)))
        .await;
    assert_eq!(
        ctx.outbox().await.len(),
        6,
        "no order for a council outside the partnership"
    );
    #[derive(QueryableByName)]
    struct Dead {
        #[diesel(sql_type = Text)]
        consumer: String,
    }
    let dead = ctx
        .store
        .db
        .run(|c| Ok(diesel::sql_query("SELECT consumer FROM dead_letters").load::<Dead>(c)?))
        .await
        .unwrap();
    assert_eq!(
        dead.iter().map(|d| d.consumer.as_str()).collect::<Vec<_>>(),
        vec!["contract.awards"]
    );
}

on_both!(
    flow,
    awards_become_orders_then_placements_on_sqlite,
    awards_become_orders_then_placements_on_postgres
);

async fn refused_award(url: &str) {
    // With the bus's real retry delays (seconds to a minute): a refusal does not wait for them.
    let ctx = ServiceCtx::builder(contract::NAME)
        .bus_retries(true)
        .start(url, &SETS, contract::start)
        .await;
    // Sefton is not a D2N2 council: the award can never be filed there, so it is refused and
    // dead-lettered on its first delivery, with the reason, instead of waiting through retries.
    ctx.publish_envelope(&Envelope::new("competition", "D2N2", &award(SEFTON)))
        .await;
    #[derive(QueryableByName)]
    struct Dead {
        #[diesel(sql_type = Text)]
        consumer: String,
        #[diesel(sql_type = Text)]
        error: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        attempts: i32,
    }
    let dead = ctx
        .store
        .db
        .run(|c| {
            Ok(
                diesel::sql_query("SELECT consumer, error, attempts FROM dead_letters")
                    .load::<Dead>(c)?,
            )
        })
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].consumer.as_str(), dead[0].attempts),
        ("contract.awards", 1)
    );
    assert!(
        dead[0]
            .error
            .contains("which the council is not a member of"),
        "{}",
        dead[0].error
    );
    assert!(ctx.outbox().await.is_empty(), "no order issued");
}

on_both!(
    refused_award,
    an_award_outside_the_partnership_is_refused_at_once_on_sqlite,
    an_award_outside_the_partnership_is_refused_at_once_on_postgres
);
