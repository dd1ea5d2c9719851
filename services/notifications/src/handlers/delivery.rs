//! The delivery worker: sends pending webhook deliveries, signed the Standard Webhooks way,
//! and retries the ones that fail.
//!
//! * It claims due deliveries with a lease (`claimed_until_ms`), skipping rows another replica
//!   has locked ([`hub_platform::DbConnection::skip_locked_clause`]), as the outbox relay claims
//!   outbox rows. A replica that dies mid-send leaves its lease to expire and the delivery is
//!   sent again (same `webhook-id`: receivers deduplicate on it).
//! * Every send is its own task under a semaphore of `webhooks.concurrency`, and one endpoint
//!   may hold at most a quarter of those permits, so a slow or dead receiver never holds up
//!   the others.
//! * It is woken the moment the consumer commits new deliveries, when a send frees a slot of
//!   an endpoint that was at its share, and when a failed attempt's retry has been scheduled;
//!   otherwise it sleeps until the next retry is due, polling at most every second as a
//!   fallback (for deliveries queued by another replica). A send that simply went through
//!   does not make it look again: at 50 referrals a second that was two queries per webhook.
//! * Attempts are recorded by one recorder task, in one transaction for all the attempts
//!   that finished while the previous transaction committed and in the few milliseconds
//!   after the first (one commit per batch rather than per webhook).
//! * A 2xx answer delivers. Anything else, a timeout or a connection error is recorded as an
//!   attempt and retried after `initial_backoff_ms`, doubling up to `max_backoff_ms`; once the
//!   first attempt is `give_up_after_hours` old the delivery fails and its endpoint is
//!   disabled with a reason its owner sees in `GET /v1/webhooks`.
//! * Every attempt is a `webhook` span. A delivery made for an event that carried W3C trace
//!   context joins that trace: the span is a child of the event's, and the request carries
//!   its `traceparent` so the receiver can continue it; every attempt and a redelivery carry
//!   the same trace id, each with a span id of its own. A delivery for an untraced event sends
//!   no trace headers. The headers hold trace ids only: the `tracestate` (vendor data from
//!   whoever called the platform, not ours to pass to providers) stays inside.

use std::{
    collections::HashMap,
    error::Error as _,
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicI64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::{TimeZone, Utc};
use hub_bus::Store;
use hub_platform::config::WebhookSettings;
use tokio::{
    sync::{Notify, Semaphore, mpsc},
    task::JoinHandle,
};
use tracing::Instrument as _;

use crate::{
    domain::{self, AfterFailure, RetryPolicy},
    handlers::metrics::{AttemptOutcome, WebhookMetrics},
    store::{self, Attempt, Claimed, Next, now_ms},
};

/// A delivery not sent because its destination is not a public address.
#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("refused: webhooks go to public addresses only")
    }
}

impl std::error::Error for Refused {}

/// Whether `e` (or what caused it) is the resolver's [`Refused`].
fn is_refused(e: &reqwest::Error) -> bool {
    let mut source = e.source();
    while let Some(cause) = source {
        if cause.is::<Refused>() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// Resolves a delivery's host name and keeps only the addresses webhooks may go to
/// ([`domain::Destinations::refused_ip`]); none left is [`Refused`]. Checked as each
/// connection is made, so a name cannot be pointed inside after registration.
struct PublicOnly(domain::Destinations);

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let destinations = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let public: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| destinations.refused_ip(a.ip()).is_none())
                .collect();
            if public.is_empty() {
                return Err(Box::new(Refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Deliveries claimed per round at most.
const BATCH: usize = 100;
/// Attempts recorded per transaction at most.
const RECORD_BATCH: usize = 200;
/// How long the recorder waits for more sends to finish before recording (the webhooks are
/// delivered already: this only delays the log, and a retry's scheduling, by as much).
const RECORD_LINGER: Duration = Duration::from_millis(5);
/// The longest the worker sleeps without being woken.
const POLL_MS: i64 = 1000;
/// How long a claim outlives the request timeout before another replica may take it over.
const LEASE_MARGIN_MS: i64 = 30_000;
/// Errors recorded are cut to this many characters.
const MAX_ERROR_LEN: usize = 500;

/// Deliveries in flight per endpoint, shared by the loop and the send tasks.
type InFlight = Arc<Mutex<HashMap<String, usize>>>;

pub struct Worker {
    store: Store,
    client: reqwest::Client,
    /// Where deliveries may go, checked again before each one is sent.
    destinations: domain::Destinations,
    policy: RetryPolicy,
    give_up_after_hours: u64,
    timeout_ms: u64,
    wake: Arc<Notify>,
    permits: Arc<Semaphore>,
    in_flight: InFlight,
    per_endpoint: usize,
    lease_ms: i64,
    /// The service's liveness: the worker ends once nothing holds the service any more.
    mounted: Weak<()>,
    /// Attempts to record (the recorder task ends once the worker and its sends are gone).
    recorder: mpsc::UnboundedSender<(Attempt, Next)>,
    /// The earliest retry the recorder scheduled since the worker last read the next due
    /// time from the database (`i64::MAX`: none).
    retry_due: Arc<AtomicI64>,
    metrics: WebhookMetrics,
}

/// Starts the worker. `wake` is notified whenever deliveries are queued; `in_process` says
/// this process owns its database alone (embedded mode), so leases left by a previous run
/// are cleared at start. The worker ends when `mounted` can no longer be upgraded. What it
/// does is counted in `metrics`.
pub fn spawn(
    store: Store,
    settings: &WebhookSettings,
    destinations: domain::Destinations,
    wake: Arc<Notify>,
    in_process: bool,
    mounted: Weak<()>,
    metrics: WebhookMetrics,
) -> anyhow::Result<JoinHandle<()>> {
    hub_platform::install_crypto_provider();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(settings.timeout_ms.max(1)))
        // A receiver answers; it does not send us elsewhere. A 3xx counts as a failure.
        .redirect(reqwest::redirect::Policy::none())
        // Names resolve to public addresses only, at connect time (no DNS rebinding).
        .dns_resolver(Arc::new(PublicOnly(destinations.clone())))
        .user_agent(concat!(
            "commissioning-hub-webhooks/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()?;
    let concurrency = settings.concurrency.max(1);
    let (recorder, attempts) = mpsc::unbounded_channel();
    let retry_due = Arc::new(AtomicI64::new(i64::MAX));
    tokio::spawn(record(
        store.clone(),
        attempts,
        wake.clone(),
        retry_due.clone(),
        metrics.clone(),
    ));
    let worker = Arc::new(Worker {
        store,
        client,
        destinations,
        policy: RetryPolicy::from(settings),
        give_up_after_hours: settings.give_up_after_hours,
        timeout_ms: settings.timeout_ms,
        wake,
        permits: Arc::new(Semaphore::new(concurrency)),
        in_flight: InFlight::default(),
        per_endpoint: (concurrency / 4).max(1),
        mounted,
        lease_ms: i64::try_from(settings.timeout_ms).unwrap_or(i64::MAX / 2) + LEASE_MARGIN_MS,
        recorder,
        retry_due,
        metrics,
    });
    Ok(tokio::spawn(worker.run(in_process)))
}

/// Records attempts as they come, each batch in one transaction: everything that finished
/// while the previous batch committed. Wakes the worker after a batch that scheduled a retry
/// (the retry's due time is news to it). Counts the endpoints it disabled.
async fn record(
    store: Store,
    mut attempts: mpsc::UnboundedReceiver<(Attempt, Next)>,
    wake: Arc<Notify>,
    retry_due: Arc<AtomicI64>,
    metrics: WebhookMetrics,
) {
    let mut batch = Vec::new();
    while attempts.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        tokio::time::sleep(RECORD_LINGER).await;
        while batch.len() < RECORD_BATCH
            && let Ok(more) = attempts.try_recv()
        {
            batch.push(more);
        }
        let retries = batch
            .iter()
            .filter_map(|(_, next)| match next {
                Next::RetryAt(at) => Some(*at),
                _ => None,
            })
            .min();
        let recorded = std::mem::take(&mut batch);
        let ids: Vec<String> = recorded
            .iter()
            .map(|(a, _)| a.delivery_id.clone())
            .collect();
        match store
            .db
            .transaction(move |c| store::record_all(c, &recorded))
            .await
        {
            Ok(disabled) => metrics.endpoints_disabled(disabled),
            // The leases run out and the deliveries are sent again: at least once, never lost.
            Err(e) => {
                tracing::error!(delivery_ids = %ids.join(","), error = %e, "could not record webhook attempts")
            }
        }
        if let Some(at) = retries {
            retry_due.fetch_min(at, Ordering::SeqCst);
            wake.notify_one();
        }
    }
}

/// Counts a delivery in flight for its endpoint until dropped.
struct InFlightGuard {
    in_flight: InFlight,
    endpoint: String,
    per_endpoint: usize,
}

impl InFlightGuard {
    /// Ends the count; says whether the endpoint was at its share (so deliveries of it may
    /// have been left waiting).
    fn release(self) -> bool {
        self.in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&self.endpoint)
            .is_some_and(|n| *n >= self.per_endpoint)
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        let mut map = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.endpoint) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.endpoint);
            }
        }
    }
}

impl Worker {
    fn in_flight_now(&self) -> HashMap<String, usize> {
        self.in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    async fn run(self: Arc<Self>, in_process: bool) {
        if in_process && let Err(e) = self.store.db.run(store::reset_leases).await {
            tracing::warn!(error = %e, "could not reset webhook delivery leases");
        }
        loop {
            if self.mounted.strong_count() == 0 {
                tracing::info!("the notifications service is gone; the delivery worker stops");
                return;
            }
            let room = self.permits.available_permits().min(BATCH);
            if room == 0 {
                let _ = self.permits.acquire().await.map(drop);
                continue;
            }
            let (in_flight, per_endpoint, lease_ms) =
                (self.in_flight_now(), self.per_endpoint, self.lease_ms);
            let claimed = self
                .store
                .db
                .transaction(move |c| store::claim(c, room, lease_ms, &in_flight, per_endpoint))
                .await;
            let claim = match claimed {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming webhook deliveries failed; retrying");
                    tokio::time::sleep(Duration::from_millis(POLL_MS as u64)).await;
                    continue;
                }
            };
            // As many due rows as it could take: there may be more (beyond the limit, or of
            // endpoints now at their share, which the next claim leaves out).
            let full = claim.candidates == room && !claim.deliveries.is_empty();
            let claimed_some = !claim.deliveries.is_empty();
            for delivery in claim.deliveries {
                let permit = self
                    .permits
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed");
                *self
                    .in_flight
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(delivery.endpoint_id.clone())
                    .or_default() += 1;
                let guard = InFlightGuard {
                    in_flight: self.in_flight.clone(),
                    endpoint: delivery.endpoint_id.clone(),
                    per_endpoint: self.per_endpoint,
                };
                let worker = self.clone();
                tokio::spawn(async move {
                    worker.send(delivery).await;
                    let was_at_share = guard.release();
                    drop(permit);
                    if was_at_share {
                        // Deliveries of this endpoint may be waiting for the slot.
                        worker.wake.notify_one();
                    }
                });
            }
            if full {
                continue;
            }
            let wait_ms = if claimed_some {
                // Nothing else was due, as far as this process knows: sleep until woken (new
                // deliveries, a freed share, a retry scheduled), a retry it scheduled is due,
                // or the poll, without asking the database.
                let retry = self.retry_due.load(Ordering::SeqCst);
                retry.saturating_sub(now_ms()).clamp(1, POLL_MS)
            } else {
                self.next_due_in_ms().await
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(wait_ms as u64)) => {}
            }
        }
    }

    /// How long until the next delivery becomes due, by the database (at most the poll).
    async fn next_due_in_ms(&self) -> i64 {
        // The database is asked now: retries recorded from here on are news again.
        self.retry_due.store(i64::MAX, Ordering::SeqCst);
        let busy = domain::saturated(&self.in_flight_now(), self.per_endpoint);
        match self
            .store
            .db
            .run(move |c| store::next_due_ms(c, &busy))
            .await
        {
            Ok(Some(due)) => (due - now_ms()).clamp(1, POLL_MS),
            Ok(None) => POLL_MS,
            Err(e) => {
                tracing::warn!(error = %e, "reading the next webhook due time failed");
                POLL_MS
            }
        }
    }

    /// Sends one delivery and hands the attempt to the recorder.
    async fn send(&self, d: Claimed) {
        let timestamp = Utc::now().timestamp();
        let signature: Vec<String> = d
            .secrets
            .iter()
            .map(|s| domain::sign(s, &d.id, timestamp, d.body.as_bytes()))
            .collect();
        // An HTTP client span (OpenTelemetry conventions: `POST`, kind client), a child of
        // the handling that queued the delivery. Host and port only: the rest of the URL is
        // the provider's and may hold a token.
        let (host, port) = url::Url::parse(&d.url)
            .map(|u| (u.host_str().map(str::to_owned), u.port_or_known_default()))
            .unwrap_or_default();
        let span = tracing::info_span!(
            "webhook",
            otel.name = "POST",
            otel.kind = "client",
            http.request.method = "POST",
            server.address = host,
            server.port = port,
            http.response.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            error.type = tracing::field::Empty,
            webhook.delivery_id = %d.id,
            webhook.endpoint_id = %d.endpoint_id,
            webhook.event_type = %d.event_type,
            webhook.attempt = d.attempt
        );
        let trace = hub_platform::telemetry::child_headers(&span, &d.trace);
        let mut request = self
            .client
            .post(&d.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &d.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature.join(" "));
        if let Some(traceparent) = trace.get("traceparent") {
            request = request.header("traceparent", traceparent);
        }
        let at = Utc::now().naive_utc();
        let started = Instant::now();
        // The URL as stored is checked again (an endpoint may predate a rule); its name's
        // addresses are checked by the resolver as the connection is made.
        let result = if self.destinations.error(&d.url).is_some() {
            Err(None)
        } else {
            request
                .body(d.body.clone())
                .send()
                .instrument(span.clone())
                .await
                .map_err(Some)
        };
        let elapsed = started.elapsed();
        let latency_ms = i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX);
        let (status_code, error, outcome) = self.outcome(result);
        self.metrics
            .attempt(&d.event_type, outcome, elapsed.as_secs_f64());
        let delivered = outcome == AttemptOutcome::Delivered;
        if let Some(code) = status_code {
            span.record("http.response.status_code", code);
        }
        if !delivered {
            span.record("otel.status_code", "ERROR");
            // The conventions' error.type: the status code of an answer, else what happened.
            match status_code {
                Some(code) => span.record("error.type", code.to_string().as_str()),
                None => span.record("error.type", outcome.code()),
            };
        }
        let now = now_ms();
        let next = if delivered {
            Next::Delivered
        } else {
            match domain::after_failure(
                d.attempt.max(1) as u32,
                d.first_attempt_ms,
                now,
                &self.policy,
            ) {
                AfterFailure::RetryAt(at) => Next::RetryAt(at),
                AfterFailure::GiveUp => Next::GiveUp {
                    reason: self.give_up_reason(&d, status_code, error.as_deref()),
                },
            }
        };
        match &next {
            Next::Delivered => self.metrics.delivery_ended(&d.event_type, true),
            Next::GiveUp { .. } => self.metrics.delivery_ended(&d.event_type, false),
            Next::RetryAt(_) => {}
        }
        match &next {
            Next::Delivered => {
                tracing::info!(delivery_id = %d.id, endpoint_id = %d.endpoint_id, event_type = %d.event_type,
                    attempt = d.attempt, latency_ms, "webhook delivered");
            }
            Next::RetryAt(at) => {
                tracing::warn!(delivery_id = %d.id, endpoint_id = %d.endpoint_id, attempt = d.attempt, status_code,
                    error = error.as_deref().unwrap_or(""), retry_in_ms = at - now, "webhook attempt failed; will retry");
            }
            Next::GiveUp { .. } => {
                tracing::error!(delivery_id = %d.id, endpoint_id = %d.endpoint_id, attempt = d.attempt, status_code,
                    error = error.as_deref().unwrap_or(""), "webhook delivery failed for good; endpoint disabled");
            }
        }
        let attempt = Attempt {
            delivery_id: d.id.clone(),
            endpoint_id: d.endpoint_id.clone(),
            lease_until_ms: d.lease_until_ms,
            attempt: d.attempt,
            at,
            status_code: status_code.map(i32::from),
            error,
            latency_ms,
        };
        if self.recorder.send((attempt, next)).is_err() {
            // The lease runs out and the delivery is sent again: at least once, never lost.
            tracing::error!(delivery_id = %d.id, "the recorder is gone; the attempt is not recorded");
        }
    }

    /// An attempt's status code, error and outcome. A refused one is logged as such, with
    /// nothing about what is (or is not) listening there.
    fn outcome(
        &self,
        result: Result<reqwest::Response, Option<reqwest::Error>>,
    ) -> (Option<u16>, Option<String>, AttemptOutcome) {
        match result {
            Ok(response) => {
                let status = response.status().as_u16();
                let outcome = if domain::accepted(status) {
                    AttemptOutcome::Delivered
                } else {
                    AttemptOutcome::HttpError
                };
                (Some(status), None, outcome)
            }
            Err(Some(e)) if !is_refused(&e) => {
                let outcome = if e.is_timeout() {
                    AttemptOutcome::Timeout
                } else {
                    AttemptOutcome::ConnectionError
                };
                (
                    e.status().map(|s| s.as_u16()),
                    Some(self.describe(&e)),
                    outcome,
                )
            }
            Err(_) => (None, Some(Refused.to_string()), AttemptOutcome::Refused),
        }
    }

    fn describe(&self, e: &reqwest::Error) -> String {
        let mut text = if e.is_timeout() {
            format!("timed out after {} ms", self.timeout_ms)
        } else {
            let mut s = e.to_string();
            let mut source = e.source();
            while let Some(cause) = source {
                s.push_str(": ");
                s.push_str(&cause.to_string());
                source = cause.source();
            }
            s
        };
        if let Some((cut, _)) = text.char_indices().nth(MAX_ERROR_LEN) {
            text.truncate(cut);
        }
        text
    }

    fn give_up_reason(&self, d: &Claimed, status: Option<u16>, error: Option<&str>) -> String {
        let since = Utc
            .timestamp_millis_opt(d.first_attempt_ms)
            .single()
            .unwrap_or_else(Utc::now);
        let last = match (status, error) {
            (_, Some(e)) => e.to_owned(),
            (Some(s), None) => format!("HTTP {s}"),
            (None, None) => "no answer".to_owned(),
        };
        format!(
            "disabled automatically: delivery {} ({}) failed on every attempt for {} hours since {} \
             (last: {last}). Fix the receiver, then POST /v1/webhooks/{}/enable (queued deliveries resume) \
             and POST /v1/webhooks/deliveries/{}/redeliver",
            d.id,
            d.event_type,
            self.give_up_after_hours,
            since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            d.endpoint_id,
            d.id
        )
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use hub_bus::{Transport, memory::MemoryTransport};
    use hub_events::Envelope;

    use super::*;
    use crate::{domain::INVITED, test_support::*};

    async fn log_of(
        store: &Store,
        endpoint_id: &str,
    ) -> Vec<(store::DeliveryRow, Vec<store::AttemptRow>)> {
        let id = endpoint_id.to_owned();
        store
            .db
            .run(move |c| {
                let ds = store::deliveries_of(c, &id, None, 100)?;
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
                (log.len() == 1 && log[0].0.status == "delivered").then_some(log)
            },
        )
        .await;
        let (d, attempts) = &log[0];
        assert_eq!(d.id, got[0].headers["webhook-id"]);
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
        assert_eq!(d.status, "pending");
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
        let (b, o, f) = (busy.id.clone(), other.id.clone(), off.id.clone());
        store
            .db
            .run(move |c| {
                for i in 0..6 {
                    store::insert_delivery(c, &b, &format!("ev-{i}"), INVITED, "{}".into())?;
                }
                store::insert_delivery(c, &o, "ev-0", INVITED, "{}".into())?;
                store::insert_delivery(c, &f, "ev-0", INVITED, "{}".into())?;
                Ok(())
            })
            .await
            .unwrap();
        let claim = |in_flight: HashMap<String, usize>| {
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
        let per: Vec<&str> = first.iter().map(|c| c.endpoint_id.as_str()).collect();
        assert_eq!(
            per.iter().filter(|e| **e == busy.id).count(),
            2,
            "at most 2 per endpoint"
        );
        assert_eq!(per.iter().filter(|e| **e == other.id).count(), 1);
        assert!(!per.contains(&off.id.as_str()), "disabled endpoints wait");
        assert!(first.iter().all(|c| c.attempt == 1 && c.secrets.len() == 1));
        // Those two are in flight: nothing more for that endpoint, and the leased rows stay leased.
        assert!(
            claim(HashMap::from([(busy.id.clone(), 2)]))
                .await
                .is_empty()
        );
        let next = claim(HashMap::from([(busy.id.clone(), 1)])).await;
        assert_eq!(next.len(), 1);
        assert!(first.iter().all(|c| c.id != next[0].id));
        let due = {
            let b = busy.id.clone();
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
        let ep = e.id.clone();
        let id = store
            .db
            .run(move |c| store::insert_delivery(c, &ep, "ev-0", INVITED, "{}".into()))
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
                    delivery_id: d.id.clone(),
                    endpoint_id: d.endpoint_id.clone(),
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
        let row = |id: String| {
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
        let i = id.clone();
        store
            .db
            .transaction(move |c| store::redeliver(c, &i))
            .await
            .unwrap();
        record(outcome(&first[0])).await;
        let d = row(id.clone()).await;
        assert_eq!(
            (d.status.as_str(), d.attempts),
            ("pending", 1),
            "the redelivery is still due"
        );
        let second = claim().await;
        assert_eq!((second.len(), second[0].attempt), (1, 2));
        record(outcome(&second[0])).await;
        let d = row(id.clone()).await;
        assert_eq!((d.status.as_str(), d.attempts), ("delivered", 2));
        // A late outcome of the first attempt (its lease long gone) changes nothing.
        record(outcome(&first[0])).await;
        assert_eq!(row(id).await.status, "delivered");
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
            let attempts = format!(
                "webhook_attempts_total{{event_type=\"{INVITED}\",outcome=\"{outcome}\"}} 1"
            );
            let timed =
                format!("webhook_attempt_duration_seconds_count{{outcome=\"{outcome}\"}} 1");
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
            .find_map(|l| {
                l.strip_prefix("webhook_attempt_duration_seconds_sum{outcome=\"timeout\"} ")
            })
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
}
