//! Sums the monitoring report is built from, and the rows behind one of its figures.
//! Sums are taken in the database (one row per period, line, council), so a report reads a
//! few hundred rows however many placements a partnership has.

use chrono::NaiveDate;
use diesel::{
    QueryableByName, RunQueryDsl,
    sql_types::{BigInt, Date, Integer, Text},
};
use hub_platform::{
    Pence,
    db::{DbConnection, DbError},
};

use crate::{
    domain::{
        actuals::RecordedPayment,
        ledger::Attribution,
        lines::CommitmentLine,
        monitoring::{BlockDays, CommitmentSum, PaymentSum},
    },
    ids::BlockContractId,
};

#[derive(QueryableByName)]
struct CommitmentSumRow {
    #[diesel(sql_type = Integer)]
    period: i32,
    #[diesel(sql_type = Text)]
    budget_line: String,
    #[diesel(sql_type = Text)]
    council: String,
    #[diesel(sql_type = Text)]
    attribution: Attribution,
    #[diesel(sql_type = BigInt)]
    amount: Pence,
}

#[derive(QueryableByName)]
struct PaymentSumRow {
    #[diesel(sql_type = Integer)]
    period: i32,
    #[diesel(sql_type = Text)]
    budget_line: String,
    #[diesel(sql_type = Text)]
    council: String,
    #[diesel(sql_type = BigInt)]
    amount: Pence,
}

/// The year's ledger sums for a report as at `period`: as the totals stood when the period was
/// closed (see [`snapshot`]), so a closed period's report is the same every time it is run;
/// for an open period, as they stand.
pub fn commitment_sums_as_at(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
    period: i32,
) -> Result<Vec<CommitmentSum>, DbError> {
    // One statement (the report's hot path): the snapshot if the period is closed, else the
    // live totals. Placeholders first appear in order ($1, $2, $3).
    let rows: Vec<CommitmentSumRow> = diesel::sql_query(
        "SELECT period, budget_line, council, attribution, amount_pence AS amount \
         FROM ledger_snapshots WHERE partnership = $1 AND year = $2 AND as_at = $3 \
         UNION ALL \
         SELECT t.period, t.budget_line, t.council, t.attribution, t.amount_pence AS amount \
         FROM ledger_totals t WHERE t.partnership = $1 AND t.year = $2 AND t.amount_pence <> 0 \
           AND NOT EXISTS (SELECT 1 FROM period_closures c \
                           WHERE c.partnership = $1 AND c.year = $2 AND c.period = $3) \
         ORDER BY 1, 2, 3, 4",
    )
    .bind::<Text, _>(partnership)
    .bind::<Integer, _>(year)
    .bind::<Integer, _>(period)
    .load(conn)?;
    Ok(rows.into_iter().map(CommitmentSum::from).collect())
}

/// Keeps the year's ledger totals as they stand, as at `period` (which is being closed in
/// the same transaction).
pub fn snapshot(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
    period: i32,
) -> Result<(), DbError> {
    diesel::sql_query(
        "INSERT INTO ledger_snapshots \
             (partnership, year, as_at, period, budget_line, council, attribution, amount_pence) \
         SELECT partnership, year, $1, period, budget_line, council, attribution, amount_pence \
         FROM ledger_totals WHERE partnership = $2 AND year = $3 AND amount_pence <> 0",
    )
    .bind::<Integer, _>(period)
    .bind::<Text, _>(partnership)
    .bind::<Integer, _>(year)
    .execute(conn)?;
    Ok(())
}

impl From<CommitmentSumRow> for CommitmentSum {
    fn from(r: CommitmentSumRow) -> Self {
        CommitmentSum {
            period: r.period,
            budget_line: r.budget_line,
            council: r.council,
            attribution: r.attribution,
            amount: r.amount,
        }
    }
}

/// The year's payments summed by period, budget line and council (the payment totals).
pub fn payment_sums(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
) -> Result<Vec<PaymentSum>, DbError> {
    let rows: Vec<PaymentSumRow> = diesel::sql_query(
        "SELECT period, budget_line, council, amount_pence AS amount \
         FROM payment_totals WHERE partnership = $1 AND year = $2 \
         ORDER BY period, budget_line, council",
    )
    .bind::<Text, _>(partnership)
    .bind::<Integer, _>(year)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| PaymentSum {
            period: r.period,
            budget_line: r.budget_line,
            council: r.council,
            amount: r.amount,
        })
        .collect())
}

/// A block contract's bed-days in a year up to a period, filled and void.
#[derive(Debug, Clone, QueryableByName)]
struct BlockDaysRow {
    #[diesel(sql_type = Text)]
    block_contract_id: BlockContractId,
    #[diesel(sql_type = Text)]
    provider_id: String,
    #[diesel(sql_type = Integer)]
    beds: i32,
    #[diesel(sql_type = BigInt)]
    block_weekly_rate_pence: Pence,
    #[diesel(sql_type = BigInt)]
    spot_weekly_rate_pence: Pence,
    #[diesel(sql_type = Date)]
    start_date: NaiveDate,
    #[diesel(sql_type = Date)]
    end_date: NaiveDate,
    #[diesel(sql_type = BigInt)]
    planned_annual_saving_pence: Pence,
    #[diesel(sql_type = BigInt)]
    occupied_days: i64,
    #[diesel(sql_type = BigInt)]
    void_days: i64,
}

impl From<BlockDaysRow> for BlockDays {
    fn from(r: BlockDaysRow) -> Self {
        Self {
            block_contract_id: r.block_contract_id,
            provider_id: r.provider_id,
            beds: r.beds,
            block_weekly_rate_pence: r.block_weekly_rate_pence,
            spot_weekly_rate_pence: r.spot_weekly_rate_pence,
            start_date: r.start_date,
            end_date: r.end_date,
            planned_annual_saving_pence: r.planned_annual_saving_pence,
            occupied_days: r.occupied_days,
            void_days: r.void_days,
        }
    }
}

/// Every block contract of the partnership with its bed-days in the year up to `period`.
pub fn block_days(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
    period: i32,
) -> Result<Vec<BlockDays>, DbError> {
    let rows: Vec<BlockDaysRow> = diesel::sql_query(
        // Placeholders first appear in order ($1, $2, $3): SQLite numbers them that way.
        // Lines are found by source (the commitment_lines_source index), per block contract.
        "SELECT b.block_contract_id, b.provider_id, b.beds, b.block_weekly_rate_pence, \
                b.spot_weekly_rate_pence, b.start_date, b.end_date, b.planned_annual_saving_pence, \
                CAST(COALESCE(SUM(CASE WHEN l.attribution = 'child' THEN l.days ELSE 0 END), 0) AS BIGINT) AS occupied_days, \
                CAST(COALESCE(SUM(CASE WHEN l.attribution = 'void' THEN l.days ELSE 0 END), 0) AS BIGINT) AS void_days \
         FROM (SELECT * FROM block_contracts WHERE partnership = $1) b \
         LEFT JOIN commitment_lines l ON l.source_kind = 'block_bed' AND l.source_id = b.block_contract_id \
              AND l.year = $2 AND l.period <= $3 \
         GROUP BY b.block_contract_id, b.provider_id, b.beds, b.block_weekly_rate_pence, \
                  b.spot_weekly_rate_pence, b.start_date, b.end_date, b.planned_annual_saving_pence \
         ORDER BY b.start_date, b.block_contract_id",
    )
    .bind::<Text, _>(partnership)
    .bind::<Integer, _>(year)
    .bind::<Integer, _>(period)
    .load(conn)?;
    Ok(rows.into_iter().map(BlockDays::from).collect())
}

/// The ledger lines behind a figure: the year's lines of `periods`, of a budget line if
/// given, of a council if given, of the given attributions if any.
pub fn lines_behind(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
    periods: std::ops::RangeInclusive<i32>,
    budget_line: Option<&str>,
    council: Option<&str>,
    attribution: Option<Attribution>,
) -> Result<Vec<CommitmentLine>, DbError> {
    use crate::schema::commitment_lines as c;
    use diesel::prelude::*;
    let mut q = c::table
        .filter(c::partnership.eq(partnership.to_owned()))
        .filter(c::year.eq(year))
        .filter(c::period.between(*periods.start(), *periods.end()))
        .into_boxed();
    if let Some(l) = budget_line {
        q = q.filter(c::budget_line.eq(l.to_owned()));
    }
    if let Some(x) = council {
        q = q.filter(c::council.eq(x.to_owned()));
    }
    if let Some(a) = attribution {
        q = q.filter(c::attribution.eq(a));
    }
    Ok(q.order((
        c::period.asc(),
        c::source_kind.asc(),
        c::source_id.asc(),
        c::bed.asc(),
        c::from_date.asc(),
        c::id.asc(),
    ))
    .select(super::CommitmentRow::as_select())
    .load(conn)?
    .into_iter()
    .map(CommitmentLine::from)
    .collect())
}

/// The payments behind a figure: the year's payments counted in `periods`, of a budget line
/// and a council if given.
pub fn payments_behind(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
    periods: std::ops::RangeInclusive<i32>,
    budget_line: Option<&str>,
    council: Option<&str>,
) -> Result<Vec<RecordedPayment>, DbError> {
    use crate::schema::payments as p;
    use diesel::prelude::*;
    let mut q = p::table
        .filter(p::partnership.eq(partnership.to_owned()))
        .filter(p::year.eq(year))
        .filter(p::period.between(*periods.start(), *periods.end()))
        .into_boxed();
    if let Some(l) = budget_line {
        q = q.filter(p::budget_line.eq(l.to_owned()));
    }
    if let Some(x) = council {
        q = q.filter(p::council.eq(x.to_owned()));
    }
    Ok(super::actuals::payments_of(
        q.order((
            p::period.asc(),
            p::council.asc(),
            p::payment_reference.asc(),
        ))
        .select(super::actuals::PaymentRow::as_select())
        .load(conn)?,
    ))
}
