//! Event consumers of the referral service: the competition and contract services move a
//! referral through its life.
//!
//! * `competition.opened`: the invited providers (and the version each was invited on) are
//!   recorded, so they may read it; submitted → in_competition. A provider invited again in a
//!   later competition for the same referral is then invited on the later version.
//! * `competition.closed` (no acceptable bid, or the need went away): in_competition →
//!   submitted, with the reason code, so the council can re-route it (`POST …/route`); the
//!   commissioner's own words are in the competition's history.
//! * `competition.awarded` (a mini-competition's award or a direct award): → awarded; the
//!   winner reads the full document from then on.
//! * `contract.placement_started`: → placed, from awarded, and equally from submitted or
//!   in_competition (a block bed, another purchasing system, a spot purchase: every
//!   placement places its referral).
//! * `competition.referral_returned`: the competition service could not route the submitted
//!   referral (an unknown framework or lot, a lot of another framework, a framework of another
//!   partnership, a council that is not a purchasing body): submitted → returned, with the
//!   reason code as its status reason, for the council to re-route (another framework or lot,
//!   `POST …/route`) or withdraw. A return of an earlier version than the referral's own is
//!   stale (the council has already re-routed it) and changes nothing.
//! * `competition.framework_published` ([`frameworks`]): the replica of frameworks, their
//!   purchasing bodies and lots, from which a referral that would go nowhere is refused (422).
//!
//! An event that no longer applies (the referral was withdrawn meanwhile, or the close of a
//! competition it is no longer in) changes no status; it is logged and, where it carries
//! facts (invitations), those are still kept. See [`crate::app::progress`] and
//! [`crate::domain::after`]. An event about a referral this service never wrote is an error
//! (retried, then dead-lettered).

pub mod frameworks;
mod lifecycle;

use hub_bus::{Handlers, Store, Subscription, Transport};
use hub_events::{
    CompetitionAwarded, CompetitionClosed, CompetitionOpened, PlacementStarted, ReferralReturned,
};

/// The consumers of the referral's lifecycle: the table of contents of what moves it.
fn lifecycle() -> Handlers {
    Handlers::new(crate::NAME, "lifecycle")
        .on::<CompetitionOpened>(lifecycle::opened)
        .on::<CompetitionClosed>(lifecycle::closed)
        .on::<CompetitionAwarded>(lifecycle::awarded)
        .on::<PlacementStarted>(lifecycle::placed)
        .on::<ReferralReturned>(lifecycle::returned)
}

/// The lifecycle subscription (its queue is bound to exactly the types handled).
pub fn subscription() -> Subscription {
    lifecycle().subscription()
}

pub async fn subscribe(store: &Store, transport: &dyn Transport) -> anyhow::Result<()> {
    lifecycle().subscribe(store, transport).await?;
    frameworks::handlers().subscribe(store, transport).await?;
    Ok(())
}
