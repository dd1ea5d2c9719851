//! HTTP handlers of the notifications service: an organisation's webhook endpoints and their
//! delivery log. Every endpoint belongs to the caller's organisation; anyone else's ids are 404.

use std::{collections::HashMap, sync::Arc};

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use diesel::prelude::*;
use hub_bus::Store;
use hub_platform::{DbConnection, Principal, Problem, Role, db::DbError, http::Json};
use serde::Serialize;
use tokio::sync::Notify;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::{
    domain::{
        self, Audience, Awarded, BedOfferedHook, BedVoidHook, BiddingClosedHook, Closed,
        CriterionResult, DeliveryStatus, Invited, IpaReviewDueHook, NewWebhook, OrderIssuedHook,
        OrderOverdueHook, PlacementEndedHook, ReferralUpdate, ServiceContractExpiringHook,
        Unsuccessful, VacancyOffered, WebhookChange,
    },
    schema::*,
    store::{self, AttemptRow, DeliveryRow, EndpointRow, now_ms},
};

pub struct NotificationsState {
    pub store: Store,
    /// Wakes the delivery worker (after an enable or a redelivery).
    pub wake: Arc<Notify>,
    /// Keeps the delivery worker running: it stops once the service is no longer mounted.
    pub worker_alive: Arc<()>,
    /// Where webhooks may go (public https; loopback http in development).
    pub destinations: domain::Destinations,
}

/// 422 naming `/url` unless webhooks may go where `url` points.
fn check_destination(state: &NotificationsState, url: &str) -> Result<(), Problem> {
    match state.destinations.error(url) {
        Some(e) => Err(Problem::validation(vec![e])),
        None => Ok(()),
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(create, list, show, change, rotate_secret, disable, enable, deliveries, redeliver),
    components(schemas(Invited, ReferralUpdate, Awarded, Unsuccessful, CriterionResult, Closed, BiddingClosedHook, VacancyOffered,
        OrderIssuedHook, OrderOverdueHook, IpaReviewDueHook, BedVoidHook, BedOfferedHook,
        ServiceContractExpiringHook, PlacementEndedHook)),
    tags((name = "notifications", description = "Webhooks to providers (`competition.invited` → Invited, \
        `referral.updated` → ReferralUpdate, `competition.awarded` → Awarded, `competition.unsuccessful` → \
        Unsuccessful, `competition.closed` → Closed, `competition.bidding_closed` → BiddingClosedHook, `order.issued` → OrderIssuedHook, `placement.ended` → \
        PlacementEndedHook), to councils (`vacancy.offered` → VacancyOffered, `bed.void` → BedVoidHook, \
        `bed.offered` → BedOfferedHook, `service_contract.expiring` → ServiceContractExpiringHook) and to both \
        (`order.overdue` → OrderOverdueHook, `ipa.review_due` → IpaReviewDueHook). \
        Every delivery is POSTed as JSON `{\"type\", \"timestamp\", \"data\"}` with the Standard Webhooks \
        headers `webhook-id` (the delivery id, the same on every retry), `webhook-timestamp` (unix seconds) and \
        `webhook-signature` (`v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`, keyed with the base64-decoded \
        secret after `whsec_`; space-separated, two of them for 24 hours after a rotation). Answer 2xx within the \
        timeout; anything else is retried with exponential backoff."))
)]
pub struct NotificationsApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/webhooks", web::post().to(create))
        .route("/v1/webhooks", web::get().to(list))
        .route("/v1/webhooks/{id}", web::get().to(show))
        .route("/v1/webhooks/{id}", web::patch().to(change))
        .route(
            "/v1/webhooks/{id}/rotate-secret",
            web::post().to(rotate_secret),
        )
        .route("/v1/webhooks/{id}/disable", web::post().to(disable))
        .route("/v1/webhooks/{id}/enable", web::post().to(enable))
        .route("/v1/webhooks/{id}/deliveries", web::get().to(deliveries))
        .route(
            "/v1/webhooks/deliveries/{delivery_id}/redeliver",
            web::post().to(redeliver),
        );
}

/// Who may manage webhooks: providers (who receive them), commissioners and admins.
fn require_role(who: &Principal) -> Result<(), Problem> {
    who.require_any(&[Role::Provider, Role::Commissioner, Role::Admin])
}

/// Providers' endpoints take provider events; a council's (commissioners, admins) take the
/// council events ([`domain::COUNCIL_EVENT_TYPES`]).
fn audience(who: &Principal) -> Audience {
    if who.is_provider() {
        Audience::Provider
    } else {
        Audience::Council
    }
}

/// 422 if the caller's organisation is not sent some of `types`.
fn check_audience(who: &Principal, types: &[String]) -> Result<(), Problem> {
    let errors = domain::audience_errors(types, audience(who));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::validation(errors))
    }
}

fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

fn utc_ms(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}

/// A webhook endpoint as its owner sees it (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: String,
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

impl From<&EndpointRow> for WebhookView {
    fn from(e: &EndpointRow) -> Self {
        Self {
            id: e.id.clone(),
            url: e.url.clone(),
            event_types: e.event_types(),
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
    pub id: String,
    pub secret: String,
    pub previous_secret_valid_until: DateTime<Utc>,
}

/// One attempt at a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status, if it answered.
    pub status_code: Option<i32>,
    /// What went wrong without an answer (timeout, connection refused, …).
    pub error: Option<String>,
    pub latency_ms: i64,
}

impl From<&AttemptRow> for AttemptView {
    fn from(a: &AttemptRow) -> Self {
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
pub struct DeliveryView {
    /// The `webhook-id` the receiver sees.
    pub id: String,
    pub event_type: String,
    /// The integration event that caused it.
    pub event_id: String,
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

fn delivery_view(d: &DeliveryRow, attempts: &[AttemptRow]) -> DeliveryView {
    let status = match d.status.as_str() {
        "delivered" => DeliveryStatus::Delivered,
        "failed" => DeliveryStatus::Failed,
        _ => DeliveryStatus::Pending,
    };
    DeliveryView {
        id: d.id.clone(),
        event_type: d.event_type.clone(),
        event_id: d.event_id.clone(),
        status,
        attempts: d.attempts,
        created_at: utc(d.created_at),
        next_attempt_at: (status == DeliveryStatus::Pending)
            .then(|| utc_ms(d.next_attempt_ms))
            .flatten(),
        delivered_at: d.delivered_ms.and_then(utc_ms),
        last_status_code: d.last_status_code,
        last_error: d.last_error.clone(),
        payload: serde_json::from_str(&d.body).unwrap_or(serde_json::Value::Null),
        attempt_log: attempts
            .iter()
            .filter(|a| a.delivery_id == d.id)
            .map(AttemptView::from)
            .collect(),
    }
}

/// The caller's endpoint `id`, or 404.
fn owned(conn: &mut DbConnection, id: &str, who: &Principal) -> Result<EndpointRow, DbError> {
    Ok(store::find_endpoint(conn, id)?
        .filter(|e| e.owner_org == who.org)
        .ok_or_else(|| Problem::not_found("webhook"))?)
}

/// Runs `change` on the caller's endpoint `id` (404 if it is not theirs) in one transaction
/// and returns the endpoint as it is afterwards.
async fn change_owned<F>(
    state: &NotificationsState,
    who: Principal,
    id: String,
    change: F,
) -> Result<EndpointRow, Problem>
where
    F: FnOnce(&mut DbConnection, &EndpointRow) -> Result<(), DbError> + Send + 'static,
{
    Ok(state
        .store
        .write(move |conn, _| {
            let e = owned(conn, &id, &who)?;
            change(conn, &e)?;
            owned(conn, &e.id, &who)
        })
        .await?)
}

/// Register a webhook endpoint for the caller's organisation.
#[utoipa::path(post, path = "/v1/webhooks", tag = "notifications", request_body = NewWebhook,
    responses((status = 201, body = CreatedWebhook), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn create(
    state: web::Data<NotificationsState>,
    who: Principal,
    body: Json<NewWebhook>,
) -> Result<HttpResponse, Problem> {
    require_role(&who)?;
    let input = body.0;
    check_audience(&who, &input.event_types)?;
    check_destination(&state, &input.url)?;
    let now = Utc::now().naive_utc();
    let row = EndpointRow {
        id: Uuid::now_v7().to_string(),
        owner_org: who.org.clone(),
        url: input.url,
        event_types: serde_json::to_string(&input.event_types).map_err(anyhow::Error::from)?,
        description: input.description.and_then(domain::kept_description),
        secret: domain::new_secret(),
        previous_secret: None,
        previous_secret_until_ms: None,
        enabled: true,
        disabled_reason: None,
        disabled_at: None,
        created_by: who.sub.clone(),
        created_at: now,
        updated_at: now,
    };
    let r = row.clone();
    state
        .store
        .write(move |conn, _| {
            diesel::insert_into(webhook_endpoints::table)
                .values(&r)
                .execute(conn)?;
            Ok(())
        })
        .await?;
    tracing::info!(webhook_id = %row.id, owner = %row.owner_org, "webhook endpoint registered");
    Ok(HttpResponse::Created().json(CreatedWebhook {
        webhook: WebhookView::from(&row),
        secret: row.secret.clone(),
    }))
}

/// The caller's organisation's webhook endpoints (without secrets).
#[utoipa::path(get, path = "/v1/webhooks", tag = "notifications",
    responses((status = 200, body = [WebhookView]), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    state: web::Data<NotificationsState>,
    who: Principal,
) -> Result<HttpResponse, Problem> {
    require_role(&who)?;
    let rows = state
        .store
        .db
        .run(move |conn| store::endpoints_of(conn, &who.org))
        .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(WebhookView::from).collect::<Vec<_>>()))
}

/// One of the caller's organisation's webhook endpoints (without its secret): whether it is
/// enabled and, if it was disabled automatically, why and what to do.
#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "notifications",
    responses((status = 200, body = WebhookView), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn show(
    state: web::Data<NotificationsState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    require_role(&who)?;
    let id = id.into_inner();
    let row = state
        .store
        .db
        .run(move |conn| owned(conn, &id, &who))
        .await?;
    Ok(HttpResponse::Ok().json(WebhookView::from(&row)))
}

/// Change an endpoint's URL, event types or description (only the fields given). Deliveries
/// already queued keep their event type and go to the new URL.
#[utoipa::path(patch, path = "/v1/webhooks/{id}", tag = "notifications", request_body = WebhookChange,
    responses((status = 200, body = WebhookView), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn change(
    state: web::Data<NotificationsState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<WebhookChange>,
) -> Result<HttpResponse, Problem> {
    require_role(&who)?;
    let input = body.0;
    if let Some(types) = &input.event_types {
        check_audience(&who, types)?;
    }
    if let Some(url) = &input.url {
        check_destination(&state, url)?;
    }
    let row = change_owned(&state, who, id.into_inner(), move |conn, e| {
        let url = input.url.unwrap_or_else(|| e.url.clone());
        let types = match input.event_types {
            Some(t) => serde_json::to_string(&t).map_err(anyhow::Error::from)?,
            None => e.event_types.clone(),
        };
        let description = match input.description {
            Some(d) => domain::kept_description(d),
            None => e.description.clone(),
        };
        diesel::update(webhook_endpoints::table.find(&e.id))
            .set((
                webhook_endpoints::url.eq(url),
                webhook_endpoints::event_types.eq(types),
                webhook_endpoints::description.eq(description),
                webhook_endpoints::updated_at.eq(Utc::now().naive_utc()),
            ))
            .execute(conn)?;
        Ok(())
    })
    .await?;
    tracing::info!(webhook_id = %row.id, "webhook endpoint changed");
    Ok(HttpResponse::Ok().json(WebhookView::from(&row)))
}

/// Replace an endpoint's signing secret. The old one still signs (as a second signature) for
/// 24 hours, so the receiver can switch without losing a webhook.
#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate-secret", tag = "notifications",
    responses((status = 200, body = RotatedSecret), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn rotate_secret(
    state: web::Data<NotificationsState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    require_role(&who)?;
    let id = id.into_inner();
    let rotated = state
        .store
        .write(move |conn, _| {
            let e = owned(conn, &id, &who)?;
            let secret = domain::new_secret();
            let until = now_ms() + domain::ROTATION_OVERLAP_MS;
            diesel::update(webhook_endpoints::table.find(&e.id))
                .set((
                    webhook_endpoints::secret.eq(&secret),
                    webhook_endpoints::previous_secret.eq(Some(&e.secret)),
                    webhook_endpoints::previous_secret_until_ms.eq(Some(until)),
                    webhook_endpoints::updated_at.eq(Utc::now().naive_utc()),
                ))
                .execute(conn)?;
            Ok(RotatedSecret {
                id: e.id,
                secret,
                previous_secret_valid_until: utc_ms(until).unwrap_or_else(Utc::now),
            })
        })
        .await?;
    tracing::info!(webhook_id = %rotated.id, "webhook secret rotated");
    Ok(HttpResponse::Ok().json(rotated))
}

/// Stop deliveries to an endpoint. Deliveries queued meanwhile wait until it is enabled.
#[utoipa::path(post, path = "/v1/webhooks/{id}/disable", tag = "notifications",
    responses((status = 200, body = WebhookView), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn disable(
    state: web::Data<NotificationsState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    require_role(&who)?;
    let reason = format!("disabled by its owner ({})", who.sub);
    let row = change_owned(&state, who, id.into_inner(), move |conn, e| {
        store::disable(conn, &e.id, &reason, Utc::now().naive_utc()).map(drop)
    })
    .await?;
    Ok(HttpResponse::Ok().json(WebhookView::from(&row)))
}

/// Resume deliveries to an endpoint (also one disabled automatically). Deliveries that
/// waited are sent at once, with a fresh retry window.
#[utoipa::path(post, path = "/v1/webhooks/{id}/enable", tag = "notifications",
    responses((status = 200, body = WebhookView), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn enable(
    state: web::Data<NotificationsState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    require_role(&who)?;
    let row = change_owned(&state, who, id.into_inner(), |conn, e| {
        store::enable(conn, &e.id, Utc::now().naive_utc())
    })
    .await?;
    state.wake.notify_one();
    Ok(HttpResponse::Ok().json(WebhookView::from(&row)))
}

/// The delivery log of an endpoint, newest first: every attempt, its status code or error,
/// and its latency.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "notifications",
    params(
        ("id" = String, Path, description = "The webhook endpoint"),
        ("limit" = Option<i64>, Query, description = "At most this many deliveries (1 to 200, default 50)"),
        ("status" = Option<String>, Query, description = "Only deliveries in this status: pending, delivered or failed"),
    ),
    responses((status = 200, body = [DeliveryView]), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn deliveries(
    state: web::Data<NotificationsState>,
    who: Principal,
    id: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, Problem> {
    require_role(&who)?;
    let limit = match query.get("limit") {
        None => 50,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=200).contains(n))
            .ok_or_else(|| Problem::invalid("limit", "range", "a whole number from 1 to 200"))?,
    };
    let status = match query.get("status").map(String::as_str) {
        None => None,
        Some(s @ ("pending" | "delivered" | "failed")) => Some(s.to_owned()),
        Some(_) => {
            return Err(Problem::invalid(
                "status",
                "one_of",
                "pending, delivered or failed",
            ));
        }
    };
    let id = id.into_inner();
    let views = state
        .store
        .db
        .run(move |conn| {
            let e = owned(conn, &id, &who)?;
            let rows = store::deliveries_of(conn, &e.id, status.as_deref(), limit)?;
            let ids: Vec<String> = rows.iter().map(|d| d.id.clone()).collect();
            let attempts = store::attempts_of(conn, &ids)?;
            Ok(rows
                .iter()
                .map(|d| delivery_view(d, &attempts))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(views))
}

/// Send a delivery again now (a failed one, or a delivered one the receiver lost), with the
/// same `webhook-id` and body and a fresh retry window. Its endpoint must be enabled.
#[utoipa::path(post, path = "/v1/webhooks/deliveries/{delivery_id}/redeliver", tag = "notifications",
    responses((status = 202, body = DeliveryView), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn redeliver(
    state: web::Data<NotificationsState>,
    who: Principal,
    delivery_id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    require_role(&who)?;
    let delivery_id = delivery_id.into_inner();
    let view = state
        .store
        .write(move |conn, _| {
            let d = store::find_delivery(conn, &delivery_id)?
                .ok_or_else(|| Problem::not_found("delivery"))?;
            let e = store::find_endpoint(conn, &d.endpoint_id)?
                .filter(|e| e.owner_org == who.org)
                .ok_or_else(|| Problem::not_found("delivery"))?;
            if !e.enabled {
                return Err(Problem::conflict(
                    "webhook-disabled",
                    format!(
                        "the webhook {} is disabled; enable it first ({})",
                        e.id,
                        e.disabled_reason.unwrap_or_default()
                    ),
                )
                .into());
            }
            store::redeliver(conn, &d.id)?;
            let d =
                store::find_delivery(conn, &d.id)?.ok_or_else(|| Problem::not_found("delivery"))?;
            let attempts = store::attempts_of(conn, std::slice::from_ref(&d.id))?;
            Ok(delivery_view(&d, &attempts))
        })
        .await?;
    state.wake.notify_one();
    Ok(HttpResponse::Accepted().json(view))
}

#[cfg(test)]
mod tests {
    use std::{
        sync::atomic::{AtomicBool, Ordering},
        time::Duration,
    };

    use actix_web::test::TestRequest;
    use hub_platform::Settings;
    use hub_testkit::{ServiceCtx, call_request};
    use serde_json::{Value, json};

    use super::*;
    use crate::test_support::*;

    fn post(path: &str, body: Option<Value>) -> TestRequest {
        let req = TestRequest::post().uri(path);
        match body {
            Some(b) => req.set_json(b),
            None => req,
        }
    }

    fn get(path: &str) -> TestRequest {
        TestRequest::get().uri(path)
    }

    /// The service on `store`, the bus retrying as configured.
    async fn mount(store: Store, settings: Settings) -> ServiceCtx {
        ServiceCtx::builder(crate::NAME)
            .settings(settings)
            .bus_retries(true)
            .start_on(store, crate::start)
            .await
    }

    async fn endpoints_are_the_owners_alone(store: Store) {
        let ctx = mount(store, settings(&[])).await;
        let app = ctx.app().await;
        let (a, b) = (
            ctx.token("prov-a", Role::Provider),
            ctx.token("prov-b", Role::Provider),
        );
        let body = json!({"url": "https://a.example/hooks", "event_types": ["competition.invited", "competition.awarded"],
            "description": "bids team"});

        let (status, created) =
            call_request(&app, post("/v1/webhooks", Some(body.clone())), &a).await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        let secret = created["secret"].as_str().unwrap().to_owned();
        assert!(
            secret.starts_with("whsec_") && domain::secret_key(&secret).len() == 24,
            "{secret}"
        );
        assert_eq!(
            (
                created["enabled"].as_bool(),
                created["event_types"].as_array().map(Vec::len)
            ),
            (Some(true), Some(2))
        );

        // Bad input names the field and the rule.
        let bad = json!({"url": "ftp://a.example", "event_types": ["competition.invited", "referral.submitted"]});
        let (status, p) = call_request(&app, post("/v1/webhooks", Some(bad)), &a).await;
        assert_eq!(status, 422);
        let rules: Vec<(String, String)> = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["field"].as_str().unwrap().to_owned(),
                    e["rule"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            rules,
            [
                ("/url".into(), "scheme".into()),
                ("/event_types/1".into(), "one_of".into())
            ]
        );
        let (status, p) = call_request(&app, post("/v1/webhooks", Some(json!({"url": "https://x.example", "event_types": ["competition.invited"], "secret": "mine"}))), &a).await;
        assert_eq!(
            (status, p["errors"][0]["rule"].as_str()),
            (422, Some("unknown_field"))
        );
        let (status, _) = call_request(
            &app,
            post("/v1/webhooks", Some(body.clone())),
            &ctx.token("E08000014", Role::SocialWorker),
        )
        .await;
        assert_eq!(status, 403);

        // The list is the caller's own, without secrets.
        let (status, list) = call_request(&app, get("/v1/webhooks"), &a).await;
        assert_eq!(status, 200);
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["id"], id.as_str());
        assert!(list[0].get("secret").is_none());
        assert_eq!(
            call_request(&app, get("/v1/webhooks"), &b).await.1,
            json!([])
        );

        // Another organisation's ids are 404 everywhere.
        for req in [
            post(&format!("/v1/webhooks/{id}/rotate-secret"), None),
            post(&format!("/v1/webhooks/{id}/disable"), None),
            post(&format!("/v1/webhooks/{id}/enable"), None),
            get(&format!("/v1/webhooks/{id}/deliveries")),
        ] {
            assert_eq!(call_request(&app, req, &b).await.0, 404);
        }

        let (status, rotated) = call_request(
            &app,
            post(&format!("/v1/webhooks/{id}/rotate-secret"), None),
            &a,
        )
        .await;
        assert_eq!(status, 200);
        assert_ne!(rotated["secret"].as_str().unwrap(), secret);
        assert!(rotated["previous_secret_valid_until"].is_string());

        let (status, off) =
            call_request(&app, post(&format!("/v1/webhooks/{id}/disable"), None), &a).await;
        assert_eq!((status, off["enabled"].as_bool()), (200, Some(false)));
        assert_eq!(
            off["disabled_reason"],
            "disabled by its owner (user-of-prov-a)"
        );
        let (status, on) =
            call_request(&app, post(&format!("/v1/webhooks/{id}/enable"), None), &a).await;
        assert_eq!(
            (status, on["enabled"].as_bool(), &on["disabled_reason"]),
            (200, Some(true), &Value::Null)
        );

        assert_eq!(
            call_request(&app, get(&format!("/v1/webhooks/{id}/deliveries")), &a).await,
            (200, json!([]))
        );
        assert_eq!(
            call_request(
                &app,
                get(&format!("/v1/webhooks/{id}/deliveries?limit=0")),
                &a
            )
            .await
            .0,
            422
        );
        assert_eq!(
            call_request(
                &app,
                get(&format!("/v1/webhooks/{id}/deliveries?status=lost")),
                &a
            )
            .await
            .0,
            422
        );
        assert_eq!(
            call_request(
                &app,
                post(
                    &format!("/v1/webhooks/deliveries/{}/redeliver", Uuid::now_v7()),
                    None
                ),
                &a
            )
            .await
            .0,
            404
        );
    }

    #[test]
    fn sqlite_endpoints_are_the_owners_alone() {
        run(Backend::Sqlite, endpoints_are_the_owners_alone);
    }

    /// An endpoint that keeps failing past `give_up_after_hours` (0 here) is disabled with a
    /// reason its owner sees; once fixed and enabled, the failed delivery is redelivered with
    /// the same webhook-id.
    async fn failing_endpoints_are_disabled_and_can_be_redelivered(store: Store) {
        let up = Arc::new(AtomicBool::new(false));
        let u = up.clone();
        let rx = Receiver::start(move |_, _| {
            (
                if u.load(Ordering::SeqCst) { 200 } else { 503 },
                Duration::ZERO,
            )
        })
        .await;
        let ctx = mount(store, settings(&[("webhooks.give_up_after_hours", "0")])).await;
        let app = ctx.app().await;
        let a = ctx.token("prov-a", Role::Provider);
        let body =
            json!({"url": format!("{}/hook", rx.base), "event_types": ["competition.invited"]});
        let (_, created) = call_request(&app, post("/v1/webhooks", Some(body)), &a).await;
        let id = created["id"].as_str().unwrap().to_owned();

        ctx.publish("competition", &opened(&["prov-a"])).await;
        let list = eventually("the endpoint disabled", Duration::from_secs(5), || async {
            let (_, list) = call_request(&app, get("/v1/webhooks"), &a).await;
            (list[0]["enabled"] == false).then_some(list)
        })
        .await;
        let reason = list[0]["disabled_reason"].as_str().unwrap();
        assert!(
            reason.starts_with("disabled automatically") && reason.contains("HTTP 503"),
            "{reason}"
        );
        let (_, log) = call_request(&app, get(&format!("/v1/webhooks/{id}/deliveries")), &a).await;
        assert_eq!(log[0]["status"], "failed");
        assert_eq!(log[0]["attempt_log"][0]["status_code"], 503);
        assert!(log[0]["attempt_log"][0]["latency_ms"].is_i64());
        assert_eq!(log[0]["payload"]["type"], "competition.invited");
        let delivery = log[0]["id"].as_str().unwrap().to_owned();

        // While disabled: no new deliveries, and no redelivery.
        ctx.publish("competition", &opened(&["prov-a"])).await;
        assert_eq!(
            call_request(&app, get(&format!("/v1/webhooks/{id}/deliveries")), &a)
                .await
                .1
                .as_array()
                .unwrap()
                .len(),
            1
        );
        let redeliver = format!("/v1/webhooks/deliveries/{delivery}/redeliver");
        assert_eq!(call_request(&app, post(&redeliver, None), &a).await.0, 409);
        assert_eq!(
            call_request(
                &app,
                post(&redeliver, None),
                &ctx.token("prov-b", Role::Provider)
            )
            .await
            .0,
            404
        );

        up.store(true, Ordering::SeqCst);
        assert_eq!(
            call_request(&app, post(&format!("/v1/webhooks/{id}/enable"), None), &a)
                .await
                .0,
            200
        );
        let (status, d) = call_request(&app, post(&redeliver, None), &a).await;
        assert_eq!((status, d["status"].as_str()), (202, Some("pending")));
        let log = eventually("the redelivery", Duration::from_secs(5), || async {
            let (_, log) = call_request(
                &app,
                get(&format!("/v1/webhooks/{id}/deliveries?status=delivered")),
                &a,
            )
            .await;
            (log.as_array().is_some_and(|l| l.len() == 1)).then_some(log)
        })
        .await;
        let codes: Vec<&Value> = log[0]["attempt_log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| &a["status_code"])
            .collect();
        assert_eq!(codes, [&json!(503), &json!(200)]);
        let got = rx.requests("/hook");
        assert_eq!(got.len(), 2);
        assert!(
            got.iter().all(|r| r.headers["webhook-id"] == delivery),
            "the same webhook-id on redelivery"
        );
    }

    #[test]
    fn sqlite_failing_endpoints_are_disabled_and_can_be_redelivered() {
        run(
            Backend::Sqlite,
            failing_endpoints_are_disabled_and_can_be_redelivered,
        );
    }

    #[test]
    fn postgres_failing_endpoints_are_disabled_and_can_be_redelivered() {
        run(
            Backend::Postgres,
            failing_endpoints_are_disabled_and_can_be_redelivered,
        );
    }

    #[test]
    fn the_openapi_document_lists_every_route() {
        let doc = NotificationsApi::openapi();
        let paths: Vec<&String> = doc.paths.paths.keys().collect();
        assert_eq!(paths.len(), 7, "{paths:?}");
    }
}
