//! `/v1/budgets/{id}/periods`: which periods of a budget's year are closed. A closed period
//! is locked: its payments, budget and ledger lines stand, and a late change goes into the
//! next open period as an adjustment (see `actuals`, and `domain::ledger::settle` for the
//! ledger). Closing keeps the year's ledger totals as they stand, and the monitoring report
//! as at a closed period is built from them, so it is the same every time it is run. Only
//! the hosting authority closes a period.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use hub_platform::{Principal, Problem, calendar::FinancialYear};
use serde::Serialize;
use utoipa::ToSchema;

use super::{FinanceState, budgets::readable_budget, writable};
use crate::{
    domain::{
        PERIODS, bad_period,
        periods::{Closure, PeriodStatus as Status},
    },
    ids::BudgetId,
    store::{self, periods, reports},
};

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BudgetPeriodStatus)]
pub struct PeriodStatus {
    pub period: i32,
    /// `open` or `closed`.
    pub status: Status,
    pub closed_by: Option<String>,
    pub closed_org: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BudgetPeriods)]
pub struct Periods {
    pub budget_id: BudgetId,
    pub partnership: String,
    pub year: i32,
    pub periods: Vec<PeriodStatus>,
}

fn view(budget_id: BudgetId, partnership: String, year: i32, closed: Vec<Closure>) -> Periods {
    Periods {
        periods: PERIODS
            .map(|p| match closed.iter().find(|c| c.period == p) {
                Some(c) => PeriodStatus {
                    period: p,
                    status: Status::Closed,
                    closed_by: Some(c.closed_by.clone()),
                    closed_org: Some(c.closed_org.clone()),
                    closed_at: Some(c.closed_at.and_utc()),
                },
                None => PeriodStatus {
                    period: p,
                    status: Status::Open,
                    closed_by: None,
                    closed_org: None,
                    closed_at: None,
                },
            })
            .collect(),
        budget_id,
        partnership,
        year,
    }
}

/// The twelve periods of the budget's year, open or closed.
#[utoipa::path(get, path = "/v1/budgets/{id}/periods", tag = "finance", operation_id = "listBudgetPeriods", params(("id" = String, Path)),
    responses((status = 200, body = Periods), (status = 401, body = Problem),
        (status = 404, body = Problem, description = "no such budget, or the caller is not finance staff of a member")),
    security(("bearer" = [])))]
pub async fn list(
    state: web::Data<FinanceState>,
    who: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let (budget, _) = readable_budget(&state, &who, &path).await?;
    let (code, year) = (budget.partnership.clone(), budget.year);
    let closed = state
        .store
        .db
        .run(move |conn| periods::closed(conn, &code, year))
        .await?;
    Ok(HttpResponse::Ok().json(view(budget.id, budget.partnership, budget.year, closed)))
}

/// Closes a period (409 `period-closed` if it is already).
#[utoipa::path(post, path = "/v1/budgets/{id}/periods/{period}/close", tag = "finance", operation_id = "closeBudgetPeriod",
    params(("id" = String, Path), ("period" = i32, Path, description = "1 (April) to 12 (March)")),
    responses((status = 200, body = Periods), (status = 401, body = Problem),
        (status = 403, body = Problem, description = "not finance staff of the hosting authority"),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn close(
    state: web::Data<FinanceState>,
    who: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let (id, period) = path.into_inner();
    let period = period
        .parse::<i32>()
        .ok()
        .filter(|p| PERIODS.contains(p))
        .ok_or_else(|| Problem::validation(vec![bad_period("period")]))?;
    let (budget, _) = readable_budget(&state, &who, &id).await?;
    writable(&who, &budget.partnership)?;
    let (partnership, year) = (budget.partnership.clone(), budget.year);
    let closed = state
        .store
        .write(move |conn, _events| {
            let closure = periods::period(conn, &partnership, year, period)?.close(
                &who.sub,
                &who.org,
                store::now(),
            )?;
            periods::insert(conn, closure)?;
            reports::snapshot(conn, &partnership, year, period)?;
            periods::closed(conn, &partnership, year)
        })
        .await?;
    tracing::info!(budget_id = %budget.id, period, year = %FinancialYear(budget.year).label(), "period closed");
    Ok(HttpResponse::Ok().json(view(budget.id, budget.partnership, budget.year, closed)))
}
