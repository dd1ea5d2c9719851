//! Frameworks and purchasing systems, lots, admission rounds, Provider Responses and homes.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use chrono::Utc;
use diesel::prelude::*;
use hub_platform::{
    DbConnection, Pence, Principal, Problem, Role, db::DbError, directory, http::Json, sql,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{CompetitionState, is_council, optional_body, path_id};
use crate::ids::{HomeId, LotId};
use crate::{
    domain::{
        self, Admission, NewFramework, NewRound, calloff::LotCriteria, criteria::Criterion,
        homes::NewHome,
    },
    store::{
        self, AdmissionRow, FrameworkRow, HomeRow, HomeView, LotRow, RoundRow, now, schema::*,
    },
};

#[derive(Debug, Serialize, ToSchema)]
pub struct FrameworkView {
    #[serde(flatten)]
    pub framework: FrameworkRow,
    /// GSS codes of the councils that may call off.
    pub purchasing_bodies: Vec<String>,
    pub lots: Vec<LotView>,
    pub admission_rounds: Vec<RoundRow>,
    /// Whether providers may be admitted now.
    pub admission_open: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LotView {
    #[serde(flatten)]
    pub lot: LotRow,
    /// The criteria its mini-competitions start from.
    pub default_criteria: Vec<Criterion>,
    /// Admitted providers (a provider sees only itself).
    pub providers: Vec<AdmissionView>,
}

/// A Provider Response: the admission to a lot, its prices by need level and (read one at a
/// time) its homes or carers.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdmissionView {
    #[serde(flatten)]
    pub admission: AdmissionRow,
    /// Weekly prices in pence by need level.
    pub weekly_prices: BTreeMap<String, i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homes: Option<Vec<HomeView>>,
}

impl AdmissionView {
    fn of(admission: AdmissionRow, homes: Option<Vec<HomeView>>) -> Self {
        Self {
            weekly_prices: admission.prices(),
            admission,
            homes,
        }
    }
}

/// The framework if the caller may see it: the lead, its purchasing bodies and partnership
/// members, and providers (who see only their own admissions). Anyone else gets 404.
fn visible_framework(
    conn: &mut DbConnection,
    who: &Principal,
    id: &str,
) -> Result<FrameworkRow, DbError> {
    let fw = store::framework(conn, &path_id(id, "framework")?)?
        .filter(|f| who.is_provider() || f.visible_to_council(&who.org))
        .ok_or_else(|| Problem::not_found("framework"))?;
    Ok(fw)
}

/// The framework for its lead commissioner: 404 if unseen, 403 for anyone else who sees it.
fn led_framework(
    conn: &mut DbConnection,
    who: &Principal,
    id: &str,
) -> Result<FrameworkRow, DbError> {
    let fw = visible_framework(conn, who, id)?;
    who.require_any(&[Role::Commissioner])?;
    if fw.lead_commissioner != who.org {
        return Err(Problem::forbidden(format!(
            "only the lead commissioner ({}) manages this framework",
            fw.lead_commissioner
        ))
        .into());
    }
    Ok(fw)
}

fn lot_of(conn: &mut DbConnection, fw: &FrameworkRow, lot_id: &str) -> Result<LotRow, DbError> {
    Ok(store::lot(conn, &path_id(lot_id, "lot")?)?
        .filter(|l| l.framework_id == fw.id)
        .ok_or_else(|| Problem::not_found("lot"))?)
}

/// The rows a framework is set up with: itself, its lots and its set-up admission round.
fn framework_rows(
    input: &NewFramework,
    partnership: &str,
    bodies: &[String],
    who: &Principal,
) -> (FrameworkRow, Vec<LotRow>, RoundRow) {
    let now = now();
    let fw = FrameworkRow {
        id: Uuid::now_v7().into(),
        partnership: partnership.to_owned(),
        name: input.name.clone(),
        kind: input.kind,
        lead_commissioner: who.org.clone(),
        start_date: input.start_date,
        end_date: input.end_date,
        review_date: input
            .review_date
            .unwrap_or_else(|| domain::default_review_date(input.start_date)),
        purchasing_bodies: Some(sql::Json(bodies.to_vec())),
        created_by: who.sub.clone(),
        created_at: now,
    };
    let lot_rows: Vec<LotRow> = input
        .lots
        .iter()
        .map(|l| LotRow {
            id: Uuid::now_v7().into(),
            framework_id: fw.id,
            name: l.name.clone(),
            placement_type: l.placement_type.clone(),
            min_age_years: l.min_age_years.map(|a| a as i32),
            max_age_years: l.max_age_years.map(|a| a as i32),
            cohort: l.cohort.clone().filter(|c| !c.trim().is_empty()),
            default_criteria: l.default_criteria.clone().map(sql::Json),
        })
        .collect();
    let setup = RoundRow {
        id: Uuid::now_v7().into(),
        framework_id: fw.id,
        kind: domain::RoundKind::Setup,
        note: Some("set-up: providers admitted when the framework is let".into()),
        closes_on: None,
        opened_by: who.sub.clone(),
        opened_at: now,
        closed_by: None,
        closed_at: None,
    };
    (fw, lot_rows, setup)
}

/// Set up a framework or purchasing system with its lots (the partnership's lead
/// commissioner). Its set-up admission round opens with it.
#[utoipa::path(post, path = "/v1/frameworks", tag = "competition", request_body = NewFramework,
    responses((status = 201, body = FrameworkView), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_framework(
    state: web::Data<CompetitionState>,
    who: Principal,
    body: Json<NewFramework>,
) -> Result<HttpResponse, Problem> {
    who.require_any(&[Role::Commissioner])?;
    let input = body.0;
    let partnership = directory::partnership(&input.partnership).expect("validated");
    if partnership.lead_commissioner != who.org {
        return Err(Problem::forbidden(format!(
            "only {}'s lead commissioner ({}) sets up its frameworks",
            partnership.code, partnership.lead_commissioner
        )));
    }
    let bodies = input.purchasing_bodies.clone().unwrap_or_else(|| {
        partnership
            .members
            .iter()
            .map(|m| (*m).to_owned())
            .collect()
    });
    let (fw, lot_rows, setup) = framework_rows(&input, partnership.code, &bodies, &who);
    let (f, ls, r) = (fw.clone(), lot_rows.clone(), setup.clone());
    state
        .store
        .write(move |conn, events| {
            diesel::insert_into(frameworks::table)
                .values(&f)
                .execute(conn)?;
            for l in &ls {
                diesel::insert_into(lots::table).values(l).execute(conn)?;
            }
            diesel::insert_into(admission_rounds::table)
                .values(&r)
                .execute(conn)?;
            events.emit(
                &f.partnership,
                &crate::app::frameworks::framework_published(conn, &f)?,
            );
            Ok(())
        })
        .await?;
    let lots = lot_rows
        .into_iter()
        .map(|lot| LotView {
            default_criteria: lot.criteria(),
            lot,
            providers: Vec::new(),
        })
        .collect();
    Ok(HttpResponse::Created().json(FrameworkView {
        purchasing_bodies: bodies,
        framework: fw,
        lots,
        admission_rounds: vec![setup],
        admission_open: true,
    }))
}

/// A framework with its lots, admitted providers and admission rounds.
#[utoipa::path(get, path = "/v1/frameworks/{id}", tag = "competition",
    responses((status = 200, body = FrameworkView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_framework(
    state: web::Data<CompetitionState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    let view = state
        .store
        .db
        .run(move |conn| {
            let framework = visible_framework(conn, &who, &id)?;
            let mut admissions = store::admitted_in_framework(conn, &framework.id)?;
            if who.is_provider() {
                admissions.retain(|a| a.provider_id == who.org);
            }
            let lots = store::lots_of(conn, &framework.id)?
                .into_iter()
                .map(|lot| LotView {
                    default_criteria: lot.criteria(),
                    providers: admissions
                        .iter()
                        .filter(|a| a.lot_id == lot.id)
                        .cloned()
                        .map(|a| AdmissionView::of(a, None))
                        .collect(),
                    lot,
                })
                .collect();
            let rounds = store::rounds_of(conn, &framework.id)?;
            let today = Utc::now().date_naive();
            Ok(FrameworkView {
                purchasing_bodies: framework.purchasing_bodies(),
                admission_open: rounds.iter().any(|r| r.is_open(today)),
                framework,
                lots,
                admission_rounds: rounds,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Open an admission round (the lead commissioner of an open system: a flexible or dynamic
/// purchasing system, or a provider partner agreement). A framework agreement admits its
/// providers at set-up only.
#[utoipa::path(post, path = "/v1/frameworks/{id}/admission-rounds", tag = "competition", request_body = NewRound,
    responses((status = 201, body = RoundRow), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn open_round(
    state: web::Data<CompetitionState>,
    who: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let input: NewRound = optional_body(&body)?;
    let id = id.into_inner();
    let row = state
        .store
        .write(move |conn, _| {
            let fw = led_framework(conn, &who, &id)?;
            let today = Utc::now().date_naive();
            if let Some(d) = input.closes_on.filter(|d| *d < today) {
                return Err(Problem::invalid(
                    "/closes_on",
                    "not_past",
                    format!("{d} has passed"),
                )
                .into());
            }
            if today > fw.end_date {
                return Err(Problem::conflict(
                    "framework-ended",
                    format!("the framework ended on {}", fw.end_date),
                )
                .into());
            }
            if !fw.kind.is_open_system() {
                return Err(Problem::conflict(
                    "closed-system",
                    "a framework agreement admits providers at set-up only; open systems (flexible or dynamic purchasing systems, provider partner agreements) hold admission rounds",
                )
                .into());
            }
            let rounds = store::rounds_of(conn, &fw.id)?;
            if let Some(open) = rounds.iter().find(|r| r.is_open(today)) {
                return Err(Problem::conflict(
                    "round-open",
                    format!("admission round {} is still open", open.id),
                )
                .into());
            }
            let row = RoundRow {
                id: Uuid::now_v7().into(),
                framework_id: fw.id,
                kind: domain::RoundKind::Round,
                note: input.note.filter(|n| !n.trim().is_empty()),
                closes_on: input.closes_on,
                opened_by: who.sub.clone(),
                opened_at: now(),
                closed_by: None,
                closed_at: None,
            };
            diesel::insert_into(admission_rounds::table)
                .values(&row)
                .execute(conn)?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Created().json(row))
}

/// Close an admission round (the lead commissioner), including the set-up round.
#[utoipa::path(post, path = "/v1/frameworks/{id}/admission-rounds/{round_id}/close", tag = "competition",
    responses((status = 200, body = RoundRow), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn close_round(
    state: web::Data<CompetitionState>,
    who: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let (id, round_id) = path.into_inner();
    let row = state
        .store
        .write(move |conn, _| {
            let fw = led_framework(conn, &who, &id)?;
            let mut round = store::rounds_of(conn, &fw.id)?
                .into_iter()
                .find(|r| r.id.to_string() == round_id)
                .ok_or_else(|| Problem::not_found("admission round"))?;
            if round.closed_at.is_some() {
                return Err(
                    Problem::conflict("round-closed", "the round is already closed").into(),
                );
            }
            round.closed_at = Some(now());
            round.closed_by = Some(who.sub.clone());
            diesel::update(admission_rounds::table.find(&round.id))
                .set((
                    admission_rounds::closed_at.eq(round.closed_at),
                    admission_rounds::closed_by.eq(&round.closed_by),
                ))
                .execute(conn)?;
            Ok(round)
        })
        .await?;
    Ok(HttpResponse::Ok().json(row))
}

/// Set a lot's default criteria (the lead commissioner): what its mini-competitions start
/// from. Scored weights sum to 100.
#[utoipa::path(put, path = "/v1/frameworks/{id}/lots/{lot_id}/criteria", tag = "competition", request_body = LotCriteria,
    responses((status = 200, body = LotView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn set_lot_criteria(
    state: web::Data<CompetitionState>,
    who: Principal,
    path: web::Path<(String, String)>,
    body: Json<LotCriteria>,
) -> Result<HttpResponse, Problem> {
    let (id, lot_id) = path.into_inner();
    let criteria = body.0.criteria;
    let view = state
        .store
        .write(move |conn, _| {
            let fw = led_framework(conn, &who, &id)?;
            let mut lot = lot_of(conn, &fw, &lot_id)?;
            lot.default_criteria = Some(sql::Json(criteria.clone()));
            diesel::update(lots::table.find(&lot.id))
                .set(lots::default_criteria.eq(&lot.default_criteria))
                .execute(conn)?;
            Ok(LotView {
                default_criteria: criteria,
                lot,
                providers: Vec::new(),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Admit a provider to a lot with its Provider Response (the lead commissioner), while an
/// admission round is open.
#[utoipa::path(post, path = "/v1/frameworks/{id}/lots/{lot_id}/providers", tag = "competition", request_body = Admission,
    responses((status = 201, body = AdmissionView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn admit(
    state: web::Data<CompetitionState>,
    who: Principal,
    path: web::Path<(String, String)>,
    body: Json<Admission>,
) -> Result<HttpResponse, Problem> {
    let (framework_id, lot_id) = path.into_inner();
    let input = body.0;
    let row = state
        .store
        .write(move |conn, _| {
            let fw = led_framework(conn, &who, &framework_id)?;
            let lot = lot_of(conn, &fw, &lot_id)?;
            let today = Utc::now().date_naive();
            let round = store::rounds_of(conn, &fw.id)?
                .into_iter()
                .find(|r| r.is_open(today))
                .ok_or_else(|| {
                    Problem::conflict(
                        "admission-closed",
                        "no admission round is open: providers join at set-up or in a round the lead commissioner opens",
                    )
                })?;
            if store::admission(conn, &lot.id, &input.provider_id)?.is_some() {
                return Err(Problem::conflict(
                    "already-admitted",
                    "the provider is already admitted to this lot",
                )
                .into());
            }
            let prices = input.prices();
            let row = AdmissionRow {
                lot_id: lot.id,
                provider_id: input.provider_id,
                provider_name: input.name,
                weekly_price_pence: Pence(domain::headline_price(&prices)),
                prices: sql::Json(prices.clone()),
                capacity: input.capacity.map(|c| c as i32),
                round_id: Some(round.id),
                admitted_by: who.sub,
                admitted_at: now(),
            };
            diesel::insert_into(admissions::table)
                .values(&row)
                .execute(conn)?;
            Ok(AdmissionView::of(row, None))
        })
        .await?;
    Ok(HttpResponse::Created().json(row))
}

/// The admission of `provider_id` to the lot, visible to councils that see the framework
/// and to the provider itself; other providers get 404.
fn visible_admission(
    conn: &mut DbConnection,
    who: &Principal,
    framework_id: &str,
    lot_id: &str,
    provider_id: &str,
) -> Result<(FrameworkRow, LotRow, AdmissionRow), DbError> {
    if who.is_provider() && who.org != provider_id {
        return Err(Problem::not_found("provider").into());
    }
    let fw = visible_framework(conn, who, framework_id)?;
    let lot = lot_of(conn, &fw, lot_id)?;
    let admission = store::admission(conn, &lot.id, provider_id)?
        .ok_or_else(|| Problem::not_found("provider"))?;
    Ok((fw, lot, admission))
}

/// A Provider Response with its homes or carers.
#[utoipa::path(get, path = "/v1/frameworks/{id}/lots/{lot_id}/providers/{provider_id}", tag = "competition",
    responses((status = 200, body = AdmissionView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_admission(
    state: web::Data<CompetitionState>,
    who: Principal,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, Problem> {
    let (framework_id, lot_id, provider_id) = path.into_inner();
    let view = state
        .store
        .db
        .run(move |conn| {
            let (_, lot, admission) =
                visible_admission(conn, &who, &framework_id, &lot_id, &provider_id)?;
            let homes = store::homes_in_lot(conn, &lot.id)?
                .into_iter()
                .filter(|h| h.provider_id == admission.provider_id)
                .map(|h| h.view())
                .collect();
            Ok(AdmissionView::of(admission, Some(homes)))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

fn home_row(id: HomeId, lot_id: LotId, provider_id: &str, h: &NewHome, by: &str) -> HomeRow {
    HomeRow {
        id,
        lot_id,
        provider_id: provider_id.to_owned(),
        name: h.name.trim().to_owned(),
        kind: h.kind,
        latitude: h.latitude,
        longitude: h.longitude,
        postcode_district: h.postcode_district.clone(),
        registered_places: h.registered_places as i32,
        occupied_places: h.occupied_places as i32,
        genders_accepted: sql::Json(h.genders_accepted.clone()),
        min_age_years: h.min_age_years as i32,
        max_age_years: h.max_age_years as i32,
        specialisms: sql::Json(h.specialisms.clone()),
        ofsted_rating: h.ofsted_rating,
        emergency_capacity: h.emergency_capacity,
        educational_provision: sql::Json(h.educational_provision.clone()),
        updated_by: by.to_owned(),
        updated_at: now(),
    }
}

/// The provider's own admission, for maintaining its homes.
fn own_admission(
    conn: &mut DbConnection,
    who: &Principal,
    framework_id: &str,
    lot_id: &str,
    provider_id: &str,
) -> Result<LotRow, DbError> {
    if !who.is_provider() || who.org != provider_id {
        // Councils see Provider Responses but do not keep a provider's homes.
        if is_council(who) {
            visible_admission(conn, who, framework_id, lot_id, provider_id)?;
            return Err(Problem::forbidden("a provider maintains its own homes").into());
        }
        return Err(Problem::not_found("provider").into());
    }
    let (_, lot, _) = visible_admission(conn, who, framework_id, lot_id, provider_id)?;
    Ok(lot)
}

/// Add a home or fostering household to the provider's Provider Response (the provider).
#[utoipa::path(post, path = "/v1/frameworks/{id}/lots/{lot_id}/providers/{provider_id}/homes", tag = "competition", request_body = NewHome,
    responses((status = 201, body = HomeView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn add_home(
    state: web::Data<CompetitionState>,
    who: Principal,
    path: web::Path<(String, String, String)>,
    body: Json<NewHome>,
) -> Result<HttpResponse, Problem> {
    let (framework_id, lot_id, provider_id) = path.into_inner();
    let input = body.0;
    let view = state
        .store
        .write(move |conn, _| {
            let lot = own_admission(conn, &who, &framework_id, &lot_id, &provider_id)?;
            let row = home_row(HomeId::new(), lot.id, &provider_id, &input, &who.sub);
            diesel::insert_into(homes::table)
                .values(&row)
                .execute(conn)?;
            Ok(row.view())
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Replace a home's details (the provider): places taken, ages, specialisms, rating, …
#[utoipa::path(put, path = "/v1/frameworks/{id}/lots/{lot_id}/providers/{provider_id}/homes/{home_id}", tag = "competition", request_body = NewHome,
    responses((status = 200, body = HomeView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_home(
    state: web::Data<CompetitionState>,
    who: Principal,
    path: web::Path<(String, String, String, String)>,
    body: Json<NewHome>,
) -> Result<HttpResponse, Problem> {
    let (framework_id, lot_id, provider_id, home_id) = path.into_inner();
    let input = body.0;
    let view = state
        .store
        .write(move |conn, _| {
            let lot = own_admission(conn, &who, &framework_id, &lot_id, &provider_id)?;
            let existing = store::home(conn, &path_id(&home_id, "home")?)?
                .filter(|h| h.lot_id == lot.id && h.provider_id == provider_id)
                .ok_or_else(|| Problem::not_found("home"))?;
            let row = home_row(existing.id, lot.id, &provider_id, &input, &who.sub);
            diesel::update(homes::table.find(&row.id))
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
                ))
                .execute(conn)?;
            Ok(row.view())
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
