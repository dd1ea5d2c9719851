//! `/metrics` shows the platform's health, and its series move with real work: an event
//! handled by a service's consumer, a failing consumer retried then dead-lettered, a webhook
//! delivered and one refused by its receiver (whose endpoint is then disabled), HTTP requests
//! by route, the database pools, the outbox and the build. Embedded (SQLite, in-process bus)
//! and distributed (PostgreSQL, RabbitMQ; each service a platform with a registry of its own).

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use hub_acceptance::{Client, TestPlatform};
use hub_bus::{Handler, HandlerError, Subscription};
use hub_events::{CompetitionOpened, Envelope, Urgency};
use hub_platform::Role;
use hub_testkit::Receiver;
use serde_json::json;
use uuid::Uuid;

/// The value of the series `name{labels…}` (every label given must match; others may be
/// there too) in Prometheus text.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (series, v) = line.rsplit_once(' ')?;
            let (n, rest) = series.split_once('{').unwrap_or((series, "}"));
            let pairs = rest.strip_suffix('}')?;
            let has =
                |(k, want): &(&str, &str)| pairs.split(',').any(|p| p == format!("{k}=\"{want}\""));
            (n == name && labels.iter().all(has)).then(|| v.parse().ok())?
        })
}

async fn scrape(http: &Client, base: &str) -> String {
    let r = http.get(&format!("{base}/metrics"), None).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body.as_str().unwrap_or_default().to_owned()
}

/// Scrapes until `done` holds (up to 15 s); returns that scrape.
async fn scrape_until(
    http: &Client,
    base: &str,
    what: &str,
    done: impl Fn(&str) -> bool,
) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let text = scrape(http, base).await;
        if done(&text) {
            return text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what} in:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A consumer that always fails: retried, then dead-lettered.
struct Failing;

#[async_trait::async_trait]
impl Handler for Failing {
    async fn handle(&self, _envelope: Envelope) -> Result<(), HandlerError> {
        Err(HandlerError::Failed("refused by the test".into()))
    }
    async fn dead_letter(&self, _envelope: Envelope, _error: String, _attempts: u32) {}
}

const GOOD: &str = "prov-metrics-good";
const BAD: &str = "prov-metrics-bad";
const OPENED: &str = "competition.opened";
const INVITED: &str = "competition.invited";

/// Registers `provider`'s endpoint at `url` for `competition.invited`; returns its id.
async fn register(p: &TestPlatform, http: &Client, provider: &str, url: &str) -> String {
    let r = http
        .post(
            &format!("{}/v1/webhooks", p.urls.notifications),
            Some(&p.token(provider, &[Role::Provider])),
            &json!({"url": url, "event_types": [INVITED]}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    r.body["id"].as_str().expect("an id").to_owned()
}

/// The competition service opens a competition inviting both providers (through its outbox,
/// as its own handlers would).
async fn open_competition(p: &TestPlatform) {
    let referral_id = Uuid::now_v7();
    let event = CompetitionOpened {
        competition_id: Uuid::now_v7(),
        referral_id,
        referral_version: 1,
        council: "E08000014".into(),
        framework_id: Uuid::now_v7(),
        lot_id: Uuid::now_v7(),
        lot_name: "Residential".into(),
        urgency: Urgency::Urgent,
        deadline: Utc::now() + chrono::Duration::days(2),
        invited: vec![GOOD.into(), BAD.into()],
        summary: "residential, 11-15".into(),
        referral_path: format!("/v1/referrals/{referral_id}"),
    };
    p.store("competition")
        .write(move |_, events| {
            events.emit("LCR-PPA", &event);
            Ok(())
        })
        .await
        .expect("the event is written");
}

/// The scenario, on a platform started with `webhooks.give_up_after_hours = 0` (a failed
/// attempt fails its delivery and disables its endpoint at once).
async fn metrics_move_with_real_work(p: &TestPlatform) {
    let http = Client::default();
    let notifications = &p.urls.notifications;
    let rx = Receiver::start(|path, _| match path {
        "/bad" => (500, Duration::ZERO),
        _ => (204, Duration::ZERO),
    })
    .await;
    let _good = register(p, &http, GOOD, &rx.url("good")).await;
    let bad = register(p, &http, BAD, &rx.url("bad")).await;
    // A consumer of the notifications service's process that always fails.
    let failing = Subscription::new("notifications", "metrics-test", &[OPENED]);
    let platform = p
        .platforms
        .iter()
        .find(|x| x.store("notifications").is_some())
        .expect("notifications runs");
    platform
        .transport
        .subscribe(failing, Arc::new(Failing))
        .await
        .expect("subscribed");

    // Before: the build, the pools, the outbox, the two registrations, and no consumer or
    // webhook counted yet. (A request is counted once its body has gone out.)
    let created = [
        ("method", "POST"),
        ("route", "/v1/webhooks"),
        ("status", "201"),
    ];
    let before = scrape_until(&http, notifications, "the registrations", |t| {
        value(t, "http_requests_total", &created) == Some(2.0)
    })
    .await;
    let build = [
        ("service", "notifications"),
        ("version", hub::VERSION),
        ("commit", hub::GIT_COMMIT),
    ];
    assert_eq!(
        value(&before, "hub_build_info", &build),
        Some(1.0),
        "{before}"
    );
    assert_ne!(hub::GIT_COMMIT, "", "a commit or `unknown`");
    let pool = [("service", "notifications")];
    let max = value(&before, "db_client_connection_max", &pool).expect("the pool's maximum");
    let used = [("service", "notifications"), ("state", "used")];
    let idle = [("service", "notifications"), ("state", "idle")];
    let (u, i) = (
        value(&before, "db_client_connection_count", &used).expect("used"),
        value(&before, "db_client_connection_count", &idle).expect("idle"),
    );
    assert!(
        max >= 1.0 && u >= 0.0 && i >= 0.0 && u + i >= 1.0 && u + i <= max,
        "{before}"
    );
    let waits = value(
        &before,
        "db_client_connection_wait_time_seconds_count",
        &pool,
    );
    assert!(
        waits.is_some_and(|n| n > 0.0),
        "check-outs were timed: {before}"
    );
    assert_eq!(
        value(&before, "db_client_connection_timeouts_total", &pool),
        Some(0.0)
    );
    assert!(
        value(&before, "outbox_pending_events", &pool).is_some(),
        "{before}"
    );
    let handled = [
        ("service", "notifications"),
        ("subscription", "provider-events"),
        ("event_type", OPENED),
    ];
    assert_eq!(value(&before, "bus_events_handled_total", &handled), None);
    let latency = [
        ("method", "POST"),
        ("route", "/v1/webhooks"),
        ("status", "201"),
    ];
    assert_eq!(
        value(&before, "http_request_duration_seconds_count", &latency),
        Some(2.0)
    );

    open_competition(p).await;
    rx.wait("good", INVITED, 1).await;
    rx.wait("bad", INVITED, 1).await;

    let test_sub = [
        ("service", "notifications"),
        ("subscription", "metrics-test"),
        ("event_type", OPENED),
    ];
    let after = scrape_until(&http, notifications, "the counters to move", |t| {
        value(t, "bus_events_dead_lettered_total", &test_sub) == Some(1.0)
            && value(t, "webhook_endpoints_disabled_total", &[]) == Some(1.0)
    })
    .await;
    // The real consumer handled the event once; the failing one was retried after each of
    // the two delays (bus.retry_delays_ms = 50,200), then dead-lettered.
    assert_eq!(
        value(&after, "bus_events_handled_total", &handled),
        Some(1.0),
        "{after}"
    );
    assert_eq!(
        value(&after, "bus_events_retried_total", &test_sub),
        Some(2.0),
        "{after}"
    );
    assert_eq!(
        value(&after, "bus_events_handled_total", &test_sub),
        None,
        "{after}"
    );
    // One webhook delivered, one answered 500: that delivery failed and its endpoint is off.
    let attempts = |outcome| [("event_type", INVITED), ("outcome", outcome)];
    assert_eq!(
        value(&after, "webhook_attempts_total", &attempts("delivered")),
        Some(1.0)
    );
    assert_eq!(
        value(&after, "webhook_attempts_total", &attempts("http_error")),
        Some(1.0)
    );
    assert_eq!(
        value(&after, "webhook_deliveries_total", &attempts("delivered")),
        Some(1.0)
    );
    assert_eq!(
        value(&after, "webhook_deliveries_total", &attempts("failed")),
        Some(1.0)
    );
    for outcome in ["delivered", "http_error"] {
        let latency = [("outcome", outcome)];
        assert_eq!(
            value(&after, "webhook_attempt_duration_seconds_count", &latency),
            Some(1.0),
            "{after}"
        );
    }
    let endpoint = http
        .get(
            &format!("{notifications}/v1/webhooks/{bad}"),
            Some(&p.token(BAD, &[Role::Provider])),
        )
        .await;
    assert_eq!(endpoint.body["enabled"], false, "{endpoint:?}");
    // No ids in any label: neither the endpoint's nor the delivery's.
    assert!(!after.contains(&bad), "{after}");

    // A path no route matches is counted under one label, not under its own path.
    let stray = format!("{notifications}/nowhere/{}", Uuid::now_v7());
    assert_eq!(http.get(&stray, None).await.status, 404);
    let unmatched = [("route", "unmatched"), ("status", "404")];
    let after = scrape_until(&http, notifications, "the stray request", |t| {
        value(t, "http_requests_total", &unmatched).is_some()
    })
    .await;
    assert!(!after.contains("/nowhere/"), "{after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_move_with_real_work_embedded() {
    let p = TestPlatform::embedded_with(&[("webhooks.give_up_after_hours", "0")]).await;
    metrics_move_with_real_work(&p).await;
    // One process, one registry: every service's pool and build on the one /metrics.
    let text = scrape(&Client::default(), &p.urls.referral).await;
    for service in hub::SERVICES {
        let labels = [("service", *service)];
        assert_eq!(value(&text, "hub_build_info", &labels), Some(1.0), "{text}");
        assert!(
            value(&text, "db_client_connection_max", &labels).is_some(),
            "{text}"
        );
    }
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_move_with_real_work_distributed() {
    let p = TestPlatform::distributed_with(&[("webhooks.give_up_after_hours", "0")]).await;
    metrics_move_with_real_work(&p).await;
    // Five platforms in this process, each with a registry of its own: the referral service's
    // /metrics shows its own pool and build, nothing of the notifications service's.
    let text = scrape(&Client::default(), &p.urls.referral).await;
    let referral = [("service", "referral")];
    let notifications = [("service", "notifications")];
    assert_eq!(
        value(&text, "hub_build_info", &referral),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(&text, "db_client_connection_max", &referral),
        Some(4.0)
    );
    assert_eq!(
        value(&text, "hub_build_info", &notifications),
        None,
        "{text}"
    );
    assert!(!text.contains("webhook_attempts_total{"), "{text}");
    assert!(!text.contains("subscription=\"metrics-test\""), "{text}");
    p.stop().await;
}
