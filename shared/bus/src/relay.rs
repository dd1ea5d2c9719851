//! The outbox relay: publishes committed outbox rows and marks them published.
//!
//! Rows are claimed with a lease (`claimed_until_ms`, `claimed_by` = the relay instance) using
//! [`DbConnection::skip_locked_clause`], so replicas sharing a PostgreSQL outbox never publish
//! the same row at the same time. The relay is woken at every commit that wrote events. The
//! events its store commits are handed to it in memory, their rows leased to it at insert
//! ([`Store`]), so it publishes them without a claim; it claims at start, when rows were
//! written before it ran, and on its own clock (see below). On PostgreSQL a claim is one
//! statement on its own (no BEGIN/COMMIT round trips); SQLite's go through the in-process
//! write lock. Published rows are marked by one marker task, in one statement for all the rows
//! whose publish finished while the previous mark ran (and in the few milliseconds after it).
//!
//! Recovery runs on a clock, whatever the write rate (issue 17):
//! * **The clock** (`bus.relay_poll_ms`, 1 s by default) is an interval of its own: commits
//!   wake the relay but never push the next tick back, so under a steady load failed
//!   publishes and dead relays' rows are still claimed every tick, not only once the load
//!   stops. While the transport says it is not connected a tick claims nothing (the rows
//!   would only fail again and climb their backoff).
//! * **Failed publishes** back off 500 ms, 1 s, then 2 s at most ([`retry_backoff_ms`]), so
//!   once the broker is back every row that failed is due again within 2 s and claimed by
//!   the next tick: the backlog goes out within about 3 s of the connection coming back.
//! * **Heartbeats.** Each relay instance (one per process and store, a UUIDv7) records a
//!   heartbeat in `relay_heartbeats` every second. A row leased to an instance whose
//!   heartbeat is older than [`DEAD_AFTER_MS`] (5 s), or that has none, is claimable at once,
//!   whatever its lease says: a killed process's rows go out a few seconds after it died
//!   (heartbeat stale, then the next tick of any live relay), not after its 60 s lease. The
//!   price is a possible second publish by a live relay that could not reach its database
//!   for 5 s, which at-least-once delivery and the consumers' inboxes absorb anyway.
//!   Heartbeats of instances silent for a day are deleted when an instance starts. The
//!   in-process transport (embedded: one process owns the database) keeps no heartbeat.
//! * **Readiness** ([`OutboxReadiness`]): not ready while a row has waited longer than
//!   `bus.outbox_ready_max_age_ms` (30 s by default) unpublished; rows younger than that are
//!   the normal traffic or a blip (a broker restart of a second) and do not flip it.

use std::{sync::Arc, time::Duration};

use diesel::{
    ExpressionMethods, QueryDsl, RunQueryDsl,
    sql_types::{BigInt, Nullable, Text},
};
use hub_events::Envelope;
use hub_platform::{
    Backend,
    config::BusSettings,
    db::{DbConnection, DbError},
};
use tokio::{
    sync::{Semaphore, mpsc},
    task::JoinHandle,
    time::MissedTickBehavior,
};

use crate::{Store, Transport, now_ms, schema::outbox};

/// How long a claimed row stays invisible to other live relays while it is being published
/// (plus, in-process, the time its subscribers may spend retrying). A dead holder's rows are
/// claimable sooner, once its heartbeat is stale.
const LEASE_MS: i64 = 60_000;
/// How often a relay instance records that it is alive.
const HEARTBEAT: Duration = Duration::from_secs(1);
/// A lease holder whose last heartbeat is older than this is presumed dead: five missed beats.
pub const DEAD_AFTER_MS: i64 = 5_000;
/// Heartbeats of instances silent this long are deleted (at an instance's start).
const FORGET_AFTER_MS: i64 = 24 * 3_600_000;
/// Publishes in flight at once per relay.
const IN_FLIGHT: usize = 256;
const BATCH: i64 = 100;
/// Rows marked published per statement at most.
const MARK_BATCH: usize = 500;
/// How long the marker waits for more publishes to finish before marking (off the events'
/// path: they are published already).
const MARK_LINGER: Duration = Duration::from_millis(5);

#[derive(diesel::QueryableByName)]
struct Claimed {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    envelope: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    attempts: i32,
}

/// Claims for `instance` up to `limit` unpublished rows whose lease is free: never leased,
/// run out (a failed publish's backoff is a lease without holder), or held by another
/// instance that has stopped heartbeating.
fn claim(
    conn: &mut DbConnection,
    instance: &str,
    limit: i64,
    lease_ms: i64,
) -> Result<Vec<Claimed>, DbError> {
    let now = now_ms();
    let sql = format!(
        "UPDATE outbox SET claimed_until_ms = $1, claimed_by = $2, attempts = attempts + 1 \
         WHERE id IN (\
           SELECT id FROM outbox WHERE published_ms IS NULL \
           AND (claimed_until_ms IS NULL OR claimed_until_ms < $3 \
                OR (claimed_by IS NOT NULL AND claimed_by <> $4 AND NOT EXISTS (\
                    SELECT 1 FROM relay_heartbeats h \
                    WHERE h.instance = outbox.claimed_by AND h.beat_ms >= $5))) \
           ORDER BY id LIMIT $6{}) \
         RETURNING id, envelope, attempts",
        conn.skip_locked_clause()
    );
    let mut rows: Vec<Claimed> = diesel::sql_query(sql)
        .bind::<BigInt, _>(now + lease_ms)
        .bind::<Text, _>(instance)
        .bind::<BigInt, _>(now)
        .bind::<Text, _>(instance)
        .bind::<BigInt, _>(now - DEAD_AFTER_MS)
        .bind::<BigInt, _>(limit)
        .load(conn)?;
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(rows)
}

/// Records that `instance` is alive; at its start (`first`) also forgets long-silent ones.
fn beat(
    conn: &mut DbConnection,
    instance: &str,
    service: &str,
    first: bool,
) -> Result<(), DbError> {
    let now = now_ms();
    if first {
        diesel::sql_query("DELETE FROM relay_heartbeats WHERE beat_ms < $1")
            .bind::<BigInt, _>(now - FORGET_AFTER_MS)
            .execute(conn)?;
    }
    diesel::sql_query(
        "INSERT INTO relay_heartbeats (instance, service, beat_ms) VALUES ($1, $2, $3) \
         ON CONFLICT (instance) DO UPDATE SET beat_ms = excluded.beat_ms",
    )
    .bind::<Text, _>(instance)
    .bind::<Text, _>(service)
    .bind::<BigInt, _>(now)
    .execute(conn)?;
    Ok(())
}

/// Beats every [`HEARTBEAT`] until aborted (with its relay), warning once per run of failures.
async fn heartbeat(store: Store, instance: Arc<str>) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tick.tick().await;
    let mut failing = false;
    loop {
        tick.tick().await;
        let (i, service) = (instance.clone(), store.service.clone());
        match store.db.run(move |c| beat(c, &i, &service, false)).await {
            Ok(()) => failing = false,
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, service = %store.service, "outbox relay heartbeat failed; retrying every second");
            }
            Err(_) => {}
        }
    }
}

/// Aborts a task when dropped: the relay's helpers die with it.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the relay of `store`'s outbox onto `transport`. From then on the events the store's
/// transactions write are handed to it at commit (leased to it in the outbox); it claims
/// rows only at start, after rows were written without a lease, at each tick of its clock
/// and while a claim comes back full.
pub fn spawn(
    store: &Store,
    transport: Arc<dyn Transport>,
    settings: &BusSettings,
) -> JoinHandle<()> {
    let store = store.clone();
    let poll = Duration::from_millis(settings.relay_poll_ms.max(10));
    let lease_ms = LEASE_MS + settings.retry_delays_ms.iter().sum::<u64>() as i64;
    tokio::spawn(async move {
        let wake = store.wake_signal();
        let instance: Arc<str> = uuid::Uuid::now_v7().to_string().into();
        let _heartbeat = start_instance(&store, transport.as_ref(), &instance).await;
        store.attach_relay(instance.clone(), lease_ms);
        let mut clock = tokio::time::interval(poll);
        clock.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // The first tick is now, and the relay claims at start anyway.
        clock.tick().await;
        let (published, marks) = mpsc::unbounded_channel();
        tokio::spawn(mark_published(store.clone(), marks));
        let sender = Sender {
            store: store.clone(),
            transport: transport.clone(),
            published,
            permits: Arc::new(Semaphore::new(IN_FLIGHT)),
        };
        let mut claim_now = true;
        loop {
            for env in store.take_handed_off() {
                let row = Outgoing {
                    id: env.id.to_string(),
                    envelope: Ok(env),
                    attempts: 1,
                };
                sender.send(row).await;
            }
            if claim_now || store.take_unleased() {
                let room = sender.permits.available_permits().min(BATCH as usize) as i64;
                if room == 0 {
                    let _ = sender.permits.clone().acquire_owned().await.map(drop);
                    claim_now = true;
                    continue;
                }
                let batch = match claim_rows(&store, &instance, room, lease_ms).await {
                    Ok(b) => b,
                    Err(e) => {
                        tracing::warn!(error = %e, service = %store.service, "outbox claim failed; retrying");
                        clock.tick().await;
                        claim_now = true;
                        continue;
                    }
                };
                // A full batch: there may be more to claim at once.
                claim_now = batch.len() as i64 == room;
                for row in batch {
                    sender
                        .send(Outgoing {
                            envelope: Envelope::from_json(row.envelope.as_bytes())
                                .map_err(|e| format!("outbox row is not an envelope: {e}")),
                            id: row.id,
                            attempts: row.attempts,
                        })
                        .await;
                }
                if claim_now {
                    continue;
                }
            }
            // The clock first: a tick is never lost to a stream of commits. At a tick, claim
            // (failed publishes due again, dead relays' rows) unless the transport is down.
            // Woken by a commit, publish its events handed over (or claim rows noted unleased).
            claim_now = tokio::select! {
                biased;
                _ = clock.tick() => transport.ready().await.is_ok(),
                _ = wake.notified() => false,
            };
        }
    })
}

/// A relay instance's start. In-process, one process owns an embedded database: leases left
/// by a previous run are void, and no other relay shares it (no heartbeat to keep). Over a
/// broker, a new instance's heartbeat is in before any row is leased to it; the returned
/// guard keeps it beating.
async fn start_instance(
    store: &Store,
    transport: &dyn Transport,
    instance: &Arc<str>,
) -> Option<AbortOnDrop> {
    if transport.in_process() {
        let reset = store
            .db
            .run(|c| {
                diesel::update(outbox::table.filter(outbox::published_ms.is_null()))
                    .set(outbox::claimed_until_ms.eq(None::<i64>))
                    .execute(c)?;
                Ok(())
            })
            .await;
        if let Err(e) = reset {
            tracing::warn!(error = %e, "could not reset outbox leases");
        }
        return None;
    }
    let (i, service) = (instance.clone(), store.service.clone());
    if let Err(e) = store.db.run(move |c| beat(c, &i, &service, true)).await {
        tracing::warn!(error = %e, service = %store.service, "outbox relay heartbeat failed; retrying every second");
    }
    Some(AbortOnDrop(tokio::spawn(heartbeat(
        store.clone(),
        instance.clone(),
    ))))
}

/// Leases up to `room` rows to `instance` (see [`claim`]).
async fn claim_rows(
    store: &Store,
    instance: &Arc<str>,
    room: i64,
    lease_ms: i64,
) -> Result<Vec<Claimed>, DbError> {
    let i = instance.clone();
    match store.db.backend() {
        // One atomic statement: no transaction needed around it.
        Backend::Postgres => store.db.run(move |c| claim(c, &i, room, lease_ms)).await,
        Backend::Sqlite => {
            store
                .db
                .transaction(move |c| claim(c, &i, room, lease_ms))
                .await
        }
    }
}

/// Publishes rows, each in a task of its own, at most [`IN_FLIGHT`] at a time.
struct Sender {
    store: Store,
    transport: Arc<dyn Transport>,
    published: mpsc::UnboundedSender<Published>,
    permits: Arc<Semaphore>,
}

impl Sender {
    /// Waits for room, then publishes `row` in a task of its own. The permit is held until
    /// the row is marked: the lease keeps it from being claimed again meanwhile anyway.
    async fn send(&self, row: Outgoing) {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore never closes");
        let (store, transport, published) = (
            self.store.clone(),
            self.transport.clone(),
            self.published.clone(),
        );
        tokio::spawn(async move {
            publish_one(&store, transport.as_ref(), row, &published, permit).await;
        });
    }
}

/// An outbox row to publish.
struct Outgoing {
    id: String,
    envelope: Result<Envelope, String>,
    /// Publishes tried so far, this one included.
    attempts: i32,
}

/// A published row's id, with its relay permit (released once the row is marked).
type Published = (String, tokio::sync::OwnedSemaphorePermit);

/// Marks published rows, all those that arrived while the previous statement ran in one.
async fn mark_published(store: Store, mut marks: mpsc::UnboundedReceiver<Published>) {
    let mut batch: Vec<Published> = Vec::new();
    while marks.recv_many(&mut batch, MARK_BATCH).await > 0 {
        tokio::time::sleep(MARK_LINGER).await;
        while batch.len() < MARK_BATCH
            && let Ok(more) = marks.try_recv()
        {
            batch.push(more);
        }
        let ids: Vec<String> = batch.iter().map(|(id, _)| id.clone()).collect();
        let result = store
            .db
            .run(move |c| {
                diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
                    .set((
                        outbox::published_ms.eq(Some(now_ms())),
                        outbox::claimed_until_ms.eq(None::<i64>),
                    ))
                    .execute(c)?;
                Ok(())
            })
            .await;
        if let Err(e) = result {
            // The rows keep their leases and are published again when they expire.
            tracing::warn!(error = %e, rows = batch.len(), "could not record outbox publishes");
        }
        batch.clear();
    }
}

async fn publish_one(
    store: &Store,
    transport: &dyn Transport,
    row: Outgoing,
    published: &mpsc::UnboundedSender<Published>,
    permit: tokio::sync::OwnedSemaphorePermit,
) {
    let id = row.id.clone();
    let outcome = match row.envelope {
        Ok(env) => publish_traced(transport, env).await,
        Err(e) => Err(e),
    };
    let e = match outcome {
        Ok(()) => {
            // Only fails once the relay is gone: the lease then runs out and the row is
            // published again by the next relay.
            let _ = published.send((id, permit));
            return;
        }
        Err(e) => e,
    };
    let result = store
        .db
        .run(move |c| {
            let backoff = retry_backoff_ms(row.attempts);
            tracing::warn!(event_id = %id, error = %e, attempts = row.attempts, "publish failed; will retry");
            // The lease is given up (no holder): any relay may claim the row once it is due.
            diesel::update(outbox::table.filter(outbox::id.eq(&id)))
                .set((
                    outbox::claimed_until_ms.eq(Some(now_ms() + backoff)),
                    outbox::claimed_by.eq(None::<String>),
                    outbox::last_error.eq(Some(e)),
                ))
                .execute(c)?;
            Ok(())
        })
        .await;
    drop(permit);
    if let Err(e) = result {
        // The row keeps its lease and is published again when it expires.
        tracing::warn!(error = %e, "could not record an outbox publish");
    }
}

/// Publishes `envelope` in a span of its own, per the OpenTelemetry messaging conventions:
/// `publish <event type>`, kind producer, a child of the span that wrote the event (its
/// context kept in the envelope, so in the outbox row), or the root of a new trace for an event
/// written outside any. The message carries this span's context: its consumers' spans are
/// its children.
async fn publish_traced(transport: &dyn Transport, mut envelope: Envelope) -> Result<(), String> {
    let span = tracing::info_span!(
        "publish",
        otel.name = %format!("publish {}", envelope.event_type),
        otel.kind = "producer",
        messaging.system = if transport.in_process() { "in_process" } else { "rabbitmq" },
        messaging.operation.name = "publish",
        messaging.operation.type = "send",
        messaging.destination.name = %envelope.event_type,
        messaging.message.id = %envelope.id,
        otel.status_code = tracing::field::Empty,
        error.type = tracing::field::Empty,
    );
    hub_platform::telemetry::set_parent(&span, &crate::trace_of(&envelope));
    crate::carry_trace(&mut envelope, hub_platform::telemetry::headers_of(&span));
    let outcome = tracing::Instrument::instrument(transport.publish(&envelope), span.clone())
        .await
        .map_err(|e| e.to_string());
    if outcome.is_err() {
        crate::record_error(&span, "publish_failed");
    }
    outcome
}

/// How long a row whose publish failed after `attempts` tries waits before it is due again:
/// 250 ms doubled per attempt, at most 2 s, so that after an outage of any length every
/// failed row is due again within 2 s of the broker's return (the relay does not claim
/// while its transport is down, so the wait is no busy loop).
pub fn retry_backoff_ms(attempts: i32) -> i64 {
    (250i64 << attempts.clamp(0, 3)).min(2_000)
}

/// The outbox's backlog: rows not yet published and when the oldest of them was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::QueryableByName)]
pub struct Backlog {
    #[diesel(sql_type = BigInt)]
    pub pending: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub oldest_created_ms: Option<i64>,
}

impl Backlog {
    /// How long the oldest pending row has waited at `now_ms` (0 when there is none).
    pub fn oldest_age_ms(&self, now_ms: i64) -> i64 {
        self.oldest_created_ms
            .map_or(0, |created| (now_ms - created).max(0))
    }
}

/// The outbox's backlog (readiness, metrics, tests): one statement over the pending index.
pub async fn backlog(store: &Store) -> Result<Backlog, DbError> {
    store
        .db
        .run(|c| {
            Ok(diesel::sql_query(
                "SELECT count(*) AS pending, min(created_ms) AS oldest_created_ms \
                 FROM outbox WHERE published_ms IS NULL",
            )
            .get_result(c)?)
        })
        .await
}

/// Rows not yet published (for tests).
pub async fn pending(store: &Store) -> Result<i64, DbError> {
    Ok(backlog(store).await?.pending)
}

/// Readiness of the event path for `/health/ready`: down while an event has waited in the
/// outbox longer than `max_age` (the relay cannot publish it), whatever the broker
/// connection says.
pub struct OutboxReadiness {
    store: Store,
    max_age: Duration,
}

impl OutboxReadiness {
    pub fn new(store: Store, max_age: Duration) -> Self {
        Self { store, max_age }
    }
}

#[async_trait::async_trait]
impl hub_platform::http::ReadinessCheck for OutboxReadiness {
    fn name(&self) -> String {
        format!("outbox {}", self.store.service)
    }

    async fn check(&self) -> Result<(), String> {
        let backlog = backlog(&self.store).await.map_err(|e| e.to_string())?;
        let age = backlog.oldest_age_ms(now_ms());
        if age > self.max_age.as_millis() as i64 {
            Err(format!(
                "{} events waiting to be published, the oldest for {:.1} s (more than {} s)",
                backlog.pending,
                age as f64 / 1000.0,
                self.max_age.as_secs_f64()
            ))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_publish_is_due_again_within_two_seconds_whatever_its_attempts() {
        assert_eq!(
            (1..=6).map(retry_backoff_ms).collect::<Vec<_>>(),
            [500, 1_000, 2_000, 2_000, 2_000, 2_000]
        );
        assert_eq!(retry_backoff_ms(0), 250);
        assert_eq!(retry_backoff_ms(i32::MAX), 2_000);
    }

    #[test]
    fn the_backlog_age_is_that_of_its_oldest_row() {
        let none = Backlog {
            pending: 0,
            oldest_created_ms: None,
        };
        assert_eq!(none.oldest_age_ms(10_000), 0);
        let some = Backlog {
            pending: 3,
            oldest_created_ms: Some(4_000),
        };
        assert_eq!(some.oldest_age_ms(10_000), 6_000);
        // A clock that stepped back never makes an age negative.
        assert_eq!(some.oldest_age_ms(3_000), 0);
    }
}
