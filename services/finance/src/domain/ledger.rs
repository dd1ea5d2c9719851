//! How contract facts become commitment lines: one line per source, council and rate for each
//! financial period it runs in. No I/O.
//!
//! * A placement costs its weekly rate plus IPA extras from its start date, at each rate
//!   change's figures from its effective date, up to its end date (the last night) or, while
//!   it has none, to the end of the horizon (a financial year's end).
//! * A block contract costs every bed at the block rate over its term, filled or void: while a
//!   child is in a bed the bed is that child's council's; while it is empty it is the holding
//!   council's (the one the last `bed_void` named) or, held for no council, the partnership's.
//! * A contract let for the whole partnership (a service contract; a block contract's beds
//!   while they are empty and held for no council) is the partnership's, not the lead
//!   council's: its lines carry the partnership's code where a council's GSS code would be,
//!   so no partner's detail carries them and every consolidated figure does.
//! * A service contract's value is phased evenly by day over its term (the remainder pennies
//!   on the earliest days, so the days add up to the value exactly); each extension's added
//!   value over the extension; each variation's change (negative for a reduction) from its
//!   effective date to the end date it was phased to; nothing after a termination date.
//!
//! Each line is `weekly × days / 7` rounded half up to the penny on its own (weekly sources),
//! or the sum of its days' phased pennies (service contracts). The lines are the figure of
//! record: a total is the sum of its lines.
//!
//! A closed period never changes ([`settle`], issue 10 rule 10). When a fact changes what a
//! closed period should have cost (a backdated rate change, an end dated back, a bed filled
//! or emptied, a contract varied or terminated, a source that arrives late), the closed
//! period's lines stay as they were posted and the difference, per council, attribution and
//! bed, is posted as an adjustment line in the first open period after it, tagged with the
//! period it adjusts (and, by the caller, the fact that caused it). Adjustments are a trail:
//! once posted they are never rewritten; a later fact that moves the figure again posts
//! another. So a closed period's report is the same however often it is run, and the year's
//! lines still add up to what the facts cost.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use hub_platform::{
    Pence,
    calendar::{FinancialYear, days_by_period},
};

/// What a commitment line commits money for (stored and shown as its snake_case code, e.g.
/// `block_bed`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::Display,
    strum::EnumString,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[strum(serialize_all = "snake_case")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum SourceKind {
    Placement,
    BlockBed,
    ServiceContract,
}
hub_platform::sql_text!(SourceKind);

/// Whose money a line is (stored and shown as `child`, `void` or `pooled`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    strum::Display,
    strum::EnumString,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[strum(serialize_all = "snake_case")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum Attribution {
    /// The council's own child (a placement, or a block bed the child is in).
    Child,
    /// An empty block bed held for the council (or, held for no council, the partnership's).
    Void,
    /// A service contract for all partners: the partnership's.
    Pooled,
}
hub_platform::sql_text!(Attribution);

/// What a bed is from a day on, as a bed event records it (`filled` or `void`); who it is
/// filled by or held for is kept beside it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::Display,
    strum::EnumString,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[strum(serialize_all = "snake_case")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum BedStatus {
    Filled,
    Void,
}
hub_platform::sql_text!(BedStatus);

/// The budget line placements and block beds are charged to.
pub const PLACEMENTS_LINE: &str = "placements";

/// One source's cost for one council in one period at one rate, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostLine {
    pub council: String,
    pub attribution: Attribution,
    pub bed: Option<u16>,
    pub year: FinancialYear,
    /// 1 (April) to 12 (March).
    pub period: u32,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: i64,
    /// The core weekly rate (0 for a service contract).
    pub weekly: Pence,
    /// The IPA extras a week (0 unless a placement has them).
    pub extras: Pence,
    pub amount: Pence,
}

/// Who a spell of days is costed to and at what weekly rate.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Spell {
    from: NaiveDate,
    to: NaiveDate,
    council: String,
    attribution: Attribution,
    weekly: Pence,
    extras: Pence,
}

/// Cuts a spell at period boundaries: one line per period, `(weekly + extras) × days / 7`.
fn weekly_lines(spell: &Spell, bed: Option<u16>, out: &mut Vec<CostLine>) {
    let mut day = spell.from;
    for (year, period, days) in days_by_period(spell.from, spell.to) {
        let to = day + chrono::Days::new(days as u64 - 1);
        out.push(CostLine {
            council: spell.council.clone(),
            attribution: spell.attribution,
            bed,
            year,
            period,
            from: day,
            to,
            days,
            weekly: spell.weekly,
            extras: spell.extras,
            amount: (spell.weekly + spell.extras).prorate_weekly(days),
        });
        day = to + chrono::Days::new(1);
    }
}

/// Joins neighbouring spells with the same council, attribution and rates.
fn merged(spells: Vec<Spell>) -> Vec<Spell> {
    let mut out: Vec<Spell> = Vec::with_capacity(spells.len());
    for s in spells {
        match out.last_mut() {
            Some(last)
                if last.to.succ_opt() == Some(s.from)
                    && (&last.council, last.attribution, last.weekly, last.extras)
                        == (&s.council, s.attribution, s.weekly, s.extras) =>
            {
                last.to = s.to;
            }
            _ => out.push(s),
        }
    }
    out
}

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

/// What happened to a block bed from a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BedChange {
    /// A child of `council` is in the bed.
    Filled { council: String },
    /// The bed is empty, held for `holder` (or for whoever held it before, if `None`).
    Void { holder: Option<String> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BedEvent {
    pub bed: u16,
    pub from: NaiveDate,
    pub change: BedChange,
}

/// The block contract's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockTerms {
    /// The partnership's code: whose an empty bed is until a `bed_void` names a council (the
    /// contract was let for the whole partnership, not for the council that let it).
    pub partnership: String,
    pub beds: u16,
    pub weekly: Pence,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// Every bed (numbered 1 to `beds`) over the term at the block rate: each spell a child is in
/// it to that child's council, each empty spell to the holding council (at first the
/// partnership) as void. On one day a
/// `Void` is applied before a `Filled` (a child leaving and the next arriving the same day
/// leaves the bed filled). Events before the term count from its start; after it, not at all.
pub fn block_lines(terms: &BlockTerms, events: &[BedEvent]) -> Vec<CostLine> {
    let mut out = Vec::new();
    if terms.end < terms.start {
        return out;
    }
    for bed in 1..=terms.beds {
        let mut mine: Vec<&BedEvent> = events
            .iter()
            .filter(|e| e.bed == bed && e.from <= terms.end)
            .collect();
        mine.sort_by_key(|e| {
            (
                e.from.max(terms.start),
                matches!(e.change, BedChange::Filled { .. }),
            )
        });
        let mut holder = terms.partnership.clone();
        // (from, council, attribution) from the start.
        let mut states: Vec<(NaiveDate, String, Attribution)> =
            vec![(terms.start, holder.clone(), Attribution::Void)];
        for e in mine {
            let from = e.from.max(terms.start);
            let state = match &e.change {
                BedChange::Filled { council } => (from, council.clone(), Attribution::Child),
                BedChange::Void { holder: h } => {
                    if let Some(h) = h {
                        holder = h.clone();
                    }
                    (from, holder.clone(), Attribution::Void)
                }
            };
            // The later state on the same day replaces the earlier one.
            if states.last().is_some_and(|s| s.0 == from) {
                states.pop();
            }
            states.push(state);
        }
        let spells: Vec<Spell> = states
            .iter()
            .enumerate()
            .map(|(i, (from, council, attribution))| Spell {
                from: *from,
                to: states
                    .get(i + 1)
                    .map(|n| n.0.pred_opt().expect("dates continue"))
                    .unwrap_or(terms.end),
                council: council.clone(),
                attribution: *attribution,
                weekly: terms.weekly,
                extras: Pence::ZERO,
            })
            .collect();
        for spell in merged(spells) {
            weekly_lines(&spell, Some(bed), &mut out);
        }
    }
    out
}

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

/// A value phased evenly by day over `from ..= to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tranche {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub value: Pence,
}

/// A service contract's commitment: each tranche (the contract's value over its term, each
/// extension's added value over the extension, each variation's change from its effective
/// date to the end it was phased to) phased evenly by day — the value split over the days by
/// largest remainder, ties to the earliest days, a negative value's pennies negative — and
/// summed by period, up to `terminated_on` if it was terminated. All lines are the
/// partnership's (`partnership`, its code), pooled: the contract was let for every partner.
pub fn service_contract_lines(
    partnership: &str,
    tranches: &[Tranche],
    terminated_on: Option<NaiveDate>,
) -> Vec<CostLine> {
    let mut out = Vec::new();
    for t in tranches {
        let n = (t.to - t.from).num_days() + 1;
        if n <= 0 {
            continue;
        }
        let last = terminated_on.map_or(t.to, |d| d.min(t.to));
        if last < t.from {
            continue;
        }
        // Day i (0-based) gets q, plus one penny (of the sign of the value) while i < r.
        let (q, r) = (t.value.0 / n, t.value.0 % n);
        let mut day = t.from;
        let mut index = 0i64;
        for (year, period, days) in days_by_period(t.from, last) {
            let extra = (r.abs().min(index + days) - index).max(0) * r.signum();
            let to = day + chrono::Days::new(days as u64 - 1);
            out.push(CostLine {
                council: partnership.to_owned(),
                attribution: Attribution::Pooled,
                bed: None,
                year,
                period,
                from: day,
                to,
                days,
                weekly: Pence::ZERO,
                extras: Pence::ZERO,
                amount: Pence(q * days + extra),
            });
            index += days;
            day = to + chrono::Days::new(1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn step(from: NaiveDate, version: u32, weekly: i64, extras: i64) -> RateStep {
        RateStep {
            from,
            version,
            weekly: Pence(weekly),
            extras: Pence(extras),
        }
    }

    fn brief(lines: &[CostLine]) -> Vec<(u32, NaiveDate, NaiveDate, i64, i64)> {
        lines
            .iter()
            .map(|l| (l.period, l.from, l.to, l.days, l.amount.0))
            .collect()
    }

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

    #[test]
    fn block_beds_are_committed_filled_or_void_to_whose_they_are() {
        // Family Care Group: 2 beds at £2,809 a week (£401.29 a day is not whole: 280,900 / 7
        // = 40,128.57), 1 April – 30 June 2018, let by Sefton for all of AIM: a bed empty and
        // held for no council is AIM's.
        let terms = BlockTerms {
            partnership: "AIM".into(),
            beds: 2,
            weekly: Pence(280_900),
            start: d(2018, 4, 1),
            end: d(2018, 6, 30),
        };
        let events = vec![
            // Bed 1: Wirral's child from 11 April to 20 May; void held for Knowsley from 21 May;
            // a Knowsley child and a void the same day (the void first) on 1 June.
            BedEvent {
                bed: 1,
                from: d(2018, 4, 11),
                change: BedChange::Filled {
                    council: "WIRRAL".into(),
                },
            },
            BedEvent {
                bed: 1,
                from: d(2018, 5, 21),
                change: BedChange::Void {
                    holder: Some("KNOWSLEY".into()),
                },
            },
            BedEvent {
                bed: 1,
                from: d(2018, 6, 1),
                change: BedChange::Filled {
                    council: "KNOWSLEY".into(),
                },
            },
            BedEvent {
                bed: 1,
                from: d(2018, 6, 1),
                change: BedChange::Void { holder: None },
            },
            // An event for a bed the contract does not have, and one after the term: ignored.
            BedEvent {
                bed: 3,
                from: d(2018, 4, 1),
                change: BedChange::Filled {
                    council: "X".into(),
                },
            },
            BedEvent {
                bed: 2,
                from: d(2018, 7, 1),
                change: BedChange::Filled {
                    council: "X".into(),
                },
            },
        ];
        let lines = block_lines(&terms, &events);
        type Brief<'a> = (Option<u16>, &'a str, Attribution, u32, i64, i64);
        let got: Vec<Brief> = lines
            .iter()
            .map(|l| {
                (
                    l.bed,
                    l.council.as_str(),
                    l.attribution,
                    l.period,
                    l.days,
                    l.amount.0,
                )
            })
            .collect();
        use Attribution::{Child, Void};
        assert_eq!(
            got,
            vec![
                (Some(1), "AIM", Void, 1, 10, 401_286), // 10 × 280,900 / 7 = 401,285.71
                (Some(1), "WIRRAL", Child, 1, 20, 802_571), // 802,571.43
                (Some(1), "WIRRAL", Child, 2, 20, 802_571),
                (Some(1), "KNOWSLEY", Void, 2, 11, 441_414), // 441,414.29
                (Some(1), "KNOWSLEY", Child, 3, 30, 1_203_857), // 1,203,857.14
                (Some(2), "AIM", Void, 1, 30, 1_203_857),
                (Some(2), "AIM", Void, 2, 31, 1_243_986), // 1,243,985.71
                (Some(2), "AIM", Void, 3, 30, 1_203_857),
            ]
        );
        // Every bed-day is costed once: 2 beds × 91 days.
        assert_eq!(lines.iter().map(|l| l.days).sum::<i64>(), 182);
    }

    #[test]
    fn service_contracts_phase_evenly_by_day_and_add_up_exactly() {
        // £100,000.01 over 2018/19 (365 days): 10,000,001 = 27,397 × 365 + 96, so the first
        // 96 days (1 April – 5 July) get 27,398p.
        let t = Tranche {
            from: d(2018, 4, 1),
            to: d(2019, 3, 31),
            value: Pence(10_000_001),
        };
        let lines = service_contract_lines("AIM", &[t], None);
        assert_eq!(lines.len(), 12);
        assert_eq!(lines.iter().map(|l| l.amount.0).sum::<i64>(), 10_000_001);
        assert_eq!(lines[0].amount, Pence(30 * 27_398)); // April
        assert_eq!(lines[1].amount, Pence(31 * 27_398)); // May
        assert_eq!(lines[2].amount, Pence(30 * 27_398)); // June
        assert_eq!(lines[3].amount, Pence(5 * 27_398 + 26 * 27_397)); // July
        assert_eq!(lines[11].amount, Pence(31 * 27_397)); // March
        // Let by Sefton for all of AIM: the partnership's money, not Sefton's.
        assert!(
            lines
                .iter()
                .all(|l| (l.council.as_str(), l.attribution) == ("AIM", Attribution::Pooled))
        );
        // Terminated on 15 July: April–June and 15 days of July.
        let cut = service_contract_lines("AIM", &[t], Some(d(2018, 7, 15)));
        assert_eq!(cut.len(), 4);
        assert_eq!(cut[3].amount, Pence(5 * 27_398 + 10 * 27_397));
        assert_eq!(cut[3].to, d(2018, 7, 15));
        // An extension's value is phased over the extension only.
        let ext = Tranche {
            from: d(2019, 4, 1),
            to: d(2019, 4, 30),
            value: Pence(3_001),
        };
        let both = service_contract_lines("AIM", &[t, ext], None);
        assert_eq!(both.len(), 13);
        assert_eq!(both[12].amount, Pence(3_001));
        assert_eq!(both[12].year, FinancialYear(2019));
        // Terminated before it began: nothing.
        assert!(service_contract_lines("AIM", &[t], Some(d(2018, 3, 31))).is_empty());
    }

    #[test]
    fn a_variation_is_phased_by_day_from_mid_month_and_cut_by_a_termination() {
        // +£12,000.00 from 15 October 2018 to 31 March 2020: 534 days, 1,200,000 = 2,247 × 534
        // + 102, so the first 102 days (15 October – 24 January) get 2,248p.
        let rise = Tranche {
            from: d(2018, 10, 15),
            to: d(2020, 3, 31),
            value: Pence(1_200_000),
        };
        let lines = service_contract_lines("AIM", &[rise], None);
        let by_period: Vec<(i32, u32, NaiveDate, i64, i64)> = lines
            .iter()
            .map(|l| (l.year.0, l.period, l.from, l.days, l.amount.0))
            .collect();
        let mut expected = vec![
            (2018, 7, d(2018, 10, 15), 17, 17 * 2_248),
            (2018, 8, d(2018, 11, 1), 30, 30 * 2_248),
            (2018, 9, d(2018, 12, 1), 31, 31 * 2_248),
            (2018, 10, d(2019, 1, 1), 31, 24 * 2_248 + 7 * 2_247), // 69,681
            (2018, 11, d(2019, 2, 1), 28, 28 * 2_247),
            (2018, 12, d(2019, 3, 1), 31, 31 * 2_247),
        ];
        for (period, first, days) in [
            (1, d(2019, 4, 1), 30),
            (2, d(2019, 5, 1), 31),
            (3, d(2019, 6, 1), 30),
            (4, d(2019, 7, 1), 31),
            (5, d(2019, 8, 1), 31),
            (6, d(2019, 9, 1), 30),
            (7, d(2019, 10, 1), 31),
            (8, d(2019, 11, 1), 30),
            (9, d(2019, 12, 1), 31),
            (10, d(2020, 1, 1), 31),
            (11, d(2020, 2, 1), 29),
            (12, d(2020, 3, 1), 31),
        ] {
            expected.push((2019, period, first, days, days * 2_247));
        }
        assert_eq!(by_period, expected);
        assert_eq!(expected[3].4, 69_681);
        // The periods add up to the change exactly.
        assert_eq!(lines.iter().map(|l| l.amount.0).sum::<i64>(), 1_200_000);
        assert!(
            lines
                .iter()
                .all(|l| (l.council.as_str(), l.attribution, l.bed)
                    == ("AIM", Attribution::Pooled, None))
        );
        // Terminated on 15 November 2019: November has 15 days, nothing after; the contract's
        // own value is cut on the same day.
        let term = Tranche {
            from: d(2018, 4, 1),
            to: d(2020, 3, 31),
            value: Pence(23_976_800), // 32,800p a day for 731 days
        };
        let cut = service_contract_lines("AIM", &[term, rise], Some(d(2019, 11, 15)));
        let (own, varied) = cut.split_at(20);
        assert_eq!(
            (own[19].to, own[19].amount, varied[13].to, varied[13].amount),
            (
                d(2019, 11, 15),
                Pence(15 * 32_800),
                d(2019, 11, 15),
                Pence(15 * 2_247)
            )
        );
        assert_eq!(varied.len(), 14);
        // 137 days (16 November – 31 March) of 2,247p are not committed.
        assert_eq!(
            varied.iter().map(|l| l.amount.0).sum::<i64>(),
            1_200_000 - 137 * 2_247
        );
        // A reduction is phased the same way, its odd pennies negative.
        let cut_back = Tranche {
            value: Pence(-1_200_000),
            ..rise
        };
        let negative = service_contract_lines("AIM", &[cut_back], None);
        assert_eq!(
            negative.iter().map(|l| -l.amount.0).collect::<Vec<_>>(),
            lines.iter().map(|l| l.amount.0).collect::<Vec<_>>()
        );
    }
}
