//! Webhook endpoints: registered, changed, switched off and on, their secrets rotated.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hub_platform::{
    Problem,
    db::{DbConnection, DbError},
    sql::Json,
};

use super::{now_ms, schema::*};
use crate::{
    domain::{self, DeliveryStatus},
    ids::EndpointId,
};

/// A webhook endpoint, with its secrets (never shown but at creation and rotation).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct Endpoint {
    pub id: EndpointId,
    pub owner_org: String,
    pub url: String,
    pub event_types: Json<Vec<String>>,
    pub description: Option<String>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_until_ms: Option<i64>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<NaiveDateTime>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Raised by one at every change: the endpoint's `ETag`.
    pub revision: i64,
}

impl Endpoint {
    pub fn subscribes_to(&self, event_type: &str) -> bool {
        self.event_types.iter().any(|t| t == event_type)
    }

    /// The secrets that sign a delivery now: the current one, plus the previous one for a
    /// while after a rotation.
    pub fn signing_secrets(&self, now_ms: i64) -> Vec<String> {
        domain::signing_secrets(
            &self.secret,
            self.previous_secret.as_deref(),
            self.previous_secret_until_ms,
            now_ms,
        )
    }
}

pub fn insert_endpoint(conn: &mut DbConnection, endpoint: &Endpoint) -> Result<(), DbError> {
    diesel::insert_into(webhook_endpoints::table)
        .values(endpoint)
        .execute(conn)?;
    Ok(())
}

pub fn find_endpoint(
    conn: &mut DbConnection,
    id: &EndpointId,
) -> Result<Option<Endpoint>, DbError> {
    Ok(webhook_endpoints::table
        .find(id)
        .select(Endpoint::as_select())
        .first(conn)
        .optional()?)
}

/// An organisation's endpoints, oldest first (by id: UUIDv7s sort by creation): at most
/// `limit` of them, after the endpoint `after` (a keyset page).
pub fn endpoints_of(
    conn: &mut DbConnection,
    org: &str,
    after: Option<EndpointId>,
    limit: i64,
) -> Result<Vec<Endpoint>, DbError> {
    let mut q = webhook_endpoints::table
        .filter(webhook_endpoints::owner_org.eq(org))
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(webhook_endpoints::id.gt(after));
    }
    Ok(q.order(webhook_endpoints::id.asc())
        .limit(limit)
        .select(Endpoint::as_select())
        .load(conn)?)
}

/// A compare-and-set's outcome: no row changed means the endpoint is no longer at the
/// revision its writer read (412: someone changed it meanwhile).
fn at_revision(changed: usize) -> Result<(), DbError> {
    if changed == 0 {
        return Err(Problem::precondition_failed("webhook").into());
    }
    Ok(())
}

/// The enabled endpoints of any of `orgs`, by id.
pub fn enabled_endpoints_of(
    conn: &mut DbConnection,
    orgs: &[&str],
) -> Result<Vec<Endpoint>, DbError> {
    if orgs.is_empty() {
        return Ok(Vec::new());
    }
    Ok(webhook_endpoints::table
        .filter(
            webhook_endpoints::owner_org
                .eq_any(orgs)
                .and(webhook_endpoints::enabled.eq(true)),
        )
        .order(webhook_endpoints::id.asc())
        .select(Endpoint::as_select())
        .load(conn)?)
}

/// Sets an endpoint's URL, event types and description, if it is still as `endpoint` was
/// read (412 otherwise), raising its revision.
pub fn change_endpoint(
    conn: &mut DbConnection,
    endpoint: &Endpoint,
    url: &str,
    event_types: &Json<Vec<String>>,
    description: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    at_revision(
        diesel::update(
            webhook_endpoints::table
                .find(&endpoint.id)
                .filter(webhook_endpoints::revision.eq(endpoint.revision)),
        )
        .set((
            webhook_endpoints::url.eq(url),
            webhook_endpoints::event_types.eq(event_types),
            webhook_endpoints::description.eq(description),
            webhook_endpoints::updated_at.eq(now),
            webhook_endpoints::revision.eq(endpoint.revision + 1),
        ))
        .execute(conn)?,
    )
}

/// Makes `secret` the endpoint's secret, if it is still as `endpoint` was read (412
/// otherwise), raising its revision; the one it replaces keeps signing until `until_ms`.
pub fn rotate_secret(
    conn: &mut DbConnection,
    endpoint: &Endpoint,
    secret: &str,
    until_ms: i64,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    at_revision(
        diesel::update(
            webhook_endpoints::table
                .find(&endpoint.id)
                .filter(webhook_endpoints::revision.eq(endpoint.revision)),
        )
        .set((
            webhook_endpoints::secret.eq(secret),
            webhook_endpoints::previous_secret.eq(Some(&endpoint.secret)),
            webhook_endpoints::previous_secret_until_ms.eq(Some(until_ms)),
            webhook_endpoints::updated_at.eq(now),
            webhook_endpoints::revision.eq(endpoint.revision + 1),
        ))
        .execute(conn)?,
    )
}

/// Re-enables an endpoint, if it is still as `endpoint` was read (412 otherwise), raising
/// its revision; its paused deliveries become due at once, as a new series.
pub fn enable(
    conn: &mut DbConnection,
    endpoint: &Endpoint,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    at_revision(
        diesel::update(
            webhook_endpoints::table
                .find(&endpoint.id)
                .filter(webhook_endpoints::revision.eq(endpoint.revision)),
        )
        .set((
            webhook_endpoints::enabled.eq(true),
            webhook_endpoints::disabled_reason.eq(None::<String>),
            webhook_endpoints::disabled_at.eq(None::<NaiveDateTime>),
            webhook_endpoints::updated_at.eq(now),
            webhook_endpoints::revision.eq(endpoint.revision + 1),
        ))
        .execute(conn)?,
    )?;
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::endpoint_id.eq(&endpoint.id))
            .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending)),
    )
    .set((
        webhook_deliveries::next_attempt_ms.eq(now_ms()),
        webhook_deliveries::first_attempt_ms.eq(None::<i64>),
    ))
    .execute(conn)?;
    Ok(())
}

/// Disables an endpoint (unless it is disabled already, so the first reason stays), raising
/// its revision, also when the delivery worker disables it (`read_at` none), so an edit
/// based on a read from before gets 412. An owner's disable of an endpoint it read enabled
/// at revision `read_at` is a compare-and-set: 412 if the endpoint changed since. Answers
/// how many endpoints it disabled (0 or 1).
pub fn disable(
    conn: &mut DbConnection,
    id: &EndpointId,
    reason: &str,
    now: NaiveDateTime,
    read_at: Option<i64>,
) -> Result<usize, DbError> {
    // One statement for both: the owner's at exactly the revision read, the worker's at any.
    let (lowest, highest) = read_at.map_or((i64::MIN, i64::MAX), |r| (r, r));
    let disabled = diesel::update(
        webhook_endpoints::table
            .find(id)
            .filter(webhook_endpoints::enabled.eq(true))
            .filter(webhook_endpoints::revision.between(lowest, highest)),
    )
    .set((
        webhook_endpoints::enabled.eq(false),
        webhook_endpoints::disabled_reason.eq(Some(reason)),
        webhook_endpoints::disabled_at.eq(Some(now)),
        webhook_endpoints::updated_at.eq(now),
        webhook_endpoints::revision.eq(webhook_endpoints::revision + 1),
    ))
    .execute(conn)?;
    if read_at.is_some() {
        at_revision(disabled)?;
    }
    Ok(disabled)
}
