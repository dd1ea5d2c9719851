//! `/v1/monitoring`: a partnership's consolidated monitoring for a year as at the end of a
//! period, as JSON, CSV (one view a file) or an XLSX workbook (one sheet a view); and
//! `/v1/monitoring/drill`: the ledger lines and payments behind any figure.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use hub_platform::{
    FieldError, Pence, Principal, Problem,
    calendar::FinancialYear,
    db::{DbConnection, DbError},
    directory::{self, Partnership},
};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::{
    FinanceState, actuals::PaymentView, export, ledger::LedgerLine, query_map, readable, sees_all,
};
use crate::{
    domain::{
        Attribution, LedgerQuery, PERIODS,
        actuals::RecordedPayment,
        budget::{Budget, FullVersion},
        lines::CommitmentLine,
        monitoring::{
            self, Accrual, BlockDays, BudgetFigures, CommitmentSum, Figures, Inputs, LineFigures,
            PartnerDetail, PaymentSum, Scope, TrendPoint,
        },
        risk::{RiskShare, Sharing},
    },
    ids::{BlockContractId, BudgetId},
    store::{budgets, reports},
};

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameters; they are read from the query map
pub struct MonitoringParams {
    /// The partnership; the caller's council must be a member.
    partnership: String,
    /// The financial year (2018 = 2018/19).
    year: i32,
    /// As at the end of this period (1 = April … 12 = March).
    period: i32,
    /// `json` (the default), `csv` or `xlsx`; or send `Accept: text/csv` or the XLSX type.
    format: Option<String>,
    /// For CSV, the view: `lines` (the default), `partners`, `detail`, `trend`, `savings`.
    view: Option<String>,
}

/// A partner's line of the consolidated view (`PartnerRow` in the OpenAPI document, as before).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = MonitoringPartnerRow)]
pub struct PartnerView {
    pub council: String,
    pub council_name: String,
    pub contribution_pence: Pence,
    /// The year's ledger cost of the council's own children.
    pub own_children_costs_pence: Pence,
    /// Its share of the forecast variance under the risk-share agreement.
    pub variance_share_pence: Pence,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = MonitoringRiskShare)]
pub struct RiskShareView {
    pub agreement: RiskShare,
    #[serde(flatten)]
    pub sharing: Sharing,
}

/// A block contract's savings: planned for the year and realised to date.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = MonitoringBlockSavings)]
pub struct BlockSavings {
    pub block_contract_id: BlockContractId,
    pub provider_id: String,
    pub beds: i32,
    pub block_weekly_rate_pence: Pence,
    pub spot_weekly_rate_pence: Pence,
    /// (spot − block) × 52 × beds, as the contract was let.
    pub planned_annual_saving_pence: Pence,
    /// (spot − block) × bed-days of the term in the year / 7.
    pub planned_for_year_pence: Pence,
    pub occupied_bed_days_to_date: i64,
    pub void_bed_days_to_date: i64,
    /// (spot − block) × occupied bed-days / 7.
    pub realised_saving_to_date_pence: Pence,
    /// block × void bed-days / 7: paid for beds no child used.
    pub void_cost_to_date_pence: Pence,
    pub net_saving_to_date_pence: Pence,
}

/// The monitoring report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonitoringReport {
    pub partnership: String,
    pub year: i32,
    pub year_label: String,
    pub period: i32,
    /// The last day of the period.
    pub as_at: NaiveDate,
    pub budget_id: BudgetId,
    /// The budget version in force for the period.
    pub budget_version: i32,
    /// By budget line; `totals` is their sum.
    pub lines: Vec<LineFigures>,
    pub totals: Figures,
    /// Every partner: contribution, own children's costs, share of the variance.
    pub partners: Vec<PartnerView>,
    pub risk_share: RiskShareView,
    /// Each partner's own detail by line: its share of the line's budget (its contribution
    /// allocated to the line), its actual, accrued, committed, forecast and variance against
    /// that share; every partner's for the hosting authority, the caller's own for a partner;
    /// then, for everyone, the partnership's own (under its code: contracts let for the whole
    /// partnership), which has no budget share of its own (the partners' shares fund it).
    pub detail: Vec<PartnerDetail>,
    pub block_savings: Vec<BlockSavings>,
    /// Periods 1 to `period`: the figures as at the end of each.
    pub trend: Vec<TrendPoint>,
    /// How to trace a figure: GET this with `budget_line`, `measure` (`actual`, `accrued`,
    /// `committed`, `forecast`, `own_children_costs`) and, for a partner's figure, `council`.
    pub drill: String,
}

fn int_param(
    q: &HashMap<String, String>,
    name: &str,
    range: std::ops::RangeInclusive<i32>,
    errors: &mut Vec<FieldError>,
) -> i32 {
    match q.get(name).map(|v| v.trim().parse::<i32>()) {
        Some(Ok(v)) if range.contains(&v) => v,
        None => {
            errors.push(FieldError::new(
                name,
                "required",
                format!("{name} is required"),
            ));
            0
        }
        _ => {
            errors.push(FieldError::new(
                name,
                "range",
                format!(
                    "{name} is a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            ));
            0
        }
    }
}

/// A checked monitoring request: its query, partnership, year and period.
type Target = (HashMap<String, String>, &'static Partnership, i32, i32);

/// The partnership, year and period of a monitoring request, checked.
fn target(req: &HttpRequest, who: &Principal) -> Result<Target, Problem> {
    who.require_any(&[hub_platform::Role::Finance])?;
    let q = query_map(req)?;
    let (query, mut errors) = match LedgerQuery::parse(&q) {
        Ok(query) => (Some(query), Vec::new()),
        Err(e) => (None, e),
    };
    let period = int_param(&q, "period", PERIODS, &mut errors);
    let Some(query) = query.filter(|_| errors.is_empty()) else {
        return Err(Problem::validation(errors));
    };
    let partnership = readable(who, &query.partnership)?;
    Ok((q, partnership, query.year.0, period))
}

/// The year's budget and the version in force in each period 1..=`period`
/// (`versions_in_force`: three statements whatever the periods); `None` with no budget.
fn budget_in_force(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
    period: i32,
) -> anyhow::Result<Option<(Budget, Vec<FullVersion>)>> {
    let Some(budget) = budgets::budget_for(conn, partnership, year)? else {
        return Ok(None);
    };
    let versions = budgets::versions_in_force(conn, budget.id, period)?
        .ok_or_else(|| anyhow::anyhow!("budget {} has no version for P1..P{period}", budget.id))?;
    Ok(Some((budget, versions)))
}

/// One of the database reads a monitoring report makes ([`build`] makes them all, in this
/// order, in one connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// The budget and the version in force in each period to the one asked for.
    Budget,
    /// The year's ledger sums as at the period (the snapshot of a closed period, else the
    /// totals kept beside the lines).
    CommitmentSums,
    /// The year's payment sums (the totals kept beside the payments).
    PaymentSums,
    /// Each block contract's filled and void bed-days to the period.
    BlockDays,
}

/// Runs one of a report's reads alone, with the same functions [`build`] runs it with, so
/// that where a report's database time goes can be measured (`hub bench ledger`); returns
/// the rows it gave (the budget's: its versions in force, one a period).
pub fn read_alone(
    conn: &mut DbConnection,
    read: Read,
    partnership: &str,
    year: i32,
    period: i32,
) -> anyhow::Result<usize> {
    Ok(match read {
        Read::Budget => budget_in_force(conn, partnership, year, period)?
            .ok_or_else(|| anyhow::anyhow!("{partnership} has no budget for {year}"))?
            .1
            .len(),
        Read::CommitmentSums => {
            reports::commitment_sums_as_at(conn, partnership, year, period)?.len()
        }
        Read::PaymentSums => reports::payment_sums(conn, partnership, year)?.len(),
        Read::BlockDays => reports::block_days(conn, partnership, year, period)?.len(),
    })
}

/// Builds the report for the caller.
pub(crate) async fn build(
    state: &FinanceState,
    who: &Principal,
    partnership: &'static Partnership,
    year: i32,
    period: i32,
) -> Result<MonitoringReport, Problem> {
    let code = partnership.code;
    let (budget, versions, commitments, payments, blocks) = state
        .store
        .db
        .run(move |conn| {
            let Some((budget, versions)) = budget_in_force(conn, code, year, period)? else {
                return Ok(None);
            };
            let commitments = reports::commitment_sums_as_at(conn, code, year, period)?;
            let payments = reports::payment_sums(conn, code, year)?;
            let blocks = reports::block_days(conn, code, year, period)?;
            Ok(Some((budget, versions, commitments, payments, blocks)))
        })
        .await?
        .ok_or_else(|| {
            Problem::conflict(
                "no-budget",
                format!("{code} has no budget for {}", FinancialYear(year).label()),
            )
        })?;
    let figures = budget_figures(&versions);
    let report = monitoring::report(&Inputs {
        period,
        budgets: &figures,
        members: partnership.members,
        pool: code,
        commitments: &commitments,
        payments: &payments,
    })
    .map_err(out_of_range)?;
    let fy = FinancialYear(year);
    let all = sees_all(partnership, &who.org);
    let current = &figures[(period - 1) as usize];
    let block_savings = block_savings(blocks, fy);
    Ok(MonitoringReport {
        partnership: code.to_owned(),
        year,
        year_label: fy.label(),
        period,
        as_at: fy.period(period as u32).1,
        budget_id: budget.id,
        budget_version: current.version,
        lines: report.lines,
        totals: report.totals,
        partners: report.partners.into_iter().map(partner_view).collect(),
        risk_share: RiskShareView {
            agreement: current.risk_share.clone(),
            sharing: report.sharing,
        },
        detail: report
            .details
            .into_iter()
            .filter(|d| all || d.council == who.org || d.council == code)
            .collect(),
        block_savings,
        trend: report.trend,
        drill: format!("/v1/monitoring/drill?partnership={code}&year={year}&period={period}"),
    })
}

/// Each period's budget version as the report's rules read it.
fn budget_figures(versions: &[FullVersion]) -> Vec<BudgetFigures> {
    versions
        .iter()
        .map(|v| BudgetFigures {
            version: v.version.version,
            lines: v
                .lines
                .iter()
                .map(|l| (l.budget_line.clone(), l.amount_pence))
                .collect(),
            contributions: v
                .contributions
                .iter()
                .map(|c| (c.council.clone(), c.amount_pence))
                .collect(),
            risk_share: v.version.risk_share.clone(),
        })
        .collect()
}

/// Each block contract's planned saving for the year and what it has realised, and cost in
/// void beds, to the period.
fn block_savings(blocks: Vec<BlockDays>, fy: FinancialYear) -> Vec<BlockSavings> {
    let (year_start, year_end) = (fy.start(), fy.end());
    blocks
        .into_iter()
        .map(|b| {
            let diff = b.spot_weekly_rate_pence - b.block_weekly_rate_pence;
            let (lo, hi) = (b.start_date.max(year_start), b.end_date.min(year_end));
            let term_days = if hi < lo { 0 } else { (hi - lo).num_days() + 1 };
            let realised = diff.prorate_weekly(b.occupied_days);
            let void_cost = b.block_weekly_rate_pence.prorate_weekly(b.void_days);
            BlockSavings {
                planned_for_year_pence: diff.prorate_weekly(term_days * i64::from(b.beds)),
                occupied_bed_days_to_date: b.occupied_days,
                void_bed_days_to_date: b.void_days,
                realised_saving_to_date_pence: realised,
                void_cost_to_date_pence: void_cost,
                net_saving_to_date_pence: realised - void_cost,
                block_contract_id: b.block_contract_id,
                provider_id: b.provider_id,
                beds: b.beds,
                block_weekly_rate_pence: b.block_weekly_rate_pence,
                spot_weekly_rate_pence: b.spot_weekly_rate_pence,
                planned_annual_saving_pence: b.planned_annual_saving_pence,
            }
        })
        .collect()
}

/// A partner's figures, with its council's name.
fn partner_view(p: monitoring::PartnerFigures) -> PartnerView {
    PartnerView {
        council_name: directory::council(&p.council)
            .map_or_else(String::new, |c| c.name.to_owned()),
        council: p.council,
        contribution_pence: p.contribution_pence,
        own_children_costs_pence: p.own_children_costs_pence,
        variance_share_pence: p.variance_share_pence,
    }
}

/// A figure beyond what pence can hold: refused with the reason, never wrapped.
fn out_of_range(e: monitoring::Overflow) -> Problem {
    Problem::conflict("figure-out-of-range", e.to_string())
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The consolidated monitoring report as at the end of a period: by budget line and in total
/// (budget, actual to date, accrued, committed for the rest of the year, forecast outturn =
/// actual + accrued + committed, variance),
/// each partner's contribution and share of the variance under the risk-share agreement, the
/// caller's own detail (every partner's for the hosting authority), block-contract savings
/// and the trend. JSON, CSV (`view=`) or XLSX (`format=xlsx`).
#[utoipa::path(get, path = "/v1/monitoring", tag = "finance", operation_id = "getMonitoringReport", params(MonitoringParams),
    responses((status = 200,
            content((MonitoringReport = "application/json"), (String = "text/csv"),
                (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "no budget for the year (`no-budget`), or a figure beyond what pence can hold (`figure-out-of-range`)"), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(
    state: web::Data<FinanceState>,
    who: Principal,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    let (q, partnership, year, period) = target(&req, &who)?;
    let accept = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = match q.get("format").map(|f| f.trim()) {
        Some(f) => f.to_owned(),
        None if accept.contains(XLSX) => "xlsx".into(),
        None if accept.contains("text/csv") => "csv".into(),
        None => "json".into(),
    };
    if !["json", "csv", "xlsx"].contains(&format.as_str()) {
        return Err(Problem::invalid(
            "format",
            "one_of",
            "format is json, csv or xlsx",
        ));
    }
    let view = q.get("view").map_or("lines", |v| v.trim());
    if !export::VIEWS.contains(&view) {
        return Err(Problem::invalid(
            "view",
            "one_of",
            format!("view is one of {}", export::VIEWS.join(", ")),
        ));
    }
    let report = build(&state, &who, partnership, year, period).await?;
    let name = format!(
        "monitoring-{}-{}-P{period:02}",
        report.partnership,
        report.year_label.replace('/', "-")
    );
    match format.as_str() {
        "csv" => Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                "content-disposition",
                format!("attachment; filename=\"{name}-{view}.csv\""),
            ))
            .body(export::csv(&report, view).map_err(anyhow::Error::from)?)),
        "xlsx" => Ok(HttpResponse::Ok()
            .content_type(XLSX)
            .insert_header((
                "content-disposition",
                format!("attachment; filename=\"{name}.xlsx\""),
            ))
            .body(export::xlsx(&report).map_err(anyhow::Error::from)?)),
        _ => Ok(HttpResponse::Ok().json(report)),
    }
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DrillParams {
    partnership: String,
    year: i32,
    period: i32,
    /// `actual` (payments to date), `accrued` (ledger lines to date against payments to date,
    /// by line and council), `committed` (ledger lines after the period), `forecast` (all
    /// three), `own_children_costs` (the council's children's lines for the year).
    measure: String,
    /// The budget line; all lines if absent.
    budget_line: Option<String>,
    /// A partner's figure; the consolidated one if absent (hosting authority only). A partner
    /// sees its own council's.
    council: Option<String>,
}

/// The lines and payments behind one figure. For `actual`, `committed` and
/// `own_children_costs` they add up to it; for `accrued` (and the accrued part of
/// `forecast`) `accruals` sets each line and council's cost to date against its payments to
/// date, and the figure is the sum of their `accrued_pence`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MonitoringDrill)]
pub struct Drill {
    pub partnership: String,
    pub year: i32,
    pub period: i32,
    pub measure: String,
    pub budget_line: Option<String>,
    pub council: Option<String>,
    pub total_pence: Pence,
    pub commitment_lines: Vec<LedgerLine>,
    pub payments: Vec<PaymentView>,
    /// For `accrued` and `forecast`: by budget line and council, cost to date, paid to date
    /// and accrued.
    pub accruals: Vec<Accrual>,
}

/// The ledger lines and payments behind a figure of the monitoring report.
#[utoipa::path(get, path = "/v1/monitoring/drill", tag = "finance", operation_id = "getMonitoringDrill", params(DrillParams),
    responses((status = 200, body = Drill), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem, description = "also another partner's detail"), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn drill(
    state: web::Data<FinanceState>,
    who: Principal,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    let (q, partnership, year, period) = target(&req, &who)?;
    let measure = drill_measure(&q)?;
    let budget_line = q
        .get("budget_line")
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty());
    let council = drill_council(&q, partnership, &who.org)?;
    if measure == "own_children_costs" && council.is_none() {
        return Err(Problem::invalid(
            "council",
            "required",
            "own children's costs are a partner's: name the council",
        ));
    }
    let code = partnership.code;
    let (m, l, c) = (measure.clone(), budget_line.clone(), council.clone());
    let (lines, payments, matching) = state
        .store
        .db
        .run(move |conn| rows_behind(conn, (code, year, period), &m, l.as_deref(), c.as_deref()))
        .await?;
    let (accrual_lines, accrual_payments, scope) = match &matching {
        Some((l, p)) => (l.as_slice(), p.as_slice(), Some(code)),
        None => (lines.as_slice(), payments.as_slice(), None),
    };
    let (total, accruals) = drill_total(
        code,
        &measure,
        period,
        &lines,
        &payments,
        (accrual_lines, accrual_payments, scope),
    )?;
    Ok(HttpResponse::Ok().json(Drill {
        partnership: code.to_owned(),
        year,
        period,
        measure,
        budget_line,
        council,
        total_pence: total,
        commitment_lines: lines.into_iter().map(LedgerLine::from).collect(),
        payments: payments.into_iter().map(PaymentView::from).collect(),
        accruals,
    }))
}

/// The measure drilled into (422 for one the report does not have).
fn drill_measure(q: &HashMap<String, String>) -> Result<String, Problem> {
    let measure = q
        .get("measure")
        .map(|m| m.trim().to_owned())
        .unwrap_or_default();
    if [
        "actual",
        "accrued",
        "committed",
        "forecast",
        "own_children_costs",
    ]
    .contains(&measure.as_str())
    {
        Ok(measure)
    } else {
        Err(Problem::invalid(
            "measure",
            "one_of",
            "measure is actual, accrued, committed, forecast or own_children_costs",
        ))
    }
}

/// Whose figure is drilled into: a council the caller may see the detail of (404 for
/// another partner's), or `None` for the consolidated figure (those who see all only; a
/// partner gets its own).
fn drill_council(
    q: &HashMap<String, String>,
    partnership: &Partnership,
    org: &str,
) -> Result<Option<String>, Problem> {
    let all = sees_all(partnership, org);
    match q
        .get("council")
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
    {
        // The partnership's own detail (contracts let for all partners) is every member's.
        Some(c) if (all && partnership.has_member(&c)) || c == org || c == partnership.code => {
            Ok(Some(c))
        }
        Some(_) => Err(Problem::not_found("partner detail")),
        None if all => Ok(None),
        None => Ok(Some(org.to_owned())),
    }
}

/// The lines and payments behind a figure, and for the partnership's own accrued the rows
/// they are matched against.
type Behind = (
    Vec<CommitmentLine>,
    Vec<RecordedPayment>,
    Option<(Vec<CommitmentLine>, Vec<RecordedPayment>)>,
);

/// The ledger lines and payments behind a measure of a partnership's year `(code, year,
/// period)`, of budget line `l` and council `c` if given; for the partnership's own accrued
/// also every council's rows of its lines, to match as the report does.
fn rows_behind(
    conn: &mut DbConnection,
    (code, year, period): (&str, i32, i32),
    m: &str,
    l: Option<&str>,
    c: Option<&str>,
) -> Result<Behind, DbError> {
    let lines = match m {
        "committed" if period < 12 => {
            reports::lines_behind(conn, code, year, period + 1..=12, l, c, None)?
        }
        "accrued" => reports::lines_behind(conn, code, year, 1..=period, l, c, None)?,
        "forecast" => reports::lines_behind(conn, code, year, PERIODS, l, c, None)?,
        "own_children_costs" => {
            reports::lines_behind(conn, code, year, PERIODS, l, c, Some(Attribution::Child))?
        }
        _ => Vec::new(),
    };
    let payments = match m {
        "actual" | "accrued" | "forecast" => {
            reports::payments_behind(conn, code, year, 1..=period, l, c)?
        }
        _ => Vec::new(),
    };
    // The partnership's own accrued is matched against what partners paid on its
    // lines beyond their own costs (as in the report): read the lines' other rows.
    let matching = if c == Some(code) && matches!(m, "accrued" | "forecast") {
        Some((
            reports::lines_behind(conn, code, year, 1..=period, l, None, None)?,
            reports::payments_behind(conn, code, year, 1..=period, l, None)?,
        ))
    } else {
        None
    };
    Ok((lines, payments, matching))
}

/// A drilled figure's total from the rows behind it, by the report's own rules (the accrued
/// part through [`monitoring::ToDate::accruals`], with the partnership's own lines matched
/// as in the report: [`monitoring::ToDate::pooled`]), summed in `i128` and checked. The
/// accruals are worked out from `accrual_rows` (the drilled rows, or for the partnership's
/// own detail every council's rows of its lines, kept to `council`).
fn drill_total(
    pool: &str,
    measure: &str,
    period: i32,
    lines: &[CommitmentLine],
    payments: &[RecordedPayment],
    accrual_rows: (&[CommitmentLine], &[RecordedPayment], Option<&str>),
) -> Result<(Pence, Vec<Accrual>), Problem> {
    let (accrual_lines, accrual_payments, council) = accrual_rows;
    let paid: i128 = payments.iter().map(|p| i128::from(p.amount_pence.0)).sum();
    let later: i128 = lines
        .iter()
        .filter(|l| l.period > period)
        .map(|l| i128::from(l.amount_pence.0))
        .sum();
    let accruals = if matches!(measure, "accrued" | "forecast") {
        let costs: Vec<CommitmentSum> = accrual_lines
            .iter()
            .map(|l| CommitmentSum {
                period: l.period,
                budget_line: l.budget_line.clone(),
                council: l.council.clone(),
                attribution: l.attribution,
                amount: l.amount_pence,
            })
            .collect();
        let paid: Vec<PaymentSum> = accrual_payments
            .iter()
            .map(|p| PaymentSum {
                period: p.period,
                budget_line: p.budget_line.clone(),
                council: p.council.clone(),
                amount: p.amount_pence,
            })
            .collect();
        monitoring::ToDate::pooled(&costs, &paid, pool)
            .accruals(
                period,
                Scope {
                    line: None,
                    council,
                },
            )
            .map_err(out_of_range)?
    } else {
        Vec::new()
    };
    let accrued: i128 = accruals.iter().map(|a| i128::from(a.accrued_pence.0)).sum();
    let total = match measure {
        "actual" => paid,
        "accrued" => accrued,
        "forecast" => paid + accrued + later,
        _ => lines.iter().map(|l| i128::from(l.amount_pence.0)).sum(),
    };
    let total = i64::try_from(total)
        .map(Pence)
        .map_err(|_| out_of_range(monitoring::Overflow("drilled figure")))?;
    Ok((total, accruals))
}
