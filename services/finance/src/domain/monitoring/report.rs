//! Building the report as at the end of a period: lines, totals, partners and their shares
//! of the variance, each partner's detail, and the trend.

use std::collections::{BTreeMap, BTreeSet};

use hub_platform::Pence;

use super::{
    BudgetFigures, CommitmentSum, Figures, Inputs, LineFigures, Overflow, PartnerDetail,
    PartnerFigures, PaymentSum, Report, TrendPoint, fit,
    to_date::{Scope, ToDate, actual, committed},
};
use crate::domain::{
    ledger::Attribution,
    risk::{Basis, share_variance},
};

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

/// Each partner's share of each budget line: the line split in proportion to the partners'
/// contributions (largest remainder, partners in `members` order), by (line, council).
fn line_shares<'a>(
    budget: &'a BudgetFigures,
    members: &[&'a str],
) -> BTreeMap<(&'a str, &'a str), i64> {
    let weights: Vec<i64> = members
        .iter()
        .map(|m| {
            budget
                .contributions
                .iter()
                .find(|c| c.0 == *m)
                .map_or(0, |c| c.1.0)
        })
        .collect();
    budget
        .lines
        .iter()
        .flat_map(|(line, amount)| {
            members
                .iter()
                .zip(amount.split(&weights))
                .map(move |(m, share)| ((line.as_str(), *m), share.0))
        })
        .collect()
}

fn by_lines(
    names: &[String],
    budget_of: impl Fn(&str) -> i64,
    inputs: &Inputs<'_>,
    to_date: &ToDate<'_>,
    through: i32,
    council: Option<&str>,
) -> Result<(Vec<LineFigures>, Figures), Overflow> {
    let mut totals = Figures::default();
    let mut lines = Vec::with_capacity(names.len());
    for name in names {
        let scope = Scope {
            line: Some(name),
            council,
        };
        let f = Figures::new(
            budget_of(name).into(),
            actual(inputs.payments, through, scope),
            to_date.accrued(through, scope),
            committed(inputs.commitments, through, scope),
        )?;
        totals.add(&f)?;
        lines.push(LineFigures {
            budget_line: name.clone(),
            figures: f,
        });
    }
    Ok((lines, totals))
}

/// Each partner's contribution and usage (its own children's costs) for the risk share.
fn bases(budget: &BudgetFigures, inputs: &Inputs<'_>) -> Result<Vec<Basis>, Overflow> {
    let mut bases = Vec::with_capacity(inputs.members.len());
    for m in inputs.members {
        let usage: i128 = inputs
            .commitments
            .iter()
            .filter(|c| c.council == *m && c.attribution == Attribution::Child)
            .map(|c| i128::from(c.amount.0))
            .sum();
        bases.push(Basis {
            council: (*m).to_owned(),
            contribution: budget
                .contributions
                .iter()
                .find(|c| c.0 == *m)
                .map_or(Pence::ZERO, |c| c.1),
            usage: fit(usage, "own children's costs")?,
        });
    }
    Ok(bases)
}

/// The consolidated figures as at each period to the report's.
fn trend(inputs: &Inputs<'_>, to_date: &ToDate<'_>) -> Result<Vec<TrendPoint>, Overflow> {
    (1..=inputs.period)
        .map(|q| {
            let b = &inputs.budgets[(q - 1) as usize];
            let budget_total: i128 = b.lines.iter().map(|l| i128::from(l.1.0)).sum();
            let all = Scope::default();
            Ok(TrendPoint {
                period: q,
                budget_version: b.version,
                budget_pence: fit(budget_total, "budget")?,
                actual_in_period_pence: fit(
                    inputs
                        .payments
                        .iter()
                        .filter(|x| x.period == q)
                        .map(|x| i128::from(x.amount.0))
                        .sum(),
                    "actual in period",
                )?,
                figures: Figures::new(
                    budget_total,
                    actual(inputs.payments, q, all),
                    to_date.accrued(q, all),
                    committed(inputs.commitments, q, all),
                )?,
            })
        })
        .collect()
}

/// Builds the report as at the end of `inputs.period`.
pub fn report(inputs: &Inputs<'_>) -> Result<Report, Overflow> {
    let p = inputs.period;
    let budget = &inputs.budgets[(p - 1) as usize];
    let names = line_names(budget, inputs.commitments, inputs.payments);
    let line_budget = |name: &str| {
        budget
            .lines
            .iter()
            .find(|l| l.0 == name)
            .map_or(0, |l| l.1.0)
    };
    let to_date = ToDate::pooled(inputs.commitments, inputs.payments, inputs.pool);
    let (lines, totals) = by_lines(&names, line_budget, inputs, &to_date, p, None)?;
    let bases = bases(budget, inputs)?;
    let sharing = share_variance(totals.variance_pence, &budget.risk_share, &bases);
    let partners = bases
        .iter()
        .zip(&sharing.partners)
        .map(|(b, s)| PartnerFigures {
            council: b.council.clone(),
            contribution_pence: b.contribution,
            own_children_costs_pence: b.usage,
            variance_share_pence: s.share_pence,
        })
        .collect();
    let shares = line_shares(budget, inputs.members);
    let details = inputs
        .members
        .iter()
        .chain(std::iter::once(&inputs.pool))
        .map(|m| {
            let share = |name: &str| shares.get(&(name, *m)).copied().unwrap_or(0);
            let (lines, totals) = by_lines(&names, share, inputs, &to_date, p, Some(m))?;
            Ok(PartnerDetail {
                council: (*m).to_owned(),
                lines,
                totals,
            })
        })
        .collect::<Result<_, Overflow>>()?;
    let trend = trend(inputs, &to_date)?;
    Ok(Report {
        lines,
        totals,
        partners,
        sharing,
        details,
        trend,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        monitoring::{CommitmentSum, PaymentSum, Scope, ToDate},
        risk::RiskShare,
    };

    fn c(period: i32, line: &str, council: &str, attribution: &str, amount: i64) -> CommitmentSum {
        CommitmentSum {
            period,
            budget_line: line.into(),
            council: council.into(),
            attribution: attribution.parse().expect("an attribution code"),
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
        })
        .unwrap();
        let got: Vec<(&str, i64, i64, i64, i64, i64)> = r
            .lines
            .iter()
            .map(|l| {
                (
                    l.budget_line.as_str(),
                    l.figures.budget_pence.0,
                    l.figures.actual_to_date_pence.0,
                    l.figures.accrued_pence.0,
                    l.figures.committed_rest_of_year_pence.0,
                    l.figures.variance_pence.0,
                )
            })
            .collect();
        // Placements: 310 paid of A's 600 incurred in P1–P2 (290 accrued), 400 committed in
        // P3 → 1,000 − 1,000; staffing 200 paid ahead of any ledger line (nothing accrued) −
        // 500; the pooled support line has no budget: +50.
        assert_eq!(
            got,
            vec![
                ("placements", 1_000, 310, 290, 400, 0),
                ("staffing", 500, 200, 0, 0, -300),
                ("support", 0, 0, 0, 50, 50)
            ]
        );
        assert_eq!(
            (
                r.totals.budget_pence.0,
                r.totals.forecast_outturn_pence.0,
                r.totals.variance_pence.0
            ),
            (1_500, 1_250, -250)
        );
        // −250 back by contribution 1,000 : 500 = −166.67, −83.33 to the penny.
        assert_eq!(
            r.partners
                .iter()
                .map(|p| p.variance_share_pence.0)
                .collect::<Vec<_>>(),
            vec![-167, -83]
        );
        assert_eq!(
            r.partners
                .iter()
                .map(|p| p.own_children_costs_pence.0)
                .collect::<Vec<_>>(),
            vec![600, 400]
        );
        let detail_sum: i64 = r
            .details
            .iter()
            .map(|d| d.totals.forecast_outturn_pence.0)
            .sum();
        assert_eq!(detail_sum, r.totals.forecast_outturn_pence.0);
        assert_eq!(r.trend.len(), 2);
        assert_eq!(
            (
                r.trend[0].actual_in_period_pence.0,
                r.trend[0].figures.committed_rest_of_year_pence.0
            ),
            (310, 750)
        );
        // As at P1 A had paid 310 against 300 incurred: nothing accrued, nothing negative.
        assert_eq!(r.trend[0].figures.accrued_pence.0, 0);
        assert_eq!(r.trend[1].figures.accrued_pence.0, 290);
        assert_eq!(r.trend[1].figures.forecast_outturn_pence.0, 1_250);
    }

    /// Issue 10's figures: at P6 the placement lines for P1–P6 came to £183,244.03 and
    /// £20,000.01 had been paid; the £163,244.02 between them is accrued and in the
    /// forecast. A council that paid ahead (B) has nothing accrued and does not hide A's.
    #[test]
    fn forecast_outturn_counts_what_was_incurred_and_not_yet_paid() {
        let budget = BudgetFigures {
            version: 1,
            lines: vec![("placements".into(), Pence(50_000_000))],
            contributions: vec![
                ("A".into(), Pence(30_000_000)),
                ("B".into(), Pence(20_000_000)),
            ],
            risk_share: RiskShare::default(),
        };
        let budgets = vec![budget; 6];
        let commitments = vec![
            c(1, "placements", "A", "child", 9_000_000),
            c(6, "placements", "A", "child", 9_324_403),
            c(3, "placements", "B", "child", 1_000),
            c(7, "placements", "A", "child", 3_000_000),
        ];
        let payments = vec![
            pay(2, "placements", "A", 2_000_001),
            pay(4, "placements", "B", 1),
            pay(5, "placements", "B", 5_000),
        ];
        let r = report(&Inputs {
            period: 6,
            budgets: &budgets,
            members: &["A", "B"],
            pool: "AB",
            commitments: &commitments,
            payments: &payments,
        })
        .unwrap();
        // A: £183,244.03 incurred in P1–P6, £20,000.01 paid: £163,244.02 accrued. B paid
        // 5,001 against 1,000 incurred: 0 accrued, not −4,001.
        let t = &r.totals;
        assert_eq!(
            (
                t.actual_to_date_pence.0,
                t.accrued_pence.0,
                t.committed_rest_of_year_pence.0,
                t.forecast_outturn_pence.0,
                t.variance_pence.0
            ),
            (
                2_005_002,
                16_324_402,
                3_000_000,
                2_005_002 + 16_324_402 + 3_000_000,
                2_005_002 + 16_324_402 + 3_000_000 - 50_000_000
            )
        );
        let accrued: Vec<(&str, i64, i64)> = r
            .details
            .iter()
            .map(|d| {
                (
                    d.council.as_str(),
                    d.totals.accrued_pence.0,
                    d.totals.forecast_outturn_pence.0,
                )
            })
            .collect();
        assert_eq!(
            accrued,
            vec![("A", 16_324_402, 21_324_403), ("B", 0, 5_001), ("AB", 0, 0)]
        );
        // The accruals behind the figure: one per line and council, adding up to it.
        let behind = ToDate::new(&commitments, &payments)
            .accruals(6, Scope::default())
            .unwrap();
        assert_eq!(
            behind
                .iter()
                .map(|a| (
                    a.council.as_str(),
                    a.cost_to_date_pence.0,
                    a.paid_to_date_pence.0,
                    a.accrued_pence.0
                ))
                .collect::<Vec<_>>(),
            vec![
                ("A", 18_324_403, 2_000_001, 16_324_402),
                ("B", 1_000, 5_001, 0)
            ]
        );
        // Trend P1: 9,000,000 incurred, nothing paid.
        assert_eq!(r.trend[0].figures.accrued_pence.0, 9_000_000);
    }

    /// A partner's detail shows its share of each line's budget (the line split by
    /// contribution, to the penny) and its variance against that share, not against 0.
    #[test]
    fn a_partners_detail_sets_its_spend_beside_its_share_of_each_line() {
        let budget = BudgetFigures {
            version: 1,
            lines: vec![
                ("placements".into(), Pence(1_000)),
                ("staffing".into(), Pence(301)),
            ],
            contributions: vec![
                ("A".into(), Pence(651)),
                ("B".into(), Pence(325)),
                ("C".into(), Pence(325)),
            ],
            risk_share: RiskShare::default(),
        };
        let budgets = vec![budget];
        let commitments = vec![c(2, "placements", "B", "child", 700)];
        let r = report(&Inputs {
            period: 1,
            budgets: &budgets,
            members: &["A", "B", "C"],
            pool: "ABC",
            commitments: &commitments,
            payments: &[],
        })
        .unwrap();
        let got: Vec<(&str, &str, i64, i64, i64)> = r
            .details
            .iter()
            .flat_map(|d| {
                d.lines.iter().map(|l| {
                    (
                        d.council.as_str(),
                        l.budget_line.as_str(),
                        l.figures.budget_pence.0,
                        l.figures.forecast_outturn_pence.0,
                        l.figures.variance_pence.0,
                    )
                })
            })
            .collect();
        // 1,000 × 651 : 325 : 325 = 500.38, 249.81, 249.81 → 500, 250, 250 (largest
        // remainders); 301 → 150.62, 75.19, 75.19 → 151, 75, 75.
        assert_eq!(
            got,
            vec![
                ("A", "placements", 500, 0, -500),
                ("A", "staffing", 151, 0, -151),
                ("B", "placements", 250, 700, 450),
                ("B", "staffing", 75, 0, -75),
                ("C", "placements", 250, 0, -250),
                ("C", "staffing", 75, 0, -75),
                // The partnership's own detail: no share of its own, nothing spent.
                ("ABC", "placements", 0, 0, 0),
                ("ABC", "staffing", 0, 0, 0),
            ]
        );
        // The partners' shares add up to each line's budget, their totals to the report's.
        for (i, line) in r.lines.iter().enumerate() {
            let parts: i64 = r
                .details
                .iter()
                .map(|d| d.lines[i].figures.budget_pence.0)
                .sum();
            assert_eq!(parts, line.figures.budget_pence.0, "{}", line.budget_line);
        }
        let variance: i64 = r.details.iter().map(|d| d.totals.variance_pence.0).sum();
        assert_eq!(variance, r.totals.variance_pence.0);
    }

    /// A contract let for the whole partnership is costed under its code; when the lead
    /// council pays its invoices, what it paid beyond its own cost on that line is set
    /// against the partnership's cost, so the same money is not both actual and accrued.
    #[test]
    fn a_pooled_contract_paid_by_a_partner_is_not_accrued_twice() {
        let commitments = vec![
            c(1, "support", "AB", "pooled", 1_000),
            c(2, "support", "AB", "pooled", 1_000),
            c(1, "support", "A", "child", 300),
        ];
        // A pays 300 for its own child and 1,500 of the partnership's invoices; B pays 200
        // ahead of any cost of its own.
        let payments = vec![pay(1, "support", "A", 1_800), pay(2, "support", "B", 200)];
        let to_date = ToDate::pooled(&commitments, &payments, "AB");
        // As at P2: the partnership's 2,000 less the 1,500 A paid beyond its own 300 and
        // B's 200: 300 accrued; A and B nothing.
        assert_eq!(to_date.accrued(2, Scope::default()), 300);
        // As at P1: the partnership's 1,000 less A's 1,500 beyond its own: nothing accrued.
        assert_eq!(to_date.accrued(1, Scope::default()), 0);
        // Without the pooling, A's payment would leave the partnership's cost accrued whole.
        assert_eq!(
            ToDate::new(&commitments, &payments).accrued(2, Scope::default()),
            2_000
        );
    }
}
