//! Deliveries as queued and logged: one message to one endpoint, and every attempt at it.

use chrono::{NaiveDateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Nullable, Text, Timestamp},
};
use hub_platform::db::{DbConnection, DbError, rows_per_statement, values_rows};

use super::{now_ms, schema::*};
use crate::{
    domain::DeliveryStatus,
    ids::{AttemptId, DeliveryId, EndpointId, EventId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    pub id: DeliveryId,
    pub endpoint_id: EndpointId,
    pub event_id: EventId,
    pub event_type: String,
    /// The message exactly as it is signed and sent (so kept as text, byte for byte).
    pub body: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_ms: i64,
    pub claimed_until_ms: Option<i64>,
    pub first_attempt_ms: Option<i64>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_ms: Option<i64>,
    pub created_at: NaiveDateTime,
    /// The W3C trace context of the event the delivery was made for (trace ids only).
    pub traceparent: Option<String>,
    pub tracestate: Option<String>,
}

/// One attempt at a delivery, as logged.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptLog {
    pub id: AttemptId,
    pub delivery_id: DeliveryId,
    pub attempt: i32,
    pub attempted_at: NaiveDateTime,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub latency_ms: i64,
}

/// A delivery to queue: `body` to `endpoint_id`, in the trace of the event it is made for
/// (the envelope's `traceparent` and `tracestate`, if it had them).
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub endpoint_id: EndpointId,
    pub event_id: EventId,
    pub event_type: String,
    pub body: String,
    pub traceparent: Option<String>,
    pub tracestate: Option<String>,
}

/// Queues deliveries, due at once, with multi-row inserts; returns their ids in order.
pub fn insert_deliveries(
    conn: &mut DbConnection,
    deliveries: &[NewDelivery],
) -> Result<Vec<DeliveryId>, DbError> {
    const COLUMNS: usize = 10;
    let (now, created) = (now_ms(), Utc::now().naive_utc());
    let mut ids = Vec::with_capacity(deliveries.len());
    for chunk in deliveries.chunks(rows_per_statement(COLUMNS)) {
        let mut q = diesel::sql_query(format!(
            "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, body, status, \
             next_attempt_ms, created_at, traceparent, tracestate) VALUES {}",
            values_rows(1, chunk.len(), COLUMNS)
        ))
        .into_boxed();
        for d in chunk {
            let id = DeliveryId::new();
            q = q
                .bind::<Text, _>(id)
                .bind::<Text, _>(d.endpoint_id)
                .bind::<Text, _>(d.event_id)
                .bind::<Text, _>(d.event_type.clone())
                .bind::<Text, _>(d.body.clone())
                .bind::<Text, _>(DeliveryStatus::Pending)
                .bind::<BigInt, _>(now)
                .bind::<Timestamp, _>(created)
                .bind::<Nullable<Text>, _>(d.traceparent.clone())
                .bind::<Nullable<Text>, _>(d.tracestate.clone());
            ids.push(id);
        }
        q.execute(conn)?;
    }
    Ok(ids)
}

/// Queues a delivery of `body` to `endpoint_id`, due at once, outside any trace.
pub fn insert_delivery(
    conn: &mut DbConnection,
    endpoint_id: &EndpointId,
    event_id: &EventId,
    event_type: &str,
    body: String,
) -> Result<DeliveryId, DbError> {
    let ids = insert_deliveries(
        conn,
        &[NewDelivery {
            endpoint_id: *endpoint_id,
            event_id: *event_id,
            event_type: event_type.to_owned(),
            body,
            traceparent: None,
            tracestate: None,
        }],
    )?;
    Ok(ids[0])
}

pub fn find_delivery(
    conn: &mut DbConnection,
    id: &DeliveryId,
) -> Result<Option<Delivery>, DbError> {
    Ok(webhook_deliveries::table
        .find(id)
        .select(Delivery::as_select())
        .first(conn)
        .optional()?)
}

/// An endpoint's deliveries, newest first (by id: UUIDv7s sort by creation), optionally of
/// one status: at most `limit` of them, after the delivery `after` (a keyset page).
pub fn deliveries_of(
    conn: &mut DbConnection,
    endpoint_id: &EndpointId,
    status: Option<DeliveryStatus>,
    after: Option<DeliveryId>,
    limit: i64,
) -> Result<Vec<Delivery>, DbError> {
    let mut q = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(webhook_deliveries::status.eq(s));
    }
    if let Some(after) = after {
        q = q.filter(webhook_deliveries::id.lt(after));
    }
    Ok(q.order(webhook_deliveries::id.desc())
        .limit(limit)
        .select(Delivery::as_select())
        .load(conn)?)
}

/// The attempts at these deliveries, in order.
pub fn attempts_of(
    conn: &mut DbConnection,
    delivery_ids: &[DeliveryId],
) -> Result<Vec<AttemptLog>, DbError> {
    Ok(webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(delivery_ids))
        .order((
            webhook_attempts::delivery_id.asc(),
            webhook_attempts::attempt.asc(),
        ))
        .select(AttemptLog::as_select())
        .load(conn)?)
}

/// Makes a delivery due again at once, as a new series of attempts (the give-up window
/// starts again). It keeps its id, so the receiver sees the same `webhook-id`.
pub fn redeliver(conn: &mut DbConnection, id: &DeliveryId) -> Result<usize, DbError> {
    // An attempt still in flight (leased) no longer owns the delivery: its outcome is kept in
    // the attempt log but does not settle the redelivery, which is numbered after it.
    Ok(diesel::sql_query(
        "UPDATE webhook_deliveries SET status = $1, next_attempt_ms = $2, \
         first_attempt_ms = NULL, delivered_ms = NULL, \
         attempts = CASE WHEN claimed_until_ms IS NOT NULL AND claimed_until_ms > $2 \
                         THEN attempts + 1 ELSE attempts END, \
         claimed_until_ms = NULL WHERE id = $3",
    )
    .bind::<Text, _>(DeliveryStatus::Pending)
    .bind::<BigInt, _>(now_ms())
    .bind::<Text, _>(id)
    .execute(conn)?)
}
