//! HTTP handlers of the contract service.
//!
//! * `orders`: orders issued on awards; signing, declining, emergency timescales, overdue
//!   orders, variations.
//! * `placements`: placements under an order or in a block bed; ending them.
//! * `ipa`: Individual Placement Agreements: versions drafted, signed, approved; reviews.
//! * `stability`: placement stability figures per council.

pub mod blocks;
pub mod ipa;
pub mod orders;
pub mod placements;
pub mod service_contracts;
pub mod stability;

use std::sync::Arc;

use actix_web::{HttpResponse, http::StatusCode, web};
use chrono::{NaiveDate, Utc};
use hub_bus::{Events, Store};
use hub_platform::{
    Principal, Problem, Settings,
    db::{DbConnection, DbError},
    etag::ETag,
    idempotency::{Answer, IdempotencyKey},
};
use serde::Serialize;
use utoipa::OpenApi;

pub struct ContractState {
    pub store: Store,
    pub settings: Arc<Settings>,
}

#[derive(OpenApi)]
#[openapi(
    paths(
        orders::list_orders,
        orders::get_order,
        orders::sign_order,
        orders::decline_order,
        orders::agree_order_timescale,
        orders::vary_order,
        orders::list_order_variations,
        placements::create_placement,
        placements::list_placements,
        placements::get_placement,
        placements::end_placement,
        ipa::get_ipa,
        ipa::draft_ipa_version,
        ipa::replace_ipa_version,
        ipa::sign_ipa_version,
        ipa::approve_ipa_version,
        ipa::withdraw_ipa_version,
        ipa::record_ipa_review,
        ipa::list_ipa_reviews_due,
        stability::placement_stability,
        blocks::let_block_contract,
        blocks::list_block_contracts,
        blocks::get_block_contract,
        blocks::block_contract_savings,
        blocks::extend_block_contract,
        service_contracts::let_service_contract,
        service_contracts::list_service_contracts,
        service_contracts::get_service_contract,
        service_contracts::set_service_contract_pensions,
        service_contracts::service_contract_go_live,
        service_contracts::extend_service_contract,
        service_contracts::vary_service_contract,
        service_contracts::terminate_service_contract,
    ),
    tags((name = "contract", description = "Orders, placements, Individual Placement Agreements, block and service contracts"))
)]
pub struct ContractApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    orders::routes(cfg);
    placements::routes(cfg);
    ipa::routes(cfg);
    stability::routes(cfg);
    blocks::routes(cfg);
    service_contracts::routes(cfg);
}

/// Today (UTC).
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

pub use hub_platform::problem::path_id;

/// The shape of every command: in one write, `find` loads what the command acts on for the
/// caller (404 when the caller may not see it, 403 when it may not act on it), then `act`
/// runs the command on it (its events leave with the transaction) and returns what the
/// handler answers with.
pub async fn command<T, R>(
    state: &ContractState,
    who: Principal,
    find: impl FnOnce(&mut DbConnection, &Principal) -> Result<T, DbError> + Send + 'static,
    act: impl FnOnce(&mut DbConnection, T, &Principal, &mut Events) -> Result<R, DbError>
    + Send
    + 'static,
) -> Result<R, Problem>
where
    R: Send + 'static,
{
    Ok(state
        .store
        .write(move |conn, events| {
            let found = find(conn, &who)?;
            act(conn, found, &who, events)
        })
        .await?)
}

/// [`command`] for a creating request: with an `Idempotency-Key`, the answer `act` gives is
/// stored for the caller's organisation with its effect, and a retry gets it back with no
/// second effect (`hub_bus::Store::write_once`, ADR 0004).
pub async fn command_once<T>(
    state: &ContractState,
    who: Principal,
    key: IdempotencyKey,
    find: impl FnOnce(&mut DbConnection, &Principal) -> Result<T, DbError> + Send + 'static,
    act: impl FnOnce(&mut DbConnection, T, &Principal, &mut Events) -> Result<Answer, DbError>
    + Send
    + 'static,
) -> Result<Answer, Problem> {
    let org = who.org.clone();
    Ok(state
        .store
        .write_once(&org, &key, move |conn, events| {
            let found = find(conn, &who)?;
            act(conn, found, &who, events)
        })
        .await?)
}

/// `body` answered with `status` and the revision it shows as its `ETag` (ADR 0004).
pub fn tagged(status: StatusCode, revision: i64, body: &impl Serialize) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(ETag(revision).header())
        .json(body)
}

/// A code in a query parameter (`?status=issued`): none when absent, 422 naming the
/// parameter and the codes it may be (`one_of`) when it is none of them.
pub fn query_code<T: std::str::FromStr>(
    value: Option<&str>,
    name: &str,
    one_of: &str,
) -> Result<Option<T>, Problem> {
    value
        .map(str::parse)
        .transpose()
        .map_err(|_| Problem::invalid(name, "one_of", one_of))
}
