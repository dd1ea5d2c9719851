//! Reading payments: a CSV file (a header, then one payment a line; an unreadable cell named
//! by line and column) or a JSON list.

use std::collections::HashMap;

use chrono::NaiveDate;
use hub_platform::{FieldError, Pence};

use super::{MAX_ROWS, OPTIONAL_COLUMNS, Payment, PaymentIn, REQUIRED_COLUMNS};

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
/// read so that [`check`](super::check()) can name their problems too.
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
            amount: p.amount_pence,
            council: optional(p.council.as_deref()),
            provider_id: optional(p.provider_id.as_deref()),
            contract_id: optional(p.contract_id.as_deref()),
            adjusts_period: p.adjusts_period,
        })
        .collect()
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
}
