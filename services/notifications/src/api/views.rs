//! What the webhook endpoints' owners see: endpoints (never their secrets, but once at
//! creation and rotation), deliveries and attempts.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use hub_platform::db::DbError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    app::endpoints::Logged,
    domain::DeliveryStatus,
    ids::{DeliveryId, EndpointId, EventId},
    store::{AttemptLog, Endpoint},
};

fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

pub(super) fn utc_ms(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}

/// A webhook endpoint as its owner sees it (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: EndpointId,
    pub url: String,
    pub event_types: Vec<String>,
    pub description: Option<String>,
    pub enabled: bool,
    /// Why the endpoint is disabled: by its owner, or automatically after its deliveries kept
    /// failing (with what to do about it).
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<&Endpoint> for WebhookView {
    fn from(e: &Endpoint) -> Self {
        Self {
            id: e.id,
            url: e.url.clone(),
            event_types: e.event_types.0.clone(),
            description: e.description.clone(),
            enabled: e.enabled,
            disabled_reason: e.disabled_reason.clone(),
            disabled_at: e.disabled_at.map(utc),
            created_at: utc(e.created_at),
        }
    }
}

/// A new endpoint, with its signing secret: shown only here.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// `whsec_` + base64 of the 24-byte key. Keep it; it is not shown again.
    pub secret: String,
}

/// A rotated secret. The previous one keeps signing, as a second signature, until
/// `previous_secret_valid_until`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedSecret {
    pub id: EndpointId,
    pub secret: String,
    pub previous_secret_valid_until: DateTime<Utc>,
}

/// One attempt at a delivery.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookAttempt)]
pub struct AttemptView {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status, if it answered.
    pub status_code: Option<i32>,
    /// What went wrong without an answer (timeout, connection refused, …).
    pub error: Option<String>,
    pub latency_ms: i64,
}

impl From<&AttemptLog> for AttemptView {
    fn from(a: &AttemptLog) -> Self {
        Self {
            attempt: a.attempt,
            at: utc(a.attempted_at),
            status_code: a.status_code,
            error: a.error.clone(),
            latency_ms: a.latency_ms,
        }
    }
}

/// One message to an endpoint and every attempt at it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookDelivery)]
pub struct DeliveryView {
    /// The `webhook-id` the receiver sees.
    pub id: DeliveryId,
    pub event_type: String,
    /// The integration event that caused it.
    pub event_id: EventId,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    /// When it is tried next (pending deliveries).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    /// The body sent (ids, codes and links only).
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub attempt_log: Vec<AttemptView>,
}

/// A delivery and its attempts as the log shows them. A body that is not JSON (a row changed
/// by hand) is an unreadable row: a 500 and an alert, not an empty payload.
pub(super) fn delivery_view((d, attempts): &Logged) -> Result<DeliveryView, DbError> {
    let payload = serde_json::from_str(&d.body).map_err(|e| {
        DbError::Diesel(diesel::result::Error::DeserializationError(
            format!("the stored body of delivery {} is not JSON: {e}", d.id).into(),
        ))
    })?;
    Ok(DeliveryView {
        id: d.id,
        event_type: d.event_type.clone(),
        event_id: d.event_id,
        status: d.status,
        attempts: d.attempts,
        created_at: utc(d.created_at),
        next_attempt_at: (d.status == DeliveryStatus::Pending)
            .then(|| utc_ms(d.next_attempt_ms))
            .flatten(),
        delivered_at: d.delivered_ms.and_then(utc_ms),
        last_status_code: d.last_status_code,
        last_error: d.last_error.clone(),
        payload,
        attempt_log: attempts.iter().map(AttemptView::from).collect(),
    })
}
