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
//! facts (invitations), those are still kept. See [`crate::domain::after`]. A competition
//! event older (by `occurred_at`) than the last one applied arrived late, after a retry, and
//! changes nothing either; the same competition id may open again (a reopened competition, a
//! reviewed direct award), so ids alone cannot tell.

use chrono::Utc;
use diesel::prelude::*;
use hub_bus::{Events, Store, Subscription};
pub mod frameworks;

use hub_events::{
    CompetitionAwarded, CompetitionClosed, CompetitionOpened, Envelope, Event, PlacementStarted,
    ReferralReturned,
};
use hub_platform::db::{DbConnection, DbError};

use crate::{
    domain::{self, Happening, Status},
    store::{self, ReferralRow, Transition, schema::*},
};

pub fn subscription() -> Subscription {
    Subscription::new(
        crate::NAME,
        "lifecycle",
        &[
            CompetitionOpened::TYPE,
            CompetitionClosed::TYPE,
            CompetitionAwarded::TYPE,
            PlacementStarted::TYPE,
            ReferralReturned::TYPE,
        ],
    )
}

pub async fn subscribe(store: &Store, transport: &dyn hub_bus::Transport) -> anyhow::Result<()> {
    let sub = subscription();
    transport
        .subscribe(sub.clone(), store.handler(&sub, handle))
        .await?;
    frameworks::subscribe(store, transport).await?;
    Ok(())
}

/// The referral an event is about. A referral this service never wrote is an error (retried,
/// then dead-lettered): every competition starts from one of its referrals.
fn referral(conn: &mut DbConnection, id: &str, event: &str) -> Result<ReferralRow, DbError> {
    store::find(conn, id)?
        .ok_or_else(|| DbError::Other(anyhow::anyhow!("{event} for unknown referral {id}")))
}

/// What an event does to a referral's status.
struct Effect<'a> {
    happening: Happening<'a>,
    action: &'a str,
    actor: &'a str,
    detail: Option<String>,
    /// The referral's status reason if the status changes.
    reason: Option<String>,
    /// Sets the competition the referral is in, and its awarded provider, if it changes.
    competition: Option<&'a str>,
    awarded: Option<&'a str>,
}

fn apply(
    conn: &mut DbConnection,
    row: &ReferralRow,
    env: &Envelope,
    e: Effect<'_>,
) -> Result<(), DbError> {
    let from = Status::parse(&row.status)
        .ok_or_else(|| DbError::Other(anyhow::anyhow!("stored status `{}`", row.status)))?;
    let at = env.occurred_at.naive_utc();
    let from_competition = !matches!(e.happening, Happening::PlacementStarted);
    if from_competition && row.competition_at.is_some_and(|last| at < last) {
        tracing::warn!(referral_id = %row.id, event_type = %env.event_type, event_id = %env.id,
            "competition event older than the last one applied; status unchanged");
        return Ok(());
    }
    let Some(to) = domain::after(from, row.competition_id.as_deref(), e.happening) else {
        tracing::info!(referral_id = %row.id, status = %row.status, event_type = %env.event_type,
            event_id = %env.id, "event does not apply to the referral as it is; status unchanged");
        return Ok(());
    };
    let now = Utc::now().naive_utc();
    let target = referrals::table.find(&row.id);
    diesel::update(target)
        .set((
            referrals::status.eq(to.code()),
            referrals::updated_at.eq(now),
            referrals::status_reason.eq(e.reason.or_else(|| {
                // A reason stays only while its status does.
                (from == to).then(|| row.status_reason.clone()).flatten()
            })),
        ))
        .execute(conn)?;
    if from_competition {
        diesel::update(target)
            .set(referrals::competition_at.eq(Some(at)))
            .execute(conn)?;
    }
    if let Some(c) = e.competition {
        diesel::update(target)
            .set(referrals::competition_id.eq(Some(c)))
            .execute(conn)?;
    }
    if let Some(p) = e.awarded {
        diesel::update(target)
            .set(referrals::awarded_provider.eq(Some(p)))
            .execute(conn)?;
    }
    store::record(
        conn,
        &row.id,
        now,
        Transition {
            action: e.action,
            from: from.code(),
            to: to.code(),
            version: row.version,
            actor: e.actor,
            actor_org: &row.council,
            detail: e.detail,
        },
    )
}

fn handle(conn: &mut DbConnection, env: &Envelope, _events: &mut Events) -> Result<(), DbError> {
    let now = Utc::now().naive_utc();
    let source = format!("{} service", env.source);
    if env.is::<CompetitionOpened>() {
        opened(conn, env, &source, now)?;
    } else if env.is::<CompetitionClosed>() {
        let e: CompetitionClosed = env.decode().map_err(anyhow::Error::from)?;
        let row = referral(conn, &e.referral_id.to_string(), CompetitionClosed::TYPE)?;
        let competition = e.competition_id.to_string();
        let why = format!(
            "competition {competition} closed without an award: {}",
            e.reason.code()
        );
        apply(
            conn,
            &row,
            env,
            Effect {
                happening: Happening::CompetitionClosed {
                    competition_id: &competition,
                },
                action: "competition_closed",
                actor: &source,
                detail: Some(why.clone()),
                reason: Some(why),
                competition: None,
                awarded: None,
            },
        )?;
    } else if env.is::<CompetitionAwarded>() {
        let e: CompetitionAwarded = env.decode().map_err(anyhow::Error::from)?;
        let row = referral(conn, &e.referral_id.to_string(), CompetitionAwarded::TYPE)?;
        let competition = e.competition_id.to_string();
        apply(
            conn,
            &row,
            env,
            Effect {
                happening: Happening::Awarded {
                    competition_id: &competition,
                },
                action: "awarded",
                actor: &e.awarded_by,
                detail: Some(format!(
                    "{} to {} ({competition})",
                    if e.direct { "direct award" } else { "awarded" },
                    e.provider_id
                )),
                reason: None,
                competition: Some(&competition),
                awarded: Some(&e.provider_id),
            },
        )?;
    } else if env.is::<PlacementStarted>() {
        let e: PlacementStarted = env.decode().map_err(anyhow::Error::from)?;
        let row = referral(conn, &e.referral_id.to_string(), PlacementStarted::TYPE)?;
        apply(
            conn,
            &row,
            env,
            Effect {
                happening: Happening::PlacementStarted,
                action: "placed",
                actor: &source,
                detail: Some(format!(
                    "placement {} with {} from {}",
                    e.placement_id, e.provider_id, e.start_date
                )),
                reason: None,
                competition: None,
                awarded: None,
            },
        )?;
    } else if env.is::<ReferralReturned>() {
        returned(conn, env, &source)?;
    }
    Ok(())
}

/// `competition.opened`: the invited providers are recorded (they may read the referral).
fn opened(
    conn: &mut DbConnection,
    env: &Envelope,
    source: &str,
    now: chrono::NaiveDateTime,
) -> Result<(), DbError> {
    let e: CompetitionOpened = env.decode().map_err(anyhow::Error::from)?;
    let row = referral(conn, &e.referral_id.to_string(), CompetitionOpened::TYPE)?;
    let competition = e.competition_id.to_string();
    store::invite(
        conn,
        &row.id,
        &e.invited,
        &competition,
        e.referral_version as i32,
        now,
    )?;
    apply(
        conn,
        &row,
        env,
        Effect {
            happening: Happening::CompetitionOpened {
                competition_id: &competition,
            },
            action: "competition_opened",
            actor: source,
            detail: Some(format!(
                "competition {competition} on version {}: {} providers invited",
                e.referral_version,
                e.invited.len()
            )),
            reason: None,
            competition: Some(&competition),
            awarded: None,
        },
    )?;
    Ok(())
}

/// `competition.referral_returned`: back to the council with the reason code, unless the
/// return is of an earlier version (re-routed since).
fn returned(conn: &mut DbConnection, env: &Envelope, source: &str) -> Result<(), DbError> {
    let e: ReferralReturned = env.decode().map_err(anyhow::Error::from)?;
    let row = referral(conn, &e.referral_id.to_string(), ReferralReturned::TYPE)?;
    if (e.referral_version as i32) < row.version {
        tracing::info!(referral_id = %row.id, version = row.version, returned = e.referral_version,
            "return of an earlier version; the referral was re-routed since");
        return Ok(());
    }
    let code = e.reason.code();
    apply(
        conn,
        &row,
        env,
        Effect {
            happening: Happening::Returned,
            action: "returned",
            actor: source,
            detail: Some(format!(
                "version {} cannot be routed: {code}",
                e.referral_version
            )),
            reason: Some(code.to_owned()),
            competition: None,
            awarded: None,
        },
    )?;
    Ok(())
}
