//! `/v1/budgets`: a partnership's pooled budget for a financial year, in budget lines, with
//! each partner's contribution under the costing model chosen for the year, in versions.
//! The hosting authority's finance staff write; every partner's finance staff read.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use hub_platform::problem::path_id;
use hub_platform::{
    FieldError, Pence, Principal, Problem,
    calendar::FinancialYear,
    directory::{self, Partnership},
    http::{Json, Validate},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{FinanceState, query_map, readable, writable};
use crate::{
    app::commitments,
    domain::{
        PERIODS, YEARS, bad_period,
        budget::{self, Budget, BudgetVersion, CostingModel, FullVersion, LineAmount, Step},
        partnership_param,
        risk::RiskShare,
    },
    ids::BudgetId,
    store::{self, budgets as budget_store, periods},
};

/// The first version of a partnership's budget for a year.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBudget {
    /// The partnership, e.g. `AIM`.
    pub partnership: String,
    /// The financial year by the year it starts in (2018 = 2018/19).
    pub year: i32,
    /// The annual amount of each budget line.
    pub lines: Vec<LineAmount>,
    pub costing_model: CostingModel,
    /// How an over- or underspend is met; by contribution, no pool, no caps if absent.
    #[serde(default)]
    pub risk_share: Option<RiskShare>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// A new version of a budget from a period (a mid-year change); earlier versions stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewBudgetVersion)]
pub struct NewVersion {
    /// The first period (1 = April … 12 = March) the version is the budget for; not before
    /// the current version's.
    pub from_period: i32,
    pub lines: Vec<LineAmount>,
    pub costing_model: CostingModel,
    #[serde(default)]
    pub risk_share: Option<RiskShare>,
    /// Why the budget changed.
    pub reason: String,
}

const MAX_REASON: usize = 2000;

impl Validate for CreateBudget {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.partnership.trim().is_empty() {
            errors.push(FieldError::new(
                "/partnership",
                "required",
                "name the partnership, e.g. AIM",
            ));
        }
        if !YEARS.contains(&self.year) {
            errors.push(FieldError::new(
                "/year",
                "range",
                format!(
                    "the year must be between {} and {}",
                    YEARS.start(),
                    YEARS.end()
                ),
            ));
        }
        errors.extend(budget::validate_lines(&self.lines, "/lines"));
        if self.reason.as_ref().is_some_and(|r| r.len() > MAX_REASON) {
            errors.push(FieldError::new(
                "/reason",
                "max_length",
                format!("at most {MAX_REASON} characters"),
            ));
        }
        errors
    }
}

impl Validate for NewVersion {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if !PERIODS.contains(&self.from_period) {
            errors.push(bad_period("/from_period"));
        }
        errors.extend(budget::validate_lines(&self.lines, "/lines"));
        if self.reason.trim().is_empty() {
            errors.push(FieldError::new(
                "/reason",
                "required",
                "say why the budget changed",
            ));
        } else if self.reason.len() > MAX_REASON {
            errors.push(FieldError::new(
                "/reason",
                "max_length",
                format!("at most {MAX_REASON} characters"),
            ));
        }
        errors
    }
}

/// A partner's contribution to a version's total.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BudgetContribution)]
pub struct ContributionView {
    pub council: String,
    pub council_name: String,
    pub amount_pence: Pence,
    /// How the figure was derived: each split it had a part of.
    pub steps: Vec<Step>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BudgetVersion)]
pub struct VersionView {
    pub version: i32,
    pub from_period: i32,
    pub reason: String,
    pub total_pence: Pence,
    pub lines: Vec<LineAmount>,
    pub costing_model: CostingModel,
    pub risk_share: RiskShare,
    /// In the partnership's member order; they add up to `total_pence`.
    pub contributions: Vec<ContributionView>,
    pub created_by: String,
    pub created_org: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BudgetVersionSummary)]
pub struct VersionSummary {
    pub version: i32,
    pub from_period: i32,
    pub total_pence: Pence,
    pub reason: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// A budget: the version asked for (the latest by default) and the history.
#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetView {
    pub id: BudgetId,
    pub partnership: String,
    pub year: i32,
    /// `2018/19`.
    pub year_label: String,
    pub current_version: i32,
    pub version: VersionView,
    pub versions: Vec<VersionSummary>,
    pub created_by: String,
    pub created_org: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetSummary {
    pub id: BudgetId,
    pub partnership: String,
    pub year: i32,
    pub year_label: String,
    pub current_version: i32,
    pub total_pence: Pence,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetList {
    pub budgets: Vec<BudgetSummary>,
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameters; they are read from the query map
pub struct ListParams {
    /// The partnership; the caller's council must be a member.
    partnership: String,
    /// Only this financial year.
    year: Option<i32>,
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct GetParams {
    /// A version other than the latest.
    version: Option<i32>,
}

/// What a version says, as sent.
struct Draft<'a> {
    from_period: i32,
    reason: String,
    lines: &'a [LineAmount],
    model: &'a CostingModel,
    risk_share: RiskShare,
}

/// Builds a version: lines, total and contributions under the model.
fn build_version(
    budget_id: BudgetId,
    version: i32,
    draft: Draft<'_>,
    partnership: &Partnership,
    who: &Principal,
) -> Result<FullVersion, Problem> {
    let Draft {
        from_period,
        reason,
        lines,
        model,
        risk_share,
    } = draft;
    let total: Pence = lines.iter().map(|l| l.amount_pence).sum();
    let mut errors = budget::validate_model(model, partnership, total, "/costing_model");
    errors.extend(risk_share.validate(partnership, "/risk_share"));
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let contributions = budget::contributions(model, partnership, total);
    debug_assert_eq!(
        contributions.iter().map(|c| c.amount_pence).sum::<Pence>(),
        total
    );
    Ok(FullVersion {
        version: BudgetVersion {
            budget_id,
            version,
            from_period,
            reason,
            total_pence: total,
            costing_model: model.clone(),
            risk_share,
            created_by: who.sub.clone(),
            created_org: who.org.clone(),
            created_at: store::now(),
        },
        lines: lines.to_vec(),
        contributions,
    })
}

fn version_view(v: FullVersion, partnership: &Partnership) -> VersionView {
    let order = |c: &str| {
        partnership
            .members
            .iter()
            .position(|m| *m == c)
            .unwrap_or(usize::MAX)
    };
    let mut contributions: Vec<ContributionView> = v
        .contributions
        .into_iter()
        .map(|c| ContributionView {
            council_name: directory::council(&c.council)
                .map_or_else(String::new, |x| x.name.to_owned()),
            steps: c.steps,
            council: c.council,
            amount_pence: c.amount_pence,
        })
        .collect();
    contributions.sort_by_key(|c| order(&c.council));
    VersionView {
        version: v.version.version,
        from_period: v.version.from_period,
        reason: v.version.reason,
        total_pence: v.version.total_pence,
        lines: v.lines,
        costing_model: v.version.costing_model,
        risk_share: v.version.risk_share,
        contributions,
        created_by: v.version.created_by,
        created_org: v.version.created_org,
        created_at: v.version.created_at.and_utc(),
    }
}

/// Reads a budget with the given version (or the latest) and its history.
async fn load_view(
    state: &FinanceState,
    budget: Budget,
    version: Option<i32>,
    partnership: &'static Partnership,
) -> Result<BudgetView, Problem> {
    let id = budget.id;
    let (versions, full) = state
        .store
        .db
        .run(move |conn| {
            let versions = budget_store::versions(conn, id)?;
            let wanted = version.unwrap_or_else(|| versions.last().map_or(1, |v| v.version));
            let full = budget_store::full_version(conn, id, wanted)?;
            Ok((versions, full))
        })
        .await?;
    let full = full.ok_or_else(|| Problem::not_found("budget version"))?;
    Ok(view(budget, versions, full, partnership))
}

fn view(
    budget: Budget,
    versions: Vec<BudgetVersion>,
    full: FullVersion,
    partnership: &Partnership,
) -> BudgetView {
    BudgetView {
        year_label: FinancialYear(budget.year).label(),
        current_version: versions.last().map_or(1, |v| v.version),
        version: version_view(full, partnership),
        versions: versions
            .into_iter()
            .map(|v| VersionSummary {
                version: v.version,
                from_period: v.from_period,
                total_pence: v.total_pence,
                reason: v.reason,
                created_by: v.created_by,
                created_at: v.created_at.and_utc(),
            })
            .collect(),
        id: budget.id,
        partnership: budget.partnership,
        year: budget.year,
        created_by: budget.created_by,
        created_org: budget.created_org,
        created_at: budget.created_at.and_utc(),
    }
}

/// Sets a partnership's pooled budget for a year (its first version, from period 1), with
/// each partner's contribution. Opens the ledger through the year: placements still open
/// are committed to its end.
#[utoipa::path(post, path = "/v1/budgets", tag = "finance", operation_id = "createBudget", request_body = CreateBudget,
    responses((status = 201, body = BudgetView), (status = 401, body = Problem),
        (status = 403, body = Problem, description = "not finance staff of the hosting authority"),
        (status = 404, body = Problem, description = "no such partnership (or the caller's council is not a member)"),
        (status = 409, body = Problem, description = "the year has a budget already (`budget-exists`), or the partnership has no hosting authority (`no-finance-host`)"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create(
    state: web::Data<FinanceState>,
    who: Principal,
    body: Json<CreateBudget>,
) -> Result<HttpResponse, Problem> {
    let body = body.0;
    let partnership = writable(&who, body.partnership.trim())?;
    let id = BudgetId::new();
    let full = build_version(
        id,
        1,
        Draft {
            from_period: 1,
            reason: body
                .reason
                .clone()
                .unwrap_or_else(|| "budget set".to_owned()),
            lines: &body.lines,
            model: &body.costing_model,
            risk_share: body.risk_share.clone().unwrap_or_default(),
        },
        partnership,
        &who,
    )?;
    let budget = Budget {
        id,
        partnership: partnership.code.to_owned(),
        year: body.year,
        created_by: who.sub.clone(),
        created_org: who.org.clone(),
        created_at: full.version.created_at,
    };
    let (b, f) = (budget.clone(), full.clone());
    state
        .store
        .write(move |conn, _events| {
            if budget_store::budget_for(conn, &b.partnership, b.year)?.is_some() {
                return Err(Problem::conflict(
                    "budget-exists",
                    format!(
                        "{} has a budget for {} already: change it with a new version",
                        b.partnership,
                        FinancialYear(b.year).label()
                    ),
                )
                .into());
            }
            budget_store::insert_budget(conn, &b)?;
            budget_store::insert_version(conn, &f)?;
            commitments::open_through(conn, &b.partnership, b.year)?;
            Ok(())
        })
        .await?;
    tracing::info!(budget_id = %id, partnership = partnership.code, year = body.year, total_pence = full.version.total_pence.0, "budget set");
    let versions = vec![full.version.clone()];
    let view = view(budget, versions, full, partnership);
    Ok(HttpResponse::Created()
        .insert_header(("location", format!("/v1/budgets/{id}")))
        .json(view))
}

/// A partnership's budgets (all its years, or one).
#[utoipa::path(get, path = "/v1/budgets", tag = "finance", operation_id = "listBudgets", params(ListParams),
    responses((status = 200, body = BudgetList), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    state: web::Data<FinanceState>,
    who: Principal,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    let params = query_map(&req)?;
    let mut errors = Vec::new();
    let code = partnership_param(&params, "AIM", &mut errors);
    let year = match params.get("year").map(|y| y.trim()) {
        None | Some("") => None,
        Some(y) => match y.parse::<i32>() {
            Ok(y) if YEARS.contains(&y) => Some(y),
            _ => {
                errors.push(FieldError::new(
                    "year",
                    "type",
                    "the year is a whole number such as 2018",
                ));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let partnership = readable(&who, &code)?;
    let rows = state
        .store
        .db
        .run(move |conn| {
            let mut out = Vec::new();
            for b in budget_store::budgets_of(conn, partnership.code)? {
                if year.is_some_and(|y| y != b.year) {
                    continue;
                }
                let last = budget_store::versions(conn, b.id)?.pop();
                out.push((b, last));
            }
            Ok(out)
        })
        .await?;
    Ok(HttpResponse::Ok().json(BudgetList {
        budgets: rows
            .into_iter()
            .map(|(b, v)| BudgetSummary {
                year_label: FinancialYear(b.year).label(),
                current_version: v.as_ref().map_or(1, |v| v.version),
                total_pence: v.map_or(Pence::ZERO, |v| v.total_pence),
                id: b.id,
                partnership: b.partnership,
                year: b.year,
            })
            .collect(),
    }))
}

/// Finds a budget the caller may read (finance staff of a member council). Anyone else gets
/// the same 404 as for an id that does not exist, whatever the reason (not finance staff, not
/// a member), so that a budget's id does not tell a caller it exists.
pub(crate) async fn readable_budget(
    state: &FinanceState,
    who: &Principal,
    id: &str,
) -> Result<(Budget, &'static Partnership), Problem> {
    let id: BudgetId = path_id(id, "budget")?;
    let budget = state
        .store
        .db
        .run(move |conn| budget_store::budget(conn, id))
        .await?
        .ok_or_else(|| Problem::not_found("budget"))?;
    let partnership =
        readable(who, &budget.partnership).map_err(|_| Problem::not_found("budget"))?;
    Ok((budget, partnership))
}

/// A budget: the latest version (or `?version=n`) with each partner's contribution and how
/// it was derived, and the history of versions.
#[utoipa::path(get, path = "/v1/budgets/{id}", tag = "finance", operation_id = "getBudget", params(("id" = String, Path), GetParams),
    responses((status = 200, body = BudgetView), (status = 401, body = Problem),
        (status = 404, body = Problem, description = "no such budget, or the caller is not finance staff of a member"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(
    state: web::Data<FinanceState>,
    who: Principal,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    let version = match query_map(&req)?.get("version").map(|v| v.trim().to_owned()) {
        None => None,
        Some(v) => Some(
            v.parse::<i32>()
                .map_err(|_| Problem::invalid("version", "type", "a version is a whole number"))?,
        ),
    };
    let (budget, partnership) = readable_budget(&state, &who, &path).await?;
    Ok(HttpResponse::Ok().json(load_view(&state, budget, version, partnership).await?))
}

/// A new version of the budget from a period: new lines, costing model and contributions,
/// and risk-share agreement for that period on; the earlier versions stay in the history.
#[utoipa::path(post, path = "/v1/budgets/{id}/versions", tag = "finance", operation_id = "createBudgetVersion", params(("id" = String, Path)),
    request_body = NewVersion,
    responses((status = 201, body = BudgetView), (status = 401, body = Problem),
        (status = 403, body = Problem, description = "not finance staff of the hosting authority"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "the period is closed (`period-closed`)"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn new_version(
    state: web::Data<FinanceState>,
    who: Principal,
    path: web::Path<String>,
    body: Json<NewVersion>,
) -> Result<HttpResponse, Problem> {
    let body = body.0;
    let (budget, _) = readable_budget(&state, &who, &path).await?;
    let partnership = writable(&who, &budget.partnership)?;
    // The version number is settled in the transaction; build with a placeholder and renumber.
    let full = build_version(
        budget.id,
        0,
        Draft {
            from_period: body.from_period,
            reason: body.reason.trim().to_owned(),
            lines: &body.lines,
            model: &body.costing_model,
            risk_share: body.risk_share.clone().unwrap_or_default(),
        },
        partnership,
        &who,
    )?;
    let (b, from_period) = (budget.clone(), body.from_period);
    let (versions, full) = state
        .store
        .write(move |conn, _events| {
            let mut versions = budget_store::versions(conn, b.id)?;
            let last = versions
                .last()
                .ok_or_else(|| Problem::not_found("budget version"))?;
            let n = last.next(from_period)?;
            periods::period(conn, &b.partnership, b.year, from_period)?.require_open()?;
            let full = full.numbered(n);
            budget_store::insert_version(conn, &full)?;
            versions.push(full.version.clone());
            Ok((versions, full))
        })
        .await?;
    tracing::info!(budget_id = %budget.id, version = full.version.version, from_period, "budget version added");
    let id = budget.id;
    Ok(HttpResponse::Created()
        .insert_header((
            "location",
            format!("/v1/budgets/{id}?version={}", full.version.version),
        ))
        .json(view(budget, versions, full, partnership)))
}
