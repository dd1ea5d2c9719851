//! The replica of the competition service's frameworks: `competition.framework_published`
//! carries a framework whole (partnership, purchasing bodies, lots) each time any of it is set
//! or changed, so the row is replaced; a publication older (by `occurred_at`) than the one
//! held arrived late and changes nothing. Events of any partnership are kept: a referral
//! naming another partnership's framework is refused for that reason.

use hub_bus::{Events, Store, Subscription};
use hub_events::{Envelope, Event, FrameworkPublished};
use hub_platform::db::{DbConnection, DbError};

use crate::store::{self, KnownFrameworkRow};

pub fn subscription() -> Subscription {
    Subscription::new(crate::NAME, "frameworks", &[FrameworkPublished::TYPE])
}

pub async fn subscribe(store: &Store, transport: &dyn hub_bus::Transport) -> anyhow::Result<()> {
    let sub = subscription();
    transport
        .subscribe(sub.clone(), store.handler(&sub, handle))
        .await?;
    Ok(())
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, DbError> {
    Ok(serde_json::to_string(v).map_err(anyhow::Error::from)?)
}

fn handle(conn: &mut DbConnection, env: &Envelope, _events: &mut Events) -> Result<(), DbError> {
    if !env.is::<FrameworkPublished>() {
        return Ok(());
    }
    let e: FrameworkPublished = env.decode().map_err(anyhow::Error::from)?;
    let lot_ids: Vec<String> = e.lots.iter().map(|l| l.lot_id.to_string()).collect();
    store::keep_framework(
        conn,
        &KnownFrameworkRow {
            id: e.framework_id.to_string(),
            partnership: e.partnership,
            purchasing_bodies: json(&e.purchasing_bodies)?,
            lot_ids: json(&lot_ids)?,
            as_of: env.occurred_at.naive_utc(),
        },
    )
}
