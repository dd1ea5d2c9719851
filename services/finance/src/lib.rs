//! The finance service: the partnerships' pooled money, run by the hosting authority.
//!
//! * `contract.placement_started` → commitment lines from the start date to the end of that
//!   financial year, one per period, each `weekly × days / 7` rounded half up.
//! * `GET /v1/ledger?partnership=…&year=…` → a partnership's lines, totals by period and the
//!   committed total, for finance staff of its member councils.
//!
//! Decisions:
//! * Each period's line is rounded on its own and the committed total is the sum of the
//!   lines (it can differ by a penny from costing the whole range at once).
//! * A placement whose council is not a member of the envelope's partnership is refused
//!   (retried, then dead-lettered): lines are only ever filed under a partnership the
//!   council belongs to. A placement announced twice is committed once.
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
