//! Closed periods.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hub_platform::{
    calendar::FinancialYear,
    db::{DbConnection, DbError},
};

use crate::{
    domain::periods::{AccountingPeriod, Closure, PeriodStatus},
    schema::period_closures,
};

same_fields! {
    ClosureRow(period_closures) <-> Closure {
        partnership: String,
        year: i32,
        period: i32,
        closed_by: String,
        closed_org: String,
        closed_at: NaiveDateTime,
    }
}

/// The closed periods of a partnership's year, in order.
pub fn closed(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
) -> Result<Vec<Closure>, DbError> {
    Ok(period_closures::table
        .filter(period_closures::partnership.eq(partnership))
        .filter(period_closures::year.eq(year))
        .order(period_closures::period.asc())
        .select(ClosureRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Closure::from)
        .collect())
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

/// A period of a partnership's year and whether it is closed.
pub fn period(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
    period: i32,
) -> Result<AccountingPeriod, DbError> {
    let closed: bool = diesel::select(diesel::dsl::exists(
        period_closures::table
            .filter(period_closures::partnership.eq(partnership))
            .filter(period_closures::year.eq(year))
            .filter(period_closures::period.eq(period)),
    ))
    .get_result(conn)?;
    Ok(AccountingPeriod {
        partnership: partnership.to_owned(),
        year: FinancialYear(year),
        period,
        status: if closed {
            PeriodStatus::Closed
        } else {
            PeriodStatus::Open
        },
    })
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

/// Records a period's closure.
pub fn insert(conn: &mut DbConnection, closure: Closure) -> Result<(), DbError> {
    diesel::insert_into(period_closures::table)
        .values(ClosureRow::from(closure))
        .execute(conn)?;
    Ok(())
}
