//! Bad input gets the right status and an `application/problem+json` body naming the field
//! and the rule, and nothing is written: no referral row, no outbox event.

use std::time::Duration;

use diesel::{QueryableByName, RunQueryDsl, sql_types::BigInt};
use hub_acceptance::{Client, Reply, TestPlatform};
use hub_platform::{
    Role,
    directory::{HALTON, KNOWSLEY, SEFTON},
};
use serde_json::json;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(p: &TestPlatform, sql: &'static str) -> i64 {
    p.store("referral")
        .db
        .run(move |c| Ok(diesel::sql_query(sql).get_result::<Count>(c)?.n))
        .await
        .unwrap()
}

async fn nothing_written(p: &TestPlatform) {
    assert_eq!(
        count(p, "SELECT count(*) AS n FROM referrals").await,
        0,
        "no referral was written"
    );
    assert_eq!(
        count(p, "SELECT count(*) AS n FROM outbox").await,
        0,
        "no event was written"
    );
}

fn assert_problem(r: &Reply, status: u16, problem_type: &str) {
    assert_eq!(r.status, status, "{r:?}");
    assert!(
        r.content_type.starts_with("application/problem+json"),
        "{r:?}"
    );
    assert_eq!(r.body["type"], format!("/problems/{problem_type}"), "{r:?}");
    assert_eq!(r.body["status"], status, "{r:?}");
}

fn field_rule(r: &Reply) -> (String, String) {
    let e = &r.body["errors"][0];
    (
        e["field"].as_str().unwrap_or_default().to_owned(),
        e["rule"].as_str().unwrap_or_default().to_owned(),
    )
}

fn valid_body() -> serde_json::Value {
    json!({
        "partnership": "LCR-PPA",
        "framework_id": "0192a7e4-0000-7000-8000-000000000001",
        "lot_id": "0192a7e4-0000-7000-8000-000000000002",
        "route": "mini_competition",
        "route_reason": "planned move",
        "submit": true,
        "document": {
            "child": {"name": "A Child", "date_of_birth": "2012-05-14", "gender": "female"},
            "legal_status": "s20 accommodated",
            "placement_type": "foster_care",
            "urgency": "urgent",
            "needs": ["health"],
            "about_me": "Bright and funny.",
            "location": {"postcode_district": "L20", "latitude": 53.46, "longitude": -2.99, "max_distance_miles": 15.0},
            "wanted_start": "2026-12-01"
        }
    })
}

async fn bad_input(p: &TestPlatform) {
    let http = Client::default();
    let url = format!("{}/v1/referrals", p.urls.referral);
    let sefton = p.token(SEFTON, &[Role::Commissioner]);

    let r = http
        .post_raw(
            &url,
            Some(&sefton),
            "application/json",
            "{\"partnership\": ",
        )
        .await;
    assert_problem(&r, 400, "malformed-request");

    let r = http
        .post_raw(&url, Some(&sefton), "text/plain", "hello")
        .await;
    assert_problem(&r, 415, "unsupported-media-type");

    let mut missing = valid_body();
    missing["document"]["child"]
        .as_object_mut()
        .unwrap()
        .remove("date_of_birth");
    let r = http.post(&url, Some(&sefton), &missing).await;
    assert_problem(&r, 422, "validation");
    assert_eq!(
        field_rule(&r),
        ("/document/child/date_of_birth".into(), "required".into())
    );

    let mut unknown = valid_body();
    unknown["document"]["child"]["nickname"] = json!("Jo");
    let r = http.post(&url, Some(&sefton), &unknown).await;
    assert_problem(&r, 422, "validation");
    assert_eq!(
        field_rule(&r),
        ("/document/child/nickname".into(), "unknown_field".into())
    );

    let mut wrong_type = valid_body();
    wrong_type["document"]["location"]["max_distance_miles"] = json!("twenty");
    let r = http.post(&url, Some(&sefton), &wrong_type).await;
    assert_problem(&r, 422, "validation");
    assert_eq!(
        field_rule(&r),
        (
            "/document/location/max_distance_miles".into(),
            "type".into()
        )
    );

    let mut bad_code = valid_body();
    bad_code["document"]["needs"] = json!(["health", "naughty"]);
    let r = http.post(&url, Some(&sefton), &bad_code).await;
    assert_problem(&r, 422, "validation");
    assert_eq!(
        field_rule(&r),
        ("/document/needs/1".into(), "one_of".into())
    );

    let r = http.post(&url, None, &valid_body()).await;
    assert_problem(&r, 401, "unauthorized");

    let r = http
        .post(&url, Some(&expired_token(p)), &valid_body())
        .await;
    assert_problem(&r, 401, "unauthorized");
    assert_eq!(r.body["detail"], "the token has expired");

    let r = http.post(&url, Some("not-a-jwt"), &valid_body()).await;
    assert_problem(&r, 401, "unauthorized");

    // A provider may not write referrals.
    let provider = p.token("prov-care-assist", &[Role::Provider]);
    let r = http.post(&url, Some(&provider), &valid_body()).await;
    assert_problem(&r, 403, "forbidden");

    // A council outside the partnership may not refer into it.
    let mut aim = valid_body();
    aim["partnership"] = json!("D2N2");
    let r = http.post(&url, Some(&sefton), &aim).await;
    assert_problem(&r, 422, "validation");
    assert_eq!(field_rule(&r), ("/partnership".into(), "member".into()));

    nothing_written(p).await;

    // A token for another organisation: Knowsley cannot see Sefton's referral (404, not 403).
    let created = http.post(&url, Some(&sefton), &valid_body()).await;
    assert_eq!(created.status, 201, "{created:?}");
    let id = created.body["id"].as_str().unwrap();
    let knowsley = p.token(KNOWSLEY, &[Role::Commissioner]);
    let r = http.get(&format!("{url}/{id}"), Some(&knowsley)).await;
    assert_problem(&r, 404, "not-found");
    let halton = p.token(HALTON, &[Role::Commissioner]);
    let r = http.get(&format!("{url}/{id}/reads"), Some(&halton)).await;
    assert_problem(&r, 404, "not-found");
    let r = http
        .get(&format!("{}/v1/nowhere", p.urls.referral), Some(&sefton))
        .await;
    assert_problem(&r, 404, "not-found");
}

/// A token that expired an hour ago (well past the 30 s leeway).
fn expired_token(p: &TestPlatform) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    p.auth.sign(&hub_platform::auth::Claims {
        sub: "jo".into(),
        org: SEFTON.into(),
        roles: vec![Role::Commissioner],
        iss: "commissioning-hub".into(),
        aud: "commissioning-hub".into(),
        iat: now - Duration::from_secs(7200).as_secs(),
        exp: now - 3600,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_embedded() {
    let p = TestPlatform::embedded().await;
    bad_input(&p).await;
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_input_distributed() {
    let p = TestPlatform::distributed().await;
    bad_input(&p).await;
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_openapi_and_metrics_need_no_token() {
    let p = TestPlatform::embedded().await;
    let http = Client::default();
    let base = &p.urls.referral;
    assert_eq!(
        http.get(&format!("{base}/health/live"), None).await.status,
        200
    );
    let ready = http.get(&format!("{base}/health/ready"), None).await;
    assert_eq!(ready.status, 200, "{ready:?}");
    assert_eq!(ready.body["status"], "up");
    assert_eq!(ready.body["checks"]["outbox referral"], "up", "{ready:?}");
    let doc = http.get(&format!("{base}/openapi.json"), None).await;
    assert_eq!(doc.status, 200);
    for path in [
        "/v1/referrals",
        "/v1/frameworks",
        "/v1/competitions/{id}/bids",
        "/v1/webhooks",
        "/v1/ledger",
        "/v1/placements",
    ] {
        assert!(
            doc.body["paths"].get(path).is_some(),
            "{path} is in the OpenAPI document"
        );
    }
    assert!(doc.body["components"]["securitySchemes"]["bearer"].is_object());
    let metrics = http.get(&format!("{base}/metrics"), None).await;
    let text = metrics.body.as_str().unwrap_or_default();
    assert!(
        text.contains("http_requests_total") && text.contains("process_resident_memory_bytes"),
        "{text}"
    );
    for gauge in [
        "outbox_pending_events{service=\"referral\"}",
        "outbox_oldest_age_seconds{service=\"notifications\"}",
    ] {
        assert!(text.contains(gauge), "{gauge} in {text}");
    }
    p.stop().await;
}
