//! The finance service's rules, no I/O: how contract facts become commitment lines by
//! financial period ([`ledger`]), and what a ledger request must say.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use hub_platform::{FieldError, Pence, calendar::FinancialYear};

pub mod actuals;
pub mod budget;
pub mod facts;
pub mod ledger;
pub mod lines;
pub mod monitoring;
pub mod periods;
pub mod risk;

pub use ledger::{Attribution, CostLine, SourceKind};

/// The commitment of a placement at `weekly` from `start` with no end, to the end of the
/// financial year `start` falls in (31 March): one line per period, each costed
/// `weekly × days / 7` and rounded half up to the penny on its own. The committed total is
/// the sum of the lines, which can differ by a penny or two from costing the whole range at
/// once; the lines are what periods are monitored against, so they are the figure of record.
pub fn placement_commitment(weekly: Pence, start: NaiveDate) -> Vec<CostLine> {
    ledger::placement_lines(
        "",
        ledger::RateStep {
            from: start,
            version: 0,
            weekly,
            extras: Pence::ZERO,
        },
        &[],
        None,
        FinancialYear::containing(start).end(),
    )
}

/// Whether `s` is a code such as `commissioned_adoption_support`: a lowercase letter, then
/// lowercase letters, digits and underscores, at most 64 characters.
pub fn is_code(s: &str) -> bool {
    s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Totals by period, in period order, of the periods that have any lines.
pub fn totals_by_period(lines: impl IntoIterator<Item = (u32, Pence)>) -> Vec<(u32, Pence)> {
    let mut totals: BTreeMap<u32, Pence> = BTreeMap::new();
    for (period, amount) in lines {
        let t = totals.entry(period).or_default();
        *t = *t + amount;
    }
    totals.into_iter().collect()
}

/// Financial years a ledger may be asked for.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// The periods of a financial year: 1 (April) to 12 (March).
pub const PERIODS: std::ops::RangeInclusive<i32> = 1..=12;

/// The error for a period outside [`PERIODS`], naming `field`.
pub fn bad_period(field: &str) -> FieldError {
    FieldError::new(field, "range", "a period is 1 (April) to 12 (March)")
}

/// The partnership a query names, trimmed; none (or an empty one) is an error in `errors`
/// giving `example` as a code to use.
pub fn partnership_param(
    params: &HashMap<String, String>,
    example: &str,
    errors: &mut Vec<FieldError>,
) -> String {
    let code = params
        .get("partnership")
        .map(|p| p.trim().to_owned())
        .unwrap_or_default();
    if code.is_empty() {
        errors.push(FieldError::new(
            "partnership",
            "required",
            format!("name the partnership, e.g. partnership={example}"),
        ));
    }
    code
}

/// `GET /v1/ledger?partnership=…&year=…`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerQuery {
    pub partnership: String,
    pub year: FinancialYear,
}

impl LedgerQuery {
    /// Reads the query parameters, naming each missing or invalid one.
    pub fn parse(params: &HashMap<String, String>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let partnership = partnership_param(params, "LCR-PPA", &mut errors);
        let year = match params.get("year").map(|y| y.trim()) {
            None | Some("") => {
                errors.push(FieldError::new(
                    "year",
                    "required",
                    "name the financial year by the year it starts in, e.g. year=2026 for 2026/27",
                ));
                None
            }
            Some(y) => match y.parse::<i32>() {
                Ok(y) if YEARS.contains(&y) => Some(y),
                Ok(_) => {
                    errors.push(FieldError::new(
                        "year",
                        "range",
                        format!(
                            "the year must be between {} and {}",
                            YEARS.start(),
                            YEARS.end()
                        ),
                    ));
                    None
                }
                Err(_) => {
                    errors.push(FieldError::new(
                        "year",
                        "type",
                        "the year must be a whole number such as 2026",
                    ));
                    None
                }
            },
        };
        match year {
            Some(year) if errors.is_empty() => Ok(Self {
                partnership,
                year: FinancialYear(year),
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn lines(weekly: i64, start: NaiveDate) -> Vec<(i32, u32, i64, i64)> {
        placement_commitment(Pence(weekly), start)
            .iter()
            .map(|l| (l.year.0, l.period, l.days, l.amount.0))
            .collect()
    }

    #[test]
    fn a_placement_from_mid_december_commits_to_the_end_of_march() {
        // £3,170.65 a week is £452.95 a day (317,065 = 7 × 45,295), so every line is exact:
        // P9 17 days × 45,295 = 770,015; P10 31 × 45,295 = 1,404,145; P11 28 × 45,295 =
        // 1,268,260; P12 31 × 45,295 = 1,404,145.
        let got = lines(317_065, d(2026, 12, 15));
        assert_eq!(
            got,
            vec![
                (2026, 9, 17, 770_015),
                (2026, 10, 31, 1_404_145),
                (2026, 11, 28, 1_268_260),
                (2026, 12, 31, 1_404_145)
            ]
        );
        let total: i64 = got.iter().map(|l| l.3).sum();
        assert_eq!(total, 4_846_565);
        // 107 days at £452.95.
        assert_eq!(Pence(317_065).prorate_weekly(107), Pence(total));
        assert_eq!(got.iter().map(|l| l.2).sum::<i64>(), 107);
    }

    #[test]
    fn each_line_rounds_half_up_on_its_own() {
        // £1,000.01 a week: 100,001 × 17 / 7 = 242,859.57 → 242,860; × 31 / 7 = 442,861.57 →
        // 442,862; × 28 / 7 = 400,004 exactly.
        let got = lines(100_001, d(2026, 12, 15));
        assert_eq!(
            got,
            vec![
                (2026, 9, 17, 242_860),
                (2026, 10, 31, 442_862),
                (2026, 11, 28, 400_004),
                (2026, 12, 31, 442_862)
            ]
        );
        let total: i64 = got.iter().map(|l| l.3).sum();
        assert_eq!(total, 1_528_588);
        // The whole range costed at once would be 1,528,586.71 → 1,528,587: the lines are the record.
        assert_eq!(Pence(100_001).prorate_weekly(107), Pence(1_528_587));
        let by_period = totals_by_period(
            placement_commitment(Pence(100_001), d(2026, 12, 15))
                .iter()
                .map(|l| (l.period, l.amount)),
        );
        assert_eq!(by_period.iter().map(|p| p.1).sum::<Pence>(), Pence(total));
        assert_eq!(
            by_period.iter().map(|p| p.0).collect::<Vec<_>>(),
            vec![9, 10, 11, 12]
        );
    }

    #[test]
    fn the_commitment_stops_at_the_end_of_the_start_dates_financial_year() {
        // From 1 April: twelve lines, 365 days (2026/27 has no 29 February).
        let year = lines(200_000, d(2026, 4, 1));
        assert_eq!(year.len(), 12);
        assert_eq!(year.iter().map(|l| l.2).sum::<i64>(), 365);
        assert_eq!(year[0], (2026, 1, 30, 857_143)); // 6,000,000 / 7 = 857,142.86
        assert_eq!(year[10], (2026, 11, 28, 800_000));
        assert_eq!(year.iter().map(|l| l.3).sum::<i64>(), 10_428_570);
        // 31 March: one day, in P12 of the year that ends that day.
        assert_eq!(lines(317_065, d(2027, 3, 31)), vec![(2026, 12, 1, 45_295)]);
        // A January start belongs to the year that began the April before; February 2028 has 29 days.
        assert_eq!(
            lines(70_000, d(2028, 2, 1)),
            vec![(2027, 11, 29, 290_000), (2027, 12, 31, 310_000)]
        );
    }

    fn query(pairs: &[(&str, &str)]) -> Result<LedgerQuery, Vec<FieldError>> {
        LedgerQuery::parse(
            &pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn ledger_queries_name_the_parameter_at_fault() {
        assert_eq!(
            query(&[("partnership", "LCR-PPA"), ("year", "2026")]).unwrap(),
            LedgerQuery {
                partnership: "LCR-PPA".into(),
                year: FinancialYear(2026)
            }
        );
        let rules = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            query(pairs)
                .unwrap_err()
                .into_iter()
                .map(|e| (e.field, e.rule))
                .collect()
        };
        let pair = |f: &str, r: &str| (f.to_owned(), r.to_owned());
        assert_eq!(
            rules(&[]),
            vec![pair("partnership", "required"), pair("year", "required")]
        );
        assert_eq!(
            rules(&[("partnership", "AIM"), ("year", "twenty")]),
            vec![pair("year", "type")]
        );
        assert_eq!(
            rules(&[("partnership", "AIM"), ("year", "1850")]),
            vec![pair("year", "range")]
        );
        assert_eq!(
            rules(&[("partnership", " "), ("year", "2026")]),
            vec![pair("partnership", "required")]
        );
    }
}
