//! An organisation's webhook endpoints and their delivery log. Each function runs on one
//! connection, inside the caller's transaction where it writes.

use chrono::{NaiveDateTime, Utc};
use hub_platform::{
    Problem,
    db::{DbConnection, DbError},
    sql::Json,
};

use crate::{
    domain::{self, DeliveryStatus, NewWebhook, WebhookChange},
    ids::{DeliveryId, EndpointId},
    store::{self, AttemptLog, Delivery, Endpoint, now_ms},
};

/// A delivery with every attempt at it.
pub type Logged = (Delivery, Vec<AttemptLog>);

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// `org`'s endpoint `id`, or 404 (also for an id that is no id at all).
pub fn owned(conn: &mut DbConnection, org: &str, id: &str) -> Result<Endpoint, DbError> {
    let not_found = || Problem::not_found("webhook");
    let id: EndpointId = hub_platform::problem::path_id(id, "webhook")?;
    Ok(store::find_endpoint(conn, &id)?
        .filter(|e| e.owner_org == org)
        .ok_or_else(not_found)?)
}

/// Registers an endpoint of `org` (checked already), with a new secret.
pub fn register(
    conn: &mut DbConnection,
    org: &str,
    created_by: &str,
    input: NewWebhook,
) -> Result<Endpoint, DbError> {
    let now = now();
    let endpoint = Endpoint {
        id: EndpointId::new(),
        owner_org: org.to_owned(),
        url: input.url,
        event_types: Json(input.event_types),
        description: input.description.and_then(domain::kept_description),
        secret: domain::new_secret(),
        previous_secret: None,
        previous_secret_until_ms: None,
        enabled: true,
        disabled_reason: None,
        disabled_at: None,
        created_by: created_by.to_owned(),
        created_at: now,
        updated_at: now,
    };
    store::insert_endpoint(conn, &endpoint)?;
    Ok(endpoint)
}

/// Changes the fields `change` gives (checked already) of `org`'s endpoint `id`.
pub fn change(
    conn: &mut DbConnection,
    org: &str,
    id: &str,
    change: WebhookChange,
) -> Result<Endpoint, DbError> {
    let e = owned(conn, org, id)?;
    let url = change.url.unwrap_or_else(|| e.url.clone());
    let types = change
        .event_types
        .map_or_else(|| e.event_types.clone(), Json);
    let description = match change.description {
        Some(d) => domain::kept_description(d),
        None => e.description.clone(),
    };
    store::change_endpoint(conn, &e.id, &url, &types, description.as_deref(), now())?;
    reread(conn, &e)
}

/// The endpoint as it is now, after a change.
fn reread(conn: &mut DbConnection, e: &Endpoint) -> Result<Endpoint, DbError> {
    Ok(store::find_endpoint(conn, &e.id)?.ok_or_else(|| Problem::not_found("webhook"))?)
}

/// A new secret for `org`'s endpoint `id`: returns the endpoint's id, the secret and until
/// when (unix ms) the previous one keeps signing.
pub fn rotate_secret(
    conn: &mut DbConnection,
    org: &str,
    id: &str,
) -> Result<(EndpointId, String, i64), DbError> {
    let e = owned(conn, org, id)?;
    let secret = domain::new_secret();
    let until = now_ms() + domain::ROTATION_OVERLAP_MS;
    store::rotate_secret(conn, &e, &secret, until, now())?;
    Ok((e.id, secret, until))
}

/// Disables `org`'s endpoint `id` with `reason` (unless it is disabled already).
pub fn disable(
    conn: &mut DbConnection,
    org: &str,
    id: &str,
    reason: &str,
) -> Result<Endpoint, DbError> {
    let e = owned(conn, org, id)?;
    store::disable(conn, &e.id, reason, now())?;
    reread(conn, &e)
}

/// Enables `org`'s endpoint `id`; the deliveries that waited become due at once.
pub fn enable(conn: &mut DbConnection, org: &str, id: &str) -> Result<Endpoint, DbError> {
    let e = owned(conn, org, id)?;
    store::enable(conn, &e.id, now())?;
    reread(conn, &e)
}

/// The delivery log of `org`'s endpoint `id`, newest first.
pub fn deliveries(
    conn: &mut DbConnection,
    org: &str,
    id: &str,
    status: Option<DeliveryStatus>,
    limit: i64,
) -> Result<Vec<Logged>, DbError> {
    let e = owned(conn, org, id)?;
    let rows = store::deliveries_of(conn, &e.id, status, limit)?;
    let ids: Vec<DeliveryId> = rows.iter().map(|d| d.id).collect();
    let mut attempts = store::attempts_of(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|d| {
            let (mine, rest) = attempts.drain(..).partition(|a| a.delivery_id == d.id);
            attempts = rest;
            (d, mine)
        })
        .collect())
}

/// Makes a delivery of one of `org`'s endpoints due again (404 `delivery` if it is none of
/// theirs; 409 if its endpoint is disabled).
pub fn redeliver(conn: &mut DbConnection, org: &str, id: &str) -> Result<Logged, DbError> {
    let not_found = || Problem::not_found("delivery");
    let id: DeliveryId = hub_platform::problem::path_id(id, "delivery")?;
    let d = store::find_delivery(conn, &id)?.ok_or_else(not_found)?;
    let e = store::find_endpoint(conn, &d.endpoint_id)?
        .filter(|e| e.owner_org == org)
        .ok_or_else(not_found)?;
    domain::redeliverable(&e.id, e.enabled, e.disabled_reason.as_deref())?;
    store::redeliver(conn, &d.id)?;
    let d = store::find_delivery(conn, &d.id)?.ok_or_else(not_found)?;
    let attempts = store::attempts_of(conn, std::slice::from_ref(&d.id))?;
    Ok((d, attempts))
}
