//! Tables and queries of the finance service.
//!
//! Rows (diesel's `Queryable`/`Insertable` structs) stay in here: each store function returns
//! domain types and takes domain values, converted by one `From` per row.

/// A row and the domain type it is, field for field, both ways (the row's fields are the
/// table's columns; the conversion is the row's one `From` each way).
macro_rules! same_fields {
    ($(#[$m:meta])* $row:ident($table:ident) <-> $domain:ident { $($field:ident: $ty:ty,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Queryable, Selectable, Insertable)]
        #[diesel(table_name = $table)]
        pub(crate) struct $row {
            $(pub(crate) $field: $ty,)+
        }

        impl From<$row> for $domain {
            fn from(r: $row) -> Self {
                Self { $($field: r.$field,)+ }
            }
        }

        impl From<$domain> for $row {
            fn from(d: $domain) -> Self {
                Self { $($field: d.$field,)+ }
            }
        }
    };
}

pub mod actuals;
pub mod budgets;
pub mod facts;
pub mod periods;
pub mod reports;

use crate::schema::*;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hub_platform::{
    Pence,
    db::{DbConnection, DbError},
};

use crate::{
    domain::{
        ledger::{Attribution, SourceKind},
        lines::CommitmentLine,
    },
    ids::{ContractId, LineId, SourceId},
};

/// Now, as rows record it (UTC, no zone).
pub(crate) fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

same_fields! {
    /// One source's cost for one council in one period at one rate, or an adjustment to a
    /// closed period (`adjusts_*`, with the fact that caused it).
    CommitmentRow(commitment_lines) <-> CommitmentLine {
        id: LineId,
        partnership: String,
        council: String,
        attribution: Attribution,
        budget_line: String,
        source_kind: SourceKind,
        source_id: SourceId,
        contract_id: Option<ContractId>,
        bed: Option<i32>,
        provider_id: String,
        year: i32,
        period: i32,
        from_date: NaiveDate,
        to_date: NaiveDate,
        days: i32,
        weekly_rate_pence: Pence,
        extras_weekly_pence: Pence,
        amount_pence: Pence,
        created_at: NaiveDateTime,
        adjusts_year: Option<i32>,
        adjusts_period: Option<i32>,
        cause_event_type: Option<String>,
        cause_event_id: Option<String>,
    }
}

/// The key of a ledger total: partnership, year, period, budget line, council, attribution.
type TotalKey = (String, i32, i32, String, String, Attribution);

fn key(l: &CommitmentLine) -> TotalKey {
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
    source_id: SourceId,
) -> Result<Vec<CommitmentLine>, DbError> {
    Ok(commitment_lines::table
        .filter(commitment_lines::source_kind.eq(source_kind))
        .filter(commitment_lines::source_id.eq(source_id))
        .select(CommitmentRow::as_select())
        .load(conn)?
        .into_iter()
        .map(CommitmentLine::from)
        .collect())
}

/// Replaces a source's posted lines `old` (as [`source_lines`] read them), but those whose
/// ids are in `kept`, with `lines`, and moves the ledger totals by the difference. Callers run
/// this inside their transaction, under the source's lock. Rows go one by one (batch inserts
/// do not go through the multi-backend connection).
pub fn replace_lines(
    conn: &mut DbConnection,
    source_kind: SourceKind,
    source_id: SourceId,
    old: &[CommitmentLine],
    kept: &std::collections::BTreeSet<LineId>,
    lines: &[CommitmentLine],
) -> Result<(), DbError> {
    let mut deltas: std::collections::BTreeMap<TotalKey, i64> = std::collections::BTreeMap::new();
    for l in old.iter().filter(|l| !kept.contains(&l.id)) {
        *deltas.entry(key(l)).or_default() -= l.amount_pence.0;
    }
    for l in lines {
        *deltas.entry(key(l)).or_default() += l.amount_pence.0;
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
            .values(CommitmentRow::from(line.clone()))
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
) -> Result<Vec<CommitmentLine>, DbError> {
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
        .load(conn)?
        .into_iter()
        .map(CommitmentLine::from)
        .collect())
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

/// Opens a partnership's ledger through `year` (open-ended placements are committed to its
/// end); false if it was open that far already.
pub fn open_ledger_through(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
) -> Result<bool, DbError> {
    match through_year(conn, partnership)? {
        Some(y) if y >= year => return Ok(false),
        Some(_) => {
            diesel::update(ledger_years::table.find(partnership))
                .set(ledger_years::through_year.eq(year))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(ledger_years::table)
                .values((
                    ledger_years::partnership.eq(partnership),
                    ledger_years::through_year.eq(year),
                ))
                .execute(conn)?;
        }
    }
    Ok(true)
}
