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
//!
//! Seams: the codes and the weekly costing every source shares are here; `placements`,
//! `blocks` and `services` cost each kind of source; `settle` keeps closed periods as posted.

mod blocks;
mod placements;
mod services;
mod settle;

use chrono::NaiveDate;
use hub_platform::{
    Pence,
    calendar::{FinancialYear, days_by_period},
};

pub use blocks::{BedChange, BedEvent, BlockTerms, block_lines};
pub use placements::{RateStep, horizon, placement_lines};
pub use services::{Tranche, service_contract_lines};
pub use settle::{Period, Posted, Settled, first_open_after, settle};

hub_platform::code_enum! {
    /// What a commitment line commits money for (stored and shown as its snake_case code, e.g.
    /// `block_bed`).
    pub enum SourceKind {
        Placement,
        BlockBed,
        ServiceContract,
    }
}

hub_platform::code_enum! {
    /// Whose money a line is (stored and shown as `child`, `void` or `pooled`).
    #[derive(PartialOrd, Ord)]
    pub enum Attribution {
        /// The council's own child (a placement, or a block bed the child is in).
        Child,
        /// An empty block bed held for the council (or, held for no council, the partnership's).
        Void,
        /// A service contract for all partners: the partnership's.
        Pooled,
    }
}

hub_platform::code_enum! {
    /// What a bed is from a day on, as a bed event records it (`filled` or `void`); who it is
    /// filled by or held for is kept beside it.
    pub enum BedStatus {
        Filled,
        Void,
    }
}

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

#[cfg(test)]
pub(super) mod test_support {
    //! What the ledger's tests share.

    use super::*;

    pub(crate) fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    pub(crate) fn step(from: NaiveDate, version: u32, weekly: i64, extras: i64) -> RateStep {
        RateStep {
            from,
            version,
            weekly: Pence(weekly),
            extras: Pence(extras),
        }
    }

    pub(crate) fn brief(lines: &[CostLine]) -> Vec<(u32, NaiveDate, NaiveDate, i64, i64)> {
        lines
            .iter()
            .map(|l| (l.period, l.from, l.to, l.days, l.amount.0))
            .collect()
    }
}
