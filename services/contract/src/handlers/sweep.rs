//! The contract service's clock: every `contract.sweep_interval_secs` it raises what has
//! fallen due — overdue orders, IPA reviews due and overdue, void beds to offer to partners,
//! service contracts at an expiry alert. Each sweep is a write transaction with its events
//! in the outbox, and each item is marked when raised, so several replicas sweeping at once
//! or a restart mid-way raise each thing once. An interval of 0 turns the clock off (the
//! service tests call [`sweep_once`] with the days they choose).

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use hub_bus::Store;
use hub_platform::db::DbError;

/// What one sweep raised.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub orders_overdue: usize,
    pub reviews_due: usize,
    pub beds_offered: usize,
    pub contracts_expiring: usize,
}

/// Runs every sweep once, as of `today`.
pub async fn sweep_once(store: &Store, today: NaiveDate) -> Result<Swept, DbError> {
    let orders_overdue = store
        .write(move |conn, events| crate::store::sweep_overdue_orders(conn, today, events))
        .await?;
    let reviews_due = store
        .write(move |conn, events| crate::store::sweep_ipa_reviews(conn, today, events))
        .await?;
    let beds_offered = store
        .write(move |conn, events| crate::store::blocks::sweep(conn, today, events))
        .await?;
    let contracts_expiring = store
        .write(move |conn, events| crate::store::service_contracts::sweep(conn, today, events))
        .await?;
    Ok(Swept {
        orders_overdue,
        reviews_due,
        beds_offered,
        contracts_expiring,
    })
}

/// Sweeps now and then every `every`, until the runtime stops. A failed sweep is logged and
/// tried again at the next tick.
pub fn spawn(store: Store, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sweep_once(&store, Utc::now().date_naive()).await {
                Ok(s) if s != Swept::default() => tracing::info!(
                    orders_overdue = s.orders_overdue,
                    reviews_due = s.reviews_due,
                    beds_offered = s.beds_offered,
                    contracts_expiring = s.contracts_expiring,
                    "contract sweep raised"
                ),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "contract sweep failed; next tick tries again")
                }
            }
        }
    })
}
