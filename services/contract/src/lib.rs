//! The contract service: orders issued to awarded providers, the placements made under them
//! (or in block contracts' beds), each placement's Individual Placement Agreement and its
//! reviews; block contracts and service contracts (see `api::blocks`,
//! `api::service_contracts`).
//!
//! * `competition.awarded` → an order (`issued`) and `contract.order_issued`; the provider
//!   signs it (`contract.order_signed`, `late` after its due day) or declines it with a
//!   reason code (`contract.order_declined`); the sweep raises `contract.order_overdue` once
//!   per order not signed by its due day. A signed order never changes: a change is a
//!   variation recorded on its own (`/v1/orders/{id}/variations`).
//! * `POST /v1/placements` (the council's commissioner) → an `active` placement and
//!   `contract.placement_started`, which finance commits money from and which moves the
//!   referral to `placed`; `…/end` → `contract.placement_ended` (the order and any block
//!   contract stay in force). A block bed takes a real referral of the placing council, in
//!   the contract's partnership and placeable, as the service's replica of referral facts
//!   (`handlers::referrals`) knows it: see `domain::placements`.
//! * Money inputs are bounded (see `domain::blocks`, `domain::ipa`,
//!   `domain::service_contracts`), so no event carries an amount finance cannot cost.
//! * IPA versions: drafted by the council, signed by the provider, approved by the child's
//!   social worker → `contract.ipa_approved`, and `contract.placement_rate_changed` from the
//!   version's effective day when the weekly rate or extras change. Reviews are due every
//!   `review_frequency_months` (3 by default); the sweep raises `contract.ipa_review_due`
//!   once when a review falls within 14 days and once more when it is overdue, one event for
//!   the state the review is in: a review already overdue when first seen is raised once, as
//!   overdue.
//! * `GET /v1/placement-stability`: placements per child, breakdowns, and the share of
//!   children placed within the partnership's local distance.
//!
//! Decisions:
//! * One order per competition (`orders.competition_id` is unique): an award announced again
//!   under a new event id is skipped, not issued twice.
//! * An award whose council is not a member of the envelope's partnership is refused
//!   (`DbError::Refused`): it will never fit, so it is dead-lettered at once, with the
//!   reason, rather than filed under a partnership whose finance staff would then see it.
//! * `due_by` counts `[contract] sign_within_working_days` (5) England and Wales working
//!   days from the UTC date of issue ([`domain::order_due_by`]); bank holidays come from the
//!   published list for 2024–2030 and from the standing rules beyond it.
//! * An emergency order (a direct award) may be placed before it is signed. Until the
//!   commissioner records the timescale agreed with the provider (`PUT …/timescale`), it is
//!   due the same number of working days after the later of its issue and its start
//!   ([`domain::emergency_due_by`]); the agreed day may already have passed when recorded.
//! * A provider cannot decline an order while a placement under it is going on.
//! * Approving an IPA version restarts the review schedule from its effective day; one
//!   version at a time awaits signature and approval; a block bed's IPA keeps the block rate
//!   (extras on top). Contact arrangements, review notes, decline and end notes are personal
//!   or free text: they stay in this service, never in events or logs.
//! * Other organisations' orders and placements are 404; the wrong role for an action is 403.
//!
//! Layers (no module imports another in a circle): `domain` is pure (the service's types —
//! `Order`, `Placement`, `Ipa`, `BlockContract`, `ServiceContract`… — their rules and state
//! machines: `OrderStatus::sign`, `VersionStatus::approve`, `Order::agree_timescale`, …);
//! `store` keeps its typed rows (`ids`, enums, `Pence`, `Json<T>`: see `hub_platform::sql`)
//! to itself, returns domain types and takes them for writes; `app` holds what the edges
//! share or run inside an event's transaction (issuing an order on an award); `api` and
//! `handlers` are the two edges and never import each other. Every command handler has one
//! shape, `api::command`: load for the caller (404/403), act in one write, answer a view.

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
    // `sweep_interval_secs = 0` turns the clock off (tests drive `sweep_once` with chosen days).
    if settings.contract.sweep_interval_secs > 0 {
        handlers::sweep::spawn(
            store.clone(),
            std::time::Duration::from_secs(settings.contract.sweep_interval_secs),
        );
    }
    let state = web::Data::new(api::ContractState { store, settings });
    Ok(Mounted {
        name: NAME,
        configure: Arc::new(move |cfg| {
            cfg.app_data(state.clone());
            api::routes(cfg);
        }),
        openapi: api::ContractApi::openapi(),
        metrics: Vec::new(),
    })
}
