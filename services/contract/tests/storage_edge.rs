//! The contract service's storage edge: what it answers for a stored value its types cannot
//! read, and for a route id that cannot name a row. Runs on SQLite and on PostgreSQL.

use chrono::NaiveDate;
use hub_events::{CompetitionAwarded, Envelope};
use hub_platform::directory::SEFTON;
use hub_platform::{Role, db::Migrations};
use hub_testkit::{ServiceCtx, assert_problem, call, on_both};
use uuid::Uuid;

static SETS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &contract::MIGRATIONS];

/// An order issued on an award to Sefton in the LCR PPA; its id.
async fn issued_order(ctx: &ServiceCtx) -> String {
    let award = CompetitionAwarded {
        competition_id: Uuid::now_v7(),
        referral_id: Uuid::now_v7(),
        council: SEFTON.into(),
        framework_id: Uuid::now_v7(),
        lot_id: Uuid::now_v7(),
        provider_id: "prov-care-assist".into(),
        bid_id: Some(Uuid::now_v7()),
        weekly_rate_pence: 317_065,
        start_date: NaiveDate::from_ymd_opt(2026, 12, 15).unwrap(),
        unsuccessful: Vec::new(),
        awarded_by: "jo".into(),
        direct: false,
        outcomes: Vec::new(),
    };
    ctx.publish_envelope(&Envelope::new("competition", "LCR-PPA", &award))
        .await;
    let app = ctx.app().await;
    let token = ctx.token(SEFTON, Role::Commissioner);
    let (s, list) = call(&app, "GET", "/v1/orders", &token, None).await;
    assert_eq!(s, 200, "{list}");
    list[0]["id"].as_str().unwrap().to_owned()
}

async fn unreadable_status(url: &str) {
    let ctx = ServiceCtx::start(url, contract::NAME, &SETS, contract::start).await;
    let id = issued_order(&ctx).await;
    // Someone changed a code by hand: the status no longer reads as an order status. It is
    // an internal error (logged as an alert), never read as some other status.
    let sql = format!("UPDATE orders SET status = 'mislaid' WHERE id = '{id}'");
    ctx.store
        .db
        .run(move |c| Ok(diesel::RunQueryDsl::execute(diesel::sql_query(sql), c)?))
        .await
        .unwrap();
    let app = ctx.app().await;
    let token = ctx.token(SEFTON, Role::Commissioner);
    let got = call(&app, "GET", &format!("/v1/orders/{id}"), &token, None).await;
    assert_problem(&got, 500, "internal", None);
    let listed = call(&app, "GET", "/v1/orders", &token, None).await;
    assert_problem(&listed, 500, "internal", None);
}

async fn malformed_ids(url: &str) {
    let ctx = ServiceCtx::start(url, contract::NAME, &SETS, contract::start).await;
    let app = ctx.app().await;
    let token = ctx.token(SEFTON, Role::Commissioner);
    // A route id that is not a UUID names nothing stored: 404, as an id never stored.
    for (path, what) in [
        ("/v1/orders/not-an-id", "order"),
        ("/v1/placements/not-an-id", "placement"),
        ("/v1/placements/not-an-id/ipa", "placement"),
        ("/v1/contracts/blocks/not-an-id", "block contract"),
        ("/v1/contracts/services/not-an-id", "service contract"),
    ] {
        let got = call(&app, "GET", path, &token, None).await;
        assert_problem(&got, 404, "not-found", None);
        assert_eq!(got.1["detail"], format!("no such {what}"), "{path}");
    }
}

on_both!(
    unreadable_status,
    an_unreadable_stored_status_is_a_500_on_sqlite,
    an_unreadable_stored_status_is_a_500_on_postgres
);
on_both!(
    malformed_ids,
    a_malformed_route_id_is_404_on_sqlite,
    a_malformed_route_id_is_404_on_postgres
);
