//! The finance service: the partnerships' pooled money, run by the hosting authority.
//!
//! * Contract events (`contract.placement_started`, `…_rate_changed`, `…_ended`,
//!   `contract.block_contract_let`, `contract.bed_filled`, `contract.bed_void`,
//!   `contract.service_contract_let`, `…_extended`, `…_terminated`) → facts, from which each
//!   source's commitment lines are recomputed whole (see `handlers`): one line per source,
//!   council and rate per financial period, each `weekly × days / 7` rounded half up, or a
//!   service contract's value phased evenly by day.
//! * `GET /v1/ledger?partnership=…&year=…` → a partnership's lines, totals by period and the
//!   committed total, for finance staff of its member councils.
//! * `/v1/budgets` → a partnership's pooled budget for a year in budget lines, in versions
//!   from a period, with each partner's contribution under the year's costing model and the
//!   risk-share agreement (`domain::budget`, `domain::risk`); `/v1/budgets/{id}/periods` →
//!   closing periods.
//! * `/v1/actuals` → payments as CSV or JSON, checked line by line, applied whole, counted
//!   once (`domain::actuals`).
//! * `/v1/monitoring` → the consolidated report as at a period (JSON, CSV, XLSX) and
//!   `/v1/monitoring/drill` → the lines and payments behind any figure (`domain::monitoring`).
//!
//! Decisions:
//! * Each line is rounded on its own and a total is the sum of the lines (it can differ by
//!   a penny from costing a whole range at once).
//! * A placement with no end is committed to the end of the later of the financial year it
//!   started in and the year the partnership's ledger is open through (`ledger_years`,
//!   `domain::ledger::horizon`). Asking for a year's ledger, or setting its budget, opens the
//!   ledger through that year, so a commitment appears in every year until it ends, for
//!   every partnership, budget or none (issue 10 rule 11: LCR-PPA and D2N2 cannot have one).
//!   Not carried by the clock to the current year: the ledger depends only on its facts and
//!   on the years asked about.
//! * A closed period never changes (issue 10 rule 10; `domain::ledger::settle`): a fact that
//!   changes what a closed period cost (a backdated rate change, an end, a bed or service
//!   contract fact, a source arriving late) leaves the closed period's lines as posted and
//!   posts the difference, per council, attribution and bed, as an adjustment line in the
//!   first open period after it, tagged with the period it adjusts and the event that caused
//!   it (`adjusts` in the ledger). Adjustments are never rewritten; a later fact posts
//!   another. Closing a period keeps the year's ledger totals as they stand
//!   (`ledger_snapshots`), and the monitoring report as at a closed period is built from
//!   them, so it is the same every time it is run; an open period's report counts the
//!   adjustments in the period they are posted to. The drill-down lists the lines as they
//!   stand now.
//! * Facts that arrive before their placement or contract are kept and applied when it
//!   arrives, so order does not matter; an event naming a council outside the envelope's
//!   partnership, or a fact that contradicts the recorded placement or contract, is refused
//!   (dead-lettered at once with the reason). The same placement or contract announced twice is
//!   recorded once. Block beds are numbered from 1.
//! * Only the finance staff of the partnership's hosting authority write budgets, close
//!   periods and record any partner's payments; a partner's finance staff read and record
//!   their own council's payments. A partnership with no hosting authority (LCR-PPA, D2N2)
//!   has no pooled budget (409 `no-finance-host`).
//! * Budget lines are listed in name order. A new budget version runs from a period not
//!   before the current version's and not closed; monitoring of a period uses the version
//!   in force then.
//! * A payment is recorded once per council and reference; the same content sent again is
//!   the same upload (200, nothing new). A closed period is locked: a late payment is posted
//!   to the next open period only when the upload asks for an adjustment (`adjust=true`),
//!   keeping the period it belongs to.
//! * Usage for the risk share is the year's ledger cost of the council's own children;
//!   service contracts are pooled and void beds are the holding council's, neither counts as
//!   usage.
//! * A contract let for the whole partnership is the partnership's, not the lead council's
//!   (issue 10, rule 14): a service contract's lines, and a block bed's while it is empty and
//!   held for no council (a `bed_void` naming a council holds it for that council), carry the
//!   partnership's code (`AIM`) in `council`. They count in every consolidated figure and in
//!   no partner's detail or own drill-down; the contract's own record keeps who let it. An underspend goes back to the
//!   partners by the agreement's method; the pool and caps apply to an overspend.
//! * A partner sees the consolidated report, every partner's contribution and share, and
//!   its own detail and drill-down; the hosting authority (or, with none, the lead
//!   commissioner) sees every partner's. The ledger itself stays readable by every member's
//!   finance staff (ids and money only, as before).
//! * Reports read `ledger_totals` and `payment_totals`, kept in step with the lines and
//!   payments in the same transaction, so a report costs the same however many placements a
//!   partnership has (measured in PostgreSQL: p99 7 ms over 1.2M lines and 100,000
//!   payments, against 405 ms summing the lines).
//! * An unknown partnership and one the caller's council is not in are the same 404.

// No function over 80 lines (clippy.toml) without a reason written beside it
// (`#[expect(clippy::too_many_lines, reason = "…")]`); a unit test may tell a longer story.
#![warn(clippy::too_many_lines)]
#![cfg_attr(test, allow(clippy::too_many_lines))]

pub mod api;
pub mod app;
pub mod bulk;
pub mod domain;
pub mod handlers;
pub mod ids;
/// The tables, generated from `migrations/postgres` by `diesel print-schema`; never edited by
/// hand (README, "Changing the database").
pub(crate) mod schema;
pub(crate) mod store;

use std::sync::Arc;

use actix_web::web;
use hub_bus::{Store, Transport};
use hub_platform::{Settings, db::Migrations, http::Mounted};
use utoipa::OpenApi;

pub const NAME: &str = "finance";

pub static MIGRATIONS: Migrations = Migrations {
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
};

/// Subscribes the service's consumers and returns its routes.
pub async fn start(
    store: Store,
    transport: Arc<dyn Transport>,
    _settings: Arc<Settings>,
) -> anyhow::Result<Mounted> {
    handlers::subscribe(&store, transport.as_ref()).await?;
    let state = web::Data::new(api::FinanceState { store });
    Ok(Mounted {
        name: NAME,
        configure: Arc::new(move |cfg| {
            cfg.app_data(state.clone());
            api::routes(cfg);
        }),
        openapi: api::FinanceApi::openapi(),
        metrics: Vec::new(),
    })
}
