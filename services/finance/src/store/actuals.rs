//! Uploads of payments and the payments recorded.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hub_platform::{
    Pence,
    db::{DbConnection, DbError},
};

use crate::{
    domain::actuals::{RecordedPayment, Upload, UploadFormat},
    ids::{PaymentId, UploadId},
    schema::*,
};

same_fields! {
    UploadRow(uploads) <-> Upload {
        id: UploadId,
        partnership: String,
        year: i32,
        requested_period: i32,
        posted_period: i32,
        format: UploadFormat,
        content_sha256: String,
        rows_read: i32,
        applied: i32,
        already_recorded: i32,
        applied_pence: Pence,
        uploaded_by: String,
        uploaded_org: String,
        uploaded_at: NaiveDateTime,
    }
}

same_fields! {
    PaymentRow(payments) <-> RecordedPayment {
        id: PaymentId,
        upload_id: UploadId,
        partnership: String,
        council: String,
        year: i32,
        period: i32,
        adjusts_period: Option<i32>,
        budget_line: String,
        amount_pence: Pence,
        payment_reference: String,
        paid_on: NaiveDate,
        provider_id: Option<String>,
        contract_id: Option<String>,
        line_no: i32,
        created_at: NaiveDateTime,
    }
}

pub(super) fn payments_of(rows: Vec<PaymentRow>) -> Vec<RecordedPayment> {
    rows.into_iter().map(RecordedPayment::from).collect()
}

/// An upload by its id.
pub fn upload(conn: &mut DbConnection, id: UploadId) -> Result<Option<Upload>, DbError> {
    Ok(uploads::table
        .find(id)
        .select(UploadRow::as_select())
        .first(conn)
        .optional()?
        .map(Upload::from))
}

/// A partnership's upload of the same content, if there was one.
pub fn upload_by_hash(
    conn: &mut DbConnection,
    partnership: &str,
    sha256: &str,
) -> Result<Option<Upload>, DbError> {
    Ok(uploads::table
        .filter(uploads::partnership.eq(partnership))
        .filter(uploads::content_sha256.eq(sha256))
        .select(UploadRow::as_select())
        .first(conn)
        .optional()?
        .map(Upload::from))
}

/// Records an upload (its payments go in with [`insert_payment`]).
pub fn insert_upload(conn: &mut DbConnection, upload: Upload) -> Result<(), DbError> {
    diesel::insert_into(uploads::table)
        .values(UploadRow::from(upload))
        .execute(conn)?;
    Ok(())
}

/// The payment a council recorded under a reference, if any.
pub fn payment_by_reference(
    conn: &mut DbConnection,
    partnership: &str,
    council: &str,
    reference: &str,
) -> Result<Option<RecordedPayment>, DbError> {
    Ok(payments::table
        .filter(payments::partnership.eq(partnership))
        .filter(payments::council.eq(council))
        .filter(payments::payment_reference.eq(reference))
        .select(PaymentRow::as_select())
        .first(conn)
        .optional()?
        .map(RecordedPayment::from))
}

/// Records a payment (callers add it to the totals in the same transaction).
pub fn insert_payment(conn: &mut DbConnection, payment: RecordedPayment) -> Result<(), DbError> {
    diesel::insert_into(payments::table)
        .values(PaymentRow::from(payment))
        .execute(conn)?;
    Ok(())
}

/// Adds payments to the payment totals (callers run this in the transaction that records
/// them).
pub fn add_to_totals(conn: &mut DbConnection, rows: &[RecordedPayment]) -> Result<(), DbError> {
    let mut deltas: std::collections::BTreeMap<(&str, i32, i32, &str, &str), i64> =
        std::collections::BTreeMap::new();
    for p in rows {
        *deltas
            .entry((&p.partnership, p.year, p.period, &p.budget_line, &p.council))
            .or_default() += p.amount_pence.0;
    }
    use payment_totals as t;
    for ((partnership, year, period, budget_line, council), delta) in deltas {
        let updated = diesel::update(
            t::table
                .filter(t::partnership.eq(partnership))
                .filter(t::year.eq(year))
                .filter(t::period.eq(period))
                .filter(t::budget_line.eq(budget_line))
                .filter(t::council.eq(council)),
        )
        .set(t::amount_pence.eq(t::amount_pence + delta))
        .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(t::table)
                .values((
                    t::partnership.eq(partnership),
                    t::year.eq(year),
                    t::period.eq(period),
                    t::budget_line.eq(budget_line),
                    t::council.eq(council),
                    t::amount_pence.eq(delta),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// The payments an upload recorded, in line order.
pub fn payments_of_upload(
    conn: &mut DbConnection,
    upload_id: UploadId,
) -> Result<Vec<RecordedPayment>, DbError> {
    Ok(payments_of(
        payments::table
            .filter(payments::upload_id.eq(upload_id))
            .order(payments::line_no.asc())
            .select(PaymentRow::as_select())
            .load(conn)?,
    ))
}

/// A partnership's payments for a year, optionally one council's, posted in `periods`.
pub fn payments_in(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
    periods: std::ops::RangeInclusive<i32>,
    council: Option<&str>,
) -> Result<Vec<RecordedPayment>, DbError> {
    let mut q = payments::table
        .filter(payments::partnership.eq(partnership))
        .filter(payments::year.eq(year))
        .filter(payments::period.between(*periods.start(), *periods.end()))
        .into_boxed();
    if let Some(c) = council {
        q = q.filter(payments::council.eq(c.to_owned()));
    }
    Ok(payments_of(
        q.order((
            payments::period.asc(),
            payments::council.asc(),
            payments::payment_reference.asc(),
        ))
        .select(PaymentRow::as_select())
        .load(conn)?,
    ))
}
