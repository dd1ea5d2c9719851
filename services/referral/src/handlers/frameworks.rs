//! The replica of the competition service's frameworks: `competition.framework_published`
//! carries a framework whole (partnership, purchasing bodies, lots) each time any of it is set
//! or changed, so the row is replaced; a publication older (by `occurred_at`) than the one
//! held arrived late and changes nothing. Events of any partnership are kept: a referral
//! naming another partnership's framework is refused for that reason.

use hub_bus::{Events, Handlers};
use hub_events::{Envelope, FrameworkPublished};
use hub_platform::db::{DbConnection, DbError};

use crate::domain::KnownFramework;
use crate::ids::{FrameworkId, LotId};
use crate::store;

pub fn handlers() -> Handlers {
    Handlers::new(crate::NAME, "frameworks").on::<FrameworkPublished>(published)
}

fn published(
    conn: &mut DbConnection,
    env: &Envelope,
    e: FrameworkPublished,
    _: &mut Events,
) -> Result<(), DbError> {
    let framework = KnownFramework {
        partnership: e.partnership,
        purchasing_bodies: e.purchasing_bodies,
        lot_ids: e.lots.iter().map(|l| LotId(l.lot_id)).collect(),
    };
    store::keep_framework(
        conn,
        FrameworkId(e.framework_id),
        framework,
        env.occurred_at.naive_utc(),
    )
}
