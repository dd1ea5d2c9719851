//! The notifications service: webhooks to providers and councils — endpoints and their
//! subscriptions, signed delivery (Standard Webhooks), retries with backoff, and the delivery
//! log.
//!
//! Endpoints: `POST|GET /v1/webhooks`, `GET|PATCH /v1/webhooks/{id}`,
//! `POST /v1/webhooks/{id}/{rotate-secret,disable,enable}`, `GET /v1/webhooks/{id}/deliveries`,
//! `POST /v1/webhooks/deliveries/{id}/redeliver`.
//!
//! Integration events become deliveries in the `provider-events` consumer
//! ([`handlers::consumer`]; the table of what goes to whom is in [`handlers`]), which
//! wakes the delivery worker ([`handlers::delivery`]) the moment they commit.
//!
//! Decisions (DESIGN.md is silent on them):
//! * **Audiences.** A provider's endpoints may subscribe to `competition.invited`,
//!   `referral.updated`, `competition.awarded`, `competition.unsuccessful`,
//!   `competition.closed`, `competition.bidding_closed`, `order.issued`, `order.overdue`,
//!   `ipa.review_due` and
//!   `placement.ended`; a council's (commissioners, admins) to `vacancy.offered`,
//!   `order.overdue`, `ipa.review_due`, `bed.void`, `bed.offered` and
//!   `service_contract.expiring`. Asking for a type the caller's organisation is never sent
//!   is a 422 (`audience`).
//! * **Contract webhooks** carry the contract event's ids, codes, dates and amounts (an
//!   order's weekly rate), never anything about the child; `order.*` link the order at
//!   `/v1/orders/{id}`. `bed.offered` goes to each council the bed is offered to (they also
//!   get `vacancy.offered` when the competition service lists the bed as a vacancy: one is
//!   about the block bed, the other the vacancy a council can place into).
//! * **Who hears of a new referral version.** The service learns who was invited to which
//!   competition of a referral from `competition.opened` (kept up to date by `.awarded` and
//!   `.closed`), rather than asking the referral service to repeat it in `referral.updated`:
//!   the invited providers of the referral's open competitions hear of a version later than
//!   the one their competition opened on, the winner once awarded; nobody after a close.
//! * **Messages.** `{"type", "timestamp", "data"}`; `timestamp` is when the event happened
//!   (the envelope's `occurred_at`), so retries carry the same body byte for byte. Data holds
//!   ids, codes, scores and links only, never a child's personal data. A provider told it was
//!   unsuccessful gets its own price, its own bid's scores beside the winner's per
//!   criterion, both totals, the winner's id and name and the reasons (where the winning bid
//!   was better) — not the winner's price, nor anything of another unsuccessful bid (issue
//!   10, rule 5). `competition.bidding_closed` tells every invited provider that the
//!   commissioner closed bidding early, with the reason code (never the council's note).
//!   `competition.awarded` links the referral at `/v1/referrals/{id}`; `referral.updated`
//!   links the new version (`?version=N`). `vacancy.offered` goes to every other member
//!   council of every partnership the offering council belongs to, naming the partnerships
//!   they share.
//! * **Secrets** are `whsec_` + base64 of 24 bytes from the OS CSPRNG, shown once (create and
//!   rotate). They are kept in the service's own database as they are, since HMAC needs the
//!   key itself. After a rotation the previous secret keeps signing, as a second
//!   space-separated `v1,` signature, for 24 hours, so a receiver can switch without loss.
//! * **Retries.** Same `webhook-id` on every attempt and on a redelivery (receivers
//!   deduplicate on it), fresh `webhook-timestamp` and signature each time. Redirects are not
//!   followed (a 3xx is a failure). The shipped schedule backs off from 1 s, doubling to an
//!   hourly cap, for `give_up_after_hours` = 25 (at least a day; a test keeps it so). Then
//!   the delivery fails and the endpoint is disabled with a `disabled_reason` its owner sees
//!   in `GET /v1/webhooks` and `GET /v1/webhooks/{id}`. A disabled endpoint gets no new
//!   deliveries; those already queued wait, and `enable` sends them at once with a fresh
//!   retry window.
//! * **Fairness.** Sends run concurrently under `webhooks.concurrency` permits; one endpoint
//!   may use at most a quarter of them, so a slow receiver with a backlog cannot starve the rest.
//! * **Lifetime.** The worker runs while the service is mounted (its HTTP state is alive) and
//!   stops once the platform drops it.
//! * **URLs.** `http` and `https` are both accepted (tests and internal receivers use plain
//!   HTTP); credentials and fragments are refused. Private addresses are not blocked.

// No function over 80 lines (clippy.toml) without a reason written beside it
// (`#[expect(clippy::too_many_lines, reason = "…")]`); a unit test may tell a longer story.
#![warn(clippy::too_many_lines)]
#![cfg_attr(test, allow(clippy::too_many_lines))]

pub mod api;
pub mod app;
pub mod domain;
pub mod handlers;
pub mod ids;
/// The tables, generated from `migrations/postgres` by `diesel print-schema`; never edited by
/// hand (README, "Changing the database").
pub mod schema;
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
    let metrics = handlers::metrics::WebhookMetrics::default();
    let destinations = domain::Destinations::new(
        settings.webhooks.allow_http_loopback,
        &settings.public_url(),
    );
    handlers::delivery::spawn(
        store.clone(),
        &settings.webhooks,
        destinations.clone(),
        wake.clone(),
        transport.in_process(),
        Arc::downgrade(&mounted),
        metrics.clone(),
    )?;
    let base_url = settings.public_url();
    handlers::subscribe(&store, transport.as_ref(), base_url, wake.clone()).await?;
    let state = web::Data::new(api::NotificationsState {
        store,
        wake,
        worker_alive: mounted,
        destinations: destinations.clone(),
    });
    Ok(Mounted {
        name: NAME,
        configure: Arc::new(move |cfg| {
            cfg.app_data(state.clone());
            api::routes(cfg);
        }),
        openapi: api::NotificationsApi::openapi(),
        metrics: metrics.collectors(),
    })
}
