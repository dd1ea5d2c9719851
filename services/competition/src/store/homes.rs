//! Providers' homes and fostering households, offered under a lot.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hub_platform::{
    db::{DbConnection, DbError},
    sql::Json,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::*;
use crate::{
    domain::{
        homes::{HomeKind, OfstedRating},
        preselection::HomeFacts,
    },
    ids::{HomeId, LotId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = homes)]
pub struct HomeRow {
    pub id: HomeId,
    pub lot_id: LotId,
    pub provider_id: String,
    pub name: String,
    pub kind: HomeKind,
    pub latitude: f64,
    pub longitude: f64,
    pub postcode_district: String,
    pub registered_places: i32,
    pub occupied_places: i32,
    pub genders_accepted: Json<Vec<String>>,
    pub min_age_years: i32,
    pub max_age_years: i32,
    pub specialisms: Json<Vec<String>>,
    pub ofsted_rating: Option<OfstedRating>,
    pub emergency_capacity: bool,
    pub educational_provision: Json<Vec<String>>,
    pub updated_by: String,
    pub updated_at: NaiveDateTime,
}

impl HomeRow {
    pub fn facts(&self, live_vacancy: bool) -> HomeFacts {
        HomeFacts {
            id: self.id.to_string(),
            name: self.name.clone(),
            latitude: self.latitude,
            longitude: self.longitude,
            registered_places: self.registered_places.max(0) as u32,
            occupied_places: self.occupied_places.max(0) as u32,
            genders_accepted: self.genders_accepted.0.clone(),
            min_age_years: self.min_age_years.max(0) as u32,
            max_age_years: self.max_age_years.max(0) as u32,
            emergency_capacity: self.emergency_capacity,
            educational_provision: self.educational_provision.0.clone(),
            live_vacancy,
        }
    }

    pub fn view(&self) -> HomeView {
        HomeView {
            id: self.id,
            lot_id: self.lot_id,
            provider_id: self.provider_id.clone(),
            name: self.name.clone(),
            kind: self.kind,
            latitude: self.latitude,
            longitude: self.longitude,
            postcode_district: self.postcode_district.clone(),
            registered_places: self.registered_places,
            occupied_places: self.occupied_places,
            genders_accepted: self.genders_accepted.0.clone(),
            min_age_years: self.min_age_years,
            max_age_years: self.max_age_years,
            specialisms: self.specialisms.0.clone(),
            ofsted_rating: self.ofsted_rating,
            emergency_capacity: self.emergency_capacity,
            educational_provision: self.educational_provision.0.clone(),
            updated_by: self.updated_by.clone(),
            updated_at: self.updated_at,
        }
    }
}

/// A home or fostering household as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HomeView {
    pub id: HomeId,
    pub lot_id: LotId,
    pub provider_id: String,
    pub name: String,
    pub kind: HomeKind,
    pub latitude: f64,
    pub longitude: f64,
    pub postcode_district: String,
    pub registered_places: i32,
    pub occupied_places: i32,
    pub genders_accepted: Vec<String>,
    pub min_age_years: i32,
    pub max_age_years: i32,
    pub specialisms: Vec<String>,
    pub ofsted_rating: Option<OfstedRating>,
    pub emergency_capacity: bool,
    pub educational_provision: Vec<String>,
    pub updated_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

pub fn homes_in_lot(conn: &mut DbConnection, lot_id: &LotId) -> Result<Vec<HomeRow>, DbError> {
    Ok(homes::table
        .filter(homes::lot_id.eq(lot_id))
        .order((homes::provider_id, homes::name))
        .select(HomeRow::as_select())
        .load(conn)?)
}

pub fn home(conn: &mut DbConnection, id: &HomeId) -> Result<Option<HomeRow>, DbError> {
    Ok(homes::table
        .find(id)
        .select(HomeRow::as_select())
        .first(conn)
        .optional()?)
}

/// The homes of `ids` that exist (one query).
pub fn homes(conn: &mut DbConnection, ids: &[HomeId]) -> Result<Vec<HomeRow>, DbError> {
    Ok(homes::table
        .filter(homes::id.eq_any(ids))
        .select(HomeRow::as_select())
        .load(conn)?)
}
