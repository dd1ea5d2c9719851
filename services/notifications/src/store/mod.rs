//! Tables and queries of the notifications service.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::schema::*;
use chrono::{NaiveDateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamp},
};
use hub_platform::db::{DbConnection, DbError, rows_per_statement, values_rows};
use uuid::Uuid;

use crate::domain::{self, DeliveryStatus};

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointRow {
    pub id: String,
    pub owner_org: String,
    pub url: String,
    /// JSON array of event types.
    pub event_types: String,
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
}

impl EndpointRow {
    pub fn event_types(&self) -> Vec<String> {
        serde_json::from_str(&self.event_types).unwrap_or_default()
    }

    pub fn subscribes_to(&self, event_type: &str) -> bool {
        self.event_types().iter().any(|t| t == event_type)
    }

    /// The secrets that sign a delivery now: the current one, plus the previous one for a
    /// while after a rotation.
    pub fn signing_secrets(&self, now_ms: i64) -> Vec<String> {
        signing_secrets(
            &self.secret,
            self.previous_secret.as_deref(),
            self.previous_secret_until_ms,
            now_ms,
        )
    }
}

/// The current secret, plus the previous one until `previous_until_ms`.
fn signing_secrets(
    secret: &str,
    previous: Option<&str>,
    previous_until_ms: Option<i64>,
    now_ms: i64,
) -> Vec<String> {
    let mut secrets = vec![secret.to_owned()];
    if let (Some(prev), Some(until)) = (previous, previous_until_ms)
        && until > now_ms
    {
        secrets.push(prev.to_owned());
    }
    secrets
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub body: String,
    pub status: String,
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

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptRow {
    pub id: String,
    pub delivery_id: String,
    pub attempt: i32,
    pub attempted_at: NaiveDateTime,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub latency_ms: i64,
}

pub fn find_endpoint(conn: &mut DbConnection, id: &str) -> Result<Option<EndpointRow>, DbError> {
    Ok(webhook_endpoints::table
        .find(id)
        .select(EndpointRow::as_select())
        .first(conn)
        .optional()?)
}

/// An organisation's endpoints, oldest first.
pub fn endpoints_of(conn: &mut DbConnection, org: &str) -> Result<Vec<EndpointRow>, DbError> {
    Ok(webhook_endpoints::table
        .filter(webhook_endpoints::owner_org.eq(org))
        .order((
            webhook_endpoints::created_at.asc(),
            webhook_endpoints::id.asc(),
        ))
        .select(EndpointRow::as_select())
        .load(conn)?)
}

/// The enabled endpoints of any of `orgs`, by id.
pub fn enabled_endpoints_of(
    conn: &mut DbConnection,
    orgs: &[&str],
) -> Result<Vec<EndpointRow>, DbError> {
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
        .select(EndpointRow::as_select())
        .load(conn)?)
}

/// A delivery to queue: `body` to `endpoint_id`, in the trace of the event it is made for
/// (the envelope's `traceparent` and `tracestate`, if it had them).
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub body: String,
    pub traceparent: Option<String>,
    pub tracestate: Option<String>,
}

/// Queues deliveries, due at once, with multi-row inserts; returns their ids in order.
pub fn insert_deliveries(
    conn: &mut DbConnection,
    deliveries: &[NewDelivery],
) -> Result<Vec<String>, DbError> {
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
            let id = Uuid::now_v7().to_string();
            q = q
                .bind::<Text, _>(id.clone())
                .bind::<Text, _>(d.endpoint_id.clone())
                .bind::<Text, _>(d.event_id.clone())
                .bind::<Text, _>(d.event_type.clone())
                .bind::<Text, _>(d.body.clone())
                .bind::<Text, _>(DeliveryStatus::Pending.code())
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
    endpoint_id: &str,
    event_id: &str,
    event_type: &str,
    body: String,
) -> Result<String, DbError> {
    let ids = insert_deliveries(
        conn,
        &[NewDelivery {
            endpoint_id: endpoint_id.to_owned(),
            event_id: event_id.to_owned(),
            event_type: event_type.to_owned(),
            body,
            traceparent: None,
            tracestate: None,
        }],
    )?;
    Ok(ids.into_iter().next().unwrap_or_default())
}

pub fn find_delivery(conn: &mut DbConnection, id: &str) -> Result<Option<DeliveryRow>, DbError> {
    Ok(webhook_deliveries::table
        .find(id)
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()?)
}

/// An endpoint's deliveries, newest first, optionally of one status.
pub fn deliveries_of(
    conn: &mut DbConnection,
    endpoint_id: &str,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, DbError> {
    let mut q = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(webhook_deliveries::status.eq(s));
    }
    Ok(q.order((
        webhook_deliveries::created_at.desc(),
        webhook_deliveries::id.desc(),
    ))
    .limit(limit)
    .select(DeliveryRow::as_select())
    .load(conn)?)
}

/// The attempts at these deliveries, in order.
pub fn attempts_of(
    conn: &mut DbConnection,
    delivery_ids: &[String],
) -> Result<Vec<AttemptRow>, DbError> {
    Ok(webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(delivery_ids))
        .order((
            webhook_attempts::delivery_id.asc(),
            webhook_attempts::attempt.asc(),
        ))
        .select(AttemptRow::as_select())
        .load(conn)?)
}

/// Makes a delivery due again at once, as a new series of attempts (the give-up window
/// starts again). It keeps its id, so the receiver sees the same `webhook-id`.
pub fn redeliver(conn: &mut DbConnection, id: &str) -> Result<usize, DbError> {
    // An attempt still in flight (leased) no longer owns the delivery: its outcome is kept in
    // the attempt log but does not settle the redelivery, which is numbered after it.
    Ok(diesel::sql_query(
        "UPDATE webhook_deliveries SET status = $1, next_attempt_ms = $2, \
         first_attempt_ms = NULL, delivered_ms = NULL, \
         attempts = CASE WHEN claimed_until_ms IS NOT NULL AND claimed_until_ms > $2 \
                         THEN attempts + 1 ELSE attempts END, \
         claimed_until_ms = NULL WHERE id = $3",
    )
    .bind::<Text, _>(DeliveryStatus::Pending.code())
    .bind::<BigInt, _>(now_ms())
    .bind::<Text, _>(id)
    .execute(conn)?)
}

/// Re-enables an endpoint; its paused deliveries become due at once, as a new series.
pub fn enable(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<(), DbError> {
    diesel::update(webhook_endpoints::table.find(id))
        .set((
            webhook_endpoints::enabled.eq(true),
            webhook_endpoints::disabled_reason.eq(None::<String>),
            webhook_endpoints::disabled_at.eq(None::<NaiveDateTime>),
            webhook_endpoints::updated_at.eq(now),
        ))
        .execute(conn)?;
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::endpoint_id.eq(id))
            .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.code())),
    )
    .set((
        webhook_deliveries::next_attempt_ms.eq(now_ms()),
        webhook_deliveries::first_attempt_ms.eq(None::<i64>),
    ))
    .execute(conn)?;
    Ok(())
}

/// Disables an endpoint (unless it is disabled already, so the first reason stays).
pub fn disable(
    conn: &mut DbConnection,
    id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    Ok(diesel::update(
        webhook_endpoints::table
            .find(id)
            .filter(webhook_endpoints::enabled.eq(true)),
    )
    .set((
        webhook_endpoints::enabled.eq(false),
        webhook_endpoints::disabled_reason.eq(Some(reason)),
        webhook_endpoints::disabled_at.eq(Some(now)),
        webhook_endpoints::updated_at.eq(now),
    ))
    .execute(conn)?)
}

/// A delivery claimed for sending, with what is needed to send it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: String,
    /// The claim's lease (`claimed_until_ms` as set by the claim): the attempt's outcome is
    /// recorded on the delivery only while the lease is still its own (not redelivered or
    /// claimed again meanwhile).
    pub lease_until_ms: i64,
    pub endpoint_id: String,
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
    id: String,
    #[diesel(sql_type = Text)]
    endpoint_id: String,
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
    in_flight: &HashMap<String, usize>,
    per_endpoint: usize,
) -> Result<Claim, DbError> {
    let now = now_ms();
    let busy = domain::saturated(in_flight, per_endpoint);
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
    for id in &busy {
        q = q.bind::<Text, _>(id.clone());
    }
    let candidates: Vec<Candidate> = q
        .bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX))
        .load(conn)?;
    let seen = candidates.len();
    let pairs: Vec<(String, String)> = candidates
        .iter()
        .map(|c| (c.id.clone(), c.endpoint_id.clone()))
        .collect();
    let chosen: BTreeSet<String> = domain::choose(&pairs, in_flight, per_endpoint)
        .into_iter()
        .collect();
    if chosen.is_empty() {
        return Ok(Claim {
            deliveries: Vec::new(),
            candidates: seen,
        });
    }
    let mut lease = diesel::sql_query(format!(
        "UPDATE webhook_deliveries SET claimed_until_ms = $1, \
         first_attempt_ms = COALESCE(first_attempt_ms, $2) WHERE id IN {}",
        values_rows(3, 1, chosen.len())
    ))
    .into_boxed()
    .bind::<BigInt, _>(now + lease_ms)
    .bind::<BigInt, _>(now);
    for id in &chosen {
        lease = lease.bind::<Text, _>(id.clone());
    }
    lease.execute(conn)?;
    Ok(Claim {
        deliveries: candidates
            .into_iter()
            .filter(|c| chosen.contains(&c.id))
            .map(|c| Claimed {
                lease_until_ms: now + lease_ms,
                attempt: c.attempts + 1,
                first_attempt_ms: c.first_attempt_ms.unwrap_or(now),
                secrets: signing_secrets(
                    &c.secret,
                    c.previous_secret.as_deref(),
                    c.previous_secret_until_ms,
                    now,
                ),
                trace: [("traceparent", c.traceparent), ("tracestate", c.tracestate)]
                    .into_iter()
                    .filter_map(|(k, v)| Some((k.to_owned(), v?)))
                    .collect(),
                url: c.url,
                id: c.id,
                endpoint_id: c.endpoint_id,
                event_type: c.event_type,
                body: c.body,
            })
            .collect(),
        candidates: seen,
    })
}

#[derive(QueryableByName)]
struct Due {
    #[diesel(sql_type = Nullable<BigInt>)]
    due: Option<i64>,
}

/// When the next delivery (not of a `busy` endpoint) becomes claimable, if any is pending.
pub fn next_due_ms(conn: &mut DbConnection, busy: &[String]) -> Result<Option<i64>, DbError> {
    let sql = format!(
        "SELECT MIN(CASE WHEN claimed_until_ms IS NOT NULL AND claimed_until_ms > next_attempt_ms \
                THEN claimed_until_ms ELSE next_attempt_ms END) AS due \
         FROM webhook_deliveries WHERE status = 'pending' \
         AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = webhook_deliveries.endpoint_id AND e.enabled = $1){}",
        exclusion(2, busy.len())
    );
    let mut q = diesel::sql_query(sql).into_boxed().bind::<Bool, _>(true);
    for id in busy {
        q = q.bind::<Text, _>(id.clone());
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
    pub delivery_id: String,
    pub endpoint_id: String,
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
                .bind::<Text, _>(Uuid::now_v7().to_string())
                .bind::<Text, _>(a.delivery_id.clone())
                .bind::<Integer, _>(a.attempt)
                .bind::<Timestamp, _>(a.at)
                .bind::<Nullable<Integer>, _>(a.status_code)
                .bind::<Nullable<Text>, _>(a.error.clone())
                .bind::<BigInt, _>(a.latency_ms);
        }
        q.execute(conn)?;
    }
    let now = now_ms();
    // A delivery's row takes an attempt's outcome only while the attempt's lease is still on
    // it: a redelivery asked for meanwhile (or a new claim after the lease ran out) owns it.
    let mut delivered: BTreeMap<(i32, Option<i32>, i64), Vec<&str>> = BTreeMap::new();
    let mut disabled = 0;
    for (a, next) in outcomes {
        let target = webhook_deliveries::table
            .find(&a.delivery_id)
            .filter(webhook_deliveries::claimed_until_ms.eq(a.lease_until_ms));
        let common = (
            webhook_deliveries::attempts.eq(a.attempt),
            webhook_deliveries::claimed_until_ms.eq(None::<i64>),
            webhook_deliveries::last_status_code.eq(a.status_code),
            webhook_deliveries::last_error.eq(a.error.clone()),
        );
        match next {
            Next::Delivered if a.error.is_none() => {
                delivered
                    .entry((a.attempt, a.status_code, a.lease_until_ms))
                    .or_default()
                    .push(&a.delivery_id);
            }
            Next::Delivered => {
                diesel::update(target)
                    .set((
                        common,
                        webhook_deliveries::status.eq(DeliveryStatus::Delivered.code()),
                        webhook_deliveries::delivered_ms.eq(Some(now)),
                    ))
                    .execute(conn)?;
            }
            Next::RetryAt(at) => {
                diesel::update(target)
                    .set((common, webhook_deliveries::next_attempt_ms.eq(*at)))
                    .execute(conn)?;
            }
            Next::GiveUp { reason } => {
                let failed = diesel::update(target)
                    .set((
                        common,
                        webhook_deliveries::status.eq(DeliveryStatus::Failed.code()),
                    ))
                    .execute(conn)?;
                if failed > 0 {
                    disabled += disable(conn, &a.endpoint_id, reason, a.at)?;
                }
            }
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
            webhook_deliveries::status.eq(DeliveryStatus::Delivered.code()),
            webhook_deliveries::delivered_ms.eq(Some(now)),
        ))
        .execute(conn)?;
    }
    Ok(disabled)
}

/// A competition as learnt from the competition service's events.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tracked_competitions)]
pub struct TrackedRow {
    pub competition_id: String,
    pub referral_id: String,
    pub council: String,
    pub lot_id: Option<String>,
    pub lot_name: Option<String>,
    pub referral_version: Option<i32>,
    /// `open`, `awarded` or `closed`.
    pub status: String,
    pub awarded_provider: Option<String>,
    pub opened_at: NaiveDateTime,
    /// When the event that set `status` happened.
    pub status_at: NaiveDateTime,
}

pub fn tracked(
    conn: &mut DbConnection,
    competition_id: &str,
) -> Result<Option<TrackedRow>, DbError> {
    Ok(tracked_competitions::table
        .find(competition_id)
        .select(TrackedRow::as_select())
        .first(conn)
        .optional()?)
}

/// Applies what an event says about a competition (`row`, with the event's time in
/// `status_at`): records it if new; otherwise takes its state (and winner, and the referral
/// version it opened on) if the event is not older than the one that set the current state,
/// and fills in the lot if it was not known. Adds `invited` to its invitees either way.
pub fn track(conn: &mut DbConnection, row: &TrackedRow, invited: &[String]) -> Result<(), DbError> {
    // Usually a new competition: one statement inserts it; a known one is left as it is.
    let inserted = diesel::sql_query(
        "INSERT INTO tracked_competitions (competition_id, referral_id, council, lot_id, lot_name, \
         referral_version, status, awarded_provider, opened_at, status_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
    )
    .bind::<Text, _>(&row.competition_id)
    .bind::<Text, _>(&row.referral_id)
    .bind::<Text, _>(&row.council)
    .bind::<Nullable<Text>, _>(&row.lot_id)
    .bind::<Nullable<Text>, _>(&row.lot_name)
    .bind::<Nullable<Integer>, _>(row.referral_version)
    .bind::<Text, _>(&row.status)
    .bind::<Nullable<Text>, _>(&row.awarded_provider)
    .bind::<Timestamp, _>(row.opened_at)
    .bind::<Timestamp, _>(row.status_at)
    .execute(conn)?;
    if inserted == 0
        && let Some(known) = tracked(conn, &row.competition_id)?
    {
        let target = tracked_competitions::table.find(&row.competition_id);
        if row.status_at >= known.status_at {
            diesel::update(target)
                .set((
                    tracked_competitions::status.eq(&row.status),
                    tracked_competitions::awarded_provider.eq(&row.awarded_provider),
                    tracked_competitions::status_at.eq(row.status_at),
                    tracked_competitions::referral_version
                        .eq(row.referral_version.or(known.referral_version)),
                ))
                .execute(conn)?;
        }
        if known.lot_name.is_none() && row.lot_name.is_some() {
            diesel::update(target)
                .set((
                    tracked_competitions::lot_id.eq(&row.lot_id),
                    tracked_competitions::lot_name.eq(&row.lot_name),
                ))
                .execute(conn)?;
        }
    }
    let invited: Vec<&String> = invited
        .iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for chunk in invited.chunks(rows_per_statement(2)) {
        let mut q = diesel::sql_query(format!(
            "INSERT INTO competition_invitees (competition_id, provider_id) VALUES {} \
             ON CONFLICT DO NOTHING",
            values_rows(1, chunk.len(), 2)
        ))
        .into_boxed();
        for provider in chunk {
            q = q
                .bind::<Text, _>(row.competition_id.clone())
                .bind::<Text, _>((*provider).clone());
        }
        q.execute(conn)?;
    }
    Ok(())
}

/// Who hears of a referral's new versions, each with the competition it is in: the invited
/// providers of its open competitions and the winner of an awarded one (the latest
/// competition wins if a provider is in several). In provider order.
pub fn referral_audience(
    conn: &mut DbConnection,
    referral_id: &str,
) -> Result<Vec<(String, TrackedRow)>, DbError> {
    let competitions: Vec<TrackedRow> = tracked_competitions::table
        .filter(tracked_competitions::referral_id.eq(referral_id))
        .order((
            tracked_competitions::opened_at.asc(),
            tracked_competitions::competition_id.asc(),
        ))
        .select(TrackedRow::as_select())
        .load(conn)?;
    let mut audience: std::collections::BTreeMap<String, TrackedRow> = Default::default();
    for c in competitions {
        let providers: Vec<String> = match c.status.as_str() {
            "open" => competition_invitees::table
                .filter(competition_invitees::competition_id.eq(&c.competition_id))
                .select(competition_invitees::provider_id)
                .load(conn)?,
            "awarded" => c.awarded_provider.iter().cloned().collect(),
            _ => Vec::new(),
        };
        for p in providers {
            audience.insert(p, c.clone());
        }
    }
    Ok(audience.into_iter().collect())
}
