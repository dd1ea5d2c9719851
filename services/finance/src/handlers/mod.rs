//! Event consumers of the finance service.

use chrono::Utc;
use hub_bus::{Events, Store, Subscription};
use hub_events::{Envelope, Event, PlacementStarted};
use hub_platform::{
    Pence,
    db::{DbConnection, DbError},
    directory,
};
use uuid::Uuid;

use crate::{
    domain::{SourceKind, placement_commitment},
    store::{self, CommitmentRow},
};

pub fn subscription() -> Subscription {
    Subscription::new(crate::NAME, "commitments", &[PlacementStarted::TYPE])
}

pub async fn subscribe(store: &Store, transport: &dyn hub_bus::Transport) -> anyhow::Result<()> {
    let sub = subscription();
    transport
        .subscribe(sub.clone(), store.handler(&sub, handle))
        .await?;
    Ok(())
}

fn handle(conn: &mut DbConnection, env: &Envelope, _events: &mut Events) -> Result<(), DbError> {
    if env.is::<PlacementStarted>() {
        let e: PlacementStarted = env.decode().map_err(anyhow::Error::from)?;
        commit_placement(conn, env, &e)?;
    }
    Ok(())
}

/// Commits a started placement's cost from its start date to the end of that financial year.
fn commit_placement(
    conn: &mut DbConnection,
    env: &Envelope,
    e: &PlacementStarted,
) -> Result<(), DbError> {
    // Ledger lines are shown to the partnership named here: refuse (retry, then dead-letter)
    // rather than file a council's money under a partnership it is not in.
    let member = directory::partnership(&env.partnership).is_some_and(|p| p.has_member(&e.council));
    if !member {
        return Err(anyhow::anyhow!(
            "placement {} of council {} names partnership `{}`, which the council is not a member of",
            e.placement_id,
            e.council,
            env.partnership
        )
        .into());
    }
    if e.weekly_rate_pence < 0 {
        return Err(
            anyhow::anyhow!("placement {} has a negative weekly rate", e.placement_id).into(),
        );
    }
    let kind = SourceKind::Placement.code();
    let source_id = e.placement_id.to_string();
    // The inbox covers redelivery; this covers the same placement announced twice.
    if store::has_lines(conn, kind, &source_id)? {
        tracing::warn!(placement_id = %source_id, "placement already committed; skipped");
        return Ok(());
    }
    let now = Utc::now().naive_utc();
    let lines: Vec<CommitmentRow> = placement_commitment(Pence(e.weekly_rate_pence), e.start_date)
        .into_iter()
        .map(|l| CommitmentRow {
            id: Uuid::now_v7().to_string(),
            partnership: env.partnership.clone(),
            council: e.council.clone(),
            source_kind: kind.to_owned(),
            source_id: source_id.clone(),
            provider_id: e.provider_id.clone(),
            year: l.year.0,
            period: l.period as i32,
            days: l.days as i32,
            weekly_rate_pence: e.weekly_rate_pence,
            amount_pence: l.amount.0,
            created_at: now,
        })
        .collect();
    store::insert_lines(conn, &lines)?;
    let total: i64 = lines.iter().map(|l| l.amount_pence).sum();
    tracing::info!(placement_id = %source_id, partnership = %env.partnership, lines = lines.len(), committed_pence = total, "placement committed");
    Ok(())
}
