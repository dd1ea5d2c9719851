//! The outbox relay: publishes committed outbox rows and marks them published.
//!
//! Rows are claimed with a lease (`claimed_until_ms`) using [`DbConnection::skip_locked_clause`],
//! so replicas sharing a PostgreSQL outbox never publish the same row at the same time; a
//! replica that dies mid-way leaves its lease to expire and another publishes the row again
//! (consumers' inboxes absorb the duplicate). The relay is woken at every commit that wrote
//! events, and polls as a fallback. The events its store commits are handed to it in memory,
//! their rows leased to it at insert ([`Store`]), so it publishes them without a claim; it
//! claims at start, at each poll (failed publishes, expired leases of a dead relay) and when
//! rows were written before it ran. On PostgreSQL a claim is one statement on its own (no
//! BEGIN/COMMIT round trips); SQLite's go through the in-process write lock. Published rows are marked by one marker task, in one
//! statement for all the rows whose publish finished while the previous mark ran (and in the
//! few milliseconds after it).

use std::{sync::Arc, time::Duration};

use diesel::{
    ExpressionMethods, QueryDsl, RunQueryDsl,
    sql_types::{BigInt, Text},
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
};

use crate::{Store, Transport, now_ms, schema::outbox};

/// How long a claimed row stays invisible to other relays while it is being published
/// (plus, in-process, the time its subscribers may spend retrying).
const LEASE_MS: i64 = 60_000;
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

/// Claims up to `limit` unpublished rows whose lease is free.
fn claim(conn: &mut DbConnection, limit: i64, lease_ms: i64) -> Result<Vec<Claimed>, DbError> {
    let now = now_ms();
    let sql = format!(
        "UPDATE outbox SET claimed_until_ms = $1, attempts = attempts + 1 WHERE id IN (\
           SELECT id FROM outbox WHERE published_ms IS NULL \
           AND (claimed_until_ms IS NULL OR claimed_until_ms < $2) \
           ORDER BY id LIMIT $3{}) \
         RETURNING id, envelope, attempts",
        conn.skip_locked_clause()
    );
    let mut rows: Vec<Claimed> = diesel::sql_query(sql)
        .bind::<BigInt, _>(now + lease_ms)
        .bind::<BigInt, _>(now)
        .bind::<BigInt, _>(limit)
        .load(conn)?;
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(rows)
}

/// Starts the relay of `store`'s outbox onto `transport`. From then on the events the store's
/// transactions write are handed to it at commit (leased to it in the outbox); it claims
/// rows only at start, after rows were written without a lease, at each poll and while a
/// claim comes back full.
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
        if transport.in_process() {
            // One process owns an embedded database: leases left by a previous run are void.
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
        }
        store.attach_relay(lease_ms);
        let permits = Arc::new(Semaphore::new(IN_FLIGHT));
        let (published, marks) = mpsc::unbounded_channel();
        tokio::spawn(mark_published(store.clone(), marks));
        let mut claim_now = true;
        loop {
            for env in store.take_handed_off() {
                let permit = permits
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("semaphore never closes");
                let row = Outgoing {
                    id: env.id.to_string(),
                    envelope: Ok(env),
                    attempts: 1,
                };
                let (store, transport, published) =
                    (store.clone(), transport.clone(), published.clone());
                tokio::spawn(async move {
                    publish_one(&store, transport.as_ref(), row, &published, permit).await;
                });
            }
            if claim_now || store.take_unleased() {
                let room = permits.available_permits().min(BATCH as usize) as i64;
                if room == 0 {
                    let _ = permits.clone().acquire_owned().await.map(drop);
                    claim_now = true;
                    continue;
                }
                let claimed = match store.db.backend() {
                    // One atomic statement: no transaction needed around it.
                    Backend::Postgres => store.db.run(move |c| claim(c, room, lease_ms)).await,
                    Backend::Sqlite => {
                        store
                            .db
                            .transaction(move |c| claim(c, room, lease_ms))
                            .await
                    }
                };
                let batch = match claimed {
                    Ok(b) => b,
                    Err(e) => {
                        tracing::warn!(error = %e, service = %store.service, "outbox claim failed; retrying");
                        tokio::time::sleep(poll).await;
                        claim_now = true;
                        continue;
                    }
                };
                // A full batch: there may be more to claim at once.
                claim_now = batch.len() as i64 == room;
                for row in batch {
                    let permit = permits
                        .clone()
                        .acquire_owned()
                        .await
                        .expect("semaphore never closes");
                    let row = Outgoing {
                        envelope: Envelope::from_json(row.envelope.as_bytes())
                            .map_err(|e| format!("outbox row is not an envelope: {e}")),
                        id: row.id,
                        attempts: row.attempts,
                    };
                    let (store, transport, published) =
                        (store.clone(), transport.clone(), published.clone());
                    tokio::spawn(async move {
                        // The permit is held until the row is marked: the lease keeps it from
                        // being claimed again meanwhile anyway.
                        publish_one(&store, transport.as_ref(), row, &published, permit).await;
                    });
                }
                if claim_now {
                    continue;
                }
            }
            // Woken by a commit (its events were handed over, or rows to claim noted), or the
            // poll: then claim (failed publishes' backoffs and other relays' expired leases).
            claim_now = tokio::select! {
                _ = wake.notified() => false,
                _ = tokio::time::sleep(poll) => true,
            };
        }
    })
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
    let outcome = match &row.envelope {
        Ok(env) => transport.publish(env).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.clone()),
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
            // Back off: 1 s doubling per attempt, at most 5 s, so a broker that comes back
            // is used again promptly.
            let backoff = (1000i64 << row.attempts.clamp(0, 3)).min(5000);
            tracing::warn!(event_id = %id, error = %e, attempts = row.attempts, "publish failed; will retry");
            diesel::update(outbox::table.filter(outbox::id.eq(&id)))
                .set((
                    outbox::claimed_until_ms.eq(Some(now_ms() + backoff)),
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

/// Rows not yet published (for tests, readiness and metrics).
pub async fn pending(store: &Store) -> Result<i64, DbError> {
    store
        .db
        .run(|c| {
            Ok(outbox::table
                .filter(outbox::published_ms.is_null())
                .count()
                .get_result(c)?)
        })
        .await
}
