//! What the contract service told finance, kept as facts; the ledger's lines are derived from
//! them. Each fact is written once (a repeat of it is ignored).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hub_platform::{
    Pence,
    db::{DbConnection, DbError},
};

use crate::{
    domain::{
        facts::{
            BedRecord, BlockContract, BlockExtension, Placement, PlacementEnd, RateChange,
            ServiceContract, ServiceExtension, Termination, Variation,
        },
        ledger::BedStatus,
    },
    ids::{BlockContractId, OrderId, PlacementId, ReferralId, ServiceContractId, VariationId},
    schema::*,
};

/// A fact's row: the fact's fields and when it was recorded. Read back as the fact (the time
/// stays in the table); written from it, stamped now.
macro_rules! fact_rows {
    ($($row:ident($table:ident) <-> $fact:ident { $($field:ident: $ty:ty,)+ })+) => {$(
        #[derive(Debug, Clone, Queryable, Selectable, Insertable)]
        #[diesel(table_name = $table)]
        pub(crate) struct $row {
            $(pub(crate) $field: $ty,)+
            pub(crate) created_at: NaiveDateTime,
        }

        impl From<$row> for $fact {
            fn from(r: $row) -> Self {
                Self { $($field: r.$field,)+ }
            }
        }

        impl From<$fact> for $row {
            fn from(f: $fact) -> Self {
                Self { $($field: f.$field,)+ created_at: super::now() }
            }
        }
    )+};
}

fact_rows! {
    PlacementRow(placements) <-> Placement {
        placement_id: PlacementId,
        partnership: String,
        council: String,
        provider_id: String,
        order_id: Option<OrderId>,
        referral_id: Option<ReferralId>,
        block_contract_id: Option<BlockContractId>,
        bed: Option<i32>,
        start_date: NaiveDate,
        weekly_rate_pence: Pence,
        extras_weekly_pence: Pence,
    }
    RateChangeRow(placement_rate_changes) <-> RateChange {
        placement_id: PlacementId,
        ipa_version: i32,
        partnership: String,
        council: String,
        effective_from: NaiveDate,
        weekly_rate_pence: Pence,
        extras_weekly_pence: Pence,
    }
    PlacementEndRow(placement_ends) <-> PlacementEnd {
        placement_id: PlacementId,
        partnership: String,
        council: String,
        end_date: NaiveDate,
        reason: String,
    }
    BlockContractRow(block_contracts) <-> BlockContract {
        block_contract_id: BlockContractId,
        partnership: String,
        lead_council: String,
        provider_id: String,
        beds: i32,
        block_weekly_rate_pence: Pence,
        spot_weekly_rate_pence: Pence,
        start_date: NaiveDate,
        end_date: NaiveDate,
        planned_annual_saving_pence: Pence,
    }
    BlockExtensionRow(block_contract_extensions) <-> BlockExtension {
        block_contract_id: BlockContractId,
        extensions_used: i32,
        partnership: String,
        previous_end_date: NaiveDate,
        new_end_date: NaiveDate,
    }
    BedEventRow(bed_events) <-> BedRecord {
        block_contract_id: BlockContractId,
        bed: i32,
        effective_from: NaiveDate,
        state: BedStatus,
        partnership: String,
        council: Option<String>,
        placement_id: Option<PlacementId>,
    }
    ServiceContractRow(service_contracts) <-> ServiceContract {
        contract_id: ServiceContractId,
        partnership: String,
        lead_council: String,
        provider_id: String,
        budget_line: String,
        value_pence: Pence,
        start_date: NaiveDate,
        end_date: NaiveDate,
    }
    ExtensionRow(service_contract_extensions) <-> ServiceExtension {
        contract_id: ServiceContractId,
        extensions_used: i32,
        partnership: String,
        previous_end_date: NaiveDate,
        new_end_date: NaiveDate,
        added_value_pence: Pence,
    }
    VariationRow(service_contract_variations) <-> Variation {
        contract_id: ServiceContractId,
        variation_id: VariationId,
        partnership: String,
        effective_on: NaiveDate,
        phased_to: NaiveDate,
        value_change_pence: Pence,
    }
    TerminationRow(service_contract_terminations) <-> Termination {
        contract_id: ServiceContractId,
        partnership: String,
        terminated_on: NaiveDate,
        reason: String,
    }
}

/// Takes the source's lock for the rest of the transaction (see the `source_locks`
/// migration): `kind` is `placement`, `block` or `service`.
pub fn lock_source(
    conn: &mut DbConnection,
    kind: &str,
    id: impl std::fmt::Display,
) -> Result<(), DbError> {
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

/// A placement's start, if it has arrived.
pub fn placement(conn: &mut DbConnection, id: PlacementId) -> Result<Option<Placement>, DbError> {
    Ok(placements::table
        .find(id)
        .select(PlacementRow::as_select())
        .first(conn)
        .optional()?
        .map(Placement::from))
}

/// Records a started placement; false if it was recorded already.
pub fn insert_placement(conn: &mut DbConnection, fact: Placement) -> Result<bool, DbError> {
    if placement(conn, fact.placement_id)?.is_some() {
        return Ok(false);
    }
    diesel::insert_into(placements::table)
        .values(PlacementRow::from(fact))
        .execute(conn)?;
    Ok(true)
}

/// A placement's rate changes, by IPA version.
pub fn rate_changes(conn: &mut DbConnection, id: PlacementId) -> Result<Vec<RateChange>, DbError> {
    Ok(placement_rate_changes::table
        .filter(placement_rate_changes::placement_id.eq(id))
        .order(placement_rate_changes::ipa_version.asc())
        .select(RateChangeRow::as_select())
        .load(conn)?
        .into_iter()
        .map(RateChange::from)
        .collect())
}

/// Records a rate change (one per IPA version); false if that version was recorded already.
pub fn insert_rate_change(conn: &mut DbConnection, fact: RateChange) -> Result<bool, DbError> {
    let exists = diesel::select(diesel::dsl::exists(
        placement_rate_changes::table
            .filter(placement_rate_changes::placement_id.eq(fact.placement_id))
            .filter(placement_rate_changes::ipa_version.eq(fact.ipa_version)),
    ))
    .get_result::<bool>(conn)?;
    if exists {
        return Ok(false);
    }
    diesel::insert_into(placement_rate_changes::table)
        .values(RateChangeRow::from(fact))
        .execute(conn)?;
    Ok(true)
}

/// A placement's end, if one has arrived.
pub fn placement_end(
    conn: &mut DbConnection,
    id: PlacementId,
) -> Result<Option<PlacementEnd>, DbError> {
    Ok(placement_ends::table
        .find(id)
        .select(PlacementEndRow::as_select())
        .first(conn)
        .optional()?
        .map(PlacementEnd::from))
}

/// Records a placement's end; a later end event replaces the date (a corrected end).
pub fn upsert_placement_end(conn: &mut DbConnection, fact: PlacementEnd) -> Result<(), DbError> {
    diesel::delete(placement_ends::table.find(fact.placement_id)).execute(conn)?;
    diesel::insert_into(placement_ends::table)
        .values(PlacementEndRow::from(fact))
        .execute(conn)?;
    Ok(())
}

/// Placements of a partnership with no end recorded (committed to the horizon).
pub fn open_placement_ids(
    conn: &mut DbConnection,
    partnership: &str,
) -> Result<Vec<PlacementId>, DbError> {
    Ok(placements::table
        .filter(placements::partnership.eq(partnership))
        .filter(placements::block_contract_id.is_null())
        .filter(diesel::dsl::not(diesel::dsl::exists(
            placement_ends::table.filter(placement_ends::placement_id.eq(placements::placement_id)),
        )))
        .select(placements::placement_id)
        .load(conn)?)
}

/// A block contract as let, if it has arrived.
pub fn block_contract(
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

/// Records a let block contract; false if it was recorded already.
pub fn insert_block_contract(
    conn: &mut DbConnection,
    fact: BlockContract,
) -> Result<bool, DbError> {
    if block_contract(conn, fact.block_contract_id)?.is_some() {
        return Ok(false);
    }
    diesel::insert_into(block_contracts::table)
        .values(BlockContractRow::from(fact))
        .execute(conn)?;
    Ok(true)
}

/// Records a block contract's extension (one per extension number); false if recorded already.
pub fn insert_block_extension(
    conn: &mut DbConnection,
    fact: BlockExtension,
) -> Result<bool, DbError> {
    let exists = diesel::select(diesel::dsl::exists(
        block_contract_extensions::table
            .filter(block_contract_extensions::block_contract_id.eq(fact.block_contract_id))
            .filter(block_contract_extensions::extensions_used.eq(fact.extensions_used)),
    ))
    .get_result::<bool>(conn)?;
    if exists {
        return Ok(false);
    }
    diesel::insert_into(block_contract_extensions::table)
        .values(BlockExtensionRow::from(fact))
        .execute(conn)?;
    Ok(true)
}

/// A block contract's extensions, by extension number.
pub fn block_extensions(
    conn: &mut DbConnection,
    block_contract_id: BlockContractId,
) -> Result<Vec<BlockExtension>, DbError> {
    Ok(block_contract_extensions::table
        .filter(block_contract_extensions::block_contract_id.eq(block_contract_id))
        .order(block_contract_extensions::extensions_used.asc())
        .select(BlockExtensionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(BlockExtension::from)
        .collect())
}

/// A block contract's bed states, by bed and day.
pub fn bed_events_of(
    conn: &mut DbConnection,
    block_contract_id: BlockContractId,
) -> Result<Vec<BedRecord>, DbError> {
    Ok(bed_events::table
        .filter(bed_events::block_contract_id.eq(block_contract_id))
        .order((bed_events::bed.asc(), bed_events::effective_from.asc()))
        .select(BedEventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(BedRecord::from)
        .collect())
}

/// Records a bed's state from a day. With `replace`, it replaces what was recorded for that
/// bed, day and state (an explicit `bed_void` or `bed_filled`); without, it is only written
/// if nothing was (a void implied by a placement's end does not override a `bed_void`).
/// False if what was recorded stands.
pub fn put_bed_event(
    conn: &mut DbConnection,
    fact: BedRecord,
    replace: bool,
) -> Result<bool, DbError> {
    let key = bed_events::table
        .filter(bed_events::block_contract_id.eq(fact.block_contract_id))
        .filter(bed_events::bed.eq(fact.bed))
        .filter(bed_events::effective_from.eq(fact.effective_from))
        .filter(bed_events::state.eq(fact.state));
    let exists = diesel::select(diesel::dsl::exists(key)).get_result::<bool>(conn)?;
    if exists && !replace {
        return Ok(false);
    }
    diesel::delete(key).execute(conn)?;
    diesel::insert_into(bed_events::table)
        .values(BedEventRow::from(fact))
        .execute(conn)?;
    Ok(true)
}

/// A service contract as let, if it has arrived.
pub fn service_contract(
    conn: &mut DbConnection,
    id: ServiceContractId,
) -> Result<Option<ServiceContract>, DbError> {
    Ok(service_contracts::table
        .find(id)
        .select(ServiceContractRow::as_select())
        .first(conn)
        .optional()?
        .map(ServiceContract::from))
}

/// Records a let service contract; false if it was recorded already.
pub fn insert_service_contract(
    conn: &mut DbConnection,
    fact: ServiceContract,
) -> Result<bool, DbError> {
    if service_contract(conn, fact.contract_id)?.is_some() {
        return Ok(false);
    }
    diesel::insert_into(service_contracts::table)
        .values(ServiceContractRow::from(fact))
        .execute(conn)?;
    Ok(true)
}

/// A service contract's extensions, by extension number.
pub fn extensions(
    conn: &mut DbConnection,
    id: ServiceContractId,
) -> Result<Vec<ServiceExtension>, DbError> {
    Ok(service_contract_extensions::table
        .filter(service_contract_extensions::contract_id.eq(id))
        .order(service_contract_extensions::extensions_used.asc())
        .select(ExtensionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ServiceExtension::from)
        .collect())
}

/// Records an extension (one per extension number); false if recorded already.
pub fn insert_extension(conn: &mut DbConnection, fact: ServiceExtension) -> Result<bool, DbError> {
    let exists = diesel::select(diesel::dsl::exists(
        service_contract_extensions::table
            .filter(service_contract_extensions::contract_id.eq(fact.contract_id))
            .filter(service_contract_extensions::extensions_used.eq(fact.extensions_used)),
    ))
    .get_result::<bool>(conn)?;
    if exists {
        return Ok(false);
    }
    diesel::insert_into(service_contract_extensions::table)
        .values(ExtensionRow::from(fact))
        .execute(conn)?;
    Ok(true)
}

/// A contract's variations, in the order they were made (variation ids are UUIDv7).
pub fn variations(
    conn: &mut DbConnection,
    id: ServiceContractId,
) -> Result<Vec<Variation>, DbError> {
    Ok(service_contract_variations::table
        .filter(service_contract_variations::contract_id.eq(id))
        .order(service_contract_variations::variation_id.asc())
        .select(VariationRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Variation::from)
        .collect())
}

/// Records a variation (one per variation id); false if recorded already.
pub fn insert_variation(conn: &mut DbConnection, fact: Variation) -> Result<bool, DbError> {
    let exists = diesel::select(diesel::dsl::exists(
        service_contract_variations::table
            .filter(service_contract_variations::contract_id.eq(fact.contract_id))
            .filter(service_contract_variations::variation_id.eq(fact.variation_id)),
    ))
    .get_result::<bool>(conn)?;
    if exists {
        return Ok(false);
    }
    diesel::insert_into(service_contract_variations::table)
        .values(VariationRow::from(fact))
        .execute(conn)?;
    Ok(true)
}

/// A service contract's termination, if one has arrived.
pub fn termination(
    conn: &mut DbConnection,
    id: ServiceContractId,
) -> Result<Option<Termination>, DbError> {
    Ok(service_contract_terminations::table
        .find(id)
        .select(TerminationRow::as_select())
        .first(conn)
        .optional()?
        .map(Termination::from))
}

/// Records a termination; false if one was recorded already (the first stands).
pub fn insert_termination(conn: &mut DbConnection, fact: Termination) -> Result<bool, DbError> {
    if termination(conn, fact.contract_id)?.is_some() {
        return Ok(false);
    }
    diesel::insert_into(service_contract_terminations::table)
        .values(TerminationRow::from(fact))
        .execute(conn)?;
    Ok(true)
}
