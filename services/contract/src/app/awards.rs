//! `competition.awarded` → an order (`issued`) and `contract.order_issued`.
//!
//! * An award whose council is not a member of the envelope's partnership is refused: the
//!   partnership decides whose finance staff see the money downstream, and the award will
//!   never fit, so it is dead-lettered at once with the reason rather than retried.
//! * One order per competition: an award announced again under a new event id is skipped
//!   (redelivery of the same event is the inbox's to drop).

use chrono::Utc;
use hub_bus::Events;
use hub_events::{CompetitionAwarded, Envelope, OrderIssued};
use hub_platform::{
    Pence,
    db::{DbConnection, DbError},
    directory,
};

use crate::{
    domain::{Order, OrderStatus, emergency_due_by, order_due_by},
    ids::OrderId,
    store,
};

/// Issues the order for an award, due back signed within `sign_within` working days, and
/// emits `contract.order_issued`.
pub fn issue_order(
    conn: &mut DbConnection,
    env: &Envelope,
    e: &CompetitionAwarded,
    events: &mut Events,
    sign_within: u32,
) -> Result<(), DbError> {
    let member = directory::partnership(&env.partnership).is_some_and(|p| p.has_member(&e.council));
    if !member {
        return Err(DbError::refused(format!(
            "award {} for council {} names partnership `{}`, which the council is not a member of",
            e.competition_id, e.council, env.partnership
        )));
    }
    if let Some(existing) = store::order_for_competition(conn, e.competition_id.into())? {
        tracing::warn!(order_id = %existing.id, competition_id = %e.competition_id, "order already issued for this award; skipped");
        return Ok(());
    }
    let order = order_of(env, e, sign_within);
    store::orders::insert(conn, &order)?;
    events.emit(
        &order.partnership,
        &OrderIssued {
            order_id: order.id.into(),
            competition_id: e.competition_id,
            referral_id: e.referral_id,
            council: order.council.clone(),
            provider_id: order.provider_id.clone(),
            framework_id: e.framework_id,
            weekly_rate_pence: order.weekly_rate_pence.0,
            start_date: order.start_date,
            due_by: order.due_by,
            emergency: e.direct,
        },
    );
    tracing::info!(order_id = %order.id, competition_id = %order.competition_id, provider_id = %order.provider_id, due_by = %order.due_by, "order issued");
    Ok(())
}

/// The issued order an award calls off.
fn order_of(env: &Envelope, e: &CompetitionAwarded, sign_within: u32) -> Order {
    let now = Utc::now().naive_utc();
    // An emergency order (a direct award) is due by the timescale the parties agree; until
    // the commissioner records it, a provisional day counted from the later of issue and start.
    let due_by = if e.direct {
        emergency_due_by(now.date(), e.start_date, sign_within)
    } else {
        order_due_by(now.date(), sign_within)
    };
    Order {
        id: OrderId::new(),
        competition_id: e.competition_id.into(),
        referral_id: e.referral_id.into(),
        council: e.council.clone(),
        partnership: env.partnership.clone(),
        provider_id: e.provider_id.clone(),
        framework_id: e.framework_id.into(),
        weekly_rate_pence: Pence(e.weekly_rate_pence),
        start_date: e.start_date,
        status: OrderStatus::Issued,
        issued_at: now,
        due_by,
        signed_by: None,
        signed_at: None,
        lot_id: Some(e.lot_id.into()),
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
        revision: 1,
    }
}
