//! What the consumers did, on `/metrics`: events handled, retried and dead-lettered, per
//! subscription and event type, counted by the transport where it decides (both transports
//! count the same way).

use prometheus::{IntCounterVec, Opts, Registry};

use crate::Subscription;

/// The `event_type` label of a message that is not an envelope (AMQP only).
pub const UNDECODABLE: &str = "undecodable";

/// The consumers' counters of one transport. Made unregistered; whoever serves `/metrics`
/// registers them into its platform's registry ([`BusMetrics::register`]).
#[derive(Clone)]
pub struct BusMetrics {
    handled: IntCounterVec,
    retried: IntCounterVec,
    dead_lettered: IntCounterVec,
}

const LABELS: &[&str] = &["service", "subscription", "event_type"];

fn counter(name: &str, help: &str) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, help), LABELS).expect("a well-formed metric")
}

impl Default for BusMetrics {
    fn default() -> Self {
        Self {
            handled: counter(
                "bus_events_handled_total",
                "Events a subscription's handler handled (a duplicate the inbox skipped too)",
            ),
            retried: counter(
                "bus_events_retried_total",
                "Handler failures that were scheduled for another attempt",
            ),
            dead_lettered: counter(
                "bus_events_dead_lettered_total",
                "Events dead-lettered after their last attempt failed",
            ),
        }
    }
}

/// What became of one attempt at handling an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Handled,
    Retried,
    DeadLettered,
}

impl BusMetrics {
    /// Registers the counters into `registry` (once per registry).
    pub fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        for c in [&self.handled, &self.retried, &self.dead_lettered] {
            registry.register(Box::new(c.clone()))?;
        }
        Ok(())
    }

    fn series(
        &self,
        subscription: &Subscription,
        event_type: &str,
        outcome: Outcome,
    ) -> prometheus::IntCounter {
        let counter = match outcome {
            Outcome::Handled => &self.handled,
            Outcome::Retried => &self.retried,
            Outcome::DeadLettered => &self.dead_lettered,
        };
        counter.with_label_values(&[&subscription.service, &subscription.name, event_type])
    }

    /// Counts one attempt's outcome for `subscription`.
    pub fn count(&self, subscription: &Subscription, event_type: &str, outcome: Outcome) {
        self.series(subscription, event_type, outcome).inc();
    }

    /// The count so far of `outcome` for `subscription` and `event_type`.
    pub fn get(&self, subscription: &Subscription, event_type: &str, outcome: Outcome) -> u64 {
        self.series(subscription, event_type, outcome).get()
    }
}
