//! HTTP handlers of the finance service.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use hub_bus::Store;
use hub_platform::{Pence, Principal, Problem, Role, directory};
use serde::Serialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::{
    domain::{LedgerQuery, totals_by_period},
    store::{self, CommitmentRow},
};

pub struct FinanceState {
    pub store: Store,
}

#[derive(OpenApi)]
#[openapi(paths(ledger), tags((name = "finance", description = "Pooled budgets and the ledger")))]
pub struct FinanceApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/ledger", web::get().to(ledger));
}

/// The query of `GET /v1/ledger`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameters; they are read by `LedgerQuery::parse`
pub struct LedgerParams {
    /// Partnership code, e.g. `LCR-PPA`; the caller's council must be a member.
    partnership: String,
    /// The financial year, by the year it starts in (2026 = 2026/27).
    year: i32,
}

/// One commitment line: one source's cost in one period.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerLine {
    pub id: String,
    pub partnership: String,
    /// GSS code of the council the cost belongs to.
    pub council: String,
    /// `placement`.
    pub source_kind: String,
    pub source_id: String,
    pub provider_id: String,
    /// The financial year, by the year it starts in.
    pub year: i32,
    /// 1 (April) to 12 (March).
    pub period: i32,
    pub days: i32,
    pub weekly_rate_pence: i64,
    /// `weekly_rate_pence × days / 7`, rounded half up to the penny.
    pub amount_pence: i64,
    pub created_at: DateTime<Utc>,
}

impl From<CommitmentRow> for LedgerLine {
    fn from(r: CommitmentRow) -> Self {
        Self {
            id: r.id,
            partnership: r.partnership,
            council: r.council,
            source_kind: r.source_kind,
            source_id: r.source_id,
            provider_id: r.provider_id,
            year: r.year,
            period: r.period,
            days: r.days,
            weekly_rate_pence: r.weekly_rate_pence,
            amount_pence: r.amount_pence,
            created_at: r.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodTotal {
    pub period: i32,
    pub amount_pence: i64,
}

/// A partnership's committed money for one financial year.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ledger {
    pub partnership: String,
    pub year: i32,
    /// `2026/27`.
    pub year_label: String,
    pub lines: Vec<LedgerLine>,
    /// Totals of the periods that have lines, in period order.
    pub by_period: Vec<PeriodTotal>,
    /// The sum of the lines.
    pub committed_pence: i64,
}

/// A partnership's commitment ledger for a financial year (finance staff of a member council).
#[utoipa::path(get, path = "/v1/ledger", tag = "finance", params(LedgerParams),
    responses((status = 200, body = Ledger), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem, description = "no such partnership (or the caller's council is not a member)"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn ledger(
    state: web::Data<FinanceState>,
    who: Principal,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    who.require_any(&[Role::Finance])?;
    let params = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map_err(|e| {
            Problem::invalid(
                "query",
                "format",
                format!("the query string cannot be read: {e}"),
            )
        })?
        .into_inner();
    let query = LedgerQuery::parse(&params).map_err(Problem::validation)?;
    let partnership = directory::partnership(&query.partnership)
        .filter(|p| p.has_member(&who.org))
        .ok_or_else(|| Problem::not_found("partnership"))?;
    let (code, year) = (partnership.code, query.year.0);
    let rows = state
        .store
        .db
        .run(move |conn| store::ledger_lines(conn, code, year))
        .await?;
    let by_period = totals_by_period(
        rows.iter()
            .map(|r| (r.period as u32, Pence(r.amount_pence))),
    );
    let committed: Pence = by_period.iter().map(|p| p.1).sum();
    Ok(HttpResponse::Ok().json(Ledger {
        partnership: code.to_owned(),
        year,
        year_label: query.year.label(),
        lines: rows.into_iter().map(LedgerLine::from).collect(),
        by_period: by_period
            .into_iter()
            .map(|(period, amount)| PeriodTotal {
                period: period as i32,
                amount_pence: amount.0,
            })
            .collect(),
        committed_pence: committed.0,
    }))
}
