//! The recorder: one task that records the attempts as they finish, a batch per transaction.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use hub_bus::Store;
use tokio::sync::{Notify, mpsc};

use super::{RECORD_BATCH, RECORD_LINGER};
use crate::{
    handlers::metrics::WebhookMetrics,
    store::{self, Attempt, Next},
};

/// while the previous batch committed. Wakes the worker after a batch that scheduled a retry
/// (the retry's due time is news to it). Counts the endpoints it disabled.
pub(super) async fn record(
    store: Store,
    mut attempts: mpsc::UnboundedReceiver<(Attempt, Next)>,
    wake: Arc<Notify>,
    retry_due: Arc<AtomicI64>,
    metrics: WebhookMetrics,
) {
    let mut batch = Vec::new();
    while attempts.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        tokio::time::sleep(RECORD_LINGER).await;
        while batch.len() < RECORD_BATCH
            && let Ok(more) = attempts.try_recv()
        {
            batch.push(more);
        }
        let retries = batch
            .iter()
            .filter_map(|(_, next)| match next {
                Next::RetryAt(at) => Some(*at),
                _ => None,
            })
            .min();
        let recorded = std::mem::take(&mut batch);
        let ids: Vec<String> = recorded
            .iter()
            .map(|(a, _)| a.delivery_id.to_string())
            .collect();
        match store
            .db
            .transaction(move |c| store::record_all(c, &recorded))
            .await
        {
            Ok(disabled) => metrics.endpoints_disabled(disabled),
            // The leases run out and the deliveries are sent again: at least once, never lost.
            Err(e) => {
                tracing::error!(delivery_ids = %ids.join(","), error = %e, "could not record webhook attempts")
            }
        }
        if let Some(at) = retries {
            retry_due.fetch_min(at, Ordering::SeqCst);
            wake.notify_one();
        }
    }
}
