//! Tables and queries of the referral service: rows hold the domain's types (the storage
//! edge, ADR 0002), and every query returns domain types, never rows. A stored value its
//! type cannot read is a deserialization error (500, alert), never a default.

pub mod schema {
    diesel::table! {
        referrals (id) {
            id -> Text,
            council -> Text,
            partnership -> Text,
            framework_id -> Text,
            lot_id -> Text,
            status -> Text,
            version -> Integer,
            route -> Text,
            route_reason -> Text,
            urgency -> Text,
            awarded_provider -> Nullable<Text>,
            created_by -> Text,
            created_at -> Timestamp,
            updated_at -> Timestamp,
            status_reason -> Nullable<Text>,
            competition_id -> Nullable<Text>,
            competition_at -> Nullable<Timestamp>,
        }
    }
    diesel::table! {
        referral_versions (referral_id, version) {
            referral_id -> Text,
            version -> Integer,
            document -> Text,
            created_by -> Text,
            created_by_org -> Text,
            created_at -> Timestamp,
            route -> Text,
            route_reason -> Text,
            kind -> Text,
        }
    }
    diesel::table! {
        referral_invitations (referral_id, provider_id) {
            referral_id -> Text,
            provider_id -> Text,
            competition_id -> Text,
            version -> Integer,
            invited_at -> Timestamp,
        }
    }
    diesel::table! {
        referral_reads (id) {
            id -> Text,
            referral_id -> Text,
            version -> Integer,
            reader_sub -> Text,
            reader_org -> Text,
            view -> Text,
            read_at -> Timestamp,
        }
    }
    diesel::table! {
        referral_history (id) {
            id -> Text,
            referral_id -> Text,
            at -> Timestamp,
            action -> Text,
            from_status -> Text,
            to_status -> Text,
            version -> Integer,
            actor -> Text,
            actor_org -> Text,
            detail -> Nullable<Text>,
        }
    }
    diesel::table! {
        known_frameworks (id) {
            id -> Text,
            partnership -> Text,
            purchasing_bodies -> Text,
            lot_ids -> Text,
            as_of -> Timestamp,
        }
    }
    diesel::joinable!(referral_versions -> referrals (referral_id));
    diesel::allow_tables_to_appear_in_same_query!(
        known_frameworks,
        referrals,
        referral_versions,
        referral_invitations,
        referral_reads,
        referral_history
    );
}

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::{
    prelude::*,
    sql_types::{Integer, Text, Timestamp},
};
use hub_events::Urgency;
use hub_platform::{
    Json,
    db::{DbConnection, DbError, rows_per_statement, values_rows},
};
use schema::*;

use crate::domain::{
    Action, HistoryEntry, KnownFramework, Read, Referral, ReferralDocument, Route, Status,
    Transition, Version, VersionKind, View,
};
use crate::ids::{CompetitionId, FrameworkId, LotId, ReadId, ReferralId, TransitionId};

/// The events crate's [`Urgency`] as its code (serde's name) in a `TEXT` column.
#[derive(Debug, Clone, Copy, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = Text)]
struct UrgencyCode(Urgency);
hub_platform::sql_text!(UrgencyCode);

impl std::fmt::Display for UrgencyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match serde_json::to_value(self.0) {
            Ok(serde_json::Value::String(code)) => f.write_str(&code),
            _ => Err(std::fmt::Error),
        }
    }
}

impl std::str::FromStr for UrgencyCode {
    type Err = serde_json::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).map(Self)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = referrals)]
struct ReferralRow {
    id: ReferralId,
    council: String,
    partnership: String,
    framework_id: FrameworkId,
    lot_id: LotId,
    status: Status,
    version: i32,
    route: Route,
    route_reason: String,
    urgency: UrgencyCode,
    awarded_provider: Option<String>,
    created_by: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    status_reason: Option<String>,
    competition_id: Option<CompetitionId>,
    competition_at: Option<NaiveDateTime>,
}

impl From<ReferralRow> for Referral {
    fn from(r: ReferralRow) -> Self {
        Self {
            id: r.id,
            council: r.council,
            partnership: r.partnership,
            framework_id: r.framework_id,
            lot_id: r.lot_id,
            status: r.status,
            version: r.version,
            route: r.route,
            route_reason: r.route_reason,
            urgency: r.urgency.0,
            awarded_provider: r.awarded_provider,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            status_reason: r.status_reason,
            competition_id: r.competition_id,
            competition_at: r.competition_at,
        }
    }
}

impl From<&Referral> for ReferralRow {
    fn from(r: &Referral) -> Self {
        Self {
            id: r.id,
            council: r.council.clone(),
            partnership: r.partnership.clone(),
            framework_id: r.framework_id,
            lot_id: r.lot_id,
            status: r.status,
            version: r.version,
            route: r.route,
            route_reason: r.route_reason.clone(),
            urgency: UrgencyCode(r.urgency),
            awarded_provider: r.awarded_provider.clone(),
            created_by: r.created_by.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            status_reason: r.status_reason.clone(),
            competition_id: r.competition_id,
            competition_at: r.competition_at,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = referral_versions)]
struct VersionRow {
    referral_id: ReferralId,
    version: i32,
    document: Json<ReferralDocument>,
    created_by: String,
    created_by_org: String,
    created_at: NaiveDateTime,
    route: Route,
    route_reason: String,
    kind: VersionKind,
}

impl From<VersionRow> for Version {
    fn from(v: VersionRow) -> Self {
        Self {
            referral_id: v.referral_id,
            version: v.version,
            document: v.document.0,
            created_by: v.created_by,
            created_by_org: v.created_by_org,
            created_at: v.created_at,
            route: v.route,
            route_reason: v.route_reason,
            kind: v.kind,
        }
    }
}

impl From<&Version> for VersionRow {
    fn from(v: &Version) -> Self {
        Self {
            referral_id: v.referral_id,
            version: v.version,
            document: Json(v.document.clone()),
            created_by: v.created_by.clone(),
            created_by_org: v.created_by_org.clone(),
            created_at: v.created_at,
            route: v.route,
            route_reason: v.route_reason.clone(),
            kind: v.kind,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = referral_reads)]
struct ReadRow {
    id: ReadId,
    referral_id: ReferralId,
    version: i32,
    reader_sub: String,
    reader_org: String,
    view: View,
    read_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = referral_history)]
struct HistoryRow {
    id: TransitionId,
    referral_id: ReferralId,
    at: NaiveDateTime,
    action: Action,
    from_status: Status,
    to_status: Status,
    version: i32,
    actor: String,
    actor_org: String,
    detail: Option<String>,
}

/// A framework as the referral service's replica holds it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = known_frameworks)]
struct KnownFrameworkRow {
    id: FrameworkId,
    partnership: String,
    purchasing_bodies: Json<Vec<String>>,
    lot_ids: Json<Vec<LotId>>,
    as_of: NaiveDateTime,
}

pub fn find(conn: &mut DbConnection, id: ReferralId) -> Result<Option<Referral>, DbError> {
    Ok(referrals::table
        .find(id)
        .select(ReferralRow::as_select())
        .first(conn)
        .optional()?
        .map(Referral::from))
}

/// Writes a new referral and its first version.
pub fn insert(conn: &mut DbConnection, r: &Referral, first: &Version) -> Result<(), DbError> {
    diesel::insert_into(referrals::table)
        .values(ReferralRow::from(r))
        .execute(conn)?;
    add_version(conn, first)
}

/// Writes what the council changes of a referral: its status, version, route, framework and
/// lot, and why.
pub fn save(conn: &mut DbConnection, r: &Referral) -> Result<(), DbError> {
    diesel::update(referrals::table.find(r.id))
        .set((
            referrals::status.eq(r.status),
            referrals::version.eq(r.version),
            referrals::framework_id.eq(r.framework_id),
            referrals::lot_id.eq(r.lot_id),
            referrals::route.eq(r.route),
            referrals::route_reason.eq(&r.route_reason),
            referrals::urgency.eq(UrgencyCode(r.urgency)),
            referrals::status_reason.eq(&r.status_reason),
            referrals::updated_at.eq(r.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Writes what another service's event changes of a referral: its status and why, and the
/// competition it is in, when that happened and who won it.
pub fn save_progress(conn: &mut DbConnection, r: &Referral) -> Result<(), DbError> {
    diesel::update(referrals::table.find(r.id))
        .set((
            referrals::status.eq(r.status),
            referrals::updated_at.eq(r.updated_at),
            referrals::status_reason.eq(&r.status_reason),
            referrals::competition_id.eq(r.competition_id),
            referrals::competition_at.eq(r.competition_at),
            referrals::awarded_provider.eq(&r.awarded_provider),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn version(conn: &mut DbConnection, id: ReferralId, version: i32) -> Result<Version, DbError> {
    Ok(referral_versions::table
        .find((id, version))
        .select(VersionRow::as_select())
        .first(conn)?
        .into())
}

/// Every version of a referral from `from` on, oldest first.
pub fn versions(
    conn: &mut DbConnection,
    id: ReferralId,
    from: i32,
) -> Result<Vec<Version>, DbError> {
    Ok(referral_versions::table
        .filter(referral_versions::referral_id.eq(id))
        .filter(referral_versions::version.ge(from))
        .order(referral_versions::version.asc())
        .select(VersionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Version::from)
        .collect())
}

pub fn add_version(conn: &mut DbConnection, v: &Version) -> Result<(), DbError> {
    diesel::insert_into(referral_versions::table)
        .values(VersionRow::from(v))
        .execute(conn)?;
    Ok(())
}

/// Rewrites a version in place (a draft's document or route).
pub fn replace_version(conn: &mut DbConnection, v: &Version) -> Result<(), DbError> {
    diesel::update(referral_versions::table.find((v.referral_id, v.version)))
        .set((
            referral_versions::document.eq(Json(v.document.clone())),
            referral_versions::created_by.eq(&v.created_by),
            referral_versions::created_by_org.eq(&v.created_by_org),
            referral_versions::created_at.eq(v.created_at),
            referral_versions::route.eq(v.route),
            referral_versions::route_reason.eq(&v.route_reason),
        ))
        .execute(conn)?;
    Ok(())
}

/// A council's referrals, newest first, optionally of one status.
pub fn of_council(
    conn: &mut DbConnection,
    council: &str,
    status: Option<Status>,
    limit: i64,
) -> Result<Vec<Referral>, DbError> {
    let mut q = referrals::table
        .filter(referrals::council.eq(council))
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(referrals::status.eq(s));
    }
    Ok(
        q.order((referrals::created_at.desc(), referrals::id.desc()))
            .limit(limit)
            .select(ReferralRow::as_select())
            .load(conn)?
            .into_iter()
            .map(Referral::from)
            .collect(),
    )
}

/// Records that `providers` were invited to bid on version `version` in `competition_id`
/// (one statement for all of them). A provider invited again (a later competition for the
/// same referral) is then invited on the later version.
pub fn invite(
    conn: &mut DbConnection,
    referral_id: ReferralId,
    providers: &[String],
    competition_id: CompetitionId,
    version: i32,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    const COLUMNS: usize = 5;
    // One row per provider: a statement may not update the same row twice.
    let providers: Vec<&String> = providers
        .iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for chunk in providers.chunks(rows_per_statement(COLUMNS)) {
        let mut q = diesel::sql_query(format!(
            "INSERT INTO referral_invitations (referral_id, provider_id, competition_id, version, invited_at) \
             VALUES {} ON CONFLICT (referral_id, provider_id) DO UPDATE SET \
             competition_id = excluded.competition_id, version = excluded.version, invited_at = excluded.invited_at",
            values_rows(1, chunk.len(), COLUMNS)
        ))
        .into_boxed();
        for provider in chunk {
            q = q
                .bind::<Text, _>(referral_id)
                .bind::<Text, _>((*provider).clone())
                .bind::<Text, _>(competition_id)
                .bind::<Integer, _>(version)
                .bind::<Timestamp, _>(at);
        }
        q.execute(conn)?;
    }
    Ok(())
}

/// The version a provider was invited on, if it was invited.
pub fn invitation(
    conn: &mut DbConnection,
    id: ReferralId,
    provider: &str,
) -> Result<Option<i32>, DbError> {
    Ok(referral_invitations::table
        .find((id, provider))
        .select(referral_invitations::version)
        .first(conn)
        .optional()?)
}

pub fn record(
    conn: &mut DbConnection,
    referral_id: ReferralId,
    at: NaiveDateTime,
    t: Transition,
) -> Result<(), DbError> {
    diesel::insert_into(referral_history::table)
        .values(&HistoryRow {
            id: TransitionId::new(),
            referral_id,
            at,
            action: t.action,
            from_status: t.from,
            to_status: t.to,
            version: t.version,
            actor: t.actor,
            actor_org: t.actor_org,
            detail: t.detail,
        })
        .execute(conn)?;
    Ok(())
}

/// Every transition of a referral, oldest first.
pub fn history(
    conn: &mut DbConnection,
    referral_id: ReferralId,
) -> Result<Vec<HistoryEntry>, DbError> {
    Ok(referral_history::table
        .filter(referral_history::referral_id.eq(referral_id))
        .order((referral_history::at.asc(), referral_history::id.asc()))
        .select(HistoryRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|h| HistoryEntry {
            id: h.id,
            referral_id: h.referral_id,
            at: h.at,
            transition: Transition {
                action: h.action,
                from: h.from_status,
                to: h.to_status,
                version: h.version,
                actor: h.actor,
                actor_org: h.actor_org,
                detail: h.detail,
            },
        })
        .collect())
}

/// Logs a read.
pub fn log_read(conn: &mut DbConnection, r: &Read) -> Result<(), DbError> {
    diesel::insert_into(referral_reads::table)
        .values(&ReadRow {
            id: r.id,
            referral_id: r.referral_id,
            version: r.version,
            reader_sub: r.reader_sub.clone(),
            reader_org: r.reader_org.clone(),
            view: r.view,
            read_at: r.read_at,
        })
        .execute(conn)?;
    Ok(())
}

/// Every logged read of a referral, oldest first.
pub fn reads(conn: &mut DbConnection, referral_id: ReferralId) -> Result<Vec<Read>, DbError> {
    Ok(referral_reads::table
        .filter(referral_reads::referral_id.eq(referral_id))
        .order((referral_reads::read_at.asc(), referral_reads::id.asc()))
        .select(ReadRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| Read {
            id: r.id,
            referral_id: r.referral_id,
            version: r.version,
            reader_sub: r.reader_sub,
            reader_org: r.reader_org,
            view: r.view,
            read_at: r.read_at,
        })
        .collect())
}

/// The replica of framework `id`, if the competition service has published it.
pub fn known_framework(
    conn: &mut DbConnection,
    id: FrameworkId,
) -> Result<Option<KnownFramework>, DbError> {
    Ok(known_frameworks::table
        .find(id)
        .select(KnownFrameworkRow::as_select())
        .first(conn)
        .optional()?
        .map(|r| KnownFramework {
            partnership: r.partnership,
            purchasing_bodies: r.purchasing_bodies.0,
            lot_ids: r.lot_ids.0,
        }))
}

/// Keeps framework `id` as published at `as_of`, unless the replica already holds a newer
/// publication of it.
pub fn keep_framework(
    conn: &mut DbConnection,
    id: FrameworkId,
    framework: KnownFramework,
    as_of: NaiveDateTime,
) -> Result<(), DbError> {
    let row = KnownFrameworkRow {
        id,
        partnership: framework.partnership,
        purchasing_bodies: Json(framework.purchasing_bodies),
        lot_ids: Json(framework.lot_ids),
        as_of,
    };
    let held: Option<NaiveDateTime> = known_frameworks::table
        .find(id)
        .select(known_frameworks::as_of)
        .first(conn)
        .optional()?;
    match held {
        None => {
            diesel::insert_into(known_frameworks::table)
                .values(&row)
                .execute(conn)?;
        }
        Some(at) if at <= row.as_of => {
            diesel::update(known_frameworks::table.find(id))
                .set(&row)
                .execute(conn)?;
        }
        Some(_) => {
            tracing::info!(framework_id = %id, "older framework publication; replica unchanged")
        }
    }
    Ok(())
}
