//! Block contracts: letting them, their beds (who is in each, which are void and offered to
//! partner councils, every stay), savings over a date range, and extensions.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use hub_platform::{
    Principal, Problem, Role,
    db::{DbConnection, DbError},
    directory,
    http::Json,
    idempotency::{Answer, IdempotencyKey},
    page::{Page, PageParams, PageRequest},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ContractState, command_once, path_id, today};
use crate::{
    domain::{
        Bed, BedStay, BlockContract, BlockExtension,
        blocks::{self as rules, ExtendBlock, NewBlockContract, Savings},
    },
    ids::{BlockContractId, HomeId, LotId, PlacementId},
    store::blocks as store,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/contracts/blocks", web::post().to(let_block_contract))
        .route("/v1/contracts/blocks", web::get().to(list_block_contracts))
        .route(
            "/v1/contracts/blocks/{id}",
            web::get().to(get_block_contract),
        )
        .route(
            "/v1/contracts/blocks/{id}/savings",
            web::get().to(block_contract_savings),
        )
        .route(
            "/v1/contracts/blocks/{id}/extend",
            web::post().to(extend_block_contract),
        );
}

/// A block contract's terms.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlockContractSummary {
    pub id: BlockContractId,
    pub partnership: String,
    /// The council that let it and holds it.
    pub lead_council: String,
    pub provider_id: String,
    pub description: String,
    pub beds: u16,
    pub block_weekly_rate_pence: i64,
    pub spot_weekly_rate_pence: i64,
    /// (spot − block) × 52 × beds.
    pub planned_annual_saving_pence: i64,
    pub start_date: NaiveDate,
    /// The term's last day, after any extensions used.
    pub end_date: NaiveDate,
    pub term_years: u16,
    pub extension_options: u16,
    pub extension_years: u16,
    pub extensions_used: u16,
    pub extensions_left: u16,
    /// Days a bed may stand void before it is offered to partner councils.
    pub void_offer_after_days: u16,
    pub lot_id: Option<LotId>,
    pub home_id: Option<HomeId>,
    pub postcode_district: Option<String>,
    pub let_by: String,
    pub let_at: DateTime<Utc>,
}

impl From<&BlockContract> for BlockContractSummary {
    fn from(r: &BlockContract) -> Self {
        Self {
            id: r.id,
            partnership: r.partnership.clone(),
            lead_council: r.lead_council.clone(),
            provider_id: r.provider_id.clone(),
            description: r.description.clone(),
            beds: r.beds as u16,
            block_weekly_rate_pence: r.block_weekly_rate_pence.0,
            spot_weekly_rate_pence: r.spot_weekly_rate_pence.0,
            planned_annual_saving_pence: r.planned_annual_saving().0,
            start_date: r.start_date,
            end_date: r.end_date,
            term_years: r.term_years as u16,
            extension_options: r.extension_options as u16,
            extension_years: r.extension_years as u16,
            extensions_used: r.extensions_used as u16,
            extensions_left: r.extensions_left(),
            void_offer_after_days: r.void_offer_after_days as u16,
            lot_id: r.lot_id,
            home_id: r.home_id,
            postcode_district: r.postcode_district.clone(),
            let_by: r.let_by.clone(),
            let_at: r.let_at.and_utc(),
        }
    }
}

/// One child's stay in a bed (no personal data: the placement and its council).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BedStayView)]
pub struct StayView {
    pub placement_id: PlacementId,
    pub council: String,
    pub from: NaiveDate,
    /// The child's last night; absent while they are there.
    pub to: Option<NaiveDate>,
}

impl From<&BedStay> for StayView {
    fn from(s: &BedStay) -> Self {
        Self {
            placement_id: s.placement_id,
            council: s.council.clone(),
            from: s.from_date,
            to: s.to_date,
        }
    }
}

/// A bed: who it is held for, who is in it, or since when it is void and whom it is offered to.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BlockBedView)]
pub struct BedView {
    pub bed: u16,
    pub held_for: String,
    /// `occupied` (a child in it or moving in), `void`, or `offered` (void and offered to
    /// partner councils).
    pub status: String,
    pub placement_id: Option<PlacementId>,
    /// First day of the current void.
    pub void_from: Option<NaiveDate>,
    pub offered_on: Option<NaiveDate>,
    pub offered_to: Vec<String>,
    /// Every stay, oldest first.
    pub stays: Vec<StayView>,
}

fn bed_view(b: &Bed, stays: &[BedStay]) -> BedView {
    BedView {
        bed: b.bed as u16,
        held_for: b.held_for.clone(),
        status: b.state().into(),
        placement_id: b.placement_id,
        void_from: b.void_from,
        offered_on: b.offered_on,
        offered_to: b.current_offer(),
        stays: stays
            .iter()
            .filter(|s| s.bed == b.bed)
            .map(StayView::from)
            .collect(),
    }
}

/// An extension option used.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BlockContractExtensionView)]
pub struct ExtensionView {
    pub previous_end_date: NaiveDate,
    pub new_end_date: NaiveDate,
    pub extended_by: String,
    pub extended_at: DateTime<Utc>,
}

impl From<&BlockExtension> for ExtensionView {
    fn from(e: &BlockExtension) -> Self {
        Self {
            previous_end_date: e.previous_end_date,
            new_end_date: e.new_end_date,
            extended_by: e.extended_by.clone(),
            extended_at: e.extended_at.and_utc(),
        }
    }
}

/// A block contract with its beds and the extensions used.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlockContractView {
    #[serde(flatten)]
    pub contract: BlockContractSummary,
    pub bed_states: Vec<BedView>,
    pub extensions: Vec<ExtensionView>,
}

fn full_view(conn: &mut DbConnection, c: &BlockContract) -> Result<BlockContractView, DbError> {
    let beds = store::beds(conn, c.id)?;
    let stays = store::stays(conn, c.id)?;
    let extensions = store::extensions(conn, c.id)?;
    Ok(BlockContractView {
        contract: c.into(),
        bed_states: beds.iter().map(|b| bed_view(b, &stays)).collect(),
        extensions: extensions.iter().map(ExtensionView::from).collect(),
    })
}

/// Let a block contract (a commissioner of a member council of the partnership): every bed
/// is void from the first day until filled. Emits `contract.block_contract_let` and a
/// `contract.bed_void` per bed.
#[utoipa::path(operation_id = "createBlockContract", post, path = "/v1/contracts/blocks", tag = "contract", request_body = NewBlockContract,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and request within 24 hours get the first answer back, with no second block contract")),
    responses((status = 201, body = BlockContractView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn let_block_contract(
    state: web::Data<ContractState>,
    who: Principal,
    key: IdempotencyKey,
    body: Json<NewBlockContract>,
) -> Result<Answer, Problem> {
    who.require_any(&[Role::Commissioner])?;
    let input = body.0;
    let partnership = directory::partnership(&input.partnership).expect("validated");
    rules::may_let(&who, partnership).map_err(Problem::forbidden)?;
    let contract = BlockContract::let_by(&who, &input, partnership, Utc::now().naive_utc());
    let held_for = input.held_for(&who.org);
    let org = who.org.clone();
    Ok(state
        .store
        .write_once(&org, &key, move |conn, events| {
            store::let_contract(conn, &contract, &held_for, events)?;
            let view = full_view(conn, &contract)?;
            tracing::info!(block_contract_id = %view.contract.id, lead_council = %view.contract.lead_council,
                provider_id = %view.contract.provider_id, beds = view.contract.beds, "block contract let");
            Ok(Answer::created(&view).at(format!("/v1/contracts/blocks/{}", view.contract.id)))
        })
        .await?)
}

/// Block contracts the caller may see: those of its partnerships (council staff) or its own
/// (a provider), newest first (by id).
#[utoipa::path(operation_id = "listBlockContracts", get, path = "/v1/contracts/blocks", tag = "contract",
    params(PageParams),
    responses((status = 200, body = Page<BlockContractSummary>), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_block_contracts(
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
    Ok(HttpResponse::Ok().json(contracts.map(|c| BlockContractSummary::from(&c))))
}

/// Read a block contract with its beds: staff of the partnership's councils and the
/// provider; anyone else 404.
#[utoipa::path(operation_id = "getBlockContract", get, path = "/v1/contracts/blocks/{id}", tag = "contract",
    params(("id" = String, Path, description = "The block contract's id")),
    responses((status = 200, body = BlockContractView), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_block_contract(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id: BlockContractId = path_id(&id, "block contract")?;
    let view = state
        .store
        .db
        .run(move |conn| {
            let c = store::visible(conn, &who, id)?;
            full_view(conn, &c)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SavingsQuery {
    /// First day counted (default: the contract's first day).
    pub from: Option<NaiveDate>,
    /// Last day counted (default: today, or the term's last day if earlier).
    pub to: Option<NaiveDate>,
}

/// Savings over a date range: the planned annual saving, the realised saving on occupied
/// bed-days and, beside it, what void bed-days cost.
#[utoipa::path(operation_id = "getBlockContractSavings", get, path = "/v1/contracts/blocks/{id}/savings", tag = "contract",
    params(("id" = String, Path, description = "The block contract's id"), SavingsQuery),
    responses((status = 200, body = Savings), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn block_contract_savings(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
    query: web::Query<SavingsQuery>,
) -> Result<HttpResponse, Problem> {
    let id: BlockContractId = path_id(&id, "block contract")?;
    let q = query.into_inner();
    let savings = state
        .store
        .db
        .run(move |conn| {
            let c = store::visible(conn, &who, id)?;
            let from = q.from.unwrap_or(c.start_date);
            let to = q.to.unwrap_or_else(|| today().min(c.end_date));
            if to < from {
                return Err(
                    Problem::invalid("to", "after_from", "`to` must not be before `from`").into(),
                );
            }
            let stays: Vec<_> = store::stays(conn, c.id)?
                .iter()
                .map(BedStay::stay)
                .collect();
            Ok(rules::savings(&c.terms(), &stays, from, to))
        })
        .await?;
    Ok(HttpResponse::Ok().json(savings))
}

/// Use one of the block contract's extension options (its lead council's commissioner). No
/// body, or `{}`. Emits `contract.block_contract_extended`; 409
/// `/problems/no-extensions-left` when none is left.
#[utoipa::path(operation_id = "extendBlockContract", post, path = "/v1/contracts/blocks/{id}/extend", tag = "contract",
    request_body(content = ExtendBlock, description = "Optional: no body, or an empty object"),
    params(("id" = String, Path, description = "The block contract's id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and request within 24 hours get the first answer back, with no second extension")),
    responses((status = 200, body = BlockContractView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "`/problems/no-extensions-left`"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn extend_block_contract(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
    key: IdempotencyKey,
    body: web::Bytes,
) -> Result<Answer, Problem> {
    hub_platform::http::optional_body::<ExtendBlock>(&body)?;
    let id: BlockContractId = path_id(&id, "block contract")?;
    let find = move |conn: &mut DbConnection, who: &Principal| {
        let c = store::visible(conn, who, id)?;
        c.lead_acts(who)?;
        Ok(c)
    };
    command_once(&state, who, key, find, |conn, c, who, events| {
        let ext = store::extend(conn, &c, &who.sub, Utc::now().naive_utc(), events)?;
        let c = store::find(conn, c.id)?.ok_or_else(|| Problem::not_found("block contract"))?;
        tracing::info!(block_contract_id = %c.id, new_end_date = %ext.new_end_date, extensions_left = c.extensions_left(), "block contract extended");
        Ok(Answer::ok(&full_view(conn, &c)?))
    })
    .await
}
