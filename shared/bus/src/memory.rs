//! The in-process transport (embedded mode): events go straight to the subscribed handlers
//! of this process. A publish resolves once every matching subscriber has handled the event
//! or, after its retries, dead-lettered it into its own database — so the outbox row is only
//! marked published when nothing more can be lost.

use std::{sync::Arc, time::Duration};

use hub_events::Envelope;
use hub_platform::config::BusSettings;
use tokio::sync::RwLock;

use crate::{BusError, Handler, Subscription, Transport};

pub struct MemoryTransport {
    subscriptions: RwLock<Vec<(Subscription, Arc<dyn Handler>)>>,
    retry_delays: Vec<Duration>,
}

impl MemoryTransport {
    pub fn new(settings: &BusSettings) -> Self {
        Self {
            subscriptions: RwLock::default(),
            retry_delays: settings
                .retry_delays_ms
                .iter()
                .map(|ms| Duration::from_millis(*ms))
                .collect(),
        }
    }
}

/// Runs `handler` on `envelope`, retrying after each delay, then dead-letters it.
pub(crate) async fn deliver_with_retries(
    handler: &dyn Handler,
    consumer: &str,
    envelope: &Envelope,
    retry_delays: &[Duration],
) {
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
            Ok(()) => return,
            Err(e) if attempt <= retry_delays.len() => {
                let delay = retry_delays[attempt - 1];
                tracing::warn!(event_id = %envelope.id, consumer, attempt, error = %e, delay_ms = delay.as_millis() as u64, "handler failed; will retry");
                tokio::time::sleep(delay).await;
            }
            Err(e) => {
                tracing::error!(event_id = %envelope.id, consumer, attempt, error = %e, "handler failed; dead-lettered");
                handler
                    .dead_letter(envelope.clone(), e.to_string(), attempt as u32)
                    .await;
                return;
            }
        }
    }
}

#[async_trait::async_trait]
impl Transport for MemoryTransport {
    async fn publish(&self, envelope: &Envelope) -> Result<(), BusError> {
        let targets: Vec<(String, Arc<dyn Handler>)> = self
            .subscriptions
            .read()
            .await
            .iter()
            .filter(|(s, _)| s.matches(&envelope.event_type))
            .map(|(s, h)| (s.consumer(), h.clone()))
            .collect();
        futures::future::join_all(targets.iter().map(|(consumer, h)| {
            deliver_with_retries(h.as_ref(), consumer, envelope, &self.retry_delays)
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
            .push((subscription, handler));
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
