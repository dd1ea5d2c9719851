//! Beds a council offers to its partners under a block contract (`contract.bed_offered`)
//! become vacancies listed to the councils they were offered to, with `offered_by` set, and
//! are withdrawn when the bed is filled (`contract.bed_filled`). Each is announced as
//! `competition.vacancy_published` (with `offered_by`, which notifications turns into
//! `vacancy.offered` for the partner councils) and `competition.vacancy_withdrawn`.
//!
//! Events of one bed may arrive out of order (a failed delivery is retried after the ones
//! behind it). An offer made before the bed's latest fill (by `occurred_at`) is stale and is
//! not listed: the fill is recorded even when no offer is listed yet.
//!
//! A bed offered without a lot is announced with the nil UUID as its `lot_id` (the vacancy
//! event needs one); it is listed with `GET /v1/vacancies?offered=true`.

use chrono::Utc;
use hub_bus::{Events, Handlers};
use hub_events::{BedFilled, BedOffered, Envelope, VacancyPublished, VacancyWithdrawn};
use hub_platform::db::{DbConnection, DbError};
use uuid::Uuid;

use crate::{
    domain::{OfferedBed, homes::VacancyStatus},
    ids::{BlockContractId, HomeId, LotId},
    store::offered_beds,
};

/// The reason an offered bed's vacancy is withdrawn with when a child moves in.
pub const FILLED_REASON: &str = "the bed was filled";

/// The beds consumer: offers listed, fills withdrawn.
pub fn beds() -> Handlers {
    Handlers::new(crate::NAME, "beds")
        .on::<BedOffered>(offered)
        .on::<BedFilled>(filled)
}

fn published(row: &OfferedBed) -> VacancyPublished {
    VacancyPublished {
        vacancy_id: row.id.into(),
        provider_id: row.provider_id.clone(),
        lot_id: row.lot_id.map_or(Uuid::nil(), Uuid::from),
        home_id: row.home_id.map(Uuid::from),
        postcode_district: row.postcode_district.clone(),
        available_from: row.available_from,
        expires_on: row.expires_on,
        offered_by: Some(row.offered_by.clone()),
    }
}

/// Lists the offered bed (or, if the bed's offer is already listed, brings it up to date).
fn offered(
    conn: &mut DbConnection,
    env: &Envelope,
    e: BedOffered,
    events: &mut Events,
) -> Result<(), DbError> {
    let now = Utc::now().naive_utc();
    let block = BlockContractId::from(e.block_contract_id);
    if let Some(filled) = offered_beds::last_filled_at(conn, &block, e.bed as i32)?
        && filled >= env.occurred_at.naive_utc()
    {
        tracing::info!(block_contract_id = %block, bed = e.bed,
            "bed offer older than the bed's latest fill; not listed");
        return Ok(());
    }
    let mut row = OfferedBed {
        id: Uuid::now_v7().into(),
        partnership: env.partnership.clone(),
        block_contract_id: block,
        bed: e.bed as i32,
        provider_id: e.provider_id.clone(),
        offered_by: e.offered_by.clone(),
        offered_to: e.offered_to.clone(),
        lot_id: e.lot_id.map(LotId::from),
        home_id: e.home_id.map(HomeId::from),
        postcode_district: e.postcode_district.clone(),
        available_from: e.available_from,
        expires_on: e.offer_expires_on,
        status: VacancyStatus::Live,
        filled_by: None,
        filled_on: None,
        created_at: now,
        updated_at: now,
    };
    match offered_beds::live_offers(conn, &block, row.bed)?
        .into_iter()
        .next()
    {
        Some(existing) => {
            row.id = existing.id;
            row.created_at = existing.created_at;
            offered_beds::save_offer(conn, &row)?;
        }
        None => offered_beds::insert_offer(conn, &row)?,
    }
    events.emit(&row.partnership, &published(&row));
    tracing::info!(vacancy_id = %row.id, block_contract_id = %block, bed = e.bed, offered_by = %e.offered_by,
        "block-contract bed listed as a vacancy for partner councils");
    Ok(())
}

/// Withdraws the bed's listed offer: a child moved in.
fn filled(
    conn: &mut DbConnection,
    env: &Envelope,
    e: BedFilled,
    events: &mut Events,
) -> Result<(), DbError> {
    let block = BlockContractId::from(e.block_contract_id);
    offered_beds::record_fill(conn, &block, e.bed as i32, env.occurred_at.naive_utc())?;
    for offer in offered_beds::live_offers(conn, &block, e.bed as i32)? {
        offered_beds::save_filled(
            conn,
            &offer.id,
            &e.council,
            e.filled_on,
            Utc::now().naive_utc(),
        )?;
        events.emit(
            &env.partnership,
            &VacancyWithdrawn {
                vacancy_id: offer.id.into(),
                provider_id: offer.provider_id.clone(),
                reason: FILLED_REASON.into(),
            },
        );
        tracing::info!(vacancy_id = %offer.id, block_contract_id = %e.block_contract_id, bed = e.bed,
            "offered bed filled; vacancy withdrawn");
    }
    Ok(())
}
