//! The webhook endpoints' routes: `POST|GET /v1/webhooks`, `GET|PATCH /v1/webhooks/{id}`,
//! `POST /v1/webhooks/{id}/{rotate-secret,disable,enable}`, `GET /v1/webhooks/{id}/deliveries`,
//! `POST /v1/webhooks/deliveries/{id}/redeliver`.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::Utc;
use hub_platform::{Principal, Problem, http::Json};

use super::{
    CreatedWebhook, DeliveryView, NotificationsState, RotatedSecret, WebhookView, check_audience,
    check_destination, delivery_view, require_role, utc_ms,
};
use crate::{
    app::endpoints,
    domain::{DeliveryStatus, NewWebhook, WebhookChange},
    store,
};

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
    let endpoint = state
        .store
        .write(move |conn, _| endpoints::register(conn, &who.org, &who.sub, input))
        .await?;
    tracing::info!(webhook_id = %endpoint.id, owner = %endpoint.owner_org, "webhook endpoint registered");
    Ok(HttpResponse::Created().json(CreatedWebhook {
        webhook: WebhookView::from(&endpoint),
        secret: endpoint.secret,
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
    let endpoint = state
        .store
        .db
        .run(move |conn| endpoints::owned(conn, &who.org, &id))
        .await?;
    Ok(HttpResponse::Ok().json(WebhookView::from(&endpoint)))
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
    let endpoint = state
        .store
        .write(move |conn, _| endpoints::change(conn, &who.org, &id, input))
        .await?;
    tracing::info!(webhook_id = %endpoint.id, "webhook endpoint changed");
    Ok(HttpResponse::Ok().json(WebhookView::from(&endpoint)))
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
    let (id, secret, until) = state
        .store
        .write(move |conn, _| endpoints::rotate_secret(conn, &who.org, &id))
        .await?;
    tracing::info!(webhook_id = %id, "webhook secret rotated");
    Ok(HttpResponse::Ok().json(RotatedSecret {
        id,
        secret,
        previous_secret_valid_until: utc_ms(until).unwrap_or_else(Utc::now),
    }))
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
    let endpoint = state
        .store
        .write(move |conn, _| endpoints::disable(conn, &who.org, &id, &reason))
        .await?;
    Ok(HttpResponse::Ok().json(WebhookView::from(&endpoint)))
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
    let endpoint = state
        .store
        .write(move |conn, _| endpoints::enable(conn, &who.org, &id))
        .await?;
    state.wake.notify_one();
    Ok(HttpResponse::Ok().json(WebhookView::from(&endpoint)))
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
            endpoints::deliveries(conn, &who.org, &id, status, limit)?
                .iter()
                .map(delivery_view)
                .collect::<Result<Vec<_>, _>>()
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
    let view = state
        .store
        .write(move |conn, _| delivery_view(&endpoints::redeliver(conn, &who.org, &delivery_id)?))
        .await?;
    state.wake.notify_one();
    Ok(HttpResponse::Accepted().json(view))
}
