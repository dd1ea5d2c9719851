//! The bus: one [`Transport`] interface with two transports — AMQP (RabbitMQ, via lapin) and
//! in-process — plus the transactional outbox, its relay, and the inbox that makes consumers
//! idempotent.
//!
//! * A service writes state and events together with [`Store::write`]: the events go into
//!   the service's `outbox` table in the same transaction, and the relay is woken at commit.
//! * The [`relay`] publishes outbox rows (with publisher confirms on AMQP) and marks each row
//!   once the transport has accepted it. The rows its own store commits are leased to it at
//!   insert and handed over in memory; others (written before it ran, failed publishes, a dead
//!   relay's) it claims with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL) on a clock of
//!   its own, so several replicas can share one outbox. Leases name their holder, which
//!   heartbeats: a dead relay's rows go out seconds after it stopped. A crash before the mark
//!   means the event is published again: delivery is at least once.
//! * A consumer runs its handler through [`Store::handle`]: the event id goes into the `inbox`
//!   table in the same transaction as the handler's writes, so a redelivered event has no
//!   second effect. Effects are exactly once.
//! * A failing handler is retried with backoff (`bus.retry_delays_ms`), then dead-lettered:
//!   on RabbitMQ to the subscription's dead-letter queue, in-process to the consumer's
//!   `dead_letters` table. Never dropped silently.
//! * Both transports count each attempt's outcome (handled, retried, dead-lettered) per
//!   subscription and event type in the [`BusMetrics`] they are given, which the platform
//!   registers for `/metrics`.

// No function over 80 lines (clippy.toml) without a reason written beside it
// (`#[expect(clippy::too_many_lines, reason = "…")]`); a unit test may tell a longer story.
#![warn(clippy::too_many_lines)]
#![cfg_attr(test, allow(clippy::too_many_lines))]

pub mod amqp;
pub mod memory;
pub mod metrics;
mod on;
pub mod relay;
/// The tables, generated from `migrations/postgres` by `diesel print-schema`; never edited by
/// hand (README, "Changing the database").
mod schema;
mod store;

use std::sync::Arc;

use hub_events::Envelope;
use hub_platform::{config::BusSettings, db::Migrations};

pub use metrics::BusMetrics;
pub use on::Handlers;
pub use store::{Events, Store};

/// The bus's own tables (outbox, inbox, dead letters), migrated into every service database.
pub static MIGRATIONS: Migrations = Migrations {
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
};

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("the broker is not connected: {0}")]
    Disconnected(String),
    #[error("the broker refused the message (negative confirm)")]
    Nacked,
    #[error("broker: {0}")]
    Broker(String),
    #[error("{0}")]
    Config(String),
}

/// Why a handler did not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event can never be applied as it stands (a broken rule, a value it cannot read):
    /// dead-lettered at once, with the reason.
    #[error("refused: {0}")]
    Refused(String),
    /// It may apply later (the database was unavailable, a race, a bug that a fix and a
    /// replay will mend): retried with backoff (`bus.retry_delays_ms`), then dead-lettered.
    #[error("{0}")]
    Failed(String),
}

impl HandlerError {
    /// Whether another attempt could end differently.
    pub fn retryable(&self) -> bool {
        matches!(self, HandlerError::Failed(_))
    }
}

/// Sorts a handler's database error by the error policy (`hub_platform::db::DbError`).
impl From<hub_platform::db::DbError> for HandlerError {
    fn from(e: hub_platform::db::DbError) -> Self {
        use hub_platform::db::{DbError, ErrorClass};
        match (e.class(), e) {
            (_, DbError::Refused(reason)) => HandlerError::Refused(reason),
            (ErrorClass::Refused | ErrorClass::Unreadable, e) => {
                HandlerError::Refused(e.to_string())
            }
            (_, e) => HandlerError::Failed(e.to_string()),
        }
    }
}

/// An event whose payload does not decode into its type never will.
impl From<hub_events::EventError> for HandlerError {
    fn from(e: hub_events::EventError) -> Self {
        HandlerError::Refused(e.to_string())
    }
}

/// A consumer of events.
#[async_trait::async_trait]
pub trait Handler: Send + Sync + 'static {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandlerError>;

    /// Keeps a message the handler gave up on (in-process transport; RabbitMQ keeps its own
    /// dead-letter queue).
    async fn dead_letter(&self, envelope: Envelope, error: String, attempts: u32);
}

/// Runs `handler` on `envelope`, turning a panic into a [`HandlerError`], so that a panicking
/// handler is retried and then dead-lettered like a failing one instead of leaving its message
/// unacknowledged on a live AMQP channel (or its outbox row leased, in-process) until the
/// process restarts.
pub(crate) async fn run_handler(
    handler: &dyn Handler,
    envelope: Envelope,
) -> Result<(), HandlerError> {
    use futures::FutureExt;
    match std::panic::AssertUnwindSafe(handler.handle(envelope))
        .catch_unwind()
        .await
    {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".to_owned());
            Err(HandlerError::Failed(format!(
                "the handler panicked: {message}"
            )))
        }
    }
}

/// The W3C trace context an envelope carries (`traceparent`, `tracestate`).
pub fn trace_of(envelope: &Envelope) -> std::collections::HashMap<String, String> {
    [
        ("traceparent", &envelope.traceparent),
        ("tracestate", &envelope.tracestate),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k.to_owned(), v.clone()?)))
    .collect()
}

/// Gives `envelope` the trace context in `headers` (W3C; none if empty).
fn carry_trace(envelope: &mut Envelope, mut headers: std::collections::HashMap<String, String>) {
    envelope.traceparent = headers.remove("traceparent");
    envelope.tracestate = headers.remove("tracestate");
}

/// Records a failed publish or handling on its span (status ERROR, `error.type`).
fn record_error(span: &tracing::Span, error_type: &'static str) {
    span.record("otel.status_code", "ERROR");
    span.record("error.type", error_type);
}

/// Runs one handling (`attempt`, from 0) of `envelope` by `consumer` in a span of its own,
/// per the OpenTelemetry messaging conventions: `process <event type>`, kind consumer, a child
/// of the span that published the message (its context in `carrier`: the AMQP headers, or
/// the envelope in-process). The handler sees the envelope with this span's trace context, so
/// the events it emits and the webhooks it queues follow in the same trace, under it. A
/// message that came without trace context (never from the relay, which always sends one) is
/// handled in a span of its own and handed over without any.
pub(crate) async fn handle_traced(
    handler: &dyn Handler,
    mut envelope: Envelope,
    consumer: &str,
    attempt: usize,
    system: &'static str,
    carrier: &std::collections::HashMap<String, String>,
) -> Result<(), HandlerError> {
    let span = tracing::info_span!(
        "consume",
        otel.name = %format!("process {}", envelope.event_type),
        otel.kind = "consumer",
        messaging.system = system,
        messaging.operation.name = "process",
        messaging.operation.type = "process",
        messaging.destination.name = %envelope.event_type,
        messaging.consumer.group.name = consumer,
        messaging.message.id = %envelope.id,
        attempt,
        otel.status_code = tracing::field::Empty,
        error.type = tracing::field::Empty,
    );
    let headers = hub_platform::telemetry::child_headers(&span, carrier);
    carry_trace(&mut envelope, headers);
    let result =
        tracing::Instrument::instrument(run_handler(handler, envelope), span.clone()).await;
    if result.is_err() {
        record_error(&span, "handler_error");
    }
    result
}

/// A durable subscription: one queue named `<prefix>.<service>.<name>`, bound to the
/// given event types.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub service: String,
    pub name: String,
    pub event_types: Vec<String>,
}

impl Subscription {
    pub fn new(service: &str, name: &str, event_types: &[&str]) -> Self {
        Self {
            service: service.to_owned(),
            name: name.to_owned(),
            event_types: event_types.iter().map(|t| (*t).to_owned()).collect(),
        }
    }

    /// The consumer's identity in inbox rows.
    pub fn consumer(&self) -> String {
        format!("{}.{}", self.service, self.name)
    }

    pub fn matches(&self, event_type: &str) -> bool {
        self.event_types.iter().any(|t| t == event_type)
    }
}

/// A message transport.
#[async_trait::async_trait]
pub trait Transport: Send + Sync + 'static {
    /// Publishes one event; returns once the transport has durably accepted it (a broker
    /// confirm; in-process, once every subscriber has handled or dead-lettered it).
    async fn publish(&self, envelope: &Envelope) -> Result<(), BusError>;

    /// Declares the subscription's topology and starts consuming into `handler`; returns
    /// once consumption has started.
    async fn subscribe(
        &self,
        subscription: Subscription,
        handler: Arc<dyn Handler>,
    ) -> Result<(), BusError>;

    /// Readiness: the broker is reachable.
    async fn ready(&self) -> Result<(), String>;

    /// Whether this transport lives in this process only (leases can be reset at start-up).
    fn in_process(&self) -> bool;

    /// Stops consuming and closes connections.
    async fn shutdown(&self);

    /// Deletes the queues and exchange this transport declared (test clean-up).
    async fn teardown(&self) -> Result<(), BusError> {
        Ok(())
    }
}

/// Connects the transport named by `bus.url`, counting what its consumers handle, retry and
/// dead-letter into `metrics`.
pub async fn connect(
    settings: &BusSettings,
    metrics: BusMetrics,
) -> Result<Arc<dyn Transport>, BusError> {
    if settings.url.starts_with("memory://") {
        Ok(Arc::new(memory::MemoryTransport::with_metrics(
            settings, metrics,
        )))
    } else if settings.url.starts_with("amqp://") || settings.url.starts_with("amqps://") {
        Ok(amqp::AmqpTransport::connect_with_metrics(settings, metrics).await?)
    } else {
        Err(BusError::Config(format!(
            "bus.url must start with memory:// or amqp:// (got {})",
            settings.url
        )))
    }
}

/// Readiness check for `/health/ready`.
pub struct BusReadiness(pub Arc<dyn Transport>);

#[async_trait::async_trait]
impl hub_platform::http::ReadinessCheck for BusReadiness {
    fn name(&self) -> String {
        "bus".to_owned()
    }
    async fn check(&self) -> Result<(), String> {
        self.0.ready().await
    }
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
