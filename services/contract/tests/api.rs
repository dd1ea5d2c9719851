//! The contract service on its own: an award comes in on the in-process bus, and the
//! order, its signature and the placement go through the HTTP API. Runs on SQLite, and on
//! PostgreSQL (the local server, or the `HUB_TEST_POSTGRES` URL template with `{service}`);
//! a database per run is created and dropped.

mod common;

use actix_web::test;
use common::{OTHER_PROVIDER, PROVIDER, SETS, d, start};
use diesel::{QueryableByName, RunQueryDsl, sql_types::Text};
use hub_events::{CompetitionAwarded, Envelope, OrderIssued, OrderSigned, PlacementStarted};
use hub_platform::Role;
use hub_platform::directory::{SEFTON, WIRRAL};
use hub_testkit::{ServiceCtx, TestApp, on_both};
use serde_json::{Value, json};
use uuid::Uuid;

/// An award to Care Assist at £3,170.65 a week from 15 December 2026, over one other bidder.
fn award(council: &str) -> CompetitionAwarded {
    CompetitionAwarded {
        weekly_rate_pence: 317_065,
        unsuccessful: vec![OTHER_PROVIDER.into()],
        ..common::award(council, false, d(2026, 12, 15))
    }
}

/// The consumers of the dead letters.
async fn dead_letter_consumers(app: &TestApp) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Dead {
        #[diesel(sql_type = Text)]
        consumer: String,
    }
    let dead = app
        .store
        .db
        .run(|c| Ok(diesel::sql_query("SELECT consumer FROM dead_letters").load::<Dead>(c)?))
        .await
        .unwrap();
    dead.into_iter().map(|d| d.consumer).collect()
}

/// An award to Sefton published in the LCR PPA, and the order it issued.
async fn issued(app: &TestApp) -> (CompetitionAwarded, OrderIssued) {
    let a = award(SEFTON);
    app.publish_envelope(&Envelope::new("competition", "LCR-PPA", &a))
        .await;
    let issued: OrderIssued = app.outbox().await[0].decode().unwrap();
    (a, issued)
}

/// That order signed by the provider.
async fn signed(app: &TestApp) -> (CompetitionAwarded, OrderIssued) {
    let (a, issued) = issued(app).await;
    let provider = app.user_as("user-1", PROVIDER, Role::Provider);
    let (s, signed) = app
        .contracts()
        .sign(&provider, &issued.order_id.to_string())
        .await;
    assert_eq!(s, 200, "{signed}");
    (a, issued)
}

/// The child placed under it, as the order says; the placement.
async fn placed(app: &TestApp) -> Value {
    let (_, issued) = signed(app).await;
    let sefton = app.user_as("user-1", SEFTON, Role::Commissioner);
    let (s, placement) = app
        .contracts()
        .place(&sefton, &json!({ "order_id": issued.order_id }))
        .await;
    assert_eq!(s, 201, "{placement}");
    placement
}

/// competition.awarded → an issued order and contract.order_issued, in the award's
/// partnership; once, however often the award comes.
async fn an_award_becomes_one_order(url: &str) {
    let app = start(url).await;
    let a = award(SEFTON);
    let env = Envelope::new("competition", "LCR-PPA", &a);
    app.publish_envelope(&env).await;
    app.publish_envelope(&env).await; // redelivered: no second order
    app.publish_envelope(&Envelope::new("competition", "LCR-PPA", &a))
        .await; // re-announced: none either
    let events = app.outbox().await;
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
}

on_both!(
    an_award_becomes_one_order,
    an_award_becomes_one_order_on_sqlite,
    an_award_becomes_one_order_on_postgres
);

/// Who sees the order: the council's staff and the provider; nobody without a token.
async fn who_sees_the_order(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let user = |org: &str, role: Role| app.user_as("user-1", org, role);
    let (_, issued) = issued(&app).await;
    let order_id = issued.order_id.to_string();
    for (org, role, status) in [
        (SEFTON, Role::SocialWorker, 200),
        (SEFTON, Role::Finance, 200),
        (PROVIDER, Role::Provider, 200),
        (WIRRAL, Role::Commissioner, 404),
        (OTHER_PROVIDER, Role::Provider, 404),
    ] {
        let (s, _) = contracts.order(&user(org, role), &order_id).await;
        assert_eq!(s, status, "{org} {role:?}");
    }
    let anonymous = test::TestRequest::get()
        .uri(&format!("/v1/orders/{order_id}"))
        .to_request();
    let res = test::call_service(&app.app().await, anonymous).await;
    assert_eq!(res.status().as_u16(), 401);
    let (_, order) = contracts
        .order(&user(SEFTON, Role::Commissioner), &order_id)
        .await;
    assert_eq!(order["status"], "issued");
    assert_eq!(order["partnership"], "LCR-PPA");
    assert_eq!(order["start_date"], "2026-12-15");
    assert_eq!(order["due_by"], issued.due_by.to_string());
}

on_both!(
    who_sees_the_order,
    the_council_and_the_provider_see_the_order_on_sqlite,
    the_council_and_the_provider_see_the_order_on_postgres
);

/// Not placed before it is signed; signed by the provider only, once.
async fn signing(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let user = |org: &str, role: Role| app.user_as("user-1", org, role);
    let (sefton, provider) = (
        user(SEFTON, Role::Commissioner),
        user(PROVIDER, Role::Provider),
    );
    let (_, issued) = issued(&app).await;
    let order_id = issued.order_id.to_string();
    let (s, p) = contracts
        .place(&sefton, &json!({ "order_id": order_id }))
        .await;
    assert_eq!(s, 409);
    assert_eq!(p["type"], "/problems/order-not-signed");

    let (s, _) = contracts.sign(&sefton, &order_id).await;
    assert_eq!(s, 403);
    let (s, _) = contracts
        .sign(&user(OTHER_PROVIDER, Role::Provider), &order_id)
        .await;
    assert_eq!(s, 404);
    let (s, _) = contracts
        .sign_with(&provider, &order_id, &json!({ "note": "x" }))
        .await;
    assert_eq!(s, 422);
    let (s, signed) = contracts.sign_with(&provider, &order_id, &json!({})).await;
    assert_eq!(s, 200, "{signed}");
    assert_eq!(
        (signed["status"].as_str(), signed["signed_by"].as_str()),
        (Some("signed"), Some("user-1"))
    );
    let (s, p) = contracts.sign(&provider, &order_id).await;
    assert_eq!(s, 409);
    assert_eq!(p["type"], "/problems/order-not-issued");
    let events = app.outbox().await;
    let s: OrderSigned = events[1].decode().unwrap();
    assert_eq!(
        (
            s.order_id,
            s.signed_by.as_str(),
            events[1].partnership.as_str()
        ),
        (issued.order_id, "user-1", "LCR-PPA")
    );
}

on_both!(
    signing,
    the_provider_signs_the_order_once_on_sqlite,
    the_provider_signs_the_order_once_on_postgres
);

/// Placing: a commissioner of the order's council, once; announced in the partnership.
async fn placing(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let user = |org: &str, role: Role| app.user_as("user-1", org, role);
    let sefton = user(SEFTON, Role::Commissioner);
    let (a, issued) = signed(&app).await;
    let body = json!({ "order_id": issued.order_id });
    for (user, body, status) in [
        (user(SEFTON, Role::SocialWorker), body.clone(), 403),
        (user(WIRRAL, Role::Commissioner), body.clone(), 404),
        (
            sefton.clone(),
            json!({ "order_id": issued.order_id, "x": 1 }),
            422,
        ),
        (sefton.clone(), json!({ "order_id": Uuid::now_v7() }), 404),
    ] {
        let (s, _) = contracts.place(&user, &body).await;
        assert_eq!(s, status, "{body}");
    }
    let (s, placement) = contracts.place(&sefton, &body).await;
    assert_eq!(s, 201);
    assert_eq!(
        (
            placement["status"].as_str(),
            placement["start_date"].as_str()
        ),
        (Some("active"), Some("2026-12-15"))
    );
    assert_eq!(placement["weekly_rate_pence"], 317_065);
    let (s, p) = contracts.place(&sefton, &body).await;
    assert_eq!(s, 409);
    assert_eq!(p["type"], "/problems/already-placed");

    let events = app.outbox().await;
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
}

on_both!(
    placing,
    the_councils_commissioner_places_the_child_once_on_sqlite,
    the_councils_commissioner_places_the_child_once_on_postgres
);

async fn who_sees_the_placement(url: &str) {
    let app = start(url).await;
    let placement = placed(&app).await;
    let placement_id = placement["id"].as_str().unwrap();
    for (org, role, status) in [
        (SEFTON, Role::Admin, 200),
        (PROVIDER, Role::Provider, 200),
        (WIRRAL, Role::Commissioner, 404),
        (SEFTON, Role::Provider, 404),
    ] {
        let user = app.user_as("user-1", org, role);
        let (s, _) = app.contracts().placement(&user, placement_id).await;
        assert_eq!(s, status, "{org} {role:?}");
    }
}

on_both!(
    who_sees_the_placement,
    the_council_and_the_provider_see_the_placement_on_sqlite,
    the_council_and_the_provider_see_the_placement_on_postgres
);

/// A placement starting on another day than the order says, under an award in another
/// partnership; an award whose council is not in the partnership named is dead-lettered,
/// not filed.
async fn other_days_and_partnerships(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    placed(&app).await;
    let a2 = award(SEFTON);
    app.publish_envelope(&Envelope::new("competition", "AIM", &a2))
        .await;
    let order2: OrderIssued = app.outbox().await[3].decode().unwrap();
    let provider = app.user_as("user-1", PROVIDER, Role::Provider);
    let (s, _) = contracts
        .sign(&provider, &order2.order_id.to_string())
        .await;
    assert_eq!(s, 200);
    let (s, p2) = contracts
        .place(
            &app.user_as("user-1", SEFTON, Role::Commissioner),
            &json!({ "order_id": order2.order_id, "start_date": "2027-01-04" }),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(
        (p2["start_date"].as_str(), p2["partnership"].as_str()),
        (Some("2027-01-04"), Some("AIM"))
    );

    app.publish_envelope(&Envelope::new("competition", "D2N2", &award(SEFTON)))
        .await;
    assert_eq!(
        app.outbox().await.len(),
        6,
        "no order for a council outside the partnership"
    );
    assert_eq!(dead_letter_consumers(&app).await, vec!["contract.awards"]);
}

on_both!(
    other_days_and_partnerships,
    a_placement_may_start_another_day_and_an_award_outside_its_partnership_is_refused_on_sqlite,
    a_placement_may_start_another_day_and_an_award_outside_its_partnership_is_refused_on_postgres
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
