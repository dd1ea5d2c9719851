//! An organisation's webhook endpoints and their delivery log. Each function runs on one
//! connection, inside the caller's transaction where it writes.

use chrono::{NaiveDateTime, Utc};
use hub_platform::{
    Problem,
    db::{DbConnection, DbError},
    etag::{ETag, IfMatch},
    page::{Page, PageRequest},
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

/// `org`'s endpoint `id` as an edit reads it: 404 as [`owned`], then 428 without `If-Match`
/// and 412 when it names another revision than the endpoint's now.
fn editable(
    conn: &mut DbConnection,
    org: &str,
    id: &str,
    if_match: &IfMatch,
) -> Result<Endpoint, DbError> {
    let e = owned(conn, org, id)?;
    if_match.check(ETag(e.revision), "webhook")?;
    Ok(e)
}

/// A page of `org`'s endpoints, oldest first.
pub fn list(
    conn: &mut DbConnection,
    org: &str,
    page: &PageRequest,
) -> Result<Page<Endpoint>, DbError> {
    let rows = store::endpoints_of(conn, org, page.after()?, page.fetch())?;
    Ok(page.page(rows, |e| e.id))
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
        revision: 1,
    };
    store::insert_endpoint(conn, &endpoint)?;
    Ok(endpoint)
}

/// Changes the fields `change` gives (checked already) of `org`'s endpoint `id`, at the
/// revision `if_match` names.
pub fn change(
    conn: &mut DbConnection,
    org: &str,
    id: &str,
    if_match: &IfMatch,
    change: WebhookChange,
) -> Result<Endpoint, DbError> {
    let e = editable(conn, org, id, if_match)?;
    let url = change.url.unwrap_or_else(|| e.url.clone());
    let types = change
        .event_types
        .map_or_else(|| e.event_types.clone(), Json);
    let description = match change.description {
        Some(d) => domain::kept_description(d),
        None => e.description.clone(),
    };
    store::change_endpoint(conn, &e, &url, &types, description.as_deref(), now())?;
    reread(conn, &e)
}

/// The endpoint as it is now, after a change.
fn reread(conn: &mut DbConnection, e: &Endpoint) -> Result<Endpoint, DbError> {
    Ok(store::find_endpoint(conn, &e.id)?.ok_or_else(|| Problem::not_found("webhook"))?)
}

/// A new secret for `org`'s endpoint `id`, at the revision `if_match` names: returns the
/// endpoint as it is now (its new secret, and until when (unix ms) the previous one keeps
/// signing).
pub fn rotate_secret(
    conn: &mut DbConnection,
    org: &str,
    id: &str,
    if_match: &IfMatch,
) -> Result<Endpoint, DbError> {
    let e = editable(conn, org, id, if_match)?;
    let secret = domain::new_secret();
    let until = now_ms() + domain::ROTATION_OVERLAP_MS;
    store::rotate_secret(conn, &e, &secret, until, now())?;
    reread(conn, &e)
}

/// Disables `org`'s endpoint `id` with `reason`, at the revision `if_match` names (unless it
/// is disabled already: then it stays as it is).
pub fn disable(
    conn: &mut DbConnection,
    org: &str,
    id: &str,
    if_match: &IfMatch,
    reason: &str,
) -> Result<Endpoint, DbError> {
    let e = editable(conn, org, id, if_match)?;
    if e.enabled {
        store::disable(conn, &e.id, reason, now(), Some(e.revision))?;
    }
    reread(conn, &e)
}

/// Enables `org`'s endpoint `id`, at the revision `if_match` names; the deliveries that
/// waited become due at once.
pub fn enable(
    conn: &mut DbConnection,
    org: &str,
    id: &str,
    if_match: &IfMatch,
) -> Result<Endpoint, DbError> {
    let e = editable(conn, org, id, if_match)?;
    store::enable(conn, &e, now())?;
    reread(conn, &e)
}

/// A page of the delivery log of `org`'s endpoint `id`, newest first, optionally of one
/// status.
pub fn deliveries(
    conn: &mut DbConnection,
    org: &str,
    id: &str,
    status: Option<DeliveryStatus>,
    page: &PageRequest,
) -> Result<Page<Logged>, DbError> {
    let e = owned(conn, org, id)?;
    let rows = store::deliveries_of(conn, &e.id, status, page.after()?, page.fetch())?;
    let rows = page.page(rows, |d| d.id);
    let ids: Vec<DeliveryId> = rows.items.iter().map(|d| d.id).collect();
    let mut attempts = store::attempts_of(conn, &ids)?;
    Ok(rows.map(|d| {
        let (mine, rest) = attempts.drain(..).partition(|a| a.delivery_id == d.id);
        attempts = rest;
        (d, mine)
    }))
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
