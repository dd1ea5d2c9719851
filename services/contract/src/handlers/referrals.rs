//! The replica of referral facts (`store::referral_facts`): which referrals exist, whose
//! and in which partnership they are, whether withdrawn, whether a competition is open for
//! them. Fed by the referral service's `referral.submitted`, `referral.withdrawn` and
//! `referral.closed` and the competition service's `competition.opened`, `.closed` and
//! `.awarded`.
//!
//! Ordering: the events come from two services, through retries, so they may arrive in any
//! order. Any of them makes the referral known (each is about a submitted referral); a
//! withdrawal or a close is for good, whenever it arrives; competition events apply by
//! `occurred_at`, the latest winning, and a close of a competition the referral is no longer
//! in changes nothing (as the referral service applies them). The partnership is the
//! envelope's.

use chrono::Utc;
use hub_bus::{Events, Handlers};
use hub_events::{
    CompetitionAwarded, CompetitionClosed, CompetitionOpened, Envelope, ReferralClosed,
    ReferralSubmitted, ReferralWithdrawn,
};
use hub_platform::db::{DbConnection, DbError};
use uuid::Uuid;

use crate::store::referral_facts::{self as facts, CompetitionFact, Ended};

pub fn handlers() -> Handlers {
    Handlers::new(crate::NAME, "referrals")
        .on::<ReferralSubmitted>(submitted)
        .on::<ReferralWithdrawn>(|conn, env, e, _| {
            ended(conn, env, e.referral_id, &e.council, Ended::Withdrawn)
        })
        .on::<ReferralClosed>(|conn, env, e, _| {
            ended(conn, env, e.referral_id, &e.council, Ended::Closed)
        })
        .on::<CompetitionOpened>(|conn, env, e, _| {
            let ids = (e.referral_id, e.competition_id);
            competition(conn, env, ids, &e.council, CompetitionFact::Opened)
        })
        .on::<CompetitionClosed>(|conn, env, e, _| {
            let ids = (e.referral_id, e.competition_id);
            competition(conn, env, ids, &e.council, CompetitionFact::Closed)
        })
        .on::<CompetitionAwarded>(|conn, env, e, _| {
            let ids = (e.referral_id, e.competition_id);
            competition(conn, env, ids, &e.council, CompetitionFact::Awarded)
        })
}

fn submitted(
    conn: &mut DbConnection,
    env: &Envelope,
    e: ReferralSubmitted,
    _events: &mut Events,
) -> Result<(), DbError> {
    let now = Utc::now().naive_utc();
    facts::seen(
        conn,
        e.referral_id.into(),
        &e.council,
        &env.partnership,
        now,
    )?;
    Ok(())
}

fn ended(
    conn: &mut DbConnection,
    env: &Envelope,
    referral: Uuid,
    council: &str,
    how: Ended,
) -> Result<(), DbError> {
    let now = Utc::now().naive_utc();
    facts::ended(conn, referral.into(), council, &env.partnership, how, now)
}

/// A competition event about `(referral, competition)`, applied by when it happened.
fn competition(
    conn: &mut DbConnection,
    env: &Envelope,
    (referral, competition): (Uuid, Uuid),
    council: &str,
    fact: CompetitionFact,
) -> Result<(), DbError> {
    let at = env.occurred_at.naive_utc();
    let now = Utc::now().naive_utc();
    let about = facts::About {
        referral: referral.into(),
        council,
        partnership: &env.partnership,
    };
    facts::competition(conn, &about, competition.into(), fact, at, now)
}
