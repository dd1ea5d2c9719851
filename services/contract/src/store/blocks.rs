//! Block contracts' beds, as the placement code sees them. The placement code calls these
//! three functions inside its own write transaction; everything else about block contracts
//! (letting, voids, offers to partners, savings) lives behind them.

use chrono::NaiveDate;
use hub_bus::Events;
use hub_platform::db::{DbConnection, DbError};

/// What a placement in a block bed takes from the block contract.
#[derive(Debug, Clone)]
pub struct BedAdmission {
    pub partnership: String,
    pub provider_id: String,
    /// The block weekly rate: what the bed costs, whoever's child is in it.
    pub weekly_rate_pence: i64,
}

/// Checks that `council`'s child may move into `bed` of the block contract on `on`: the bed
/// exists, is empty that day, and is held for `council` or has been offered to it. Refusals
/// are problems (404 for a contract the council may not see, 409 for a bed in use).
pub fn admit_to_bed(
    _conn: &mut DbConnection,
    _council: &str,
    _block_contract_id: &str,
    _bed: u16,
    _on: NaiveDate,
) -> Result<BedAdmission, DbError> {
    Err(anyhow::anyhow!("block contracts are not built yet").into())
}

/// A placement moved into the bed on `on` (emits `contract.bed_filled` when it was void).
pub fn bed_filled(
    _conn: &mut DbConnection,
    _block_contract_id: &str,
    _bed: u16,
    _placement_id: &str,
    _council: &str,
    _on: NaiveDate,
    _events: &mut Events,
) -> Result<(), DbError> {
    Ok(())
}

/// The placement in the bed ended; `last_night` is its end date, so the bed is void from
/// the day after (emits `contract.bed_void`).
pub fn bed_emptied(
    _conn: &mut DbConnection,
    _block_contract_id: &str,
    _bed: u16,
    _placement_id: &str,
    _last_night: NaiveDate,
    _events: &mut Events,
) -> Result<(), DbError> {
    Ok(())
}

/// Offers beds void for longer than their contract's set number of days to the
/// partnership's other councils (`contract.bed_offered`, once per void).
pub fn sweep(
    _conn: &mut DbConnection,
    _today: NaiveDate,
    _events: &mut Events,
) -> Result<usize, DbError> {
    Ok(0)
}
