//! Recording an upload of payments: checked whole against the budget in force and the
//! period rule, posted to the period it is for or (a closed one, asked to) the next open
//! one, each payment counted once per council and reference, and the totals kept in step.
//! `api::actuals` reads the body and answers; this records.

use chrono::NaiveDateTime;
use hub_platform::{
    FieldError, Problem,
    calendar::FinancialYear,
    db::{DbConnection, DbError},
};

use crate::{
    domain::actuals::{self, Payment, RecordedPayment, Rules, Upload, UploadFormat},
    ids::{PaymentId, UploadId},
    store::{self, actuals as store_actuals, budgets, periods},
};

/// What an upload is for: the partnership, year and period, and whether a closed period's
/// payments go to the next open one.
pub struct Target {
    pub partnership: String,
    pub year: i32,
    pub period: i32,
    pub adjust: bool,
}

/// An upload's body read: what it is for, its payments, the cells that could not be read,
/// and how its errors point at a payment (`/rows` for CSV, `/payments` for JSON).
pub struct Body {
    pub target: Target,
    pub payments: Vec<Payment>,
    pub read_errors: Vec<FieldError>,
    pub format: UploadFormat,
    pub pointer: &'static str,
}

/// Who sends an upload, and for which councils.
pub struct Sender {
    pub councils: Vec<&'static str>,
    pub sub: String,
    pub org: String,
}

/// Records a new upload's payments whole, or refuses it naming every bad line.
pub fn record(
    conn: &mut DbConnection,
    partnership: &'static str,
    body: Body,
    sha: String,
    sender: &Sender,
) -> Result<(Upload, Vec<RecordedPayment>), DbError> {
    let Body {
        target,
        payments,
        read_errors,
        format,
        pointer,
    } = body;
    let fy = FinancialYear(target.year);
    let budget = budgets::budget_for(conn, partnership, target.year)?.ok_or_else(|| {
        Problem::conflict(
            "no-budget",
            format!(
                "{partnership} has no budget for {}: set it before recording payments",
                fy.label()
            ),
        )
    })?;
    let posted = posted_period(conn, partnership, &target)?;
    let lines: Vec<String> = budgets::version_for_period(conn, budget.id, posted)?
        .map(|v| v.lines.into_iter().map(|l| l.budget_line).collect())
        .unwrap_or_default();
    let rules = Rules {
        budget_lines: &lines,
        councils: &sender.councils,
        year: fy,
        period: target.period,
        pointer,
    };
    let mut errors = read_errors;
    errors.extend(actuals::check(&payments, &rules));
    if !errors.is_empty() {
        return Err(Problem::validation(actuals::by_line(errors)).into());
    }
    let upload_id = UploadId::new();
    let now = store::now();
    let posting = Posting {
        partnership,
        upload_id,
        target: &target,
        posted,
        now,
    };
    let (fresh, already) = new_payments(conn, &payments, &sender.councils, &posting, pointer)?;
    let upload = Upload {
        id: upload_id,
        partnership: partnership.to_owned(),
        year: target.year,
        requested_period: target.period,
        posted_period: posted,
        format,
        content_sha256: sha,
        rows_read: payments.len() as i32,
        applied: fresh.len() as i32,
        already_recorded: already,
        // At most MAX_ROWS lines of at most Pence::MAX_PAYMENT_LINE: far inside i64.
        applied_pence: fresh.iter().map(|p| p.amount_pence).sum(),
        uploaded_by: sender.sub.clone(),
        uploaded_org: sender.org.clone(),
        uploaded_at: now,
    };
    store_actuals::insert_upload(conn, upload.clone())?;
    for p in &fresh {
        store_actuals::insert_payment(conn, p.clone())?;
    }
    store_actuals::add_to_totals(conn, &fresh)?;
    Ok((upload, fresh))
}

/// The period an upload is counted in: the one it is for, or for a closed period with
/// `adjust=true` the next open one (409 `period-closed` without it, `year-closed` with
/// none open).
fn posted_period(
    conn: &mut DbConnection,
    partnership: &str,
    target: &Target,
) -> Result<i32, DbError> {
    let period = periods::period(conn, partnership, target.year, target.period)?;
    let next = periods::next_open(conn, partnership, target.year, target.period)?;
    Ok(period.posting(target.adjust, next)?)
}

/// Where an upload's payments go.
struct Posting<'a> {
    partnership: &'a str,
    upload_id: UploadId,
    target: &'a Target,
    posted: i32,
    now: NaiveDateTime,
}

/// The payments not recorded before, as rows, and how many were (the same payment sent
/// again); a payment recorded before that differs is an error naming its line.
fn new_payments(
    conn: &mut DbConnection,
    payments: &[Payment],
    councils: &[&str],
    posting: &Posting<'_>,
    pointer: &str,
) -> Result<(Vec<RecordedPayment>, i32), DbError> {
    let Posting {
        partnership,
        target,
        posted,
        ..
    } = *posting;
    let mut errors = Vec::new();
    let mut fresh: Vec<RecordedPayment> = Vec::new();
    let mut already = 0;
    for p in payments {
        let council = p.council.clone().unwrap_or_else(|| councils[0].to_owned());
        match store_actuals::payment_by_reference(conn, partnership, &council, &p.payment_reference)? {
            Some(old) if old.is_resent(p, target.year) => already += 1,
            Some(old) => errors.push(FieldError::new(
                format!("{pointer}/{}/payment_reference", p.line),
                "conflict",
                format!(
                    "payment {} of {council} was recorded before ({} on {} for P{} {}) and differs: correct it with a new payment",
                    p.payment_reference,
                    old.amount_pence,
                    old.budget_line,
                    old.period,
                    FinancialYear(old.year).label()
                ),
            )),
            None => fresh.push(RecordedPayment {
                id: PaymentId::new(),
                upload_id: posting.upload_id,
                partnership: partnership.to_owned(),
                council,
                year: target.year,
                period: posted,
                // The row's own adjustment, else the closed period the upload was for.
                adjusts_period: p
                    .adjusts_period
                    .or((posted != target.period).then_some(target.period)),
                budget_line: p.budget_line.clone(),
                amount_pence: p.amount,
                payment_reference: p.payment_reference.clone(),
                paid_on: p.paid_on,
                provider_id: p.provider_id.clone(),
                contract_id: p.contract_id.clone(),
                line_no: p.line as i32,
                created_at: posting.now,
            }),
        }
    }
    if errors.is_empty() {
        Ok((fresh, already))
    } else {
        Err(Problem::validation(errors).into())
    }
}
