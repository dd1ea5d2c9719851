//! Shared set-up for the bus's integration tests.
//!
//! The tests run against the real RabbitMQ ([`AMQP_URL`]) and the real PostgreSQL
//! ([`PG_SERVER`]); when either is down they fail, saying how to start it. Every test gets its
//! own exchange and queue prefix (`test-<uuidv7>`), its own PostgreSQL database (or SQLite
//! directory), and cleans them up when its [`TestEnv`] is dropped, also when the test fails.
//!
//! One test (`tests/amqp_restart.rs`) restarts the broker. Test binaries run in parallel
//! under nextest, so every test that uses RabbitMQ holds a shared `flock` on
//! [`BROKER_LOCK_PATH`] for its duration and the restart test holds it exclusively.

#![allow(dead_code)]

use std::{
    collections::{HashMap, HashSet},
    fs::File,
    future::Future,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use diesel::{
    RunQueryDsl,
    sql_types::{BigInt, Text},
};
use hub_bus::{Events, Handler, HandlerError, Store, Subscription, Transport, amqp::AmqpTransport};
use hub_events::{Envelope, ReferralUpdated, ReferralWithdrawn, Urgency};
use hub_platform::{
    Database, DbConnection, Settings,
    config::BusSettings,
    db::{DbError, drop_postgres_database},
};
use lapin::{
    Channel, Connection, ConnectionProperties,
    message::Delivery,
    options::{BasicGetOptions, ExchangeDeleteOptions, QueueDeleteOptions},
    types::AMQPValue,
};
use tokio::task::{AbortHandle, JoinHandle};
use uuid::Uuid;

pub const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
pub const PG_SERVER: &str = "postgres://postgres@127.0.0.1:5432";
pub const BROKER_LOCK_PATH: &str = "/tmp/hub-rabbitmq-restart.lock";
/// Delays between retries in these tests (the defaults are seconds to a minute).
pub const RETRY_DELAYS_MS: [u64; 2] = [50, 100];

pub const START_RABBITMQ: &str = "Start it with `rabbitmq-server -detached`.";
pub const START_POSTGRES: &str =
    "Start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`.";

/// The event type the tests emit and subscribe to.
pub const WITHDRAWN: &str = "referral.withdrawn";
/// An event type no test subscription is bound to.
pub const UPDATED: &str = "referral.updated";

pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// A cross-process lock on the broker: shared by ordinary AMQP tests, exclusive while the
/// broker is restarted. Released when dropped (the file is closed).
pub struct BrokerLock(File);

fn lock_file() -> File {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(BROKER_LOCK_PATH)
        .unwrap_or_else(|e| panic!("cannot open the broker lock {BROKER_LOCK_PATH}: {e}"))
}

impl BrokerLock {
    /// For tests that only need the broker to stay up.
    // `File::lock`/`lock_shared` are stable since Rust 1.89, one release above the workspace's
    // declared rust-version (1.88): these tests need 1.89+ to build. Raising the workspace's
    // rust-version to 1.89 would make both `allow`s unnecessary.
    pub fn shared() -> Self {
        let f = lock_file();
        f.lock_shared()
            .unwrap_or_else(|e| panic!("cannot lock {BROKER_LOCK_PATH}: {e}"));
        Self(f)
    }

    /// For the test that stops and starts the broker.
    pub fn exclusive() -> Self {
        let f = lock_file();
        f.lock()
            .unwrap_or_else(|e| panic!("cannot lock {BROKER_LOCK_PATH}: {e}"));
        Self(f)
    }
}

/// What a test created outside its process, removed on drop (on a thread of its own, so it
/// also runs while a failing test unwinds).
#[derive(Default)]
struct Cleanup {
    exchange: Option<String>,
    queues: Vec<String>,
    postgres_url: Option<String>,
    sqlite_dir: Option<PathBuf>,
}

impl Cleanup {
    fn run(self) {
        let Cleanup {
            exchange,
            queues,
            postgres_url,
            sqlite_dir,
        } = self;
        if exchange.is_some() || !queues.is_empty() {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            let done = rt.block_on(async {
                tokio::time::timeout(
                    Duration::from_secs(20),
                    delete_amqp(&queues, exchange.as_deref()),
                )
                .await
            });
            match done {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    eprintln!("clean-up: could not delete the test's queues/exchange: {e}")
                }
                Err(_) => eprintln!("clean-up: timed out deleting the test's queues/exchange"),
            }
        }
        if let Some(url) = postgres_url
            && let Err(e) = drop_postgres_database(&url)
        {
            eprintln!("clean-up: could not drop {url}: {e:#}");
        }
        if let Some(dir) = sqlite_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

async fn delete_amqp(queues: &[String], exchange: Option<&str>) -> Result<(), lapin::Error> {
    let conn = Connection::connect(AMQP_URL, ConnectionProperties::default()).await?;
    let mut ch = conn.create_channel().await?;
    for q in queues {
        if ch
            .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
            .await
            .is_err()
        {
            ch = conn.create_channel().await?;
        }
    }
    if let Some(x) = exchange {
        let _ = ch
            .exchange_delete(x.into(), ExchangeDeleteOptions::default())
            .await;
    }
    let _ = conn.close(200, "test clean-up".into()).await;
    Ok(())
}

/// One test's isolated world.
pub struct TestEnv {
    /// `test-<uuidv7>`: the exchange and the queue prefix.
    pub id: String,
    pub settings: BusSettings,
    database_url: Option<String>,
    cleanup: Mutex<Cleanup>,
    transports: Mutex<Vec<Arc<AmqpTransport>>>,
    relays: Mutex<Vec<AbortHandle>>,
    _lock: Option<BrokerLock>,
}

impl TestEnv {
    fn new(url: &str, lock: Option<BrokerLock>) -> Self {
        init_tracing();
        let id = format!("test-{}", Uuid::now_v7());
        let mut settings = Settings::load_with(&[
            ("bus.url", url),
            ("bus.exchange", &id),
            ("bus.queue_prefix", &id),
            ("bus.relay_poll_ms", "50"),
            ("bus.prefetch", "32"),
        ])
        .expect("test settings")
        .bus;
        // `Settings::load_with` overrides are strings, and only the environment source splits
        // lists (`HUB__BUS__RETRY_DELAYS_MS=50,100`), so the list is set here.
        settings.retry_delays_ms = RETRY_DELAYS_MS.to_vec();
        let is_amqp = url.starts_with("amqp");
        let cleanup = Cleanup {
            exchange: is_amqp.then(|| id.clone()),
            ..Default::default()
        };
        Self {
            id,
            settings,
            database_url: None,
            cleanup: Mutex::new(cleanup),
            transports: Mutex::default(),
            relays: Mutex::default(),
            _lock: lock,
        }
    }

    /// A test on RabbitMQ, holding the shared broker lock.
    pub fn amqp() -> Self {
        Self::new(AMQP_URL, Some(BrokerLock::shared()))
    }

    /// A test on RabbitMQ that already holds `lock` (the restart test: exclusive).
    pub fn amqp_locked(lock: BrokerLock) -> Self {
        Self::new(AMQP_URL, Some(lock))
    }

    /// A test of the in-process transport.
    pub fn memory() -> Self {
        Self::new("memory://", None)
    }

    /// This test's PostgreSQL database: `hub_bus_<uuid>`.
    pub fn postgres_url(&mut self) -> String {
        let url = self
            .database_url
            .get_or_insert_with(|| format!("{PG_SERVER}/hub_bus_{}", Uuid::now_v7().simple()))
            .clone();
        self.cleanup.lock().unwrap().postgres_url = Some(url.clone());
        url
    }

    /// A store on this test's PostgreSQL database (created and migrated on first use). Each
    /// call opens a pool of its own, as another replica would.
    pub async fn postgres(&mut self, service: &str) -> Store {
        let url = self.postgres_url();
        let db = Database::connect(&url, service, 4)
            .await
            .unwrap_or_else(|e| {
                panic!("PostgreSQL is not reachable at {PG_SERVER}: {e:#}\n{START_POSTGRES}")
            });
        prepare(&db).await;
        Store::new(db, service)
    }

    /// A store on a fresh SQLite database in a temporary directory.
    pub async fn sqlite(&mut self, service: &str) -> Store {
        let dir = std::env::temp_dir().join(format!("hub-bus-{}", self.id));
        self.cleanup.lock().unwrap().sqlite_dir = Some(dir.clone());
        let db = Database::connect(&format!("sqlite://{}", dir.display()), service, 4)
            .await
            .unwrap_or_else(|e| panic!("cannot open SQLite in {}: {e:#}", dir.display()));
        prepare(&db).await;
        Store::new(db, service)
    }

    /// A new connection to RabbitMQ with this test's exchange and prefix.
    pub async fn transport(&self) -> Arc<AmqpTransport> {
        self.transport_counting(hub_bus::BusMetrics::default())
            .await
    }

    /// [`TestEnv::transport`], counting what its consumers do into `metrics`.
    pub async fn transport_counting(&self, metrics: hub_bus::BusMetrics) -> Arc<AmqpTransport> {
        let t = AmqpTransport::connect_with_metrics(&self.settings, metrics)
            .await
            .unwrap_or_else(|e| {
                panic!("RabbitMQ is not reachable at {AMQP_URL}: {e}\n{START_RABBITMQ}")
            });
        self.transports.lock().unwrap().push(t.clone());
        t
    }

    /// A subscription whose queues are deleted when the test ends.
    pub fn subscription(&self, service: &str, name: &str, event_types: &[&str]) -> Subscription {
        let q = self.queue(service, name);
        let mut cleanup = self.cleanup.lock().unwrap();
        for name in [q.clone(), format!("{q}.dlq")]
            .into_iter()
            .chain((0..self.settings.retry_delays_ms.len()).map(|n| format!("{q}.retry.{n}")))
        {
            if !cleanup.queues.contains(&name) {
                cleanup.queues.push(name);
            }
        }
        Subscription::new(service, name, event_types)
    }

    /// The name of a subscription's main queue.
    pub fn queue(&self, service: &str, name: &str) -> String {
        format!("{}.{service}.{name}", self.settings.queue_prefix)
    }

    /// Starts a relay of `store` onto `transport`; it is stopped when the test ends.
    pub fn relay(&self, store: &Store, transport: Arc<dyn Transport>) -> JoinHandle<()> {
        let handle = hub_bus::relay::spawn(store, transport, &self.settings);
        self.relays.lock().unwrap().push(handle.abort_handle());
        handle
    }

    /// The orderly end of a test: stops the relays, deletes the topology with
    /// [`AmqpTransport::teardown`] and shuts the transports down. Whatever is left (the
    /// database, queues of transports that were already shut down) goes on drop.
    pub async fn finish(self) {
        for relay in self.relays.lock().unwrap().drain(..) {
            relay.abort();
        }
        let transports: Vec<_> = self.transports.lock().unwrap().drain(..).collect();
        for t in &transports {
            if t.ready().await.is_ok() {
                t.teardown().await.expect("teardown");
            }
        }
        for t in &transports {
            t.shutdown().await;
        }
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        for relay in self.relays.lock().unwrap().drain(..) {
            relay.abort();
        }
        let cleanup = std::mem::take(&mut *self.cleanup.lock().unwrap_or_else(|e| e.into_inner()));
        if let Err(e) = std::thread::spawn(move || cleanup.run()).join() {
            eprintln!("clean-up panicked: {e:?}");
        }
    }
}

/// Migrates the bus's tables and adds the tests' effect table: deliberately without a key, so
/// an effect applied twice shows up as two rows.
async fn prepare(db: &Database) {
    static SETS: [&hub_platform::db::Migrations; 1] = [&hub_bus::MIGRATIONS];
    db.migrate(&SETS).await.expect("migrating the bus tables");
    db.run(|c| {
        diesel::sql_query(
            "CREATE TABLE IF NOT EXISTS effects (event_id TEXT NOT NULL, consumer TEXT NOT NULL)",
        )
        .execute(c)?;
        Ok(())
    })
    .await
    .expect("creating the effects table");
}

/// A handler body for [`Store::handler`]: records one effect row per call.
pub fn record_effect(
    consumer: &'static str,
) -> impl Fn(&mut DbConnection, &Envelope, &mut Events) -> Result<(), DbError> + Send + Sync + 'static
{
    move |c, env, _| {
        diesel::sql_query("INSERT INTO effects (event_id, consumer) VALUES ($1, $2)")
            .bind::<Text, _>(env.id.to_string())
            .bind::<Text, _>(consumer)
            .execute(c)?;
        Ok(())
    }
}

#[derive(diesel::QueryableByName)]
struct Counts {
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    ids: i64,
}

/// Effect rows recorded by `consumer`: (rows, distinct event ids).
pub async fn effects(store: &Store, consumer: &'static str) -> (i64, i64) {
    store
        .db
        .run(move |c| {
            let n: Counts = diesel::sql_query(
                "SELECT count(*) AS total, count(DISTINCT event_id) AS ids FROM effects WHERE consumer = $1",
            )
            .bind::<Text, _>(consumer)
            .get_result(c)?;
            Ok((n.total, n.ids))
        })
        .await
        .expect("counting effects")
}

#[derive(diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = Text)]
    id: String,
}

/// The event ids with an effect by `consumer`.
pub async fn effect_ids(store: &Store, consumer: &'static str) -> HashSet<Uuid> {
    store
        .db
        .run(move |c| {
            let rows: Vec<Id> =
                diesel::sql_query("SELECT event_id AS id FROM effects WHERE consumer = $1")
                    .bind::<Text, _>(consumer)
                    .load(c)?;
            Ok(rows
                .into_iter()
                .map(|r| r.id.parse().expect("a uuid"))
                .collect())
        })
        .await
        .expect("reading effects")
}

/// Runs a query returning one bigint column `n`, e.g. `SELECT count(*) AS n FROM inbox`.
pub async fn count(store: &Store, sql: &'static str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    store
        .db
        .run(move |c| Ok(diesel::sql_query(sql).get_result::<N>(c)?.n))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

pub async fn pending(store: &Store) -> i64 {
    hub_bus::relay::pending(store)
        .await
        .expect("counting pending outbox rows")
}

pub fn withdrawn() -> ReferralWithdrawn {
    ReferralWithdrawn {
        referral_id: Uuid::now_v7(),
        council: "E08000014".into(),
        reason: "test".into(),
    }
}

/// Writes `n` events (one transaction each) and returns their ids.
pub async fn emit(store: &Store, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        ids.push(
            store
                .write(|_, ev| Ok(ev.emit("LCR-PPA", &withdrawn())))
                .await
                .expect("writing an event"),
        );
    }
    ids
}

/// An event nobody in these tests subscribes to.
pub fn updated() -> ReferralUpdated {
    ReferralUpdated {
        referral_id: Uuid::now_v7(),
        version: 2,
        council: "E08000014".into(),
        urgency: Urgency::Urgent,
        needs: vec![],
    }
}

/// Polls `check` until it passes or `timeout` runs out (then fails with its last complaint).
pub async fn eventually<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let last = match check().await {
            Ok(()) => return,
            Err(e) => e,
        };
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}: {last}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the outbox of `store` holds no unpublished row.
pub async fn expect_drained(store: &Store, timeout: Duration) {
    eventually("the outbox to drain", timeout, || async {
        match pending(store).await {
            0 => Ok(()),
            n => Err(format!("{n} pending")),
        }
    })
    .await;
}

/// Waits until `transport` reports itself not ready (the broker is gone).
pub async fn expect_disconnected(transport: &dyn Transport, timeout: Duration) {
    eventually(
        "readiness to fail while the broker is down",
        timeout,
        || async {
            match transport.ready().await {
                Err(_) => Ok(()),
                Ok(()) => Err("still ready".into()),
            }
        },
    )
    .await;
}

/// Waits until `consumer` has applied exactly the events `ids` (each once), then waits a
/// little longer and checks again, so that a late duplicate would be caught.
pub async fn expect_applied_once(
    store: &Store,
    consumer: &'static str,
    ids: &[Uuid],
    timeout: Duration,
) {
    let n = ids.len() as i64;
    eventually(&format!("{n} effects by {consumer}"), timeout, || async {
        match effects(store, consumer).await {
            (_, d) if d >= n => Ok(()),
            (t, d) => Err(format!("{t} rows, {d} distinct events")),
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(750)).await;
    assert_eq!(
        effects(store, consumer).await,
        (n, n),
        "{consumer}: every event applied exactly once"
    );
    let want: HashSet<Uuid> = ids.iter().copied().collect();
    assert_eq!(
        effect_ids(store, consumer).await,
        want,
        "{consumer}: the events applied are the events written"
    );
}

/// A handler that counts every delivery it sees, without deduplication.
#[derive(Default)]
pub struct Tally {
    seen: Mutex<HashMap<Uuid, usize>>,
}

impl Tally {
    pub fn total(&self) -> usize {
        self.seen.lock().unwrap().values().sum()
    }
    pub fn distinct(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
    pub fn of(&self, id: Uuid) -> usize {
        self.seen.lock().unwrap().get(&id).copied().unwrap_or(0)
    }
    /// Ids delivered more than once, with their counts.
    pub fn duplicates(&self) -> Vec<(Uuid, usize)> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(id, n)| (*id, *n))
            .collect()
    }
}

#[async_trait::async_trait]
impl Handler for Tally {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandlerError> {
        *self.seen.lock().unwrap().entry(envelope.id).or_default() += 1;
        Ok(())
    }

    async fn dead_letter(&self, envelope: Envelope, error: String, _attempts: u32) {
        panic!(
            "the tally never fails, yet {} was dead-lettered: {error}",
            envelope.id
        );
    }
}

/// A second, plain connection to RabbitMQ for looking at queues from outside the transport.
pub async fn raw_channel() -> (Connection, Channel) {
    let conn = Connection::connect(AMQP_URL, ConnectionProperties::default())
        .await
        .unwrap_or_else(|e| {
            panic!("RabbitMQ is not reachable at {AMQP_URL}: {e}\n{START_RABBITMQ}")
        });
    let ch = conn.create_channel().await.expect("a channel");
    (conn, ch)
}

/// Takes one message off `queue`, waiting up to `timeout` for it.
pub async fn get_one(ch: &Channel, queue: &str, timeout: Duration) -> Delivery {
    let deadline = Instant::now() + timeout;
    loop {
        let got = ch
            .basic_get(queue.into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap_or_else(|e| panic!("basic_get {queue}: {e}"));
        if let Some(m) = got {
            return m.delivery;
        }
        assert!(
            Instant::now() < deadline,
            "nothing arrived on {queue} within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Messages ready on `queue` (a passive declare).
pub async fn depth(ch: &Channel, queue: &str) -> u32 {
    let q = ch
        .queue_declare(
            queue.into(),
            lapin::options::QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            Default::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("passive declare of {queue}: {e}"));
    q.message_count()
}

pub fn header_str(d: &Delivery, key: &str) -> Option<String> {
    match d.properties.headers().as_ref()?.inner().get(key)? {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}

pub fn header_int(d: &Delivery, key: &str) -> Option<i64> {
    match d.properties.headers().as_ref()?.inner().get(key)? {
        AMQPValue::LongInt(i) => Some(i64::from(*i)),
        AMQPValue::LongLongInt(i) => Some(*i),
        AMQPValue::ShortInt(i) => Some(i64::from(*i)),
        _ => None,
    }
}
