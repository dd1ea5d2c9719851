//! How webhooks are delivered: slow and dead endpoints hold up nobody, a redelivery asked for
//! during an attempt is kept, every attempt joins the event's trace, and webhooks go to
//! public https addresses only.

#[macro_use]
mod common;

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use common::{Hook, Signed, init_telemetry, opened, register, run, run_strict};
use hub_events::Envelope;
use hub_platform::Role;
use hub_testkit::{PARTNERSHIP, Receiver, TestApp, User, eventually};
use serde_json::{Value, json};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------
// A receiver that hangs past the timeout and one that refuses connections, each with a
// backlog of deliveries, hold up none of the others.

const FAST: [&str; 3] = ["prov-f1", "prov-f2", "prov-f3"];

/// A slow endpoint (answering after 10 s, past the 2 s timeout), a dead one (a port nothing
/// listens on) and three fast ones, each invited to ten competitions, the slow and dead
/// first in every event; every fast one has got its ten. Answers when the events began
/// and the dead endpoint.
async fn slow_and_dead_backlogs(app: &TestApp, rx: &Receiver) -> (Instant, Hook) {
    rx.set(|path, _| {
        if path == "/prov-slow" {
            (204, Duration::from_secs(10))
        } else {
            (204, Duration::ZERO)
        }
    });
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/prov-dead", l.local_addr().unwrap())
    };
    let mut hooks = HashMap::new();
    for (p, url) in [("prov-slow", rx.url("prov-slow")), ("prov-dead", dead)]
        .into_iter()
        .chain(FAST.iter().map(|p| (*p, rx.url(p))))
    {
        let body = json!({"url": url, "event_types": ["competition.invited"]});
        hooks.insert(p, register(app, &app.user(p, Role::Provider), &body).await);
    }
    // Each event queues one delivery per endpoint: ten deep backlogs for both.
    let t0 = Instant::now();
    for _ in 0..10 {
        app.publish(
            "competition",
            &opened(
                Uuid::now_v7(),
                Uuid::now_v7(),
                1,
                &["prov-slow", "prov-dead", "prov-f1", "prov-f2", "prov-f3"],
            ),
        )
        .await;
    }
    for p in FAST {
        rx.wait(p, "competition.invited", 10).await;
    }
    (t0, hooks.remove("prov-dead").unwrap())
}

/// Every fast provider gets all its webhooks well within one timeout; meanwhile the slow one
/// holds at most its share of the sending slots (a quarter of 8).
async fn slow_or_dead_endpoints_hold_up_nobody(app: TestApp, rx: Receiver) {
    let (t0, _) = slow_and_dead_backlogs(&app, &rx).await;
    for p in FAST {
        let got = rx.wait(p, "competition.invited", 10).await;
        let last = got.iter().map(|r| r.at - t0).max().unwrap();
        eprintln!("{p}: 10 webhooks within {last:?}");
        assert!(
            last < Duration::from_millis(1500),
            "{p} waited {last:?}: held up behind the slow (2 s timeout) or dead endpoint"
        );
    }
    let slow = rx.of("prov-slow", "competition.invited");
    assert!(
        (1..=2).contains(&slow.len()),
        "{} in flight to the slow receiver",
        slow.len()
    );
}

on_both_isolated!(
    run,
    slow_or_dead_endpoints_hold_up_nobody,
    slow_or_dead_endpoints_hold_up_nobody_on_sqlite,
    slow_or_dead_endpoints_hold_up_nobody_on_postgres
);

/// The dead endpoint's attempts are logged as connection errors and retried.
async fn a_dead_endpoints_attempts_are_logged_as_errors(app: TestApp, rx: Receiver) {
    let (_, dead) = slow_and_dead_backlogs(&app, &rx).await;
    let (_, log) = app
        .notifications()
        .deliveries(&dead.owner, &dead.id, "")
        .await;
    let attempted: Vec<&Value> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["attempts"].as_i64() > Some(0))
        .collect();
    assert!(!attempted.is_empty(), "{log}");
    assert!(
        attempted
            .iter()
            .all(|d| d["status"] == "pending" && d["last_status_code"].is_null())
    );
    assert!(
        attempted[0]["attempt_log"][0]["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{}",
        attempted[0]
    );
}

on_both_isolated!(
    run,
    a_dead_endpoints_attempts_are_logged_as_errors,
    a_dead_endpoints_attempts_are_logged_as_errors_on_sqlite,
    a_dead_endpoints_attempts_are_logged_as_errors_on_postgres
);

/// A redelivery asked for while the delivery's attempt is still in flight is not lost: the
/// attempt's outcome is recorded, but the delivery is sent again.
async fn a_redelivery_during_an_attempt_is_kept(app: TestApp, rx: Receiver) {
    let owner = app.user("prov-slow", Role::Provider);
    let body = json!({"url": rx.url("prov-slow"), "event_types": ["competition.invited"]});
    let hook = register(&app, &owner, &body).await;
    // The first attempt is answered (204) only after a second.
    rx.set(|_, nth| {
        if nth == 0 {
            (204, Duration::from_secs(1))
        } else {
            (204, Duration::ZERO)
        }
    });
    app.publish(
        "competition",
        &opened(Uuid::now_v7(), Uuid::now_v7(), 1, &["prov-slow"]),
    )
    .await;
    let first = rx.wait("prov-slow", "competition.invited", 1).await;
    // While the provider has not answered yet, it asks for the webhook again.
    let (s, r) = app
        .notifications()
        .redeliver(&owner, &first[0].headers["webhook-id"])
        .await;
    assert_eq!(s, 202, "{r}");
    let got = rx.wait("prov-slow", "competition.invited", 2).await;
    assert_eq!(got[0].headers["webhook-id"], got[1].headers["webhook-id"]);
    // Both attempts are in the delivery's log, and it ends delivered.
    eventually(
        "both attempts recorded, the delivery delivered",
        Duration::from_secs(5),
        || async {
            let (_, log) = app.notifications().deliveries(&owner, &hook.id, "").await;
            let numbers: Vec<i64> = log["items"][0]["attempt_log"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a["attempt"].as_i64())
                .collect();
            (log["items"][0]["status"] == "delivered" && numbers == [1, 2]).then_some(())
        },
    )
    .await;
}

on_both_isolated!(
    run,
    a_redelivery_during_an_attempt_is_kept,
    a_redelivery_during_an_attempt_is_kept_on_sqlite,
    a_redelivery_during_an_attempt_is_kept_on_postgres
);

// ---------------------------------------------------------------------------------------
// A webhook joins the trace of the event it was made for: the envelope's trace context is
// kept with the delivery, and every attempt (a retry, a redelivery) sends a `traceparent`
// with the event's trace id and a span id of its own; the event's `tracestate` (callers'
// vendor data) is not passed to providers. A webhook for an event without trace context
// carries none.

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const EVENT_SPAN: &str = "00f067aa0ba902b7";

/// The (trace id, span id, flags) of a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`,
/// lower case); panics if it is anything else.
fn w3c(traceparent: &str) -> (String, String, String) {
    let parts: Vec<&str> = traceparent.split('-').collect();
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    };
    assert!(
        parts.len() == 4
            && parts[0] == "00"
            && hex(parts[1], 32)
            && hex(parts[2], 16)
            && hex(parts[3], 2),
        "not a W3C traceparent: {traceparent:?}"
    );
    (
        parts[1].to_owned(),
        parts[2].to_owned(),
        parts[3].to_owned(),
    )
}

/// Endpoints of a traced and an untraced provider; an event with trace context (and a
/// `tracestate`) invites the traced one, whose first attempt fails (500) and is retried.
/// Answers the endpoints and the two attempts received.
async fn a_traced_event_retried(
    app: &TestApp,
    rx: &Receiver,
) -> (HashMap<&'static str, Hook>, Vec<hub_testkit::Received>) {
    init_telemetry();
    let mut hooks = HashMap::new();
    for p in ["prov-traced", "prov-untraced"] {
        let body = json!({"url": rx.url(p), "event_types": ["competition.invited"]});
        hooks.insert(p, register(app, &app.user(p, Role::Provider), &body).await);
    }
    rx.set(|path, nth| {
        if path == "/prov-traced" && nth == 0 {
            (500, Duration::ZERO)
        } else {
            (204, Duration::ZERO)
        }
    });
    let mut env = Envelope::new(
        "competition",
        PARTNERSHIP,
        &opened(Uuid::now_v7(), Uuid::now_v7(), 1, &["prov-traced"]),
    );
    env.traceparent = Some(format!("00-{TRACE_ID}-{EVENT_SPAN}-01"));
    env.tracestate = Some("hub=1".into());
    app.publish_envelope(&env).await;
    let got = rx.wait("prov-traced", "competition.invited", 2).await;
    (hooks, got)
}

/// Each attempt carries the event's trace id, a child span of its own, sampled as the
/// event; the event's tracestate stays inside; the retry is the same webhook.
async fn every_attempt_joins_the_event_trace(app: TestApp, rx: Receiver) {
    let (hooks, got) = a_traced_event_retried(&app, &rx).await;
    let mut spans = Vec::new();
    for r in &got {
        assert!(r.verifies(&hooks["prov-traced"].secret));
        let tp = r
            .headers
            .get("traceparent")
            .unwrap_or_else(|| panic!("no traceparent on {:?}", r.headers));
        let (trace, span, flags) = w3c(tp);
        assert_eq!(trace, TRACE_ID, "the event's trace: {tp}");
        assert_ne!(span, EVENT_SPAN, "a child span of the event's: {tp}");
        assert_eq!(flags, "01", "sampled as the event: {tp}");
        assert_eq!(
            r.headers.get("tracestate"),
            None,
            "the event's tracestate stays inside"
        );
        spans.push(span);
    }
    assert_eq!(got[0].headers["webhook-id"], got[1].headers["webhook-id"]);
    assert_ne!(spans[0], spans[1], "each attempt is a span of its own");
}

on_both_isolated!(
    run,
    every_attempt_joins_the_event_trace,
    every_attempt_joins_the_event_trace_on_sqlite,
    every_attempt_joins_the_event_trace_on_postgres
);

/// A redelivery of the same delivery (once recorded as delivered) stays in the trace, with
/// a span of its own.
async fn a_redelivery_stays_in_the_event_trace(app: TestApp, rx: Receiver) {
    let (hooks, got) = a_traced_event_retried(&app, &rx).await;
    let spans: Vec<String> = got
        .iter()
        .map(|r| w3c(&r.headers["traceparent"]).1)
        .collect();
    let hook = &hooks["prov-traced"];
    eventually(
        "the traced delivery recorded as delivered",
        Duration::from_secs(5),
        || async {
            let (_, log) = app
                .notifications()
                .deliveries(&hook.owner, &hook.id, "")
                .await;
            (log["items"][0]["status"] == "delivered").then_some(())
        },
    )
    .await;
    let (s, r) = app
        .notifications()
        .redeliver(&hook.owner, &got[0].headers["webhook-id"])
        .await;
    assert_eq!(s, 202, "{r}");
    let got = rx.wait("prov-traced", "competition.invited", 3).await;
    let (trace, span, _) = w3c(&got[2].headers["traceparent"]);
    assert_eq!(trace, TRACE_ID);
    assert!(!spans.contains(&span) && span != EVENT_SPAN);
}

on_both_isolated!(
    run,
    a_redelivery_stays_in_the_event_trace,
    a_redelivery_stays_in_the_event_trace_on_sqlite,
    a_redelivery_stays_in_the_event_trace_on_postgres
);

/// An event without trace context: its webhook carries none.
async fn an_untraced_events_webhook_carries_no_trace(app: TestApp, rx: Receiver) {
    let (hooks, _) = a_traced_event_retried(&app, &rx).await;
    app.publish(
        "competition",
        &opened(Uuid::now_v7(), Uuid::now_v7(), 1, &["prov-untraced"]),
    )
    .await;
    let got = rx.wait("prov-untraced", "competition.invited", 1).await;
    assert!(got[0].verifies(&hooks["prov-untraced"].secret));
    assert!(
        !got[0].headers.contains_key("traceparent") && !got[0].headers.contains_key("tracestate"),
        "no trace context sent: {:?}",
        got[0].headers
    );
}

on_both_isolated!(
    run,
    an_untraced_events_webhook_carries_no_trace,
    an_untraced_events_webhook_carries_no_trace_on_sqlite,
    an_untraced_events_webhook_carries_no_trace_on_postgres
);

// ---------------------------------------------------------------------------------------
// Issue 11 item 7: webhooks go to public https addresses only. Without the development
// setting (`webhooks.allow_http_loopback`), loopback, private, link-local, metadata and the
// platform's own addresses are refused at registration (422 naming `/url`), and a name that
// resolves to one of them is refused again when a delivery connects; the refused attempt is
// logged as refused, with nothing about what answered there.

/// This machine's name: not one the platform knows, resolving (through /etc/hosts) to a
/// loopback or private address, as a name pointed inside after registration would.
fn machine_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .expect("/etc/hostname names this machine")
}

/// `owner` registers `url` for invitations (the answer as it is).
async fn register_url(app: &TestApp, owner: &User, url: &str) -> (u16, Value) {
    app.notifications()
        .register(
            owner,
            &json!({"url": url, "event_types": ["competition.invited"]}),
        )
        .await
}

/// Loopback, private, link-local, metadata and the platform's own addresses, and plain
/// http, are refused at registration.
async fn inside_addresses_are_refused_at_registration(app: TestApp, rx: Receiver) {
    let owner = app.user("prov-a", Role::Provider);
    for (url, rule) in [
        (rx.url("hook"), "public_address"),
        ("https://127.0.0.1:9443/h".to_owned(), "public_address"),
        ("https://localhost/h".to_owned(), "public_address"),
        ("https://10.0.0.1/h".to_owned(), "public_address"),
        ("https://192.168.0.10/h".to_owned(), "public_address"),
        (
            "https://169.254.169.254/latest/meta-data".to_owned(),
            "public_address",
        ),
        ("https://[fd00:ec2::254]/h".to_owned(), "public_address"),
        ("https://[fe80::1]/h".to_owned(), "public_address"),
        (
            "https://metadata.google.internal/v1".to_owned(),
            "public_address",
        ),
        (
            "https://hub.example/v1/referrals".to_owned(),
            "public_address",
        ),
        ("http://provider.example/h".to_owned(), "scheme"),
    ] {
        let (status, body) = register_url(&app, &owner, &url).await;
        assert_eq!(status, 422, "{url}: {body}");
        assert_eq!(
            (&body["errors"][0]["field"], &body["errors"][0]["rule"]),
            (&json!("/url"), &json!(rule)),
            "{url}: {body}"
        );
    }
}

on_both_isolated!(
    run_strict,
    inside_addresses_are_refused_at_registration,
    inside_addresses_are_refused_at_registration_on_sqlite,
    inside_addresses_are_refused_at_registration_on_postgres
);

/// Changing a registered endpoint's URL is checked the same way.
async fn a_changed_url_is_checked_the_same_way(app: TestApp, _rx: Receiver) {
    let owner = app.user("prov-a", Role::Provider);
    let (status, hook) = register_url(&app, &owner, "https://provider.example/h").await;
    assert_eq!(status, 201, "{hook}");
    let (status, body) = app
        .notifications()
        .change(
            &owner,
            hook["id"].as_str().unwrap(),
            &json!({"url": "https://169.254.169.254/"}),
        )
        .await;
    assert_eq!(
        (status, &body["errors"][0]["field"]),
        (422, &json!("/url")),
        "{body}"
    );
}

on_both_isolated!(
    run_strict,
    a_changed_url_is_checked_the_same_way,
    a_changed_url_is_checked_the_same_way_on_sqlite,
    a_changed_url_is_checked_the_same_way_on_postgres
);

/// A name is checked as the delivery connects, after resolution: the attempt is refused and
/// logged as such, and nothing reaches the address.
async fn a_name_resolving_inside_is_refused_on_delivery(app: TestApp, rx: Receiver) {
    let port = rx.base.rsplit(':').next().unwrap().to_owned();
    let url = format!("https://{}:{port}/rebound", machine_name());
    let owner = app.user("prov-b", Role::Provider);
    let (status, hook) = register_url(&app, &owner, &url).await;
    assert_eq!(status, 201, "{hook}");
    app.publish(
        "competition",
        &opened(Uuid::now_v7(), Uuid::now_v7(), 1, &["prov-b"]),
    )
    .await;
    let id = hook["id"].as_str().unwrap();
    let error = eventually("a refused attempt", Duration::from_secs(10), || {
        let (app, owner) = (&app, &owner);
        async move {
            let (_, body) = app.notifications().deliveries(owner, id, "").await;
            body["items"][0]["attempt_log"][0]["error"]
                .as_str()
                .map(str::to_owned)
        }
    })
    .await;
    assert_eq!(error, "refused: webhooks go to public addresses only");
    assert!(
        rx.requests("/rebound").is_empty(),
        "nothing reached the address"
    );
}

on_both_isolated!(
    run_strict,
    a_name_resolving_inside_is_refused_on_delivery,
    a_name_resolving_inside_is_refused_on_delivery_on_sqlite,
    a_name_resolving_inside_is_refused_on_delivery_on_postgres
);
