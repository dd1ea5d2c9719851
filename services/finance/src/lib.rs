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
//!
//! Decisions:
//! * Each line is rounded on its own and a total is the sum of the lines (it can differ by
//!   a penny from costing a whole range at once).
//! * A placement with no end is committed to the end of the later of the financial year it
//!   started in and the year the partnership's ledger is open through (`ledger_years`).
//! * An event naming a council outside the envelope's partnership is refused (retried, then
//!   dead-lettered): lines are only ever filed under a partnership the council belongs to.
//!   The same placement or contract announced twice is recorded once.
//! * An unknown partnership and one the caller's council is not in are the same 404.

pub mod api;
pub mod domain;
pub mod handlers;
pub mod store;

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
    })
}
