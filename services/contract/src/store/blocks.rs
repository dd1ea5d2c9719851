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
    page::{Page, PageRequest},
    sql::Json,
};

use crate::{
    domain::{
        Bed, BedStay, BlockContract, BlockExtension,
        blocks::{self as rules},
        if_visible, only_visible,
    },
    ids::{BlockContractId, ExtensionId, HomeId, LotId, PlacementId, StayId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = block_contracts)]
struct BlockContractRow {
    id: BlockContractId,
    partnership: String,
    lead_council: String,
    provider_id: String,
    description: String,
    beds: i32,
    block_weekly_rate_pence: Pence,
    spot_weekly_rate_pence: Pence,
    start_date: NaiveDate,
    end_date: NaiveDate,
    term_years: i32,
    extension_options: i32,
    extension_years: i32,
    extensions_used: i32,
    void_offer_after_days: i32,
    lot_id: Option<LotId>,
    home_id: Option<HomeId>,
    postcode_district: Option<String>,
    let_by: String,
    let_at: NaiveDateTime,
}

impl From<BlockContractRow> for BlockContract {
    fn from(r: BlockContractRow) -> Self {
        Self {
            id: r.id,
            partnership: r.partnership,
            lead_council: r.lead_council,
            provider_id: r.provider_id,
            description: r.description,
            beds: r.beds,
            block_weekly_rate_pence: r.block_weekly_rate_pence,
            spot_weekly_rate_pence: r.spot_weekly_rate_pence,
            start_date: r.start_date,
            end_date: r.end_date,
            term_years: r.term_years,
            extension_options: r.extension_options,
            extension_years: r.extension_years,
            extensions_used: r.extensions_used,
            void_offer_after_days: r.void_offer_after_days,
            lot_id: r.lot_id,
            home_id: r.home_id,
            postcode_district: r.postcode_district,
            let_by: r.let_by,
            let_at: r.let_at,
        }
    }
}

impl From<&BlockContract> for BlockContractRow {
    fn from(c: &BlockContract) -> Self {
        let c = c.clone();
        Self {
            id: c.id,
            partnership: c.partnership,
            lead_council: c.lead_council,
            provider_id: c.provider_id,
            description: c.description,
            beds: c.beds,
            block_weekly_rate_pence: c.block_weekly_rate_pence,
            spot_weekly_rate_pence: c.spot_weekly_rate_pence,
            start_date: c.start_date,
            end_date: c.end_date,
            term_years: c.term_years,
            extension_options: c.extension_options,
            extension_years: c.extension_years,
            extensions_used: c.extensions_used,
            void_offer_after_days: c.void_offer_after_days,
            lot_id: c.lot_id,
            home_id: c.home_id,
            postcode_district: c.postcode_district,
            let_by: c.let_by,
            let_at: c.let_at,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = block_beds)]
struct BedRow {
    block_contract_id: BlockContractId,
    bed: i32,
    held_for: String,
    placement_id: Option<PlacementId>,
    void_from: Option<NaiveDate>,
    offered_on: Option<NaiveDate>,
    offered_to: Option<Json<Vec<String>>>,
}

impl From<BedRow> for Bed {
    fn from(r: BedRow) -> Self {
        Self {
            block_contract_id: r.block_contract_id,
            bed: r.bed,
            held_for: r.held_for,
            placement_id: r.placement_id,
            void_from: r.void_from,
            offered_on: r.offered_on,
            offered_to: r.offered_to.map(|to| to.0),
        }
    }
}

impl From<&Bed> for BedRow {
    fn from(b: &Bed) -> Self {
        let b = b.clone();
        Self {
            block_contract_id: b.block_contract_id,
            bed: b.bed,
            held_for: b.held_for,
            placement_id: b.placement_id,
            void_from: b.void_from,
            offered_on: b.offered_on,
            offered_to: b.offered_to.map(Json),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = bed_stays)]
struct StayRow {
    id: StayId,
    block_contract_id: BlockContractId,
    bed: i32,
    placement_id: PlacementId,
    council: String,
    from_date: NaiveDate,
    to_date: Option<NaiveDate>,
}

impl From<StayRow> for BedStay {
    fn from(r: StayRow) -> Self {
        Self {
            id: r.id,
            block_contract_id: r.block_contract_id,
            bed: r.bed,
            placement_id: r.placement_id,
            council: r.council,
            from_date: r.from_date,
            to_date: r.to_date,
        }
    }
}

impl From<&BedStay> for StayRow {
    fn from(s: &BedStay) -> Self {
        let s = s.clone();
        Self {
            id: s.id,
            block_contract_id: s.block_contract_id,
            bed: s.bed,
            placement_id: s.placement_id,
            council: s.council,
            from_date: s.from_date,
            to_date: s.to_date,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = block_contract_extensions)]
struct ExtensionRow {
    id: ExtensionId,
    block_contract_id: BlockContractId,
    previous_end_date: NaiveDate,
    new_end_date: NaiveDate,
    extended_by: String,
    extended_at: NaiveDateTime,
}

impl From<ExtensionRow> for BlockExtension {
    fn from(r: ExtensionRow) -> Self {
        Self {
            id: r.id,
            block_contract_id: r.block_contract_id,
            previous_end_date: r.previous_end_date,
            new_end_date: r.new_end_date,
            extended_by: r.extended_by,
            extended_at: r.extended_at,
        }
    }
}

impl From<&BlockExtension> for ExtensionRow {
    fn from(e: &BlockExtension) -> Self {
        let e = e.clone();
        Self {
            id: e.id,
            block_contract_id: e.block_contract_id,
            previous_end_date: e.previous_end_date,
            new_end_date: e.new_end_date,
            extended_by: e.extended_by,
            extended_at: e.extended_at,
        }
    }
}

pub fn find(
    conn: &mut DbConnection,
    id: BlockContractId,
) -> Result<Option<BlockContract>, DbError> {
    Ok(block_contracts::table
        .find(id)
        .select(BlockContractRow::as_select())
        .first(conn)
        .optional()?
        .map(BlockContract::from))
}

/// The block contract if `who` may see it (see [`rules::may_see`]), else 404.
pub fn visible(
    conn: &mut DbConnection,
    who: &Principal,
    id: BlockContractId,
) -> Result<BlockContract, DbError> {
    Ok(if_visible(who, find(conn, id)?)?)
}

/// The block contracts `who` may see, newest first (by id: UUIDv7 ids sort by creation), after
/// the key in `page`'s cursor. The visibility rule has the last word on each row
/// ([`only_visible`]) after the page is cut, so the cursor skips none.
pub fn list_visible(
    conn: &mut DbConnection,
    who: &Principal,
    page: &PageRequest,
) -> Result<Page<BlockContract>, DbError> {
    let (partnerships, provider) = rules::listed_for(who);
    let mut q = block_contracts::table.into_boxed();
    if let Some(after) = page.after::<BlockContractId>()? {
        q = q.filter(block_contracts::id.lt(after));
    }
    if let Some(codes) = partnerships {
        q = q.filter(block_contracts::partnership.eq_any(codes));
    }
    if let Some(p) = provider {
        q = q.filter(block_contracts::provider_id.eq(p));
    }
    let rows: Vec<BlockContractRow> = q
        .order(block_contracts::id.desc())
        .limit(page.fetch())
        .select(BlockContractRow::as_select())
        .load(conn)?;
    let rows = rows.into_iter().map(BlockContract::from).collect();
    let mut listed = page.page(rows, |c: &BlockContract| c.id);
    listed.items = only_visible(who, listed.items);
    Ok(listed)
}

pub fn beds(conn: &mut DbConnection, id: BlockContractId) -> Result<Vec<Bed>, DbError> {
    Ok(block_beds::table
        .filter(block_beds::block_contract_id.eq(id))
        .order(block_beds::bed)
        .select(BedRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Bed::from)
        .collect())
}

fn bed(conn: &mut DbConnection, id: BlockContractId, bed: u16) -> Result<Option<Bed>, DbError> {
    Ok(block_beds::table
        .find((id, bed as i32))
        .select(BedRow::as_select())
        .first(conn)
        .optional()?
        .map(Bed::from))
}

/// Every stay in the contract's beds, by bed and date.
pub fn stays(conn: &mut DbConnection, id: BlockContractId) -> Result<Vec<BedStay>, DbError> {
    Ok(bed_stays::table
        .filter(bed_stays::block_contract_id.eq(id))
        .order((bed_stays::bed, bed_stays::from_date))
        .select(StayRow::as_select())
        .load(conn)?
        .into_iter()
        .map(BedStay::from)
        .collect())
}

pub fn extensions(
    conn: &mut DbConnection,
    id: BlockContractId,
) -> Result<Vec<BlockExtension>, DbError> {
    Ok(block_contract_extensions::table
        .filter(block_contract_extensions::block_contract_id.eq(id))
        .order(block_contract_extensions::extended_at)
        .select(ExtensionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(BlockExtension::from)
        .collect())
}

/// Stores a block contract just let with its beds (each void from the first day), and emits
/// `contract.block_contract_let` and a `contract.bed_void` per bed.
pub fn let_contract(
    conn: &mut DbConnection,
    row: &BlockContract,
    held_for: &[String],
    events: &mut Events,
) -> Result<Vec<Bed>, DbError> {
    diesel::insert_into(block_contracts::table)
        .values(BlockContractRow::from(row))
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
        let bed = Bed {
            block_contract_id: row.id,
            bed: i as i32 + 1,
            held_for: council.clone(),
            placement_id: None,
            void_from: Some(row.start_date),
            offered_on: None,
            offered_to: None,
        };
        diesel::insert_into(block_beds::table)
            .values(BedRow::from(&bed))
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
    c: &BlockContract,
    by: &str,
    at: NaiveDateTime,
    events: &mut Events,
) -> Result<BlockExtension, DbError> {
    c.extend()?;
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
        return Err(c.no_extensions_left().into());
    }
    let ext = BlockExtension {
        id: ExtensionId::new(),
        block_contract_id: c.id,
        previous_end_date: c.end_date,
        new_end_date: new_end,
        extended_by: by.to_owned(),
        extended_at: at,
    };
    diesel::insert_into(block_contract_extensions::table)
        .values(ExtensionRow::from(&ext))
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
    let b = self::bed(conn, c.id, bed)?
        .ok_or_else(|| anyhow::anyhow!("bed {bed} of block contract {} is missing", c.id))?;
    let offered = b.held_for != council;
    if offered && !b.current_offer().iter().any(|o| o == council) {
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
        let held_for = self::bed(conn, c.id, bed)?
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
