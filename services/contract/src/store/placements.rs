//! Placements.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hub_platform::{
    Pence, Principal,
    db::{DbConnection, DbError},
};

use crate::schema::placements;
use crate::{
    domain::{Placement, PlacementStatus, if_visible, placements::EndReason},
    ids::{BlockContractId, HomeId, OrderId, PlacementId, ReferralId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = placements)]
struct PlacementRow {
    id: PlacementId,
    order_id: Option<OrderId>,
    referral_id: ReferralId,
    council: String,
    partnership: String,
    provider_id: String,
    weekly_rate_pence: Pence,
    start_date: NaiveDate,
    status: PlacementStatus,
    created_by: String,
    created_by_org: String,
    created_at: NaiveDateTime,
    extras_weekly_pence: Pence,
    rate_effective_from: Option<NaiveDate>,
    block_contract_id: Option<BlockContractId>,
    bed: Option<i32>,
    home_id: Option<HomeId>,
    home_latitude: Option<f64>,
    home_longitude: Option<f64>,
    end_date: Option<NaiveDate>,
    end_reason: Option<EndReason>,
    end_note: Option<String>,
    ended_by: Option<String>,
    ended_at: Option<NaiveDateTime>,
}

impl From<PlacementRow> for Placement {
    fn from(r: PlacementRow) -> Self {
        Self {
            id: r.id,
            order_id: r.order_id,
            referral_id: r.referral_id,
            council: r.council,
            partnership: r.partnership,
            provider_id: r.provider_id,
            weekly_rate_pence: r.weekly_rate_pence,
            start_date: r.start_date,
            status: r.status,
            created_by: r.created_by,
            created_by_org: r.created_by_org,
            created_at: r.created_at,
            extras_weekly_pence: r.extras_weekly_pence,
            rate_effective_from: r.rate_effective_from,
            block_contract_id: r.block_contract_id,
            bed: r.bed,
            home_id: r.home_id,
            home_latitude: r.home_latitude,
            home_longitude: r.home_longitude,
            end_date: r.end_date,
            end_reason: r.end_reason,
            end_note: r.end_note,
            ended_by: r.ended_by,
            ended_at: r.ended_at,
        }
    }
}

impl From<&Placement> for PlacementRow {
    fn from(p: &Placement) -> Self {
        let p = p.clone();
        Self {
            id: p.id,
            order_id: p.order_id,
            referral_id: p.referral_id,
            council: p.council,
            partnership: p.partnership,
            provider_id: p.provider_id,
            weekly_rate_pence: p.weekly_rate_pence,
            start_date: p.start_date,
            status: p.status,
            created_by: p.created_by,
            created_by_org: p.created_by_org,
            created_at: p.created_at,
            extras_weekly_pence: p.extras_weekly_pence,
            rate_effective_from: p.rate_effective_from,
            block_contract_id: p.block_contract_id,
            bed: p.bed,
            home_id: p.home_id,
            home_latitude: p.home_latitude,
            home_longitude: p.home_longitude,
            end_date: p.end_date,
            end_reason: p.end_reason,
            end_note: p.end_note,
            ended_by: p.ended_by,
            ended_at: p.ended_at,
        }
    }
}

fn placements_of(rows: Vec<PlacementRow>) -> Vec<Placement> {
    rows.into_iter().map(Placement::from).collect()
}

pub fn insert(conn: &mut DbConnection, placement: &Placement) -> Result<(), DbError> {
    diesel::insert_into(placements::table)
        .values(PlacementRow::from(placement))
        .execute(conn)?;
    Ok(())
}

pub fn find_placement(
    conn: &mut DbConnection,
    id: PlacementId,
) -> Result<Option<Placement>, DbError> {
    Ok(placements::table
        .find(id)
        .select(PlacementRow::as_select())
        .first(conn)
        .optional()?
        .map(Placement::from))
}

/// The placement if `who` may see it (its council's staff, its provider); 404 otherwise.
pub fn visible(
    conn: &mut DbConnection,
    who: &Principal,
    id: PlacementId,
) -> Result<Placement, DbError> {
    Ok(if_visible(who, find_placement(conn, id)?)?)
}

pub fn placement_for_order(
    conn: &mut DbConnection,
    order_id: OrderId,
) -> Result<Option<Placement>, DbError> {
    Ok(placements::table
        .filter(placements::order_id.eq(order_id))
        .select(PlacementRow::as_select())
        .first(conn)
        .optional()?
        .map(Placement::from))
}

/// Ends an active placement. False (and nothing changed) unless it was still active: the
/// check is in the UPDATE, so it cannot be ended twice.
pub fn end_placement(
    conn: &mut DbConnection,
    id: PlacementId,
    end_date: NaiveDate,
    reason: EndReason,
    note: Option<&str>,
    by: &str,
    at: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(
        placements::table
            .find(id)
            .filter(placements::status.eq(PlacementStatus::Active)),
    )
    .set((
        placements::status.eq(PlacementStatus::Ended),
        placements::end_date.eq(Some(end_date)),
        placements::end_reason.eq(Some(reason)),
        placements::end_note.eq(note),
        placements::ended_by.eq(Some(by)),
        placements::ended_at.eq(Some(at)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Which placements a list asks for (each filter only when set).
#[derive(Debug, Clone, Default)]
pub struct PlacementFilter<'a> {
    pub council: Option<&'a str>,
    pub provider_id: Option<&'a str>,
    pub referral_id: Option<String>,
    pub status: Option<PlacementStatus>,
}

/// Placements of `council` (or of the provider `provider_id`), newest first (by id: UUIDv7
/// ids sort by creation), after the placement `after` (a page's key), at most `limit`.
pub fn list(
    conn: &mut DbConnection,
    filter: PlacementFilter<'_>,
    after: Option<PlacementId>,
    limit: i64,
) -> Result<Vec<Placement>, DbError> {
    let PlacementFilter {
        council,
        provider_id,
        referral_id,
        status,
    } = filter;
    let mut q = placements::table.into_boxed();
    if let Some(after) = after {
        q = q.filter(placements::id.lt(after));
    }
    if let Some(c) = council {
        q = q.filter(placements::council.eq(c.to_owned()));
    }
    if let Some(p) = provider_id {
        q = q.filter(placements::provider_id.eq(p.to_owned()));
    }
    if let Some(r) = referral_id {
        q = q.filter(placements::referral_id.eq(r));
    }
    if let Some(s) = status {
        q = q.filter(placements::status.eq(s));
    }
    Ok(placements_of(
        q.order(placements::id.desc())
            .limit(limit)
            .select(PlacementRow::as_select())
            .load(conn)?,
    ))
}

/// Every placement of `council` (for its stability figures).
pub fn of_council(conn: &mut DbConnection, council: &str) -> Result<Vec<Placement>, DbError> {
    Ok(placements_of(
        placements::table
            .filter(placements::council.eq(council))
            .order((placements::referral_id.asc(), placements::start_date.asc()))
            .select(PlacementRow::as_select())
            .load(conn)?,
    ))
}
