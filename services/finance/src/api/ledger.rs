//! `GET /v1/ledger`: a partnership's commitment lines for a financial year.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use hub_platform::{Pence, Principal, Problem};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::{FinanceState, query_map, readable, sees_all};
use crate::{
    app::commitments,
    domain::{Attribution, LedgerQuery, SourceKind, lines::CommitmentLine, totals_by_period},
    ids::{ContractId, LineId, SourceId},
    store,
};

/// The query of `GET /v1/ledger`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameters; they are read by `LedgerQuery::parse`
pub struct LedgerParams {
    /// Partnership code, e.g. `LCR-PPA`; the caller's council must be a member.
    partnership: String,
    /// The financial year, by the year it starts in (2026 = 2026/27).
    year: i32,
}

/// One commitment line: one source's cost for one council in one period at one rate.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerLine {
    pub id: LineId,
    pub partnership: String,
    /// GSS code of the council the cost belongs to, or the partnership's code for a contract
    /// let for the whole partnership (a service contract; an empty block bed held for no
    /// council).
    pub council: String,
    /// `child` (the council's child), `void` (an empty block bed held for the council, or for
    /// no council: the partnership's), `pooled` (a service contract for all partners: the
    /// partnership's).
    pub attribution: Attribution,
    /// The pooled budget's line it is charged to, e.g. `placements`.
    pub budget_line: String,
    /// `placement`, `block_bed` or `service_contract`.
    pub source_kind: SourceKind,
    /// The placement, block contract or service contract.
    pub source_id: SourceId,
    /// The order (a placement's), block contract or service contract the cost is under.
    pub contract_id: Option<ContractId>,
    /// The block bed (1 to the contract's beds).
    pub bed: Option<i32>,
    pub provider_id: String,
    /// The financial year, by the year it starts in.
    pub year: i32,
    /// 1 (April) to 12 (March).
    pub period: i32,
    /// First and last day the line costs.
    pub from_date: NaiveDate,
    pub to_date: NaiveDate,
    pub days: i32,
    /// The weekly rate (0 for a service contract, phased by day instead).
    pub weekly_rate_pence: Pence,
    /// IPA extras a week, costed with the rate.
    pub extras_weekly_pence: Pence,
    /// `(weekly_rate_pence + extras_weekly_pence) × days / 7` rounded half up to the penny,
    /// or a service contract's phased days; for an adjustment, the difference posted.
    pub amount_pence: Pence,
    pub created_at: DateTime<Utc>,
    /// An adjustment line: the closed period it adjusts (its financial year and period; the
    /// line's `from_date`–`to_date` are that period's days, `days` is 0). A closed period
    /// never changes: a later fact that changes what it cost is posted as an adjustment in
    /// the first open period after it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adjusts: Option<Adjusts>,
}

/// What an adjustment line adjusts and why.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LedgerAdjusts)]
pub struct Adjusts {
    pub year: i32,
    /// 1 (April) to 12 (March).
    pub period: i32,
    /// The event that changed the closed period's cost, e.g. `contract.placement_rate_changed`
    /// (`ledger_opened` when opening a later year recomputed it).
    pub cause_event_type: String,
    pub cause_event_id: String,
}

impl From<CommitmentLine> for LedgerLine {
    fn from(r: CommitmentLine) -> Self {
        Self {
            id: r.id,
            partnership: r.partnership,
            council: r.council,
            attribution: r.attribution,
            budget_line: r.budget_line,
            source_kind: r.source_kind,
            source_id: r.source_id,
            contract_id: r.contract_id,
            bed: r.bed,
            provider_id: r.provider_id,
            year: r.year,
            period: r.period,
            from_date: r.from_date,
            to_date: r.to_date,
            days: r.days,
            weekly_rate_pence: r.weekly_rate_pence,
            extras_weekly_pence: r.extras_weekly_pence,
            amount_pence: r.amount_pence,
            created_at: r.created_at.and_utc(),
            adjusts: r
                .adjusts_year
                .zip(r.adjusts_period)
                .map(|(year, period)| Adjusts {
                    year,
                    period,
                    cause_event_type: r.cause_event_type.unwrap_or_default(),
                    cause_event_id: r.cause_event_id.unwrap_or_default(),
                }),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LedgerPeriodTotal)]
pub struct PeriodTotal {
    pub period: i32,
    pub amount_pence: Pence,
}

/// A partnership's committed money for one financial year.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FinanceLedger)]
pub struct Ledger {
    pub partnership: String,
    pub year: i32,
    /// `2026/27`.
    pub year_label: String,
    /// `all` (the hosting authority, or the lead commissioner where there is none: every
    /// line) or `own` (a partner: its own lines, void beds and pooled contracts; other
    /// partners' children's lines are withheld, their money stays in the totals).
    pub detail: &'static str,
    pub lines: Vec<LedgerLine>,
    /// Other partners' children's lines left out of `lines` (0 for `all`).
    pub withheld_lines: usize,
    /// The partnership's totals of the periods that have lines, in period order (every
    /// line, withheld ones included).
    pub by_period: Vec<PeriodTotal>,
    /// The partnership's committed money: the sum of every line, withheld ones included.
    pub committed_pence: Pence,
}

/// A partnership's commitment ledger for a financial year (finance staff of a member council).
/// Asking for a year opens the ledger through it: open-ended placements run on into it,
/// whether or not the partnership has (or can have) a budget.
/// The hosting authority sees every line; a partner sees the consolidated totals and its own
/// detail, not other partners' children's lines (as in the monitoring report's drill-down).
#[utoipa::path(get, path = "/v1/ledger", tag = "finance", operation_id = "getLedger", params(LedgerParams),
    responses((status = 200, body = Ledger), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem, description = "no such partnership (or the caller's council is not a member)"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn ledger(
    state: web::Data<FinanceState>,
    who: Principal,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    who.require_any(&[hub_platform::Role::Finance])?;
    let query = LedgerQuery::parse(&query_map(&req)?).map_err(Problem::validation)?;
    let partnership = readable(&who, &query.partnership)?;
    let (code, year) = (partnership.code, query.year.0);
    // Asking for a year opens the partnership's ledger through it, budget or none: every
    // open-ended placement is committed to its end (see `ledger::horizon`).
    let opened = state
        .store
        .db
        .run(move |conn| store::through_year(conn, code))
        .await?;
    if opened.is_none_or(|y| y < year) {
        state
            .store
            .write(move |conn, _events| commitments::open_through(conn, code, year))
            .await?;
    }
    let rows = state
        .store
        .db
        .run(move |conn| store::ledger_lines(conn, code, year))
        .await?;
    let by_period = totals_by_period(rows.iter().map(|r| (r.period as u32, r.amount_pence)));
    let committed: Pence = by_period.iter().map(|p| p.1).sum();
    let all = sees_all(partnership, &who.org);
    let total_lines = rows.len();
    let lines: Vec<LedgerLine> = rows
        .into_iter()
        .filter(|r| all || r.council == who.org || r.attribution != Attribution::Child)
        .map(LedgerLine::from)
        .collect();
    Ok(HttpResponse::Ok().json(Ledger {
        partnership: code.to_owned(),
        year,
        year_label: query.year.label(),
        detail: if all { "all" } else { "own" },
        withheld_lines: total_lines - lines.len(),
        lines,
        by_period: by_period
            .into_iter()
            .map(|(period, amount)| PeriodTotal {
                period: period as i32,
                amount_pence: amount,
            })
            .collect(),
        committed_pence: committed,
    }))
}
