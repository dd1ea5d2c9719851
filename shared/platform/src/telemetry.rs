//! Tracing: JSON logs (or pretty ones), OpenTelemetry spans exported over OTLP when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and W3C trace context carried across HTTP calls and
//! AMQP messages so one trace follows a referral through every service.
//!
//! A tracer provider is always installed (without an exporter when none is configured), so
//! trace context is generated and propagated in every mode; exporting is what is optional.

use std::collections::HashMap;

use opentelemetry::{global, trace::TracerProvider as _};
use opentelemetry_sdk::{
    Resource,
    propagation::TraceContextPropagator,
    trace::{SdkTracerProvider, span_processor_with_async_runtime::BatchSpanProcessor},
};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{
    EnvFilter, Layer, filter::LevelFilter, layer::SubscriberExt, util::SubscriberInitExt,
};

use crate::config::TelemetrySettings;

/// Keeps the tracer provider alive; flushes spans when dropped.
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl TelemetryGuard {
    /// Flushes and stops span export (off the async workers: shutdown blocks).
    pub async fn shutdown(self) {
        let provider = self.provider;
        match tokio::task::spawn_blocking(move || provider.shutdown()).await {
            Ok(Err(e)) => tracing::warn!(error = %e, "span export did not shut down cleanly"),
            Err(e) => tracing::warn!(error = %e, "span export shutdown failed"),
            Ok(Ok(())) => {}
        }
    }
}

/// Installs logging and tracing for the process. Call once, at start-up.
pub fn init(service_name: &str, settings: &TelemetrySettings) -> anyhow::Result<TelemetryGuard> {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let service_name =
        std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| service_name.to_owned());
    let resource = Resource::builder().with_service_name(service_name).build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    let exporting = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").is_ok_and(|v| !v.is_empty());
    if exporting {
        // The async-runtime batch processor: the plain one exports from a thread without a
        // tokio reactor, where the reqwest client cannot run.
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()?;
        let processor =
            BatchSpanProcessor::builder(exporter, opentelemetry_sdk::runtime::Tokio).build();
        builder = builder.with_span_processor(processor);
    }
    let provider = builder.build();
    global::set_tracer_provider(provider.clone());
    let tracer = provider.tracer("commissioning-hub");
    // The log filter applies to the log output only: spans that carry trace context are
    // recorded whatever the log level, so a quiet deployment still propagates traces.
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.log_filter));
    let otel = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(LevelFilter::INFO);
    let registry = tracing_subscriber::registry().with(otel);
    if settings.log_format == "pretty" {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_filter(filter),
            )
            .try_init()?;
    } else {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_writer(std::io::stderr)
                    .with_filter(filter),
            )
            .try_init()?;
    }
    if exporting {
        tracing::info!("exporting traces over OTLP");
    }
    Ok(TelemetryGuard { provider })
}

/// The current span's trace context as W3C headers (`traceparent`, `tracestate`).
pub fn inject_current() -> HashMap<String, String> {
    let mut carrier = HashMap::new();
    let cx = tracing::Span::current().context();
    global::get_text_map_propagator(|p| p.inject_context(&cx, &mut carrier));
    carrier
}

/// Makes the trace context in `carrier` the parent of `span`.
pub fn set_parent(span: &tracing::Span, carrier: &HashMap<String, String>) {
    let cx = global::get_text_map_propagator(|p| p.extract(carrier));
    let _ = span.set_parent(cx);
}
