//! The referral service: the shared referral document — the child's profile, needs and
//! route — and who may read it.

pub mod api;
pub mod domain;
pub mod handlers;
pub mod store;

use std::sync::Arc;

use actix_web::web;
use hub_bus::{Store, Transport};
use hub_platform::{Settings, db::Migrations, http::Mounted};
use utoipa::OpenApi;

pub const NAME: &str = "referral";

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
    let state = web::Data::new(api::ReferralState { store });
    Ok(Mounted {
        name: NAME,
        configure: Arc::new(move |cfg| {
            cfg.app_data(state.clone());
            api::routes(cfg);
        }),
        openapi: api::ReferralApi::openapi(),
    })
}
