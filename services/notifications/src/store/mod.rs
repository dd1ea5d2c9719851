//! Tables and queries of the notifications service.

pub mod schema {
    diesel::table! {
        webhook_endpoints (id) {
            id -> Text,
            owner_org -> Text,
            url -> Text,
            event_types -> Text,
            description -> Nullable<Text>,
            secret -> Text,
            previous_secret -> Nullable<Text>,
            previous_secret_until_ms -> Nullable<BigInt>,
            enabled -> Bool,
            disabled_reason -> Nullable<Text>,
            disabled_at -> Nullable<Timestamp>,
            created_by -> Text,
            created_at -> Timestamp,
            updated_at -> Timestamp,
        }
    }
    diesel::table! {
        webhook_deliveries (id) {
            id -> Text,
            endpoint_id -> Text,
            event_id -> Text,
            event_type -> Text,
            body -> Text,
            status -> Text,
            attempts -> Integer,
            next_attempt_ms -> BigInt,
            claimed_until_ms -> Nullable<BigInt>,
            first_attempt_ms -> Nullable<BigInt>,
            last_status_code -> Nullable<Integer>,
            last_error -> Nullable<Text>,
            delivered_ms -> Nullable<BigInt>,
            created_at -> Timestamp,
        }
    }
    diesel::table! {
        webhook_attempts (id) {
            id -> Text,
            delivery_id -> Text,
            attempt -> Integer,
            attempted_at -> Timestamp,
            status_code -> Nullable<Integer>,
            error -> Nullable<Text>,
            latency_ms -> BigInt,
        }
    }
    diesel::table! {
        tracked_competitions (competition_id) {
            competition_id -> Text,
            referral_id -> Text,
            council -> Text,
            lot_id -> Nullable<Text>,
            lot_name -> Nullable<Text>,
            referral_version -> Nullable<Integer>,
            status -> Text,
            awarded_provider -> Nullable<Text>,
            opened_at -> Timestamp,
            status_at -> Timestamp,
        }
    }
    diesel::table! {
        competition_invitees (competition_id, provider_id) {
            competition_id -> Text,
            provider_id -> Text,
        }
    }
    diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
    diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
    diesel::joinable!(competition_invitees -> tracked_competitions (competition_id));
    diesel::allow_tables_to_appear_in_same_query!(
        webhook_endpoints,
        webhook_deliveries,
        webhook_attempts,
        tracked_competitions,
        competition_invitees
    );
}

use std::collections::HashMap;

use chrono::{NaiveDateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Bool, Nullable, Text},
};
use hub_platform::db::{DbConnection, DbError};
use schema::*;
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
        let mut secrets = vec![self.secret.clone()];
        if let (Some(prev), Some(until)) = (&self.previous_secret, self.previous_secret_until_ms)
            && until > now_ms
        {
            secrets.push(prev.clone());
        }
        secrets
    }
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

/// An organisation's enabled endpoints subscribed to `event_type`.
pub fn subscribers(
    conn: &mut DbConnection,
    org: &str,
    event_type: &str,
) -> Result<Vec<EndpointRow>, DbError> {
    Ok(webhook_endpoints::table
        .filter(
            webhook_endpoints::owner_org
                .eq(org)
                .and(webhook_endpoints::enabled.eq(true)),
        )
        .order(webhook_endpoints::id.asc())
        .select(EndpointRow::as_select())
        .load(conn)?
        .into_iter()
        .filter(|e| e.subscribes_to(event_type))
        .collect())
}

/// Queues a delivery of `body` to `endpoint_id`, due at once.
pub fn insert_delivery(
    conn: &mut DbConnection,
    endpoint_id: &str,
    event_id: &str,
    event_type: &str,
    body: String,
) -> Result<String, DbError> {
    let row = DeliveryRow {
        id: Uuid::now_v7().to_string(),
        endpoint_id: endpoint_id.to_owned(),
        event_id: event_id.to_owned(),
        event_type: event_type.to_owned(),
        body,
        status: DeliveryStatus::Pending.code().to_owned(),
        attempts: 0,
        next_attempt_ms: now_ms(),
        claimed_until_ms: None,
        first_attempt_ms: None,
        last_status_code: None,
        last_error: None,
        delivered_ms: None,
        created_at: Utc::now().naive_utc(),
    };
    diesel::insert_into(webhook_deliveries::table)
        .values(&row)
        .execute(conn)?;
    Ok(row.id)
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
    Ok(diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::status.eq(DeliveryStatus::Pending.code()),
            webhook_deliveries::next_attempt_ms.eq(now_ms()),
            webhook_deliveries::first_attempt_ms.eq(None::<i64>),
            webhook_deliveries::delivered_ms.eq(None::<i64>),
        ))
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
    pub endpoint_id: String,
    pub event_type: String,
    pub body: String,
    /// This attempt's number (1-based).
    pub attempt: i32,
    pub first_attempt_ms: i64,
    pub url: String,
    pub secrets: Vec<String>,
}

#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    endpoint_id: String,
}

/// `AND endpoint_id NOT IN ($first, …)` for the endpoints that already have as many
/// deliveries in flight as they may.
fn exclusion(first_param: usize, n: usize) -> String {
    if n == 0 {
        return String::new();
    }
    let params: Vec<String> = (first_param..first_param + n)
        .map(|i| format!("${i}"))
        .collect();
    format!(" AND endpoint_id NOT IN ({})", params.join(", "))
}

/// Claims up to `limit` due pending deliveries of enabled endpoints whose lease is free,
/// leasing them for `lease_ms`, so that no endpoint gets more than `per_endpoint` in flight
/// (counting `in_flight`). Run it in a transaction: the candidates are locked with
/// [`DbConnection::skip_locked_clause`], so replicas sharing a PostgreSQL database claim
/// disjoint rows, as the outbox relay does.
pub fn claim(
    conn: &mut DbConnection,
    limit: usize,
    lease_ms: i64,
    in_flight: &HashMap<String, usize>,
    per_endpoint: usize,
) -> Result<Vec<Claimed>, DbError> {
    let now = now_ms();
    let busy = domain::saturated(in_flight, per_endpoint);
    let sql = format!(
        "SELECT id, endpoint_id FROM webhook_deliveries \
         WHERE status = 'pending' AND next_attempt_ms <= $1 \
         AND (claimed_until_ms IS NULL OR claimed_until_ms < $2) \
         AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = webhook_deliveries.endpoint_id AND e.enabled = $3)\
         {} ORDER BY next_attempt_ms, id LIMIT ${}{}",
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
    let pairs: Vec<(String, String)> = candidates
        .into_iter()
        .map(|c| (c.id, c.endpoint_id))
        .collect();
    let chosen = domain::choose(&pairs, in_flight, per_endpoint);
    if chosen.is_empty() {
        return Ok(Vec::new());
    }
    let d = webhook_deliveries::table;
    diesel::update(d.filter(webhook_deliveries::id.eq_any(&chosen)))
        .set(webhook_deliveries::claimed_until_ms.eq(Some(now + lease_ms)))
        .execute(conn)?;
    diesel::update(
        d.filter(webhook_deliveries::id.eq_any(&chosen))
            .filter(webhook_deliveries::first_attempt_ms.is_null()),
    )
    .set(webhook_deliveries::first_attempt_ms.eq(Some(now)))
    .execute(conn)?;
    let rows: Vec<(DeliveryRow, EndpointRow)> = d
        .inner_join(webhook_endpoints::table)
        .filter(webhook_deliveries::id.eq_any(&chosen))
        .order((
            webhook_deliveries::next_attempt_ms.asc(),
            webhook_deliveries::id.asc(),
        ))
        .select((DeliveryRow::as_select(), EndpointRow::as_select()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(r, e)| Claimed {
            attempt: r.attempts + 1,
            first_attempt_ms: r.first_attempt_ms.unwrap_or(now),
            url: e.url.clone(),
            secrets: e.signing_secrets(now),
            id: r.id,
            endpoint_id: r.endpoint_id,
            event_type: r.event_type,
            body: r.body,
        })
        .collect())
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
    diesel::insert_into(webhook_attempts::table)
        .values(&AttemptRow {
            id: Uuid::now_v7().to_string(),
            delivery_id: a.delivery_id.clone(),
            attempt: a.attempt,
            attempted_at: a.at,
            status_code: a.status_code,
            error: a.error.clone(),
            latency_ms: a.latency_ms,
        })
        .execute(conn)?;
    let now = now_ms();
    let target = webhook_deliveries::table.find(&a.delivery_id);
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
            diesel::update(target)
                .set((
                    common,
                    webhook_deliveries::status.eq(DeliveryStatus::Failed.code()),
                ))
                .execute(conn)?;
            disable(conn, &a.endpoint_id, reason, a.at)?;
        }
    }
    Ok(())
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
    match tracked(conn, &row.competition_id)? {
        None => {
            diesel::insert_into(tracked_competitions::table)
                .values(row)
                .execute(conn)?;
        }
        Some(known) => {
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
    }
    for provider in invited {
        diesel::sql_query(
            "INSERT INTO competition_invitees (competition_id, provider_id) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind::<Text, _>(&row.competition_id)
        .bind::<Text, _>(provider)
        .execute(conn)?;
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
