//! HTTP handlers of the finance service, and who may see and change a partnership's money.

pub mod actuals;
pub mod budgets;
pub mod export;
pub mod ledger;
pub mod monitoring;
pub mod periods;

use std::collections::HashMap;

use actix_web::{HttpRequest, web};
use hub_bus::Store;
use hub_platform::{
    Principal, Problem, Role,
    directory::{self, Partnership},
};
use utoipa::OpenApi;

pub struct FinanceState {
    pub store: Store,
}

#[derive(OpenApi)]
#[openapi(
    paths(
        ledger::ledger,
        budgets::create,
        budgets::list,
        budgets::get,
        budgets::new_version,
        periods::list,
        periods::close,
        actuals::upload,
        actuals::list,
        actuals::get_upload,
        monitoring::get,
        monitoring::drill,
    ),
    tags((name = "finance", description = "Pooled budgets, contributions and the ledger"))
)]
pub struct FinanceApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/ledger", web::get().to(ledger::ledger))
        .route("/v1/budgets", web::post().to(budgets::create))
        .route("/v1/budgets", web::get().to(budgets::list))
        .route("/v1/budgets/{id}", web::get().to(budgets::get))
        .route(
            "/v1/budgets/{id}/versions",
            web::post().to(budgets::new_version),
        )
        .route("/v1/budgets/{id}/periods", web::get().to(periods::list))
        .route(
            "/v1/budgets/{id}/periods/{period}/close",
            web::post().to(periods::close),
        )
        .route("/v1/actuals", web::post().to(actuals::upload))
        .route("/v1/actuals", web::get().to(actuals::list))
        .route(
            "/v1/actuals/uploads/{id}",
            web::get().to(actuals::get_upload),
        )
        .route("/v1/monitoring", web::get().to(monitoring::get))
        .route("/v1/monitoring/drill", web::get().to(monitoring::drill));
}

/// The query string as a map; 422 if it cannot be read.
pub(crate) fn query_map(req: &HttpRequest) -> Result<HashMap<String, String>, Problem> {
    Ok(
        web::Query::<HashMap<String, String>>::from_query(req.query_string())
            .map_err(|e| {
                Problem::invalid(
                    "query",
                    "format",
                    format!("the query string cannot be read: {e}"),
                )
            })?
            .into_inner(),
    )
}

/// A partnership whose money the caller may read: finance staff (else 403) of a member
/// council (else the same 404 as an unknown partnership).
pub(crate) fn readable(who: &Principal, code: &str) -> Result<&'static Partnership, Problem> {
    who.require_any(&[Role::Finance])?;
    directory::partnership(code)
        .filter(|p| p.has_member(&who.org))
        .ok_or_else(|| Problem::not_found("partnership"))
}

/// A partnership whose pooled money the caller may change: finance staff of its hosting
/// authority (a partner's finance lead reads only: 403; a partnership with no host: 409).
pub(crate) fn writable(who: &Principal, code: &str) -> Result<&'static Partnership, Problem> {
    let p = readable(who, code)?;
    match p.finance_host {
        None => Err(Problem::conflict(
            "no-finance-host",
            format!("{} has no hosting authority for pooled money", p.name),
        )),
        Some(host) if host != who.org => Err(Problem::forbidden(format!(
            "only the finance staff of {} (the hosting authority) change {}'s pooled money",
            directory::council(host).map_or(host, |c| c.name),
            p.code
        ))),
        Some(_) => Ok(p),
    }
}

/// Whether the caller sees every partner's detail (other partners' children's ledger lines
/// and payments): the hosting authority, or where a partnership has none, its lead
/// commissioner. Other partners see the consolidated figures and their own detail.
pub(crate) fn sees_all(partnership: &Partnership, org: &str) -> bool {
    partnership
        .finance_host
        .unwrap_or(partnership.lead_commissioner)
        == org
}
