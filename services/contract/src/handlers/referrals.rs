//! The replica of referral facts (`store::referral_facts`): which referrals exist, whose
//! and in which partnership they are, whether withdrawn, whether a competition is open for
//! them. Fed by the referral service's `referral.submitted`, `referral.withdrawn` and
//! `referral.closed` and the
//! competition service's `competition.opened`, `.closed` and `.awarded`.
//!
//! Ordering: the events come from two services, through retries, so they may arrive in any
//! order. Any of them makes the referral known (each is about a submitted referral); a
//! withdrawal or a close is for good, whenever it arrives; competition events apply by `occurred_at`,
//! the latest winning, and a close of a competition the referral is no longer in changes
//! nothing (as the referral service applies them). The partnership is the envelope's.

use chrono::Utc;
use hub_bus::{Events, Subscription};
use hub_events::{
    CompetitionAwarded, CompetitionClosed, CompetitionOpened, Envelope, Event, ReferralClosed,
    ReferralSubmitted, ReferralWithdrawn,
};
use hub_platform::db::{DbConnection, DbError};

use crate::store::referral_facts::{self as facts, CompetitionFact, Ended};

pub fn subscription() -> Subscription {
    Subscription::new(
        crate::NAME,
        "referrals",
        &[
            ReferralSubmitted::TYPE,
            ReferralWithdrawn::TYPE,
            ReferralClosed::TYPE,
            CompetitionOpened::TYPE,
            CompetitionClosed::TYPE,
            CompetitionAwarded::TYPE,
        ],
    )
}

pub fn handle(
    conn: &mut DbConnection,
    env: &Envelope,
    _events: &mut Events,
) -> Result<(), DbError> {
    let now = Utc::now().naive_utc();
    let at = env.occurred_at.naive_utc();
    let p = env.partnership.as_str();
    let decode = |e: hub_events::EventError| DbError::from(anyhow::Error::from(e));
    if env.is::<ReferralSubmitted>() {
        let e: ReferralSubmitted = env.decode().map_err(decode)?;
        facts::seen(conn, &e.referral_id.to_string(), &e.council, p, now)?;
    } else if env.is::<ReferralWithdrawn>() {
        let e: ReferralWithdrawn = env.decode().map_err(decode)?;
        let id = e.referral_id.to_string();
        facts::ended(conn, &id, &e.council, p, Ended::Withdrawn, now)?;
    } else if env.is::<ReferralClosed>() {
        let e: ReferralClosed = env.decode().map_err(decode)?;
        let id = e.referral_id.to_string();
        facts::ended(conn, &id, &e.council, p, Ended::Closed, now)?;
    } else {
        let (referral, council, competition, fact) = if env.is::<CompetitionOpened>() {
            let e: CompetitionOpened = env.decode().map_err(decode)?;
            (
                e.referral_id,
                e.council,
                e.competition_id,
                CompetitionFact::Opened,
            )
        } else if env.is::<CompetitionClosed>() {
            let e: CompetitionClosed = env.decode().map_err(decode)?;
            (
                e.referral_id,
                e.council,
                e.competition_id,
                CompetitionFact::Closed,
            )
        } else if env.is::<CompetitionAwarded>() {
            let e: CompetitionAwarded = env.decode().map_err(decode)?;
            (
                e.referral_id,
                e.council,
                e.competition_id,
                CompetitionFact::Awarded,
            )
        } else {
            return Ok(());
        };
        facts::competition(
            conn,
            &referral.to_string(),
            &council,
            p,
            &competition.to_string(),
            fact,
            at,
            now,
        )?;
    }
    Ok(())
}
