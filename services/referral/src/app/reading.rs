//! Who reads what. The council's commissioners and social workers (and admins, for reading)
//! see everything of their council's referrals; the awarded provider reads every version in
//! full; an invited provider reads the redacted view of the version it was invited on and of
//! later ones; anyone else gets 404, so ids do not leak. Every read of a document is logged.

use chrono::NaiveDateTime;
use hub_platform::{DbConnection, Principal, Problem, Role, db::DbError};

use super::not_found;
use crate::domain::{self, Audience, HistoryEntry, Read, Referral, ReferralStatus, Version};
use crate::ids::{ReadId, ReferralId, TransitionId};
use crate::store;

/// The council roles that read and list referrals.
const COUNCIL_READERS: &[Role] = &[Role::Commissioner, Role::SocialWorker, Role::Admin];

/// Whether the caller reads its council's referrals (and their reads and history).
pub fn council_reader(who: &Principal) -> bool {
    !who.is_provider() && COUNCIL_READERS.iter().any(|r| who.has(*r))
}

/// The caller's council's referrals, newest first, optionally of one status: at most
/// `limit`, older than `after`.
pub fn list(
    conn: &mut DbConnection,
    who: &Principal,
    status: Option<ReferralStatus>,
    after: Option<ReferralId>,
    limit: i64,
) -> Result<Vec<Referral>, DbError> {
    store::of_council(conn, &who.org, status, after, limit)
}

/// Who the caller is to referral `r`, the version it reads by default, and the version it
/// was invited on (an invited provider); 404 for anyone else.
fn audience(
    conn: &mut DbConnection,
    r: &Referral,
    who: &Principal,
) -> Result<(Audience, i32, Option<i32>), DbError> {
    if r.council == who.org && council_reader(who) {
        Ok((Audience::Council, r.version, None))
    } else if who.is_provider() {
        if r.awarded_provider.as_deref() == Some(who.org.as_str()) {
            Ok((Audience::Awarded, r.version, None))
        } else {
            let v = store::invitation(conn, r.id, &who.org)?.ok_or_else(not_found)?;
            Ok((Audience::Invited, v, Some(v)))
        }
    } else {
        Err(not_found().into())
    }
}

/// Reads version `asked` of referral `id` (by default the caller's: see [`audience`]) and
/// logs the read.
pub fn read(
    conn: &mut DbConnection,
    id: ReferralId,
    who: &Principal,
    asked: Option<i32>,
    now: NaiveDateTime,
) -> Result<(Referral, Version, Audience), DbError> {
    let r = store::find(conn, id)?.ok_or_else(not_found)?;
    let (audience, default, invited) = audience(conn, &r, who)?;
    let version = asked.unwrap_or(default);
    let readable =
        audience != Audience::Invited || domain::provider_may_read(version, invited, false);
    if version > r.version || !readable {
        return Err(Problem::not_found("referral version").into());
    }
    let v = store::version(conn, r.id, version)?;
    store::log_read(
        conn,
        &Read {
            id: ReadId::new(),
            referral_id: r.id,
            version,
            reader_sub: who.sub.clone(),
            reader_org: who.org.clone(),
            view: audience.view(),
            read_at: now,
        },
    )?;
    Ok((r, v, audience))
}

/// The versions of referral `id` the caller may know of (without their documents), oldest
/// first, at most `limit` after version `after`; and whether the caller is the council's
/// staff (who see the author and route of each).
pub fn versions(
    conn: &mut DbConnection,
    id: ReferralId,
    who: &Principal,
    after: Option<i32>,
    limit: i64,
) -> Result<(Vec<Version>, bool), DbError> {
    let r = store::find(conn, id)?.ok_or_else(not_found)?;
    let (from, council) = match audience(conn, &r, who)? {
        (Audience::Council, ..) => (1, true),
        (Audience::Awarded, ..) => (1, false),
        (Audience::Invited, invited, _) => (invited, false),
    };
    Ok((store::versions(conn, r.id, from, after, limit)?, council))
}

/// The caller's council's referral `id` if the caller reads it, or 404.
fn council_only(
    conn: &mut DbConnection,
    id: ReferralId,
    who: &Principal,
) -> Result<Referral, DbError> {
    Ok(store::find(conn, id)?
        .filter(|r| r.council == who.org && council_reader(who))
        .ok_or_else(not_found)?)
}

/// Who read which version of referral `id`, in which view, when (the council's staff only),
/// oldest first: at most `limit`, after read `after`.
pub fn reads(
    conn: &mut DbConnection,
    id: ReferralId,
    who: &Principal,
    after: Option<ReadId>,
    limit: i64,
) -> Result<Vec<Read>, DbError> {
    let r = council_only(conn, id, who)?;
    store::reads(conn, r.id, after, limit)
}

/// The transitions of referral `id` (the council's staff only), oldest first: at most
/// `limit`, after transition `after`.
pub fn history(
    conn: &mut DbConnection,
    id: ReferralId,
    who: &Principal,
    after: Option<TransitionId>,
    limit: i64,
) -> Result<Vec<HistoryEntry>, DbError> {
    let r = council_only(conn, id, who)?;
    store::history(conn, r.id, after, limit)
}
