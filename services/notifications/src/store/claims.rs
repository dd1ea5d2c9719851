//! The delivery worker's side of the deliveries: claims (leases) on due deliveries, the next
//! due time, and the outcomes of attempts.
//!
//! The rule that holds it together: a delivery's row takes an attempt's outcome only while
//! that attempt's lease is still on it; a redelivery asked for meanwhile, or a new claim
//! after the lease ran out, owns the row.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDateTime;
use diesel::{
    prelude::*,
    sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamp},
};
use hub_platform::db::{DbConnection, DbError, rows_per_statement, values_rows};

use super::{disable, now_ms, schema::*};
use crate::{
    domain::{self, DeliveryStatus},
    ids::{AttemptId, DeliveryId, EndpointId},
};

/// A delivery claimed for sending, with what is needed to send it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: DeliveryId,
    /// The claim's lease (`claimed_until_ms` as set by the claim): the attempt's outcome is
    /// recorded on the delivery only while the lease is still its own (not redelivered or
    /// claimed again meanwhile).
    pub lease_until_ms: i64,
    pub endpoint_id: EndpointId,
    pub event_type: String,
    pub body: String,
    /// This attempt's number (1-based).
    pub attempt: i32,
    pub first_attempt_ms: i64,
    pub url: String,
    pub secrets: Vec<String>,
    /// The trace context of the event the delivery was made for, as W3C headers (empty if
    /// it had none).
    pub trace: HashMap<String, String>,
}

/// A due delivery with its endpoint's address and secrets.
#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = Text)]
    id: DeliveryId,
    #[diesel(sql_type = Text)]
    endpoint_id: EndpointId,
    #[diesel(sql_type = Text)]
    event_type: String,
    #[diesel(sql_type = Text)]
    body: String,
    #[diesel(sql_type = Integer)]
    attempts: i32,
    #[diesel(sql_type = Nullable<BigInt>)]
    first_attempt_ms: Option<i64>,
    #[diesel(sql_type = Text)]
    url: String,
    #[diesel(sql_type = Text)]
    secret: String,
    #[diesel(sql_type = Nullable<Text>)]
    previous_secret: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    previous_secret_until_ms: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    traceparent: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    tracestate: Option<String>,
}

impl Candidate {
    /// The candidate as claimed at `now`, under a lease until `lease_until_ms`.
    fn claimed(self, now: i64, lease_until_ms: i64) -> Claimed {
        Claimed {
            lease_until_ms,
            attempt: self.attempts + 1,
            first_attempt_ms: self.first_attempt_ms.unwrap_or(now),
            secrets: domain::signing_secrets(
                &self.secret,
                self.previous_secret.as_deref(),
                self.previous_secret_until_ms,
                now,
            ),
            trace: [
                ("traceparent", self.traceparent),
                ("tracestate", self.tracestate),
            ]
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_owned(), v?)))
            .collect(),
            url: self.url,
            id: self.id,
            endpoint_id: self.endpoint_id,
            event_type: self.event_type,
            body: self.body,
        }
    }
}

/// `AND endpoint_id NOT IN ($first, …)` for the endpoints that already have as many
/// deliveries in flight as they may.
fn exclusion(first_param: usize, n: usize) -> String {
    if n == 0 {
        return String::new();
    }
    format!(" AND endpoint_id NOT IN {}", values_rows(first_param, 1, n))
}

/// What one claim took.
#[derive(Debug, Clone, Default)]
pub struct Claim {
    /// Leased for sending, in due order.
    pub deliveries: Vec<Claimed>,
    /// How many due deliveries it looked at (as many as it was allowed to: there may be
    /// more, of endpoints that were not at their share).
    pub candidates: usize,
}

/// Claims up to `limit` due pending deliveries of enabled endpoints whose lease is free,
/// leasing them for `lease_ms`, so that no endpoint gets more than `per_endpoint` in flight
/// (counting `in_flight`). Run it in a transaction: the candidates are locked with
/// [`DbConnection::skip_locked_clause`], so replicas sharing a PostgreSQL database claim
/// disjoint rows, as the outbox relay does. Two statements: one reads the candidates with
/// their endpoints, one leases the chosen.
pub fn claim(
    conn: &mut DbConnection,
    limit: usize,
    lease_ms: i64,
    in_flight: &HashMap<EndpointId, usize>,
    per_endpoint: usize,
) -> Result<Claim, DbError> {
    let now = now_ms();
    let busy = domain::saturated(in_flight, per_endpoint);
    let candidates = candidates(conn, now, limit, &busy)?;
    let seen = candidates.len();
    let pairs: Vec<(DeliveryId, EndpointId)> =
        candidates.iter().map(|c| (c.id, c.endpoint_id)).collect();
    let chosen: BTreeSet<DeliveryId> = domain::choose(&pairs, in_flight, per_endpoint)
        .into_iter()
        .collect();
    if chosen.is_empty() {
        return Ok(Claim {
            deliveries: Vec::new(),
            candidates: seen,
        });
    }
    let lease_until_ms = now + lease_ms;
    lease(conn, &chosen, now, lease_until_ms)?;
    Ok(Claim {
        deliveries: candidates
            .into_iter()
            .filter(|c| chosen.contains(&c.id))
            .map(|c| c.claimed(now, lease_until_ms))
            .collect(),
        candidates: seen,
    })
}

/// Up to `limit` deliveries due at `now` whose lease is free, of enabled endpoints not
/// `busy`, locked (skipping rows another replica holds), in due order.
fn candidates(
    conn: &mut DbConnection,
    now: i64,
    limit: usize,
    busy: &[EndpointId],
) -> Result<Vec<Candidate>, DbError> {
    // `status = 'pending'` is written out, not bound: it is the partial index's predicate.
    let sql = format!(
        "SELECT d.id, d.endpoint_id, d.event_type, d.body, d.attempts, d.first_attempt_ms, \
                d.traceparent, d.tracestate, \
                e.url, e.secret, e.previous_secret, e.previous_secret_until_ms \
         FROM webhook_deliveries d INNER JOIN webhook_endpoints e ON e.id = d.endpoint_id \
         WHERE d.id IN (SELECT id FROM webhook_deliveries \
           WHERE status = 'pending' AND next_attempt_ms <= $1 \
           AND (claimed_until_ms IS NULL OR claimed_until_ms < $2) \
           AND EXISTS (SELECT 1 FROM webhook_endpoints x WHERE x.id = webhook_deliveries.endpoint_id AND x.enabled = $3)\
           {} ORDER BY next_attempt_ms, id LIMIT ${}{}) \
         ORDER BY d.next_attempt_ms, d.id",
        exclusion(4, busy.len()),
        4 + busy.len(),
        conn.skip_locked_clause()
    );
    let mut q = diesel::sql_query(sql)
        .into_boxed()
        .bind::<BigInt, _>(now)
        .bind::<BigInt, _>(now)
        .bind::<Bool, _>(true);
    for id in busy {
        q = q.bind::<Text, _>(*id);
    }
    Ok(
        q.bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX))
            .load(conn)?,
    )
}

/// Leases `chosen` until `lease_until_ms`; their first attempt is `now` unless they had one.
fn lease(
    conn: &mut DbConnection,
    chosen: &BTreeSet<DeliveryId>,
    now: i64,
    lease_until_ms: i64,
) -> Result<(), DbError> {
    let mut lease = diesel::sql_query(format!(
        "UPDATE webhook_deliveries SET claimed_until_ms = $1, \
         first_attempt_ms = COALESCE(first_attempt_ms, $2) WHERE id IN {}",
        values_rows(3, 1, chosen.len())
    ))
    .into_boxed()
    .bind::<BigInt, _>(lease_until_ms)
    .bind::<BigInt, _>(now);
    for id in chosen {
        lease = lease.bind::<Text, _>(*id);
    }
    lease.execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Due {
    #[diesel(sql_type = Nullable<BigInt>)]
    due: Option<i64>,
}

/// When the next delivery (not of a `busy` endpoint) becomes claimable, if any is pending.
pub fn next_due_ms(conn: &mut DbConnection, busy: &[EndpointId]) -> Result<Option<i64>, DbError> {
    let sql = format!(
        "SELECT MIN(CASE WHEN claimed_until_ms IS NOT NULL AND claimed_until_ms > next_attempt_ms \
                THEN claimed_until_ms ELSE next_attempt_ms END) AS due \
         FROM webhook_deliveries WHERE status = 'pending' \
         AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = webhook_deliveries.endpoint_id AND e.enabled = $1){}",
        exclusion(2, busy.len())
    );
    let mut q = diesel::sql_query(sql).into_boxed().bind::<Bool, _>(true);
    for id in busy {
        q = q.bind::<Text, _>(*id);
    }
    Ok(q.get_result::<Due>(conn)?.due)
}

/// Forgets every lease (one process owns an embedded database, so leases left by a previous
/// run are void).
pub fn reset_leases(conn: &mut DbConnection) -> Result<usize, DbError> {
    Ok(diesel::update(
        webhook_deliveries::table.filter(webhook_deliveries::claimed_until_ms.is_not_null()),
    )
    .set(webhook_deliveries::claimed_until_ms.eq(None::<i64>))
    .execute(conn)?)
}

/// What became of one attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub delivery_id: DeliveryId,
    pub endpoint_id: EndpointId,
    /// The lease of the claim the attempt was made under ([`Claimed::lease_until_ms`]).
    pub lease_until_ms: i64,
    pub attempt: i32,
    pub at: NaiveDateTime,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub latency_ms: i64,
}

/// What to do with the delivery after an attempt.
#[derive(Debug, Clone)]
pub enum Next {
    Delivered,
    RetryAt(i64),
    /// Mark the delivery failed and disable its endpoint with this reason.
    GiveUp {
        reason: String,
    },
}

/// Records an attempt and its consequence, in one transaction with the caller's.
pub fn record(conn: &mut DbConnection, a: &Attempt, next: &Next) -> Result<(), DbError> {
    record_all(conn, std::slice::from_ref(&(a.clone(), next.clone()))).map(drop)
}

/// Records attempts and their consequences (in one transaction with the caller's): every
/// attempt in multi-row inserts, the deliveries that went through in one update per
/// (attempt number, status code), the others one by one. Returns how many endpoints it
/// disabled (those of deliveries that failed for good, unless disabled already).
pub fn record_all(conn: &mut DbConnection, outcomes: &[(Attempt, Next)]) -> Result<usize, DbError> {
    log_attempts(conn, outcomes)?;
    let now = now_ms();
    let mut delivered: BTreeMap<(i32, Option<i32>, i64), Vec<DeliveryId>> = BTreeMap::new();
    let mut disabled = 0;
    for (a, next) in outcomes {
        match next {
            Next::Delivered if a.error.is_none() => {
                delivered
                    .entry((a.attempt, a.status_code, a.lease_until_ms))
                    .or_default()
                    .push(a.delivery_id);
            }
            _ => disabled += settle(conn, a, next, now)?,
        }
    }
    for ((attempt, status_code, lease), ids) in delivered {
        diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::id.eq_any(ids))
                .filter(webhook_deliveries::claimed_until_ms.eq(lease)),
        )
        .set((
            webhook_deliveries::attempts.eq(attempt),
            webhook_deliveries::claimed_until_ms.eq(None::<i64>),
            webhook_deliveries::last_status_code.eq(status_code),
            webhook_deliveries::last_error.eq(None::<String>),
            webhook_deliveries::status.eq(DeliveryStatus::Delivered),
            webhook_deliveries::delivered_ms.eq(Some(now)),
        ))
        .execute(conn)?;
    }
    Ok(disabled)
}

/// The attempt log's rows, in multi-row inserts.
fn log_attempts(conn: &mut DbConnection, outcomes: &[(Attempt, Next)]) -> Result<(), DbError> {
    const COLUMNS: usize = 7;
    for chunk in outcomes.chunks(rows_per_statement(COLUMNS)) {
        let mut q = diesel::sql_query(format!(
            "INSERT INTO webhook_attempts (id, delivery_id, attempt, attempted_at, status_code, \
             error, latency_ms) VALUES {}",
            values_rows(1, chunk.len(), COLUMNS)
        ))
        .into_boxed();
        for (a, _) in chunk {
            q = q
                .bind::<Text, _>(AttemptId::new())
                .bind::<Text, _>(a.delivery_id)
                .bind::<Integer, _>(a.attempt)
                .bind::<Timestamp, _>(a.at)
                .bind::<Nullable<Integer>, _>(a.status_code)
                .bind::<Nullable<Text>, _>(a.error.clone())
                .bind::<BigInt, _>(a.latency_ms);
        }
        q.execute(conn)?;
    }
    Ok(())
}

/// Settles one delivery by its attempt's outcome, if the attempt's lease is still on it.
/// Returns how many endpoints it disabled (0 or 1).
fn settle(conn: &mut DbConnection, a: &Attempt, next: &Next, now: i64) -> Result<usize, DbError> {
    let target = webhook_deliveries::table
        .find(a.delivery_id)
        .filter(webhook_deliveries::claimed_until_ms.eq(a.lease_until_ms));
    let common = (
        webhook_deliveries::attempts.eq(a.attempt),
        webhook_deliveries::claimed_until_ms.eq(None::<i64>),
        webhook_deliveries::last_status_code.eq(a.status_code),
        webhook_deliveries::last_error.eq(a.error.clone()),
    );
    match next {
        Next::Delivered => {
            diesel::update(target)
                .set((
                    common,
                    webhook_deliveries::status.eq(DeliveryStatus::Delivered),
                    webhook_deliveries::delivered_ms.eq(Some(now)),
                ))
                .execute(conn)?;
            Ok(0)
        }
        Next::RetryAt(at) => {
            diesel::update(target)
                .set((common, webhook_deliveries::next_attempt_ms.eq(*at)))
                .execute(conn)?;
            Ok(0)
        }
        Next::GiveUp { reason } => {
            let failed = diesel::update(target)
                .set((
                    common,
                    webhook_deliveries::status.eq(DeliveryStatus::Failed),
                ))
                .execute(conn)?;
            if failed == 0 {
                return Ok(0);
            }
            disable(conn, &a.endpoint_id, reason, a.at, None)
        }
    }
}
