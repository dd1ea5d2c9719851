//! A placement's lines: its rate steps from its start to its end or horizon.

use chrono::NaiveDate;
use hub_platform::{Pence, calendar::FinancialYear};

use super::{Attribution, CostLine, Spell, merged, weekly_lines};

/// A placement's figures from a day: the start's, or a rate change's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateStep {
    pub from: NaiveDate,
    /// 0 for the start; the IPA version for a change (a later version wins on the same day).
    pub version: u32,
    pub weekly: Pence,
    pub extras: Pence,
}

/// How far a placement with no end is committed (issue 10 rule 11): to the end of the later
/// of the financial year it started in and the last year its partnership's ledger is open
/// through. A ledger is opened through a year when anyone asks for that year's ledger or sets
/// that year's budget, so an open-ended placement has lines in every year from its start to
/// the latest year asked about, budget or none, and runs on into each later year as soon as
/// it is asked for. (Not the current year by the clock: the ledger is the same whenever
/// its facts are replayed.)
pub fn horizon(start: NaiveDate, opened_through: Option<i32>) -> NaiveDate {
    let started = FinancialYear::containing(start).0;
    FinancialYear(opened_through.map_or(started, |y| y.max(started))).end()
}

/// A placement's commitment: from `start` at the start's figures, each rate step's figures
/// from its day (a step before the start applies from the start), to `end` (the last night)
/// or, with no end, to `horizon`. Nothing if it ended before it started.
pub fn placement_lines(
    council: &str,
    start: RateStep,
    changes: &[RateStep],
    end: Option<NaiveDate>,
    horizon: NaiveDate,
) -> Vec<CostLine> {
    let last = end.unwrap_or(horizon);
    if last < start.from {
        return Vec::new();
    }
    let mut steps: Vec<RateStep> = std::iter::once(start)
        .chain(changes.iter().copied())
        .map(|s| RateStep {
            from: s.from.max(start.from),
            ..s
        })
        .collect();
    steps.sort_by_key(|s| (s.from, s.version));
    let mut spells = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let to = steps
            .get(i + 1)
            .map(|n| n.from.pred_opt().expect("dates continue"))
            .unwrap_or(last)
            .min(last);
        if to < s.from {
            continue;
        }
        spells.push(Spell {
            from: s.from,
            to,
            council: council.to_owned(),
            attribution: Attribution::Child,
            weekly: s.weekly,
            extras: s.extras,
        });
    }
    let mut out = Vec::new();
    for spell in merged(spells) {
        weekly_lines(&spell, None, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ledger::test_support::*;

    #[test]
    fn an_open_placement_runs_across_years_to_the_year_opened() {
        // Started 15 January 2026 (2025/26) with no end, £700 a week.
        let start = d(2026, 1, 15);
        assert_eq!(horizon(start, None), d(2026, 3, 31));
        assert_eq!(horizon(start, Some(2024)), d(2026, 3, 31));
        assert_eq!(horizon(start, Some(2027)), d(2028, 3, 31));
        let lines = placement_lines(
            "E06000006",
            step(start, 0, 70_000, 0),
            &[],
            None,
            horizon(start, Some(2026)),
        );
        let years: Vec<(i32, u32)> = lines.iter().map(|l| (l.year.0, l.period)).collect();
        assert_eq!(years.len(), 3 + 12);
        assert_eq!(years[2], (2025, 12));
        assert_eq!(years[3], (2026, 1));
        // 2026/27 in full: 365 days at £100.
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.year.0 == 2026)
                .map(|l| l.amount.0)
                .sum::<i64>(),
            365 * 10_000
        );
    }

    #[test]
    fn a_placement_changes_rate_mid_month_and_ends_mid_month() {
        // £2,149 a week + £100 extras from 10 May; £1,988 + £0 from 15 June; last night 20 August.
        let lines = placement_lines(
            "E08000014",
            step(d(2018, 5, 10), 0, 214_900, 10_000),
            &[step(d(2018, 6, 15), 2, 198_800, 0)],
            Some(d(2018, 8, 20)),
            d(2019, 3, 31),
        );
        // May: 22 days × 224,900 / 7 = 706,828.57 → 706,829. June 1–14: 14 × 224,900 / 7 =
        // 449,800. June 15–30: 16 × 198,800 / 7 = 454,400. July: 31 × 28,400 = 880,400.
        // August 1–20: 20 × 28,400 = 568,000.
        assert_eq!(
            brief(&lines),
            vec![
                (2, d(2018, 5, 10), d(2018, 5, 31), 22, 706_829),
                (3, d(2018, 6, 1), d(2018, 6, 14), 14, 449_800),
                (3, d(2018, 6, 15), d(2018, 6, 30), 16, 454_400),
                (4, d(2018, 7, 1), d(2018, 7, 31), 31, 880_400),
                (5, d(2018, 8, 1), d(2018, 8, 20), 20, 568_000),
            ]
        );
        assert_eq!(
            (lines[0].weekly, lines[0].extras),
            (Pence(214_900), Pence(10_000))
        );
        assert_eq!(
            (lines[2].weekly, lines[2].extras),
            (Pence(198_800), Pence(0))
        );
        assert!(
            lines
                .iter()
                .all(|l| l.attribution == Attribution::Child && l.bed.is_none())
        );
    }

    #[test]
    fn rate_steps_are_ordered_by_day_then_version_and_clamped_to_the_start() {
        // A change dated before the start replaces the start's figures from the start; of two
        // changes on one day the later IPA version wins; a change after the end does nothing.
        let lines = placement_lines(
            "E08000014",
            step(d(2018, 4, 10), 0, 70_000, 0),
            &[
                step(d(2018, 4, 1), 1, 140_000, 0),
                step(d(2018, 4, 20), 3, 7_000, 0),
                step(d(2018, 4, 20), 2, 700_000, 0),
                step(d(2018, 6, 1), 4, 1, 0),
            ],
            Some(d(2018, 4, 29)),
            d(2019, 3, 31),
        );
        // 10–19 April: 10 × 20,000 = 200,000; 20–29 April: 10 × 1,000 = 10,000.
        assert_eq!(
            brief(&lines),
            vec![
                (1, d(2018, 4, 10), d(2018, 4, 19), 10, 200_000),
                (1, d(2018, 4, 20), d(2018, 4, 29), 10, 10_000),
            ]
        );
        // Ended the day before it started: nothing. A repeated step with the same figures
        // does not split the line.
        assert!(
            placement_lines(
                "x",
                step(d(2018, 4, 10), 0, 1, 0),
                &[],
                Some(d(2018, 4, 9)),
                d(2019, 3, 31)
            )
            .is_empty()
        );
        let same = placement_lines(
            "x",
            step(d(2018, 4, 1), 0, 70_000, 0),
            &[step(d(2018, 4, 15), 1, 70_000, 0)],
            None,
            d(2018, 4, 30),
        );
        assert_eq!(
            brief(&same),
            vec![(1, d(2018, 4, 1), d(2018, 4, 30), 30, 300_000)]
        );
    }
}
