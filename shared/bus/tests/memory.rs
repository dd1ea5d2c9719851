//! The in-process transport with the outbox relay and the inbox, on SQLite (embedded mode).

mod support;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering::SeqCst},
    },
    time::Duration,
};

use diesel::{RunQueryDsl, sql_types::Text};
use hub_bus::{Transport, memory::MemoryTransport};
use hub_platform::db::DbError;
use support::*;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_events_reach_an_in_process_handler_exactly_once() {
    let mut env = TestEnv::memory();
    let store = env.sqlite("svc").await;
    let bus = Arc::new(MemoryTransport::new(&env.settings));
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
    env.relay(&store, bus.clone());

    let mut ids = emit(&store, 20).await;
    let three = store
        .write(|_, ev| {
            Ok((0..3)
                .map(|_| ev.emit("LCR-PPA", &withdrawn()))
                .collect::<Vec<_>>())
        })
        .await
        .unwrap();
    ids.extend(three);
    store
        .write(|_, ev| Ok(ev.emit("LCR-PPA", &updated())))
        .await
        .unwrap();
    let failed = store
        .write(|_, ev| {
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
    expect_drained(&store, WAIT).await;
    assert_eq!(count(&store, "SELECT count(*) AS n FROM outbox").await, 24);
    assert_eq!((raw.total(), raw.distinct()), (23, 23));
    assert_eq!(
        count(&store, "SELECT count(*) AS n FROM dead_letters").await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_in_process_handler_is_retried_then_dead_lettered() {
    let mut env = TestEnv::memory();
    let store = env.sqlite("svc").await;
    let bus = Arc::new(MemoryTransport::new(&env.settings));
    let poison = env.subscription("consumer", "poison", &[WITHDRAWN]);
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let handler = store.handler(&poison, move |c, env, ev| {
        seen.fetch_add(1, SeqCst);
        record_effect("consumer.poison")(c, env, ev)?; // rolled back with the inbox row
        Err(DbError::Other(anyhow::anyhow!(
            "boom: the referral is unknown"
        )))
    });
    bus.subscribe(poison, handler).await.unwrap();
    let fx = env.subscription("consumer", "fx", &[WITHDRAWN]);
    bus.subscribe(fx.clone(), store.handler(&fx, record_effect("consumer.fx")))
        .await
        .unwrap();
    env.relay(&store, bus.clone());

    let ids = emit(&store, 1).await;
    eventually("a dead letter", WAIT, || async {
        match count(&store, "SELECT count(*) AS n FROM dead_letters").await {
            0 => Err("none yet".into()),
            _ => Ok(()),
        }
    })
    .await;

    #[derive(diesel::QueryableByName)]
    struct Dead {
        #[diesel(sql_type = Text)]
        event_id: String,
        #[diesel(sql_type = Text)]
        consumer: String,
        #[diesel(sql_type = Text)]
        event_type: String,
        #[diesel(sql_type = Text)]
        envelope: String,
        #[diesel(sql_type = Text)]
        error: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        attempts: i32,
    }
    let dead: Vec<Dead> = store
        .db
        .run(|c| {
            Ok(diesel::sql_query("SELECT event_id, consumer, event_type, envelope, error, attempts FROM dead_letters")
                .load(c)?)
        })
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    let d = &dead[0];
    assert_eq!(
        (
            d.event_id.as_str(),
            d.consumer.as_str(),
            d.event_type.as_str()
        ),
        (ids[0].to_string().as_str(), "consumer.poison", WITHDRAWN)
    );
    assert!(
        d.error.contains("boom: the referral is unknown"),
        "{}",
        d.error
    );
    assert_eq!(d.attempts as usize, 1 + RETRY_DELAYS_MS.len());
    assert_eq!(
        hub_events::Envelope::from_json(d.envelope.as_bytes())
            .unwrap()
            .id,
        ids[0]
    );
    assert_eq!(
        calls.load(SeqCst),
        1 + RETRY_DELAYS_MS.len(),
        "the first try plus one per retry delay"
    );

    assert_eq!(effects(&store, "consumer.poison").await, (0, 0));
    assert_eq!(
        count(
            &store,
            "SELECT count(*) AS n FROM inbox WHERE consumer = 'consumer.poison'"
        )
        .await,
        0
    );
    expect_applied_once(&store, "consumer.fx", &ids, WAIT).await;
    eventually(
        "the outbox row to be marked once every subscriber is done",
        WAIT,
        || async {
            match pending(&store).await {
                0 => Ok(()),
                n => Err(format!("{n} pending")),
            }
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        calls.load(SeqCst),
        1 + RETRY_DELAYS_MS.len(),
        "not delivered again"
    );
    assert_eq!(
        count(&store, "SELECT count(*) AS n FROM dead_letters").await,
        1
    );
}

/// A handler that panics on every event, keeping its dead letters in the store.
struct Panics {
    store: hub_bus::Store,
    calls: AtomicUsize,
}

#[async_trait::async_trait]
impl hub_bus::Handler for Panics {
    async fn handle(&self, _envelope: hub_events::Envelope) -> Result<(), hub_bus::HandlerError> {
        self.calls.fetch_add(1, SeqCst);
        panic!("the handler crashed (test)");
    }

    async fn dead_letter(&self, envelope: hub_events::Envelope, error: String, attempts: u32) {
        self.store
            .dead_letter("consumer.panics", &envelope, &error, attempts)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_in_process_handler_is_retried_then_dead_lettered_without_harming_others() {
    let mut env = TestEnv::memory();
    let store = env.sqlite("svc").await;
    let bus = Arc::new(MemoryTransport::new(&env.settings));
    let panics = Arc::new(Panics {
        store: store.clone(),
        calls: AtomicUsize::new(0),
    });
    bus.subscribe(
        env.subscription("consumer", "panics", &[WITHDRAWN]),
        panics.clone(),
    )
    .await
    .unwrap();
    let fx = env.subscription("consumer", "fx", &[WITHDRAWN]);
    bus.subscribe(fx.clone(), store.handler(&fx, record_effect("consumer.fx")))
        .await
        .unwrap();
    env.relay(&store, bus.clone());

    let ids = emit(&store, 3).await;
    expect_applied_once(&store, "consumer.fx", &ids, WAIT).await;
    expect_drained(&store, WAIT).await;
    assert_eq!(panics.calls.load(SeqCst), 3 * (1 + RETRY_DELAYS_MS.len()));
    assert_eq!(
        count(&store, "SELECT count(*) AS n FROM dead_letters WHERE consumer = 'consumer.panics' AND error LIKE '%panicked%'").await,
        3
    );
}

/// `handler_notifying` notifies once the handler's writes have committed, and neither for an
/// event handled already nor for one whose handler failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notifying_handler_notifies_after_each_commit_only() {
    let mut env = TestEnv::memory();
    let store = env.sqlite("svc").await;
    let applied = Arc::new(tokio::sync::Notify::new());
    let notified = || tokio::time::timeout(Duration::from_millis(200), applied.notified());
    let fx = env.subscription("consumer", "fx", &[WITHDRAWN]);
    let handler = store.handler_notifying(&fx, applied.clone(), record_effect("consumer.fx"));
    let event = hub_events::Envelope::new("svc", "LCR-PPA", &withdrawn());

    handler.handle(event.clone()).await.unwrap();
    assert!(notified().await.is_ok(), "notified at commit");
    assert_eq!(effects(&store, "consumer.fx").await, (1, 1));
    handler.handle(event).await.unwrap();
    assert!(
        notified().await.is_err(),
        "not for an event handled already"
    );
    assert_eq!(effects(&store, "consumer.fx").await, (1, 1));

    let failing = env.subscription("consumer", "failing", &[WITHDRAWN]);
    let handler = store.handler_notifying(&failing, applied.clone(), |_, _, _| {
        Err(DbError::Other(anyhow::anyhow!("the rule was broken")))
    });
    let other = hub_events::Envelope::new("svc", "LCR-PPA", &withdrawn());
    assert!(handler.handle(other).await.is_err());
    assert!(notified().await.is_err(), "not when the handler failed");
}

/// `/health/ready` tells the truth about the event path (issue 17), on both backends: down
/// while an event has waited in the outbox longer than the bound, up again once it is out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_is_not_ready_while_an_event_waits_longer_than_the_bound() {
    use hub_bus::relay::OutboxReadiness;
    use hub_platform::http::ReadinessCheck;
    let mut env = TestEnv::memory();
    for store in [env.sqlite("svc").await, env.postgres("svc").await] {
        let backend = format!("{:?}", store.db.backend());
        let outbox = OutboxReadiness::new(store.clone(), Duration::from_millis(300));
        assert_eq!(outbox.check().await, Ok(()), "{backend}: nothing waits");
        // No relay runs yet: the event waits in the outbox.
        emit(&store, 1).await;
        assert_eq!(
            outbox.check().await,
            Ok(()),
            "{backend}: younger than the bound"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        let down = outbox.check().await.expect_err("an event waits too long");
        assert!(
            down.starts_with("1 events waiting to be published, the oldest for 0."),
            "{backend}: {down}"
        );
        let bus = Arc::new(MemoryTransport::new(&env.settings));
        env.relay(&store, bus);
        eventually(&format!("{backend}: ready again"), WAIT, || async {
            outbox.check().await
        })
        .await;
        assert_eq!(pending(&store).await, 0);
    }
}

/// Typed handlers: the subscription is bound to exactly the registered types, each handler
/// gets its event decoded, and a refusal is dead-lettered at the first attempt with its
/// reason, without waiting through the retry delays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_event_is_dead_lettered_at_once() {
    use hub_events::{ReferralUpdated, ReferralWithdrawn};
    let mut env = TestEnv::memory();
    let store = env.sqlite("svc").await;
    let bus = Arc::new(MemoryTransport::new(&env.settings));
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let handlers = hub_bus::Handlers::new("consumer", "typed")
        .on::<ReferralWithdrawn>(move |c, env, e, ev| {
            seen.fetch_add(1, SeqCst);
            record_effect("consumer.typed")(c, env, ev)?; // rolled back with the inbox row
            Err(DbError::refused(format!(
                "referral {} is not one of ours",
                e.referral_id
            )))
        })
        .on::<ReferralUpdated>(|_, _, _, _| Ok(()));
    assert_eq!(
        handlers.subscription().event_types,
        vec![UPDATED, WITHDRAWN],
        "the routing keys are the registered types"
    );
    handlers.subscribe(&store, bus.as_ref()).await.unwrap();
    env.relay(&store, bus.clone());

    emit(&store, 1).await;
    eventually("a dead letter", WAIT, || async {
        match count(&store, "SELECT count(*) AS n FROM dead_letters").await {
            0 => Err("none yet".into()),
            _ => Ok(()),
        }
    })
    .await;
    #[derive(diesel::QueryableByName)]
    struct Dead {
        #[diesel(sql_type = Text)]
        error: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        attempts: i32,
    }
    let dead: Dead = store
        .db
        .run(|c| Ok(diesel::sql_query("SELECT error, attempts FROM dead_letters").get_result(c)?))
        .await
        .unwrap();
    assert_eq!(dead.attempts, 1, "no retries for a refusal");
    assert!(
        dead.error.starts_with("refused: referral ") && dead.error.ends_with("is not one of ours"),
        "{}",
        dead.error
    );
    tokio::time::sleep(Duration::from_millis(
        RETRY_DELAYS_MS.iter().sum::<u64>() + 300,
    ))
    .await;
    assert_eq!(calls.load(SeqCst), 1, "handled once");
    assert_eq!(effects(&store, "consumer.typed").await, (0, 0));
}
