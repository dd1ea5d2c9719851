//! Budgets, their versions, lines and contributions.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hub_platform::db::{DbConnection, DbError};

use crate::schema::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = budgets)]
pub struct BudgetRow {
    pub id: String,
    pub partnership: String,
    pub year: i32,
    pub created_by: String,
    pub created_org: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = budget_versions)]
pub struct VersionRow {
    pub budget_id: String,
    pub version: i32,
    pub from_period: i32,
    pub reason: String,
    pub total_pence: i64,
    /// JSON of `domain::budget::CostingModel`.
    pub costing_model: String,
    /// JSON of `domain::risk::RiskShare`.
    pub risk_share: String,
    pub created_by: String,
    pub created_org: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = budget_lines)]
pub struct BudgetLineRow {
    pub budget_id: String,
    pub version: i32,
    pub budget_line: String,
    pub amount_pence: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = contributions)]
pub struct ContributionRow {
    pub budget_id: String,
    pub version: i32,
    pub council: String,
    pub amount_pence: i64,
    /// JSON of the `domain::budget::Step`s.
    pub steps: String,
}

/// A version with its lines and contributions.
#[derive(Debug, Clone)]
pub struct FullVersion {
    pub version: VersionRow,
    pub lines: Vec<BudgetLineRow>,
    pub contributions: Vec<ContributionRow>,
}

pub fn budget(conn: &mut DbConnection, id: &str) -> Result<Option<BudgetRow>, DbError> {
    Ok(budgets::table
        .find(id)
        .select(BudgetRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn budget_for(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
) -> Result<Option<BudgetRow>, DbError> {
    Ok(budgets::table
        .filter(budgets::partnership.eq(partnership))
        .filter(budgets::year.eq(year))
        .select(BudgetRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn budgets_of(conn: &mut DbConnection, partnership: &str) -> Result<Vec<BudgetRow>, DbError> {
    Ok(budgets::table
        .filter(budgets::partnership.eq(partnership))
        .order(budgets::year.asc())
        .select(BudgetRow::as_select())
        .load(conn)?)
}

pub fn insert_budget(conn: &mut DbConnection, row: &BudgetRow) -> Result<(), DbError> {
    diesel::insert_into(budgets::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Writes a version with its lines and contributions.
pub fn insert_version(conn: &mut DbConnection, v: &FullVersion) -> Result<(), DbError> {
    diesel::insert_into(budget_versions::table)
        .values(&v.version)
        .execute(conn)?;
    for l in &v.lines {
        diesel::insert_into(budget_lines::table)
            .values(l)
            .execute(conn)?;
    }
    for c in &v.contributions {
        diesel::insert_into(contributions::table)
            .values(c)
            .execute(conn)?;
    }
    Ok(())
}

/// Every version of a budget, oldest first (without lines and contributions).
pub fn versions(conn: &mut DbConnection, budget_id: &str) -> Result<Vec<VersionRow>, DbError> {
    Ok(budget_versions::table
        .filter(budget_versions::budget_id.eq(budget_id))
        .order(budget_versions::version.asc())
        .select(VersionRow::as_select())
        .load(conn)?)
}

pub fn full_version(
    conn: &mut DbConnection,
    budget_id: &str,
    version: i32,
) -> Result<Option<FullVersion>, DbError> {
    let Some(v) = budget_versions::table
        .find((budget_id, version))
        .select(VersionRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let lines = budget_lines::table
        .filter(budget_lines::budget_id.eq(budget_id))
        .filter(budget_lines::version.eq(version))
        .order(budget_lines::budget_line.asc())
        .select(BudgetLineRow::as_select())
        .load(conn)?;
    let contributions = contributions::table
        .filter(contributions::budget_id.eq(budget_id))
        .filter(contributions::version.eq(version))
        .select(ContributionRow::as_select())
        .load(conn)?;
    Ok(Some(FullVersion {
        version: v,
        lines,
        contributions,
    }))
}

/// The version in force for `period`: the latest version from that period or before.
/// The version in force in each period 1..=`through` (the latest version starting at or
/// before it), in three queries whatever the number of periods and versions. `None` if a
/// period has no version.
pub fn versions_in_force(
    conn: &mut DbConnection,
    budget_id: &str,
    through: i32,
) -> Result<Option<Vec<FullVersion>>, DbError> {
    let rows: Vec<VersionRow> = budget_versions::table
        .filter(budget_versions::budget_id.eq(budget_id))
        .filter(budget_versions::from_period.le(through))
        .order(budget_versions::version.asc())
        .select(VersionRow::as_select())
        .load(conn)?;
    let numbers: Vec<i32> = rows.iter().map(|v| v.version).collect();
    let mut lines: Vec<BudgetLineRow> = budget_lines::table
        .filter(budget_lines::budget_id.eq(budget_id))
        .filter(budget_lines::version.eq_any(&numbers))
        .order((budget_lines::version.asc(), budget_lines::budget_line.asc()))
        .select(BudgetLineRow::as_select())
        .load(conn)?;
    let mut shares: Vec<ContributionRow> = contributions::table
        .filter(contributions::budget_id.eq(budget_id))
        .filter(contributions::version.eq_any(&numbers))
        .select(ContributionRow::as_select())
        .load(conn)?;
    let full: Vec<FullVersion> = rows
        .into_iter()
        .map(|v| {
            let n = v.version;
            FullVersion {
                version: v,
                lines: lines.extract_if(.., |l| l.version == n).collect(),
                contributions: shares.extract_if(.., |c| c.version == n).collect(),
            }
        })
        .collect();
    Ok((1..=through)
        .map(|p| {
            full.iter()
                .filter(|v| v.version.from_period <= p)
                .max_by_key(|v| v.version.version)
                .cloned()
        })
        .collect())
}

pub fn version_for_period(
    conn: &mut DbConnection,
    budget_id: &str,
    period: i32,
) -> Result<Option<FullVersion>, DbError> {
    let v: Option<i32> = budget_versions::table
        .filter(budget_versions::budget_id.eq(budget_id))
        .filter(budget_versions::from_period.le(period))
        .order(budget_versions::version.desc())
        .select(budget_versions::version)
        .first(conn)
        .optional()?;
    match v {
        Some(v) => full_version(conn, budget_id, v),
        None => Ok(None),
    }
}
