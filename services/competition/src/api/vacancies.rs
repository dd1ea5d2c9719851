//! Live vacancies: providers publish, update and withdraw them; councils list them by lot
//! and distance. They replace the monthly spreadsheet.

use std::{cmp::Ordering, collections::HashMap};

use actix_web::{HttpResponse, http::StatusCode, web};
use chrono::{DateTime, NaiveDate, Utc};
use hub_events::{VacancyPublished, VacancyWithdrawn};
use hub_platform::{
    DbConnection, FieldError, Principal, Problem, Role,
    db::DbError,
    directory::distance_miles,
    etag::{ETag, IfMatch},
    http::{Json, Validate},
    idempotency::{Answer, IdempotencyKey},
    page::{Page, PageParams, PageRequest},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    CompetitionState, IDEMPOTENCY_KEY_DOC, IF_MATCH_DOC, optional_body, path_id, tagged,
    views::VacancyView,
};
use crate::ids::{BlockContractId, HomeId, LotId, VacancyId};
use crate::{
    domain::{
        Home, OfferedBed, Vacancy,
        homes::{
            HomeKind, NewVacancy, OfstedRating, VacancyStatus, VacancyUpdate, expired_on_arrival,
            is_live,
        },
    },
    store::{self, now, offered_beds},
};

fn published(v: &Vacancy, postcode_district: &str) -> VacancyPublished {
    VacancyPublished {
        vacancy_id: v.id.into(),
        provider_id: v.provider_id.clone(),
        lot_id: v.lot_id.into(),
        home_id: Some(v.home_id.into()),
        postcode_district: postcode_district.to_owned(),
        available_from: v.available_from,
        expires_on: v.expires_on,
        offered_by: None,
    }
}

/// The partnership of a lot's framework (what vacancy events are filed under).
fn partnership_of_lot(conn: &mut DbConnection, lot_id: &LotId) -> Result<String, DbError> {
    let lot = store::lot(conn, lot_id)?.ok_or_else(|| Problem::not_found("lot"))?;
    let fw = store::framework(conn, &lot.framework_id)?
        .ok_or_else(|| Problem::not_found("framework"))?;
    Ok(fw.partnership)
}

/// The caller's own vacancy, or 404.
fn own_vacancy(conn: &mut DbConnection, who: &Principal, id: &str) -> Result<Vacancy, DbError> {
    who.require_any(&[Role::Provider])?;
    Ok(store::vacancy(conn, &path_id(id, "vacancy")?)?
        .filter(|v| v.provider_id == who.org)
        .ok_or_else(|| Problem::not_found("vacancy"))?)
}

/// Publish a live vacancy at one of the provider's homes in a lot it is admitted to.
#[utoipa::path(post, path = "/v1/vacancies", tag = "competition", operation_id = "createVacancy",
    request_body = NewVacancy,
    params(("Idempotency-Key" = Option<String>, Header, description = IDEMPOTENCY_KEY_DOC)),
    responses((status = 201, body = VacancyView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn publish(
    state: web::Data<CompetitionState>,
    who: Principal,
    key: IdempotencyKey,
    body: Json<NewVacancy>,
) -> Result<Answer, Problem> {
    who.require_any(&[Role::Provider])?;
    let input = body.0;
    let org = who.org.clone();
    Ok(state
        .store
        .write_once(&org, &key, move |conn, events| {
            let today = Utc::now().date_naive();
            if let Some(e) = expired_on_arrival(input.expires_on, today) {
                return Err(Problem::validation(vec![e]).into());
            }
            let lot_id = input.lot_id;
            if store::admission(conn, &lot_id, &who.org)?.is_none() {
                return Err(Problem::not_found("lot").into());
            }
            let home = store::home(conn, &input.home_id)?
                .filter(|h| h.provider_id == who.org && h.lot_id == lot_id)
                .ok_or_else(|| {
                    Problem::invalid("/home_id", "exists", "not one of your homes in this lot")
                })?;
            let now = now();
            let vacancy = Vacancy {
                id: VacancyId::new(),
                provider_id: who.org.clone(),
                lot_id,
                home_id: home.id,
                available_from: input.available_from,
                expires_on: input.expires_on,
                suits: input.suits.trim().to_owned(),
                places: input.places as i32,
                status: VacancyStatus::Live,
                withdrawn_reason: None,
                updated_by: who.sub.clone(),
                created_at: now,
                updated_at: now,
                revision: 1,
            };
            store::insert_vacancy(conn, &vacancy)?;
            let partnership = partnership_of_lot(conn, &lot_id)?;
            events.emit(&partnership, &published(&vacancy, &home.postcode_district));
            let at = format!("/v1/vacancies/{}", vacancy.id);
            Ok(Answer::created(&VacancyView::from(vacancy)).at(at))
        })
        .await?)
}

/// One of the provider's own vacancies, with its `ETag` (what an update sends back in
/// `If-Match`).
#[utoipa::path(get, path = "/v1/vacancies/{id}", tag = "competition", operation_id = "getVacancy",
    responses((status = 200, body = VacancyView, headers(("ETag" = String, description = "The vacancy's revision"))), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(
    state: web::Data<CompetitionState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    let row = state
        .store
        .db
        .run(move |conn| own_vacancy(conn, &who, &id))
        .await?;
    Ok(tagged(
        StatusCode::OK,
        row.revision,
        &VacancyView::from(row),
    ))
}

/// Update a live vacancy (the provider's own): dates, who it suits, places. `If-Match` must
/// name its current revision (ADR 0004).
#[utoipa::path(put, path = "/v1/vacancies/{id}", tag = "competition", operation_id = "replaceVacancy",
    request_body = VacancyUpdate,
    params(("If-Match" = String, Header, description = IF_MATCH_DOC)),
    responses((status = 200, body = VacancyView, headers(("ETag" = String, description = "The vacancy's new revision"))), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)),
    security(("bearer" = [])))]
pub async fn update(
    state: web::Data<CompetitionState>,
    who: Principal,
    if_match: IfMatch,
    id: web::Path<String>,
    body: Json<VacancyUpdate>,
) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    let input = body.0;
    let row = state
        .store
        .write(move |conn, events| {
            let mut row = own_vacancy(conn, &who, &id)?;
            if_match.check(ETag(row.revision), "vacancy")?;
            let today = Utc::now().date_naive();
            if !is_live(row.status, row.expires_on, today) {
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
            store::save_vacancy(conn, &mut row)?;
            let district = store::home(conn, &row.home_id)?
                .map(|h| h.postcode_district)
                .unwrap_or_default();
            let partnership = partnership_of_lot(conn, &row.lot_id)?;
            events.emit(&partnership, &published(&row, &district));
            Ok(row)
        })
        .await?;
    Ok(tagged(
        StatusCode::OK,
        row.revision,
        &VacancyView::from(row),
    ))
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Withdraw {
    #[serde(default)]
    pub reason: Option<String>,
}

impl Validate for Withdraw {}

/// Withdraw a vacancy (the provider's own), e.g. because the place was filled.
#[utoipa::path(post, path = "/v1/vacancies/{id}/withdraw", tag = "competition", operation_id = "withdrawVacancy", request_body = Withdraw,
    responses((status = 200, body = VacancyView), (status = 404, body = Problem), (status = 409, body = Problem)),
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
            if row.status != VacancyStatus::Live {
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
            row.status = VacancyStatus::Withdrawn;
            row.withdrawn_reason = Some(reason.clone());
            row.updated_by = who.sub.clone();
            row.updated_at = now();
            store::save_vacancy(conn, &mut row)?;
            let partnership = partnership_of_lot(conn, &row.lot_id)?;
            events.emit(
                &partnership,
                &VacancyWithdrawn {
                    vacancy_id: row.id.into(),
                    provider_id: row.provider_id.clone(),
                    reason,
                },
            );
            Ok(VacancyView::from(row))
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

/// A vacancy as listed. Ids are given as text: a bed offered outside any lot, or at a home
/// not known here, has an empty `lot_id` or `home_id`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListedVacancy {
    pub id: VacancyId,
    pub provider_id: String,
    pub lot_id: String,
    pub home_id: String,
    pub available_from: NaiveDate,
    pub expires_on: NaiveDate,
    pub suits: String,
    pub places: i32,
    pub status: VacancyStatus,
    pub withdrawn_reason: Option<String>,
    pub updated_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Vacancy> for ListedVacancy {
    fn from(v: &Vacancy) -> Self {
        ListedVacancy {
            id: v.id,
            provider_id: v.provider_id.clone(),
            lot_id: v.lot_id.to_string(),
            home_id: v.home_id.to_string(),
            available_from: v.available_from,
            expires_on: v.expires_on,
            suits: v.suits.clone(),
            places: v.places,
            status: v.status,
            withdrawn_reason: v.withdrawn_reason.clone(),
            updated_by: v.updated_by.clone(),
            created_at: v.created_at.and_utc(),
            updated_at: v.updated_at.and_utc(),
        }
    }
}

/// A live vacancy as listed: where it is and how far from the point asked about. A bed a
/// partner council offers under a block contract has `offered_by`, `block_contract_id` and
/// `bed`; its home's details are given when the home is known here.
#[derive(Debug, Serialize, ToSchema)]
pub struct VacancyListing {
    #[serde(flatten)]
    pub vacancy: ListedVacancy,
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
    pub block_contract_id: Option<BlockContractId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bed: Option<u16>,
}

/// What a listing is made from: a provider's vacancy or a bed offered under a block contract.
enum Listed {
    Vacancy(Vacancy),
    Offer(OfferedBed),
}

impl Listed {
    fn lot_id(&self) -> Option<LotId> {
        match self {
            Listed::Vacancy(v) => Some(v.lot_id),
            Listed::Offer(o) => o.lot_id,
        }
    }

    fn home_id(&self) -> Option<HomeId> {
        match self {
            Listed::Vacancy(v) => Some(v.home_id),
            Listed::Offer(o) => o.home_id,
        }
    }

    fn provider_id(&self) -> &str {
        match self {
            Listed::Vacancy(v) => &v.provider_id,
            Listed::Offer(o) => &o.provider_id,
        }
    }

    fn offer(&self) -> Option<&OfferedBed> {
        match self {
            Listed::Vacancy(_) => None,
            Listed::Offer(o) => Some(o),
        }
    }

    fn vacancy(&self) -> ListedVacancy {
        match self {
            Listed::Vacancy(v) => v.into(),
            Listed::Offer(o) => offered_vacancy(o),
        }
    }
}

/// An offered bed as a vacancy: one place, live, from the contract service.
fn offered_vacancy(o: &OfferedBed) -> ListedVacancy {
    let by = hub_platform::directory::council(&o.offered_by)
        .map(|c| c.name)
        .unwrap_or(&o.offered_by);
    ListedVacancy {
        id: o.id,
        provider_id: o.provider_id.clone(),
        lot_id: o.lot_id.map(|l| l.to_string()).unwrap_or_default(),
        home_id: o.home_id.map(|h| h.to_string()).unwrap_or_default(),
        available_from: o.available_from,
        expires_on: o.expires_on,
        suits: format!("bed {} of a block contract, offered by {by}", o.bed),
        places: 1,
        status: o.status,
        withdrawn_reason: None,
        updated_by: "contract.bed_offered".into(),
        created_at: o.created_at.and_utc(),
        updated_at: o.updated_at.and_utc(),
    }
}

/// The point to measure from, if the query gives one, and the query's other rules.
fn query_point(q: &VacancyQuery, who: &Principal) -> Result<Option<(f64, f64)>, Problem> {
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
    if !who.is_provider() && q.lot_id.is_none() && q.offered != Some(true) {
        return Err(Problem::invalid("lot_id", "required", "name the lot"));
    }
    Ok(point)
}

/// The live vacancies `who` may list on `today`, with the beds partner councils offer to a
/// council (in the lot asked about, or in every lot).
fn listed(
    conn: &mut DbConnection,
    who: &Principal,
    q: &VacancyQuery,
    today: NaiveDate,
) -> Result<Vec<Listed>, DbError> {
    let offered_only = q.offered == Some(true);
    let mut lot = None;
    let mut rows = match &q.lot_id {
        _ if offered_only => Vec::new(),
        Some(lot_id) => {
            let l = store::lot(conn, &path_id(lot_id, "lot")?)?
                .ok_or_else(|| Problem::not_found("lot"))?;
            if !who.is_provider() {
                store::framework(conn, &l.framework_id)?
                    .filter(|f| f.visible_to_council(&who.org))
                    .ok_or_else(|| Problem::not_found("lot"))?;
            }
            lot = Some(l.id);
            store::live_vacancies(conn, &l.id, today)?
        }
        None => store::live_vacancies_of(conn, &who.org, today)?,
    };
    if who.is_provider() {
        rows.retain(|v| v.provider_id == who.org);
        return Ok(rows.into_iter().map(Listed::Vacancy).collect());
    }
    let offers = offered_beds::visible_live(conn, &who.org, lot.as_ref(), today)?;
    Ok(rows
        .into_iter()
        .map(Listed::Vacancy)
        .chain(offers.into_iter().map(Listed::Offer))
        .collect())
}

/// Each listed vacancy with its home (when known here), its provider's name as admitted
/// and its distance from `point`.
fn listings(
    conn: &mut DbConnection,
    listed: Vec<Listed>,
    point: Option<(f64, f64)>,
) -> Result<Vec<VacancyListing>, DbError> {
    let home_ids: Vec<HomeId> = listed.iter().filter_map(Listed::home_id).collect();
    let homes: HashMap<HomeId, Home> = store::homes(conn, &home_ids)?
        .into_iter()
        .map(|h| (h.id, h))
        .collect();
    let lot_ids: Vec<LotId> = listed.iter().filter_map(Listed::lot_id).collect();
    let names = store::provider_names(conn, &lot_ids)?;
    Ok(listed
        .into_iter()
        .filter_map(|l| {
            let offer = l.offer();
            // A provider's vacancy is listed with its home; an offered bed with its home
            // when known here, else with the district the council gave.
            let h = l.home_id().and_then(|id| homes.get(&id));
            if h.is_none() && offer.is_none() {
                return None;
            }
            let distance = point
                .zip(h)
                .map(|((lat, lon), h)| distance_miles(lat, lon, h.latitude, h.longitude));
            Some(VacancyListing {
                provider_name: l
                    .lot_id()
                    .and_then(|lot| names.get(&(lot, l.provider_id().to_owned())))
                    .cloned()
                    .unwrap_or_else(|| l.provider_id().to_owned()),
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
                block_contract_id: offer.map(|o| o.block_contract_id),
                bed: offer.map(|o| o.bed as u16),
                vacancy: l.vacancy(),
            })
        })
        .collect())
}

/// Live vacancies: councils list a lot's (nearest first from a point, optionally within a
/// radius) with the block-contract beds partner councils offer them in it, or with
/// `offered=true` every bed offered to them; a provider lists its own. Withdrawn, filled and
/// expired vacancies are not listed.
///
/// Pages follow the listing's order (distance, then availability, then id): the distance is
/// worked out here from each home's position, so a page is cut from the live listing after
/// the cursor's key (no row is skipped or shown twice; the listing is what is live now).
#[utoipa::path(get, path = "/v1/vacancies", tag = "competition", operation_id = "listVacancies",
    params(VacancyQuery, PageParams),
    responses((status = 200, body = Page<VacancyListing>), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    state: web::Data<CompetitionState>,
    who: Principal,
    query: web::Query<VacancyQuery>,
    paging: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, Problem> {
    let q = query.into_inner();
    let point = query_point(&q, &who)?;
    let page = PageRequest::from_query(&paging)?;
    let after: Option<ListingKey> = page.after()?;
    let listings = state
        .store
        .db
        .run(move |conn| {
            let rows = listed(conn, &who, &q, Utc::now().date_naive())?;
            let mut out: Vec<VacancyListing> = listings(conn, rows, point)?
                .into_iter()
                .filter(|l| match (q.max_miles, l.distance_miles) {
                    (Some(max), Some(d)) => d <= max,
                    _ => true,
                })
                .collect();
            out.sort_by(|a, b| listing_order(&a.key(), &b.key()));
            let rows: Vec<VacancyListing> = out
                .into_iter()
                .filter(|l| {
                    after
                        .as_ref()
                        .is_none_or(|k| listing_order(&l.key(), k) == Ordering::Greater)
                })
                .take(page.fetch() as usize)
                .collect();
            Ok(page.page(rows, VacancyListing::key))
        })
        .await?;
    Ok(HttpResponse::Ok().json(listings))
}

/// Where a listing stands in the list's order: its distance (none for a bed of unknown
/// position), when it is available from, and its id. A page's cursor carries the last one.
type ListingKey = (Option<f64>, NaiveDate, VacancyId);

impl VacancyListing {
    fn key(&self) -> ListingKey {
        (
            self.distance_miles,
            self.vacancy.available_from,
            self.vacancy.id,
        )
    }
}

/// The listing's order: nearest first, beds of unknown position after those with one; then
/// the earliest available; then by id (unique, so the order is total).
fn listing_order(a: &ListingKey, b: &ListingKey) -> Ordering {
    a.0.unwrap_or(f64::INFINITY)
        .total_cmp(&b.0.unwrap_or(f64::INFINITY))
        .then(a.1.cmp(&b.1))
        .then(a.2.cmp(&b.2))
}
