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

mod recorder;
mod resolver;
mod send;
#[cfg(test)]
mod tests;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use hub_bus::Store;
use hub_platform::config::WebhookSettings;
use tokio::{
    sync::{Notify, Semaphore, mpsc},
    task::JoinHandle,
};

use crate::{
    domain::{self, RetryPolicy},
    handlers::metrics::WebhookMetrics,
    ids::EndpointId,
    store::{self, Attempt, Next, now_ms},
};

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
type InFlight = Arc<Mutex<HashMap<EndpointId, usize>>>;

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
        .dns_resolver(Arc::new(resolver::PublicOnly(destinations.clone())))
        .user_agent(concat!(
            "commissioning-hub-webhooks/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()?;
    let concurrency = settings.concurrency.max(1);
    let (recorder, attempts) = mpsc::unbounded_channel();
    let retry_due = Arc::new(AtomicI64::new(i64::MAX));
    tokio::spawn(recorder::record(
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

/// Counts a delivery in flight for its endpoint until dropped.
struct InFlightGuard {
    in_flight: InFlight,
    endpoint: EndpointId,
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
    fn in_flight_now(&self) -> HashMap<EndpointId, usize> {
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
                    .entry(delivery.endpoint_id)
                    .or_default() += 1;
                let guard = InFlightGuard {
                    in_flight: self.in_flight.clone(),
                    endpoint: delivery.endpoint_id,
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
}
