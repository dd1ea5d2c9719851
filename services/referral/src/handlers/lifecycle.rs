//! One handler per event that moves a referral: each says what the event means for it
//! ([`Progress`]) and leaves the rules to [`crate::app::progress`].

use chrono::Utc;
use hub_bus::Events;
use hub_events::{
    CompetitionAwarded, CompetitionClosed, CompetitionOpened, Envelope, Event, PlacementStarted,
    ReferralReturned,
};
use hub_platform::db::{DbConnection, DbError};

use crate::app::progress::{self, Progress};
use crate::domain::{Happening, ReferralAction};
use crate::ids::{CompetitionId, ReferralId};
use crate::store;

/// The service whose event it is, as the history names it.
fn source(env: &Envelope) -> String {
    format!("{} service", env.source)
}

/// `competition.opened`: the invited providers are recorded (they may read the referral,
/// from the version they were invited on), then submitted → in_competition.
pub fn opened(
    conn: &mut DbConnection,
    env: &Envelope,
    e: CompetitionOpened,
    _: &mut Events,
) -> Result<(), DbError> {
    let r = progress::referral(conn, ReferralId(e.referral_id), CompetitionOpened::TYPE)?;
    let competition = CompetitionId(e.competition_id);
    let version = e.referral_version as i32;
    store::invite(
        conn,
        r.id,
        &e.invited,
        competition,
        version,
        Utc::now().naive_utc(),
    )?;
    let progress = Progress {
        happening: Happening::CompetitionOpened {
            competition_id: competition,
        },
        action: ReferralAction::CompetitionOpened,
        actor: &source(env),
        detail: Some(format!(
            "competition {competition} on version {}: {} providers invited",
            e.referral_version,
            e.invited.len()
        )),
        reason: None,
        competition: Some(competition),
        awarded: None,
    };
    progress::apply(conn, r, env, progress)
}

/// `competition.closed` without an award: back to submitted, with the reason code, for the
/// council to re-route.
pub fn closed(
    conn: &mut DbConnection,
    env: &Envelope,
    e: CompetitionClosed,
    _: &mut Events,
) -> Result<(), DbError> {
    let r = progress::referral(conn, ReferralId(e.referral_id), CompetitionClosed::TYPE)?;
    let competition = CompetitionId(e.competition_id);
    let why = format!(
        "competition {competition} closed without an award: {}",
        e.reason.code()
    );
    let progress = Progress {
        happening: Happening::CompetitionClosed {
            competition_id: competition,
        },
        action: ReferralAction::CompetitionClosed,
        actor: &source(env),
        detail: Some(why.clone()),
        reason: Some(why),
        competition: None,
        awarded: None,
    };
    progress::apply(conn, r, env, progress)
}

/// `competition.awarded` (a mini-competition's award or a direct award): the winner reads
/// the full document from then on.
pub fn awarded(
    conn: &mut DbConnection,
    env: &Envelope,
    e: CompetitionAwarded,
    _: &mut Events,
) -> Result<(), DbError> {
    let r = progress::referral(conn, ReferralId(e.referral_id), CompetitionAwarded::TYPE)?;
    let competition = CompetitionId(e.competition_id);
    let how = if e.direct { "direct award" } else { "awarded" };
    let progress = Progress {
        happening: Happening::Awarded {
            competition_id: competition,
        },
        action: ReferralAction::Awarded,
        actor: &e.awarded_by,
        detail: Some(format!("{how} to {} ({competition})", e.provider_id)),
        reason: None,
        competition: Some(competition),
        awarded: Some(&e.provider_id),
    };
    progress::apply(conn, r, env, progress)
}

/// `contract.placement_started`: every placement places its referral, whatever the route.
pub fn placed(
    conn: &mut DbConnection,
    env: &Envelope,
    e: PlacementStarted,
    _: &mut Events,
) -> Result<(), DbError> {
    let r = progress::referral(conn, ReferralId(e.referral_id), PlacementStarted::TYPE)?;
    let progress = Progress {
        happening: Happening::PlacementStarted,
        action: ReferralAction::Placed,
        actor: &source(env),
        detail: Some(format!(
            "placement {} with {} from {}",
            e.placement_id, e.provider_id, e.start_date
        )),
        reason: None,
        competition: None,
        awarded: None,
    };
    progress::apply(conn, r, env, progress)
}

/// `competition.referral_returned`: back to the council with the reason code, unless the
/// return is of an earlier version (re-routed since).
pub fn returned(
    conn: &mut DbConnection,
    env: &Envelope,
    e: ReferralReturned,
    _: &mut Events,
) -> Result<(), DbError> {
    let r = progress::referral(conn, ReferralId(e.referral_id), ReferralReturned::TYPE)?;
    if (e.referral_version as i32) < r.version {
        tracing::info!(referral_id = %r.id, version = r.version, returned = e.referral_version,
            "return of an earlier version; the referral was re-routed since");
        return Ok(());
    }
    let code = e.reason.code();
    let progress = Progress {
        happening: Happening::Returned,
        action: ReferralAction::Returned,
        actor: &source(env),
        detail: Some(format!(
            "version {} cannot be routed: {code}",
            e.referral_version
        )),
        reason: Some(code.to_owned()),
        competition: None,
        awarded: None,
    };
    progress::apply(conn, r, env, progress)
}
