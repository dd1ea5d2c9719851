//! What is kept of each referral besides itself: its history and the log of its reads.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hub_platform::db::{DbConnection, DbError};

use super::rows::{HistoryRow, ReadRow};
use crate::domain::{HistoryEntry, Read, Transition};
use crate::ids::{ReadId, ReferralId, TransitionId};
use crate::schema::*;

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

/// Transitions of a referral, oldest first (by their UUIDv7 ids): at most `limit`, after
/// `after` (a page's keyset).
pub fn history(
    conn: &mut DbConnection,
    referral_id: ReferralId,
    after: Option<TransitionId>,
    limit: i64,
) -> Result<Vec<HistoryEntry>, DbError> {
    let mut q = referral_history::table
        .filter(referral_history::referral_id.eq(referral_id))
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(referral_history::id.gt(after));
    }
    Ok(q.order(referral_history::id.asc())
        .limit(limit)
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

/// Logged reads of a referral, oldest first (by their UUIDv7 ids): at most `limit`, after
/// `after` (a page's keyset).
pub fn reads(
    conn: &mut DbConnection,
    referral_id: ReferralId,
    after: Option<ReadId>,
    limit: i64,
) -> Result<Vec<Read>, DbError> {
    let mut q = referral_reads::table
        .filter(referral_reads::referral_id.eq(referral_id))
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(referral_reads::id.gt(after));
    }
    Ok(q.order(referral_reads::id.asc())
        .limit(limit)
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
