//! The contract service: orders issued to awarded providers, their signature, and the
//! placements made under signed orders.
//!
//! * `competition.awarded` → an order (`issued`, due back signed within five working days)
//!   and `contract.order_issued`.
//! * `POST /v1/orders/{id}/sign` (the provider) → `signed` and `contract.order_signed`.
//! * `POST /v1/placements` (the council's commissioner) → an `active` placement and
//!   `contract.placement_started`, which finance commits money from.
//!
//! Decisions:
//! * One order per competition (`orders.competition_id` is unique): an award announced again
//!   under a new event id is skipped, not issued twice.
//! * An award whose council is not a member of the envelope's partnership is refused, so it
//!   is retried and then dead-lettered rather than filed under a partnership whose finance
//!   staff would then see it.
//! * `due_by` counts `[contract] sign_within_working_days` (5) England and Wales working
//!   days from the UTC date of issue ([`domain::order_due_by`]); bank holidays come from the
//!   published list for 2024–2030 and from the standing rules beyond it.
//! * Other organisations' orders and placements are 404; the wrong role for an action is 403.

pub mod api;
pub mod domain;
pub mod handlers;
pub mod store;

use std::sync::Arc;

use actix_web::web;
use hub_bus::{Store, Transport};
use hub_platform::{Settings, db::Migrations, http::Mounted};
use utoipa::OpenApi;

pub const NAME: &str = "contract";

pub static MIGRATIONS: Migrations = Migrations {
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
};

/// Subscribes the service's consumers and returns its routes.
pub async fn start(
    store: Store,
    transport: Arc<dyn Transport>,
    settings: Arc<Settings>,
) -> anyhow::Result<Mounted> {
    handlers::subscribe(&store, transport.as_ref(), &settings).await?;
    handlers::sweep::spawn(
        store.clone(),
        std::time::Duration::from_secs(settings.contract.sweep_interval_secs.max(1)),
    );
    let state = web::Data::new(api::ContractState { store, settings });
    Ok(Mounted {
        name: NAME,
        configure: Arc::new(move |cfg| {
            cfg.app_data(state.clone());
            api::routes(cfg);
        }),
        openapi: api::ContractApi::openapi(),
    })
}
