//! Referrals, their versions and who was invited on which version.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::{
    prelude::*,
    sql_types::{Integer, Text, Timestamp},
};
use hub_platform::{
    Json,
    db::{DbConnection, DbError, rows_per_statement, values_rows},
};

use hub_platform::{Code, Problem};

use super::rows::{ReferralRow, VersionRow};
use crate::domain::{Referral, ReferralStatus, Version};
use crate::ids::{CompetitionId, ReferralId};
use crate::schema::*;

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
/// lot, and why. Compare-and-set on the revision `r` was read at, which it raises: 412 if the
/// referral changed since (another write committed first), so two writes from one read
/// cannot both win.
pub fn save(conn: &mut DbConnection, r: &mut Referral) -> Result<(), DbError> {
    let saved = diesel::update(
        referrals::table
            .find(r.id)
            .filter(referrals::revision.eq(r.revision)),
    )
    .set((
        referrals::status.eq(r.status),
        referrals::version.eq(r.version),
        referrals::framework_id.eq(r.framework_id),
        referrals::lot_id.eq(r.lot_id),
        referrals::route.eq(r.route),
        referrals::route_reason.eq(&r.route_reason),
        referrals::urgency.eq(Code(r.urgency)),
        referrals::status_reason.eq(&r.status_reason),
        referrals::updated_at.eq(r.updated_at),
        referrals::revision.eq(r.revision + 1),
    ))
    .execute(conn)?;
    if saved == 0 {
        return Err(Problem::precondition_failed("referral").into());
    }
    r.revision += 1;
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
            // A change the council did not make still changes what it read.
            referrals::revision.eq(referrals::revision + 1),
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

/// Versions of a referral from `from` on, oldest first: at most `limit`, after version
/// `after` (a page's keyset).
pub fn versions(
    conn: &mut DbConnection,
    id: ReferralId,
    from: i32,
    after: Option<i32>,
    limit: i64,
) -> Result<Vec<Version>, DbError> {
    Ok(referral_versions::table
        .filter(referral_versions::referral_id.eq(id))
        .filter(referral_versions::version.ge(from))
        .filter(referral_versions::version.gt(after.unwrap_or(0)))
        .order(referral_versions::version.asc())
        .limit(limit)
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

/// A council's referrals, newest first (by their UUIDv7 ids), optionally of one status: at
/// most `limit`, older than `after` (a page's keyset).
pub fn of_council(
    conn: &mut DbConnection,
    council: &str,
    status: Option<ReferralStatus>,
    after: Option<ReferralId>,
    limit: i64,
) -> Result<Vec<Referral>, DbError> {
    let mut q = referrals::table
        .filter(referrals::council.eq(council))
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(referrals::status.eq(s));
    }
    if let Some(after) = after {
        q = q.filter(referrals::id.lt(after));
    }
    Ok(q.order(referrals::id.desc())
        .limit(limit)
        .select(ReferralRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Referral::from)
        .collect())
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
