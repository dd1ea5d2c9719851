//! The rules payments are held to before any is recorded: a reference, a line of the budget,
//! a bounded amount, a council the uploader may record for, and the period rule.

use std::collections::HashSet;

use hub_platform::{FieldError, Pence, calendar::FinancialYear};

use super::Payment;

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
    use crate::domain::actuals::read_csv;
    use chrono::NaiveDate;

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
