//! Tables and queries of the finance service.

pub mod schema {
    diesel::table! {
        commitments (id) {
            id -> Text,
            partnership -> Text,
            council -> Text,
            source_kind -> Text,
            source_id -> Text,
            provider_id -> Text,
            year -> Integer,
            period -> Integer,
            days -> Integer,
            weekly_rate_pence -> BigInt,
            amount_pence -> BigInt,
            created_at -> Timestamp,
        }
    }
}

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hub_platform::db::{DbConnection, DbError};
use schema::*;

/// One period's commitment of one source (a placement).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = commitments)]
pub struct CommitmentRow {
    pub id: String,
    pub partnership: String,
    pub council: String,
    pub source_kind: String,
    pub source_id: String,
    pub provider_id: String,
    pub year: i32,
    pub period: i32,
    pub days: i32,
    pub weekly_rate_pence: i64,
    pub amount_pence: i64,
    pub created_at: NaiveDateTime,
}

/// Whether a source already has commitment lines.
pub fn has_lines(
    conn: &mut DbConnection,
    source_kind: &str,
    source_id: &str,
) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        commitments::table
            .filter(commitments::source_kind.eq(source_kind))
            .filter(commitments::source_id.eq(source_id)),
    ))
    .get_result(conn)?)
}

/// Writes lines one by one (batch inserts do not go through the multi-backend connection);
/// callers run this inside their transaction.
pub fn insert_lines(conn: &mut DbConnection, lines: &[CommitmentRow]) -> Result<(), DbError> {
    for line in lines {
        diesel::insert_into(commitments::table)
            .values(line)
            .execute(conn)?;
    }
    Ok(())
}

/// A partnership's lines for a financial year, in period order.
pub fn ledger_lines(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
) -> Result<Vec<CommitmentRow>, DbError> {
    Ok(commitments::table
        .filter(commitments::partnership.eq(partnership))
        .filter(commitments::year.eq(year))
        .order((
            commitments::period.asc(),
            commitments::created_at.asc(),
            commitments::id.asc(),
        ))
        .select(CommitmentRow::as_select())
        .load(conn)?)
}
