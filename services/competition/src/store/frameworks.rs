//! Frameworks, their lots and admission rounds, and the providers admitted to each lot
//! (Provider Responses, with their prices by need level).

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hub_platform::{
    Pence,
    db::{DbConnection, DbError},
    sql::Json,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::*;
use crate::{
    domain::{
        FrameworkKind, RoundKind,
        criteria::{Criterion, fallback_criteria},
    },
    ids::{FrameworkId, LotId, RoundId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = frameworks)]
pub struct FrameworkRow {
    pub id: FrameworkId,
    pub partnership: String,
    pub name: String,
    pub kind: FrameworkKind,
    pub lead_commissioner: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub review_date: NaiveDate,
    #[serde(skip)]
    pub purchasing_bodies: Option<Json<Vec<String>>>,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

impl FrameworkRow {
    /// The councils that may call off: as set up, or (frameworks set up before purchasing
    /// bodies were recorded) the partnership's members.
    pub fn purchasing_bodies(&self) -> Vec<String> {
        self.purchasing_bodies
            .as_ref()
            .map(|b| b.0.clone())
            .unwrap_or_else(|| {
                hub_platform::directory::partnership(&self.partnership)
                    .map(|p| p.members.iter().map(|m| (*m).to_owned()).collect())
                    .unwrap_or_default()
            })
    }

    pub fn may_call_off(&self, council: &str) -> bool {
        self.purchasing_bodies().iter().any(|b| b == council)
    }

    /// Councils that may read the framework: the lead, the purchasing bodies, the
    /// partnership's members.
    pub fn visible_to_council(&self, org: &str) -> bool {
        self.lead_commissioner == org
            || self.may_call_off(org)
            || hub_platform::directory::partnership(&self.partnership)
                .is_some_and(|p| p.has_member(org))
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = lots)]
pub struct LotRow {
    pub id: LotId,
    pub framework_id: FrameworkId,
    pub name: String,
    pub placement_type: String,
    pub min_age_years: Option<i32>,
    pub max_age_years: Option<i32>,
    pub cohort: Option<String>,
    #[serde(skip)]
    pub default_criteria: Option<Json<Vec<Criterion>>>,
}

impl LotRow {
    /// The criteria a competition on this lot starts from.
    pub fn criteria(&self) -> Vec<Criterion> {
        self.default_criteria
            .as_ref()
            .map_or_else(fallback_criteria, |c| c.0.clone())
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = admission_rounds)]
pub struct RoundRow {
    pub id: RoundId,
    pub framework_id: FrameworkId,
    pub kind: RoundKind,
    pub note: Option<String>,
    pub closes_on: Option<NaiveDate>,
    pub opened_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub opened_at: NaiveDateTime,
    pub closed_by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<NaiveDateTime>,
}

impl RoundRow {
    pub fn is_open(&self, today: NaiveDate) -> bool {
        crate::domain::round_is_open(self.closed_at.is_some(), self.closes_on, today)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = admissions)]
pub struct AdmissionRow {
    pub lot_id: LotId,
    pub provider_id: String,
    pub provider_name: String,
    /// The standard rate (else the lowest): what a single price meant before need levels.
    #[schema(value_type = i64)]
    pub weekly_price_pence: Pence,
    #[serde(skip)]
    pub prices: Json<BTreeMap<String, i64>>,
    pub capacity: Option<i32>,
    pub round_id: Option<RoundId>,
    pub admitted_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub admitted_at: NaiveDateTime,
}

impl AdmissionRow {
    pub fn prices(&self) -> BTreeMap<String, i64> {
        self.prices.0.clone()
    }
}

pub fn framework(
    conn: &mut DbConnection,
    id: &FrameworkId,
) -> Result<Option<FrameworkRow>, DbError> {
    Ok(frameworks::table
        .find(id)
        .select(FrameworkRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn lots_of(
    conn: &mut DbConnection,
    framework_id: &FrameworkId,
) -> Result<Vec<LotRow>, DbError> {
    Ok(lots::table
        .filter(lots::framework_id.eq(framework_id))
        .order(lots::id)
        .select(LotRow::as_select())
        .load(conn)?)
}

pub fn lot(conn: &mut DbConnection, id: &LotId) -> Result<Option<LotRow>, DbError> {
    Ok(lots::table
        .find(id)
        .select(LotRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn rounds_of(
    conn: &mut DbConnection,
    framework_id: &FrameworkId,
) -> Result<Vec<RoundRow>, DbError> {
    Ok(admission_rounds::table
        .filter(admission_rounds::framework_id.eq(framework_id))
        .order(admission_rounds::opened_at)
        .select(RoundRow::as_select())
        .load(conn)?)
}

pub fn admitted(conn: &mut DbConnection, lot_id: &LotId) -> Result<Vec<AdmissionRow>, DbError> {
    Ok(admissions::table
        .filter(admissions::lot_id.eq(lot_id))
        .order(admissions::provider_id)
        .select(AdmissionRow::as_select())
        .load(conn)?)
}

/// The providers admitted to a lot, by id.
pub fn admitted_providers(conn: &mut DbConnection, lot_id: &LotId) -> Result<Vec<String>, DbError> {
    Ok(admitted(conn, lot_id)?
        .into_iter()
        .map(|a| a.provider_id)
        .collect())
}

/// Every admission of every lot of a framework (one query).
pub fn admitted_in_framework(
    conn: &mut DbConnection,
    framework_id: &FrameworkId,
) -> Result<Vec<AdmissionRow>, DbError> {
    let lot_ids = lots::table
        .filter(lots::framework_id.eq(*framework_id))
        .select(lots::id);
    Ok(admissions::table
        .filter(admissions::lot_id.eq_any(lot_ids))
        .order((admissions::lot_id, admissions::provider_id))
        .select(AdmissionRow::as_select())
        .load(conn)?)
}

pub fn admission(
    conn: &mut DbConnection,
    lot_id: &LotId,
    provider_id: &str,
) -> Result<Option<AdmissionRow>, DbError> {
    Ok(admissions::table
        .find((lot_id, provider_id))
        .select(AdmissionRow::as_select())
        .first(conn)
        .optional()?)
}

/// The names providers were admitted under, by lot and provider (one query).
pub fn provider_names(
    conn: &mut DbConnection,
    lot_ids: &[LotId],
) -> Result<std::collections::HashMap<(LotId, String), String>, DbError> {
    Ok(admissions::table
        .filter(admissions::lot_id.eq_any(lot_ids))
        .select((
            admissions::lot_id,
            admissions::provider_id,
            admissions::provider_name,
        ))
        .load::<(LotId, String, String)>(conn)?
        .into_iter()
        .map(|(l, p, n)| ((l, p), n))
        .collect())
}
