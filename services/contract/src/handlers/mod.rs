//! Event consumers of the contract service, and its clock ([`sweep`]).
//!
//! * `awards`: `competition.awarded` → an order.
//! * `referrals`: the replica of referral facts a block-bed placement is checked against
//!   ([`referrals`]).

pub mod referrals;
pub mod sweep;

use chrono::Utc;
use diesel::prelude::*;
use hub_bus::{Events, Store, Subscription};
use hub_events::{CompetitionAwarded, Envelope, Event, OrderIssued};
use hub_platform::{
    Settings,
    db::{DbConnection, DbError},
    directory,
};
use uuid::Uuid;

use crate::{
    domain::{OrderStatus, emergency_due_by, order_due_by},
    schema::*,
    store::{self, OrderRow},
};

pub fn subscription() -> Subscription {
    Subscription::new(crate::NAME, "awards", &[CompetitionAwarded::TYPE])
}

pub async fn subscribe(
    store: &Store,
    transport: &dyn hub_bus::Transport,
    settings: &Settings,
) -> anyhow::Result<()> {
    let sub = subscription();
    let sign_within = settings.contract.sign_within_working_days;
    transport
        .subscribe(
            sub.clone(),
            store.handler(&sub, move |conn, env, events| {
                handle(conn, env, events, sign_within)
            }),
        )
        .await?;
    let facts = referrals::subscription();
    transport
        .subscribe(facts.clone(), store.handler(&facts, referrals::handle))
        .await?;
    Ok(())
}

fn handle(
    conn: &mut DbConnection,
    env: &Envelope,
    events: &mut Events,
    sign_within: u32,
) -> Result<(), DbError> {
    if env.is::<CompetitionAwarded>() {
        let e: CompetitionAwarded = env.decode().map_err(anyhow::Error::from)?;
        issue_order(conn, env, &e, events, sign_within)?;
    }
    Ok(())
}

/// Issues the order for an award and emits `contract.order_issued`.
fn issue_order(
    conn: &mut DbConnection,
    env: &Envelope,
    e: &CompetitionAwarded,
    events: &mut Events,
    sign_within: u32,
) -> Result<(), DbError> {
    // The partnership decides who sees the money downstream: refuse (retry, then dead-letter)
    // an award whose council is not a member of the partnership it was sent for.
    let member = directory::partnership(&env.partnership).is_some_and(|p| p.has_member(&e.council));
    if !member {
        return Err(anyhow::anyhow!(
            "award {} for council {} names partnership `{}`, which the council is not a member of",
            e.competition_id,
            e.council,
            env.partnership
        )
        .into());
    }
    // Inbox dedupe covers redelivery of this event; a second award event for the same
    // competition (a new event id) must not issue a second order either.
    if let Some(existing) = store::order_for_competition(conn, &e.competition_id.to_string())? {
        tracing::warn!(order_id = %existing.id, competition_id = %e.competition_id, "order already issued for this award; skipped");
        return Ok(());
    }
    let now = Utc::now().naive_utc();
    // An emergency order (a direct award) is due by the timescale the parties agree; until
    // the commissioner records it, a provisional day counted from the later of issue and start.
    let due_by = if e.direct {
        emergency_due_by(now.date(), e.start_date, sign_within)
    } else {
        order_due_by(now.date(), sign_within)
    };
    let row = OrderRow {
        id: Uuid::now_v7().to_string(),
        competition_id: e.competition_id.to_string(),
        referral_id: e.referral_id.to_string(),
        council: e.council.clone(),
        partnership: env.partnership.clone(),
        provider_id: e.provider_id.clone(),
        framework_id: e.framework_id.to_string(),
        weekly_rate_pence: e.weekly_rate_pence,
        start_date: e.start_date,
        status: OrderStatus::Issued.code().to_owned(),
        issued_at: now,
        due_by,
        signed_by: None,
        signed_at: None,
        lot_id: Some(e.lot_id.to_string()),
        emergency: e.direct,
        timescale_agreed_with: None,
        timescale_recorded_by: None,
        timescale_recorded_at: None,
        late: false,
        declined_by: None,
        declined_at: None,
        decline_reason: None,
        decline_detail: None,
        overdue_raised_at: None,
    };
    diesel::insert_into(orders::table)
        .values(&row)
        .execute(conn)?;
    events.emit(
        &row.partnership,
        &OrderIssued {
            order_id: Uuid::parse_str(&row.id).map_err(anyhow::Error::from)?,
            competition_id: e.competition_id,
            referral_id: e.referral_id,
            council: row.council.clone(),
            provider_id: row.provider_id.clone(),
            framework_id: e.framework_id,
            weekly_rate_pence: row.weekly_rate_pence,
            start_date: row.start_date,
            due_by: row.due_by,
            emergency: e.direct,
        },
    );
    tracing::info!(order_id = %row.id, competition_id = %row.competition_id, provider_id = %row.provider_id, due_by = %row.due_by, "order issued");
    Ok(())
}
