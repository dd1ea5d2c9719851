//! England and Wales working days: bank holidays as published, and the standing rules
//! beyond the published years. No I/O.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// England and Wales bank holidays, as published on gov.uk/bank-holidays, substitute days
/// included. One-off holidays are announced by proclamation, so this list, not a rule, is
/// the authority for the years it covers; extend it as gov.uk publishes further years.
pub const BANK_HOLIDAYS: &[(i32, u32, u32)] = &[
    (2024, 1, 1),
    (2024, 3, 29),
    (2024, 4, 1),
    (2024, 5, 6),
    (2024, 5, 27),
    (2024, 8, 26),
    (2024, 12, 25),
    (2024, 12, 26),
    (2025, 1, 1),
    (2025, 4, 18),
    (2025, 4, 21),
    (2025, 5, 5),
    (2025, 5, 26),
    (2025, 8, 25),
    (2025, 12, 25),
    (2025, 12, 26),
    (2026, 1, 1),
    (2026, 4, 3),
    (2026, 4, 6),
    (2026, 5, 4),
    (2026, 5, 25),
    (2026, 8, 31),
    (2026, 12, 25),
    (2026, 12, 28),
    (2027, 1, 1),
    (2027, 3, 26),
    (2027, 3, 29),
    (2027, 5, 3),
    (2027, 5, 31),
    (2027, 8, 30),
    (2027, 12, 27),
    (2027, 12, 28),
    (2028, 1, 3),
    (2028, 4, 14),
    (2028, 4, 17),
    (2028, 5, 1),
    (2028, 5, 29),
    (2028, 8, 28),
    (2028, 12, 25),
    (2028, 12, 26),
    (2029, 1, 1),
    (2029, 3, 30),
    (2029, 4, 2),
    (2029, 5, 7),
    (2029, 5, 28),
    (2029, 8, 27),
    (2029, 12, 25),
    (2029, 12, 26),
    (2030, 1, 1),
    (2030, 4, 19),
    (2030, 4, 22),
    (2030, 5, 6),
    (2030, 5, 27),
    (2030, 8, 26),
    (2030, 12, 25),
    (2030, 12, 26),
];

/// The years [`BANK_HOLIDAYS`] covers.
pub const BANK_HOLIDAY_YEARS: std::ops::RangeInclusive<i32> = 2024..=2030;

/// Whether `date` is an England and Wales bank holiday. Years the list does not cover fall
/// back to the standing rules ([`regular_bank_holidays`]), which miss only one-off holidays.
pub fn is_bank_holiday(date: NaiveDate) -> bool {
    let key = (date.year(), date.month(), date.day());
    if BANK_HOLIDAY_YEARS.contains(&date.year()) {
        BANK_HOLIDAYS.contains(&key)
    } else {
        regular_bank_holidays(date.year()).contains(&date)
    }
}

/// Monday to Friday and not a bank holiday.
pub fn is_working_day(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !is_bank_holiday(date)
}

/// The `n`th working day after `date` (`date` itself does not count).
pub fn add_working_days(date: NaiveDate, n: u32) -> NaiveDate {
    let mut day = date;
    let mut counted = 0;
    while counted < n {
        day = day + Days::new(1);
        if is_working_day(day) {
            counted += 1;
        }
    }
    day
}

/// Easter Sunday (Gregorian; the anonymous "Meeus/Jones/Butcher" algorithm).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("Easter is a real date")
}

/// The standing England and Wales bank holidays of `year` (Banking and Financial Dealings
/// Act 1971 and the usual substitute days), without one-off proclamations.
pub fn regular_bank_holidays(year: i32) -> Vec<NaiveDate> {
    let d = |m: u32, day: u32| NaiveDate::from_ymd_opt(year, m, day).expect("valid date");
    let monday_on_or_after = |date: NaiveDate| {
        let ahead = (7 - date.weekday().num_days_from_monday()) % 7;
        date + Days::new(ahead as u64)
    };
    let last_monday_of = |m: u32| {
        let first_of_next = if m == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, m + 1, 1)
        }
        .expect("valid date");
        let last = first_of_next.pred_opt().expect("a day before");
        last - Days::new(last.weekday().num_days_from_monday() as u64)
    };
    let weekend = |date: NaiveDate| matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
    let easter = easter_sunday(year);
    let mut days = vec![
        if weekend(d(1, 1)) {
            monday_on_or_after(d(1, 1))
        } else {
            d(1, 1)
        },
        easter - Days::new(2),
        easter + Days::new(1),
        monday_on_or_after(d(5, 1)),
        last_monday_of(5),
        last_monday_of(8),
    ];
    // Christmas and Boxing Day: a holiday falling at the weekend moves to the next weekday
    // that is not already a holiday.
    let mut taken: Vec<NaiveDate> = Vec::new();
    for date in [d(12, 25), d(12, 26)] {
        let mut day = date;
        while weekend(day) || taken.contains(&day) {
            day = day + Days::new(1);
        }
        taken.push(day);
    }
    days.extend(taken);
    days
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_bank_holiday_list_is_the_standing_rules_for_its_years() {
        for year in BANK_HOLIDAY_YEARS {
            let listed: HashSet<NaiveDate> = BANK_HOLIDAYS
                .iter()
                .filter(|h| h.0 == year)
                .map(|&(y, m, day)| d(y, m, day))
                .collect();
            let ruled: HashSet<NaiveDate> = regular_bank_holidays(year).into_iter().collect();
            assert_eq!(listed, ruled, "{year}");
            assert_eq!(listed.len(), 8, "{year}");
            assert!(listed.iter().all(
                |h| !is_working_day(*h) && !matches!(h.weekday(), Weekday::Sat | Weekday::Sun)
            ));
        }
        assert_eq!(easter_sunday(2026), d(2026, 4, 5));
        assert_eq!(easter_sunday(2027), d(2027, 3, 28));
        // Published substitute days: Boxing Day 2026 is a Saturday; Christmas 2027 a Saturday;
        // New Year's Day 2028 a Saturday.
        assert!(is_bank_holiday(d(2026, 12, 28)) && !is_bank_holiday(d(2026, 12, 26)));
        assert!(is_bank_holiday(d(2027, 12, 27)) && is_bank_holiday(d(2027, 12, 28)));
        assert!(is_bank_holiday(d(2028, 1, 3)));
        // Beyond the list the rules still apply.
        assert!(is_bank_holiday(d(2031, 12, 25)) && is_bank_holiday(d(2031, 4, 14)));
    }
}
