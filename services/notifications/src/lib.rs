//! The notifications service: provider-facing webhooks — endpoints and their subscriptions,
//! signed delivery (Standard Webhooks), retries with backoff, and the delivery log.
//!
//! Competition events become deliveries in the `provider-events` consumer
//! ([`handlers::ProviderEvents`]), which wakes the delivery worker ([`handlers::delivery`])
//! the moment they commit.
//!
//! Decisions (DESIGN.md is silent on them):
//! * **Messages.** `{"type", "timestamp", "data"}`; `timestamp` is when the event happened
//!   (the envelope's `occurred_at`), so retries carry the same body byte for byte. Data holds
//!   ids, codes and links only. `competition.unsuccessful` says nothing about the winner or
//!   the price; `competition.awarded` links the referral at `/v1/referrals/{id}` (the event
//!   carries no path).
//! * **Secrets** are `whsec_` + base64 of 24 bytes from the OS CSPRNG, shown once (create and
//!   rotate). They are kept in the service's own database as they are, since HMAC needs the
//!   key itself. After a rotation the previous secret keeps signing, as a second
//!   space-separated `v1,` signature, for 24 hours, so a receiver can switch without loss.
//! * **Retries.** Same `webhook-id` on every attempt and on a redelivery (receivers
//!   deduplicate on it), fresh `webhook-timestamp` and signature each time. Redirects are not
//!   followed (a 3xx is a failure). After `give_up_after_hours` the delivery fails and the
//!   endpoint is disabled with a `disabled_reason`. A disabled endpoint gets no new
//!   deliveries; those already queued wait, and `enable` sends them at once with a fresh
//!   retry window.
//! * **Fairness.** Sends run concurrently under `webhooks.concurrency` permits; one endpoint
//!   may use at most a quarter of them, so a slow receiver with a backlog cannot starve the rest.
//! * **Lifetime.** The worker runs while the service is mounted (its HTTP state is alive) and
//!   stops once the platform drops it.
//! * **URLs.** `http` and `https` are both accepted (tests and internal receivers use plain
//!   HTTP); credentials and fragments are refused. Private addresses are not blocked.

pub mod api;
pub mod domain;
pub mod handlers;
pub mod store;
#[cfg(test)]
pub(crate) mod test_support;

use std::sync::Arc;

use actix_web::web;
use hub_bus::{Store, Transport};
use hub_platform::{Settings, db::Migrations, http::Mounted};
use tokio::sync::Notify;
use utoipa::OpenApi;

pub const NAME: &str = "notifications";

pub static MIGRATIONS: Migrations = Migrations {
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
};

/// Subscribes the service's consumer, starts the delivery worker and returns its routes.
pub async fn start(
    store: Store,
    transport: Arc<dyn Transport>,
    settings: Arc<Settings>,
) -> anyhow::Result<Mounted> {
    let wake = Arc::new(Notify::new());
    // The worker runs for as long as the service is mounted (its state is alive).
    let mounted = Arc::new(());
    handlers::delivery::spawn(
        store.clone(),
        &settings.webhooks,
        wake.clone(),
        transport.in_process(),
        Arc::downgrade(&mounted),
    )?;
    let base_url = settings.public_url(settings.server.port);
    handlers::subscribe(&store, transport.as_ref(), base_url, wake.clone()).await?;
    let state = web::Data::new(api::NotificationsState {
        store,
        wake,
        worker_alive: mounted,
    });
    Ok(Mounted {
        name: NAME,
        configure: Arc::new(move |cfg| {
            cfg.app_data(state.clone());
            api::routes(cfg);
        }),
        openapi: api::NotificationsApi::openapi(),
    })
}
