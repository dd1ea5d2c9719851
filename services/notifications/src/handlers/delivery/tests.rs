use std::time::{Duration, Instant};

use hub_bus::{Transport, memory::MemoryTransport};
use hub_events::Envelope;

use chrono::Utc;

use super::*;
use crate::{
    domain::INVITED,
    ids::{DeliveryId, EventId},
    store::Claimed,
    test_support::*,
};

async fn log_of(
    store: &Store,
    endpoint_id: &EndpointId,
) -> Vec<(store::Delivery, Vec<store::AttemptLog>)> {
    let id = *endpoint_id;
    store
        .db
        .run(move |c| {
            let ds = store::deliveries_of(c, &id, None, None, 100)?;
            let mut out = Vec::new();
            for d in ds {
                let a = store::attempts_of(c, std::slice::from_ref(&d.id))?;
                out.push((d, a));
            }
            Ok(out)
        })
        .await
        .unwrap()
}

/// One endpoint answers 500 then 200: the retry comes after the backoff and delivers.
/// Another hangs for 5 s (past the 3 s timeout): it does not hold up the first.
async fn retries_and_isolates_slow_receivers(store: Store) {
    let rx = Receiver::start(|path, nth| match path {
        "/flaky" if nth == 0 => (500, Duration::ZERO),
        "/slow" => (200, Duration::from_secs(5)),
        _ => (200, Duration::ZERO),
    })
    .await;
    let flaky = endpoint(
        &store,
        "prov-flaky",
        &format!("{}/flaky", rx.base),
        &[INVITED],
        true,
    )
    .await;
    let slow = endpoint(
        &store,
        "prov-slow",
        &format!("{}/slow", rx.base),
        &[INVITED],
        true,
    )
    .await;
    let settings = Arc::new(settings(&[]));
    let transport: Arc<dyn Transport> = Arc::new(MemoryTransport::new(&settings.bus));
    let _mounted = crate::start(store.clone(), transport.clone(), settings.clone())
        .await
        .unwrap();

    let event = opened(&["prov-slow", "prov-flaky"]);
    let env = Envelope::new("competition", "LCR-PPA", &event);
    let t0 = Instant::now();
    transport.publish(&env).await.unwrap();

    let got = eventually(
        "the flaky endpoint's retry",
        Duration::from_secs(3),
        || async {
            let r = rx.requests("/flaky");
            (r.len() >= 2).then_some(r)
        },
    )
    .await;
    let (first, second) = (got[0].at - t0, got[1].at - t0);
    eprintln!("flaky: first attempt after {first:?}, retry after {second:?}");
    assert!(
        first < Duration::from_millis(1000),
        "the first attempt left at once (woken, not polled): {first:?}"
    );
    assert!(
        got[1].at - got[0].at >= Duration::from_millis(100),
        "the retry waited for the backoff"
    );
    assert!(
        second < Duration::from_millis(2500),
        "the slow receiver did not hold up the flaky one: {second:?}"
    );
    assert_eq!(
        rx.requests("/slow").len(),
        1,
        "the slow receiver got its request at the same time"
    );

    // Signed the Standard Webhooks way, with the same webhook-id on the retry.
    for r in &got {
        let h = |k: &str| r.headers.get(k).cloned().unwrap_or_default();
        assert_eq!(h("content-type"), "application/json");
        let ts: i64 = h("webhook-timestamp").parse().unwrap();
        assert_eq!(
            domain::verify(
                &flaky.secret,
                &h("webhook-id"),
                ts,
                &r.body,
                &h("webhook-signature"),
                Utc::now().timestamp()
            ),
            Ok(())
        );
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["type"], INVITED);
        assert_eq!(
            body["data"]["referral_url"],
            format!("https://hub.example/v1/referrals/{}", event.referral_id)
        );
        assert_eq!(
            body["data"]["competition_id"],
            event.competition_id.to_string()
        );
    }
    assert_eq!(got[0].headers["webhook-id"], got[1].headers["webhook-id"]);

    let log = eventually(
        "the flaky delivery recorded as delivered",
        Duration::from_secs(2),
        || async {
            let log = log_of(&store, &flaky.id).await;
            (log.len() == 1 && log[0].0.status.to_string() == "delivered").then_some(log)
        },
    )
    .await;
    let (d, attempts) = &log[0];
    assert_eq!(d.id.to_string(), got[0].headers["webhook-id"]);
    assert_eq!((d.attempts, d.last_status_code), (2, Some(200)));
    let codes: Vec<(i32, Option<i32>)> = attempts
        .iter()
        .map(|a| (a.attempt, a.status_code))
        .collect();
    assert_eq!(codes, [(1, Some(500)), (2, Some(200))]);

    // The slow one times out after 3 s; that attempt is logged and a retry scheduled.
    let log = eventually(
        "the slow delivery's timed-out attempt",
        Duration::from_secs(6),
        || async {
            let log = log_of(&store, &slow.id).await;
            (log.len() == 1 && !log[0].1.is_empty()).then_some(log)
        },
    )
    .await;
    let (d, attempts) = &log[0];
    assert_eq!(d.status.to_string(), "pending");
    assert_eq!(attempts[0].status_code, None);
    assert_eq!(
        attempts[0].error.as_deref(),
        Some("timed out after 3000 ms")
    );
    assert!(attempts[0].latency_ms >= 2900, "{}", attempts[0].latency_ms);
}

#[test]
fn sqlite_retries_and_isolates_slow_receivers() {
    run(Backend::Sqlite, retries_and_isolates_slow_receivers);
}

#[test]
fn postgres_retries_and_isolates_slow_receivers() {
    run(Backend::Postgres, retries_and_isolates_slow_receivers);
}

/// Claims are leased: a second claim does not take what the first holds, and one endpoint
/// gets no more than its share of the sending slots.
async fn claims_are_leased_and_shared_fairly(store: Store) {
    let busy = endpoint(&store, "prov-a", "http://127.0.0.1:9/a", &[INVITED], true).await;
    let other = endpoint(&store, "prov-b", "http://127.0.0.1:9/b", &[INVITED], true).await;
    let off = endpoint(&store, "prov-c", "http://127.0.0.1:9/c", &[INVITED], false).await;
    let (b, o, f) = (busy.id, other.id, off.id);
    store
        .db
        .run(move |c| {
            for _ in 0..6 {
                store::insert_delivery(c, &b, &EventId::new(), INVITED, "{}".into())?;
            }
            store::insert_delivery(c, &o, &EventId::new(), INVITED, "{}".into())?;
            store::insert_delivery(c, &f, &EventId::new(), INVITED, "{}".into())?;
            Ok(())
        })
        .await
        .unwrap();
    let claim = |in_flight: HashMap<EndpointId, usize>| {
        let store = store.clone();
        async move {
            store
                .db
                .transaction(move |c| store::claim(c, 100, 60_000, &in_flight, 2))
                .await
                .unwrap()
                .deliveries
        }
    };
    let first = claim(HashMap::new()).await;
    let per: Vec<EndpointId> = first.iter().map(|c| c.endpoint_id).collect();
    assert_eq!(
        per.iter().filter(|e| **e == busy.id).count(),
        2,
        "at most 2 per endpoint"
    );
    assert_eq!(per.iter().filter(|e| **e == other.id).count(), 1);
    assert!(!per.contains(&off.id), "disabled endpoints wait");
    assert!(first.iter().all(|c| c.attempt == 1 && c.secrets.len() == 1));
    // Those two are in flight: nothing more for that endpoint, and the leased rows stay leased.
    assert!(claim(HashMap::from([(busy.id, 2)])).await.is_empty());
    let next = claim(HashMap::from([(busy.id, 1)])).await;
    assert_eq!(next.len(), 1);
    assert!(first.iter().all(|c| c.id != next[0].id));
    let due = {
        let b = busy.id;
        store
            .db
            .run(move |c| store::next_due_ms(c, &[b]))
            .await
            .unwrap()
    };
    assert!(
        due.is_some_and(|d| d > now_ms() + 50_000),
        "only leased rows of others are left: {due:?}"
    );
}

#[test]
fn sqlite_claims_are_leased_and_shared_fairly() {
    run(Backend::Sqlite, claims_are_leased_and_shared_fairly);
}

#[test]
fn postgres_claims_are_leased_and_shared_fairly() {
    run(Backend::Postgres, claims_are_leased_and_shared_fairly);
}

/// An attempt's outcome settles its delivery only while the attempt's lease is still on
/// it: a redelivery asked for while the attempt was in flight stays due (and is numbered
/// after it), and is settled by its own attempt.
async fn an_outcome_settles_only_its_own_lease(store: Store) {
    let e = endpoint(&store, "prov-a", "http://127.0.0.1:9/a", &[INVITED], true).await;
    let ep = e.id;
    let id = store
        .db
        .run(move |c| store::insert_delivery(c, &ep, &EventId::new(), INVITED, "{}".into()))
        .await
        .unwrap();
    let claim = || {
        let store = store.clone();
        async move {
            store
                .db
                .transaction(|c| store::claim(c, 10, 60_000, &HashMap::new(), 2))
                .await
                .unwrap()
                .deliveries
        }
    };
    let outcome = |d: &Claimed| {
        (
            Attempt {
                delivery_id: d.id,
                endpoint_id: d.endpoint_id,
                lease_until_ms: d.lease_until_ms,
                attempt: d.attempt,
                at: Utc::now().naive_utc(),
                status_code: Some(204),
                error: None,
                latency_ms: 1,
            },
            Next::Delivered,
        )
    };
    let record = |o: (Attempt, Next)| {
        let store = store.clone();
        async move {
            store
                .db
                .transaction(move |c| store::record_all(c, &[o]))
                .await
                .unwrap()
        }
    };
    let row = |id: DeliveryId| {
        let store = store.clone();
        async move {
            store
                .db
                .run(move |c| store::find_delivery(c, &id))
                .await
                .unwrap()
                .expect("the delivery")
        }
    };
    let first = claim().await;
    assert_eq!((first.len(), first[0].attempt), (1, 1));
    // The provider asks for it again while the first attempt is in flight.
    let i = id;
    store
        .db
        .transaction(move |c| store::redeliver(c, &i))
        .await
        .unwrap();
    record(outcome(&first[0])).await;
    let d = row(id).await;
    assert_eq!(
        (d.status.to_string().as_str(), d.attempts),
        ("pending", 1),
        "the redelivery is still due"
    );
    let second = claim().await;
    assert_eq!((second.len(), second[0].attempt), (1, 2));
    record(outcome(&second[0])).await;
    let d = row(id).await;
    assert_eq!(
        (d.status.to_string().as_str(), d.attempts),
        ("delivered", 2)
    );
    // A late outcome of the first attempt (its lease long gone) changes nothing.
    record(outcome(&first[0])).await;
    assert_eq!(row(id).await.status.to_string(), "delivered");
}

#[test]
fn sqlite_an_outcome_settles_only_its_own_lease() {
    run(Backend::Sqlite, an_outcome_settles_only_its_own_lease);
}

#[test]
fn postgres_an_outcome_settles_only_its_own_lease() {
    run(Backend::Postgres, an_outcome_settles_only_its_own_lease);
}

/// The worker lives as long as the service is mounted: once the platform drops it, queued
/// deliveries wait for the next start instead of being sent by an orphaned task.
async fn the_worker_stops_with_the_service(store: Store) {
    let rx = Receiver::start(|_, _| (200, Duration::ZERO)).await;
    endpoint(
        &store,
        "prov-a",
        &format!("{}/a", rx.base),
        &[INVITED],
        true,
    )
    .await;
    let settings = Arc::new(settings(&[]));
    let transport: Arc<dyn Transport> = Arc::new(MemoryTransport::new(&settings.bus));
    let mounted = crate::start(store.clone(), transport.clone(), settings.clone())
        .await
        .unwrap();
    transport
        .publish(&Envelope::new(
            "competition",
            "LCR-PPA",
            &opened(&["prov-a"]),
        ))
        .await
        .unwrap();
    eventually("the first webhook", Duration::from_secs(2), || async {
        (rx.requests("/a").len() == 1).then_some(())
    })
    .await;
    drop(mounted);
    transport
        .publish(&Envelope::new(
            "competition",
            "LCR-PPA",
            &opened(&["prov-a"]),
        ))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        rx.requests("/a").len(),
        1,
        "nothing is sent once the service is gone"
    );
}

#[test]
fn sqlite_the_worker_stops_with_the_service() {
    run(Backend::Sqlite, the_worker_stops_with_the_service);
}

/// Every attempt is counted by outcome, with its latency, on the metrics the service hands
/// to the platform: a 2xx, a 500, a timeout, a closed port, a private address. Giving up at
/// once (`give_up_after_hours` 0), each failure also fails its delivery and disables its
/// endpoint.
async fn attempts_are_counted_by_outcome(store: Store) {
    let rx = Receiver::start(|path, _| match path {
        "/fail" => (500, Duration::ZERO),
        "/slow" => (204, Duration::from_secs(2)),
        _ => (204, Duration::ZERO),
    })
    .await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/closed", l.local_addr().unwrap())
    };
    for (org, url) in [
        ("prov-ok", rx.url("ok")),
        ("prov-fail", rx.url("fail")),
        ("prov-slow", rx.url("slow")),
        ("prov-closed", closed),
        // Refused before any connection is made.
        ("prov-private", "https://10.0.0.1/h".to_owned()),
    ] {
        endpoint(&store, org, &url, &[INVITED], true).await;
    }
    let settings = Arc::new(settings(&[
        ("webhooks.timeout_ms", "300"),
        ("webhooks.give_up_after_hours", "0"),
    ]));
    let transport: Arc<dyn Transport> = Arc::new(MemoryTransport::new(&settings.bus));
    let mut mounted = crate::start(store.clone(), transport.clone(), settings.clone())
        .await
        .unwrap();
    let registry = prometheus::Registry::new();
    for c in mounted.metrics.drain(..) {
        registry.register(c).unwrap();
    }
    let scrape = || {
        let mut buf = Vec::new();
        prometheus::Encoder::encode(
            &prometheus::TextEncoder::new(),
            &registry.gather(),
            &mut buf,
        )
        .unwrap();
        String::from_utf8(buf).unwrap()
    };
    let invited = [
        "prov-ok",
        "prov-fail",
        "prov-slow",
        "prov-closed",
        "prov-private",
    ];
    let env = Envelope::new("competition", "LCR-PPA", &opened(&invited));
    transport.publish(&env).await.unwrap();

    let text = eventually("four endpoints disabled", Duration::from_secs(5), || {
        let text = scrape();
        async move {
            text.contains("webhook_endpoints_disabled_total 4")
                .then_some(text)
        }
    })
    .await;
    for outcome in [
        "delivered",
        "http_error",
        "timeout",
        "connection_error",
        "refused",
    ] {
        let attempts =
            format!("webhook_attempts_total{{event_type=\"{INVITED}\",outcome=\"{outcome}\"}} 1");
        let timed = format!("webhook_attempt_duration_seconds_count{{outcome=\"{outcome}\"}} 1");
        assert!(text.contains(&attempts), "{attempts} in {text}");
        assert!(text.contains(&timed), "{timed} in {text}");
    }
    for (outcome, n) in [("delivered", 1), ("failed", 4)] {
        let ended = format!(
            "webhook_deliveries_total{{event_type=\"{INVITED}\",outcome=\"{outcome}\"}} {n}"
        );
        assert!(text.contains(&ended), "{ended} in {text}");
    }
    // The timeout took at least the timeout; no label names an endpoint or a URL.
    let slow: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("webhook_attempt_duration_seconds_sum{outcome=\"timeout\"} "))
        .and_then(|v| v.parse().ok())
        .expect("the timeout's duration");
    assert!(slow >= 0.3, "{slow}");
    assert!(
        !text.contains("prov-") && !text.contains("127.0.0.1"),
        "{text}"
    );
}

#[test]
fn sqlite_attempts_are_counted_by_outcome() {
    run(Backend::Sqlite, attempts_are_counted_by_outcome);
}

#[test]
fn postgres_attempts_are_counted_by_outcome() {
    run(Backend::Postgres, attempts_are_counted_by_outcome);
}
