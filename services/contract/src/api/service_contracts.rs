//! Service contracts a partnership's lead commissioner lets for all partners: letting (as a
//! draft), pension arrangements for TUPE staff with LGPS rights, going live, variations,
//! extensions and termination, each kept in the contract's history.

use std::collections::HashMap;

use actix_web::{HttpResponse, http::StatusCode, web};
use chrono::{DateTime, NaiveDate, Utc};
use hub_bus::Events;
use hub_platform::{
    DbConnection, Principal, Problem, Role,
    db::DbError,
    directory,
    etag::{ETag, IfMatch},
    http::Json,
    idempotency::{Answer, IdempotencyKey},
    page::{Page, PageParams, PageRequest},
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ContractState, command, command_once, path_id, tagged, today};
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
#[schema(as = ServiceContractHistoryView)]
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
    /// Sent as the `ETag` header.
    #[serde(skip)]
    pub revision: i64,
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
            revision: c.revision,
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

/// A command on a service contract: what it does to the contract `store::managed` found
/// (and locked) for its lead commissioner.
trait Manage:
    FnOnce(&mut DbConnection, &ServiceContract, &Principal, &mut Events) -> Result<(), DbError>
    + Send
    + 'static
{
}

impl<F> Manage for F where
    F: FnOnce(&mut DbConnection, &ServiceContract, &Principal, &mut Events) -> Result<(), DbError>
        + Send
        + 'static
{
}

/// The contract for its lead commissioner (locked), for [`command`].
fn managed(
    id: &str,
) -> Result<
    impl FnOnce(&mut DbConnection, &Principal) -> Result<ServiceContract, DbError> + Send + 'static,
    Problem,
> {
    let id: ServiceContractId = path_id(id, "service contract")?;
    Ok(move |conn: &mut DbConnection, who: &Principal| store::managed(conn, who, id))
}

/// Runs `act` on the contract, raises its revision and reads it as it then is. The row is
/// locked from `store::managed`'s read, so nothing comes between an `If-Match` checked on
/// that read and the raise.
fn change(
    conn: &mut DbConnection,
    c: &ServiceContract,
    who: &Principal,
    events: &mut Events,
    act: impl Manage,
) -> Result<ServiceContractView, DbError> {
    act(conn, c, who, events)?;
    store::raise_revision(conn, c.id)?;
    full_view(conn, c.id)
}

/// Runs `act` on the contract for its lead commissioner in one write (see [`command`]), and
/// answers with the contract as it then is, its revision the `ETag`. An in-place edit
/// passes its `If-Match`, checked against the contract as read in that write.
async fn manage(
    state: &ContractState,
    who: Principal,
    id: String,
    if_match: Option<IfMatch>,
    act: impl Manage,
) -> Result<HttpResponse, Problem> {
    let view = command(state, who, managed(&id)?, |conn, c, who, events| {
        if let Some(if_match) = if_match {
            if_match.check(ETag(c.revision), "service contract")?;
        }
        change(conn, &c, who, events, act)
    })
    .await?;
    Ok(tagged(StatusCode::OK, view.revision, &view))
}

/// [`manage`] for a command that makes something new of the contract (an extension, a
/// variation): safe to retry with an `Idempotency-Key` ([`command_once`]).
async fn manage_once(
    state: &ContractState,
    who: Principal,
    id: String,
    key: IdempotencyKey,
    act: impl Manage,
) -> Result<Answer, Problem> {
    command_once(state, who, key, managed(&id)?, |conn, c, who, events| {
        Ok(Answer::ok(&change(conn, &c, who, events, act)?))
    })
    .await
}

/// Let a service contract for all the partnership's councils (its lead commissioner), as a
/// draft: it goes live with `POST …/go-live`.
#[utoipa::path(operation_id = "createServiceContract", post, path = "/v1/contracts/services", tag = "contract", request_body = NewServiceContract,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and request within 24 hours get the first answer back, with no second contract")),
    responses((status = 201, body = ServiceContractView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn let_service_contract(
    state: web::Data<ContractState>,
    who: Principal,
    key: IdempotencyKey,
    body: Json<NewServiceContract>,
) -> Result<Answer, Problem> {
    who.require_any(&[Role::Commissioner])?;
    let input = body.0;
    let partnership = directory::partnership(&input.partnership).expect("validated");
    rules::may_manage(&who, partnership.lead_commissioner).map_err(Problem::forbidden)?;
    let contract = ServiceContract::let_by(&who, &input, partnership, Utc::now().naive_utc());
    let org = who.org.clone();
    Ok(state
        .store
        .write_once(&org, &key, move |conn, _| {
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
            let view = full_view(conn, contract.id)?;
            tracing::info!(contract_id = %view.id, lead_council = %view.lead_council, provider_id = %view.provider_id, "service contract let as a draft");
            Ok(Answer::created(&view).at(format!("/v1/contracts/services/{}", view.id)))
        })
        .await?)
}

/// Service contracts the caller may see: its partnerships' (council staff) or its own (a
/// provider), newest first (by id), without their history.
#[utoipa::path(operation_id = "listServiceContracts", get, path = "/v1/contracts/services", tag = "contract",
    params(PageParams),
    responses((status = 200, body = Page<ServiceContractView>), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_service_contracts(
    state: web::Data<ContractState>,
    who: Principal,
    paging: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, Problem> {
    let page = PageRequest::from_query(&paging)?;
    let contracts = state
        .store
        .db
        .run(move |conn| store::list_visible(conn, &who, &page))
        .await?;
    let today = today();
    Ok(HttpResponse::Ok().json(contracts.map(|c| ServiceContractView::of(&c, None, today))))
}

/// Read a service contract with its history: staff of the partnership's councils and the
/// provider; anyone else 404.
#[utoipa::path(operation_id = "getServiceContract", get, path = "/v1/contracts/services/{id}", tag = "contract",
    params(("id" = String, Path, description = "The service contract's id")),
    responses((status = 200, body = ServiceContractView, headers(("ETag" = String, description = "The contract's revision"))),
        (status = 401, body = Problem), (status = 404, body = Problem)),
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
    Ok(tagged(StatusCode::OK, view.revision, &view))
}

/// Record the LGPS admission agreement's and the bond's progress (contracts with TUPE staff
/// with LGPS rights; otherwise 409 `/problems/pensions-not-required`).
#[utoipa::path(operation_id = "replaceServiceContractPensions", put, path = "/v1/contracts/services/{id}/pensions", tag = "contract",
    params(("id" = String, Path, description = "The service contract's id"),
        ("If-Match" = String, Header, description = "The contract's `ETag` as last read: 412 when it has changed since, 428 without it, `*` overwrites")),
    request_body = PensionsUpdate,
    responses((status = 200, body = ServiceContractView, headers(("ETag" = String, description = "The contract's revision"))),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`/problems/pensions-not-required`, `/problems/contract-not-live` (terminated)"),
        (status = 412, body = Problem, description = "the contract changed since it was read"),
        (status = 428, body = Problem, description = "no `If-Match`"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn set_service_contract_pensions(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
    if_match: IfMatch,
    body: Json<PensionsUpdate>,
) -> Result<HttpResponse, Problem> {
    let input = body.0;
    let if_match = Some(if_match);
    manage(
        &state,
        who,
        id.into_inner(),
        if_match,
        move |conn, c, who, _| {
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
        },
    )
    .await
}

/// Put a draft contract in force (its lead commissioner). No body, or `{}`. Emits
/// `contract.service_contract_let`. 409 `/problems/lgps-admission-required` (with `errors`
/// naming `admission_agreement` and/or `bond`) while TUPE staff's LGPS admission agreement
/// is not signed or the bond not in place.
#[utoipa::path(operation_id = "activateServiceContract", post, path = "/v1/contracts/services/{id}/go-live", tag = "contract",
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
    manage(&state, who, id.into_inner(), None, store::go_live).await
}

/// Use an extension option of a live contract (its lead commissioner). Emits
/// `contract.service_contract_extended`; 409 `/problems/no-extensions-left` when every
/// option is used, `/problems/contract-not-live` unless live.
#[utoipa::path(operation_id = "extendServiceContract", post, path = "/v1/contracts/services/{id}/extend", tag = "contract",
    params(("id" = String, Path, description = "The service contract's id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and request within 24 hours get the first answer back, with no second extension")),
    request_body = ExtendService,
    responses((status = 200, body = ServiceContractView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`/problems/no-extensions-left`, `/problems/contract-not-live`"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn extend_service_contract(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
    key: IdempotencyKey,
    body: Json<ExtendService>,
) -> Result<Answer, Problem> {
    let input = body.0;
    manage_once(
        &state,
        who,
        id.into_inner(),
        key,
        move |conn, c, who, events| {
            let reason = input
                .reason
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty());
            store::extend(conn, c, input.added_value_pence, reason, who, events).map(drop)
        },
    )
    .await
}

/// Record a variation of a draft or live contract (its lead commissioner): from when, why,
/// what changes, the services from then on when they change, and what it adds to (or takes
/// from) the value, phased by day from `effective_on` to the current end date. A value change
/// on a live contract emits `contract.service_contract_varied`; on a draft it changes the
/// value the let will carry. 409 `/problems/reduction-exceeds-remaining` (with `errors`
/// naming `/value_change_pence`) when a reduction is more than is left to phase from
/// `effective_on`.
#[utoipa::path(operation_id = "createServiceContractVariation", post, path = "/v1/contracts/services/{id}/variations", tag = "contract",
    params(("id" = String, Path, description = "The service contract's id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and request within 24 hours get the first answer back, with no second variation")),
    request_body = NewVariation,
    responses((status = 200, body = ServiceContractView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`/problems/contract-not-live` (terminated), `/problems/reduction-exceeds-remaining`"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn vary_service_contract(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
    key: IdempotencyKey,
    body: Json<NewVariation>,
) -> Result<Answer, Problem> {
    let input = body.0;
    manage_once(
        &state,
        who,
        id.into_inner(),
        key,
        move |conn, c, who, events| store::vary(conn, c, &input, who, events),
    )
    .await
}

/// Terminate a live contract early (its lead commissioner), with the reason, the last day
/// and when notice was given. Emits `contract.service_contract_terminated`.
#[utoipa::path(operation_id = "terminateServiceContract", post, path = "/v1/contracts/services/{id}/terminate", tag = "contract",
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
    manage(
        &state,
        who,
        id.into_inner(),
        None,
        move |conn, c, who, events| store::terminate(conn, c, &input, who, events),
    )
    .await
}
