//! Event consumers of the contract service, and its clock ([`sweep`]).
//!
//! * `awards`: `competition.awarded` → an order ([`crate::app::awards`]).
//! * `referrals`: the replica of referral facts a block-bed placement is checked against
//!   ([`referrals`]).
//!
//! Each subscription is a [`Handlers`] table: the event types it takes are its
//! registrations, and each handler answers by the error policy of `DbError` (a refusal is
//! dead-lettered at once, anything else retried).

pub mod referrals;
pub mod sweep;

use hub_bus::{Handlers, Store, Subscription};
use hub_events::CompetitionAwarded;
use hub_platform::Settings;

use crate::app::awards;

/// The awards subscription: `competition.awarded` → an order due back signed within
/// `sign_within` working days.
fn awards(sign_within: u32) -> Handlers {
    Handlers::new(crate::NAME, "awards").on::<CompetitionAwarded>(move |conn, env, e, events| {
        awards::issue_order(conn, env, &e, events, sign_within)
    })
}

/// The awards subscription's queue and bindings (the bench purges it by name). The
/// bindings are the registered types, which do not depend on the settings.
pub fn subscription() -> Subscription {
    awards(0).subscription()
}

pub async fn subscribe(
    store: &Store,
    transport: &dyn hub_bus::Transport,
    settings: &Settings,
) -> anyhow::Result<()> {
    awards(settings.contract.sign_within_working_days)
        .subscribe(store, transport)
        .await?;
    referrals::handlers().subscribe(store, transport).await?;
    Ok(())
}
