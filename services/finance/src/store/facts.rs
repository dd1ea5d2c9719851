//! What the contract service told finance, kept as facts; the ledger's lines are derived from
//! them. Each fact is written once (a repeat of it is ignored).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hub_platform::db::{DbConnection, DbError};

use crate::schema::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = placements)]
pub struct PlacementRow {
    pub placement_id: String,
    pub partnership: String,
    pub council: String,
    pub provider_id: String,
    pub order_id: Option<String>,
    pub referral_id: Option<String>,
    pub block_contract_id: Option<String>,
    pub bed: Option<i32>,
    pub start_date: NaiveDate,
    pub weekly_rate_pence: i64,
    pub extras_weekly_pence: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = placement_rate_changes)]
pub struct RateChangeRow {
    pub placement_id: String,
    pub ipa_version: i32,
    pub partnership: String,
    pub council: String,
    pub effective_from: NaiveDate,
    pub weekly_rate_pence: i64,
    pub extras_weekly_pence: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = placement_ends)]
pub struct PlacementEndRow {
    pub placement_id: String,
    pub partnership: String,
    pub council: String,
    pub end_date: NaiveDate,
    pub reason: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = block_contracts)]
pub struct BlockContractRow {
    pub block_contract_id: String,
    pub partnership: String,
    pub lead_council: String,
    pub provider_id: String,
    pub beds: i32,
    pub block_weekly_rate_pence: i64,
    pub spot_weekly_rate_pence: i64,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub planned_annual_saving_pence: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = bed_events)]
pub struct BedEventRow {
    pub block_contract_id: String,
    pub bed: i32,
    pub effective_from: NaiveDate,
    /// `filled` or `void`.
    pub state: crate::domain::ledger::BedStatus,
    pub partnership: String,
    pub council: Option<String>,
    pub placement_id: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = service_contracts)]
pub struct ServiceContractRow {
    pub contract_id: String,
    pub partnership: String,
    pub lead_council: String,
    pub provider_id: String,
    pub budget_line: String,
    pub value_pence: i64,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = service_contract_extensions)]
pub struct ExtensionRow {
    pub contract_id: String,
    pub extensions_used: i32,
    pub partnership: String,
    pub previous_end_date: NaiveDate,
    pub new_end_date: NaiveDate,
    pub added_value_pence: i64,
    pub created_at: NaiveDateTime,
}

/// A variation of a live contract's value, phased over `effective_on ..= phased_to`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = service_contract_variations)]
pub struct VariationRow {
    pub contract_id: String,
    pub variation_id: String,
    pub partnership: String,
    pub effective_on: NaiveDate,
    pub phased_to: NaiveDate,
    pub value_change_pence: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = service_contract_terminations)]
pub struct TerminationRow {
    pub contract_id: String,
    pub partnership: String,
    pub terminated_on: NaiveDate,
    pub reason: String,
    pub created_at: NaiveDateTime,
}

/// Takes the source's lock for the rest of the transaction (see the `source_locks`
/// migration): `kind` is `placement`, `block` or `service`.
pub fn lock_source(conn: &mut DbConnection, kind: &str, id: &str) -> Result<(), DbError> {
    use diesel::sql_types::Text;
    let key = format!("{kind}:{id}");
    diesel::sql_query(
        "INSERT INTO source_locks (source, writes) VALUES ($1, 0) ON CONFLICT DO NOTHING",
    )
    .bind::<Text, _>(&key)
    .execute(conn)?;
    diesel::sql_query("UPDATE source_locks SET writes = writes + 1 WHERE source = $1")
        .bind::<Text, _>(&key)
        .execute(conn)?;
    Ok(())
}

pub fn placement(conn: &mut DbConnection, id: &str) -> Result<Option<PlacementRow>, DbError> {
    Ok(placements::table
        .find(id)
        .select(PlacementRow::as_select())
        .first(conn)
        .optional()?)
}

/// Records a started placement; false if it was recorded already.
pub fn insert_placement(conn: &mut DbConnection, row: &PlacementRow) -> Result<bool, DbError> {
    if placement(conn, &row.placement_id)?.is_some() {
        return Ok(false);
    }
    diesel::insert_into(placements::table)
        .values(row)
        .execute(conn)?;
    Ok(true)
}

pub fn rate_changes(conn: &mut DbConnection, id: &str) -> Result<Vec<RateChangeRow>, DbError> {
    Ok(placement_rate_changes::table
        .filter(placement_rate_changes::placement_id.eq(id))
        .order(placement_rate_changes::ipa_version.asc())
        .select(RateChangeRow::as_select())
        .load(conn)?)
}

/// Records a rate change (one per IPA version); false if that version was recorded already.
pub fn insert_rate_change(conn: &mut DbConnection, row: &RateChangeRow) -> Result<bool, DbError> {
    let exists = diesel::select(diesel::dsl::exists(
        placement_rate_changes::table
            .filter(placement_rate_changes::placement_id.eq(&row.placement_id))
            .filter(placement_rate_changes::ipa_version.eq(row.ipa_version)),
    ))
    .get_result::<bool>(conn)?;
    if exists {
        return Ok(false);
    }
    diesel::insert_into(placement_rate_changes::table)
        .values(row)
        .execute(conn)?;
    Ok(true)
}

pub fn placement_end(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<PlacementEndRow>, DbError> {
    Ok(placement_ends::table
        .find(id)
        .select(PlacementEndRow::as_select())
        .first(conn)
        .optional()?)
}

/// Records a placement's end; a later end event replaces the date (a corrected end).
pub fn upsert_placement_end(conn: &mut DbConnection, row: &PlacementEndRow) -> Result<(), DbError> {
    diesel::delete(placement_ends::table.find(&row.placement_id)).execute(conn)?;
    diesel::insert_into(placement_ends::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Placements of a partnership with no end recorded (committed to the horizon).
pub fn open_placement_ids(
    conn: &mut DbConnection,
    partnership: &str,
) -> Result<Vec<String>, DbError> {
    Ok(placements::table
        .filter(placements::partnership.eq(partnership))
        .filter(placements::block_contract_id.is_null())
        .filter(diesel::dsl::not(diesel::dsl::exists(
            placement_ends::table.filter(placement_ends::placement_id.eq(placements::placement_id)),
        )))
        .select(placements::placement_id)
        .load(conn)?)
}

pub fn block_contract(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<BlockContractRow>, DbError> {
    Ok(block_contracts::table
        .find(id)
        .select(BlockContractRow::as_select())
        .first(conn)
        .optional()?)
}

/// Records a let block contract; false if it was recorded already.
pub fn insert_block_contract(
    conn: &mut DbConnection,
    row: &BlockContractRow,
) -> Result<bool, DbError> {
    if block_contract(conn, &row.block_contract_id)?.is_some() {
        return Ok(false);
    }
    diesel::insert_into(block_contracts::table)
        .values(row)
        .execute(conn)?;
    Ok(true)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = block_contract_extensions)]
pub struct BlockExtensionRow {
    pub block_contract_id: String,
    pub extensions_used: i32,
    pub partnership: String,
    pub previous_end_date: NaiveDate,
    pub new_end_date: NaiveDate,
    pub created_at: NaiveDateTime,
}

/// Records a block contract's extension (one per extension number); false if recorded already.
pub fn insert_block_extension(
    conn: &mut DbConnection,
    row: &BlockExtensionRow,
) -> Result<bool, DbError> {
    let exists = diesel::select(diesel::dsl::exists(
        block_contract_extensions::table
            .filter(block_contract_extensions::block_contract_id.eq(&row.block_contract_id))
            .filter(block_contract_extensions::extensions_used.eq(row.extensions_used)),
    ))
    .get_result::<bool>(conn)?;
    if exists {
        return Ok(false);
    }
    diesel::insert_into(block_contract_extensions::table)
        .values(row)
        .execute(conn)?;
    Ok(true)
}

pub fn block_extensions(
    conn: &mut DbConnection,
    block_contract_id: &str,
) -> Result<Vec<BlockExtensionRow>, DbError> {
    Ok(block_contract_extensions::table
        .filter(block_contract_extensions::block_contract_id.eq(block_contract_id))
        .order(block_contract_extensions::extensions_used.asc())
        .select(BlockExtensionRow::as_select())
        .load(conn)?)
}

pub fn bed_events_of(
    conn: &mut DbConnection,
    block_contract_id: &str,
) -> Result<Vec<BedEventRow>, DbError> {
    Ok(bed_events::table
        .filter(bed_events::block_contract_id.eq(block_contract_id))
        .order((bed_events::bed.asc(), bed_events::effective_from.asc()))
        .select(BedEventRow::as_select())
        .load(conn)?)
}

/// Records a bed's state from a day. With `replace`, it replaces what was recorded for that
/// bed, day and state (an explicit `bed_void` or `bed_filled`); without, it is only written
/// if nothing was (a void implied by a placement's end does not override a `bed_void`).
/// False if what was recorded stands.
pub fn put_bed_event(
    conn: &mut DbConnection,
    row: &BedEventRow,
    replace: bool,
) -> Result<bool, DbError> {
    let key = bed_events::table
        .filter(bed_events::block_contract_id.eq(&row.block_contract_id))
        .filter(bed_events::bed.eq(row.bed))
        .filter(bed_events::effective_from.eq(row.effective_from))
        .filter(bed_events::state.eq(&row.state));
    let exists = diesel::select(diesel::dsl::exists(key)).get_result::<bool>(conn)?;
    if exists && !replace {
        return Ok(false);
    }
    diesel::delete(key).execute(conn)?;
    diesel::insert_into(bed_events::table)
        .values(row)
        .execute(conn)?;
    Ok(true)
}

pub fn service_contract(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<ServiceContractRow>, DbError> {
    Ok(service_contracts::table
        .find(id)
        .select(ServiceContractRow::as_select())
        .first(conn)
        .optional()?)
}

/// Records a let service contract; false if it was recorded already.
pub fn insert_service_contract(
    conn: &mut DbConnection,
    row: &ServiceContractRow,
) -> Result<bool, DbError> {
    if service_contract(conn, &row.contract_id)?.is_some() {
        return Ok(false);
    }
    diesel::insert_into(service_contracts::table)
        .values(row)
        .execute(conn)?;
    Ok(true)
}

pub fn extensions(conn: &mut DbConnection, id: &str) -> Result<Vec<ExtensionRow>, DbError> {
    Ok(service_contract_extensions::table
        .filter(service_contract_extensions::contract_id.eq(id))
        .order(service_contract_extensions::extensions_used.asc())
        .select(ExtensionRow::as_select())
        .load(conn)?)
}

/// Records an extension (one per extension number); false if recorded already.
pub fn insert_extension(conn: &mut DbConnection, row: &ExtensionRow) -> Result<bool, DbError> {
    let exists = diesel::select(diesel::dsl::exists(
        service_contract_extensions::table
            .filter(service_contract_extensions::contract_id.eq(&row.contract_id))
            .filter(service_contract_extensions::extensions_used.eq(row.extensions_used)),
    ))
    .get_result::<bool>(conn)?;
    if exists {
        return Ok(false);
    }
    diesel::insert_into(service_contract_extensions::table)
        .values(row)
        .execute(conn)?;
    Ok(true)
}

/// A contract's variations, in the order they were made (variation ids are UUIDv7).
pub fn variations(conn: &mut DbConnection, id: &str) -> Result<Vec<VariationRow>, DbError> {
    Ok(service_contract_variations::table
        .filter(service_contract_variations::contract_id.eq(id))
        .order(service_contract_variations::variation_id.asc())
        .select(VariationRow::as_select())
        .load(conn)?)
}

/// Records a variation (one per variation id); false if recorded already.
pub fn insert_variation(conn: &mut DbConnection, row: &VariationRow) -> Result<bool, DbError> {
    let exists = diesel::select(diesel::dsl::exists(
        service_contract_variations::table
            .filter(service_contract_variations::contract_id.eq(&row.contract_id))
            .filter(service_contract_variations::variation_id.eq(&row.variation_id)),
    ))
    .get_result::<bool>(conn)?;
    if exists {
        return Ok(false);
    }
    diesel::insert_into(service_contract_variations::table)
        .values(row)
        .execute(conn)?;
    Ok(true)
}

pub fn termination(conn: &mut DbConnection, id: &str) -> Result<Option<TerminationRow>, DbError> {
    Ok(service_contract_terminations::table
        .find(id)
        .select(TerminationRow::as_select())
        .first(conn)
        .optional()?)
}

/// Records a termination; false if one was recorded already (the first stands).
pub fn insert_termination(conn: &mut DbConnection, row: &TerminationRow) -> Result<bool, DbError> {
    if termination(conn, &row.contract_id)?.is_some() {
        return Ok(false);
    }
    diesel::insert_into(service_contract_terminations::table)
        .values(row)
        .execute(conn)?;
    Ok(true)
}
