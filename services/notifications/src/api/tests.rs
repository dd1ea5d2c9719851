use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use actix_web::test::TestRequest;
use hub_bus::Store;
use hub_platform::{Role, Settings};
use hub_testkit::{ServiceCtx, call_request};
use serde_json::{Value, json};
use utoipa::OpenApi;
use uuid::Uuid;

use super::NotificationsApi;
use crate::{
    domain::{self, INVITED},
    ids::EventId,
    store,
    test_support::*,
};

fn post(path: &str, body: Option<Value>) -> TestRequest {
    let req = TestRequest::post().uri(path);
    match body {
        Some(b) => req.set_json(b),
        None => req,
    }
}

fn get(path: &str) -> TestRequest {
    TestRequest::get().uri(path)
}

/// `POST /v1/webhooks/{id}/{action}` (`rotate-secret`, `disable`, `enable`) with the
/// endpoint's `ETag` as `token` reads it now, in `If-Match`, as a client does it. (A macro:
/// the test app's type is not nameable here.)
macro_rules! act {
    ($app:expr, $id:expr, $action:expr, $token:expr) => {{
        let req = get(&format!("/v1/webhooks/{}", $id))
            .insert_header(("authorization", format!("Bearer {}", $token)))
            .to_request();
        let res = actix_web::test::call_service($app, req).await;
        let tag = res
            .headers()
            .get("etag")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        post(&format!("/v1/webhooks/{}/{}", $id, $action), None).insert_header(("if-match", tag))
    }};
}

/// The service on `store`, the bus retrying as configured.
async fn mount(store: Store, settings: Settings) -> ServiceCtx {
    ServiceCtx::builder(crate::NAME)
        .settings(settings)
        .bus_retries(true)
        .start_on(store, crate::start)
        .await
}

async fn endpoints_are_the_owners_alone(store: Store) {
    let ctx = mount(store, settings(&[])).await;
    let app = ctx.app().await;
    let (a, b) = (
        ctx.token("prov-a", Role::Provider),
        ctx.token("prov-b", Role::Provider),
    );
    let body = json!({"url": "https://a.example/hooks", "event_types": ["competition.invited", "competition.awarded"],
        "description": "bids team"});

    let (status, created) = call_request(&app, post("/v1/webhooks", Some(body.clone())), &a).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("whsec_") && domain::secret_key(&secret).len() == 24,
        "{secret}"
    );
    assert_eq!(
        (
            created["enabled"].as_bool(),
            created["event_types"].as_array().map(Vec::len)
        ),
        (Some(true), Some(2))
    );

    // Bad input names the field and the rule.
    let bad = json!({"url": "ftp://a.example", "event_types": ["competition.invited", "referral.submitted"]});
    let (status, p) = call_request(&app, post("/v1/webhooks", Some(bad)), &a).await;
    assert_eq!(status, 422);
    let rules: Vec<(String, String)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rules,
        [
            ("/url".into(), "scheme".into()),
            ("/event_types/1".into(), "one_of".into())
        ]
    );
    let (status, p) = call_request(&app, post("/v1/webhooks", Some(json!({"url": "https://x.example", "event_types": ["competition.invited"], "secret": "mine"}))), &a).await;
    assert_eq!(
        (status, p["errors"][0]["rule"].as_str()),
        (422, Some("unknown_field"))
    );
    let (status, _) = call_request(
        &app,
        post("/v1/webhooks", Some(body.clone())),
        &ctx.token("E08000014", Role::SocialWorker),
    )
    .await;
    assert_eq!(status, 403);

    // The list is the caller's own, without secrets.
    let (status, list) = call_request(&app, get("/v1/webhooks"), &a).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], id.as_str());
    assert!(list["items"][0].get("secret").is_none());
    assert_eq!(
        call_request(&app, get("/v1/webhooks"), &b).await.1,
        json!({"items": [], "next": null})
    );

    // Another organisation's ids are 404 everywhere.
    for req in [
        post(&format!("/v1/webhooks/{id}/rotate-secret"), None),
        post(&format!("/v1/webhooks/{id}/disable"), None),
        post(&format!("/v1/webhooks/{id}/enable"), None),
        get(&format!("/v1/webhooks/{id}/deliveries")),
    ] {
        assert_eq!(call_request(&app, req, &b).await.0, 404);
    }

    let (status, rotated) = call_request(&app, act!(&app, &id, "rotate-secret", &a), &a).await;
    assert_eq!(status, 200);
    assert_ne!(rotated["secret"].as_str().unwrap(), secret);
    assert!(rotated["previous_secret_valid_until"].is_string());

    let (status, off) = call_request(&app, act!(&app, &id, "disable", &a), &a).await;
    assert_eq!((status, off["enabled"].as_bool()), (200, Some(false)));
    assert_eq!(
        off["disabled_reason"],
        "disabled by its owner (user-of-prov-a)"
    );
    let (status, on) = call_request(&app, act!(&app, &id, "enable", &a), &a).await;
    assert_eq!(
        (status, on["enabled"].as_bool(), &on["disabled_reason"]),
        (200, Some(true), &Value::Null)
    );

    assert_eq!(
        call_request(&app, get(&format!("/v1/webhooks/{id}/deliveries")), &a).await,
        (200, json!({"items": [], "next": null}))
    );
    assert_eq!(
        call_request(
            &app,
            get(&format!("/v1/webhooks/{id}/deliveries?limit=0")),
            &a
        )
        .await
        .0,
        422
    );
    assert_eq!(
        call_request(
            &app,
            get(&format!("/v1/webhooks/{id}/deliveries?status=lost")),
            &a
        )
        .await
        .0,
        422
    );
    assert_eq!(
        call_request(
            &app,
            post(
                &format!("/v1/webhooks/deliveries/{}/redeliver", Uuid::now_v7()),
                None
            ),
            &a
        )
        .await
        .0,
        404
    );
}

#[test]
fn sqlite_endpoints_are_the_owners_alone() {
    run(Backend::Sqlite, endpoints_are_the_owners_alone);
}

/// An endpoint that keeps failing past `give_up_after_hours` (0 here) is disabled with a
/// reason its owner sees; once fixed and enabled, the failed delivery is redelivered with
/// the same webhook-id.
async fn failing_endpoints_are_disabled_and_can_be_redelivered(store: Store) {
    let up = Arc::new(AtomicBool::new(false));
    let u = up.clone();
    let rx = Receiver::start(move |_, _| {
        (
            if u.load(Ordering::SeqCst) { 200 } else { 503 },
            Duration::ZERO,
        )
    })
    .await;
    let ctx = mount(store, settings(&[("webhooks.give_up_after_hours", "0")])).await;
    let app = ctx.app().await;
    let a = ctx.token("prov-a", Role::Provider);
    let body = json!({"url": format!("{}/hook", rx.base), "event_types": ["competition.invited"]});
    let (_, created) = call_request(&app, post("/v1/webhooks", Some(body)), &a).await;
    let id = created["id"].as_str().unwrap().to_owned();

    ctx.publish("competition", &opened(&["prov-a"])).await;
    let list = eventually("the endpoint disabled", Duration::from_secs(5), || async {
        let (_, list) = call_request(&app, get("/v1/webhooks"), &a).await;
        (list["items"][0]["enabled"] == false).then_some(list)
    })
    .await;
    let reason = list["items"][0]["disabled_reason"].as_str().unwrap();
    assert!(
        reason.starts_with("disabled automatically") && reason.contains("HTTP 503"),
        "{reason}"
    );
    let (_, log) = call_request(&app, get(&format!("/v1/webhooks/{id}/deliveries")), &a).await;
    let log = &log["items"];
    assert_eq!(log[0]["status"], "failed");
    assert_eq!(log[0]["attempt_log"][0]["status_code"], 503);
    assert!(log[0]["attempt_log"][0]["latency_ms"].is_i64());
    assert_eq!(log[0]["payload"]["type"], "competition.invited");
    let delivery = log[0]["id"].as_str().unwrap().to_owned();

    // While disabled: no new deliveries, and no redelivery.
    ctx.publish("competition", &opened(&["prov-a"])).await;
    assert_eq!(
        call_request(&app, get(&format!("/v1/webhooks/{id}/deliveries")), &a)
            .await
            .1["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let redeliver = format!("/v1/webhooks/deliveries/{delivery}/redeliver");
    assert_eq!(call_request(&app, post(&redeliver, None), &a).await.0, 409);
    assert_eq!(
        call_request(
            &app,
            post(&redeliver, None),
            &ctx.token("prov-b", Role::Provider)
        )
        .await
        .0,
        404
    );

    up.store(true, Ordering::SeqCst);
    assert_eq!(
        call_request(&app, act!(&app, &id, "enable", &a), &a)
            .await
            .0,
        200
    );
    let (status, d) = call_request(&app, post(&redeliver, None), &a).await;
    assert_eq!((status, d["status"].as_str()), (202, Some("pending")));
    let log = eventually("the redelivery", Duration::from_secs(5), || async {
        let (_, log) = call_request(
            &app,
            get(&format!("/v1/webhooks/{id}/deliveries?status=delivered")),
            &a,
        )
        .await;
        (log["items"].as_array().is_some_and(|l| l.len() == 1)).then_some(log)
    })
    .await;
    let codes: Vec<&Value> = log["items"][0]["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["status_code"])
        .collect();
    assert_eq!(codes, [&json!(503), &json!(200)]);
    let got = rx.requests("/hook");
    assert_eq!(got.len(), 2);
    assert!(
        got.iter().all(|r| r.headers["webhook-id"] == delivery),
        "the same webhook-id on redelivery"
    );
}

#[test]
fn sqlite_failing_endpoints_are_disabled_and_can_be_redelivered() {
    run(
        Backend::Sqlite,
        failing_endpoints_are_disabled_and_can_be_redelivered,
    );
}

#[test]
fn postgres_failing_endpoints_are_disabled_and_can_be_redelivered() {
    run(
        Backend::Postgres,
        failing_endpoints_are_disabled_and_can_be_redelivered,
    );
}

/// A stored value no code reads (a delivery's status changed by hand) is a 500 and an
/// alert, never read as some default status.
async fn an_unreadable_delivery_is_a_500(store: Store) {
    let e = endpoint(&store, "prov-a", "https://a.example/h", &[INVITED], true).await;
    let id = e.id;
    store
        .db
        .run(move |c| {
            use diesel::RunQueryDsl;
            store::insert_delivery(c, &id, &EventId::new(), INVITED, "{}".into())?;
            diesel::sql_query("UPDATE webhook_deliveries SET status = 'lost'").execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let ctx = mount(store, settings(&[])).await;
    let app = ctx.app().await;
    let a = ctx.token("prov-a", Role::Provider);
    let (status, problem) =
        call_request(&app, get(&format!("/v1/webhooks/{id}/deliveries")), &a).await;
    assert_eq!(status, 500, "{problem}");
    assert!(!problem.to_string().contains("lost"), "{problem}");
}

#[test]
fn sqlite_an_unreadable_delivery_is_a_500() {
    run(Backend::Sqlite, an_unreadable_delivery_is_a_500);
}

#[test]
fn postgres_an_unreadable_delivery_is_a_500() {
    run(Backend::Postgres, an_unreadable_delivery_is_a_500);
}

#[test]
fn the_openapi_document_lists_every_route() {
    let doc = NotificationsApi::openapi();
    let paths: Vec<&String> = doc.paths.paths.keys().collect();
    assert_eq!(paths.len(), 7, "{paths:?}");
}

/// Every operation has an operationId of its own that reads as verb and resource (issue 13),
/// and the webhook views are named as this service's own.
#[test]
fn every_operation_has_its_own_operation_id() {
    let doc = serde_json::to_value(NotificationsApi::openapi()).unwrap();
    let mut ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        [
            "createWebhook",
            "disableWebhook",
            "enableWebhook",
            "getWebhook",
            "listWebhookDeliveries",
            "listWebhooks",
            "redeliverWebhookDelivery",
            "rotateWebhookSecret",
            "updateWebhook",
        ]
    );
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "WebhookDelivery",
        "WebhookAttempt",
        "InvitedHook",
        "ClosedHook",
    ] {
        assert!(schemas.contains_key(name), "{name}");
    }
    for generic in [
        "DeliveryView",
        "AttemptView",
        "Invited",
        "Closed",
        "Awarded",
    ] {
        assert!(!schemas.contains_key(generic), "{generic}");
    }
}
