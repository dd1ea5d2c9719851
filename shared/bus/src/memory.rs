//! The in-process transport (embedded mode): events go straight to the subscribed handlers
//! of this process. A publish resolves once every matching subscriber has handled the event
//! or, after its retries, dead-lettered it into its own database — so the outbox row is only
//! marked published when nothing more can be lost.

use std::{sync::Arc, time::Duration};

use hub_events::Envelope;
use hub_platform::config::BusSettings;
use tokio::sync::RwLock;

use crate::{
    BusError, Handler, Subscription, Transport,
    metrics::{BusMetrics, Outcome},
};

/// A subscription and the handler its events go to.
type Subscribed = (Arc<Subscription>, Arc<dyn Handler>);

pub struct MemoryTransport {
    subscriptions: RwLock<Vec<Subscribed>>,
    retry_delays: Vec<Duration>,
    metrics: BusMetrics,
}

impl MemoryTransport {
    /// An in-process transport counting into metrics of its own (unregistered).
    pub fn new(settings: &BusSettings) -> Self {
        Self::with_metrics(settings, BusMetrics::default())
    }

    /// An in-process transport counting what its consumers do into `metrics`.
    pub fn with_metrics(settings: &BusSettings, metrics: BusMetrics) -> Self {
        Self {
            subscriptions: RwLock::default(),
            retry_delays: settings
                .retry_delays_ms
                .iter()
                .map(|ms| Duration::from_millis(*ms))
                .collect(),
            metrics,
        }
    }
}

/// Runs `handler` on `envelope`, retrying after each delay, then dead-letters it; counts each
/// attempt's outcome in `metrics`.
async fn deliver_with_retries(
    handler: &dyn Handler,
    subscription: &Subscription,
    envelope: &Envelope,
    retry_delays: &[Duration],
    metrics: &BusMetrics,
) {
    let consumer = subscription.consumer();
    let consumer = consumer.as_str();
    let count = |outcome| metrics.count(subscription, &envelope.event_type, outcome);
    let mut attempt = 0usize;
    loop {
        attempt += 1;
        let carrier = crate::trace_of(envelope);
        let result = crate::handle_traced(
            handler,
            envelope.clone(),
            consumer,
            attempt - 1,
            "in_process",
            &carrier,
        )
        .await;
        match result {
            Ok(()) => {
                count(Outcome::Handled);
                return;
            }
            Err(e) if e.retryable() && attempt <= retry_delays.len() => {
                count(Outcome::Retried);
                let delay = retry_delays[attempt - 1];
                tracing::warn!(event_id = %envelope.id, consumer, attempt, error = %e, delay_ms = delay.as_millis() as u64, "handler failed; will retry");
                tokio::time::sleep(delay).await;
            }
            Err(e) => {
                tracing::error!(event_id = %envelope.id, consumer, attempt, error = %e, "handler failed; dead-lettered");
                handler
                    .dead_letter(envelope.clone(), e.to_string(), attempt as u32)
                    .await;
                count(Outcome::DeadLettered);
                return;
            }
        }
    }
}

#[async_trait::async_trait]
impl Transport for MemoryTransport {
    async fn publish(&self, envelope: &Envelope) -> Result<(), BusError> {
        let targets: Vec<Subscribed> = self
            .subscriptions
            .read()
            .await
            .iter()
            .filter(|(s, _)| s.matches(&envelope.event_type))
            .map(|(s, h)| (s.clone(), h.clone()))
            .collect();
        futures::future::join_all(targets.iter().map(|(subscription, h)| {
            deliver_with_retries(
                h.as_ref(),
                subscription,
                envelope,
                &self.retry_delays,
                &self.metrics,
            )
        }))
        .await;
        Ok(())
    }

    async fn subscribe(
        &self,
        subscription: Subscription,
        handler: Arc<dyn Handler>,
    ) -> Result<(), BusError> {
        self.subscriptions
            .write()
            .await
            .push((Arc::new(subscription), handler));
        Ok(())
    }

    async fn ready(&self) -> Result<(), String> {
        Ok(())
    }

    fn in_process(&self) -> bool {
        true
    }

    async fn shutdown(&self) {
        self.subscriptions.write().await.clear();
    }
}
