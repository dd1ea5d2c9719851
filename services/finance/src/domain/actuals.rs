//! Payments (actuals) as a finance lead sends them: a CSV file or a JSON list, read and
//! checked line by line. No I/O.
//!
//! CSV: a header line, then one payment a line. Columns (any order, names as here):
//! `payment_reference`, `paid_on` (`2018-06-30` or `30/06/2018`), `budget_line`, `amount`
//! (pounds and pence: `1234.56`, `-12.5`, `£1,234.56`), and optionally `council` (GSS code;
//! the uploader's own council if absent), `provider_id`, `contract_id`, `adjusts_period`.
//! No free text: a payment file must not carry a child's details. Every problem names its
//! line and column as `/rows/<line>/<column>` (the header is line 1); in JSON
//! `/payments/<index>/<field>`.
//!
//! **A payment belongs to its period.** Payments are uploaded for a period, and each one's
//! `paid_on` must fall within that period (a December payment sent for June is refused:
//! 422 naming its `paid_on`), so a period's actual is the money paid in it. The one
//! exception is an explicit adjustment: a payment of an earlier period of the same year that
//! was recorded late says so with `adjusts_period` (the period, 1–12, it was paid in, earlier
//! than the period uploaded for); its `paid_on` must fall within *that* period. It is
//! counted in the period uploaded for (or, for a closed period sent with `adjust=true`, the
//! next open one), and keeps the period it adjusts as its trail. A payment can never be
//! dated in a later period than the one it is counted in.
//!
//! **Amounts are bounded.** A payment line is at most `Pence::MAX_PAYMENT_LINE`
//! (£10,000,000.00) either way; anything larger (and `i64::MIN`, whose absolute value does
//! not exist) is 422 naming the amount.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use hub_platform::{FieldError, Pence, calendar::FinancialYear};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const REQUIRED_COLUMNS: [&str; 4] = ["payment_reference", "paid_on", "budget_line", "amount"];
pub const OPTIONAL_COLUMNS: [&str; 4] = ["council", "provider_id", "contract_id", "adjusts_period"];
/// The most rows one upload may have.
pub const MAX_ROWS: usize = 50_000;

/// One payment as sent in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentIn {
    /// The payer's own reference; a payment is recorded once per council and reference.
    pub payment_reference: String,
    pub paid_on: NaiveDate,
    pub budget_line: String,
    /// Negative for a refund or credit.
    pub amount_pence: i64,
    /// GSS code; the uploader's own council if absent.
    #[serde(default)]
    pub council: Option<String>,
    #[serde(default)]
    pub provider_id: Option<String>,
    /// The order, placement, block or service contract it pays for, if any.
    #[serde(default)]
    pub contract_id: Option<String>,
    /// For a payment of an earlier period recorded late: the period (1–12) it was paid in,
    /// earlier than the period uploaded for; `paid_on` must fall within it.
    #[serde(default)]
    pub adjusts_period: Option<i32>,
}

/// A payment read from a file or a JSON list, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// The CSV line (header = 1) or the JSON list index.
    pub line: usize,
    pub payment_reference: String,
    pub paid_on: NaiveDate,
    pub budget_line: String,
    pub amount: Pence,
    pub council: Option<String>,
    pub provider_id: Option<String>,
    pub contract_id: Option<String>,
    /// An explicit adjustment: the earlier period it was paid in.
    pub adjusts_period: Option<i32>,
}

/// Reads `1234.56`, `-12.5`, `£1,234.56`, `-£3` as pence. `None` for anything else
/// (more than two decimals, misplaced commas, letters, nothing).
pub fn parse_pounds(s: &str) -> Option<Pence> {
    let s = s.trim();
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let s = s.strip_prefix('£').unwrap_or(s);
    let (whole, fraction) = match s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    if whole.is_empty() {
        return None;
    }
    // Thousands separators only in their places: 1,234,567.
    let groups: Vec<&str> = whole.split(',').collect();
    let grouped_ok = groups.len() == 1
        || (!groups[0].is_empty()
            && groups[0].len() <= 3
            && groups[1..].iter().all(|g| g.len() == 3));
    let digits: String = groups.concat();
    if !grouped_ok
        || digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || digits.len() > 13
    {
        return None;
    }
    let pence_part = match fraction {
        None => 0,
        Some(f) if (1..=2).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()) => {
            f.parse::<i64>().ok()? * if f.len() == 1 { 10 } else { 1 }
        }
        Some(_) => return None,
    };
    let pence = digits.parse::<i64>().ok()? * 100 + pence_part;
    Some(Pence(if negative { -pence } else { pence }))
}

/// `2018-06-30` or `30/06/2018`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .ok()
}

fn optional(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A CSV file read: the payments whose cells could be read, and an error naming the line and
/// column of each cell that could not.
pub type ReadCsv = (Vec<Payment>, Vec<FieldError>);

/// Reads a CSV file of payments. A header that cannot be used is refused outright; an
/// unreadable cell is an error naming its line and column, and the other lines are still
/// read so that [`check`] can name their problems too.
pub fn read_csv(bytes: &[u8]) -> Result<ReadCsv, Vec<FieldError>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let index = columns(&mut reader)?;
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        if out.len() >= MAX_ROWS {
            errors.push(FieldError::new(
                "/rows",
                "max",
                format!("at most {MAX_ROWS} payments an upload"),
            ));
            break;
        }
        match record {
            Ok(record) => out.extend(read_row(line, &record, &index, &mut errors)),
            Err(e) => errors.push(FieldError::new(
                format!("/rows/{line}"),
                "format",
                format!("line {line}: {e}"),
            )),
        }
    }
    Ok((out, errors))
}

/// The header line: each column's index, or every fault of the header (an unknown or
/// repeated column, a required one missing).
fn columns(reader: &mut csv::Reader<&[u8]>) -> Result<HashMap<String, usize>, Vec<FieldError>> {
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h
            .iter()
            .map(|c| c.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect(),
        Err(e) => {
            return Err(vec![FieldError::new(
                "/rows/1",
                "format",
                format!("line 1: the header cannot be read: {e}"),
            )]);
        }
    };
    let mut errors = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, h) in headers.into_iter().enumerate() {
        if !REQUIRED_COLUMNS.contains(&h.as_str()) && !OPTIONAL_COLUMNS.contains(&h.as_str()) {
            errors.push(FieldError::new(
                format!("/rows/1/{h}"),
                "unknown_field",
                format!(
                    "line 1: `{h}` is not a column; the columns are {} and optionally {}",
                    REQUIRED_COLUMNS.join(", "),
                    OPTIONAL_COLUMNS.join(", ")
                ),
            ));
        } else if index.insert(h.clone(), i).is_some() {
            errors.push(FieldError::new(
                format!("/rows/1/{h}"),
                "unique",
                format!("line 1: `{h}` appears twice"),
            ));
        }
    }
    for c in REQUIRED_COLUMNS {
        if !index.contains_key(c) {
            errors.push(FieldError::new(
                format!("/rows/1/{c}"),
                "required",
                format!("line 1: the column `{c}` is missing"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(index)
    } else {
        Err(errors)
    }
}

/// One payment line, or none with an error for each cell that cannot be read.
fn read_row(
    line: usize,
    record: &csv::StringRecord,
    index: &HashMap<String, usize>,
    errors: &mut Vec<FieldError>,
) -> Option<Payment> {
    let cell = |c: &str| index.get(c).and_then(|i| record.get(*i));
    let at = |c: &str| format!("/rows/{line}/{c}");
    let paid_on = cell("paid_on").and_then(parse_date);
    if paid_on.is_none() {
        errors.push(FieldError::new(
            at("paid_on"),
            "format",
            format!(
                "line {line}: `{}` is not a date such as 2018-06-30 or 30/06/2018",
                cell("paid_on").unwrap_or("")
            ),
        ));
    }
    let amount = cell("amount").and_then(parse_pounds);
    if amount.is_none() {
        errors.push(FieldError::new(
            at("amount"),
            "format",
            format!(
                "line {line}: `{}` is not an amount in pounds such as 1234.56 (at most two decimals)",
                cell("amount").unwrap_or("")
            ),
        ));
    }
    let adjusts_period = match optional(cell("adjusts_period")) {
        None => Some(None),
        Some(s) => match s.parse::<i32>() {
            Ok(p) => Some(Some(p)),
            Err(_) => {
                errors.push(FieldError::new(
                    at("adjusts_period"),
                    "format",
                    format!("line {line}: `{s}` is not a period 1 (April) to 12 (March)"),
                ));
                None
            }
        },
    };
    Some(Payment {
        line,
        payment_reference: cell("payment_reference").unwrap_or("").trim().to_owned(),
        paid_on: paid_on?,
        budget_line: cell("budget_line").unwrap_or("").trim().to_owned(),
        amount: amount?,
        council: optional(cell("council")),
        provider_id: optional(cell("provider_id")),
        contract_id: optional(cell("contract_id")),
        adjusts_period: adjusts_period?,
    })
}

/// Orders errors by the line (or index) their field names, keeping their order within it.
pub fn by_line(mut errors: Vec<FieldError>) -> Vec<FieldError> {
    errors.sort_by_key(|e| {
        e.field
            .split('/')
            .nth(2)
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0)
    });
    errors
}

/// The JSON list as payments (line = index).
pub fn from_json(payments: &[PaymentIn]) -> Vec<Payment> {
    payments
        .iter()
        .enumerate()
        .map(|(i, p)| Payment {
            line: i,
            payment_reference: p.payment_reference.trim().to_owned(),
            paid_on: p.paid_on,
            budget_line: p.budget_line.trim().to_owned(),
            amount: Pence(p.amount_pence),
            council: optional(p.council.as_deref()),
            provider_id: optional(p.provider_id.as_deref()),
            contract_id: optional(p.contract_id.as_deref()),
            adjusts_period: p.adjusts_period,
        })
        .collect()
}

/// What payments are checked against.
pub struct Rules<'a> {
    /// The budget lines of the budget in force for the period.
    pub budget_lines: &'a [String],
    /// The councils the uploader may record payments for.
    pub councils: &'a [&'a str],
    /// The financial year of the upload.
    pub year: FinancialYear,
    /// The period the payments were uploaded for (1..=12).
    pub period: i32,
    /// `/rows` for CSV (lines), `/payments` for JSON (indexes).
    pub pointer: &'a str,
}

fn is_reference(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_/.".contains(&b))
}

/// The period rule: `paid_on` within the period uploaded for, or, for an explicit
/// adjustment, within the earlier period it adjusts.
fn in_period(
    p: &Payment,
    rules: &Rules<'_>,
    label: &str,
    at: &dyn Fn(&str) -> String,
) -> Option<FieldError> {
    let period = match p.adjusts_period {
        Some(a) if !(1..rules.period).contains(&a) => {
            return Some(FieldError::new(
                at("adjusts_period"),
                "range",
                format!(
                    "{label}: an adjustment is of an earlier period of the year than P{} it is sent for: 1 to {}",
                    rules.period,
                    rules.period - 1
                ),
            ));
        }
        Some(a) => a,
        None => rules.period,
    };
    let (first, last) = rules.year.period(period as u32);
    if (first..=last).contains(&p.paid_on) {
        return None;
    }
    let how = if p.adjusts_period.is_some() {
        format!("it says it adjusts P{period} ({first} to {last})")
    } else {
        format!(
            "the payments are for P{period} ({first} to {last}); record it for the period it \
             was paid in, or, paid in an earlier period and recorded late, give that period as \
             adjusts_period"
        )
    };
    Some(FieldError::new(
        at("paid_on"),
        "range",
        format!("{label}: paid on {} but {how}", p.paid_on),
    ))
}

/// Checks every payment; each error names `<pointer>/<line>/<field>`.
pub fn check(payments: &[Payment], rules: &Rules<'_>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if payments.is_empty() {
        errors.push(FieldError::new(
            rules.pointer,
            "required",
            "no payments to record",
        ));
    }
    let csv = rules.pointer == "/rows";
    let mut seen: HashSet<(String, &str)> = HashSet::new();
    for p in payments {
        let line = p.line;
        let at = |c: &str| format!("{}/{line}/{c}", rules.pointer);
        let label = if csv {
            format!("line {line}")
        } else {
            format!("payment {line}")
        };
        check_fields(p, rules, &label, &at, &mut errors);
        errors.extend(in_period(p, rules, &label, &at));
        let council = p.council.as_deref().unwrap_or(rules.councils[0]);
        check_council_and_ids(p, council, rules, &label, &at, &mut errors);
        if is_reference(&p.payment_reference)
            && !seen.insert((p.payment_reference.clone(), council))
        {
            errors.push(FieldError::new(
                at("payment_reference"),
                "unique",
                format!(
                    "{label}: payment {} appears twice in this upload",
                    p.payment_reference
                ),
            ));
        }
    }
    errors
}

/// A payment's reference, budget line and amount (at most `Pence::MAX_PAYMENT_LINE` either
/// way).
fn check_fields(
    p: &Payment,
    rules: &Rules<'_>,
    label: &str,
    at: &dyn Fn(&str) -> String,
    errors: &mut Vec<FieldError>,
) {
    if !is_reference(&p.payment_reference) {
        errors.push(FieldError::new(
            at("payment_reference"),
            "format",
            format!("{label}: a payment reference is 1 to 64 letters, digits or - _ / ."),
        ));
    }
    if !rules.budget_lines.contains(&p.budget_line) {
        errors.push(FieldError::new(
            at("budget_line"),
            "one_of",
            format!(
                "{label}: `{}` is not a line of the budget; the lines are {}",
                p.budget_line,
                rules.budget_lines.join(", ")
            ),
        ));
    }
    let amount_field = if rules.pointer == "/rows" {
        "amount"
    } else {
        "amount_pence"
    };
    if let Err(mut e) = p.amount.check_range(
        &at(amount_field),
        Pence(-Pence::MAX_PAYMENT_LINE.0),
        Pence::MAX_PAYMENT_LINE,
    ) {
        e.message = format!("{label}: a payment line {}", e.message);
        errors.push(e);
    }
}

/// The council a payment is for (one the uploader may record for) and the provider and
/// contract it names (at most 64 characters each).
fn check_council_and_ids(
    p: &Payment,
    council: &str,
    rules: &Rules<'_>,
    label: &str,
    at: &dyn Fn(&str) -> String,
    errors: &mut Vec<FieldError>,
) {
    if !rules.councils.contains(&council) {
        errors.push(FieldError::new(
            at("council"),
            "one_of",
            format!(
                "{label}: payments here may be recorded for {} only",
                rules.councils.join(", ")
            ),
        ));
    }
    for (field, value) in [
        ("provider_id", &p.provider_id),
        ("contract_id", &p.contract_id),
    ] {
        if value.as_ref().is_some_and(|v| v.len() > 64) {
            errors.push(FieldError::new(
                at(field),
                "max_length",
                format!("{label}: at most 64 characters"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pounds_are_read_to_the_penny_and_nothing_else_is() {
        for (s, p) in [
            ("1234.56", 123_456),
            ("-12.5", -1_250),
            ("£1,234.56", 123_456),
            ("-£3", -300),
            ("0.07", 7),
            ("1,000,000.07", 100_000_007),
        ] {
            assert_eq!(parse_pounds(s), Some(Pence(p)), "{s}");
        }
        for s in [
            "", "12.345", "1,23.00", "ten", "12.", ".5", "1 000", "12,34", "--1", "£-1",
        ] {
            assert_eq!(parse_pounds(s), None, "{s}");
        }
        assert_eq!(
            parse_date("30/06/2018"),
            NaiveDate::from_ymd_opt(2018, 6, 30)
        );
        assert_eq!(parse_date("2018-06-31"), None);
    }

    #[test]
    fn a_csv_is_read_naming_each_bad_cell_by_line_and_column() {
        let file = "payment_reference,paid_on,budget_line,amount\n\
                    LIV-1,2018-06-01,placements,1000.00\n\
                    LIV-2,31/06/2018,placements,12.345\n";
        let (read, errors) = read_csv(file.as_bytes()).unwrap();
        assert_eq!(read.len(), 1);
        let got: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.rule.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![("/rows/3/paid_on", "format"), ("/rows/3/amount", "format")]
        );
        assert!(
            errors[1].message.starts_with("line 3: `12.345`"),
            "{}",
            errors[1].message
        );
        let errors = read_csv(b"payment_reference,paid_on,budget_line,memo\n").unwrap_err();
        let got: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.rule.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("/rows/1/memo", "unknown_field"),
                ("/rows/1/amount", "required")
            ]
        );
        // Columns in any order, a byte-order mark, quoted cells and optional columns.
        let ok = read_csv(
            "\u{feff}Amount,budget_line,paid_on,payment_reference,council\n\"£1,000.00\",staffing,2018-04-30,A-1,\n"
                .as_bytes(),
        )
        .unwrap()
        .0;
        assert_eq!(ok[0].amount, Pence(100_000));
        assert_eq!((ok[0].line, ok[0].council.as_deref()), (2, None));
    }

    #[test]
    fn payments_keep_the_rules() {
        let d = |m, day| NaiveDate::from_ymd_opt(2018, m, day).unwrap();
        let p = |line, reference: &str, line_name: &str, council: Option<&str>| Payment {
            line,
            payment_reference: reference.into(),
            paid_on: d(6, 1),
            budget_line: line_name.into(),
            amount: Pence(100),
            council: council.map(str::to_owned),
            provider_id: None,
            contract_id: None,
            adjusts_period: None,
        };
        let lines = vec!["placements".to_owned(), "inter_agency_fees".to_owned()];
        let rules = Rules {
            budget_lines: &lines,
            councils: &["E08000014"],
            year: FinancialYear(2018),
            period: 3,
            pointer: "/rows",
        };
        let payments = vec![
            p(2, "S-1", "placements", None),
            p(3, "S-1", "inter_agency_fees", Some("E08000014")),
            p(4, "S 2", "staffing", Some("E08000012")),
        ];
        let got: Vec<(String, String)> = check(&payments, &rules)
            .into_iter()
            .map(|e| (e.field, e.rule))
            .collect();
        assert_eq!(
            got,
            vec![
                ("/rows/3/payment_reference".into(), "unique".into()),
                ("/rows/4/payment_reference".into(), "format".into()),
                ("/rows/4/budget_line".into(), "one_of".into()),
                ("/rows/4/council".into(), "one_of".into()),
            ]
        );
    }

    fn payment(line: usize, paid_on: NaiveDate, amount: i64, adjusts: Option<i32>) -> Payment {
        Payment {
            line,
            payment_reference: format!("R-{line}"),
            paid_on,
            budget_line: "placements".into(),
            amount: Pence(amount),
            council: None,
            provider_id: None,
            contract_id: None,
            adjusts_period: adjusts,
        }
    }

    fn rules_p3(lines: &[String]) -> Rules<'_> {
        Rules {
            budget_lines: lines,
            councils: &["E08000014"],
            year: FinancialYear(2018),
            period: 3,
            pointer: "/rows",
        }
    }

    fn fields(errors: Vec<FieldError>) -> Vec<(String, String)> {
        errors.into_iter().map(|e| (e.field, e.rule)).collect()
    }

    #[test]
    fn a_payment_belongs_to_the_period_it_is_uploaded_for_unless_it_is_an_explicit_adjustment() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let lines = vec!["placements".to_owned()];
        let payments = vec![
            // June's first and last days: P3.
            payment(2, d(2018, 6, 1), 100, None),
            payment(3, d(2018, 6, 30), 100, None),
            // December (P9) and May (P2) sent for June: refused.
            payment(4, d(2018, 12, 5), 100, None),
            payment(5, d(2018, 5, 31), 100, None),
            // May's payment recorded late, saying so: counted in June, adjusting P2.
            payment(6, d(2018, 5, 31), 100, Some(2)),
            // An adjustment whose date is not in the period it names.
            payment(7, d(2018, 4, 30), 100, Some(2)),
            // An adjustment of the period itself or a later one is no adjustment.
            payment(8, d(2018, 6, 10), 100, Some(3)),
            payment(9, d(2018, 12, 5), 100, Some(9)),
            payment(10, d(2018, 6, 10), 100, Some(0)),
        ];
        assert_eq!(
            fields(check(&payments, &rules_p3(&lines))),
            vec![
                ("/rows/4/paid_on".into(), "range".into()),
                ("/rows/5/paid_on".into(), "range".into()),
                ("/rows/7/paid_on".into(), "range".into()),
                ("/rows/8/adjusts_period".into(), "range".into()),
                ("/rows/9/adjusts_period".into(), "range".into()),
                ("/rows/10/adjusts_period".into(), "range".into()),
            ]
        );
        // Read from CSV: the optional column, and a cell that is no period.
        let (read, errors) = read_csv(
            b"payment_reference,paid_on,budget_line,amount,adjusts_period\n\
              A-1,2018-05-02,placements,1.00,2\n\
              A-2,2018-06-02,placements,1.00,\n\
              A-3,2018-06-02,placements,1.00,May\n",
        )
        .unwrap();
        assert_eq!(
            read.iter().map(|p| p.adjusts_period).collect::<Vec<_>>(),
            vec![Some(2), None]
        );
        assert_eq!(
            fields(errors),
            vec![("/rows/4/adjusts_period".into(), "format".into())]
        );
    }

    #[test]
    fn a_payment_line_is_at_most_ten_million_pounds_either_way() {
        let june = NaiveDate::from_ymd_opt(2018, 6, 1).unwrap();
        let max = Pence::MAX_PAYMENT_LINE.0;
        let lines = vec!["placements".to_owned()];
        let payments: Vec<Payment> = [max, -max, max + 1, -max - 1, i64::MIN, i64::MAX]
            .into_iter()
            .enumerate()
            .map(|(i, a)| payment(i, june, a, None))
            .collect();
        let rules = Rules {
            pointer: "/payments",
            ..rules_p3(&lines)
        };
        assert_eq!(
            fields(check(&payments, &rules)),
            (2..6)
                .map(|i| (format!("/payments/{i}/amount_pence"), "range".to_owned()))
                .collect::<Vec<_>>()
        );
        // £10,000,000.01 in a file is read, then refused by the same bound.
        let (read, _) = read_csv(
            b"payment_reference,paid_on,budget_line,amount\nA-1,2018-06-01,placements,\"10,000,000.01\"\n",
        )
        .unwrap();
        assert_eq!(
            fields(check(&read, &rules_p3(&lines))),
            vec![("/rows/2/amount".into(), "range".into())]
        );
    }
}
