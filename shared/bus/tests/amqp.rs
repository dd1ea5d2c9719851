//! The AMQP transport with the outbox relay and the inbox, against the real RabbitMQ and
//! PostgreSQL. Every test holds the shared broker lock (see `support`), so the broker-restart
//! test in `amqp_restart.rs` never runs at the same time as these.

mod support;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst},
    },
    time::{Duration, Instant},
};

use diesel::{RunQueryDsl, sql_types::Text};
use hub_bus::{BusError, Handler, HandlerError, Subscription, Transport};
use hub_events::{Envelope, ReferralWithdrawn};
use hub_platform::db::DbError;
use lapin::{
    BasicProperties, options::BasicPublishOptions, options::ConfirmSelectOptions, types::AMQPValue,
};
use support::*;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(30);

/// What a [`Probe`] does when a delivery reaches it.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Hands the event to the inner handler.
    Pass,
    /// Panics on its first delivery, then passes.
    PanicFirst,
    /// Applies the event, then never returns: the process dies after the commit, before the ack.
    HangAfterCommit,
    /// Never returns and never applies: the process dies before the handler commits.
    HangBeforeCommit,
}

/// Wraps a handler to count deliveries and to simulate crashes.
struct Probe {
    inner: Arc<dyn Handler>,
    mode: Mode,
    calls: AtomicUsize,
    applied: AtomicUsize,
}

impl Probe {
    fn new(inner: Arc<dyn Handler>, mode: Mode) -> Arc<Self> {
        Arc::new(Self {
            inner,
            mode,
            calls: AtomicUsize::new(0),
            applied: AtomicUsize::new(0),
        })
    }
}

#[async_trait::async_trait]
impl Handler for Probe {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandlerError> {
        let call = self.calls.fetch_add(1, SeqCst);
        match self.mode {
            Mode::PanicFirst if call == 0 => panic!("the handler crashed (test)"),
            Mode::HangBeforeCommit => std::future::pending().await,
            _ => {}
        }
        self.inner.handle(envelope).await?;
        self.applied.fetch_add(1, SeqCst);
        if self.mode == Mode::HangAfterCommit {
            std::future::pending::<()>().await;
        }
        Ok(())
    }

    async fn dead_letter(&self, envelope: Envelope, error: String, attempts: u32) {
        self.inner.dead_letter(envelope, error, attempts).await
    }
}

/// The relay's view of a transport that dies: the first `healthy` publishes go through; the
/// next `published_then_dead` reach the broker but never return (the process died before the
/// outbox row was marked); every later one never reaches the broker.
struct Crashing {
    inner: Arc<dyn Transport>,
    healthy: usize,
    published_then_dead: usize,
    calls: AtomicUsize,
}

#[async_trait::async_trait]
impl Transport for Crashing {
    async fn publish(&self, envelope: &Envelope) -> Result<(), BusError> {
        let n = self.calls.fetch_add(1, SeqCst);
        if n < self.healthy {
            return self.inner.publish(envelope).await;
        }
        if n < self.healthy + self.published_then_dead {
            self.inner.publish(envelope).await?;
        }
        std::future::pending().await
    }
    async fn subscribe(
        &self,
        subscription: Subscription,
        handler: Arc<dyn Handler>,
    ) -> Result<(), BusError> {
        self.inner.subscribe(subscription, handler).await
    }
    async fn ready(&self) -> Result<(), String> {
        self.inner.ready().await
    }
    fn in_process(&self) -> bool {
        false
    }
    async fn shutdown(&self) {}
}

/// Counts a relay's publishes, holding them until the gate opens.
struct Gated {
    inner: Arc<dyn Transport>,
    open: AtomicBool,
    calls: AtomicUsize,
    published: AtomicUsize,
}

impl Gated {
    fn new(inner: Arc<dyn Transport>, open: bool) -> Arc<Self> {
        Arc::new(Self {
            inner,
            open: AtomicBool::new(open),
            calls: AtomicUsize::new(0),
            published: AtomicUsize::new(0),
        })
    }
}

#[async_trait::async_trait]
impl Transport for Gated {
    async fn publish(&self, envelope: &Envelope) -> Result<(), BusError> {
        self.calls.fetch_add(1, SeqCst);
        while !self.open.load(SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.inner.publish(envelope).await?;
        self.published.fetch_add(1, SeqCst);
        Ok(())
    }
    async fn subscribe(
        &self,
        subscription: Subscription,
        handler: Arc<dyn Handler>,
    ) -> Result<(), BusError> {
        self.inner.subscribe(subscription, handler).await
    }
    async fn ready(&self) -> Result<(), String> {
        self.inner.ready().await
    }
    fn in_process(&self) -> bool {
        false
    }
    async fn shutdown(&self) {}
}

/// The envelope of an outbox row, as the relay would publish it.
async fn outbox_envelope(store: &hub_bus::Store, id: Uuid) -> Envelope {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        envelope: String,
    }
    let row: Row = store
        .db
        .run(move |c| {
            Ok(
                diesel::sql_query("SELECT envelope FROM outbox WHERE id = $1")
                    .bind::<Text, _>(id.to_string())
                    .get_result(c)?,
            )
        })
        .await
        .expect("an outbox row");
    Envelope::from_json(row.envelope.as_bytes()).expect("an envelope")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_events_reach_an_inbox_consumer_exactly_once() {
    let mut env = TestEnv::amqp();
    let store = env.postgres("svc").await;
    store
        .db
        .run(|c| Ok(diesel::sql_query("CREATE TABLE things (id TEXT PRIMARY KEY)").execute(c)?))
        .await
        .unwrap();
    let bus = env.transport().await;

    // The consumer checks the payload survived outbox → broker → consumer intact.
    let fx = env.subscription("consumer", "fx", &[WITHDRAWN]);
    let handler = store.handler(&fx, |c, env, ev| {
        let event: ReferralWithdrawn = env.decode().map_err(|e| DbError::Other(e.into()))?;
        assert_eq!(
            (event.council.as_str(), event.reason.as_str()),
            ("E08000014", "test")
        );
        assert_eq!(
            (env.source.as_str(), env.partnership.as_str()),
            ("svc", "LCR-PPA")
        );
        record_effect("consumer.fx")(c, env, ev)
    });
    bus.subscribe(fx, handler).await.unwrap();
    let raw = Arc::new(Tally::default());
    bus.subscribe(
        env.subscription("consumer", "raw", &[WITHDRAWN]),
        raw.clone(),
    )
    .await
    .unwrap();
    env.relay(&store, bus.clone());

    let mut ids = emit(&store, 20).await;
    // A state change with several events, one of a type nobody here subscribes to.
    let (three, _) = store
        .write(|c, ev| {
            diesel::sql_query("INSERT INTO things (id) VALUES ('a')").execute(c)?;
            let three: Vec<Uuid> = (0..3).map(|_| ev.emit("LCR-PPA", &withdrawn())).collect();
            Ok((three, ev.emit("LCR-PPA", &updated())))
        })
        .await
        .unwrap();
    ids.extend(three);
    // A write that fails leaves neither its state nor its events behind.
    let failed = store
        .write(|c, ev| {
            diesel::sql_query("INSERT INTO things (id) VALUES ('b')").execute(c)?;
            ev.emit("LCR-PPA", &withdrawn());
            Err::<(), _>(DbError::Other(anyhow::anyhow!("the rule was broken")))
        })
        .await;
    assert!(failed.is_err());

    expect_applied_once(&store, "consumer.fx", &ids, WAIT).await;
    assert_eq!(
        count(
            &store,
            "SELECT count(*) AS n FROM inbox WHERE consumer = 'consumer.fx'"
        )
        .await,
        23
    );
    assert_eq!(count(&store, "SELECT count(*) AS n FROM things").await, 1);
    assert_eq!(
        count(&store, "SELECT count(*) AS n FROM outbox").await,
        24,
        "23 withdrawn + 1 updated"
    );
    expect_drained(&store, WAIT).await;
    assert_eq!(
        (raw.total(), raw.distinct()),
        (23, 23),
        "each event was published exactly once"
    );
    env.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_started_late_publishes_the_backlog() {
    let mut env = TestEnv::amqp();
    let store = env.postgres("svc").await;
    let bus = env.transport().await;
    let fx = env.subscription("consumer", "fx", &[WITHDRAWN]);
    bus.subscribe(fx.clone(), store.handler(&fx, record_effect("consumer.fx")))
        .await
        .unwrap();

    // The relay is down (the service crashed right after its writes committed).
    let ids = emit(&store, 30).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(pending(&store).await, 30);
    assert_eq!(effects(&store, "consumer.fx").await, (0, 0));

    env.relay(&store, bus.clone());
    expect_applied_once(&store, "consumer.fx", &ids, WAIT).await;
    assert_eq!(pending(&store).await, 0);
    env.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_crash_mid_way_loses_nothing_and_duplicates_are_absorbed() {
    let mut env = TestEnv::amqp();
    let store = env.postgres("svc").await;
    let bus = env.transport().await;
    let fx = env.subscription("consumer", "fx", &[WITHDRAWN]);
    bus.subscribe(fx.clone(), store.handler(&fx, record_effect("consumer.fx")))
        .await
        .unwrap();
    let raw = Arc::new(Tally::default());
    bus.subscribe(
        env.subscription("consumer", "raw", &[WITHDRAWN]),
        raw.clone(),
    )
    .await
    .unwrap();

    const N: usize = 40;
    const HEALTHY: usize = 10;
    const PUBLISHED_THEN_DEAD: usize = 5;
    let ids = emit(&store, N).await;

    let dying = Arc::new(Crashing {
        inner: env.transport().await,
        healthy: HEALTHY,
        published_then_dead: PUBLISHED_THEN_DEAD,
        calls: AtomicUsize::new(0),
    });
    let first = env.relay(&store, dying.clone());
    eventually("the first relay to take every row", WAIT, || async {
        match dying.calls.load(SeqCst) {
            N => Ok(()),
            n => Err(format!("{n} publishes")),
        }
    })
    .await;
    first.abort(); // the relay's process is gone; its in-flight publishes never return
    let published = HEALTHY + PUBLISHED_THEN_DEAD;
    eventually("the published events to be applied", WAIT, || async {
        match effects(&store, "consumer.fx").await {
            (t, _) if t as usize >= published => Ok(()),
            (t, _) => Err(format!("{t} effects")),
        }
    })
    .await;
    // The relay marks a row published just after its confirm, so the consumer's effect can
    // come first: wait for the marks, then check that exactly the confirmed rows got one.
    eventually(
        "the confirmed rows to be marked published",
        WAIT,
        || async {
            match pending(&store).await as usize {
                n if n <= N - HEALTHY => Ok(()),
                n => Err(format!("{n} pending")),
            }
        },
    )
    .await;
    assert_eq!(
        pending(&store).await as usize,
        N - HEALTHY,
        "only the confirmed-and-marked rows are published"
    );

    // A new relay (another replica, or the service restarted) on its own connection.
    env.relay(&store, env.transport().await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        pending(&store).await as usize,
        N - HEALTHY,
        "rows leased by the dead relay wait for their lease"
    );
    assert_eq!(
        effects(&store, "consumer.fx").await,
        (published as i64, published as i64)
    );

    // Stands in for waiting out the lease (60 s plus the retry delays).
    store
        .db
        .run(|c| {
            Ok(diesel::sql_query(
                "UPDATE outbox SET claimed_until_ms = 1 WHERE published_ms IS NULL",
            )
            .execute(c)?)
        })
        .await
        .unwrap();
    expect_applied_once(&store, "consumer.fx", &ids, WAIT).await;
    expect_drained(&store, WAIT).await;
    // The rows published before the crash but never marked went out twice; the inbox kept
    // their effects single.
    assert_eq!(raw.distinct(), N);
    assert_eq!(
        raw.total(),
        N + PUBLISHED_THEN_DEAD,
        "duplicates: {:?}",
        raw.duplicates()
    );
    assert_eq!(raw.duplicates().len(), PUBLISHED_THEN_DEAD);

    // An explicit duplicate publish of the same envelope, twice over.
    let again = outbox_envelope(&store, ids[0]).await;
    let before = raw.of(ids[0]);
    bus.publish(&again).await.unwrap();
    bus.publish(&again).await.unwrap();
    eventually("both duplicates to be delivered", WAIT, || async {
        match raw.of(ids[0]) - before {
            2 => Ok(()),
            n => Err(format!("{n} delivered")),
        }
    })
    .await;
    expect_applied_once(&store, "consumer.fx", &ids, WAIT).await;
    env.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_gets_the_message_again_and_applies_it_once() {
    let mut env = TestEnv::amqp();
    let store = env.postgres("svc").await;
    let bus = env.transport().await;
    let fx = env.subscription("consumer", "fx", &[WITHDRAWN]);
    let probe = Probe::new(
        store.handler(&fx, record_effect("consumer.fx")),
        Mode::PanicFirst,
    );
    bus.subscribe(fx, probe.clone()).await.unwrap();
    env.relay(&store, bus.clone());

    let ids = emit(&store, 1).await;
    expect_applied_once(&store, "consumer.fx", &ids, WAIT).await;
    assert_eq!(probe.calls.load(SeqCst), 2, "one crash, one success");
    env.finish().await;
}

/// A consumer dies after its handler committed but before it acked; a new consumer gets the
/// messages again and its inbox skips them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_that_dies_before_acking_is_replaced_and_effects_stay_single() {
    let mut env = TestEnv::amqp();
    let store = env.postgres("svc").await;
    let producer = env.transport().await;
    env.relay(&store, producer.clone());
    let fx = env.subscription("consumer", "fx", &[WITHDRAWN]);

    let doomed = env.transport().await;
    let first = Probe::new(
        store.handler(&fx, record_effect("consumer.fx")),
        Mode::HangAfterCommit,
    );
    doomed.subscribe(fx.clone(), first.clone()).await.unwrap();
    let ids = emit(&store, 5).await;
    eventually("the first consumer to apply everything", WAIT, || async {
        match first.applied.load(SeqCst) {
            5 => Ok(()),
            n => Err(format!("{n} applied")),
        }
    })
    .await;

    let successor = env.transport().await;
    let second = Probe::new(store.handler(&fx, record_effect("consumer.fx")), Mode::Pass);
    successor.subscribe(fx, second.clone()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        second.calls.load(SeqCst),
        0,
        "the messages are still held, unacked, by the first consumer"
    );

    doomed.shutdown().await; // the connection closes: the broker requeues the unacked messages
    eventually("the successor to get every message again", WAIT, || async {
        match second.calls.load(SeqCst) {
            5 => Ok(()),
            n => Err(format!("{n} redelivered")),
        }
    })
    .await;
    expect_applied_once(&store, "consumer.fx", &ids, WAIT).await;
    assert_eq!(
        second.applied.load(SeqCst),
        5,
        "the successor acked what its inbox had already seen"
    );
    env.finish().await;
}

/// A consumer dies mid-handler, before committing; a new consumer applies the messages once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_that_dies_mid_handler_is_replaced_and_the_event_is_applied_once() {
    let mut env = TestEnv::amqp();
    let store = env.postgres("svc").await;
    let producer = env.transport().await;
    env.relay(&store, producer.clone());
    let fx = env.subscription("consumer", "fx", &[WITHDRAWN]);

    let doomed = env.transport().await;
    let first = Probe::new(
        store.handler(&fx, record_effect("consumer.fx")),
        Mode::HangBeforeCommit,
    );
    doomed.subscribe(fx.clone(), first.clone()).await.unwrap();
    let ids = emit(&store, 5).await;
    eventually("the first consumer to take everything", WAIT, || async {
        match first.calls.load(SeqCst) {
            5 => Ok(()),
            n => Err(format!("{n} taken")),
        }
    })
    .await;
    assert_eq!(effects(&store, "consumer.fx").await, (0, 0));

    doomed.shutdown().await;
    let successor = env.transport().await;
    let second = Probe::new(store.handler(&fx, record_effect("consumer.fx")), Mode::Pass);
    successor.subscribe(fx, second.clone()).await.unwrap();
    expect_applied_once(&store, "consumer.fx", &ids, WAIT).await;
    assert_eq!(second.calls.load(SeqCst), 5);
    env.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_message_is_retried_then_dead_lettered_with_its_error() {
    let mut env = TestEnv::amqp();
    let store = env.postgres("svc").await;
    let bus = env.transport().await;
    let sub = env.subscription("consumer", "poison", &[WITHDRAWN]);
    let calls = Arc::new(std::sync::Mutex::new(Vec::<Instant>::new()));
    let seen = calls.clone();
    let handler = store.handler(&sub, move |c, env, ev| {
        seen.lock().unwrap().push(Instant::now());
        record_effect("consumer.poison")(c, env, ev)?; // rolled back with the inbox row
        Err(DbError::Other(anyhow::anyhow!(
            "boom: the referral is unknown"
        )))
    });
    bus.subscribe(sub, handler).await.unwrap();
    env.relay(&store, bus.clone());
    let ids = emit(&store, 1).await;

    let (_conn, ch) = raw_channel().await;
    let q = env.queue("consumer", "poison");
    let dead = get_one(&ch, &format!("{q}.dlq"), WAIT).await;
    let error = header_str(&dead, "x-hub-error").expect("the x-hub-error header");
    assert!(
        error.contains("boom: the referral is unknown"),
        "x-hub-error: {error}"
    );
    assert_eq!(header_int(&dead, "x-hub-attempt"), Some(3));
    assert_eq!(Envelope::from_json(&dead.data).unwrap().id, ids[0]);
    assert_eq!(
        dead.properties.kind().as_ref().map(|k| k.as_str()),
        Some(WITHDRAWN)
    );
    // It went through both delay queues on the way.
    let deaths: Vec<String> = match dead
        .properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get("x-death"))
    {
        Some(AMQPValue::FieldArray(a)) => a
            .as_slice()
            .iter()
            .filter_map(|d| match d {
                AMQPValue::FieldTable(t) => match t.inner().get("queue") {
                    Some(AMQPValue::LongString(q)) => {
                        Some(String::from_utf8_lossy(q.as_bytes()).into_owned())
                    }
                    _ => None,
                },
                _ => None,
            })
            .collect(),
        other => panic!("no x-death header: {other:?}"),
    };
    for n in 0..RETRY_DELAYS_MS.len() {
        let retry = format!("{q}.retry.{n}");
        assert!(deaths.contains(&retry), "x-death {deaths:?} lacks {retry}");
    }

    let calls = calls.lock().unwrap().clone();
    assert_eq!(
        calls.len(),
        1 + RETRY_DELAYS_MS.len(),
        "the first try plus one per retry delay"
    );
    for (n, delay) in RETRY_DELAYS_MS.iter().enumerate() {
        let waited = calls[n + 1] - calls[n];
        assert!(
            waited >= Duration::from_millis(delay * 8 / 10),
            "retry {n} came after {waited:?}, not {delay} ms"
        );
    }
    assert_eq!(effects(&store, "consumer.poison").await, (0, 0));
    assert_eq!(count(&store, "SELECT count(*) AS n FROM inbox").await, 0);
    assert_eq!(depth(&ch, &q).await, 0);
    for n in 0..RETRY_DELAYS_MS.len() {
        assert_eq!(depth(&ch, &format!("{q}.retry.{n}")).await, 0);
    }
    assert_eq!(
        depth(&ch, &format!("{q}.dlq")).await,
        0,
        "exactly one dead letter"
    );
    env.finish().await;
}

/// A typed handler's refusal goes to the dead-letter queue at the first attempt, with its
/// reason, through no delay queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_event_is_dead_lettered_at_once() {
    let mut env = TestEnv::amqp();
    let store = env.postgres("svc").await;
    let bus = env.transport().await;
    // Registers the queues for clean-up; the handlers make the same subscription.
    env.subscription("consumer", "refuses", &[WITHDRAWN]);
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    hub_bus::Handlers::new("consumer", "refuses")
        .on::<ReferralWithdrawn>(move |c, env, e, ev| {
            seen.fetch_add(1, SeqCst);
            record_effect("consumer.refuses")(c, env, ev)?;
            Err(DbError::refused(format!(
                "council {} is not in the partnership",
                e.council
            )))
        })
        .subscribe(&store, bus.as_ref())
        .await
        .unwrap();
    env.relay(&store, bus.clone());
    let ids = emit(&store, 1).await;

    let (_conn, ch) = raw_channel().await;
    let q = env.queue("consumer", "refuses");
    let dead = get_one(&ch, &format!("{q}.dlq"), WAIT).await;
    assert_eq!(Envelope::from_json(&dead.data).unwrap().id, ids[0]);
    let error = header_str(&dead, "x-hub-error").expect("the x-hub-error header");
    assert_eq!(
        error,
        "refused: council E08000014 is not in the partnership"
    );
    assert_eq!(header_int(&dead, "x-hub-attempt"), Some(1));
    assert!(
        dead.properties
            .headers()
            .as_ref()
            .and_then(|h| h.inner().get("x-death"))
            .is_none(),
        "it went through no delay queue"
    );
    assert_eq!(calls.load(SeqCst), 1);
    assert_eq!(effects(&store, "consumer.refuses").await, (0, 0));
    env.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_is_not_an_envelope_is_dead_lettered() {
    let env = TestEnv::amqp();
    let metrics = hub_bus::BusMetrics::default();
    let bus = env.transport_counting(metrics.clone()).await;
    let sub = env.subscription("consumer", "raw", &[WITHDRAWN]);
    let tally = Arc::new(Tally::default());
    bus.subscribe(sub.clone(), tally.clone()).await.unwrap();

    let (_conn, ch) = raw_channel().await;
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let body = b"{\"this is\": \"not an envelope\"}";
    let confirm = ch
        .basic_publish(
            env.id.as_str().into(),
            WITHDRAWN.into(),
            BasicPublishOptions::default(),
            body,
            BasicProperties::default(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(confirm.is_ack());

    let q = env.queue("consumer", "raw");
    let dead = get_one(&ch, &format!("{q}.dlq"), WAIT).await;
    assert_eq!(dead.data, body);
    let error = header_str(&dead, "x-hub-error").expect("the x-hub-error header");
    assert!(error.contains("not an envelope"), "x-hub-error: {error}");
    assert_eq!(tally.total(), 0, "the handler never saw it");
    assert_eq!(depth(&ch, &q).await, 0);
    // Counted as dead-lettered under `undecodable`, not under any type it might claim.
    use hub_bus::metrics::{Outcome, UNDECODABLE};
    let deadline = Instant::now() + WAIT;
    while metrics.get(&sub, UNDECODABLE, Outcome::DeadLettered) == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(metrics.get(&sub, UNDECODABLE, Outcome::DeadLettered), 1);
    assert_eq!(metrics.get(&sub, WITHDRAWN, Outcome::DeadLettered), 0);
    env.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_share_one_outbox_and_publish_each_row_once() {
    let mut env = TestEnv::amqp();
    let store_a = env.postgres("svc").await;
    let store_b = env.postgres("svc").await; // a second replica: its own pool and connection
    let consumer = env.transport().await;
    let fx = env.subscription("consumer", "fx", &[WITHDRAWN]);
    consumer
        .subscribe(
            fx.clone(),
            store_a.handler(&fx, record_effect("consumer.fx")),
        )
        .await
        .unwrap();
    let raw = Arc::new(Tally::default());
    consumer
        .subscribe(
            env.subscription("consumer", "raw", &[WITHDRAWN]),
            raw.clone(),
        )
        .await
        .unwrap();

    // Phase 1: relay A claims rows and holds them; B must publish the rest and only the rest.
    let mut ids = emit(&store_a, 300).await;
    let a = Gated::new(env.transport().await, false);
    let b = Gated::new(env.transport().await, true);
    env.relay(&store_a, a.clone());
    eventually("relay A to claim", WAIT, || async {
        match a.calls.load(SeqCst) {
            0 => Err("nothing claimed".into()),
            _ => Ok(()),
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let held = a.calls.load(SeqCst);
    assert!(
        held < 300,
        "relay A claims at most what it can have in flight"
    );
    env.relay(&store_b, b.clone());
    eventually(
        "relay B to publish the rows A does not hold",
        WAIT,
        || async {
            match raw.total() {
                n if n == 300 - held => Ok(()),
                n => Err(format!("{n} delivered, want {}", 300 - held)),
            }
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(raw.total(), 300 - held, "B skipped the rows A holds");
    a.open.store(true, SeqCst);

    // Phase 2: both relays run free while both replicas write.
    let (more_a, more_b) = tokio::join!(emit(&store_a, 100), emit(&store_b, 100));
    ids.extend(more_a);
    ids.extend(more_b);
    expect_applied_once(&store_a, "consumer.fx", &ids, WAIT).await;
    eventually("every row to be delivered", WAIT, || async {
        match raw.total() {
            500 => Ok(()),
            n => Err(format!("{n} delivered")),
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(raw.duplicates(), vec![], "no row was published twice");
    assert_eq!((raw.total(), raw.distinct()), (500, 500));
    let (by_a, by_b) = (a.published.load(SeqCst), b.published.load(SeqCst));
    assert_eq!(by_a + by_b, 500, "A published {by_a}, B {by_b}");
    assert!(
        by_a >= held && by_b >= 300 - held,
        "A published {by_a}, B {by_b}"
    );
    assert_eq!(pending(&store_a).await, 0);
    env.finish().await;
}
