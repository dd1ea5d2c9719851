//! The contract service's storage edge: what it answers for a stored value its types cannot
//! read, and for a route id that cannot name a row. Runs on SQLite and on PostgreSQL.

mod common;

use common::{award, d, start};
use hub_events::{CompetitionAwarded, Envelope};
use hub_platform::{Role, directory::SEFTON};
use hub_testkit::{TestApp, assert_problem, on_both};

/// An order issued on an award to Sefton in the LCR PPA; its id.
async fn issued_order(app: &TestApp) -> String {
    let award = CompetitionAwarded {
        weekly_rate_pence: 317_065,
        ..award(SEFTON, false, d(2026, 12, 15))
    };
    app.publish_envelope(&Envelope::new("competition", "LCR-PPA", &award))
        .await;
    let sefton = app.user(SEFTON, Role::Commissioner);
    let (s, list) = app.contracts().orders(&sefton, "").await;
    assert_eq!(s, 200, "{list}");
    list["items"][0]["id"].as_str().unwrap().to_owned()
}

async fn unreadable_status(url: &str) {
    let app = start(url).await;
    let id = issued_order(&app).await;
    // Someone changed a code by hand: the status no longer reads as an order status. It is
    // an internal error (logged as an alert), never read as some other status.
    app.sql(format!(
        "UPDATE orders SET status = 'mislaid' WHERE id = '{id}'"
    ))
    .await;
    let contracts = app.contracts();
    let sefton = app.user(SEFTON, Role::Commissioner);
    let got = contracts.order(&sefton, &id).await;
    assert_problem(&got, 500, "internal", None);
    let listed = contracts.orders(&sefton, "").await;
    assert_problem(&listed, 500, "internal", None);
}

async fn malformed_ids(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let sefton = app.user(SEFTON, Role::Commissioner);
    // A route id that is not a UUID names nothing stored: 404, as an id never stored.
    let id = "not-an-id";
    for (got, what) in [
        (contracts.order(&sefton, id).await, "order"),
        (contracts.placement(&sefton, id).await, "placement"),
        (contracts.ipa(&sefton, id).await, "placement"),
        (contracts.block(&sefton, id).await, "block contract"),
        (contracts.service(&sefton, id).await, "service contract"),
    ] {
        assert_problem(&got, 404, "not-found", None);
        assert_eq!(got.1["detail"], format!("no such {what}"), "{what}");
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
