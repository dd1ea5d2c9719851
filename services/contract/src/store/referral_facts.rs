//! The contract service's replica of referral facts (see the migration
//! `referral_facts` and `domain::placements::block_bed_referral`): what it needs to know
//! that a block-bed placement names a real referral the placing council may place.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hub_platform::{
    Problem,
    db::{DbConnection, DbError},
};

use crate::schema::{placements, referral_facts};
use crate::{
    domain::{
        PlacementStatus,
        placements::{ReferralFacts, ReferralRefusal, block_bed_referral},
    },
    ids::{CompetitionId, ReferralId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = referral_facts)]
struct ReferralFactRow {
    referral_id: ReferralId,
    council: String,
    partnership: String,
    withdrawn: bool,
    closed: bool,
    competition_id: Option<CompetitionId>,
    competition_open: bool,
    /// `occurred_at` of the last competition event applied.
    competition_at: Option<NaiveDateTime>,
    updated_at: NaiveDateTime,
}

fn find(conn: &mut DbConnection, id: ReferralId) -> Result<Option<ReferralFactRow>, DbError> {
    Ok(referral_facts::table
        .find(id)
        .select(ReferralFactRow::as_select())
        .first(conn)
        .optional()?)
}

/// The referral is known from now on: all `referral.submitted` does, first or again (after a
/// re-route); see [`seen_row`].
pub fn seen(
    conn: &mut DbConnection,
    id: ReferralId,
    council: &str,
    partnership: &str,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    seen_row(conn, id, council, partnership, now).map(drop)
}

/// The referral's row, inserted from the event's facts if this is the first event seen
/// about it (each event consumed is about a submitted referral). A concurrent first insert
/// fails on the key and the event is retried.
fn seen_row(
    conn: &mut DbConnection,
    id: ReferralId,
    council: &str,
    partnership: &str,
    now: NaiveDateTime,
) -> Result<ReferralFactRow, DbError> {
    if let Some(row) = find(conn, id)? {
        return Ok(row);
    }
    let row = ReferralFactRow {
        referral_id: id,
        council: council.to_owned(),
        partnership: partnership.to_owned(),
        withdrawn: false,
        closed: false,
        competition_id: None,
        competition_open: false,
        competition_at: None,
        updated_at: now,
    };
    diesel::insert_into(referral_facts::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

/// `referral.withdrawn` or `referral.closed`: for good, whenever it arrives.
pub fn ended(
    conn: &mut DbConnection,
    id: ReferralId,
    council: &str,
    partnership: &str,
    how: Ended,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    seen_row(conn, id, council, partnership, now)?;
    let target = referral_facts::table.find(id);
    match how {
        Ended::Withdrawn => diesel::update(target)
            .set((
                referral_facts::withdrawn.eq(true),
                referral_facts::updated_at.eq(now),
            ))
            .execute(conn)?,
        Ended::Closed => diesel::update(target)
            .set((
                referral_facts::closed.eq(true),
                referral_facts::updated_at.eq(now),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// How a referral's life ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Withdrawn,
    Closed,
}

/// What a competition event says of the referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompetitionFact {
    Opened,
    /// Closed without an award: only the competition the referral is in.
    Closed,
    Awarded,
}

/// Which referral an event is about, whose, and in which partnership (the envelope's).
pub struct About<'a> {
    pub referral: ReferralId,
    pub council: &'a str,
    pub partnership: &'a str,
}

/// A competition event that happened `at` for the referral: applied unless an event later
/// than it was applied already (it arrived late, after a retry); a close of a competition
/// other than the one the referral is in changes nothing.
pub fn competition(
    conn: &mut DbConnection,
    about: &About<'_>,
    competition_id: CompetitionId,
    fact: CompetitionFact,
    at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let id = about.referral;
    let row = seen_row(conn, id, about.council, about.partnership, now)?;
    if row.competition_at.is_some_and(|last| at < last) {
        return Ok(());
    }
    let other = row.competition_id.is_some_and(|c| c != competition_id);
    if fact == CompetitionFact::Closed && other {
        return Ok(());
    }
    diesel::update(referral_facts::table.find(id))
        .set((
            referral_facts::competition_id.eq(Some(competition_id)),
            referral_facts::competition_open.eq(fact == CompetitionFact::Opened),
            referral_facts::competition_at.eq(Some(at)),
            referral_facts::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Whether `council` may place the child of referral `id` in a block bed of `partnership`
/// (see [`block_bed_referral`]), from the replica and the service's own placements: 404
/// `referral`, or 422 naming `/referral_id`, when not.
pub fn check_block_bed(
    conn: &mut DbConnection,
    id: ReferralId,
    council: &str,
    partnership: &str,
) -> Result<(), DbError> {
    let row = find(conn, id)?;
    let placed = diesel::select(diesel::dsl::exists(
        placements::table
            .filter(placements::referral_id.eq(id))
            .filter(placements::status.eq(PlacementStatus::Active)),
    ))
    .get_result::<bool>(conn)?;
    let facts = row.as_ref().map(|r| ReferralFacts {
        council: &r.council,
        partnership: &r.partnership,
        withdrawn: r.withdrawn,
        closed: r.closed,
        in_competition: r.competition_open,
        placed,
    });
    block_bed_referral(facts.as_ref(), council, partnership).map_err(|refusal| {
        match refusal {
            ReferralRefusal::NotFound => Problem::not_found("referral"),
            ReferralRefusal::Invalid(e) => Problem::validation(vec![e]),
        }
        .into()
    })
}
