//! Frameworks and purchasing systems, lots, admission rounds, Provider Responses and homes.

use std::collections::{BTreeMap, HashMap};

use actix_web::{HttpResponse, http::StatusCode, web};
use chrono::Utc;
use hub_platform::{
    DbConnection, Pence, Principal, Problem, Role,
    db::DbError,
    directory,
    etag::{ETag, IfMatch},
    http::Json,
    idempotency::{Answer, IdempotencyKey},
    page::{Page, PageParams, PageRequest},
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    CompetitionState, IDEMPOTENCY_KEY_DOC, IF_MATCH_DOC, is_council, optional_body, path_id,
    tagged,
    views::{AdmissionSummary, FrameworkSummary, HomeView, LotSummary, RoundView},
};
use crate::ids::{FrameworkId, HomeId, LotId, RoundId};
use crate::{
    domain::{
        self, Admission, AdmittedProvider, Framework, Home, Lot, NewFramework, NewRound, Round,
        calloff::LotCriteria, criteria::Criterion, homes::NewHome,
    },
    store::{self, now},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct FrameworkView {
    #[serde(flatten)]
    pub framework: FrameworkSummary,
    /// GSS codes of the councils that may call off.
    pub purchasing_bodies: Vec<String>,
    pub lots: Vec<LotView>,
    pub admission_rounds: Vec<RoundView>,
    /// Whether providers may be admitted now.
    pub admission_open: bool,
}

/// A framework as listed: its own fields, who may call off, and whether providers may be
/// admitted now (its lots and providers are read one framework at a time).
#[derive(Debug, Serialize, ToSchema)]
pub struct FrameworkListing {
    #[serde(flatten)]
    pub framework: FrameworkSummary,
    /// GSS codes of the councils that may call off.
    pub purchasing_bodies: Vec<String>,
    /// Whether providers may be admitted now.
    pub admission_open: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LotView {
    #[serde(flatten)]
    pub lot: LotSummary,
    /// The criteria its mini-competitions start from.
    pub default_criteria: Vec<Criterion>,
    /// Admitted providers (a provider sees only itself).
    pub providers: Vec<AdmissionView>,
}

impl LotView {
    fn of(lot: &Lot, providers: Vec<AdmissionView>) -> Self {
        Self {
            lot: LotSummary::from(lot),
            default_criteria: lot.criteria(),
            providers,
        }
    }
}

/// A Provider Response: the admission to a lot, its prices by need level and (read one at a
/// time) its homes or carers.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdmissionView {
    #[serde(flatten)]
    pub admission: AdmissionSummary,
    /// Weekly prices in pence by need level.
    #[schema(value_type = BTreeMap<String, i64>)]
    pub weekly_prices: BTreeMap<String, Pence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homes: Option<Vec<HomeView>>,
}

impl AdmissionView {
    fn of(admission: AdmittedProvider, homes: Option<Vec<HomeView>>) -> Self {
        Self {
            admission: AdmissionSummary::from(&admission),
            weekly_prices: admission.prices,
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
) -> Result<Framework, DbError> {
    let fw = store::framework(conn, &path_id(id, "framework")?)?
        .filter(|f| who.is_provider() || f.visible_to_council(&who.org))
        .ok_or_else(|| Problem::not_found("framework"))?;
    Ok(fw)
}

/// The framework for its lead commissioner: 404 if unseen, 403 for anyone else who sees it.
fn led_framework(conn: &mut DbConnection, who: &Principal, id: &str) -> Result<Framework, DbError> {
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

fn lot_of(conn: &mut DbConnection, fw: &Framework, lot_id: &str) -> Result<Lot, DbError> {
    Ok(store::lot(conn, &path_id(lot_id, "lot")?)?
        .filter(|l| l.framework_id == fw.id)
        .ok_or_else(|| Problem::not_found("lot"))?)
}

/// What a framework is set up with: itself, its lots and its set-up admission round.
fn new_framework(
    input: &NewFramework,
    partnership: &str,
    bodies: &[String],
    who: &Principal,
) -> (Framework, Vec<Lot>, Round) {
    let now = now();
    let fw = Framework {
        id: FrameworkId::new(),
        partnership: partnership.to_owned(),
        name: input.name.clone(),
        kind: input.kind,
        lead_commissioner: who.org.clone(),
        start_date: input.start_date,
        end_date: input.end_date,
        review_date: input
            .review_date
            .unwrap_or_else(|| domain::default_review_date(input.start_date)),
        purchasing_bodies: Some(bodies.to_vec()),
        created_by: who.sub.clone(),
        created_at: now,
    };
    let lots: Vec<Lot> = input
        .lots
        .iter()
        .map(|l| Lot {
            id: LotId::new(),
            framework_id: fw.id,
            name: l.name.clone(),
            placement_type: l.placement_type.clone(),
            min_age_years: l.min_age_years.map(|a| a as i32),
            max_age_years: l.max_age_years.map(|a| a as i32),
            cohort: l.cohort.clone().filter(|c| !c.trim().is_empty()),
            default_criteria: l.default_criteria.clone(),
        })
        .collect();
    let setup = Round {
        id: RoundId::new(),
        framework_id: fw.id,
        kind: domain::RoundKind::Setup,
        note: Some("set-up: providers admitted when the framework is let".into()),
        closes_on: None,
        opened_by: who.sub.clone(),
        opened_at: now,
        closed_by: None,
        closed_at: None,
    };
    (fw, lots, setup)
}

/// Set up a framework or purchasing system with its lots (the partnership's lead
/// commissioner). Its set-up admission round opens with it.
#[utoipa::path(post, path = "/v1/frameworks", tag = "competition", operation_id = "createFramework",
    request_body = NewFramework,
    params(("Idempotency-Key" = Option<String>, Header, description = IDEMPOTENCY_KEY_DOC)),
    responses((status = 201, body = FrameworkView), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_framework(
    state: web::Data<CompetitionState>,
    who: Principal,
    key: IdempotencyKey,
    body: Json<NewFramework>,
) -> Result<Answer, Problem> {
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
    let (fw, lots, setup) = new_framework(&input, partnership.code, &bodies, &who);
    let view = FrameworkView {
        purchasing_bodies: bodies,
        framework: FrameworkSummary::from(&fw),
        lots: lots
            .iter()
            .map(|lot| LotView::of(lot, Vec::new()))
            .collect(),
        admission_rounds: vec![RoundView::from(setup.clone())],
        admission_open: true,
    };
    Ok(state
        .store
        .write_once(&who.org, &key, move |conn, events| {
            store::insert_framework(conn, &fw, &lots, &setup)?;
            events.emit(
                &fw.partnership,
                &crate::app::frameworks::framework_published(conn, &fw)?,
            );
            Ok(Answer::created(&view).at(format!("/v1/frameworks/{}", fw.id)))
        })
        .await?)
}

/// Frameworks the caller may see, newest first: a council's are those it leads, may call
/// off or whose partnership it belongs to; a provider's are those it is admitted to or whose
/// admission round is open.
#[utoipa::path(get, path = "/v1/frameworks", tag = "competition", operation_id = "listFrameworks",
    params(PageParams),
    responses((status = 200, body = Page<FrameworkListing>), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_frameworks(
    state: web::Data<CompetitionState>,
    who: Principal,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, Problem> {
    let page = PageRequest::from_query(&query)?;
    let after: Option<FrameworkId> = page.after()?;
    let listed = state
        .store
        .db
        .run(move |conn| {
            let today = Utc::now().date_naive();
            let lister = if who.is_provider() {
                store::FrameworkLister::Provider(&who.org)
            } else {
                store::FrameworkLister::Council(&who.org)
            };
            let rows = store::frameworks_listed(conn, lister, today, after.as_ref(), page.fetch())?;
            // The cursor follows the rows read; the domain's own test has the last word on
            // each (what the query selects is the same set, written in SQL).
            let mut listed = page.page(rows, |f| f.id);
            let mut items = Vec::with_capacity(listed.items.len());
            for fw in std::mem::take(&mut listed.items) {
                let admission_open = store::rounds_of(conn, &fw.id)?
                    .iter()
                    .any(|r| r.is_open(today));
                let visible = if who.is_provider() {
                    admission_open
                        || store::admitted_in_framework(conn, &fw.id)?
                            .iter()
                            .any(|a| a.provider_id == who.org)
                } else {
                    fw.visible_to_council(&who.org)
                };
                if visible {
                    items.push(FrameworkListing {
                        purchasing_bodies: fw.purchasing_bodies(),
                        framework: FrameworkSummary::from(&fw),
                        admission_open,
                    });
                }
            }
            Ok(Page {
                items,
                next: listed.next,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(listed))
}

/// A framework with its lots, admitted providers and admission rounds.
#[utoipa::path(get, path = "/v1/frameworks/{id}", tag = "competition", operation_id = "getFramework",
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
                .iter()
                .map(|lot| {
                    let providers = admissions
                        .iter()
                        .filter(|a| a.lot_id == lot.id)
                        .cloned()
                        .map(|a| AdmissionView::of(a, None))
                        .collect();
                    LotView::of(lot, providers)
                })
                .collect();
            let rounds = store::rounds_of(conn, &framework.id)?;
            let today = Utc::now().date_naive();
            Ok(FrameworkView {
                purchasing_bodies: framework.purchasing_bodies(),
                admission_open: rounds.iter().any(|r| r.is_open(today)),
                framework: FrameworkSummary::from(&framework),
                lots,
                admission_rounds: rounds.into_iter().map(RoundView::from).collect(),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Open an admission round (the lead commissioner of an open system: a flexible or dynamic
/// purchasing system, or a provider partner agreement). A framework agreement admits its
/// providers at set-up only.
#[utoipa::path(post, path = "/v1/frameworks/{id}/admission-rounds", tag = "competition", operation_id = "openAdmissionRound",
    request_body = NewRound,
    params(("Idempotency-Key" = Option<String>, Header, description = IDEMPOTENCY_KEY_DOC)),
    responses((status = 201, body = RoundView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn open_round(
    state: web::Data<CompetitionState>,
    who: Principal,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<Answer, Problem> {
    let input: NewRound = optional_body(&body)?;
    let id = id.into_inner();
    let org = who.org.clone();
    Ok(state
        .store
        .write_once(&org, &key, move |conn, _| {
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
            let round = Round {
                id: RoundId::new(),
                framework_id: fw.id,
                kind: domain::RoundKind::Round,
                note: input.note.filter(|n| !n.trim().is_empty()),
                closes_on: input.closes_on,
                opened_by: who.sub.clone(),
                opened_at: now(),
                closed_by: None,
                closed_at: None,
            };
            store::insert_round(conn, &round)?;
            Ok(Answer::created(&RoundView::from(round)))
        })
        .await?)
}

/// Close an admission round (the lead commissioner), including the set-up round.
#[utoipa::path(post, path = "/v1/frameworks/{id}/admission-rounds/{round_id}/close", tag = "competition", operation_id = "closeAdmissionRound",
    responses((status = 200, body = RoundView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn close_round(
    state: web::Data<CompetitionState>,
    who: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let (id, round_id) = path.into_inner();
    let view = state
        .store
        .write(move |conn, _| {
            let fw = led_framework(conn, &who, &id)?;
            let round_id: RoundId = path_id(&round_id, "admission round")?;
            let mut round = store::rounds_of(conn, &fw.id)?
                .into_iter()
                .find(|r| r.id == round_id)
                .ok_or_else(|| Problem::not_found("admission round"))?;
            if round.closed_at.is_some() {
                return Err(
                    Problem::conflict("round-closed", "the round is already closed").into(),
                );
            }
            round.closed_at = Some(now());
            round.closed_by = Some(who.sub.clone());
            store::save_round_closed(conn, &round)?;
            Ok(RoundView::from(round))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Set a lot's default criteria (the lead commissioner): what its mini-competitions start
/// from. Scored weights sum to 100.
#[utoipa::path(put, path = "/v1/frameworks/{id}/lots/{lot_id}/criteria", tag = "competition", operation_id = "replaceLotCriteria", request_body = LotCriteria,
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
            lot.default_criteria = Some(criteria);
            store::save_lot_criteria(conn, &lot)?;
            Ok(LotView::of(&lot, Vec::new()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Admit a provider to a lot with its Provider Response (the lead commissioner), while an
/// admission round is open.
#[utoipa::path(post, path = "/v1/frameworks/{id}/lots/{lot_id}/providers", tag = "competition", operation_id = "admitProvider",
    request_body = Admission,
    params(("Idempotency-Key" = Option<String>, Header, description = IDEMPOTENCY_KEY_DOC)),
    responses((status = 201, body = AdmissionView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn admit(
    state: web::Data<CompetitionState>,
    who: Principal,
    key: IdempotencyKey,
    path: web::Path<(String, String)>,
    body: Json<Admission>,
) -> Result<Answer, Problem> {
    let (framework_id, lot_id) = path.into_inner();
    let input = body.0;
    let org = who.org.clone();
    Ok(state
        .store
        .write_once(&org, &key, move |conn, _| {
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
            let admitted = AdmittedProvider {
                lot_id: lot.id,
                provider_id: input.provider_id,
                provider_name: input.name,
                weekly_price_pence: Pence(domain::headline_price(&prices)),
                prices: prices.iter().map(|(l, p)| (l.clone(), Pence(*p))).collect(),
                capacity: input.capacity.map(|c| c as i32),
                round_id: Some(round.id),
                admitted_by: who.sub,
                admitted_at: now(),
            };
            store::insert_admission(conn, &admitted)?;
            let at = format!(
                "/v1/frameworks/{}/lots/{}/providers/{}",
                fw.id, lot.id, admitted.provider_id
            );
            Ok(Answer::created(&AdmissionView::of(admitted, None)).at(at))
        })
        .await?)
}

/// The admission of `provider_id` to the lot, visible to councils that see the framework
/// and to the provider itself; other providers get 404.
fn visible_admission(
    conn: &mut DbConnection,
    who: &Principal,
    framework_id: &str,
    lot_id: &str,
    provider_id: &str,
) -> Result<(Framework, Lot, AdmittedProvider), DbError> {
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
#[utoipa::path(get, path = "/v1/frameworks/{id}/lots/{lot_id}/providers/{provider_id}", tag = "competition", operation_id = "getAdmission",
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
                .map(HomeView::from)
                .collect();
            Ok(AdmissionView::of(admission, Some(homes)))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The provider's own admission, for maintaining its homes.
fn own_admission(
    conn: &mut DbConnection,
    who: &Principal,
    framework_id: &str,
    lot_id: &str,
    provider_id: &str,
) -> Result<Lot, DbError> {
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
#[utoipa::path(post, path = "/v1/frameworks/{id}/lots/{lot_id}/providers/{provider_id}/homes", tag = "competition", operation_id = "createHome",
    request_body = NewHome,
    params(("Idempotency-Key" = Option<String>, Header, description = IDEMPOTENCY_KEY_DOC)),
    responses((status = 201, body = HomeView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn add_home(
    state: web::Data<CompetitionState>,
    who: Principal,
    key: IdempotencyKey,
    path: web::Path<(String, String, String)>,
    body: Json<NewHome>,
) -> Result<Answer, Problem> {
    let (framework_id, lot_id, provider_id) = path.into_inner();
    let input = body.0;
    let org = who.org.clone();
    Ok(state
        .store
        .write_once(&org, &key, move |conn, _| {
            let lot = own_admission(conn, &who, &framework_id, &lot_id, &provider_id)?;
            let home = Home::of(HomeId::new(), lot.id, &provider_id, &input, &who.sub, now());
            store::insert_home(conn, &home)?;
            let at = format!(
                "/v1/frameworks/{framework_id}/lots/{lot_id}/providers/{provider_id}/homes/{}",
                home.id
            );
            Ok(Answer::created(&HomeView::from(home)).at(at))
        })
        .await?)
}

/// The home `home_id` of the provider's Provider Response, if the caller may see the
/// admission (councils that see the framework, and the provider itself), or 404.
fn visible_home(
    conn: &mut DbConnection,
    who: &Principal,
    (framework_id, lot_id, provider_id, home_id): &(String, String, String, String),
) -> Result<Home, DbError> {
    let (_, lot, admission) = visible_admission(conn, who, framework_id, lot_id, provider_id)?;
    Ok(store::home(conn, &path_id(home_id, "home")?)?
        .filter(|h| h.lot_id == lot.id && h.provider_id == admission.provider_id)
        .ok_or_else(|| Problem::not_found("home"))?)
}

/// A home or fostering household of a Provider Response, with its `ETag` (what a change
/// of it sends back in `If-Match`).
#[utoipa::path(get, path = "/v1/frameworks/{id}/lots/{lot_id}/providers/{provider_id}/homes/{home_id}", tag = "competition", operation_id = "getHome",
    responses((status = 200, body = HomeView, headers(("ETag" = String, description = "The home's revision"))), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_home(
    state: web::Data<CompetitionState>,
    who: Principal,
    path: web::Path<(String, String, String, String)>,
) -> Result<HttpResponse, Problem> {
    let path = path.into_inner();
    let home = state
        .store
        .db
        .run(move |conn| visible_home(conn, &who, &path))
        .await?;
    Ok(tagged(StatusCode::OK, home.revision, &HomeView::from(home)))
}

/// Replace a home's details (the provider): places taken, ages, specialisms, rating, …
/// The home's `If-Match` must name its current revision (ADR 0004).
#[utoipa::path(put, path = "/v1/frameworks/{id}/lots/{lot_id}/providers/{provider_id}/homes/{home_id}", tag = "competition", operation_id = "replaceHome",
    request_body = NewHome,
    params(("If-Match" = String, Header, description = IF_MATCH_DOC)),
    responses((status = 200, body = HomeView, headers(("ETag" = String, description = "The home's new revision"))), (status = 403, body = Problem), (status = 404, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_home(
    state: web::Data<CompetitionState>,
    who: Principal,
    if_match: IfMatch,
    path: web::Path<(String, String, String, String)>,
    body: Json<NewHome>,
) -> Result<HttpResponse, Problem> {
    let (framework_id, lot_id, provider_id, home_id) = path.into_inner();
    let input = body.0;
    let home = state
        .store
        .write(move |conn, _| {
            let lot = own_admission(conn, &who, &framework_id, &lot_id, &provider_id)?;
            let existing = store::home(conn, &path_id(&home_id, "home")?)?
                .filter(|h| h.lot_id == lot.id && h.provider_id == provider_id)
                .ok_or_else(|| Problem::not_found("home"))?;
            if_match.check(ETag(existing.revision), "home")?;
            let mut home = Home::of(existing.id, lot.id, &provider_id, &input, &who.sub, now());
            home.revision = existing.revision;
            store::save_home(conn, &mut home)?;
            Ok(home)
        })
        .await?;
    Ok(tagged(StatusCode::OK, home.revision, &HomeView::from(home)))
}
