//! The monitoring report of a partnership's year as at the end of a period. No I/O.
//!
//! For each budget line and in total: the budget (of the version in force for the period),
//! the actual to date (payments counted in periods 1 to P), the accrued (incurred but not yet
//! paid), the committed for the rest of the year (ledger lines of periods after P), the
//! forecast outturn and the variance:
//!
//! * accrued = for each budget line and council, the ledger cost of periods 1 to P less the
//!   payments counted in them, never below zero (a council that has paid ahead of the ledger
//!   has nothing accrued, and its prepayment does not hide another council's or another
//!   line's unpaid cost); a line's accrued is the sum over its councils;
//! * forecast outturn = actual to date + accrued + committed for the rest of the year (so
//!   money incurred and not yet paid is in the forecast exactly once);
//! * variance = forecast outturn − budget (positive = overspend).
//!
//! For each partner: its contribution, its own children's costs (the year's ledger lines for
//! its children) and its share of the variance under the risk-share agreement; its own
//! detail by line: its budget (its share of each budget line: the line split in proportion
//! to the partners' contributions by the largest-remainder method, so the partners' shares
//! of a line add up to the line exactly and a partner's shares to its contribution within a
//! few pence), its actual, accrued, committed, forecast and variance against that share.
//! After the partners, the partnership's own detail: the lines of contracts let for the whole
//! partnership (filed under its code, not under the council that let them), so the details
//! add up to the totals; it has no budget share of its own (the partners' shares of each
//! line fund it), so its variance is its forecast. What a partner paid on a line beyond its
//! own cost there (the lead council paying the partnership's contract) counts against the
//! partnership's cost on that line in the accrued figure ([`ToDate::pooled`]). Block
//! contracts' savings; and the trend over the periods so far. Every total is the sum of its
//! parts.
//!
//! Sums are taken in `i128` and every figure is brought back to pence checked: a report
//! whose figures would not fit is refused ([`Overflow`]) rather than wrapped.
//!
//! Seams: the figures and what the report is built from are here; `to_date` sums costs and
//! payments to a period and works out what is accrued; `report` builds the report.

mod report;
mod to_date;

use chrono::NaiveDate;
use hub_platform::Pence;
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    ledger::Attribution,
    risk::{RiskShare, Sharing},
};
use crate::ids::BlockContractId;

pub use report::report;
pub use to_date::{Accrual, Scope, ToDate};

/// Ledger lines summed by period, budget line, council and attribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitmentSum {
    pub period: i32,
    pub budget_line: String,
    pub council: String,
    pub attribution: Attribution,
    pub amount: Pence,
}

/// Payments summed by period, budget line and council.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentSum {
    pub period: i32,
    pub budget_line: String,
    pub council: String,
    pub amount: Pence,
}

/// A block contract's bed-days in a year up to a period, filled and void, with its terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockDays {
    pub block_contract_id: BlockContractId,
    pub provider_id: String,
    pub beds: i32,
    pub block_weekly_rate_pence: Pence,
    pub spot_weekly_rate_pence: Pence,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub planned_annual_saving_pence: Pence,
    pub occupied_days: i64,
    pub void_days: i64,
}

/// The budget version in force for a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetFigures {
    pub version: i32,
    pub lines: Vec<(String, Pence)>,
    pub contributions: Vec<(String, Pence)>,
    pub risk_share: RiskShare,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = MonitoringFigures)]
pub struct Figures {
    pub budget_pence: Pence,
    pub actual_to_date_pence: Pence,
    /// Incurred but not yet paid: per budget line and council, the ledger cost of the
    /// elapsed periods less the payments counted in them, never below zero, summed.
    pub accrued_pence: Pence,
    pub committed_rest_of_year_pence: Pence,
    /// Actual to date + accrued + committed for the rest of the year.
    pub forecast_outturn_pence: Pence,
    /// Forecast outturn − budget (positive = overspend).
    pub variance_pence: Pence,
}

/// A figure of the report that does not fit in pence (`i64`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overflow(pub &'static str);

impl std::fmt::Display for Overflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the report's {} is beyond what pence can hold (±£92,233,720,368,547,758.07)",
            self.0
        )
    }
}

impl std::error::Error for Overflow {}

/// A sum in `i128`, back in pence.
fn fit(v: i128, what: &'static str) -> Result<Pence, Overflow> {
    i64::try_from(v).map(Pence).map_err(|_| Overflow(what))
}

impl Figures {
    fn new(budget: i128, actual: i128, accrued: i128, committed: i128) -> Result<Self, Overflow> {
        let forecast = actual + accrued + committed;
        Ok(Self {
            budget_pence: fit(budget, "budget")?,
            actual_to_date_pence: fit(actual, "actual to date")?,
            accrued_pence: fit(accrued, "accrued")?,
            committed_rest_of_year_pence: fit(committed, "committed")?,
            forecast_outturn_pence: fit(forecast, "forecast outturn")?,
            variance_pence: fit(forecast - budget, "variance")?,
        })
    }

    fn add(&mut self, o: &Figures) -> Result<(), Overflow> {
        let add = |a: &mut Pence, b: Pence, what| {
            *a = a.checked_add(b).ok_or(Overflow(what))?;
            Ok::<(), Overflow>(())
        };
        add(&mut self.budget_pence, o.budget_pence, "budget")?;
        add(
            &mut self.actual_to_date_pence,
            o.actual_to_date_pence,
            "actual to date",
        )?;
        add(&mut self.accrued_pence, o.accrued_pence, "accrued")?;
        add(
            &mut self.committed_rest_of_year_pence,
            o.committed_rest_of_year_pence,
            "committed",
        )?;
        add(
            &mut self.forecast_outturn_pence,
            o.forecast_outturn_pence,
            "forecast outturn",
        )?;
        add(&mut self.variance_pence, o.variance_pence, "variance")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = MonitoringLineFigures)]
pub struct LineFigures {
    pub budget_line: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// A partner in the consolidated view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = MonitoringPartnerFigures)]
pub struct PartnerFigures {
    pub council: String,
    pub contribution_pence: Pence,
    /// The year's ledger cost of the council's own children (the usage the risk share uses).
    pub own_children_costs_pence: Pence,
    /// Its share of the forecast variance under the risk-share agreement.
    pub variance_share_pence: Pence,
}

/// A partner's own detail by budget line: its share of each line's budget (its contribution
/// allocated to the line), its actual, accrued, committed and forecast, and its variance
/// against its share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = MonitoringPartnerDetail)]
pub struct PartnerDetail {
    pub council: String,
    pub lines: Vec<LineFigures>,
    pub totals: Figures,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = MonitoringTrendPoint)]
pub struct TrendPoint {
    pub period: i32,
    pub budget_version: i32,
    pub budget_pence: Pence,
    /// Payments counted in this period.
    pub actual_in_period_pence: Pence,
    #[serde(flatten)]
    pub figures: Figures,
}

/// Everything the report is built from.
pub struct Inputs<'a> {
    pub period: i32,
    /// The budget in force for each period 1..=P (index p − 1).
    pub budgets: &'a [BudgetFigures],
    pub members: &'a [&'a str],
    /// The partnership's code: the `council` of lines that are the partnership's own.
    pub pool: &'a str,
    pub commitments: &'a [CommitmentSum],
    pub payments: &'a [PaymentSum],
}

pub struct Report {
    pub lines: Vec<LineFigures>,
    pub totals: Figures,
    pub partners: Vec<PartnerFigures>,
    pub sharing: Sharing,
    pub details: Vec<PartnerDetail>,
    pub trend: Vec<TrendPoint>,
}
