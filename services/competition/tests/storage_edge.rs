//! The storage edge of the competition service: a stored code or id no type reads is a 500
//! (an alert in the log), never read as some other value. On SQLite and PostgreSQL.

use hub_platform::{Role, db::Migrations, directory::HALTON};
use hub_testkit::{ServiceCtx, call, on_both};
use serde_json::json;

static SETS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &competition::MIGRATIONS];

async fn unreadable_codes_are_500(url: &str) {
    let ctx = ServiceCtx::start(url, competition::NAME, &SETS, competition::start).await;
    let app = ctx.app().await;
    let halton = ctx.token(HALTON, Role::Commissioner);
    let (s, fw) = call(
        &app,
        "POST",
        "/v1/frameworks",
        &halton,
        Some(json!({
            "partnership": "LCR-PPA", "name": "LCR Provider Partner Agreement",
            "kind": "provider_partner_agreement", "start_date": "2020-10-19", "end_date": "2030-10-18",
            "lots": [{"name": "Residential", "placement_type": "residential"}]
        })),
    )
    .await;
    assert_eq!(s, 201, "{fw}");
    let path = format!("/v1/frameworks/{}", fw["id"].as_str().unwrap());
    let (s, _) = call(&app, "GET", &path, &halton, None).await;
    assert_eq!(s, 200);

    // A kind no code names (changed by hand, or by a release that added one) is not taken
    // for another kind: the read fails.
    ctx.sql("UPDATE frameworks SET kind = 'framework_of_old'")
        .await;
    let (s, body) = call(&app, "GET", &path, &halton, None).await;
    assert_eq!(s, 500, "{body}");
    assert_eq!(body["status"], 500, "{body}");

    // Likewise a broken id.
    ctx.sql("UPDATE frameworks SET kind = 'provider_partner_agreement'")
        .await;
    ctx.sql("UPDATE admission_rounds SET id = 'not-a-uuid'")
        .await;
    let (s, body) = call(&app, "GET", &path, &halton, None).await;
    assert_eq!(s, 500, "{body}");
}

on_both!(
    unreadable_codes_are_500,
    unreadable_codes_are_500_on_sqlite,
    unreadable_codes_are_500_on_postgres
);
