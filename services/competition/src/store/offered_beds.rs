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
    domain::{OfferedBed, homes::VacancyStatus},
    ids::{BlockContractId, HomeId, LotId, VacancyId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = offered_beds)]
struct OfferedBedRow {
    id: VacancyId,
    partnership: String,
    block_contract_id: BlockContractId,
    bed: i32,
    provider_id: String,
    offered_by: String,
    offered_to: Json<Vec<String>>,
    lot_id: Option<LotId>,
    home_id: Option<HomeId>,
    postcode_district: String,
    available_from: NaiveDate,
    expires_on: NaiveDate,
    status: VacancyStatus,
    filled_by: Option<String>,
    filled_on: Option<NaiveDate>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<OfferedBedRow> for OfferedBed {
    fn from(r: OfferedBedRow) -> Self {
        Self {
            id: r.id,
            partnership: r.partnership,
            block_contract_id: r.block_contract_id,
            bed: r.bed,
            provider_id: r.provider_id,
            offered_by: r.offered_by,
            offered_to: r.offered_to.0,
            lot_id: r.lot_id,
            home_id: r.home_id,
            postcode_district: r.postcode_district,
            available_from: r.available_from,
            expires_on: r.expires_on,
            status: r.status,
            filled_by: r.filled_by,
            filled_on: r.filled_on,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl From<&OfferedBed> for OfferedBedRow {
    fn from(o: &OfferedBed) -> Self {
        Self {
            id: o.id,
            partnership: o.partnership.clone(),
            block_contract_id: o.block_contract_id,
            bed: o.bed,
            provider_id: o.provider_id.clone(),
            offered_by: o.offered_by.clone(),
            offered_to: Json(o.offered_to.clone()),
            lot_id: o.lot_id,
            home_id: o.home_id,
            postcode_district: o.postcode_district.clone(),
            available_from: o.available_from,
            expires_on: o.expires_on,
            status: o.status,
            filled_by: o.filled_by.clone(),
            filled_on: o.filled_on,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

/// Stores a newly listed offer.
pub fn insert_offer(conn: &mut DbConnection, offer: &OfferedBed) -> Result<(), DbError> {
    diesel::insert_into(offered_beds::table)
        .values(OfferedBedRow::from(offer))
        .execute(conn)?;
    Ok(())
}

/// Brings a listed offer up to date with a later announcement of it: who offers it to whom,
/// where, when, and when it changed (its id, bed and creation stay).
pub fn save_offer(conn: &mut DbConnection, offer: &OfferedBed) -> Result<(), DbError> {
    let row = OfferedBedRow::from(offer);
    diesel::update(offered_beds::table.find(&row.id))
        .set((
            offered_beds::offered_by.eq(&row.offered_by),
            offered_beds::offered_to.eq(&row.offered_to),
            offered_beds::lot_id.eq(&row.lot_id),
            offered_beds::home_id.eq(&row.home_id),
            offered_beds::postcode_district.eq(&row.postcode_district),
            offered_beds::available_from.eq(row.available_from),
            offered_beds::expires_on.eq(row.expires_on),
            offered_beds::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Stores that offer `id` was filled: by which council, on which day, recorded at `at`.
pub fn save_filled(
    conn: &mut DbConnection,
    id: &VacancyId,
    council: &str,
    filled_on: NaiveDate,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::update(offered_beds::table.find(id))
        .set((
            offered_beds::status.eq(VacancyStatus::Filled),
            offered_beds::filled_by.eq(Some(council)),
            offered_beds::filled_on.eq(Some(filled_on)),
            offered_beds::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The live offers of a bed (one, unless an offer was announced twice).
pub fn live_offers(
    conn: &mut DbConnection,
    block_contract_id: &BlockContractId,
    bed: i32,
) -> Result<Vec<OfferedBed>, DbError> {
    Ok(offered_beds::table
        .filter(offered_beds::block_contract_id.eq(block_contract_id))
        .filter(offered_beds::bed.eq(bed))
        .filter(offered_beds::status.eq(VacancyStatus::Live))
        .select(OfferedBedRow::as_select())
        .load(conn)?
        .into_iter()
        .map(OfferedBed::from)
        .collect())
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
) -> Result<Vec<OfferedBed>, DbError> {
    let mut q = offered_beds::table
        .filter(offered_beds::status.eq(VacancyStatus::Live))
        .filter(offered_beds::expires_on.ge(today))
        .into_boxed();
    if let Some(lot) = lot_id {
        q = q.filter(offered_beds::lot_id.eq(*lot));
    }
    let rows: Vec<OfferedBed> = q
        .order(offered_beds::id)
        .select(OfferedBedRow::as_select())
        .load(conn)?
        .into_iter()
        .map(OfferedBed::from)
        .collect();
    Ok(rows.into_iter().filter(|r| r.visible_to(council)).collect())
}
