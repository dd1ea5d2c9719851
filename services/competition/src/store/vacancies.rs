//! Live vacancies providers publish at their homes.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hub_platform::db::{DbConnection, DbError};
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::*;
use crate::{
    domain::homes::VacancyStatus,
    ids::{HomeId, LotId, VacancyId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = vacancies)]
pub struct VacancyRow {
    pub id: VacancyId,
    pub provider_id: String,
    pub lot_id: LotId,
    pub home_id: HomeId,
    pub available_from: NaiveDate,
    pub expires_on: NaiveDate,
    pub suits: String,
    pub places: i32,
    pub status: VacancyStatus,
    pub withdrawn_reason: Option<String>,
    pub updated_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

/// Live vacancies of a lot on `today` (withdrawn and expired ones are not listed).
pub fn live_vacancies(
    conn: &mut DbConnection,
    lot_id: &LotId,
    today: NaiveDate,
) -> Result<Vec<VacancyRow>, DbError> {
    Ok(vacancies::table
        .filter(vacancies::lot_id.eq(lot_id))
        .filter(vacancies::status.eq(VacancyStatus::Live))
        .filter(vacancies::expires_on.ge(today))
        .order(vacancies::id)
        .select(VacancyRow::as_select())
        .load(conn)?)
}

/// A provider's own live vacancies on `today`, in every lot.
pub fn live_vacancies_of(
    conn: &mut DbConnection,
    provider_id: &str,
    today: NaiveDate,
) -> Result<Vec<VacancyRow>, DbError> {
    Ok(vacancies::table
        .filter(vacancies::provider_id.eq(provider_id))
        .filter(vacancies::status.eq(VacancyStatus::Live))
        .filter(vacancies::expires_on.ge(today))
        .order(vacancies::id)
        .select(VacancyRow::as_select())
        .load(conn)?)
}

pub fn vacancy(conn: &mut DbConnection, id: &VacancyId) -> Result<Option<VacancyRow>, DbError> {
    Ok(vacancies::table
        .find(id)
        .select(VacancyRow::as_select())
        .first(conn)
        .optional()?)
}
