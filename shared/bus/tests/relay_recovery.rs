//! The outbox relay recovers on a clock (issue 17), against the real RabbitMQ and PostgreSQL:
//!
//! * a broker outage under a steady write load: the backlog goes out within seconds of the
//!   connection coming back, while the load goes on (not only once it stops);
//! * a relay that dies between commit and publish: a new instance of the same service
//!   publishes its rows within seconds, not after the dead one's lease.
//!
//! The outage is a TCP proxy between the relay's transport and the shared broker that the test
//! cuts (every proxied connection closed, new ones closed at once) and restores: the shared
//! broker itself is never stopped, so these tests run in parallel with the others (holding the
//! broker lock shared, like every AMQP test).

mod support;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering::SeqCst},
    },
    time::{Duration, Instant},
};

use hub_bus::{BusError, Handler, HandlerError, Subscription, Transport, relay::OutboxReadiness};
use hub_events::Envelope;
use hub_platform::http::ReadinessCheck;
use support::*;
use tokio::{
    net::{TcpListener, TcpStream},
    task::AbortHandle,
};
use uuid::Uuid;

/// How soon after the broker connection is back the backlog must be out (issue 17).
const BACKLOG_BOUND: Duration = Duration::from_secs(5);
/// How soon a new instance must publish a dead instance's rows: the dead one's heartbeat
/// goes stale (5 s) and the next tick of the relay's clock claims them.
const TAKEOVER_BOUND: Duration = Duration::from_secs(10);
const WAIT: Duration = Duration::from_secs(30);

/// A TCP proxy to the shared broker that can be cut and restored.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<AbortHandle>>>,
    listener: AbortHandle,
}

impl Proxy {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let conns: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (up2, conns2) = (up.clone(), conns.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up2.load(SeqCst) {
                    // Down: the connection is closed before the AMQP handshake.
                    drop(client);
                    continue;
                }
                let pipe = tokio::spawn(async move {
                    if let Ok(mut broker) = TcpStream::connect("127.0.0.1:5672").await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut broker).await;
                    }
                });
                conns2.lock().unwrap().push(pipe.abort_handle());
            }
        });
        Self {
            port,
            up,
            conns,
            listener: task.abort_handle(),
        }
    }

    fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    /// The broker "goes away": every proxied connection is closed and new ones are closed at once.
    fn cut(&self) {
        self.up.store(false, SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.listener.abort();
    }
}

/// Notes when each event first arrived, and how often.
#[derive(Default)]
struct Arrivals(Mutex<HashMap<Uuid, (Instant, usize)>>);

impl Arrivals {
    fn first(&self, id: &Uuid) -> Option<Instant> {
        self.0.lock().unwrap().get(id).map(|(t, _)| *t)
    }
    fn distinct(&self) -> usize {
        self.0.lock().unwrap().len()
    }
    fn duplicates(&self) -> usize {
        self.0
            .lock()
            .unwrap()
            .values()
            .filter(|(_, n)| *n > 1)
            .count()
    }
}

#[async_trait::async_trait]
impl Handler for Arrivals {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandlerError> {
        self.0
            .lock()
            .unwrap()
            .entry(envelope.id)
            .or_insert((Instant::now(), 0))
            .1 += 1;
        Ok(())
    }
    async fn dead_letter(&self, envelope: Envelope, error: String, _attempts: u32) {
        panic!("{} was dead-lettered: {error}", envelope.id);
    }
}

/// A transport whose publishes never finish: the relay of a process about to die, which has
/// committed its events and not yet published them.
struct Stalled;

#[async_trait::async_trait]
impl Transport for Stalled {
    async fn publish(&self, _: &Envelope) -> Result<(), BusError> {
        futures::future::pending().await
    }
    async fn subscribe(&self, _: Subscription, _: Arc<dyn Handler>) -> Result<(), BusError> {
        Ok(())
    }
    async fn ready(&self) -> Result<(), String> {
        Ok(())
    }
    fn in_process(&self) -> bool {
        false
    }
    async fn shutdown(&self) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_outage_backlog_goes_out_within_seconds_of_reconnecting_under_a_steady_load() {
    let mut env = TestEnv::amqp();
    // The default clock: a commit every 50 ms is far more often than the relay's poll, the
    // load under which the backlog used to wait for the load to end.
    env.settings.relay_poll_ms = 1000;
    let store = env.postgres("svc").await;
    // The consumer reaches the broker directly; only the relay's connection is cut.
    let consumer = env.transport().await;
    let arrivals = Arc::new(Arrivals::default());
    consumer
        .subscribe(
            env.subscription("consumer", "arrivals", &[WITHDRAWN]),
            arrivals.clone(),
        )
        .await
        .unwrap();
    let proxy = Proxy::start().await;
    env.settings.url = proxy.url();
    let bus = env.transport().await;
    env.relay(&store, bus.clone());
    let outbox = OutboxReadiness::new(store.clone(), Duration::from_secs(2));

    // A steady load: one event every 50 ms until told to stop.
    let written: Arc<Mutex<Vec<(Uuid, Instant)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, written, stop) = (store.clone(), written.clone(), stop.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            while !stop.load(SeqCst) {
                tick.tick().await;
                let id = emit(&store, 1).await[0];
                written.lock().unwrap().push((id, Instant::now()));
            }
        })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;

    proxy.cut();
    expect_disconnected(bus.as_ref(), WAIT).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let held = pending(&store).await;
    assert!(
        held > 50,
        "the events of the outage wait in the outbox ({held})"
    );
    let down = outbox.check().await.expect_err("not ready: events wait");
    assert!(down.contains("waiting"), "{down}");

    proxy.restore();
    eventually("the transport to reconnect", WAIT, || async {
        bus.ready().await
    })
    .await;
    let back = Instant::now();
    let before_back: Vec<Uuid> = written
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, at)| *at < back)
        .map(|(id, _)| *id)
        .collect();

    // Within the bound, with the load still on, every event written before the connection
    // came back has arrived.
    tokio::time::sleep(BACKLOG_BOUND).await;
    let late: Vec<&Uuid> = before_back
        .iter()
        .filter(|id| arrivals.first(id).is_none_or(|t| t > back + BACKLOG_BOUND))
        .collect();
    assert!(
        late.is_empty(),
        "{} of the {} events written before the broker came back were not out within {BACKLOG_BOUND:?} of it",
        late.len(),
        before_back.len()
    );
    assert!(!writer.is_finished(), "the load is still on");
    let slowest = before_back
        .iter()
        .filter_map(|id| arrivals.first(id))
        .map(|t| t.saturating_duration_since(back))
        .max();
    eprintln!(
        "backlog of {} events out {slowest:?} after the connection came back",
        before_back.len()
    );

    stop.store(true, SeqCst);
    writer.await.unwrap();
    let all = written.lock().unwrap().len();
    eventually("every event to arrive", WAIT, || async {
        match arrivals.distinct() {
            n if n == all => Ok(()),
            n => Err(format!("{n} of {all}")),
        }
    })
    .await;
    eventually(
        "the outbox to drain and readiness to come back",
        WAIT,
        || async { outbox.check().await },
    )
    .await;
    env.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_instance_publishes_the_rows_of_a_relay_killed_between_commit_and_publish() {
    let mut env = TestEnv::amqp();
    env.settings.relay_poll_ms = 1000;
    let bus = env.transport().await;
    let fx = env.subscription("consumer", "fx", &[WITHDRAWN]);
    let probe = env.postgres("probe").await;
    bus.subscribe(fx.clone(), probe.handler(&fx, record_effect("consumer.fx")))
        .await
        .unwrap();
    let raw = Arc::new(Arrivals::default());
    bus.subscribe(
        env.subscription("consumer", "raw", &[WITHDRAWN]),
        raw.clone(),
    )
    .await
    .unwrap();

    // The first instance commits its events (leased to it at insert) and dies before it has
    // published any: its relay task is gone, its heartbeat with it.
    let first = env.postgres("svc").await;
    let dying = env.relay(&first, Arc::new(Stalled));
    let ids = emit(&first, 10).await;
    eventually("the rows to be leased to the first instance", WAIT, || async {
        match count(
            &first,
            "SELECT count(*) AS n FROM outbox WHERE published_ms IS NULL AND claimed_until_ms IS NOT NULL",
        )
        .await
        {
            10 => Ok(()),
            n => Err(format!("{n} of 10 leased")),
        }
    })
    .await;
    dying.abort();
    let _ = dying.await;

    // The same service restarts at once: a new pool and a new relay instance.
    let second = env.postgres("svc").await;
    let started = Instant::now();
    env.relay(&second, bus.clone());
    eventually(
        "the new instance to publish the dead one's rows",
        TAKEOVER_BOUND,
        || async {
            match raw.distinct() {
                10 => Ok(()),
                n => Err(format!("{n} of 10 after {:?}", started.elapsed())),
            }
        },
    )
    .await;
    eprintln!(
        "the dead instance's rows were out {:?} after the new one started",
        started.elapsed()
    );
    expect_applied_once(&probe, "consumer.fx", &ids, WAIT).await;
    assert_eq!(
        raw.duplicates(),
        0,
        "the new instance published each row once"
    );
    expect_drained(&second, WAIT).await;
    env.finish().await;
}
