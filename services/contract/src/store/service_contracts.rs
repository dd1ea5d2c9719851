//! Service contracts let by a lead commissioner for all partners.

use chrono::NaiveDate;
use hub_bus::Events;
use hub_platform::db::{DbConnection, DbError};

/// Raises `contract.service_contract_expiring` for each contract that has reached one of its
/// alert lead times by `today` (once per lead time).
pub fn sweep(
    _conn: &mut DbConnection,
    _today: NaiveDate,
    _events: &mut Events,
) -> Result<usize, DbError> {
    Ok(0)
}
