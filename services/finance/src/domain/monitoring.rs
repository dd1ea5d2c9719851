//! The monitoring report of a partnership's year as at the end of a period. No I/O.
//!
//! For each budget line and in total: the budget (of the version in force for the period),
//! the actual to date (payments counted in periods 1 to P), the committed for the rest of the
//! year (ledger lines of periods after P), the forecast outturn (actual + committed) and the
//! variance (forecast − budget). For each partner: its contribution, its own children's
//! costs (the year's ledger lines for its children) and its share of the variance under the
//! risk-share agreement; its own actual, committed and forecast by line. After the partners,
//! the partnership's own detail: the lines of contracts let for the whole partnership (filed
//! under its code, not under the council that let them), so the details add up to the
//! totals. Block contracts' savings; and the trend over the periods so far. Every total is
//! the sum of its parts.

use std::collections::{BTreeMap, BTreeSet};

use hub_platform::Pence;
use serde::Serialize;
use utoipa::ToSchema;

use super::risk::{Basis, RiskShare, Sharing, share_variance};

/// Ledger lines summed by period, budget line, council and attribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitmentSum {
    pub period: i32,
    pub budget_line: String,
    pub council: String,
    pub attribution: String,
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

/// The budget version in force for a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetFigures {
    pub version: i32,
    pub lines: Vec<(String, Pence)>,
    pub contributions: Vec<(String, Pence)>,
    pub risk_share: RiskShare,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Figures {
    pub budget_pence: i64,
    pub actual_to_date_pence: i64,
    pub committed_rest_of_year_pence: i64,
    /// Actual to date + committed for the rest of the year.
    pub forecast_outturn_pence: i64,
    /// Forecast outturn − budget (positive = overspend).
    pub variance_pence: i64,
}

impl Figures {
    fn new(budget: i64, actual: i64, committed: i64) -> Self {
        Self {
            budget_pence: budget,
            actual_to_date_pence: actual,
            committed_rest_of_year_pence: committed,
            forecast_outturn_pence: actual + committed,
            variance_pence: actual + committed - budget,
        }
    }

    fn add(&mut self, o: &Figures) {
        self.budget_pence += o.budget_pence;
        self.actual_to_date_pence += o.actual_to_date_pence;
        self.committed_rest_of_year_pence += o.committed_rest_of_year_pence;
        self.forecast_outturn_pence += o.forecast_outturn_pence;
        self.variance_pence += o.variance_pence;
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LineFigures {
    pub budget_line: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// A partner in the consolidated view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PartnerFigures {
    pub council: String,
    pub contribution_pence: i64,
    /// The year's ledger cost of the council's own children (the usage the risk share uses).
    pub own_children_costs_pence: i64,
    /// Its share of the forecast variance under the risk-share agreement.
    pub variance_share_pence: i64,
}

/// A partner's own detail: its actual, committed and forecast by budget line (no budget:
/// the budget is pooled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PartnerDetail {
    pub council: String,
    pub lines: Vec<LineFigures>,
    pub totals: Figures,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TrendPoint {
    pub period: i32,
    pub budget_version: i32,
    pub budget_pence: i64,
    /// Payments counted in this period.
    pub actual_in_period_pence: i64,
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

fn actual(payments: &[PaymentSum], through: i32, line: Option<&str>, council: Option<&str>) -> i64 {
    payments
        .iter()
        .filter(|p| {
            p.period <= through
                && line.is_none_or(|l| p.budget_line == l)
                && council.is_none_or(|c| p.council == c)
        })
        .map(|p| p.amount.0)
        .sum()
}

fn committed(
    commitments: &[CommitmentSum],
    after: i32,
    line: Option<&str>,
    council: Option<&str>,
) -> i64 {
    commitments
        .iter()
        .filter(|c| {
            c.period > after
                && line.is_none_or(|l| c.budget_line == l)
                && council.is_none_or(|x| c.council == x)
        })
        .map(|c| c.amount.0)
        .sum()
}

/// The lines of a report: the budget's, then any others with money against them.
fn line_names(
    budget: &BudgetFigures,
    commitments: &[CommitmentSum],
    payments: &[PaymentSum],
) -> Vec<String> {
    let mut names: Vec<String> = budget.lines.iter().map(|l| l.0.clone()).collect();
    let extra: BTreeSet<&str> = commitments
        .iter()
        .map(|c| c.budget_line.as_str())
        .chain(payments.iter().map(|p| p.budget_line.as_str()))
        .filter(|l| !names.iter().any(|n| n == l))
        .collect();
    names.extend(extra.into_iter().map(str::to_owned));
    names
}

fn by_lines(
    names: &[String],
    budget: &BudgetFigures,
    inputs: &Inputs<'_>,
    through: i32,
    council: Option<&str>,
) -> (Vec<LineFigures>, Figures) {
    let mut totals = Figures::default();
    let lines: Vec<LineFigures> = names
        .iter()
        .map(|name| {
            let b = if council.is_some() {
                0
            } else {
                budget
                    .lines
                    .iter()
                    .find(|l| &l.0 == name)
                    .map_or(0, |l| l.1.0)
            };
            let f = Figures::new(
                b,
                actual(inputs.payments, through, Some(name), council),
                committed(inputs.commitments, through, Some(name), council),
            );
            totals.add(&f);
            LineFigures {
                budget_line: name.clone(),
                figures: f,
            }
        })
        .collect();
    (lines, totals)
}

/// Builds the report as at the end of `inputs.period`.
pub fn report(inputs: &Inputs<'_>) -> Report {
    let p = inputs.period;
    let budget = &inputs.budgets[(p - 1) as usize];
    let names = line_names(budget, inputs.commitments, inputs.payments);
    let (lines, totals) = by_lines(&names, budget, inputs, p, None);
    let usage: BTreeMap<&str, i64> = inputs
        .members
        .iter()
        .map(|m| {
            (
                *m,
                inputs
                    .commitments
                    .iter()
                    .filter(|c| c.council == *m && c.attribution == "child")
                    .map(|c| c.amount.0)
                    .sum(),
            )
        })
        .collect();
    let bases: Vec<Basis> = inputs
        .members
        .iter()
        .map(|m| Basis {
            council: (*m).to_owned(),
            contribution: budget
                .contributions
                .iter()
                .find(|c| c.0 == *m)
                .map_or(Pence::ZERO, |c| c.1),
            usage: Pence(usage[m]),
        })
        .collect();
    let sharing = share_variance(Pence(totals.variance_pence), &budget.risk_share, &bases);
    let partners = bases
        .iter()
        .zip(&sharing.partners)
        .map(|(b, s)| PartnerFigures {
            council: b.council.clone(),
            contribution_pence: b.contribution.0,
            own_children_costs_pence: b.usage.0,
            variance_share_pence: s.share_pence,
        })
        .collect();
    let details = inputs
        .members
        .iter()
        .chain(std::iter::once(&inputs.pool))
        .map(|m| {
            let (lines, totals) = by_lines(&names, budget, inputs, p, Some(m));
            PartnerDetail {
                council: (*m).to_owned(),
                lines,
                totals,
            }
        })
        .collect();
    let trend = (1..=p)
        .map(|q| {
            let b = &inputs.budgets[(q - 1) as usize];
            let budget_total: i64 = b.lines.iter().map(|l| l.1.0).sum();
            TrendPoint {
                period: q,
                budget_version: b.version,
                budget_pence: budget_total,
                actual_in_period_pence: inputs
                    .payments
                    .iter()
                    .filter(|x| x.period == q)
                    .map(|x| x.amount.0)
                    .sum(),
                figures: Figures::new(
                    budget_total,
                    actual(inputs.payments, q, None, None),
                    committed(inputs.commitments, q, None, None),
                ),
            }
        })
        .collect();
    Report {
        lines,
        totals,
        partners,
        sharing,
        details,
        trend,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(period: i32, line: &str, council: &str, attribution: &str, amount: i64) -> CommitmentSum {
        CommitmentSum {
            period,
            budget_line: line.into(),
            council: council.into(),
            attribution: attribution.into(),
            amount: Pence(amount),
        }
    }

    fn pay(period: i32, line: &str, council: &str, amount: i64) -> PaymentSum {
        PaymentSum {
            period,
            budget_line: line.into(),
            council: council.into(),
            amount: Pence(amount),
        }
    }

    #[test]
    fn lines_partners_and_trend_add_up() {
        let budget = BudgetFigures {
            version: 1,
            lines: vec![
                ("placements".into(), Pence(1_000)),
                ("staffing".into(), Pence(500)),
            ],
            contributions: vec![("A".into(), Pence(1_000)), ("B".into(), Pence(500))],
            risk_share: RiskShare::default(),
        };
        let budgets = vec![budget.clone(), budget];
        let commitments = vec![
            c(1, "placements", "A", "child", 300),
            c(2, "placements", "A", "child", 300),
            c(3, "placements", "B", "child", 400),
            c(3, "support", "A", "pooled", 50),
        ];
        let payments = vec![
            pay(1, "placements", "A", 310),
            pay(2, "staffing", "B", 200),
            pay(3, "staffing", "B", 999),
        ];
        let r = report(&Inputs {
            period: 2,
            budgets: &budgets,
            members: &["A", "B"],
            pool: "AB",
            commitments: &commitments,
            payments: &payments,
        });
        let got: Vec<(&str, i64, i64, i64, i64)> = r
            .lines
            .iter()
            .map(|l| {
                (
                    l.budget_line.as_str(),
                    l.figures.budget_pence,
                    l.figures.actual_to_date_pence,
                    l.figures.committed_rest_of_year_pence,
                    l.figures.variance_pence,
                )
            })
            .collect();
        // Placements: 310 paid, 400 committed in P3 → 710 − 1,000; staffing 200 − 500; the
        // pooled support line has no budget: +50.
        assert_eq!(
            got,
            vec![
                ("placements", 1_000, 310, 400, -290),
                ("staffing", 500, 200, 0, -300),
                ("support", 0, 0, 50, 50)
            ]
        );
        assert_eq!(
            (
                r.totals.budget_pence,
                r.totals.forecast_outturn_pence,
                r.totals.variance_pence
            ),
            (1_500, 960, -540)
        );
        // −540 back by contribution 1,000 : 500 = −360, −180.
        assert_eq!(
            r.partners
                .iter()
                .map(|p| p.variance_share_pence)
                .collect::<Vec<_>>(),
            vec![-360, -180]
        );
        assert_eq!(
            r.partners
                .iter()
                .map(|p| p.own_children_costs_pence)
                .collect::<Vec<_>>(),
            vec![600, 400]
        );
        let detail_sum: i64 = r
            .details
            .iter()
            .map(|d| d.totals.forecast_outturn_pence)
            .sum();
        assert_eq!(detail_sum, r.totals.forecast_outturn_pence);
        assert_eq!(r.trend.len(), 2);
        assert_eq!(
            (
                r.trend[0].actual_in_period_pence,
                r.trend[0].figures.committed_rest_of_year_pence
            ),
            (310, 750)
        );
        assert_eq!(r.trend[1].figures.forecast_outturn_pence, 960);
    }
}
