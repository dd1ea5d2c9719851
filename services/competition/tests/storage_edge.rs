//! The storage edge of the competition service: a stored code or id no type reads is a 500
//! (an alert in the log), never read as some other value. On SQLite and PostgreSQL.

mod common;

use common::{framework_body, halton, set_up_framework, start};
use hub_testkit::on_both;

async fn unreadable_codes_are_500(url: &str) {
    let app = start(url).await;
    let body = framework_body(
        "LCR Provider Partner Agreement",
        "provider_partner_agreement",
    );
    let (id, _) = set_up_framework(&app, &body).await;
    let (frameworks, halton) = (app.frameworks(), halton(&app));
    let (s, _) = frameworks.get(&halton, &id).await;
    assert_eq!(s, 200);

    // A kind no code names (changed by hand, or by a release that added one) is not taken
    // for another kind: the read fails.
    app.sql("UPDATE frameworks SET kind = 'framework_of_old'")
        .await;
    let (s, body) = frameworks.get(&halton, &id).await;
    assert_eq!(s, 500, "{body}");
    assert_eq!(body["status"], 500, "{body}");

    // Likewise a broken id.
    app.sql("UPDATE frameworks SET kind = 'provider_partner_agreement'")
        .await;
    app.sql("UPDATE admission_rounds SET id = 'not-a-uuid'")
        .await;
    let (s, body) = frameworks.get(&halton, &id).await;
    assert_eq!(s, 500, "{body}");
}

on_both!(
    unreadable_codes_are_500,
    unreadable_codes_are_500_on_sqlite,
    unreadable_codes_are_500_on_postgres
);
