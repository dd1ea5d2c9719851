//! Uploads of payments and the payments recorded.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hub_platform::db::{DbConnection, DbError};

use crate::schema::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = uploads)]
pub struct UploadRow {
    pub id: String,
    pub partnership: String,
    pub year: i32,
    pub requested_period: i32,
    pub posted_period: i32,
    pub format: String,
    pub content_sha256: String,
    pub rows_read: i32,
    pub applied: i32,
    pub already_recorded: i32,
    pub applied_pence: i64,
    pub uploaded_by: String,
    pub uploaded_org: String,
    pub uploaded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = payments)]
pub struct PaymentRow {
    pub id: String,
    pub upload_id: String,
    pub partnership: String,
    pub council: String,
    pub year: i32,
    pub period: i32,
    pub adjusts_period: Option<i32>,
    pub budget_line: String,
    pub amount_pence: i64,
    pub payment_reference: String,
    pub paid_on: NaiveDate,
    pub provider_id: Option<String>,
    pub contract_id: Option<String>,
    pub line_no: i32,
    pub created_at: NaiveDateTime,
}

pub fn upload(conn: &mut DbConnection, id: &str) -> Result<Option<UploadRow>, DbError> {
    Ok(uploads::table
        .find(id)
        .select(UploadRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn upload_by_hash(
    conn: &mut DbConnection,
    partnership: &str,
    sha256: &str,
) -> Result<Option<UploadRow>, DbError> {
    Ok(uploads::table
        .filter(uploads::partnership.eq(partnership))
        .filter(uploads::content_sha256.eq(sha256))
        .select(UploadRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn insert_upload(conn: &mut DbConnection, row: &UploadRow) -> Result<(), DbError> {
    diesel::insert_into(uploads::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn payment_by_reference(
    conn: &mut DbConnection,
    partnership: &str,
    council: &str,
    reference: &str,
) -> Result<Option<PaymentRow>, DbError> {
    Ok(payments::table
        .filter(payments::partnership.eq(partnership))
        .filter(payments::council.eq(council))
        .filter(payments::payment_reference.eq(reference))
        .select(PaymentRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn insert_payment(conn: &mut DbConnection, row: &PaymentRow) -> Result<(), DbError> {
    diesel::insert_into(payments::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Adds payments to the payment totals (callers run this in the transaction that records
/// them).
pub fn add_to_totals(conn: &mut DbConnection, rows: &[PaymentRow]) -> Result<(), DbError> {
    let mut deltas: std::collections::BTreeMap<(&str, i32, i32, &str, &str), i64> =
        std::collections::BTreeMap::new();
    for p in rows {
        *deltas
            .entry((&p.partnership, p.year, p.period, &p.budget_line, &p.council))
            .or_default() += p.amount_pence;
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

pub fn payments_of_upload(
    conn: &mut DbConnection,
    upload_id: &str,
) -> Result<Vec<PaymentRow>, DbError> {
    Ok(payments::table
        .filter(payments::upload_id.eq(upload_id))
        .order(payments::line_no.asc())
        .select(PaymentRow::as_select())
        .load(conn)?)
}

/// A partnership's payments for a year, optionally one council's, posted in `periods`.
pub fn payments_in(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
    periods: std::ops::RangeInclusive<i32>,
    council: Option<&str>,
) -> Result<Vec<PaymentRow>, DbError> {
    let mut q = payments::table
        .filter(payments::partnership.eq(partnership))
        .filter(payments::year.eq(year))
        .filter(payments::period.between(*periods.start(), *periods.end()))
        .into_boxed();
    if let Some(c) = council {
        q = q.filter(payments::council.eq(c.to_owned()));
    }
    Ok(q.order((
        payments::period.asc(),
        payments::council.asc(),
        payments::payment_reference.asc(),
    ))
    .select(PaymentRow::as_select())
    .load(conn)?)
}
