//! Settling a source's recomputed lines against what is posted: closed periods keep their
//! lines and get adjustments in the first open period after them.

use std::collections::{BTreeMap, BTreeSet};

use hub_platform::{Pence, calendar::FinancialYear};

use super::{Attribution, CostLine};

/// A financial period: the year and 1 (April) to 12 (March).
pub type Period = (FinancialYear, u32);

/// The period after `p`.
fn next_period((year, period): Period) -> Period {
    if period == 12 {
        (FinancialYear(year.0 + 1), 1)
    } else {
        (year, period + 1)
    }
}

/// The first period after `p` that is not closed (a closed period's adjustments go there).
pub fn first_open_after(p: Period, closed: &BTreeSet<Period>) -> Period {
    let mut q = next_period(p);
    while closed.contains(&q) {
        q = next_period(q);
    }
    q
}

/// A line already in the ledger; `adjusts` is the closed period an adjustment line adjusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub line: CostLine,
    pub adjusts: Option<Period>,
}

/// What a source's recompute leaves in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// Indices of the posted lines that stay: every line of a closed period and every
    /// adjustment. The others are replaced.
    pub kept: Vec<usize>,
    /// The lines to post: the recomputed lines of open periods, then the adjustments, each
    /// with the closed period it adjusts.
    pub lines: Vec<Posted>,
}

/// Settles a source's recomputed lines against what is posted, keeping every closed period
/// as it was posted: for each closed period and each council, attribution and bed, what the
/// facts now cost there minus what was posted for it (its lines and the adjustments already
/// made to it) is posted as an adjustment in the first open period after it, covering the
/// days of the period it adjusts (0 days, no rate: it is money, not bed-days).
pub fn settle(posted: &[Posted], computed: Vec<CostLine>, closed: &BTreeSet<Period>) -> Settled {
    let is_closed = |l: &CostLine| closed.contains(&(l.year, l.period));
    let kept: Vec<usize> = (0..posted.len())
        .filter(|&i| posted[i].adjusts.is_some() || is_closed(&posted[i].line))
        .collect();
    if closed.is_empty() {
        return Settled {
            kept,
            lines: computed
                .into_iter()
                .map(|line| Posted {
                    line,
                    adjusts: None,
                })
                .collect(),
        };
    }
    type Key = (Period, String, Attribution, Option<u16>);
    let key = |p: Period, l: &CostLine| (p, l.council.clone(), l.attribution, l.bed);
    // What each closed period should cost now, less what it was posted at.
    let mut owed: BTreeMap<Key, i64> = BTreeMap::new();
    for &i in &kept {
        let p = &posted[i];
        let of = p.adjusts.unwrap_or((p.line.year, p.line.period));
        *owed.entry(key(of, &p.line)).or_default() -= p.line.amount.0;
    }
    let mut lines = Vec::with_capacity(computed.len());
    for line in computed {
        if is_closed(&line) {
            *owed
                .entry(key((line.year, line.period), &line))
                .or_default() += line.amount.0;
        } else {
            lines.push(Posted {
                line,
                adjusts: None,
            });
        }
    }
    for ((of, council, attribution, bed), amount) in owed {
        if amount == 0 {
            continue;
        }
        let (year, period) = first_open_after(of, closed);
        let (from, to) = of.0.period(of.1);
        lines.push(Posted {
            line: CostLine {
                council,
                attribution,
                bed,
                year,
                period,
                from,
                to,
                days: 0,
                weekly: Pence::ZERO,
                extras: Pence::ZERO,
                amount: Pence(amount),
            },
            adjusts: Some(of),
        });
    }
    Settled { kept, lines }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ledger::{placement_lines, test_support::*};
    use chrono::NaiveDate;

    #[test]
    fn a_closed_period_never_changes_later_facts_post_adjustments() {
        // £700 a week (£100 a day) from 1 April 2026, open; P1–P3 closed.
        let horizon = d(2027, 3, 31);
        let start = step(d(2026, 4, 1), 0, 70_000, 0);
        let closed: BTreeSet<Period> = (1..=3).map(|p| (FinancialYear(2026), p)).collect();
        let first = settle(
            &[],
            placement_lines("K", start, &[], None, horizon),
            &BTreeSet::new(),
        );
        assert_eq!(first.lines.len(), 12);
        let posted = |s: &Settled, before: &[Posted]| -> Vec<Posted> {
            s.kept
                .iter()
                .map(|&i| before[i].clone())
                .chain(s.lines.iter().cloned())
                .collect()
        };
        let ledger = posted(&first, &[]);
        // A rate change to £1,400 a week backdated to 1 May: May and June stay as posted, and
        // the differences (31 and 30 days × £100) go to P4 tagged with the period they adjust.
        let raised = [step(d(2026, 5, 1), 2, 140_000, 0)];
        let second = settle(
            &ledger,
            placement_lines("K", start, &raised, None, horizon),
            &closed,
        );
        assert_eq!(second.kept, vec![0, 1, 2]);
        let adjustments = |s: &Settled| -> Vec<(Period, Period, NaiveDate, NaiveDate, i64)> {
            s.lines
                .iter()
                .filter_map(|p| {
                    p.adjusts.map(|of| {
                        let l = &p.line;
                        ((l.year, l.period), of, l.from, l.to, l.amount.0)
                    })
                })
                .collect()
        };
        let fy = FinancialYear(2026);
        assert_eq!(
            adjustments(&second),
            vec![
                ((fy, 4), (fy, 2), d(2026, 5, 1), d(2026, 5, 31), 310_000),
                ((fy, 4), (fy, 3), d(2026, 6, 1), d(2026, 6, 30), 300_000),
            ]
        );
        // The open periods are recomputed at the new rate: July is 31 × £200.
        let july = second.lines.iter().find(|p| p.adjusts.is_none()).unwrap();
        assert_eq!((july.line.period, july.line.amount), (4, Pence(620_000)));
        assert_eq!(second.lines.len(), 9 + 2);
        let ledger = posted(&second, &ledger);
        // The same facts again: nothing new to adjust, the adjustments stay.
        let again = settle(
            &ledger,
            placement_lines("K", start, &raised, None, horizon),
            &closed,
        );
        assert!(adjustments(&again).is_empty());
        assert_eq!(again.kept.len(), 3 + 2);
        // The placement ends, dated back to 15 May: May owes 15 × £200 = £3,000 against the
        // £3,100 posted and £3,100 adjusted; June owes nothing against £3,000 + £3,000.
        let ended = settle(
            &ledger,
            placement_lines("K", start, &raised, Some(d(2026, 5, 15)), horizon),
            &closed,
        );
        assert_eq!(
            adjustments(&ended),
            vec![
                ((fy, 4), (fy, 2), d(2026, 5, 1), d(2026, 5, 31), -320_000),
                ((fy, 4), (fy, 3), d(2026, 6, 1), d(2026, 6, 30), -600_000),
            ]
        );
        // Every line left adds up to what the facts cost: April £3,000 and 1–15 May £3,000.
        let total: i64 = posted(&ended, &ledger)
            .iter()
            .map(|p| p.line.amount.0)
            .sum();
        assert_eq!(total, 300_000 + 300_000);
        // Adjustments skip a closed period: with P4 closed too they go to P5.
        let mut through_p4 = closed.clone();
        through_p4.insert((fy, 4));
        assert_eq!(first_open_after((fy, 2), &through_p4), (fy, 5));
        let all_year: BTreeSet<Period> = (1..=12).map(|p| (fy, p)).collect();
        assert_eq!(
            first_open_after((fy, 12), &all_year),
            (FinancialYear(2027), 1)
        );
    }
}
