//! Block-contract beds offered by a council to its partners: listed as vacancies to the
//! councils they were offered to (and the offering council) until filled or expired.

use crate::schema::*;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hub_platform::{
    db::{DbConnection, DbError},
    sql::Json,
};

use crate::{
    domain::homes::VacancyStatus,
    ids::{BlockContractId, HomeId, LotId, VacancyId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = offered_beds)]
pub struct OfferedBedRow {
    pub id: VacancyId,
    pub partnership: String,
    pub block_contract_id: BlockContractId,
    pub bed: i32,
    pub provider_id: String,
    pub offered_by: String,
    pub offered_to: Json<Vec<String>>,
    pub lot_id: Option<LotId>,
    pub home_id: Option<HomeId>,
    pub postcode_district: String,
    pub available_from: NaiveDate,
    pub expires_on: NaiveDate,
    pub status: VacancyStatus,
    pub filled_by: Option<String>,
    pub filled_on: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl OfferedBedRow {
    /// The offering council and the councils it was offered to see it.
    pub fn visible_to(&self, council: &str) -> bool {
        self.offered_by == council || self.offered_to.iter().any(|c| c == council)
    }
}

/// The live offers of a bed (one, unless an offer was announced twice).
pub fn live_offers(
    conn: &mut DbConnection,
    block_contract_id: &BlockContractId,
    bed: i32,
) -> Result<Vec<OfferedBedRow>, DbError> {
    Ok(offered_beds::table
        .filter(offered_beds::block_contract_id.eq(block_contract_id))
        .filter(offered_beds::bed.eq(bed))
        .filter(offered_beds::status.eq(VacancyStatus::Live))
        .select(OfferedBedRow::as_select())
        .load(conn)?)
}

/// When the bed was last filled (by the time the contract service filled it), if ever.
pub fn last_filled_at(
    conn: &mut DbConnection,
    block_contract_id: &BlockContractId,
    bed: i32,
) -> Result<Option<NaiveDateTime>, DbError> {
    Ok(bed_fills::table
        .find((block_contract_id, bed))
        .select(bed_fills::last_filled_at)
        .first(conn)
        .optional()?)
}

/// Records that the bed was filled at `at`, keeping the latest time.
pub fn record_fill(
    conn: &mut DbConnection,
    block_contract_id: &BlockContractId,
    bed: i32,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    match last_filled_at(conn, block_contract_id, bed)? {
        Some(last) if last >= at => {}
        Some(_) => {
            diesel::update(bed_fills::table.find((block_contract_id, bed)))
                .set(bed_fills::last_filled_at.eq(at))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(bed_fills::table)
                .values((
                    bed_fills::block_contract_id.eq(block_contract_id),
                    bed_fills::bed.eq(bed),
                    bed_fills::last_filled_at.eq(at),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Live, unexpired offers `council` may see on `today`, in `lot_id` if given.
pub fn visible_live(
    conn: &mut DbConnection,
    council: &str,
    lot_id: Option<&LotId>,
    today: NaiveDate,
) -> Result<Vec<OfferedBedRow>, DbError> {
    let mut q = offered_beds::table
        .filter(offered_beds::status.eq(VacancyStatus::Live))
        .filter(offered_beds::expires_on.ge(today))
        .into_boxed();
    if let Some(lot) = lot_id {
        q = q.filter(offered_beds::lot_id.eq(*lot));
    }
    let rows: Vec<OfferedBedRow> = q
        .order(offered_beds::id)
        .limit(1000)
        .select(OfferedBedRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().filter(|r| r.visible_to(council)).collect())
}
