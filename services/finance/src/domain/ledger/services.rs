//! A service contract's lines: its tranches phased evenly by day, to a termination.

use chrono::NaiveDate;
use hub_platform::{Pence, calendar::days_by_period};

use super::{Attribution, CostLine};

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
    use crate::domain::ledger::test_support::*;
    use hub_platform::calendar::FinancialYear;

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
