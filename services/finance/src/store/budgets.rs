//! Budgets, their versions, lines and contributions.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hub_platform::{
    Pence,
    db::{DbConnection, DbError},
    sql::Json,
};

use crate::{
    domain::{
        budget::{
            Budget, BudgetVersion, Contribution, CostingModel, FullVersion, LineAmount, Step,
        },
        risk::RiskShare,
    },
    ids::BudgetId,
    schema::*,
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = budgets)]
struct BudgetRow {
    id: BudgetId,
    partnership: String,
    year: i32,
    created_by: String,
    created_org: String,
    created_at: NaiveDateTime,
}

impl From<BudgetRow> for Budget {
    fn from(r: BudgetRow) -> Self {
        Self {
            id: r.id,
            partnership: r.partnership,
            year: r.year,
            created_by: r.created_by,
            created_org: r.created_org,
            created_at: r.created_at,
        }
    }
}

impl From<&Budget> for BudgetRow {
    fn from(b: &Budget) -> Self {
        Self {
            id: b.id,
            partnership: b.partnership.clone(),
            year: b.year,
            created_by: b.created_by.clone(),
            created_org: b.created_org.clone(),
            created_at: b.created_at,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = budget_versions)]
struct VersionRow {
    budget_id: BudgetId,
    version: i32,
    from_period: i32,
    reason: String,
    total_pence: Pence,
    costing_model: Json<CostingModel>,
    risk_share: Json<RiskShare>,
    created_by: String,
    created_org: String,
    created_at: NaiveDateTime,
}

impl From<VersionRow> for BudgetVersion {
    fn from(r: VersionRow) -> Self {
        Self {
            budget_id: r.budget_id,
            version: r.version,
            from_period: r.from_period,
            reason: r.reason,
            total_pence: r.total_pence,
            costing_model: r.costing_model.0,
            risk_share: r.risk_share.0,
            created_by: r.created_by,
            created_org: r.created_org,
            created_at: r.created_at,
        }
    }
}

impl From<&BudgetVersion> for VersionRow {
    fn from(v: &BudgetVersion) -> Self {
        Self {
            budget_id: v.budget_id,
            version: v.version,
            from_period: v.from_period,
            reason: v.reason.clone(),
            total_pence: v.total_pence,
            costing_model: Json(v.costing_model.clone()),
            risk_share: Json(v.risk_share.clone()),
            created_by: v.created_by.clone(),
            created_org: v.created_org.clone(),
            created_at: v.created_at,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = budget_lines)]
struct BudgetLineRow {
    budget_id: BudgetId,
    version: i32,
    budget_line: String,
    amount_pence: Pence,
}

impl From<BudgetLineRow> for LineAmount {
    fn from(r: BudgetLineRow) -> Self {
        Self {
            budget_line: r.budget_line,
            amount_pence: r.amount_pence,
        }
    }
}

/// A line of the version `(budget, number)`.
impl From<((BudgetId, i32), &LineAmount)> for BudgetLineRow {
    fn from(((budget_id, version), l): ((BudgetId, i32), &LineAmount)) -> Self {
        Self {
            budget_id,
            version,
            budget_line: l.budget_line.clone(),
            amount_pence: l.amount_pence,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = contributions)]
struct ContributionRow {
    budget_id: BudgetId,
    version: i32,
    council: String,
    amount_pence: Pence,
    steps: Json<Vec<Step>>,
}

impl From<ContributionRow> for Contribution {
    fn from(r: ContributionRow) -> Self {
        Self {
            council: r.council,
            amount_pence: r.amount_pence,
            steps: r.steps.0,
        }
    }
}

/// A contribution to the version `(budget, number)`.
impl From<((BudgetId, i32), &Contribution)> for ContributionRow {
    fn from(((budget_id, version), c): ((BudgetId, i32), &Contribution)) -> Self {
        Self {
            budget_id,
            version,
            council: c.council.clone(),
            amount_pence: c.amount_pence,
            steps: Json(c.steps.clone()),
        }
    }
}

/// A budget by its id.
pub fn budget(conn: &mut DbConnection, id: BudgetId) -> Result<Option<Budget>, DbError> {
    Ok(budgets::table
        .find(id)
        .select(BudgetRow::as_select())
        .first(conn)
        .optional()?
        .map(Budget::from))
}

/// A partnership's budget for a year, if it has one.
pub fn budget_for(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
) -> Result<Option<Budget>, DbError> {
    Ok(budgets::table
        .filter(budgets::partnership.eq(partnership))
        .filter(budgets::year.eq(year))
        .select(BudgetRow::as_select())
        .first(conn)
        .optional()?
        .map(Budget::from))
}

/// A partnership's budgets, by year.
pub fn budgets_of(conn: &mut DbConnection, partnership: &str) -> Result<Vec<Budget>, DbError> {
    Ok(budgets::table
        .filter(budgets::partnership.eq(partnership))
        .order(budgets::year.asc())
        .select(BudgetRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Budget::from)
        .collect())
}

/// Records a budget (its versions go in with [`insert_version`]).
pub fn insert_budget(conn: &mut DbConnection, budget: &Budget) -> Result<(), DbError> {
    diesel::insert_into(budgets::table)
        .values(BudgetRow::from(budget))
        .execute(conn)?;
    Ok(())
}

/// Writes a version with its lines and contributions.
pub fn insert_version(conn: &mut DbConnection, v: &FullVersion) -> Result<(), DbError> {
    diesel::insert_into(budget_versions::table)
        .values(VersionRow::from(&v.version))
        .execute(conn)?;
    let of = (v.version.budget_id, v.version.version);
    for l in &v.lines {
        diesel::insert_into(budget_lines::table)
            .values(BudgetLineRow::from((of, l)))
            .execute(conn)?;
    }
    for c in &v.contributions {
        diesel::insert_into(contributions::table)
            .values(ContributionRow::from((of, c)))
            .execute(conn)?;
    }
    Ok(())
}

/// Every version of a budget, oldest first (without lines and contributions).
pub fn versions(
    conn: &mut DbConnection,
    budget_id: BudgetId,
) -> Result<Vec<BudgetVersion>, DbError> {
    Ok(budget_versions::table
        .filter(budget_versions::budget_id.eq(budget_id))
        .order(budget_versions::version.asc())
        .select(VersionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(BudgetVersion::from)
        .collect())
}

/// A version of a budget with its lines and contributions.
pub fn full_version(
    conn: &mut DbConnection,
    budget_id: BudgetId,
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
    let lines: Vec<BudgetLineRow> = budget_lines::table
        .filter(budget_lines::budget_id.eq(budget_id))
        .filter(budget_lines::version.eq(version))
        .order(budget_lines::budget_line.asc())
        .select(BudgetLineRow::as_select())
        .load(conn)?;
    let contributions: Vec<ContributionRow> = contributions::table
        .filter(contributions::budget_id.eq(budget_id))
        .filter(contributions::version.eq(version))
        .select(ContributionRow::as_select())
        .load(conn)?;
    Ok(Some(FullVersion {
        version: v.into(),
        lines: lines.into_iter().map(BudgetLineRow::into).collect(),
        contributions: contributions
            .into_iter()
            .map(ContributionRow::into)
            .collect(),
    }))
}

/// The version in force in each period 1..=`through` (the latest version starting at or
/// before it), in three queries whatever the number of periods and versions. `None` if a
/// period has no version.
pub fn versions_in_force(
    conn: &mut DbConnection,
    budget_id: BudgetId,
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
                version: v.into(),
                lines: lines
                    .extract_if(.., |l| l.version == n)
                    .map(BudgetLineRow::into)
                    .collect(),
                contributions: shares
                    .extract_if(.., |c| c.version == n)
                    .map(ContributionRow::into)
                    .collect(),
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

/// The version in force in `period`: the latest version starting at or before it.
pub fn version_for_period(
    conn: &mut DbConnection,
    budget_id: BudgetId,
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
