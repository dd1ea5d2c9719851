//! A service's database seen through the bus: writes that emit events (outbox) and event
//! handlers that run once per event (inbox).
//!
//! Hand-off: once a relay runs for a store ([`crate::relay::spawn`]), the outbox rows a
//! transaction writes are leased to it at insert (`claimed_until_ms` and `claimed_by`, as a
//! claim would) and their envelopes handed to it in memory when the transaction commits, so it
//! publishes them without claiming them first. If the process dies before they are published,
//! its heartbeat stops and any relay claims them a few seconds later, as it would rows it had
//! claimed.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicI64, Ordering},
    },
};

use diesel::{
    ExpressionMethods, RunQueryDsl,
    sql_types::{BigInt, Integer, Nullable, Text},
};
use hub_events::{Envelope, Event};
use hub_platform::{
    db::{Database, DbConnection, DbError, rows_per_statement, values_rows},
    idempotency::{self, Answer, IdempotencyKey},
};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::{Handler, HandlerError, Subscription, now_ms, schema};

/// The answer stored for `org`'s `key`: replayed if `fingerprint` is the request it was
/// first sent with, a 422 `reused` otherwise.
fn stored_answer(
    conn: &mut DbConnection,
    org: &str,
    key: &str,
    fingerprint: &str,
) -> Result<Answer, DbError> {
    #[derive(diesel::QueryableByName)]
    struct Stored {
        #[diesel(sql_type = Text)]
        fingerprint: String,
        #[diesel(sql_type = Integer)]
        status: i32,
        #[diesel(sql_type = Text)]
        body: String,
        #[diesel(sql_type = Nullable<Text>)]
        location: Option<String>,
    }
    let stored: Stored = diesel::sql_query(
        "SELECT fingerprint, status, body, location FROM idempotency_keys \
         WHERE org = $1 AND idempotency_key = $2",
    )
    .bind::<Text, _>(org)
    .bind::<Text, _>(key)
    .get_result(conn)?;
    if stored.fingerprint != fingerprint {
        return Err(DbError::Problem(idempotency::reused()));
    }
    Ok(Answer {
        status: u16::try_from(stored.status).unwrap_or(500),
        body: serde_json::from_str(&stored.body).map_err(anyhow::Error::from)?,
        location: stored.location,
        replayed: true,
    })
}

/// Events to write to the outbox with the state change they belong to.
pub struct Events {
    source: String,
    trace: HashMap<String, String>,
    pending: Vec<Envelope>,
}

impl Events {
    fn new(source: String, trace: HashMap<String, String>) -> Self {
        Self {
            source,
            trace,
            pending: Vec::new(),
        }
    }

    /// Emits `event` for `partnership`; it is published after the transaction commits.
    pub fn emit<E: Event>(&mut self, partnership: &str, event: &E) -> Uuid {
        let mut env = Envelope::new(&self.source, partnership, event);
        env.traceparent = self.trace.get("traceparent").cloned();
        env.tracestate = self
            .trace
            .get("tracestate")
            .filter(|s| !s.is_empty())
            .cloned();
        let id = env.id;
        self.pending.push(env);
        id
    }

    /// Writes the pending events to the outbox, in multi-row inserts, leased to the relay
    /// that takes them over at commit, if any; returns them.
    fn flush(
        &mut self,
        conn: &mut DbConnection,
        lease: Option<&Lease>,
    ) -> Result<Vec<Envelope>, DbError> {
        const COLUMNS: usize = 6;
        let created = now_ms();
        let pending: Vec<Envelope> = self.pending.drain(..).collect();
        for chunk in pending.chunks(rows_per_statement(COLUMNS)) {
            let mut q = diesel::sql_query(format!(
                "INSERT INTO outbox (id, event_type, envelope, created_ms, claimed_until_ms, \
                 claimed_by, attempts) VALUES {}",
                // `attempts` starts at 0 in every row.
                values_rows(1, chunk.len(), COLUMNS).replace(')', ", 0)")
            ))
            .into_boxed();
            for env in chunk {
                q = q
                    .bind::<Text, _>(env.id.to_string())
                    .bind::<Text, _>(env.event_type.clone())
                    .bind::<Text, _>(String::from_utf8(env.to_json()).expect("JSON is UTF-8"))
                    .bind::<BigInt, _>(created)
                    .bind::<Nullable<BigInt>, _>(lease.map(|l| l.until_ms))
                    .bind::<Nullable<Text>, _>(lease.map(|l| l.holder.to_string()));
            }
            q.execute(conn)?;
        }
        Ok(pending)
    }
}

/// The lease new outbox rows are written with: until when, and which relay instance holds it.
struct Lease {
    until_ms: i64,
    holder: Arc<str>,
}

/// Committed events handed to the store's relay (see the module's documentation).
#[derive(Default)]
pub(crate) struct Handoff {
    /// The lease a relay running for the store takes on handed-off rows, in ms (0: no relay
    /// runs; rows are written unleased and claimed).
    lease_ms: AtomicI64,
    /// The relay instance that takes the rows over.
    holder: Mutex<Option<Arc<str>>>,
    queue: Mutex<Vec<Envelope>>,
    /// Rows were written without a lease since the relay last claimed: it must claim them.
    unleased: AtomicBool,
}

/// A service's database plus the outbox relay's wake-up call.
#[derive(Clone)]
pub struct Store {
    pub db: Database,
    pub service: String,
    wake: Arc<Notify>,
    handoff: Arc<Handoff>,
}

impl Store {
    pub fn new(db: Database, service: &str) -> Self {
        Self {
            db,
            service: service.to_owned(),
            wake: Arc::new(Notify::new()),
            handoff: Arc::default(),
        }
    }

    /// Woken whenever a transaction that emitted events commits.
    pub fn wake_signal(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// From now on the relay instance `holder` takes this store's events over at commit,
    /// leasing their rows for `lease_ms` ([`crate::relay::spawn`]).
    pub(crate) fn attach_relay(&self, holder: Arc<str>, lease_ms: i64) {
        *self
            .handoff
            .holder
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(holder);
        self.handoff
            .lease_ms
            .store(lease_ms.max(1), Ordering::SeqCst);
    }

    /// The lease to write new outbox rows with, if a relay takes them over at commit.
    fn lease(&self) -> Option<Lease> {
        match self.handoff.lease_ms.load(Ordering::SeqCst) {
            0 => None,
            ms => Some(Lease {
                until_ms: now_ms() + ms,
                holder: self
                    .handoff
                    .holder
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone()?,
            }),
        }
    }

    /// Events committed and handed to the relay since it last looked, in commit order.
    pub(crate) fn take_handed_off(&self) -> Vec<Envelope> {
        std::mem::take(&mut *self.handoff.queue.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Whether rows were written without a lease since the last call (the relay claims them).
    pub(crate) fn take_unleased(&self) -> bool {
        self.handoff.unleased.swap(false, Ordering::SeqCst)
    }

    /// After a commit that wrote `written`: hands them to the relay if they were leased to
    /// it (otherwise notes that there are rows to claim), and wakes it.
    fn committed(&self, written: Vec<Envelope>, leased: bool) {
        if written.is_empty() {
            return;
        }
        if leased {
            self.handoff
                .queue
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(written);
        } else {
            self.handoff.unleased.store(true, Ordering::SeqCst);
        }
        self.wake.notify_one();
    }

    /// Runs `f` in one transaction; the events it emits are written to the outbox in the same
    /// transaction and relayed as soon as it commits. If `f` fails nothing is written.
    pub async fn write<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection, &mut Events) -> Result<T, DbError> + Send + 'static,
    {
        let mut events = Events::new(
            self.service.clone(),
            hub_platform::telemetry::inject_current(),
        );
        let lease = self.lease();
        let leased = lease.is_some();
        let (value, written) = self
            .db
            .transaction(move |conn| {
                let value = f(conn, &mut events)?;
                let written = events.flush(conn, lease.as_ref())?;
                Ok((value, written))
            })
            .await?;
        self.committed(written, leased);
        Ok(value)
    }

    /// [`Store::write`] for a creating request that may carry an `Idempotency-Key`
    /// ([`hub_platform::idempotency`]): `f`'s [`Answer`] is stored with the key, for the
    /// calling organisation `org`, in the transaction that makes the effect. The same key
    /// again with the same request gets that answer back (`replayed`) and `f` does not run;
    /// with another request it is a 422 (`reused`). Without a key this is [`Store::write`].
    ///
    /// The key's row is inserted before `f` runs: a concurrent request with the same key
    /// waits on it (PostgreSQL) or on the write lock (SQLite), then finds the first answer
    /// committed, or the key free again if the first rolled back.
    pub async fn write_once<F>(
        &self,
        org: &str,
        key: &IdempotencyKey,
        f: F,
    ) -> Result<Answer, DbError>
    where
        F: FnOnce(&mut DbConnection, &mut Events) -> Result<Answer, DbError> + Send + 'static,
    {
        let Some(keyed) = key.0.clone() else {
            return self.write(f).await;
        };
        let org = org.to_owned();
        self.write(move |conn, events| {
            let now = now_ms();
            let expired = now - idempotency::KEY_LIFETIME_MS;
            // Keys past their lifetime are forgotten: this organisation's, as it writes.
            diesel::sql_query("DELETE FROM idempotency_keys WHERE org = $1 AND created_ms < $2")
                .bind::<Text, _>(&org)
                .bind::<BigInt, _>(expired)
                .execute(conn)?;
            let claimed = diesel::sql_query(
                "INSERT INTO idempotency_keys (org, idempotency_key, fingerprint, status, body, \
                 created_ms) VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT DO NOTHING",
            )
            .bind::<Text, _>(&org)
            .bind::<Text, _>(&keyed.key)
            .bind::<Text, _>(&keyed.fingerprint)
            .bind::<BigInt, _>(now)
            .execute(conn)?;
            if claimed == 0 {
                return stored_answer(conn, &org, &keyed.key, &keyed.fingerprint);
            }
            let answer = f(conn, events)?;
            diesel::sql_query(
                "UPDATE idempotency_keys SET status = $1, body = $2, location = $3 \
                 WHERE org = $4 AND idempotency_key = $5",
            )
            .bind::<Integer, _>(i32::from(answer.status))
            .bind::<Text, _>(answer.body.to_string())
            .bind::<Nullable<Text>, _>(answer.location.as_deref())
            .bind::<Text, _>(&org)
            .bind::<Text, _>(&keyed.key)
            .execute(conn)?;
            Ok(answer)
        })
        .await
    }

    /// Handles `envelope` for `consumer` at most once: the inbox row, the handler's writes and
    /// the events it emits commit together. Returns false if it had been handled already.
    pub async fn handle_once<F>(
        &self,
        consumer: &str,
        envelope: &Envelope,
        f: F,
    ) -> Result<bool, DbError>
    where
        F: FnOnce(&mut DbConnection, &Envelope, &mut Events) -> Result<(), DbError>
            + Send
            + 'static,
    {
        let consumer = consumer.to_owned();
        let env = envelope.clone();
        let mut events = Events::new(
            self.service.clone(),
            hub_platform::telemetry::inject_current(),
        );
        let lease = self.lease();
        let leased = lease.is_some();
        let (applied, written) = self
            .db
            .transaction(move |conn| {
                let inserted = diesel::sql_query(
                    "INSERT INTO inbox (event_id, consumer, event_type, handled_ms) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT DO NOTHING",
                )
                .bind::<Text, _>(env.id.to_string())
                .bind::<Text, _>(&consumer)
                .bind::<Text, _>(&env.event_type)
                .bind::<BigInt, _>(now_ms())
                .execute(conn)?;
                if inserted == 0 {
                    return Ok((false, Vec::new()));
                }
                f(conn, &env, &mut events)?;
                let written = events.flush(conn, lease.as_ref())?;
                Ok((true, written))
            })
            .await?;
        self.committed(written, leased);
        Ok(applied)
    }

    /// Keeps a message a consumer gave up on.
    pub async fn dead_letter(
        &self,
        consumer: &str,
        envelope: &Envelope,
        error: &str,
        attempts: u32,
    ) -> Result<(), DbError> {
        let (consumer, env, error) = (consumer.to_owned(), envelope.clone(), error.to_owned());
        self.db
            .run(move |conn| {
                use schema::dead_letters as d;
                diesel::insert_into(d::table)
                    .values((
                        d::id.eq(Uuid::now_v7().to_string()),
                        d::event_id.eq(env.id.to_string()),
                        d::consumer.eq(consumer),
                        d::event_type.eq(&env.event_type),
                        d::envelope.eq(String::from_utf8(env.to_json()).expect("JSON is UTF-8")),
                        d::error.eq(error),
                        d::attempts.eq(attempts as i32),
                        d::dead_ms.eq(now_ms()),
                    ))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    /// Builds the bus handler for `subscription` that runs `f` once per event.
    pub fn handler<F>(&self, subscription: &Subscription, f: F) -> Arc<dyn Handler>
    where
        F: Fn(&mut DbConnection, &Envelope, &mut Events) -> Result<(), DbError>
            + Send
            + Sync
            + 'static,
    {
        self.store_handler(subscription, Arc::new(f), None)
    }

    /// Like [`Store::handler`], and notifies `applied` each time `f`'s writes have committed
    /// (not for an event handled already), e.g. to wake a worker that acts on them at once.
    pub fn handler_notifying<F>(
        &self,
        subscription: &Subscription,
        applied: Arc<Notify>,
        f: F,
    ) -> Arc<dyn Handler>
    where
        F: Fn(&mut DbConnection, &Envelope, &mut Events) -> Result<(), DbError>
            + Send
            + Sync
            + 'static,
    {
        self.store_handler(subscription, Arc::new(f), Some(applied))
    }

    fn store_handler(
        &self,
        subscription: &Subscription,
        f: Arc<HandlerFn>,
        applied: Option<Arc<Notify>>,
    ) -> Arc<dyn Handler> {
        Arc::new(StoreHandler {
            store: self.clone(),
            consumer: subscription.consumer(),
            f,
            applied,
        })
    }
}

type HandlerFn =
    dyn Fn(&mut DbConnection, &Envelope, &mut Events) -> Result<(), DbError> + Send + Sync;

struct StoreHandler {
    store: Store,
    consumer: String,
    f: Arc<HandlerFn>,
    /// Notified after each commit of `f`'s writes.
    applied: Option<Arc<Notify>>,
}

#[async_trait::async_trait]
impl Handler for StoreHandler {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandlerError> {
        let f = self.f.clone();
        let applied = self
            .store
            .handle_once(&self.consumer, &envelope, move |c, e, ev| f(c, e, ev))
            .await?;
        if applied {
            if let Some(notify) = &self.applied {
                notify.notify_one();
            }
        } else {
            tracing::debug!(event_id = %envelope.id, consumer = %self.consumer, "already handled; skipped");
        }
        Ok(())
    }

    async fn dead_letter(&self, envelope: Envelope, error: String, attempts: u32) {
        if let Err(e) = self
            .store
            .dead_letter(&self.consumer, &envelope, &error, attempts)
            .await
        {
            tracing::error!(event_id = %envelope.id, consumer = %self.consumer, error = %e, "could not keep a dead letter");
        }
    }
}
