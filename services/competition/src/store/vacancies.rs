//! Live vacancies providers publish at their homes.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hub_platform::db::{DbConnection, DbError};

use super::schema::*;
use crate::{
    domain::{Vacancy, homes::VacancyStatus},
    ids::{HomeId, LotId, VacancyId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = vacancies)]
struct VacancyRow {
    id: VacancyId,
    provider_id: String,
    lot_id: LotId,
    home_id: HomeId,
    available_from: NaiveDate,
    expires_on: NaiveDate,
    suits: String,
    places: i32,
    status: VacancyStatus,
    withdrawn_reason: Option<String>,
    updated_by: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    revision: i64,
}

impl From<VacancyRow> for Vacancy {
    fn from(r: VacancyRow) -> Self {
        Self {
            id: r.id,
            provider_id: r.provider_id,
            lot_id: r.lot_id,
            home_id: r.home_id,
            available_from: r.available_from,
            expires_on: r.expires_on,
            suits: r.suits,
            places: r.places,
            status: r.status,
            withdrawn_reason: r.withdrawn_reason,
            updated_by: r.updated_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            revision: r.revision,
        }
    }
}

impl From<&Vacancy> for VacancyRow {
    fn from(v: &Vacancy) -> Self {
        Self {
            id: v.id,
            provider_id: v.provider_id.clone(),
            lot_id: v.lot_id,
            home_id: v.home_id,
            available_from: v.available_from,
            expires_on: v.expires_on,
            suits: v.suits.clone(),
            places: v.places,
            status: v.status,
            withdrawn_reason: v.withdrawn_reason.clone(),
            updated_by: v.updated_by.clone(),
            created_at: v.created_at,
            updated_at: v.updated_at,
            revision: v.revision,
        }
    }
}

fn vacancies_of(rows: Vec<VacancyRow>) -> Vec<Vacancy> {
    rows.into_iter().map(Vacancy::from).collect()
}

/// Live vacancies of a lot on `today` (withdrawn and expired ones are not listed).
pub fn live_vacancies(
    conn: &mut DbConnection,
    lot_id: &LotId,
    today: NaiveDate,
) -> Result<Vec<Vacancy>, DbError> {
    Ok(vacancies_of(
        vacancies::table
            .filter(vacancies::lot_id.eq(lot_id))
            .filter(vacancies::status.eq(VacancyStatus::Live))
            .filter(vacancies::expires_on.ge(today))
            .order(vacancies::id)
            .select(VacancyRow::as_select())
            .load(conn)?,
    ))
}

/// A provider's own live vacancies on `today`, in every lot.
pub fn live_vacancies_of(
    conn: &mut DbConnection,
    provider_id: &str,
    today: NaiveDate,
) -> Result<Vec<Vacancy>, DbError> {
    Ok(vacancies_of(
        vacancies::table
            .filter(vacancies::provider_id.eq(provider_id))
            .filter(vacancies::status.eq(VacancyStatus::Live))
            .filter(vacancies::expires_on.ge(today))
            .order(vacancies::id)
            .select(VacancyRow::as_select())
            .load(conn)?,
    ))
}

pub fn vacancy(conn: &mut DbConnection, id: &VacancyId) -> Result<Option<Vacancy>, DbError> {
    Ok(vacancies::table
        .find(id)
        .select(VacancyRow::as_select())
        .first(conn)
        .optional()?
        .map(Vacancy::from))
}

/// Stores a newly published vacancy.
pub fn insert_vacancy(conn: &mut DbConnection, v: &Vacancy) -> Result<(), DbError> {
    diesel::insert_into(vacancies::table)
        .values(VacancyRow::from(v))
        .execute(conn)?;
    Ok(())
}

/// Stores what a provider changes of a vacancy: its dates, who it suits, its places, its
/// status (a withdrawal, and why) and who changed it when (its home and lot stay), if it is
/// still at `v.revision` (412 otherwise: compare-and-set); raises `v.revision`.
pub fn save_vacancy(conn: &mut DbConnection, v: &mut Vacancy) -> Result<(), DbError> {
    let updated = diesel::update(
        vacancies::table
            .find(&v.id)
            .filter(vacancies::revision.eq(v.revision)),
    )
    .set((
        vacancies::available_from.eq(v.available_from),
        vacancies::expires_on.eq(v.expires_on),
        vacancies::suits.eq(&v.suits),
        vacancies::places.eq(v.places),
        vacancies::status.eq(v.status),
        vacancies::withdrawn_reason.eq(&v.withdrawn_reason),
        vacancies::updated_by.eq(&v.updated_by),
        vacancies::updated_at.eq(v.updated_at),
        vacancies::revision.eq(vacancies::revision + 1),
    ))
    .execute(conn)?;
    super::set_once(updated, &mut v.revision, "vacancy")
}
