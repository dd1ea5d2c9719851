//! The delivery worker on `/metrics`: attempts by outcome with their latency, deliveries by
//! final outcome, and the endpoints it disabled. Labels are codes only (the webhook's event
//! type, the outcome), never an endpoint, a delivery or a URL.

use prometheus::{HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, core::Collector};

/// Buckets of an attempt's latency, in seconds (the default request timeout is 10 s).
const LATENCY_BUCKETS: &[f64] = &[0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// What came of one attempt to send a webhook (its label is the snake_case name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum AttemptOutcome {
    /// A 2xx answer.
    Delivered,
    /// Any other answer (a 3xx too: redirects are not followed).
    HttpError,
    /// No answer within `webhooks.timeout_ms`.
    Timeout,
    /// No connection (refused, reset, DNS failure, TLS failure).
    ConnectionError,
    /// Not sent: the destination is not a public address.
    Refused,
}

/// The delivery worker's metric families (registered by the platform through
/// [`hub_platform::http::Mounted::metrics`]).
#[derive(Clone)]
pub struct WebhookMetrics {
    attempts: IntCounterVec,
    latency: HistogramVec,
    deliveries: IntCounterVec,
    disabled: IntCounter,
}

impl Default for WebhookMetrics {
    fn default() -> Self {
        let attempts = IntCounterVec::new(
            Opts::new("webhook_attempts_total", "Webhook attempts, by outcome"),
            &["event_type", "outcome"],
        );
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "webhook_attempt_duration_seconds",
                "How long a webhook attempt took, by outcome",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["outcome"],
        );
        let deliveries = IntCounterVec::new(
            Opts::new(
                "webhook_deliveries_total",
                "Webhook deliveries that ended: delivered, or failed after retrying for \
                 webhooks.give_up_after_hours",
            ),
            &["event_type", "outcome"],
        );
        let disabled = IntCounter::new(
            "webhook_endpoints_disabled_total",
            "Endpoints disabled automatically because a delivery to them failed for good",
        );
        Self {
            attempts: attempts.expect("a well-formed metric"),
            latency: latency.expect("a well-formed metric"),
            deliveries: deliveries.expect("a well-formed metric"),
            disabled: disabled.expect("a well-formed metric"),
        }
    }
}

impl WebhookMetrics {
    /// Counts an attempt and its latency.
    pub fn attempt(&self, event_type: &str, outcome: AttemptOutcome, seconds: f64) {
        let outcome: &str = outcome.into();
        self.attempts
            .with_label_values(&[event_type, outcome])
            .inc();
        self.latency.with_label_values(&[outcome]).observe(seconds);
    }

    /// Counts a delivery that ended: `delivered` or `failed`.
    pub fn delivery_ended(&self, event_type: &str, delivered: bool) {
        let outcome = if delivered { "delivered" } else { "failed" };
        self.deliveries
            .with_label_values(&[event_type, outcome])
            .inc();
    }

    /// Counts endpoints disabled automatically.
    pub fn endpoints_disabled(&self, n: usize) {
        self.disabled.inc_by(n as u64);
    }

    /// The families, for the platform's registry.
    pub fn collectors(&self) -> Vec<Box<dyn Collector>> {
        vec![
            Box::new(self.attempts.clone()),
            Box::new(self.latency.clone()),
            Box::new(self.deliveries.clone()),
            Box::new(self.disabled.clone()),
        ]
    }
}
