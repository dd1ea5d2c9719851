//! Providers' homes and fostering households, offered under a lot.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hub_platform::{
    db::{DbConnection, DbError},
    sql::Json,
};

use super::schema::*;
use crate::{
    domain::{
        Home,
        homes::{HomeKind, OfstedRating},
    },
    ids::{HomeId, LotId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = homes)]
struct HomeRow {
    id: HomeId,
    lot_id: LotId,
    provider_id: String,
    name: String,
    kind: HomeKind,
    latitude: f64,
    longitude: f64,
    postcode_district: String,
    registered_places: i32,
    occupied_places: i32,
    genders_accepted: Json<Vec<String>>,
    min_age_years: i32,
    max_age_years: i32,
    specialisms: Json<Vec<String>>,
    ofsted_rating: Option<OfstedRating>,
    emergency_capacity: bool,
    educational_provision: Json<Vec<String>>,
    updated_by: String,
    updated_at: NaiveDateTime,
    revision: i64,
}

impl From<HomeRow> for Home {
    fn from(r: HomeRow) -> Self {
        Self {
            id: r.id,
            lot_id: r.lot_id,
            provider_id: r.provider_id,
            name: r.name,
            kind: r.kind,
            latitude: r.latitude,
            longitude: r.longitude,
            postcode_district: r.postcode_district,
            registered_places: r.registered_places,
            occupied_places: r.occupied_places,
            genders_accepted: r.genders_accepted.0,
            min_age_years: r.min_age_years,
            max_age_years: r.max_age_years,
            specialisms: r.specialisms.0,
            ofsted_rating: r.ofsted_rating,
            emergency_capacity: r.emergency_capacity,
            educational_provision: r.educational_provision.0,
            updated_by: r.updated_by,
            updated_at: r.updated_at,
            revision: r.revision,
        }
    }
}

impl From<&Home> for HomeRow {
    fn from(h: &Home) -> Self {
        Self {
            id: h.id,
            lot_id: h.lot_id,
            provider_id: h.provider_id.clone(),
            name: h.name.clone(),
            kind: h.kind,
            latitude: h.latitude,
            longitude: h.longitude,
            postcode_district: h.postcode_district.clone(),
            registered_places: h.registered_places,
            occupied_places: h.occupied_places,
            genders_accepted: Json(h.genders_accepted.clone()),
            min_age_years: h.min_age_years,
            max_age_years: h.max_age_years,
            specialisms: Json(h.specialisms.clone()),
            ofsted_rating: h.ofsted_rating,
            emergency_capacity: h.emergency_capacity,
            educational_provision: Json(h.educational_provision.clone()),
            updated_by: h.updated_by.clone(),
            updated_at: h.updated_at,
            revision: h.revision,
        }
    }
}

fn homes_of(rows: Vec<HomeRow>) -> Vec<Home> {
    rows.into_iter().map(Home::from).collect()
}

pub fn homes_in_lot(conn: &mut DbConnection, lot_id: &LotId) -> Result<Vec<Home>, DbError> {
    Ok(homes_of(
        homes::table
            .filter(homes::lot_id.eq(lot_id))
            .order((homes::provider_id, homes::name))
            .select(HomeRow::as_select())
            .load(conn)?,
    ))
}

pub fn home(conn: &mut DbConnection, id: &HomeId) -> Result<Option<Home>, DbError> {
    Ok(homes::table
        .find(id)
        .select(HomeRow::as_select())
        .first(conn)
        .optional()?
        .map(Home::from))
}

/// The homes of `ids` that exist (one query).
pub fn homes(conn: &mut DbConnection, ids: &[HomeId]) -> Result<Vec<Home>, DbError> {
    Ok(homes_of(
        homes::table
            .filter(homes::id.eq_any(ids))
            .select(HomeRow::as_select())
            .load(conn)?,
    ))
}

/// Stores a new home.
pub fn insert_home(conn: &mut DbConnection, home: &Home) -> Result<(), DbError> {
    diesel::insert_into(homes::table)
        .values(HomeRow::from(home))
        .execute(conn)?;
    Ok(())
}

/// Replaces a home's details (its id, lot and provider stay), if it is still at
/// `home.revision` (412 otherwise: compare-and-set), and raises `home.revision`.
pub fn save_home(conn: &mut DbConnection, home: &mut Home) -> Result<(), DbError> {
    let row = HomeRow::from(&*home);
    let updated = diesel::update(
        homes::table
            .find(&row.id)
            .filter(homes::revision.eq(row.revision)),
    )
    .set((
        homes::name.eq(&row.name),
        homes::kind.eq(&row.kind),
        homes::latitude.eq(row.latitude),
        homes::longitude.eq(row.longitude),
        homes::postcode_district.eq(&row.postcode_district),
        homes::registered_places.eq(row.registered_places),
        homes::occupied_places.eq(row.occupied_places),
        homes::genders_accepted.eq(&row.genders_accepted),
        homes::min_age_years.eq(row.min_age_years),
        homes::max_age_years.eq(row.max_age_years),
        homes::specialisms.eq(&row.specialisms),
        homes::ofsted_rating.eq(&row.ofsted_rating),
        homes::emergency_capacity.eq(row.emergency_capacity),
        homes::educational_provision.eq(&row.educational_provision),
        homes::updated_by.eq(&row.updated_by),
        homes::updated_at.eq(row.updated_at),
        homes::revision.eq(homes::revision + 1),
    ))
    .execute(conn)?;
    super::set_once(updated, &mut home.revision, "home")
}
