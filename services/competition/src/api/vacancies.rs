//! Live vacancies: providers publish, update and withdraw them; councils list them by lot
//! and distance. They replace the monthly spreadsheet.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use diesel::prelude::*;
use hub_events::{VacancyPublished, VacancyWithdrawn};
use hub_platform::{
    DbConnection, FieldError, Principal, Problem, Role,
    db::DbError,
    directory::distance_miles,
    http::{Json, Validate},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{CompetitionState, optional_body};
use crate::store::stored_uuid as uuid;
use crate::{
    domain::homes::{HomeKind, NewVacancy, OfstedRating, VacancyUpdate, expired_on_arrival, is_live},
    store::{
        self, VacancyRow, now,
        offered_beds::{self, OfferedBedRow},
        schema::*,
    },
};

fn published(v: &VacancyRow, postcode_district: &str) -> Result<VacancyPublished, DbError> {
    Ok(VacancyPublished {
        vacancy_id: uuid(&v.id)?,
        provider_id: v.provider_id.clone(),
        lot_id: uuid(&v.lot_id)?,
        home_id: Some(uuid(&v.home_id)?),
        postcode_district: postcode_district.to_owned(),
        available_from: v.available_from,
        expires_on: v.expires_on,
        offered_by: None,
    })
}

/// The partnership of a lot's framework (what vacancy events are filed under).
fn partnership_of_lot(conn: &mut DbConnection, lot_id: &str) -> Result<String, DbError> {
    let lot = store::lot(conn, lot_id)?.ok_or_else(|| Problem::not_found("lot"))?;
    let fw = store::framework(conn, &lot.framework_id)?
        .ok_or_else(|| Problem::not_found("framework"))?;
    Ok(fw.partnership)
}

/// The caller's own vacancy, or 404.
fn own_vacancy(conn: &mut DbConnection, who: &Principal, id: &str) -> Result<VacancyRow, DbError> {
    who.require_any(&[Role::Provider])?;
    Ok(store::vacancy(conn, id)?
        .filter(|v| v.provider_id == who.org)
        .ok_or_else(|| Problem::not_found("vacancy"))?)
}

/// Publish a live vacancy at one of the provider's homes in a lot it is admitted to.
#[utoipa::path(post, path = "/v1/vacancies", tag = "competition", request_body = NewVacancy,
    responses((status = 201, body = VacancyRow), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn publish(
    state: web::Data<CompetitionState>,
    who: Principal,
    body: Json<NewVacancy>,
) -> Result<HttpResponse, Problem> {
    who.require_any(&[Role::Provider])?;
    let input = body.0;
    let row = state
        .store
        .write(move |conn, events| {
            let today = Utc::now().date_naive();
            if let Some(e) = expired_on_arrival(input.expires_on, today) {
                return Err(Problem::validation(vec![e]).into());
            }
            let lot_id = input.lot_id.to_string();
            if store::admission(conn, &lot_id, &who.org)?.is_none() {
                return Err(Problem::not_found("lot").into());
            }
            let home = store::home(conn, &input.home_id.to_string())?
                .filter(|h| h.provider_id == who.org && h.lot_id == lot_id)
                .ok_or_else(|| {
                    Problem::invalid("/home_id", "exists", "not one of your homes in this lot")
                })?;
            let now = now();
            let row = VacancyRow {
                id: Uuid::now_v7().to_string(),
                provider_id: who.org.clone(),
                lot_id: lot_id.clone(),
                home_id: home.id.clone(),
                available_from: input.available_from,
                expires_on: input.expires_on,
                suits: input.suits.trim().to_owned(),
                places: input.places as i32,
                status: "live".into(),
                withdrawn_reason: None,
                updated_by: who.sub.clone(),
                created_at: now,
                updated_at: now,
            };
            diesel::insert_into(vacancies::table)
                .values(&row)
                .execute(conn)?;
            let partnership = partnership_of_lot(conn, &lot_id)?;
            events.emit(&partnership, &published(&row, &home.postcode_district)?);
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Created().json(row))
}

/// Update a live vacancy (the provider's own): dates, who it suits, places.
#[utoipa::path(put, path = "/v1/vacancies/{id}", tag = "competition", request_body = VacancyUpdate,
    responses((status = 200, body = VacancyRow), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update(
    state: web::Data<CompetitionState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<VacancyUpdate>,
) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    let input = body.0;
    let row = state
        .store
        .write(move |conn, events| {
            let mut row = own_vacancy(conn, &who, &id)?;
            let today = Utc::now().date_naive();
            if !is_live(&row.status, row.expires_on, today) {
                return Err(Problem::conflict(
                    "vacancy-not-live",
                    "the vacancy was withdrawn or has expired: publish a new one",
                )
                .into());
            }
            if let Some(e) = expired_on_arrival(input.expires_on, today) {
                return Err(Problem::validation(vec![e]).into());
            }
            row.available_from = input.available_from;
            row.expires_on = input.expires_on;
            row.suits = input.suits.trim().to_owned();
            row.places = input.places as i32;
            row.updated_by = who.sub.clone();
            row.updated_at = now();
            diesel::update(vacancies::table.find(&row.id))
                .set((
                    vacancies::available_from.eq(row.available_from),
                    vacancies::expires_on.eq(row.expires_on),
                    vacancies::suits.eq(&row.suits),
                    vacancies::places.eq(row.places),
                    vacancies::updated_by.eq(&row.updated_by),
                    vacancies::updated_at.eq(row.updated_at),
                ))
                .execute(conn)?;
            let district = store::home(conn, &row.home_id)?
                .map(|h| h.postcode_district)
                .unwrap_or_default();
            let partnership = partnership_of_lot(conn, &row.lot_id)?;
            events.emit(&partnership, &published(&row, &district)?);
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(row))
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Withdraw {
    #[serde(default)]
    pub reason: Option<String>,
}

impl Validate for Withdraw {}

/// Withdraw a vacancy (the provider's own), e.g. because the place was filled.
#[utoipa::path(post, path = "/v1/vacancies/{id}/withdraw", tag = "competition", request_body = Withdraw,
    responses((status = 200, body = VacancyRow), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn withdraw(
    state: web::Data<CompetitionState>,
    who: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let input: Withdraw = optional_body(&body)?;
    let id = id.into_inner();
    let row = state
        .store
        .write(move |conn, events| {
            let mut row = own_vacancy(conn, &who, &id)?;
            if row.status != "live" {
                return Err(Problem::conflict(
                    "vacancy-not-live",
                    "the vacancy is already withdrawn",
                )
                .into());
            }
            let reason = input
                .reason
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| "withdrawn by the provider".to_owned());
            row.status = "withdrawn".into();
            row.withdrawn_reason = Some(reason.clone());
            row.updated_by = who.sub.clone();
            row.updated_at = now();
            diesel::update(vacancies::table.find(&row.id))
                .set((
                    vacancies::status.eq(&row.status),
                    vacancies::withdrawn_reason.eq(&row.withdrawn_reason),
                    vacancies::updated_by.eq(&row.updated_by),
                    vacancies::updated_at.eq(row.updated_at),
                ))
                .execute(conn)?;
            let partnership = partnership_of_lot(conn, &row.lot_id)?;
            events.emit(
                &partnership,
                &VacancyWithdrawn {
                    vacancy_id: uuid(&row.id)?,
                    provider_id: row.provider_id.clone(),
                    reason,
                },
            );
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(row))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct VacancyQuery {
    /// The lot (required for councils).
    pub lot_id: Option<String>,
    /// A point to measure from (with `longitude`): results come nearest first.
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Only vacancies within this many miles of the point.
    pub max_miles: Option<f64>,
    /// Councils: only the block-contract beds partner councils offer to the caller's
    /// council (every lot; `lot_id` not needed). With a lot, its offered beds are listed
    /// beside the providers' vacancies anyway.
    pub offered: Option<bool>,
}

/// A live vacancy as listed: where it is and how far from the point asked about. A bed a
/// partner council offers under a block contract has `offered_by`, `block_contract_id` and
/// `bed`; its home's details are given when the home is known here.
#[derive(Debug, Serialize, ToSchema)]
pub struct VacancyListing {
    #[serde(flatten)]
    pub vacancy: VacancyRow,
    pub provider_name: String,
    pub home_name: Option<String>,
    pub home_kind: Option<HomeKind>,
    pub postcode_district: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub registered_places: Option<i32>,
    pub ofsted_rating: Option<OfstedRating>,
    pub emergency_capacity: bool,
    /// Great-circle miles from the point asked about.
    pub distance_miles: Option<f64>,
    /// The council offering the bed (block contracts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offered_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_contract_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bed: Option<u16>,
}

/// An offered bed as a vacancy row: one place, live, from the contract service.
fn offered_vacancy(o: &OfferedBedRow) -> VacancyRow {
    let by = hub_platform::directory::council(&o.offered_by)
        .map(|c| c.name)
        .unwrap_or(&o.offered_by);
    VacancyRow {
        id: o.id.clone(),
        provider_id: o.provider_id.clone(),
        lot_id: o.lot_id.clone().unwrap_or_default(),
        home_id: o.home_id.clone().unwrap_or_default(),
        available_from: o.available_from,
        expires_on: o.expires_on,
        suits: format!("bed {} of a block contract, offered by {by}", o.bed),
        places: 1,
        status: o.status.clone(),
        withdrawn_reason: None,
        updated_by: "contract.bed_offered".into(),
        created_at: o.created_at,
        updated_at: o.updated_at,
    }
}

/// Live vacancies: councils list a lot's (nearest first from a point, optionally within a
/// radius) with the block-contract beds partner councils offer them in it, or with
/// `offered=true` every bed offered to them; a provider lists its own. Withdrawn, filled and
/// expired vacancies are not listed.
#[utoipa::path(get, path = "/v1/vacancies", tag = "competition", params(VacancyQuery),
    responses((status = 200, body = [VacancyListing]), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    state: web::Data<CompetitionState>,
    who: Principal,
    query: web::Query<VacancyQuery>,
) -> Result<HttpResponse, Problem> {
    let q = query.into_inner();
    let point = match (q.latitude, q.longitude) {
        (Some(lat), Some(lon))
            if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) =>
        {
            Some((lat, lon))
        }
        (None, None) => None,
        _ => {
            return Err(Problem::validation(vec![FieldError::new(
                "latitude",
                "pair",
                "give latitude and longitude together, in degrees",
            )]));
        }
    };
    if q.max_miles.is_some() && point.is_none() {
        return Err(Problem::invalid(
            "max_miles",
            "needs_point",
            "a radius needs latitude and longitude",
        ));
    }
    let offered_only = q.offered == Some(true);
    if !who.is_provider() && q.lot_id.is_none() && !offered_only {
        return Err(Problem::invalid("lot_id", "required", "name the lot"));
    }
    let listings = state
        .store
        .db
        .run(move |conn| {
            let today = Utc::now().date_naive();
            let mut rows = match &q.lot_id {
                _ if offered_only => Vec::new(),
                Some(lot_id) => {
                    let lot = store::lot(conn, lot_id)?.ok_or_else(|| Problem::not_found("lot"))?;
                    if !who.is_provider() {
                        store::framework(conn, &lot.framework_id)?
                            .filter(|f| f.visible_to_council(&who.org))
                            .ok_or_else(|| Problem::not_found("lot"))?;
                    }
                    store::live_vacancies(conn, &lot.id, today)?
                }
                None => vacancies::table
                    .filter(vacancies::provider_id.eq(&who.org))
                    .filter(vacancies::status.eq("live"))
                    .filter(vacancies::expires_on.ge(today))
                    .order(vacancies::id)
                    .select(VacancyRow::as_select())
                    .load(conn)?,
            };
            if who.is_provider() {
                rows.retain(|v| v.provider_id == who.org);
            }
            // Beds partner councils offer to the caller's council, in the lot or in every lot.
            let offers: Vec<OfferedBedRow> = if who.is_provider() {
                Vec::new()
            } else {
                let lot = if offered_only {
                    None
                } else {
                    q.lot_id.as_deref()
                };
                offered_beds::visible_live(conn, &who.org, lot, today)?
            };
            let offered: std::collections::HashMap<String, OfferedBedRow> =
                offers.iter().map(|o| (o.id.clone(), o.clone())).collect();
            rows.extend(offers.iter().map(offered_vacancy));
            let home_ids: Vec<String> = rows.iter().map(|v| v.home_id.clone()).collect();
            let homes: std::collections::HashMap<String, store::HomeRow> = homes::table
                .filter(homes::id.eq_any(&home_ids))
                .select(store::HomeRow::as_select())
                .load(conn)?
                .into_iter()
                .map(|h| (h.id.clone(), h))
                .collect();
            let lot_ids: Vec<String> = rows.iter().map(|v| v.lot_id.clone()).collect();
            let names: std::collections::HashMap<(String, String), String> = admissions::table
                .filter(admissions::lot_id.eq_any(&lot_ids))
                .select((
                    admissions::lot_id,
                    admissions::provider_id,
                    admissions::provider_name,
                ))
                .load::<(String, String, String)>(conn)?
                .into_iter()
                .map(|(l, p, n)| ((l, p), n))
                .collect();
            let mut out: Vec<VacancyListing> = rows
                .into_iter()
                .filter_map(|v| {
                    let offer = offered.get(&v.id);
                    // A provider's vacancy is listed with its home; an offered bed with its
                    // home when known here, else with the district the council gave.
                    let h = homes.get(&v.home_id);
                    if h.is_none() && offer.is_none() {
                        return None;
                    }
                    let distance = point
                        .zip(h)
                        .map(|((lat, lon), h)| distance_miles(lat, lon, h.latitude, h.longitude));
                    Some(VacancyListing {
                        provider_name: names
                            .get(&(v.lot_id.clone(), v.provider_id.clone()))
                            .cloned()
                            .unwrap_or_else(|| v.provider_id.clone()),
                        home_name: h.map(|h| h.name.clone()),
                        home_kind: h.map(|h| h.kind),
                        postcode_district: h
                            .map(|h| h.postcode_district.clone())
                            .or_else(|| offer.map(|o| o.postcode_district.clone()))
                            .unwrap_or_default(),
                        latitude: h.map(|h| h.latitude),
                        longitude: h.map(|h| h.longitude),
                        registered_places: h.map(|h| h.registered_places),
                        ofsted_rating: h.and_then(|h| h.ofsted_rating),
                        emergency_capacity: h.is_some_and(|h| h.emergency_capacity),
                        distance_miles: distance,
                        offered_by: offer.map(|o| o.offered_by.clone()),
                        block_contract_id: offer.map(|o| o.block_contract_id.clone()),
                        bed: offer.map(|o| o.bed as u16),
                        vacancy: v,
                    })
                })
                .filter(|l| match (q.max_miles, l.distance_miles) {
                    (Some(max), Some(d)) => d <= max,
                    _ => true,
                })
                .collect();
            // Nearest first; beds of unknown position after those with one.
            out.sort_by(|a, b| {
                a.distance_miles
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&b.distance_miles.unwrap_or(f64::INFINITY))
                    .then(a.vacancy.available_from.cmp(&b.vacancy.available_from))
                    .then(a.vacancy.id.cmp(&b.vacancy.id))
            });
            Ok(out)
        })
        .await?;
    Ok(HttpResponse::Ok().json(listings))
}
