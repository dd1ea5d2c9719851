//! A block contract's lines: every bed over the term, to whose it is.

use chrono::NaiveDate;
use hub_platform::Pence;

use super::{Attribution, CostLine, Spell, merged, weekly_lines};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ledger::test_support::*;

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
}
