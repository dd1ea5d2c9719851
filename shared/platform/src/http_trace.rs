//! The HTTP server's telemetry: one span per request, named and attributed per the
//! OpenTelemetry HTTP semantic conventions (through tracing-actix-web's middleware, with our
//! own [`ServerSpan`] builder), and one access-log line per request ([`access_log`]).
//!
//! Neither carries the query string nor the body (they can hold a child's details): the span
//! has the route template and the path (ids only), the access line the route template.

use std::{collections::HashMap, time::Instant};

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::{Method, StatusCode},
    middleware::Next,
};
use tracing::{Span, field::Empty};
use tracing_actix_web::{RootSpanBuilder, TracingLogger};

/// The middleware that opens a [`ServerSpan`] around each request (outermost, so the other
/// middleware and the access log run inside it).
pub fn server_spans() -> TracingLogger<ServerSpan> {
    TracingLogger::new()
}

/// Builds each request's server span: `otel.name` `"{method} {route}"` (e.g. `POST
/// /v1/referrals/{id}/submit`; the method alone when no route matched), kind server,
/// `http.request.method`, `http.route`, `url.path`, `url.scheme`, `network.protocol.version`,
/// then `http.response.status_code`, and status ERROR with `error.type` for a 5xx. A
/// `traceparent` (and `tracestate`) sent by the caller makes it a child of the caller's span.
pub struct ServerSpan;

impl RootSpanBuilder for ServerSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let method = known_method(request.method());
        let route = request.match_pattern();
        let name = match (&route, method) {
            (_, "_OTHER") => "HTTP".to_owned(),
            (Some(route), _) => format!("{method} {route}"),
            (None, _) => method.to_owned(),
        };
        let span = tracing::info_span!(
            "http_request",
            otel.name = %name,
            otel.kind = "server",
            http.request.method = method,
            http.route = route.as_deref(),
            url.path = request.path(),
            url.scheme = request.connection_info().scheme(),
            network.protocol.version = protocol_version(request.version()),
            http.response.status_code = Empty,
            otel.status_code = Empty,
            error.type = Empty,
        );
        let mut carrier = HashMap::new();
        for key in ["traceparent", "tracestate"] {
            if let Some(v) = request.headers().get(key).and_then(|v| v.to_str().ok()) {
                carrier.insert(key.to_owned(), v.to_owned());
            }
        }
        crate::telemetry::set_parent(&span, &carrier);
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = status_of(outcome);
        span.record("http.response.status_code", status.as_u16());
        // Server spans: a 4xx is the caller's doing, not the server's error.
        if status.is_server_error() {
            span.record("otel.status_code", "ERROR");
            span.record("error.type", status.as_str());
        }
    }
}

fn status_of<B>(outcome: &Result<ServiceResponse<B>, Error>) -> StatusCode {
    match outcome {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    }
}

/// The method as the conventions name it: one of the standard ones, or `_OTHER`.
fn known_method(method: &Method) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ];
    KNOWN
        .into_iter()
        .find(|m| *m == method.as_str())
        .unwrap_or("_OTHER")
}

fn protocol_version(version: actix_web::http::Version) -> &'static str {
    use actix_web::http::Version;
    match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => "1.1",
    }
}

/// Middleware writing one access-log line per request (target `hub::access`, message
/// `request`): `method`, `route` (the template, absent when none matched), `status` and
/// `duration_ms` to the response head; inside the server span, so the line carries its
/// `trace_id` and `span_id`. Mount it inside [`server_spans`].
pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = known_method(req.method());
    let route = req.match_pattern();
    let outcome = next.call(req).await;
    tracing::info!(
        target: "hub::access",
        method,
        route = route.as_deref(),
        status = status_of(&outcome).as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    outcome
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use actix_web::{App, HttpResponse, middleware::from_fn, test, web};
    use opentelemetry::trace::{SpanKind, Status, TracerProvider as _};
    use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    /// Keeps the spans exported to it.
    #[derive(Debug, Clone, Default)]
    struct Kept(Arc<Mutex<Vec<SpanData>>>);

    impl SpanExporter for Kept {
        async fn export(&self, batch: Vec<SpanData>) -> opentelemetry_sdk::error::OTelSdkResult {
            self.0.lock().unwrap().extend(batch);
            Ok(())
        }
    }

    fn attribute(span: &SpanData, key: &str) -> Option<String> {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
    }

    /// Server spans are named `{method} {route}` (the method alone when no route matched),
    /// kind server, with the conventions' attributes and never the query string; a caller's
    /// `traceparent` makes the span its child; a 5xx sets status ERROR and `error.type`, a 4xx
    /// does not.
    #[actix_web::test]
    async fn server_spans_follow_the_http_conventions() {
        const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
        crate::telemetry::init_propagation();
        let kept = Kept::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(kept.clone())
            .build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = test::init_service(
            App::new()
                .wrap(from_fn(access_log))
                .wrap(server_spans())
                .route("/v1/things/{id}", web::get().to(HttpResponse::Ok))
                .route("/boom", web::post().to(HttpResponse::InternalServerError))
                .default_service(web::to(HttpResponse::NotFound)),
        )
        .await;
        for req in [
            test::TestRequest::get()
                .uri("/v1/things/7?name=Jordan")
                .insert_header(("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01"))),
            test::TestRequest::post().uri("/boom"),
            test::TestRequest::get().uri("/nowhere"),
        ] {
            let _ = test::call_service(&app, req.to_request()).await;
        }
        let spans = kept.0.lock().unwrap().clone();
        let names: Vec<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
        assert_eq!(names, ["GET /v1/things/{id}", "POST /boom", "GET"]);
        assert!(spans.iter().all(|s| s.span_kind == SpanKind::Server));
        let thing = &spans[0];
        assert_eq!(thing.span_context.trace_id().to_string(), TRACE_ID);
        assert_eq!(thing.parent_span_id.to_string(), "00f067aa0ba902b7");
        for (key, value) in [
            ("http.request.method", "GET"),
            ("http.route", "/v1/things/{id}"),
            ("url.path", "/v1/things/7"),
            ("http.response.status_code", "200"),
        ] {
            assert_eq!(attribute(thing, key).as_deref(), Some(value), "{key}");
        }
        assert!(
            !format!("{:?}", thing.attributes).contains("Jordan"),
            "no query string: {:?}",
            thing.attributes
        );
        assert!(
            matches!(spans[1].status, Status::Error { .. }),
            "{:?}",
            spans[1].status
        );
        assert_eq!(attribute(&spans[1], "error.type").as_deref(), Some("500"));
        assert_eq!(
            attribute(&spans[2], "http.response.status_code").as_deref(),
            Some("404")
        );
        assert_eq!(attribute(&spans[2], "http.route"), None);
        assert!(
            !matches!(spans[2].status, Status::Error { .. }),
            "a 4xx is no server error"
        );
    }
}
