//! Placements.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hub_platform::{
    Pence, Principal,
    db::{DbConnection, DbError},
};

use super::Visible;
use crate::schema::placements;
use crate::{
    domain::{PlacementStatus, may_see, placements::EndReason},
    ids::{BlockContractId, HomeId, OrderId, PlacementId, ReferralId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = placements)]
pub struct PlacementRow {
    pub id: PlacementId,
    pub order_id: Option<OrderId>,
    pub referral_id: ReferralId,
    pub council: String,
    pub partnership: String,
    pub provider_id: String,
    /// The core weekly fee now agreed (the order's or block's, then the latest approved IPA's).
    pub weekly_rate_pence: Pence,
    pub start_date: NaiveDate,
    pub status: PlacementStatus,
    pub created_by: String,
    pub created_by_org: String,
    pub created_at: NaiveDateTime,
    pub extras_weekly_pence: Pence,
    /// From when `weekly_rate_pence` and `extras_weekly_pence` apply (None: from the start).
    pub rate_effective_from: Option<NaiveDate>,
    pub block_contract_id: Option<BlockContractId>,
    pub bed: Option<i32>,
    pub home_id: Option<HomeId>,
    pub home_latitude: Option<f64>,
    pub home_longitude: Option<f64>,
    pub end_date: Option<NaiveDate>,
    pub end_reason: Option<EndReason>,
    pub end_note: Option<String>,
    pub ended_by: Option<String>,
    pub ended_at: Option<NaiveDateTime>,
}

impl PlacementRow {
    pub fn is_active(&self) -> bool {
        self.status == PlacementStatus::Active
    }

    /// The block bed the child is in, if any.
    pub fn block_bed(&self) -> Option<(BlockContractId, u16)> {
        match (self.block_contract_id, self.bed) {
            (Some(c), Some(b)) => Some((c, u16::try_from(b).ok()?)),
            _ => None,
        }
    }
}

/// Its council's staff and its provider (as the order it is made under).
impl Visible for PlacementRow {
    const WHAT: &'static str = "placement";

    fn visible_to(&self, who: &Principal) -> bool {
        may_see(who, &self.council, &self.provider_id)
    }
}

pub fn insert(conn: &mut DbConnection, row: &PlacementRow) -> Result<(), DbError> {
    diesel::insert_into(placements::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find_placement(
    conn: &mut DbConnection,
    id: PlacementId,
) -> Result<Option<PlacementRow>, DbError> {
    Ok(placements::table
        .find(id)
        .select(PlacementRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn placement_for_order(
    conn: &mut DbConnection,
    order_id: OrderId,
) -> Result<Option<PlacementRow>, DbError> {
    Ok(placements::table
        .filter(placements::order_id.eq(order_id))
        .select(PlacementRow::as_select())
        .first(conn)
        .optional()?)
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

/// Placements of `council` (or of the provider `provider_id`), newest first.
pub fn list(
    conn: &mut DbConnection,
    council: Option<&str>,
    provider_id: Option<&str>,
    referral_id: Option<&str>,
    status: Option<PlacementStatus>,
) -> Result<Vec<PlacementRow>, DbError> {
    let mut q = placements::table.into_boxed();
    if let Some(c) = council {
        q = q.filter(placements::council.eq(c.to_owned()));
    }
    if let Some(p) = provider_id {
        q = q.filter(placements::provider_id.eq(p.to_owned()));
    }
    if let Some(r) = referral_id {
        q = q.filter(placements::referral_id.eq(r.to_owned()));
    }
    if let Some(s) = status {
        q = q.filter(placements::status.eq(s));
    }
    Ok(q.order(placements::created_at.desc())
        .limit(500)
        .select(PlacementRow::as_select())
        .load(conn)?)
}

/// Every placement of `council` (for its stability figures).
pub fn of_council(conn: &mut DbConnection, council: &str) -> Result<Vec<PlacementRow>, DbError> {
    Ok(placements::table
        .filter(placements::council.eq(council))
        .order((placements::referral_id.asc(), placements::start_date.asc()))
        .select(PlacementRow::as_select())
        .load(conn)?)
}
