//! Tracing: JSON logs (or pretty ones), OpenTelemetry spans exported over OTLP when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and W3C trace context carried across HTTP calls and
//! AMQP messages so one trace follows a referral through every service.
//!
//! A tracer provider is always installed (without an exporter when none is configured), so
//! trace context is generated and propagated in every mode; exporting is what is optional.

use std::collections::HashMap;

use opentelemetry::{
    global,
    trace::{TraceContextExt as _, TracerProvider as _},
};
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

/// Makes W3C trace context (`traceparent`, `tracestate`) the propagation format.
pub fn init_propagation() {
    global::set_text_map_propagator(TraceContextPropagator::new());
}

/// Installs logging and tracing for the process. Call once, at start-up.
pub fn init(service_name: &str, settings: &TelemetrySettings) -> anyhow::Result<TelemetryGuard> {
    // The OTLP exporter builds a reqwest client, which (built without a provider of its own)
    // panics unless rustls has one installed: install it before anything builds a client.
    crate::install_crypto_provider();
    init_propagation();
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
            .with(json_lines(std::io::stderr).with_filter(filter))
            .try_init()?;
    }
    if exporting {
        tracing::info!("exporting traces over OTLP");
    }
    Ok(TelemetryGuard { provider })
}

/// The JSON log lines, one object per line (on stderr): `timestamp`, `level`, `target`, the
/// event's fields at the top level (`message` among them), `span` (the current span's name and
/// fields) and, inside a span, its OpenTelemetry `trace_id` and `span_id`.
fn json_lines<S, W>(writer: W) -> json_subscriber::JsonLayer<S, W>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + 'static,
{
    let mut layer = json_subscriber::JsonLayer::new(writer);
    layer
        .with_timer("timestamp", tracing_subscriber::fmt::time::SystemTime)
        .with_level("level")
        .with_target("target")
        .with_flattened_event()
        .with_current_span("span");
    layer.add_dynamic_field("trace_id", |_, _| current_ids().map(|(trace, _)| trace));
    layer.add_dynamic_field("span_id", |_, _| current_ids().map(|(_, span)| span));
    layer
}

/// The trace and span ids of the span entered on this thread, as hex (the OpenTelemetry layer
/// makes an entered span's context the current one), or `None` outside any traced span.
fn current_ids() -> Option<(String, String)> {
    let cx = opentelemetry::Context::current();
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid()
        .then(|| (sc.trace_id().to_string(), sc.span_id().to_string()))
}

/// The W3C headers (`traceparent`, and `tracestate` unless empty) of `span` itself: what a
/// message sent under it carries so that its handling joins the trace as its child.
pub fn headers_of(span: &tracing::Span) -> HashMap<String, String> {
    let mut carrier = HashMap::new();
    global::get_text_map_propagator(|p| p.inject_context(&span.context(), &mut carrier));
    carrier.retain(|_, v| !v.is_empty());
    carrier
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

/// W3C headers (`traceparent`, and `tracestate` unless empty) for an outgoing request made
/// under `span` on behalf of work whose trace context was kept in `parent` (e.g. stored with
/// a queued job): `span` becomes a child of that context, and the headers carry the parent's
/// trace id with `span`'s own span id. Empty if `parent` holds no valid `traceparent`, so a
/// request for untraced work carries none. Call it before `span` is entered.
///
/// The headers are written afresh by the propagator from the parsed ids, never copied.
pub fn child_headers(
    span: &tracing::Span,
    parent: &HashMap<String, String>,
) -> HashMap<String, String> {
    let cx = global::get_text_map_propagator(|p| p.extract(parent));
    if !cx.span().span_context().is_valid() {
        return HashMap::new();
    }
    let _ = span.set_parent(cx);
    headers_of(span)
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const PARENT_SPAN: &str = "00f067aa0ba902b7";

    /// Runs `f` with W3C propagation and an OpenTelemetry layer, as [`init`] sets them up.
    fn traced<T>(f: impl FnOnce() -> T) -> T {
        global::set_text_map_propagator(TraceContextPropagator::new());
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, f)
    }

    fn carrier(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn parts(traceparent: &str) -> Vec<String> {
        traceparent.split('-').map(str::to_owned).collect()
    }

    #[test]
    fn child_headers_continue_the_parent_trace_in_a_span_of_their_own() {
        traced(|| {
            let parent = carrier(&[
                ("traceparent", &format!("00-{TRACE_ID}-{PARENT_SPAN}-01")),
                ("tracestate", "hub=1"),
            ]);
            let first = child_headers(&tracing::info_span!("webhook"), &parent);
            let p = parts(&first["traceparent"]);
            assert_eq!((p.len(), p[0].as_str(), p[1].as_str()), (4, "00", TRACE_ID));
            assert!(
                p[2].len() == 16
                    && p[2].chars().all(|c| c.is_ascii_hexdigit())
                    && p[2] != PARENT_SPAN
                    && p[2] != "0000000000000000",
                "a span id of its own: {}",
                first["traceparent"]
            );
            assert_eq!(p[3], "01", "sampled as its parent");
            assert_eq!(first["tracestate"], "hub=1");
            assert_eq!(first.len(), 2);

            // Another request (a retry) for the same work: same trace, another span.
            let again = child_headers(&tracing::info_span!("webhook"), &parent);
            let q = parts(&again["traceparent"]);
            assert_eq!(q[1], TRACE_ID);
            assert_ne!(q[2], p[2]);

            // No tracestate kept: none sent; an unsampled parent stays unsampled.
            let unsampled = carrier(&[("traceparent", &format!("00-{TRACE_ID}-{PARENT_SPAN}-00"))]);
            let h = child_headers(&tracing::info_span!("webhook"), &unsampled);
            assert_eq!(h.keys().collect::<Vec<_>>(), ["traceparent"]);
            let r = parts(&h["traceparent"]);
            assert_eq!((r[1].as_str(), r[3].as_str()), (TRACE_ID, "00"));
        });
    }

    /// Log lines are JSON objects; inside a span they carry its trace and span ids (those its
    /// `traceparent` would carry), outside any they carry none; fields are values, not Debug.
    #[test]
    fn json_lines_carry_the_trace_and_span_ids_of_their_span() {
        use std::sync::{Arc, Mutex};

        #[derive(Clone, Default)]
        struct Lines(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Lines {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        global::set_text_map_propagator(TraceContextPropagator::new());
        let provider = SdkTracerProvider::builder().build();
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
            .with(json_lines(move || writer.clone()));
        let traceparent = tracing::subscriber::with_default(subscriber, || {
            tracing::info!(answer = 42, "outside");
            let span = tracing::info_span!("work", kind = "test");
            set_parent(
                &span,
                &carrier(&[("traceparent", &format!("00-{TRACE_ID}-{PARENT_SPAN}-01"))]),
            );
            let traceparent = headers_of(&span)["traceparent"].clone();
            span.in_scope(|| tracing::info!(reason = Some("late"), "inside"));
            traceparent
        });
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let json: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert_eq!(json.len(), 2, "{text}");
        assert_eq!(
            (&json[0]["message"], &json[0]["answer"]),
            (&"outside".into(), &42.into())
        );
        assert!(
            json[0].get("trace_id").is_none() && json[0].get("span_id").is_none(),
            "{text}"
        );
        let p = parts(&traceparent);
        assert_eq!(json[1]["message"], "inside");
        assert_eq!(json[1]["reason"], "late", "a value, not Some(..): {text}");
        assert_eq!(
            (json[1]["trace_id"].as_str(), json[1]["span_id"].as_str()),
            (Some(TRACE_ID), Some(p[2].as_str()))
        );
        assert_eq!(
            (&json[1]["span"]["name"], &json[1]["span"]["kind"]),
            (&"work".into(), &"test".into())
        );
        for key in ["timestamp", "level", "target"] {
            assert!(json[1].get(key).is_some(), "{key}: {text}");
        }
    }

    #[test]
    fn child_headers_are_empty_without_a_valid_parent() {
        traced(|| {
            for parent in [
                carrier(&[]),
                carrier(&[("tracestate", "hub=1")]),
                carrier(&[("traceparent", "not a traceparent")]),
                carrier(&[(
                    "traceparent",
                    &format!("00-00000000000000000000000000000000-{PARENT_SPAN}-01"),
                )]),
                carrier(&[("traceparent", &format!("00-{TRACE_ID}-0000000000000000-01"))]),
            ] {
                let h = child_headers(&tracing::info_span!("webhook"), &parent);
                assert!(h.is_empty(), "{parent:?} gave {h:?}");
            }
        });
    }
}
