//! Block contracts, their beds and who was in each bed when. The placement code calls
//! [`admit_to_bed`], [`bed_filled`] and [`bed_emptied`] inside its own write transaction;
//! the sweep calls [`sweep`] to offer long voids to partner councils.
//!
//! A bed's row says how it stands now (`placement_id` of the child in it, or `void_from`, the
//! first day of the current void, and `offered_on` once that void was offered); `bed_stays`
//! keeps every stay, which is what savings are counted from. Changes of a bed's state are
//! conditional UPDATEs (`... WHERE placement_id IS NULL`, `... AND offered_on IS NULL`), so
//! two commissioners filling one bed at once, or two replicas sweeping at once, cannot both
//! win: on PostgreSQL the second waits for the first's row lock, then finds the row changed.

use crate::schema::*;
use chrono::{Days, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hub_bus::Events;
use hub_events::{BedFilled, BedOffered, BedVoid, BlockContractExtended, BlockContractLet};
use hub_platform::{
    Pence, Principal, Problem,
    db::{DbConnection, DbError},
    directory,
    sql::Json,
};

use super::{Visible, if_visible, only_visible};
use crate::{
    domain::blocks::{self as rules, BlockTerms, Stay},
    ids::{BlockContractId, ExtensionId, HomeId, LotId, PlacementId, StayId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = block_contracts)]
pub struct BlockContractRow {
    pub id: BlockContractId,
    pub partnership: String,
    pub lead_council: String,
    pub provider_id: String,
    pub description: String,
    pub beds: i32,
    pub block_weekly_rate_pence: Pence,
    pub spot_weekly_rate_pence: Pence,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub term_years: i32,
    pub extension_options: i32,
    pub extension_years: i32,
    pub extensions_used: i32,
    pub void_offer_after_days: i32,
    pub lot_id: Option<LotId>,
    pub home_id: Option<HomeId>,
    pub postcode_district: Option<String>,
    pub let_by: String,
    pub let_at: NaiveDateTime,
}

impl BlockContractRow {
    pub fn terms(&self) -> BlockTerms {
        BlockTerms {
            beds: self.beds as u16,
            block_weekly: self.block_weekly_rate_pence,
            spot_weekly: self.spot_weekly_rate_pence,
            start: self.start_date,
            end: self.end_date,
        }
    }

    pub fn extensions_left(&self) -> u16 {
        (self.extension_options - self.extensions_used).max(0) as u16
    }

    pub fn planned_annual_saving(&self) -> Pence {
        rules::planned_annual_saving(
            self.spot_weekly_rate_pence,
            self.block_weekly_rate_pence,
            self.beds as u16,
        )
    }

    fn is_member(&self, council: &str) -> bool {
        directory::partnership(&self.partnership).is_some_and(|p| p.has_member(council))
    }
}

/// See [`rules::may_see`].
impl Visible for BlockContractRow {
    const WHAT: &'static str = "block contract";

    fn visible_to(&self, who: &Principal) -> bool {
        rules::may_see(who, &self.partnership, &self.provider_id)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = block_beds)]
pub struct BedRow {
    pub block_contract_id: BlockContractId,
    pub bed: i32,
    pub held_for: String,
    pub placement_id: Option<PlacementId>,
    pub void_from: Option<NaiveDate>,
    pub offered_on: Option<NaiveDate>,
    /// The councils the void was offered to.
    pub offered_to: Option<Json<Vec<String>>>,
}

impl BedRow {
    /// The councils the current void is offered to (empty unless an offer stands).
    pub fn offered_to(&self) -> Vec<String> {
        if self.placement_id.is_some() || self.offered_on.is_none() {
            return Vec::new();
        }
        self.offered_to.clone().map(|to| to.0).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = bed_stays)]
pub struct StayRow {
    pub id: StayId,
    pub block_contract_id: BlockContractId,
    pub bed: i32,
    pub placement_id: PlacementId,
    pub council: String,
    pub from_date: NaiveDate,
    pub to_date: Option<NaiveDate>,
}

impl StayRow {
    pub fn stay(&self) -> Stay {
        Stay {
            bed: self.bed as u16,
            from: self.from_date,
            to: self.to_date,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = block_contract_extensions)]
pub struct ExtensionRow {
    pub id: ExtensionId,
    pub block_contract_id: BlockContractId,
    pub previous_end_date: NaiveDate,
    pub new_end_date: NaiveDate,
    pub extended_by: String,
    pub extended_at: NaiveDateTime,
}

pub fn find(
    conn: &mut DbConnection,
    id: BlockContractId,
) -> Result<Option<BlockContractRow>, DbError> {
    Ok(block_contracts::table
        .find(id)
        .select(BlockContractRow::as_select())
        .first(conn)
        .optional()?)
}

/// The block contract if `who` may see it (see [`rules::may_see`]), else 404.
pub fn visible(
    conn: &mut DbConnection,
    who: &Principal,
    id: BlockContractId,
) -> Result<BlockContractRow, DbError> {
    Ok(if_visible(who, find(conn, id)?)?)
}

/// The block contracts `who` may see, newest first.
pub fn list_visible(
    conn: &mut DbConnection,
    who: &Principal,
) -> Result<Vec<BlockContractRow>, DbError> {
    let (partnerships, provider) = rules::listed_for(who);
    let mut q = block_contracts::table.into_boxed();
    if let Some(codes) = partnerships {
        q = q.filter(block_contracts::partnership.eq_any(codes));
    }
    if let Some(p) = provider {
        q = q.filter(block_contracts::provider_id.eq(p));
    }
    let rows: Vec<BlockContractRow> = q
        .order(block_contracts::let_at.desc())
        .limit(500)
        .select(BlockContractRow::as_select())
        .load(conn)?;
    Ok(only_visible(who, rows))
}

pub fn beds(conn: &mut DbConnection, id: BlockContractId) -> Result<Vec<BedRow>, DbError> {
    Ok(block_beds::table
        .filter(block_beds::block_contract_id.eq(id))
        .order(block_beds::bed)
        .select(BedRow::as_select())
        .load(conn)?)
}

fn bed_row(
    conn: &mut DbConnection,
    id: BlockContractId,
    bed: u16,
) -> Result<Option<BedRow>, DbError> {
    Ok(block_beds::table
        .find((id, bed as i32))
        .select(BedRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every stay in the contract's beds, by bed and date.
pub fn stays(conn: &mut DbConnection, id: BlockContractId) -> Result<Vec<StayRow>, DbError> {
    Ok(bed_stays::table
        .filter(bed_stays::block_contract_id.eq(id))
        .order((bed_stays::bed, bed_stays::from_date))
        .select(StayRow::as_select())
        .load(conn)?)
}

pub fn extensions(
    conn: &mut DbConnection,
    id: BlockContractId,
) -> Result<Vec<ExtensionRow>, DbError> {
    Ok(block_contract_extensions::table
        .filter(block_contract_extensions::block_contract_id.eq(id))
        .order(block_contract_extensions::extended_at)
        .select(ExtensionRow::as_select())
        .load(conn)?)
}

/// Stores a block contract just let with its beds (each void from the first day), and emits
/// `contract.block_contract_let` and a `contract.bed_void` per bed.
pub fn let_contract(
    conn: &mut DbConnection,
    row: &BlockContractRow,
    held_for: &[String],
    events: &mut Events,
) -> Result<Vec<BedRow>, DbError> {
    diesel::insert_into(block_contracts::table)
        .values(row)
        .execute(conn)?;
    let id = row.id.into();
    events.emit(
        &row.partnership,
        &BlockContractLet {
            block_contract_id: id,
            lead_council: row.lead_council.clone(),
            provider_id: row.provider_id.clone(),
            beds: row.beds as u16,
            block_weekly_rate_pence: row.block_weekly_rate_pence.0,
            spot_weekly_rate_pence: row.spot_weekly_rate_pence.0,
            start_date: row.start_date,
            end_date: row.end_date,
            planned_annual_saving_pence: row.planned_annual_saving().0,
        },
    );
    let mut beds = Vec::with_capacity(held_for.len());
    for (i, council) in held_for.iter().enumerate() {
        let bed = BedRow {
            block_contract_id: row.id,
            bed: i as i32 + 1,
            held_for: council.clone(),
            placement_id: None,
            void_from: Some(row.start_date),
            offered_on: None,
            offered_to: None,
        };
        diesel::insert_into(block_beds::table)
            .values(&bed)
            .execute(conn)?;
        events.emit(
            &row.partnership,
            &BedVoid {
                block_contract_id: id,
                bed: bed.bed as u16,
                council: bed.held_for.clone(),
                provider_id: row.provider_id.clone(),
                void_from: row.start_date,
            },
        );
        beds.push(bed);
    }
    Ok(beds)
}

/// Uses one extension option of `c` (emits `contract.block_contract_extended`): 409 `/problems/no-extensions-left` when none is left.
/// The check is in the UPDATE, so two commissioners cannot use the last option twice.
pub fn extend(
    conn: &mut DbConnection,
    c: &BlockContractRow,
    by: &str,
    at: NaiveDateTime,
    events: &mut Events,
) -> Result<ExtensionRow, DbError> {
    let none_left = || {
        Problem::conflict(
            "no-extensions-left",
            format!(
                "all {} extension options of this block contract are used",
                c.extension_options
            ),
        )
    };
    if c.extensions_left() == 0 {
        return Err(none_left().into());
    }
    let new_end = rules::extended_end(c.end_date, c.extension_years as u16);
    let n = diesel::update(
        block_contracts::table
            .find(c.id)
            .filter(block_contracts::extensions_used.eq(c.extensions_used))
            .filter(block_contracts::end_date.eq(c.end_date)),
    )
    .set((
        block_contracts::extensions_used.eq(c.extensions_used + 1),
        block_contracts::end_date.eq(new_end),
    ))
    .execute(conn)?;
    if n != 1 {
        return Err(none_left().into());
    }
    let ext = ExtensionRow {
        id: ExtensionId::new(),
        block_contract_id: c.id,
        previous_end_date: c.end_date,
        new_end_date: new_end,
        extended_by: by.to_owned(),
        extended_at: at,
    };
    diesel::insert_into(block_contract_extensions::table)
        .values(&ext)
        .execute(conn)?;
    events.emit(
        &c.partnership,
        &BlockContractExtended {
            block_contract_id: c.id.into(),
            lead_council: c.lead_council.clone(),
            provider_id: c.provider_id.clone(),
            previous_end_date: c.end_date,
            new_end_date: new_end,
            extensions_used: (c.extensions_used + 1) as u16,
            extensions_left: c.extensions_left() - 1,
        },
    );
    Ok(ext)
}

/// What a placement in a block bed takes from the block contract.
#[derive(Debug, Clone)]
pub struct BedAdmission {
    pub partnership: String,
    pub provider_id: String,
    /// The block weekly rate: what the bed costs, whoever's child is in it.
    pub weekly_rate_pence: i64,
    /// The council the bed is held for.
    pub held_for: String,
    /// The child is a partner council's, in a bed offered to it.
    pub offered: bool,
}

fn bed_occupied(bed: u16) -> Problem {
    Problem::conflict(
        "bed-occupied",
        format!("bed {bed} has a child in it (or moving in) on or after that day"),
    )
}

/// Whether any stay in the bed runs into `on` or later (an open stay always does).
fn occupied_from(
    conn: &mut DbConnection,
    id: BlockContractId,
    bed: u16,
    on: NaiveDate,
) -> Result<bool, DbError> {
    let n: i64 = bed_stays::table
        .filter(bed_stays::block_contract_id.eq(id))
        .filter(bed_stays::bed.eq(bed as i32))
        .filter(bed_stays::to_date.is_null().or(bed_stays::to_date.ge(on)))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Checks that `council`'s child may move into `bed` of the block contract on `on`: the bed
/// exists, `on` is within the term, the bed is held for `council` or its current void has
/// been offered to it, and it is empty from that day on. Refusals are problems: 404 for a
/// contract the council may not see, 422 (`/bed`, `/start_date`) for a bed the contract does
/// not have or a day outside its term, 409 `/problems/bed-not-offered` for a bed held for
/// another council and not offered to this one, 409 `/problems/bed-occupied` for a bed in use.
pub fn admit_to_bed(
    conn: &mut DbConnection,
    council: &str,
    block_contract_id: BlockContractId,
    bed: u16,
    on: NaiveDate,
) -> Result<BedAdmission, DbError> {
    let c = find(conn, block_contract_id)?
        .filter(|c| c.is_member(council))
        .ok_or_else(|| Problem::not_found("block contract"))?;
    if bed == 0 || bed as i32 > c.beds {
        return Err(Problem::invalid(
            "/bed",
            "range",
            format!("the block contract has beds 1 to {}", c.beds),
        )
        .into());
    }
    if on < c.start_date || on > c.end_date {
        return Err(Problem::invalid(
            "/start_date",
            "within_term",
            format!(
                "the block contract runs from {} to {}",
                c.start_date, c.end_date
            ),
        )
        .into());
    }
    let b = bed_row(conn, c.id, bed)?
        .ok_or_else(|| anyhow::anyhow!("bed {bed} of block contract {} is missing", c.id))?;
    let offered = b.held_for != council;
    if offered && !b.offered_to().iter().any(|o| o == council) {
        return Err(Problem::conflict(
            "bed-not-offered",
            format!(
                "bed {bed} is held for {} and has not been offered to {council}",
                b.held_for
            ),
        )
        .into());
    }
    if b.placement_id.is_some() || occupied_from(conn, c.id, bed, on)? {
        return Err(bed_occupied(bed).into());
    }
    Ok(BedAdmission {
        partnership: c.partnership,
        provider_id: c.provider_id,
        weekly_rate_pence: c.block_weekly_rate_pence.0,
        held_for: b.held_for,
        offered,
    })
}

/// A placement moved into the bed on `on` (emits `contract.bed_filled`). Call after
/// [`admit_to_bed`] in the same transaction; a bed taken meanwhile is 409
/// `/problems/bed-occupied`.
pub fn bed_filled(
    conn: &mut DbConnection,
    block_contract_id: BlockContractId,
    bed: u16,
    placement_id: PlacementId,
    council: &str,
    on: NaiveDate,
    events: &mut Events,
) -> Result<(), DbError> {
    let c = find(conn, block_contract_id)?.ok_or_else(|| Problem::not_found("block contract"))?;
    if occupied_from(conn, c.id, bed, on)? {
        return Err(bed_occupied(bed).into());
    }
    let n = diesel::update(
        block_beds::table
            .find((c.id, bed as i32))
            .filter(block_beds::placement_id.is_null()),
    )
    .set((
        block_beds::placement_id.eq(Some(placement_id)),
        block_beds::void_from.eq(None::<NaiveDate>),
        block_beds::offered_on.eq(None::<NaiveDate>),
        block_beds::offered_to.eq(None::<Json<Vec<String>>>),
    ))
    .execute(conn)?;
    if n != 1 {
        return Err(bed_occupied(bed).into());
    }
    diesel::insert_into(bed_stays::table)
        .values(&StayRow {
            id: StayId::new(),
            block_contract_id: c.id,
            bed: bed as i32,
            placement_id,
            council: council.to_owned(),
            from_date: on,
            to_date: None,
        })
        .execute(conn)?;
    events.emit(
        &c.partnership,
        &BedFilled {
            block_contract_id: c.id.into(),
            bed,
            placement_id: placement_id.into(),
            council: council.to_owned(),
            provider_id: c.provider_id.clone(),
            filled_on: on,
        },
    );
    Ok(())
}

/// The placement in the bed ended; `last_night` is its end date, so the bed is void from
/// the day after (emits `contract.bed_void` to the holding council, unless the contract has
/// ended by then). 409 `/problems/not-in-bed` if the placement is not in the bed.
pub fn bed_emptied(
    conn: &mut DbConnection,
    block_contract_id: BlockContractId,
    bed: u16,
    placement_id: PlacementId,
    last_night: NaiveDate,
    events: &mut Events,
) -> Result<(), DbError> {
    let c = find(conn, block_contract_id)?.ok_or_else(|| Problem::not_found("block contract"))?;
    let stay: StayRow = bed_stays::table
        .filter(bed_stays::placement_id.eq(placement_id))
        .filter(bed_stays::block_contract_id.eq(c.id))
        .filter(bed_stays::bed.eq(bed as i32))
        .filter(bed_stays::to_date.is_null())
        .select(StayRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| {
            Problem::conflict(
                "not-in-bed",
                format!("the placement is not in bed {bed} of this block contract"),
            )
        })?;
    if last_night < stay.from_date {
        return Err(Problem::invalid(
            "/end_date",
            "after_start",
            format!("the child moved into the bed on {}", stay.from_date),
        )
        .into());
    }
    diesel::update(bed_stays::table.find(stay.id))
        .set(bed_stays::to_date.eq(Some(last_night)))
        .execute(conn)?;
    let void_from = last_night + Days::new(1);
    diesel::update(
        block_beds::table
            .find((c.id, bed as i32))
            .filter(block_beds::placement_id.eq(placement_id)),
    )
    .set((
        block_beds::placement_id.eq(None::<PlacementId>),
        block_beds::void_from.eq(Some(void_from)),
        block_beds::offered_on.eq(None::<NaiveDate>),
        block_beds::offered_to.eq(None::<Json<Vec<String>>>),
    ))
    .execute(conn)?;
    if void_from <= c.end_date {
        let held_for = bed_row(conn, c.id, bed)?
            .map(|b| b.held_for)
            .unwrap_or_else(|| c.lead_council.clone());
        events.emit(
            &c.partnership,
            &BedVoid {
                block_contract_id: c.id.into(),
                bed,
                council: held_for,
                provider_id: c.provider_id.clone(),
                void_from,
            },
        );
    }
    Ok(())
}

/// Offers beds void for at least their contract's set number of days by `today` to the
/// partnership's other councils (`contract.bed_offered`, once per void: the bed is marked in
/// the same conditional UPDATE that claims it).
pub fn sweep(
    conn: &mut DbConnection,
    today: NaiveDate,
    events: &mut Events,
) -> Result<usize, DbError> {
    let due: Vec<(BedRow, BlockContractRow)> = block_beds::table
        .inner_join(block_contracts::table)
        .filter(block_beds::placement_id.is_null())
        .filter(block_beds::void_from.is_not_null())
        .filter(block_beds::offered_on.is_null())
        .filter(block_contracts::end_date.ge(today))
        .order((block_beds::block_contract_id, block_beds::bed))
        .select((BedRow::as_select(), BlockContractRow::as_select()))
        .load(conn)?;
    let mut offered = 0;
    for (b, c) in due {
        let Some(void_from) = b.void_from else {
            continue;
        };
        if void_from > c.end_date
            || today < rules::offer_due_on(void_from, c.void_offer_after_days as u16)
        {
            continue;
        }
        let Some(partnership) = directory::partnership(&c.partnership) else {
            tracing::warn!(block_contract_id = %c.id, partnership = %c.partnership, "unknown partnership; bed not offered");
            continue;
        };
        let to = rules::offer_to(partnership, &b.held_for);
        let n = diesel::update(
            block_beds::table
                .find((b.block_contract_id, b.bed))
                .filter(block_beds::placement_id.is_null())
                .filter(block_beds::void_from.eq(Some(void_from)))
                .filter(block_beds::offered_on.is_null()),
        )
        .set((
            block_beds::offered_on.eq(Some(today)),
            block_beds::offered_to.eq(Some(Json(to.clone()))),
        ))
        .execute(conn)?;
        if n != 1 {
            continue;
        }
        events.emit(
            &c.partnership,
            &BedOffered {
                block_contract_id: c.id.into(),
                bed: b.bed as u16,
                offered_by: b.held_for.clone(),
                offered_to: to,
                provider_id: c.provider_id.clone(),
                lot_id: c.lot_id.map(Into::into),
                home_id: c.home_id.map(Into::into),
                postcode_district: c.postcode_district.clone().unwrap_or_default(),
                available_from: void_from.max(today),
                offer_expires_on: c.end_date,
            },
        );
        tracing::info!(block_contract_id = %c.id, bed = b.bed, held_for = %b.held_for, void_from = %void_from, "void bed offered to partner councils");
        offered += 1;
    }
    Ok(offered)
}
