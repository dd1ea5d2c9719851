//! Closed periods.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hub_platform::{
    Problem,
    calendar::FinancialYear,
    db::{DbConnection, DbError},
};

use crate::schema::period_closures;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = period_closures)]
pub struct ClosureRow {
    pub partnership: String,
    pub year: i32,
    pub period: i32,
    pub closed_by: String,
    pub closed_org: String,
    pub closed_at: NaiveDateTime,
}

/// The closed periods of a partnership's year, in order.
pub fn closed(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
) -> Result<Vec<ClosureRow>, DbError> {
    Ok(period_closures::table
        .filter(period_closures::partnership.eq(partnership))
        .filter(period_closures::year.eq(year))
        .order(period_closures::period.asc())
        .select(ClosureRow::as_select())
        .load(conn)?)
}

/// Every closed period of a partnership, any year.
pub fn closed_all(
    conn: &mut DbConnection,
    partnership: &str,
) -> Result<std::collections::BTreeSet<(FinancialYear, u32)>, DbError> {
    Ok(period_closures::table
        .filter(period_closures::partnership.eq(partnership))
        .select((period_closures::year, period_closures::period))
        .load::<(i32, i32)>(conn)?
        .into_iter()
        .map(|(y, p)| (FinancialYear(y), p as u32))
        .collect())
}

pub fn is_closed(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
    period: i32,
) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        period_closures::table
            .filter(period_closures::partnership.eq(partnership))
            .filter(period_closures::year.eq(year))
            .filter(period_closures::period.eq(period)),
    ))
    .get_result(conn)?)
}

/// 409 `period-closed` if the period is closed.
pub fn ensure_open(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
    period: i32,
) -> Result<(), DbError> {
    if is_closed(conn, partnership, year, period)? {
        return Err(Problem::conflict(
            "period-closed",
            format!(
                "P{period} of {} for {partnership} is closed: it cannot change",
                FinancialYear(year).label()
            ),
        )
        .into());
    }
    Ok(())
}

/// The first period of the year after `period` that is not closed, if any.
pub fn next_open(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
    period: i32,
) -> Result<Option<i32>, DbError> {
    let closed: Vec<i32> = closed(conn, partnership, year)?
        .into_iter()
        .map(|c| c.period)
        .collect();
    Ok((period + 1..=12).find(|p| !closed.contains(p)))
}

pub fn insert(conn: &mut DbConnection, row: &ClosureRow) -> Result<(), DbError> {
    diesel::insert_into(period_closures::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}
