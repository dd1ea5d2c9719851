//! Issue 11 item 7: every free-text field has a documented maximum length
//! (`hub_platform::http::MAX_TEXT_CHARS`), checked with 422 naming the field, and nothing is
//! written.

mod common;

use hub_platform::{Role, directory::SEFTON, http::MAX_TEXT_CHARS};
use hub_testkit::on_both;
use serde_json::json;
use uuid::Uuid;

async fn a_200000_character_about_me_is_refused(url: &str) {
    let app = common::start(url).await;
    let referrals = app.referrals();
    let sefton = app.user(SEFTON, Role::Commissioner);
    let body = |about_me: String| {
        json!({
            "partnership": "LCR-PPA",
            "framework_id": Uuid::now_v7(),
            "lot_id": Uuid::now_v7(),
            "route": "mini_competition",
            "route_reason": "planned move",
            "submit": false,
            "document": {
                "child": {"name": "Jordan Example-Child", "date_of_birth": "2012-05-14", "gender": "male"},
                "legal_status": "s31 care order",
                "placement_type": "residential",
                "urgency": "planned",
                "needs": ["emotional_behavioural"],
                "about_me": about_me,
                "location": {"postcode_district": "L20", "latitude": 53.46, "longitude": -2.99, "max_distance_miles": 20.0},
                "wanted_start": "2026-12-01"
            }
        })
    };
    let (status, problem) = referrals.create(&sefton, &body("a".repeat(200_000))).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        (
            &problem["errors"][0]["field"],
            &problem["errors"][0]["rule"]
        ),
        (&json!("/document/about_me"), &json!("max_length")),
        "{problem}"
    );
    let (_, list) = referrals.list(&sefton, "").await;
    assert_eq!(
        list,
        json!({"items": [], "next": null}),
        "nothing written: {list}"
    );
    // At the ceiling the text is taken.
    let (status, created) = referrals
        .create(&sefton, &body("a".repeat(MAX_TEXT_CHARS)))
        .await;
    assert_eq!(status, 201, "{created}");
}

on_both!(
    a_200000_character_about_me_is_refused,
    a_200000_character_about_me_is_refused_on_sqlite,
    a_200000_character_about_me_is_refused_on_postgres
);
