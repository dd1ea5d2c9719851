//! One attempt: the signed request, its outcome, what comes next, and the record of it.

use std::{error::Error as _, time::Instant};

use chrono::{TimeZone, Utc};
use tracing::Instrument as _;

use super::{
    MAX_ERROR_LEN, Worker,
    resolver::{Refused, is_refused},
};
use crate::{
    domain::{self, AfterFailure},
    handlers::metrics::AttemptOutcome,
    store::{Attempt, Claimed, Next, now_ms},
};

impl Worker {
    /// Sends one delivery and hands the attempt to the recorder.
    pub(super) async fn send(&self, d: Claimed) {
        let span = attempt_span(&d);
        let at = Utc::now().naive_utc();
        let started = Instant::now();
        let result = self.post(&d, &span).await;
        let elapsed = started.elapsed();
        let latency_ms = i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX);
        let (status_code, error, outcome) = self.outcome(result);
        self.metrics
            .attempt(&d.event_type, outcome, elapsed.as_secs_f64());
        record_outcome(&span, status_code, outcome);
        let now = now_ms();
        let next = self.next(&d, status_code, error.as_deref(), outcome, now);
        self.report(&d, &next, status_code, error.as_deref(), latency_ms, now);
        let attempt = Attempt {
            delivery_id: d.id,
            endpoint_id: d.endpoint_id,
            lease_until_ms: d.lease_until_ms,
            attempt: d.attempt,
            at,
            status_code: status_code.map(i32::from),
            error,
            latency_ms,
        };
        if self.recorder.send((attempt, next)).is_err() {
            // The lease runs out and the delivery is sent again: at least once, never lost.
            tracing::error!(delivery_id = %d.id, "the recorder is gone; the attempt is not recorded");
        }
    }

    /// POSTs the delivery, signed now, in `span`; `Err(None)` if its URL is refused before
    /// any connection.
    async fn post(
        &self,
        d: &Claimed,
        span: &tracing::Span,
    ) -> Result<reqwest::Response, Option<reqwest::Error>> {
        // The URL as stored is checked again (an endpoint may predate a rule); its name's
        // addresses are checked by the resolver as the connection is made.
        if self.destinations.error(&d.url).is_some() {
            return Err(None);
        }
        let id = d.id.to_string();
        let timestamp = Utc::now().timestamp();
        let signature: Vec<String> = d
            .secrets
            .iter()
            .map(|s| domain::sign(s, &id, timestamp, d.body.as_bytes()))
            .collect();
        let trace = hub_platform::telemetry::child_headers(span, &d.trace);
        let mut request = self
            .client
            .post(&d.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature.join(" "));
        if let Some(traceparent) = trace.get("traceparent") {
            request = request.header("traceparent", traceparent);
        }
        request
            .body(d.body.clone())
            .send()
            .instrument(span.clone())
            .await
            .map_err(Some)
    }

    /// What comes after an attempt with this outcome, at `now`.
    fn next(
        &self,
        d: &Claimed,
        status_code: Option<u16>,
        error: Option<&str>,
        outcome: AttemptOutcome,
        now: i64,
    ) -> Next {
        if outcome == AttemptOutcome::Delivered {
            return Next::Delivered;
        }
        let attempt = u32::try_from(d.attempt.max(1)).unwrap_or(1);
        match domain::after_failure(attempt, d.first_attempt_ms, now, &self.policy) {
            AfterFailure::RetryAt(at) => Next::RetryAt(at),
            AfterFailure::GiveUp => Next::GiveUp {
                reason: self.give_up_reason(d, status_code, error),
            },
        }
    }

    /// Counts a delivery that ended and logs the attempt.
    fn report(
        &self,
        d: &Claimed,
        next: &Next,
        status_code: Option<u16>,
        error: Option<&str>,
        latency_ms: i64,
        now: i64,
    ) {
        let error = error.unwrap_or("");
        match next {
            Next::Delivered => {
                self.metrics.delivery_ended(&d.event_type, true);
                tracing::info!(delivery_id = %d.id, endpoint_id = %d.endpoint_id, event_type = %d.event_type,
                    attempt = d.attempt, latency_ms, "webhook delivered");
            }
            Next::RetryAt(at) => {
                tracing::warn!(delivery_id = %d.id, endpoint_id = %d.endpoint_id, attempt = d.attempt, status_code,
                    error, retry_in_ms = at - now, "webhook attempt failed; will retry");
            }
            Next::GiveUp { .. } => {
                self.metrics.delivery_ended(&d.event_type, false);
                tracing::error!(delivery_id = %d.id, endpoint_id = %d.endpoint_id, attempt = d.attempt, status_code,
                    error, "webhook delivery failed for good; endpoint disabled");
            }
        }
    }

    /// An attempt's status code, error and outcome. A refused one is logged as such, with
    /// nothing about what is (or is not) listening there.
    fn outcome(
        &self,
        result: Result<reqwest::Response, Option<reqwest::Error>>,
    ) -> (Option<u16>, Option<String>, AttemptOutcome) {
        match result {
            Ok(response) => {
                let status = response.status().as_u16();
                let outcome = if domain::accepted(status) {
                    AttemptOutcome::Delivered
                } else {
                    AttemptOutcome::HttpError
                };
                (Some(status), None, outcome)
            }
            Err(Some(e)) if !is_refused(&e) => {
                let outcome = if e.is_timeout() {
                    AttemptOutcome::Timeout
                } else {
                    AttemptOutcome::ConnectionError
                };
                (
                    e.status().map(|s| s.as_u16()),
                    Some(self.describe(&e)),
                    outcome,
                )
            }
            Err(_) => (None, Some(Refused.to_string()), AttemptOutcome::Refused),
        }
    }

    fn describe(&self, e: &reqwest::Error) -> String {
        let mut text = if e.is_timeout() {
            format!("timed out after {} ms", self.timeout_ms)
        } else {
            let mut s = e.to_string();
            let mut source = e.source();
            while let Some(cause) = source {
                s.push_str(": ");
                s.push_str(&cause.to_string());
                source = cause.source();
            }
            s
        };
        if let Some((cut, _)) = text.char_indices().nth(MAX_ERROR_LEN) {
            text.truncate(cut);
        }
        text
    }

    fn give_up_reason(&self, d: &Claimed, status: Option<u16>, error: Option<&str>) -> String {
        let since = Utc
            .timestamp_millis_opt(d.first_attempt_ms)
            .single()
            .unwrap_or_else(Utc::now);
        let last = match (status, error) {
            (_, Some(e)) => e.to_owned(),
            (Some(s), None) => format!("HTTP {s}"),
            (None, None) => "no answer".to_owned(),
        };
        format!(
            "disabled automatically: delivery {} ({}) failed on every attempt for {} hours since {} \
             (last: {last}). Fix the receiver, then POST /v1/webhooks/{}/enable (queued deliveries resume) \
             and POST /v1/webhooks/deliveries/{}/redeliver",
            d.id,
            d.event_type,
            self.give_up_after_hours,
            since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            d.endpoint_id,
            d.id
        )
    }
}

/// An HTTP client span for one attempt (OpenTelemetry conventions: `POST`, kind client), a
/// child of the handling that queued the delivery. Host and port only: the rest of the URL
/// is the provider's and may hold a token.
fn attempt_span(d: &Claimed) -> tracing::Span {
    let (host, port) = url::Url::parse(&d.url)
        .map(|u| (u.host_str().map(str::to_owned), u.port_or_known_default()))
        .unwrap_or_default();
    tracing::info_span!(
        "webhook",
        otel.name = "POST",
        otel.kind = "client",
        http.request.method = "POST",
        server.address = host,
        server.port = port,
        http.response.status_code = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
        error.type = tracing::field::Empty,
        webhook.delivery_id = %d.id,
        webhook.endpoint_id = %d.endpoint_id,
        webhook.event_type = %d.event_type,
        webhook.attempt = d.attempt
    )
}

/// The attempt's answer on its span; a failure as the conventions' `error.type`: the status
/// code of an answer, else what happened.
fn record_outcome(span: &tracing::Span, status_code: Option<u16>, outcome: AttemptOutcome) {
    if let Some(code) = status_code {
        span.record("http.response.status_code", code);
    }
    if outcome == AttemptOutcome::Delivered {
        return;
    }
    span.record("otel.status_code", "ERROR");
    match status_code {
        Some(code) => span.record("error.type", code.to_string().as_str()),
        None => span.record("error.type", <&str>::from(outcome)),
    };
}
