//! Each budget line's and council's cost and payments to the end of a period, and what is
//! accrued: cost to date less paid to date, never below zero.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use utoipa::ToSchema;

use hub_platform::Pence;

use super::{CommitmentSum, Overflow, PaymentSum, fit};

/// Which part of the money a figure is of: a budget line and a council, or all.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope<'a> {
    pub line: Option<&'a str>,
    pub council: Option<&'a str>,
}

impl Scope<'_> {
    pub(super) fn has(&self, line: &str, council: &str) -> bool {
        self.line.is_none_or(|l| l == line) && self.council.is_none_or(|c| c == council)
    }
}

pub(super) fn actual(payments: &[PaymentSum], through: i32, scope: Scope<'_>) -> i128 {
    payments
        .iter()
        .filter(|p| p.period <= through && scope.has(&p.budget_line, &p.council))
        .map(|p| i128::from(p.amount.0))
        .sum()
}

pub(super) fn committed(commitments: &[CommitmentSum], after: i32, scope: Scope<'_>) -> i128 {
    commitments
        .iter()
        .filter(|c| c.period > after && scope.has(&c.budget_line, &c.council))
        .map(|c| i128::from(c.amount.0))
        .sum()
}

/// One budget line's and council's accrual as at the end of a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = MonitoringAccrual)]
pub struct Accrual {
    pub budget_line: String,
    pub council: String,
    /// The ledger cost of periods 1 to P.
    pub cost_to_date_pence: Pence,
    /// The payments counted in periods 1 to P.
    pub paid_to_date_pence: Pence,
    /// cost − paid, never below zero.
    pub accrued_pence: Pence,
}

/// Each budget line's and council's ledger cost and payments to the end of each period
/// (cumulative; index = period, 0 = nothing yet): read once per report, so that every
/// accrued figure of it (lines, partners' lines, trend) is a sum over a few groups.
pub struct ToDate<'a> {
    by: BTreeMap<(&'a str, &'a str), [(i128, i128); 13]>,
}

impl<'a> ToDate<'a> {
    pub fn new(commitments: &'a [CommitmentSum], payments: &'a [PaymentSum]) -> Self {
        let mut by: BTreeMap<(&str, &str), [(i128, i128); 13]> = BTreeMap::new();
        let periods = 1..=12;
        for c in commitments.iter().filter(|c| periods.contains(&c.period)) {
            by.entry((&c.budget_line, &c.council))
                .or_insert([(0, 0); 13])[c.period as usize]
                .0 += i128::from(c.amount.0);
        }
        for p in payments.iter().filter(|p| periods.contains(&p.period)) {
            by.entry((&p.budget_line, &p.council))
                .or_insert([(0, 0); 13])[p.period as usize]
                .1 += i128::from(p.amount.0);
        }
        for sums in by.values_mut() {
            for k in 1..13 {
                sums[k].0 += sums[k - 1].0;
                sums[k].1 += sums[k - 1].1;
            }
        }
        Self { by }
    }

    /// As [`ToDate::new`], for a partnership whose own lines (contracts let for all of it)
    /// are filed under `pool`: what a council has paid on a line beyond its own cost to date
    /// there (e.g. the lead council paying the partnership's contract's invoice) is counted
    /// against the partnership's cost on that line, so a pooled contract paid by a partner
    /// is not accrued a second time.
    pub fn pooled(
        commitments: &'a [CommitmentSum],
        payments: &'a [PaymentSum],
        pool: &'a str,
    ) -> Self {
        let mut to_date = Self::new(commitments, payments);
        let lines: BTreeSet<&str> = to_date
            .by
            .keys()
            .filter(|(_, council)| *council == pool)
            .map(|(line, _)| *line)
            .collect();
        for line in lines {
            let mut beyond = [0i128; 13];
            for ((l, council), sums) in &to_date.by {
                if *l == line && *council != pool {
                    for (k, (cost, paid)) in sums.iter().enumerate() {
                        beyond[k] += (paid - cost).max(0);
                    }
                }
            }
            if let Some(sums) = to_date.by.get_mut(&(line, pool)) {
                for (k, extra) in beyond.iter().enumerate() {
                    sums[k].1 += extra;
                }
            }
        }
        to_date
    }

    /// (line, council, cost to date, paid to date) as at the end of `through`, in scope.
    fn groups<'s>(
        &'s self,
        through: i32,
        scope: Scope<'s>,
    ) -> impl Iterator<Item = (&'a str, &'a str, i128, i128)> + 's {
        let k = through.clamp(0, 12) as usize;
        self.by
            .iter()
            .filter(move |((line, council), _)| scope.has(line, council))
            .map(move |((line, council), sums)| (*line, *council, sums[k].0, sums[k].1))
    }

    /// The accrued figure: the sum over lines and councils of cost less paid, never below 0.
    pub(super) fn accrued(&self, through: i32, scope: Scope<'_>) -> i128 {
        self.groups(through, scope)
            .map(|(_, _, cost, paid)| (cost - paid).max(0))
            .sum()
    }

    /// The accruals behind an accrued figure as at the end of `through`: by budget line and
    /// council (in that order), the ledger cost of periods 1..=`through` against the
    /// payments counted in them. The figure is the sum of their `accrued_pence`.
    pub fn accruals(&self, through: i32, scope: Scope<'_>) -> Result<Vec<Accrual>, Overflow> {
        self.groups(through, scope)
            .map(|(line, council, cost, paid)| {
                Ok(Accrual {
                    budget_line: line.to_owned(),
                    council: council.to_owned(),
                    cost_to_date_pence: fit(cost, "cost to date")?,
                    paid_to_date_pence: fit(paid, "actual to date")?,
                    accrued_pence: fit((cost - paid).max(0), "accrued")?,
                })
            })
            .collect()
    }
}
