//! Tables and queries of the finance service.

pub mod actuals;
pub mod budgets;
pub mod facts;
pub mod periods;
pub mod reports;

use crate::schema::*;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hub_platform::db::{DbConnection, DbError};

use crate::domain::ledger::{Attribution, SourceKind};

/// One source's cost for one council in one period at one rate, or an adjustment to a
/// closed period (`adjusts_*`, with the fact that caused it).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = commitment_lines)]
pub struct CommitmentRow {
    pub id: String,
    pub partnership: String,
    pub council: String,
    pub attribution: Attribution,
    pub budget_line: String,
    pub source_kind: SourceKind,
    pub source_id: String,
    pub contract_id: Option<String>,
    pub bed: Option<i32>,
    pub provider_id: String,
    pub year: i32,
    pub period: i32,
    pub from_date: NaiveDate,
    pub to_date: NaiveDate,
    pub days: i32,
    pub weekly_rate_pence: i64,
    pub extras_weekly_pence: i64,
    pub amount_pence: i64,
    pub created_at: NaiveDateTime,
    /// The closed period an adjustment line adjusts (year and period).
    pub adjusts_year: Option<i32>,
    pub adjusts_period: Option<i32>,
    /// The event that caused an adjustment: its type and id.
    pub cause_event_type: Option<String>,
    pub cause_event_id: Option<String>,
}

/// The key of a ledger total: partnership, year, period, budget line, council, attribution.
type TotalKey = (String, i32, i32, String, String, Attribution);

fn key(l: &CommitmentRow) -> TotalKey {
    (
        l.partnership.clone(),
        l.year,
        l.period,
        l.budget_line.clone(),
        l.council.clone(),
        l.attribution,
    )
}

/// A source's lines as posted.
pub fn source_lines(
    conn: &mut DbConnection,
    source_kind: SourceKind,
    source_id: &str,
) -> Result<Vec<CommitmentRow>, DbError> {
    Ok(commitment_lines::table
        .filter(commitment_lines::source_kind.eq(source_kind))
        .filter(commitment_lines::source_id.eq(source_id))
        .select(CommitmentRow::as_select())
        .load(conn)?)
}

/// Replaces a source's posted lines `old` (as [`source_lines`] read them), but those whose
/// ids are in `kept`, with `lines`, and moves the ledger totals by the difference. Callers run
/// this inside their transaction, under the source's lock. Rows go one by one (batch inserts
/// do not go through the multi-backend connection).
pub fn replace_lines(
    conn: &mut DbConnection,
    source_kind: SourceKind,
    source_id: &str,
    old: &[CommitmentRow],
    kept: &std::collections::BTreeSet<&str>,
    lines: &[CommitmentRow],
) -> Result<(), DbError> {
    let mut deltas: std::collections::BTreeMap<TotalKey, i64> = std::collections::BTreeMap::new();
    for l in old.iter().filter(|l| !kept.contains(l.id.as_str())) {
        *deltas.entry(key(l)).or_default() -= l.amount_pence;
    }
    for l in lines {
        *deltas.entry(key(l)).or_default() += l.amount_pence;
    }
    let of_source = commitment_lines::table
        .filter(commitment_lines::source_kind.eq(source_kind))
        .filter(commitment_lines::source_id.eq(source_id));
    if kept.is_empty() {
        diesel::delete(of_source).execute(conn)?;
    } else {
        diesel::delete(
            of_source.filter(commitment_lines::id.ne_all(kept.iter().copied().collect::<Vec<_>>())),
        )
        .execute(conn)?;
    }
    for line in lines {
        diesel::insert_into(commitment_lines::table)
            .values(line)
            .execute(conn)?;
    }
    for ((partnership, year, period, budget_line, council, attribution), delta) in deltas {
        if delta == 0 {
            continue;
        }
        use ledger_totals as t;
        let at = t::table
            .filter(t::partnership.eq(&partnership))
            .filter(t::year.eq(year))
            .filter(t::period.eq(period))
            .filter(t::budget_line.eq(&budget_line))
            .filter(t::council.eq(&council))
            .filter(t::attribution.eq(&attribution));
        let updated = diesel::update(at)
            .set(t::amount_pence.eq(t::amount_pence + delta))
            .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(t::table)
                .values((
                    t::partnership.eq(&partnership),
                    t::year.eq(year),
                    t::period.eq(period),
                    t::budget_line.eq(&budget_line),
                    t::council.eq(&council),
                    t::attribution.eq(&attribution),
                    t::amount_pence.eq(delta),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// A partnership's lines for a financial year, in period order.
pub fn ledger_lines(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
) -> Result<Vec<CommitmentRow>, DbError> {
    Ok(commitment_lines::table
        .filter(commitment_lines::partnership.eq(partnership))
        .filter(commitment_lines::year.eq(year))
        .order((
            commitment_lines::period.asc(),
            commitment_lines::source_kind.asc(),
            commitment_lines::source_id.asc(),
            commitment_lines::bed.asc(),
            commitment_lines::from_date.asc(),
            commitment_lines::id.asc(),
        ))
        .select(CommitmentRow::as_select())
        .load(conn)?)
}

/// The last financial year a partnership's open-ended placements are committed to, if one was
/// opened beyond the years they start in.
pub fn through_year(conn: &mut DbConnection, partnership: &str) -> Result<Option<i32>, DbError> {
    Ok(ledger_years::table
        .find(partnership)
        .select(ledger_years::through_year)
        .first(conn)
        .optional()?)
}
