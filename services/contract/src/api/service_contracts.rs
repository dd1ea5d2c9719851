//! Service contracts a partnership's lead commissioner lets for all partners: letting (as a
//! draft), pension arrangements for TUPE staff with LGPS rights, going live, variations,
//! extensions and termination, each kept in the contract's history.

use actix_web::{HttpResponse, http::header, web};
use chrono::{DateTime, NaiveDate, Utc};
use hub_bus::Events;
use hub_platform::{DbConnection, Principal, Problem, Role, db::DbError, directory, http::Json};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ContractState, command, path_id, today};
use crate::{
    domain::{
        HistoryEntry, ServiceContract,
        service_contracts::{
            self as rules, AgreementStatus, BondStatus, ExtendService, GoLive, HistoryKind,
            NewServiceContract, NewVariation, PensionsUpdate, Status, Termination,
        },
    },
    ids::{HistoryId, ServiceContractId},
    store::service_contracts as store,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    let one = "/v1/contracts/services/{id}";
    cfg.route(
        "/v1/contracts/services",
        web::post().to(let_service_contract),
    )
    .route(
        "/v1/contracts/services",
        web::get().to(list_service_contracts),
    )
    .route(one, web::get().to(get_service_contract))
    .route(
        &format!("{one}/pensions"),
        web::put().to(set_service_contract_pensions),
    )
    .route(
        &format!("{one}/go-live"),
        web::post().to(service_contract_go_live),
    )
    .route(
        &format!("{one}/extend"),
        web::post().to(extend_service_contract),
    )
    .route(
        &format!("{one}/variations"),
        web::post().to(vary_service_contract),
    )
    .route(
        &format!("{one}/terminate"),
        web::post().to(terminate_service_contract),
    );
}

/// One entry of a contract's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryView {
    /// The entry's id (a variation's is the `variation_id` of its
    /// `contract.service_contract_varied`).
    pub id: HistoryId,
    pub kind: HistoryKind,
    pub effective_on: Option<NaiveDate>,
    pub reason: Option<String>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// What the entry adds to the contract's value (negative: takes from it): going live,
    /// the value; an extension, its added value; a variation, its change.
    pub value_change_pence: Option<i64>,
    /// The last day `value_change_pence` is phased to, evenly by day from `effective_on`;
    /// none for a variation of a draft (its change is in the value the contract is let at).
    pub phased_to: Option<NaiveDate>,
    pub by: String,
    pub org: String,
    pub at: DateTime<Utc>,
}

impl From<&HistoryEntry> for HistoryView {
    fn from(h: &HistoryEntry) -> Self {
        Self {
            id: h.id,
            kind: h.kind,
            effective_on: h.effective_on,
            reason: h.reason.clone(),
            detail: h.detail.clone(),
            value_change_pence: h.value_change_pence.map(|p| p.0),
            phased_to: h.phased_to,
            by: h.actor.clone(),
            org: h.org.clone(),
            at: h.at.and_utc(),
        }
    }
}

/// A service contract with its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceContractView {
    pub id: ServiceContractId,
    pub partnership: String,
    /// The lead commissioner that let it for all partners.
    pub lead_council: String,
    pub provider_id: String,
    pub title: String,
    pub services: Vec<String>,
    /// Value over the term, extensions included.
    pub value_pence: i64,
    pub start_date: NaiveDate,
    /// The last day, after any extensions.
    pub end_date: NaiveDate,
    pub original_end_date: NaiveDate,
    pub budget_line: String,
    /// `draft`, `live` or `terminated`.
    pub status: Status,
    /// `draft`, `live`, `expired` (live, past its end) or `terminated`.
    pub state: String,
    pub extensions_allowed: u16,
    pub extensions_used: u16,
    pub extensions_left: u16,
    /// Every extension option is used: the next step is a new procurement.
    pub no_extensions_left: bool,
    pub extension_months: u16,
    /// Months before the end at which expiry alerts are raised, longest first.
    pub alert_months: Vec<u16>,
    /// The nearest alert raised for the current end date.
    pub alerted_months: Option<u16>,
    /// TUPE staff with LGPS pension rights: admission agreement and bond required.
    pub tupe_lgps: bool,
    pub admission_agreement: AgreementStatus,
    pub admission_agreement_signed_on: Option<NaiveDate>,
    pub bond: BondStatus,
    pub bond_amount_pence: Option<i64>,
    pub went_live_by: Option<String>,
    pub went_live_at: Option<DateTime<Utc>>,
    pub terminated_on: Option<NaiveDate>,
    pub termination_reason: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// Oldest first. Absent from lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryView>>,
}

impl ServiceContractView {
    fn of(c: &ServiceContract, history: Option<&[HistoryEntry]>, today: NaiveDate) -> Self {
        Self {
            id: c.id,
            partnership: c.partnership.clone(),
            lead_council: c.lead_council.clone(),
            provider_id: c.provider_id.clone(),
            title: c.title.clone(),
            services: c.services.clone(),
            value_pence: c.value_pence.0,
            start_date: c.start_date,
            end_date: c.end_date,
            original_end_date: c.original_end_date,
            budget_line: c.budget_line.clone(),
            status: c.status,
            state: c.state(today),
            extensions_allowed: c.extensions_allowed as u16,
            extensions_used: c.extensions_used as u16,
            extensions_left: c.extensions_left(),
            no_extensions_left: c.extensions_left() == 0,
            extension_months: c.extension_months as u16,
            alert_months: c.alerts_longest_first(),
            alerted_months: c.alerted_months.map(|m| m as u16),
            tupe_lgps: c.tupe_lgps,
            admission_agreement: c.admission_agreement,
            admission_agreement_signed_on: c.admission_agreement_signed_on,
            bond: c.bond,
            bond_amount_pence: c.bond_amount_pence.map(|p| p.0),
            went_live_by: c.went_live_by.clone(),
            went_live_at: c.went_live_at.map(|t| t.and_utc()),
            terminated_on: c.terminated_on,
            termination_reason: c.termination_reason.clone(),
            created_by: c.created_by.clone(),
            created_at: c.created_at.and_utc(),
            history: history.map(|h| h.iter().map(HistoryView::from).collect()),
        }
    }
}

fn full_view(
    conn: &mut DbConnection,
    id: ServiceContractId,
) -> Result<ServiceContractView, DbError> {
    let c = store::find(conn, id)?.ok_or_else(|| Problem::not_found("service contract"))?;
    let history = store::history(conn, id)?;
    Ok(ServiceContractView::of(&c, Some(&history), today()))
}

/// Runs `act` on the contract for its lead commissioner in one write (see [`command`]), and
/// answers with the contract as it then is.
async fn manage<F>(
    state: &ContractState,
    who: Principal,
    id: String,
    act: F,
) -> Result<HttpResponse, Problem>
where
    F: FnOnce(&mut DbConnection, &ServiceContract, &Principal, &mut Events) -> Result<(), DbError>
        + Send
        + 'static,
{
    let id: ServiceContractId = path_id(&id, "service contract")?;
    let find = move |conn: &mut DbConnection, who: &Principal| store::managed(conn, who, id);
    let view = command(state, who, find, |conn, c, who, events| {
        act(conn, &c, who, events)?;
        full_view(conn, c.id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Let a service contract for all the partnership's councils (its lead commissioner), as a
/// draft: it goes live with `POST …/go-live`.
#[utoipa::path(post, path = "/v1/contracts/services", tag = "contract", request_body = NewServiceContract,
    responses((status = 201, body = ServiceContractView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn let_service_contract(
    state: web::Data<ContractState>,
    who: Principal,
    body: Json<NewServiceContract>,
) -> Result<HttpResponse, Problem> {
    who.require_any(&[Role::Commissioner])?;
    let input = body.0;
    let partnership = directory::partnership(&input.partnership).expect("validated");
    rules::may_manage(&who, partnership.lead_commissioner).map_err(Problem::forbidden)?;
    let contract = ServiceContract::let_by(&who, &input, partnership, Utc::now().naive_utc());
    let view = state
        .store
        .write(move |conn, _| {
            store::insert(conn, &contract)?;
            store::log(
                conn,
                contract.id,
                HistoryKind::Let,
                Some(contract.start_date),
                None,
                serde_json::json!({
                    "value_pence": contract.value_pence, "end_date": contract.end_date,
                    "services": contract.services, "tupe_lgps": contract.tupe_lgps,
                }),
                &who,
            )?;
            full_view(conn, contract.id)
        })
        .await?;
    tracing::info!(contract_id = %view.id, lead_council = %view.lead_council, provider_id = %view.provider_id, "service contract let as a draft");
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/v1/contracts/services/{}", view.id),
        ))
        .json(view))
}

/// Service contracts the caller may see: its partnerships' (council staff) or its own (a
/// provider), newest first, without their history.
#[utoipa::path(get, path = "/v1/contracts/services", tag = "contract",
    responses((status = 200, body = [ServiceContractView]), (status = 401, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_service_contracts(
    state: web::Data<ContractState>,
    who: Principal,
) -> Result<HttpResponse, Problem> {
    let contracts = state
        .store
        .db
        .run(move |conn| store::list_visible(conn, &who))
        .await?;
    let today = today();
    Ok(HttpResponse::Ok().json(
        contracts
            .iter()
            .map(|c| ServiceContractView::of(c, None, today))
            .collect::<Vec<_>>(),
    ))
}

/// Read a service contract with its history: staff of the partnership's councils and the
/// provider; anyone else 404.
#[utoipa::path(get, path = "/v1/contracts/services/{id}", tag = "contract",
    params(("id" = String, Path, description = "The service contract's id")),
    responses((status = 200, body = ServiceContractView), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_service_contract(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id: ServiceContractId = path_id(&id, "service contract")?;
    let view = state
        .store
        .db
        .run(move |conn| {
            let c = store::visible(conn, &who, id)?;
            full_view(conn, c.id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Record the LGPS admission agreement's and the bond's progress (contracts with TUPE staff
/// with LGPS rights; otherwise 409 `/problems/pensions-not-required`).
#[utoipa::path(put, path = "/v1/contracts/services/{id}/pensions", tag = "contract",
    params(("id" = String, Path, description = "The service contract's id")), request_body = PensionsUpdate,
    responses((status = 200, body = ServiceContractView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`/problems/pensions-not-required`, `/problems/contract-not-live` (terminated)"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn set_service_contract_pensions(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<PensionsUpdate>,
) -> Result<HttpResponse, Problem> {
    let input = body.0;
    manage(&state, who, id.into_inner(), move |conn, c, who, _| {
        let pensions = c.pensions_after(&input)?;
        store::set_pensions(conn, c, &pensions)?;
        let (agreement, signed_on) = (pensions.agreement, pensions.signed_on);
        let (bond, amount) = (pensions.bond, pensions.bond_amount);
        store::log(
            conn,
            c.id,
            HistoryKind::Pensions,
            signed_on,
            input
                .note
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty()),
            serde_json::json!({
                "admission_agreement": agreement, "admission_agreement_signed_on": signed_on,
                "bond": bond, "bond_amount_pence": amount,
            }),
            who,
        )
    })
    .await
}

/// Put a draft contract in force (its lead commissioner). No body, or `{}`. Emits
/// `contract.service_contract_let`. 409 `/problems/lgps-admission-required` (with `errors`
/// naming `admission_agreement` and/or `bond`) while TUPE staff's LGPS admission agreement
/// is not signed or the bond not in place.
#[utoipa::path(post, path = "/v1/contracts/services/{id}/go-live", tag = "contract",
    params(("id" = String, Path, description = "The service contract's id")),
    request_body(content = GoLive, description = "Optional: no body, or an empty object"),
    responses((status = 200, body = ServiceContractView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`/problems/lgps-admission-required`, `/problems/contract-not-draft`"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn service_contract_go_live(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    hub_platform::http::optional_body::<GoLive>(&body)?;
    manage(&state, who, id.into_inner(), |conn, c, who, events| {
        store::go_live(conn, c, who, events)
    })
    .await
}

/// Use an extension option of a live contract (its lead commissioner). Emits
/// `contract.service_contract_extended`; 409 `/problems/no-extensions-left` when every
/// option is used, `/problems/contract-not-live` unless live.
#[utoipa::path(post, path = "/v1/contracts/services/{id}/extend", tag = "contract",
    params(("id" = String, Path, description = "The service contract's id")), request_body = ExtendService,
    responses((status = 200, body = ServiceContractView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`/problems/no-extensions-left`, `/problems/contract-not-live`"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn extend_service_contract(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<ExtendService>,
) -> Result<HttpResponse, Problem> {
    let input = body.0;
    manage(&state, who, id.into_inner(), move |conn, c, who, events| {
        let reason = input
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        store::extend(conn, c, input.added_value_pence, reason, who, events).map(drop)
    })
    .await
}

/// Record a variation of a draft or live contract (its lead commissioner): from when, why,
/// what changes, the services from then on when they change, and what it adds to (or takes
/// from) the value, phased by day from `effective_on` to the current end date. A value change
/// on a live contract emits `contract.service_contract_varied`; on a draft it changes the
/// value the let will carry. 409 `/problems/reduction-exceeds-remaining` (with `errors`
/// naming `/value_change_pence`) when a reduction is more than is left to phase from
/// `effective_on`.
#[utoipa::path(post, path = "/v1/contracts/services/{id}/variations", tag = "contract",
    params(("id" = String, Path, description = "The service contract's id")), request_body = NewVariation,
    responses((status = 200, body = ServiceContractView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`/problems/contract-not-live` (terminated), `/problems/reduction-exceeds-remaining`"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn vary_service_contract(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<NewVariation>,
) -> Result<HttpResponse, Problem> {
    let input = body.0;
    manage(&state, who, id.into_inner(), move |conn, c, who, events| {
        store::vary(conn, c, &input, who, events)
    })
    .await
}

/// Terminate a live contract early (its lead commissioner), with the reason, the last day
/// and when notice was given. Emits `contract.service_contract_terminated`.
#[utoipa::path(post, path = "/v1/contracts/services/{id}/terminate", tag = "contract",
    params(("id" = String, Path, description = "The service contract's id")), request_body = Termination,
    responses((status = 200, body = ServiceContractView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "`/problems/contract-not-live`"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn terminate_service_contract(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<Termination>,
) -> Result<HttpResponse, Problem> {
    let input = body.0;
    manage(&state, who, id.into_inner(), move |conn, c, who, events| {
        store::terminate(conn, c, &input, who, events)
    })
    .await
}
