//! The English local-government financial year: 1 April – 31 March, periods P1 (April) to
//! P12 (March).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// A financial year, named by the calendar year it starts in (2026 = 2026/27).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FinancialYear(pub i32);

impl FinancialYear {
    pub fn containing(date: NaiveDate) -> Self {
        FinancialYear(if date.month() >= 4 {
            date.year()
        } else {
            date.year() - 1
        })
    }

    pub fn start(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0, 4, 1).expect("1 April exists")
    }

    pub fn end(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0 + 1, 3, 31).expect("31 March exists")
    }

    /// First and last day of period `p` (1..=12).
    pub fn period(self, p: u32) -> (NaiveDate, NaiveDate) {
        assert!((1..=12).contains(&p), "periods run P1 to P12");
        let (year, month) = if p <= 9 {
            (self.0, p + 3)
        } else {
            (self.0 + 1, p - 9)
        };
        let first = NaiveDate::from_ymd_opt(year, month, 1).expect("valid month");
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        }
        .expect("valid month");
        (first, next.pred_opt().expect("a day before"))
    }

    /// `2026/27`.
    pub fn label(self) -> String {
        format!("{}/{:02}", self.0, (self.0 + 1) % 100)
    }
}

/// The period (1..=12) a date falls in.
pub fn period_of(date: NaiveDate) -> u32 {
    if date.month() >= 4 {
        date.month() - 3
    } else {
        date.month() + 9
    }
}

/// Splits the inclusive range `from..=to` into (year, period, days) pieces.
pub fn days_by_period(from: NaiveDate, to: NaiveDate) -> Vec<(FinancialYear, u32, i64)> {
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        let fy = FinancialYear::containing(day);
        let p = period_of(day);
        let (_, last) = fy.period(p);
        let end = last.min(to);
        out.push((fy, p, (end - day).num_days() + 1));
        day = end.succ_opt().expect("dates continue");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn years_and_periods() {
        assert_eq!(
            FinancialYear::containing(d(2019, 3, 31)),
            FinancialYear(2018)
        );
        assert_eq!(
            FinancialYear::containing(d(2018, 4, 1)),
            FinancialYear(2018)
        );
        assert_eq!(FinancialYear(2018).label(), "2018/19");
        assert_eq!(period_of(d(2018, 4, 30)), 1);
        assert_eq!(period_of(d(2019, 3, 1)), 12);
        assert_eq!(
            FinancialYear(2023).period(11),
            (d(2024, 2, 1), d(2024, 2, 29))
        );
        assert_eq!(
            FinancialYear(2026).period(9),
            (d(2026, 12, 1), d(2026, 12, 31))
        );
    }

    #[test]
    fn ranges_split_by_period_and_count_every_day_once() {
        let parts = days_by_period(d(2026, 12, 15), d(2027, 3, 31));
        assert_eq!(parts.iter().map(|p| p.2).sum::<i64>(), 17 + 31 + 28 + 31);
        assert_eq!(parts[0], (FinancialYear(2026), 9, 17));
        assert_eq!(parts.last().unwrap(), &(FinancialYear(2026), 12, 31));
        assert_eq!(days_by_period(d(2027, 3, 31), d(2027, 4, 1)).len(), 2);
    }
}
