//! The webhook endpoints' routes: `POST|GET /v1/webhooks`, `GET|PATCH /v1/webhooks/{id}`,
//! `POST /v1/webhooks/{id}/{rotate-secret,disable,enable}`, `GET /v1/webhooks/{id}/deliveries`,
//! `POST /v1/webhooks/deliveries/{id}/redeliver`.
//!
//! An endpoint is edited in place (ADR 0004): its reads and edits answer its revision as the
//! `ETag`, and every edit (change, secret rotation, disable, enable) must send it back in
//! `If-Match` (428 without, 412 when the endpoint changed since). Registering takes an
//! `Idempotency-Key`, so a retried registration makes one endpoint and answers the same secret.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::Utc;
use hub_platform::{
    Principal, Problem,
    etag::{ETag, IfMatch},
    http::Json,
    idempotency::{Answer, IdempotencyKey},
    page::{Page, PageParams, PageRequest},
};

use super::{
    CreatedWebhook, DeliveryView, NotificationsState, RotatedSecret, WebhookView, check_audience,
    check_destination, delivery_view, require_role, utc_ms,
};
use crate::{
    app::endpoints,
    domain::{DeliveryStatus, NewWebhook, WebhookChange},
    store::Endpoint,
};

/// 200 with the endpoint as its owner sees it, its revision as the `ETag`.
fn endpoint_response(endpoint: &Endpoint) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ETag(endpoint.revision).header())
        .json(WebhookView::from(endpoint))
}

/// Register a webhook endpoint for the caller's organisation. The answer holds its signing
/// secret, this once; a retry with the same `Idempotency-Key` and body gets the same answer
/// (the same endpoint and secret) and registers nothing more.
#[utoipa::path(post, path = "/v1/webhooks", tag = "notifications", operation_id = "createWebhook",
    request_body = NewWebhook,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Any 1 to 255 printable characters (a UUID will do): a repeat within 24 hours gets the first answer, with `Idempotent-Replayed: true`; the same key with another body is a 422 (rule `reused`)")),
    responses((status = 201, body = CreatedWebhook, headers(("Location" = String, description = "The new endpoint"))),
        (status = 422, body = Problem, description = "The body breaks a rule, or the Idempotency-Key was sent with another request (rule `reused`)"),
        (status = 401, body = Problem), (status = 403, body = Problem, description = "Not a provider, commissioner or admin")),
    security(("bearer" = [])))]
pub async fn create(
    state: web::Data<NotificationsState>,
    who: Principal,
    key: IdempotencyKey,
    body: Json<NewWebhook>,
) -> Result<Answer, Problem> {
    require_role(&who)?;
    let input = body.0;
    check_audience(&who, &input.event_types)?;
    check_destination(&state, &input.url)?;
    let org = who.org.clone();
    let answer = state
        .store
        .write_once(&org, &key, move |conn, _| {
            let endpoint = endpoints::register(conn, &who.org, &who.sub, input)?;
            tracing::info!(webhook_id = %endpoint.id, owner = %endpoint.owner_org, "webhook endpoint registered");
            let created = CreatedWebhook {
                webhook: WebhookView::from(&endpoint),
                secret: endpoint.secret.clone(),
            };
            Ok(Answer::created(&created).at(format!("/v1/webhooks/{}", endpoint.id)))
        })
        .await?;
    Ok(answer)
}

/// The caller's organisation's webhook endpoints (without secrets), oldest first.
#[utoipa::path(get, path = "/v1/webhooks", tag = "notifications", operation_id = "listWebhooks",
    params(PageParams),
    responses((status = 200, body = Page<WebhookView>), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    state: web::Data<NotificationsState>,
    who: Principal,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, Problem> {
    require_role(&who)?;
    let page = PageRequest::from_query(&query)?;
    let rows = state
        .store
        .db
        .run(move |conn| endpoints::list(conn, &who.org, &page))
        .await?;
    Ok(HttpResponse::Ok().json(rows.map(|e| WebhookView::from(&e))))
}

/// One of the caller's organisation's webhook endpoints (without its secret): whether it is
/// enabled and, if it was disabled automatically, why and what to do. Its `ETag` is what an
/// edit sends in `If-Match`.
#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "notifications", operation_id = "getWebhook",
    params(("id" = String, Path, description = "The webhook endpoint")),
    responses((status = 200, body = WebhookView, headers(("ETag" = String, description = "The endpoint's revision, for If-Match"))),
        (status = 403, body = Problem, description = "Not a provider, commissioner or admin"),
        (status = 404, body = Problem, description = "Not one of the caller's organisation's")),
    security(("bearer" = [])))]
pub async fn show(
    state: web::Data<NotificationsState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    require_role(&who)?;
    let endpoint = state
        .store
        .db
        .run(move |conn| endpoints::owned(conn, &who.org, &id))
        .await?;
    Ok(endpoint_response(&endpoint))
}

/// Change an endpoint's URL, event types or description (only the fields given). Deliveries
/// already queued keep their event type and go to the new URL.
#[utoipa::path(patch, path = "/v1/webhooks/{id}", tag = "notifications", operation_id = "updateWebhook",
    request_body = WebhookChange,
    params(("id" = String, Path, description = "The webhook endpoint"),
        ("If-Match" = String, Header, description = "The endpoint's ETag as read (`*`: whatever it is now)")),
    responses((status = 200, body = WebhookView, headers(("ETag" = String, description = "The endpoint's new revision"))),
        (status = 403, body = Problem, description = "Not a provider, commissioner or admin"),
        (status = 404, body = Problem, description = "Not one of the caller's organisation's"), (status = 412, body = Problem, description = "The endpoint changed since it was read"),
        (status = 422, body = Problem), (status = 428, body = Problem, description = "No If-Match")),
    security(("bearer" = [])))]
pub async fn change(
    state: web::Data<NotificationsState>,
    who: Principal,
    id: web::Path<String>,
    if_match: IfMatch,
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
    let endpoint = state
        .store
        .write(move |conn, _| endpoints::change(conn, &who.org, &id, &if_match, input))
        .await?;
    tracing::info!(webhook_id = %endpoint.id, "webhook endpoint changed");
    Ok(endpoint_response(&endpoint))
}

/// Replace an endpoint's signing secret. The old one still signs (as a second signature) for
/// 24 hours, so the receiver can switch without losing a webhook.
#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate-secret", tag = "notifications", operation_id = "rotateWebhookSecret",
    params(("id" = String, Path, description = "The webhook endpoint"),
        ("If-Match" = String, Header, description = "The endpoint's ETag as read (`*`: whatever it is now)")),
    responses((status = 200, body = RotatedSecret, headers(("ETag" = String, description = "The endpoint's new revision"))),
        (status = 403, body = Problem, description = "Not a provider, commissioner or admin"),
        (status = 404, body = Problem, description = "Not one of the caller's organisation's"), (status = 412, body = Problem, description = "The endpoint changed since it was read"),
        (status = 428, body = Problem, description = "No If-Match")),
    security(("bearer" = [])))]
pub async fn rotate_secret(
    state: web::Data<NotificationsState>,
    who: Principal,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, Problem> {
    require_role(&who)?;
    let endpoint = state
        .store
        .write(move |conn, _| endpoints::rotate_secret(conn, &who.org, &id, &if_match))
        .await?;
    tracing::info!(webhook_id = %endpoint.id, "webhook secret rotated");
    let until = endpoint.previous_secret_until_ms.and_then(utc_ms);
    Ok(HttpResponse::Ok()
        .insert_header(ETag(endpoint.revision).header())
        .json(RotatedSecret {
            id: endpoint.id,
            secret: endpoint.secret,
            previous_secret_valid_until: until.unwrap_or_else(Utc::now),
        }))
}

/// Stop deliveries to an endpoint. Deliveries queued meanwhile wait until it is enabled.
#[utoipa::path(post, path = "/v1/webhooks/{id}/disable", tag = "notifications", operation_id = "disableWebhook",
    params(("id" = String, Path, description = "The webhook endpoint"),
        ("If-Match" = String, Header, description = "The endpoint's ETag as read (`*`: whatever it is now)")),
    responses((status = 200, body = WebhookView, headers(("ETag" = String, description = "The endpoint's new revision"))),
        (status = 403, body = Problem, description = "Not a provider, commissioner or admin"),
        (status = 404, body = Problem, description = "Not one of the caller's organisation's"), (status = 412, body = Problem, description = "The endpoint changed since it was read"),
        (status = 428, body = Problem, description = "No If-Match")),
    security(("bearer" = [])))]
pub async fn disable(
    state: web::Data<NotificationsState>,
    who: Principal,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, Problem> {
    require_role(&who)?;
    let reason = format!("disabled by its owner ({})", who.sub);
    let endpoint = state
        .store
        .write(move |conn, _| endpoints::disable(conn, &who.org, &id, &if_match, &reason))
        .await?;
    Ok(endpoint_response(&endpoint))
}

/// Resume deliveries to an endpoint (also one disabled automatically). Deliveries that
/// waited are sent at once, with a fresh retry window.
#[utoipa::path(post, path = "/v1/webhooks/{id}/enable", tag = "notifications", operation_id = "enableWebhook",
    params(("id" = String, Path, description = "The webhook endpoint"),
        ("If-Match" = String, Header, description = "The endpoint's ETag as read (`*`: whatever it is now)")),
    responses((status = 200, body = WebhookView, headers(("ETag" = String, description = "The endpoint's new revision"))),
        (status = 403, body = Problem, description = "Not a provider, commissioner or admin"),
        (status = 404, body = Problem, description = "Not one of the caller's organisation's"), (status = 412, body = Problem, description = "The endpoint changed since it was read"),
        (status = 428, body = Problem, description = "No If-Match")),
    security(("bearer" = [])))]
pub async fn enable(
    state: web::Data<NotificationsState>,
    who: Principal,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, Problem> {
    require_role(&who)?;
    let endpoint = state
        .store
        .write(move |conn, _| endpoints::enable(conn, &who.org, &id, &if_match))
        .await?;
    state.wake.notify_one();
    Ok(endpoint_response(&endpoint))
}

/// The delivery log of an endpoint, newest first: every attempt, its status code or error,
/// and its latency.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "notifications", operation_id = "listWebhookDeliveries",
    params(
        ("id" = String, Path, description = "The webhook endpoint"),
        PageParams,
        ("status" = Option<String>, Query, description = "Only deliveries in this status: pending, delivered or failed"),
    ),
    responses((status = 200, body = Page<DeliveryView>), (status = 403, body = Problem, description = "Not a provider, commissioner or admin"),
        (status = 404, body = Problem, description = "Not one of the caller's organisation's"), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn deliveries(
    state: web::Data<NotificationsState>,
    who: Principal,
    id: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, Problem> {
    require_role(&who)?;
    let page = PageRequest::from_query(&query)?;
    let status = query
        .get("status")
        .map(|s| {
            s.parse::<DeliveryStatus>()
                .map_err(|_| Problem::invalid("status", "one_of", "pending, delivered or failed"))
        })
        .transpose()?;
    let views = state
        .store
        .db
        .run(move |conn| {
            let logged = endpoints::deliveries(conn, &who.org, &id, status, &page)?;
            Ok(Page {
                items: logged
                    .items
                    .iter()
                    .map(delivery_view)
                    .collect::<Result<Vec<_>, _>>()?,
                next: logged.next,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(views))
}

/// Send a delivery again now (a failed one, or a delivered one the receiver lost), with the
/// same `webhook-id` and body and a fresh retry window. Its endpoint must be enabled. It
/// makes no new delivery, so a retry is harmless: it queues the same delivery again.
#[utoipa::path(post, path = "/v1/webhooks/deliveries/{delivery_id}/redeliver", tag = "notifications",
    operation_id = "redeliverWebhookDelivery",
    params(("delivery_id" = String, Path, description = "The delivery (its `webhook-id`)")),
    responses((status = 202, body = DeliveryView), (status = 403, body = Problem, description = "Not a provider, commissioner or admin"),
        (status = 404, body = Problem, description = "Not one of the caller's organisation's"), (status = 409, body = Problem, description = "Its endpoint is disabled: enable it first")),
    security(("bearer" = [])))]
pub async fn redeliver(
    state: web::Data<NotificationsState>,
    who: Principal,
    delivery_id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    require_role(&who)?;
    let view = state
        .store
        .write(move |conn, _| delivery_view(&endpoints::redeliver(conn, &who.org, &delivery_id)?))
        .await?;
    state.wake.notify_one();
    Ok(HttpResponse::Accepted().json(view))
}
