//! Tables and queries of the referral service.

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
use hub_platform::db::{DbConnection, DbError, rows_per_statement, values_rows};
use schema::*;
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = referrals)]
pub struct ReferralRow {
    pub id: String,
    pub council: String,
    pub partnership: String,
    pub framework_id: String,
    pub lot_id: String,
    pub status: String,
    pub version: i32,
    pub route: String,
    pub route_reason: String,
    pub urgency: String,
    pub awarded_provider: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Why the status last changed (council staff only).
    pub status_reason: Option<String>,
    /// The competition (or direct award) the referral is in or was last in.
    pub competition_id: Option<String>,
    /// When the last competition event applied to it happened.
    pub competition_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = referral_versions)]
pub struct VersionRow {
    pub referral_id: String,
    pub version: i32,
    pub document: String,
    pub created_by: String,
    pub created_by_org: String,
    pub created_at: NaiveDateTime,
    pub route: String,
    pub route_reason: String,
    /// `created`, `document` or `route`.
    pub kind: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = referral_reads)]
pub struct ReadRow {
    pub id: String,
    pub referral_id: String,
    pub version: i32,
    pub reader_sub: String,
    pub reader_org: String,
    pub view: String,
    #[schema(value_type = String, format = DateTime)]
    pub read_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<ReferralRow>, DbError> {
    Ok(referrals::table
        .find(id)
        .select(ReferralRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn version(conn: &mut DbConnection, id: &str, version: i32) -> Result<VersionRow, DbError> {
    Ok(referral_versions::table
        .find((id, version))
        .select(VersionRow::as_select())
        .first(conn)?)
}

/// Every version of a referral from `from` on, oldest first.
pub fn versions(conn: &mut DbConnection, id: &str, from: i32) -> Result<Vec<VersionRow>, DbError> {
    Ok(referral_versions::table
        .filter(referral_versions::referral_id.eq(id))
        .filter(referral_versions::version.ge(from))
        .order(referral_versions::version.asc())
        .select(VersionRow::as_select())
        .load(conn)?)
}

/// A council's referrals, newest first, optionally of one status.
pub fn of_council(
    conn: &mut DbConnection,
    council: &str,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<ReferralRow>, DbError> {
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
            .load(conn)?,
    )
}

/// Records that `providers` were invited to bid on version `version` in `competition_id`
/// (one statement for all of them). A provider invited again (a later competition for the
/// same referral) is then invited on the later version.
pub fn invite(
    conn: &mut DbConnection,
    referral_id: &str,
    providers: &[String],
    competition_id: &str,
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
                .bind::<Text, _>(referral_id.to_owned())
                .bind::<Text, _>((*provider).clone())
                .bind::<Text, _>(competition_id.to_owned())
                .bind::<Integer, _>(version)
                .bind::<Timestamp, _>(at);
        }
        q.execute(conn)?;
    }
    Ok(())
}

/// One transition of a referral.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = referral_history)]
pub struct HistoryRow {
    #[serde(skip)]
    pub id: String,
    #[serde(skip)]
    pub referral_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: NaiveDateTime,
    /// `created`, `submitted`, `updated`, `rerouted`, `resubmitted`, `withdrawn`, `closed`,
    /// `competition_opened`, `competition_closed`, `awarded`, `placed`.
    pub action: String,
    pub from_status: String,
    pub to_status: String,
    pub version: i32,
    /// The user, or the service whose event caused it.
    pub actor: String,
    pub actor_org: String,
    pub detail: Option<String>,
}

/// A transition to record.
pub struct Transition<'a> {
    pub action: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub version: i32,
    pub actor: &'a str,
    pub actor_org: &'a str,
    pub detail: Option<String>,
}

pub fn record(
    conn: &mut DbConnection,
    referral_id: &str,
    at: NaiveDateTime,
    t: Transition<'_>,
) -> Result<(), DbError> {
    diesel::insert_into(referral_history::table)
        .values(&HistoryRow {
            id: Uuid::now_v7().to_string(),
            referral_id: referral_id.to_owned(),
            at,
            action: t.action.to_owned(),
            from_status: t.from.to_owned(),
            to_status: t.to.to_owned(),
            version: t.version,
            actor: t.actor.to_owned(),
            actor_org: t.actor_org.to_owned(),
            detail: t.detail,
        })
        .execute(conn)?;
    Ok(())
}

pub fn history(conn: &mut DbConnection, referral_id: &str) -> Result<Vec<HistoryRow>, DbError> {
    Ok(referral_history::table
        .filter(referral_history::referral_id.eq(referral_id))
        .order((referral_history::at.asc(), referral_history::id.asc()))
        .select(HistoryRow::as_select())
        .load(conn)?)
}

/// The version a provider was invited on, if it was invited.
pub fn invitation(
    conn: &mut DbConnection,
    id: &str,
    provider: &str,
) -> Result<Option<i32>, DbError> {
    Ok(referral_invitations::table
        .find((id, provider))
        .select(referral_invitations::version)
        .first(conn)
        .optional()?)
}

/// A framework as the referral service's replica holds it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = known_frameworks)]
pub struct KnownFrameworkRow {
    pub id: String,
    pub partnership: String,
    /// JSON array of GSS codes.
    pub purchasing_bodies: String,
    /// JSON array of lot ids.
    pub lot_ids: String,
    pub as_of: NaiveDateTime,
}

impl KnownFrameworkRow {
    pub fn framework(&self) -> Result<crate::domain::KnownFramework, DbError> {
        let parse = |s: &str| -> Result<Vec<String>, DbError> {
            serde_json::from_str(s)
                .map_err(|e| DbError::Other(anyhow::anyhow!("stored framework replica: {e}")))
        };
        Ok(crate::domain::KnownFramework {
            partnership: self.partnership.clone(),
            purchasing_bodies: parse(&self.purchasing_bodies)?,
            lot_ids: parse(&self.lot_ids)?,
        })
    }
}

/// The replica of framework `id`, if the competition service has published it.
pub fn known_framework(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<crate::domain::KnownFramework>, DbError> {
    known_frameworks::table
        .find(id)
        .select(KnownFrameworkRow::as_select())
        .first(conn)
        .optional()?
        .map(|r| r.framework())
        .transpose()
}

/// Keeps `row` unless the replica already holds a newer publication of the framework.
pub fn keep_framework(conn: &mut DbConnection, row: &KnownFrameworkRow) -> Result<(), DbError> {
    let held: Option<NaiveDateTime> = known_frameworks::table
        .find(&row.id)
        .select(known_frameworks::as_of)
        .first(conn)
        .optional()?;
    match held {
        None => {
            diesel::insert_into(known_frameworks::table)
                .values(row)
                .execute(conn)?;
        }
        Some(at) if at <= row.as_of => {
            diesel::update(known_frameworks::table.find(&row.id))
                .set(row)
                .execute(conn)?;
        }
        Some(_) => {
            tracing::info!(framework_id = %row.id, "older framework publication; replica unchanged")
        }
    }
    Ok(())
}
