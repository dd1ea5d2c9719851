//! The AMQP connection is supervised: a broker restart (`rabbitmqctl stop_app; start_app`)
//! loses nothing. This stops the whole broker, so it lives in a binary of its own and holds
//! the broker lock exclusively (every other AMQP test holds it shared; see `support`).

mod support;

use std::{
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst},
    },
    time::Duration,
};

use hub_bus::{Handler, HandlerError, Transport};
use hub_events::Envelope;
use lapin::{Connection, ConnectionProperties};
use support::*;

const WAIT: Duration = Duration::from_secs(30);

fn rabbitmqctl(command: &str) {
    let out = Command::new("rabbitmqctl")
        .arg(command)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `rabbitmqctl {command}`: {e}. Is RabbitMQ installed? {START_RABBITMQ}"
            )
        });
    assert!(
        out.status.success(),
        "`rabbitmqctl {command}` failed: {}{}\n{START_RABBITMQ}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts the broker's application again should the test fail while it is stopped.
struct BrokerBack {
    stopped: bool,
}

impl Drop for BrokerBack {
    fn drop(&mut self) {
        if self.stopped {
            let _ = Command::new("rabbitmqctl").arg("start_app").status();
        }
    }
}

/// Holds deliveries (unacked) while `hold` is set, then hands them on.
struct Held {
    inner: Arc<dyn Handler>,
    hold: AtomicBool,
    entered: AtomicUsize,
}

#[async_trait::async_trait]
impl Handler for Held {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandlerError> {
        self.entered.fetch_add(1, SeqCst);
        while self.hold.load(SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.inner.handle(envelope).await
    }

    async fn dead_letter(&self, envelope: Envelope, error: String, attempts: u32) {
        self.inner.dead_letter(envelope, error, attempts).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumption_resumes_after_a_broker_restart_and_nothing_is_lost_or_applied_twice() {
    let lock = tokio::task::spawn_blocking(BrokerLock::exclusive)
        .await
        .unwrap();
    let mut env = TestEnv::amqp_locked(lock);
    let store = env.postgres("svc").await;
    let bus = env.transport().await;
    let fx = env.subscription("consumer", "fx", &[WITHDRAWN]);
    let held = Arc::new(Held {
        inner: store.handler(&fx, record_effect("consumer.fx")),
        hold: AtomicBool::new(false),
        entered: AtomicUsize::new(0),
    });
    bus.subscribe(fx, held.clone()).await.unwrap();
    let raw = Arc::new(Tally::default());
    bus.subscribe(
        env.subscription("consumer", "raw", &[WITHDRAWN]),
        raw.clone(),
    )
    .await
    .unwrap();
    env.relay(&store, bus.clone());
    bus.ready().await.expect("ready before the restart");

    // Before: delivered and applied.
    let mut ids = emit(&store, 10).await;
    expect_applied_once(&store, "consumer.fx", &ids, WAIT).await;

    // In flight: delivered, but still unacked in the handler when the broker goes away.
    held.hold.store(true, SeqCst);
    let in_flight = emit(&store, 5).await;
    ids.extend(&in_flight);
    eventually(
        "the in-flight events to reach the handler",
        WAIT,
        || async {
            match held.entered.load(SeqCst) {
                15 => Ok(()),
                n => Err(format!("{} of 5 in the handler", n - 10)),
            }
        },
    )
    .await;

    let mut back = BrokerBack { stopped: true };
    tokio::task::spawn_blocking(|| rabbitmqctl("stop_app"))
        .await
        .unwrap();
    expect_disconnected(bus.as_ref(), WAIT).await;
    assert!(
        bus.publish(&Envelope::new("svc", "LCR-PPA", &withdrawn()))
            .await
            .is_err(),
        "publishing fails"
    );

    // During: the events wait in the outbox.
    let during = emit(&store, 10).await;
    ids.extend(&during);
    eventually("the relay to try and fail", WAIT, || async {
        match count(&store, "SELECT count(*) AS n FROM outbox WHERE published_ms IS NULL AND last_error IS NOT NULL").await {
            0 => Err("no failed attempt yet".into()),
            _ => Ok(()),
        }
    })
    .await;
    assert_eq!(
        pending(&store).await,
        10,
        "the events written during the outage wait in the outbox"
    );
    assert!(bus.ready().await.is_err(), "still not ready");

    tokio::task::spawn_blocking(|| rabbitmqctl("start_app"))
        .await
        .unwrap();
    back.stopped = false;
    eventually(
        "RabbitMQ to accept connections again",
        Duration::from_secs(60),
        || async {
            match Connection::connect(AMQP_URL, ConnectionProperties::default()).await {
                Ok(c) => {
                    let _ = c.close(200, "probe".into()).await;
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            }
        },
    )
    .await;
    eventually(
        "the transport to reconnect",
        Duration::from_secs(60),
        || async { bus.ready().await },
    )
    .await;
    held.hold.store(false, SeqCst);

    // After: the reconnected transport publishes and consumes again.
    let after = emit(&store, 10).await;
    ids.extend(&after);
    expect_applied_once(&store, "consumer.fx", &ids, Duration::from_secs(120)).await;
    eventually("every event to reach the raw subscriber", WAIT, || async {
        match raw.distinct() {
            35 => Ok(()),
            n => Err(format!("{n} of 35")),
        }
    })
    .await;
    expect_drained(&store, WAIT).await;
    assert_eq!(
        count(
            &store,
            "SELECT count(*) AS n FROM inbox WHERE consumer = 'consumer.fx'"
        )
        .await,
        35
    );
    env.finish().await;
}
