//! Event consumers of the competition service: referrals open and close competitions
//! (`referrals`), block-contract beds become vacancies (`beds`, in [`offered_beds`]). Each
//! handler takes its event decoded (`hub_bus::Handlers`) and does its work through
//! [`crate::app`] and [`crate::store`]; a referral that cannot be routed is returned to its
//! council by an event, not refused, since the council must hear of it.

pub mod offered_beds;

use chrono::Utc;
use hub_bus::{Events, Handlers, Store};
use hub_events::{
    CompetitionCloseReason, Envelope, ReferralReturnReason, ReferralReturned, ReferralSubmitted,
    ReferralWithdrawn,
};
use hub_platform::db::{DbConnection, DbError};

use crate::{
    app::competitions::{Closing, Opening, close, open},
    domain::{
        self, Competition, Framework, Lot, Route, STANDARD,
        calloff::{LogAction, Status},
        preselection::Preselection,
    },
    ids::CompetitionId,
    store,
};

/// The referrals consumer: what opens and closes competitions.
pub fn referrals() -> Handlers {
    Handlers::new(crate::NAME, "referrals")
        .on::<ReferralSubmitted>(submitted)
        .on::<ReferralWithdrawn>(withdrawn)
}

/// The referrals subscription (its queue and bindings), for tools that manage queues.
pub fn subscription() -> hub_bus::Subscription {
    referrals().subscription()
}

pub async fn subscribe(store: &Store, transport: &dyn hub_bus::Transport) -> anyhow::Result<()> {
    referrals().subscribe(store, transport).await?;
    offered_beds::beds().subscribe(store, transport).await?;
    Ok(())
}

/// A submitted referral routed to this framework: a mini-competition opens at once inviting
/// every provider admitted to the lot; a preselected one waits as a draft for the
/// commissioner to confirm who is invited; a direct award waits for the commissioner to
/// name the provider.
///
/// A referral that cannot be routed (an unknown framework or lot, a lot of another framework,
/// a framework of another partnership, a council that is not one of its purchasing bodies) is
/// put back to its council with the reason as a code (`competition.referral_returned`), never
/// dropped silently. The referral service refuses most of these itself from its replica of
/// the frameworks (`competition.framework_published`); this is what it could not know yet.
fn submitted(
    conn: &mut DbConnection,
    env: &Envelope,
    e: ReferralSubmitted,
    events: &mut Events,
) -> Result<(), DbError> {
    let partnership = env.partnership.as_str();
    // Other routes source the placement elsewhere: nothing to do here.
    let Ok(route) = e.route.parse::<Route>() else {
        return Ok(());
    };
    let status = route.first_status();
    let found = routable(conn, partnership, &e)?;
    let (framework, lot) = match found {
        Ok(found) => found,
        Err(reason) => {
            tracing::warn!(referral_id = %e.referral_id, council = %e.council, reason = reason.code(),
                "referral cannot be routed; returned to its council");
            events.emit(
                partnership,
                &ReferralReturned {
                    referral_id: e.referral_id,
                    referral_version: e.version,
                    council: e.council.clone(),
                    reason,
                },
            );
            return Ok(());
        }
    };
    if store::competitions_of_referral(conn, &e.referral_id.into())?
        .iter()
        .any(|c| c.status.is_live())
    {
        tracing::warn!(referral_id = %e.referral_id, "the referral already has a live competition");
        return Ok(());
    }
    let mut row = new_competition(&e, &framework, &lot, route);
    store::insert_competition(conn, &row)?;
    if status == Status::Open {
        let invited = store::admitted_providers(conn, &lot.id)?;
        open(
            conn,
            events,
            &mut row,
            &lot,
            Opening {
                invited,
                deadline: None,
                actor: &e.submitted_by,
                org: &e.council,
                action: LogAction::Opened,
                reason: Some("mini-competition of every provider admitted to the lot"),
            },
        )?;
    }
    Ok(())
}

/// The competition a submitted referral opens on `lot`, to be stored before it opens.
fn new_competition(
    e: &ReferralSubmitted,
    framework: &Framework,
    lot: &Lot,
    route: Route,
) -> Competition {
    let now = Utc::now();
    let status = route.first_status();
    Competition {
        id: CompetitionId::new(),
        referral_id: e.referral_id.into(),
        referral_version: e.version as i32,
        council: e.council.clone(),
        partnership: framework.partnership.clone(),
        framework_id: framework.id,
        lot_id: lot.id,
        // An open one is stored as a draft and opened at once (`open` invites and tells).
        status: if status == Status::AwaitingDirectAward {
            status
        } else {
            Status::Draft
        },
        urgency: e.urgency,
        deadline: domain::deadline(now, e.urgency).naive_utc(),
        awarded_provider: None,
        awarded_bid: None,
        awarded_by: None,
        created_at: now.naive_utc(),
        route,
        need_level: STANDARD.into(),
        criteria: lot.criteria(),
        requirement: Some(e.clone()),
        preselection: (status == Status::Draft).then(|| Preselection::for_referral(e)),
        left_out: None,
        opened_at: None,
        opened_by: None,
        closed_reason: None,
        direct: false,
        awarded_rate_pence: None,
        awarded_start_date: None,
        awarded_at: None,
        review_date: None,
        reopened_from: None,
        bidding_closed_at: None,
        bidding_closed_reason: None,
        revision: 1,
    }
}

/// The framework and lot a submitted referral names, or why it cannot be routed to them.
fn routable(
    conn: &mut DbConnection,
    partnership: &str,
    e: &ReferralSubmitted,
) -> Result<Result<(Framework, Lot), ReferralReturnReason>, DbError> {
    let Some(framework) = store::framework(conn, &e.framework_id.into())? else {
        return Ok(Err(ReferralReturnReason::UnknownFramework));
    };
    let Some(lot) = store::lot(conn, &e.lot_id.into())? else {
        return Ok(Err(ReferralReturnReason::UnknownLot));
    };
    Ok(if lot.framework_id != framework.id {
        Err(ReferralReturnReason::LotNotInFramework)
    } else if framework.partnership != partnership {
        Err(ReferralReturnReason::OtherPartnership)
    } else if !framework.may_call_off(&e.council) {
        Err(ReferralReturnReason::NotAPurchasingBody)
    } else {
        Ok((framework, lot))
    })
}

/// A withdrawn referral closes its competitions that are still looking for a provider.
fn withdrawn(
    conn: &mut DbConnection,
    _: &Envelope,
    e: ReferralWithdrawn,
    events: &mut Events,
) -> Result<(), DbError> {
    for c in store::competitions_of_referral(conn, &e.referral_id.into())? {
        if c.council != e.council || !c.status.is_live() {
            continue;
        }
        close(
            conn,
            events,
            &c,
            Closing {
                reason: CompetitionCloseReason::ReferralWithdrawn,
                detail: None,
                provider_message: None,
                actor: "referral-service",
                org: &e.council,
            },
        )?;
    }
    Ok(())
}
