//! What another service's event does to a referral: the competition service opens, closes,
//! awards or returns it, the contract service places it.
//!
//! Rules ([`domain::after`] decides the status):
//! * an event that no longer applies (the referral was withdrawn meanwhile, the close of a
//!   competition it is no longer in) changes nothing and is logged;
//! * a competition event older (by `occurred_at`) than the last one applied arrived late,
//!   after a retry, and changes nothing either: the same competition id may open again (a
//!   reopened competition, a reviewed direct award), so ids alone cannot tell;
//! * a status reason stays only while its status does.

use chrono::Utc;
use hub_events::Envelope;
use hub_platform::{DbConnection, db::DbError};

use super::record;
use crate::domain::{self, Happening, Referral, ReferralAction};
use crate::ids::{CompetitionId, ReferralId};
use crate::store;

/// What an event does to a referral, and how its history tells it.
pub struct Progress<'a> {
    pub happening: Happening,
    pub action: ReferralAction,
    /// The user, or the service, that caused it.
    pub actor: &'a str,
    pub detail: Option<String>,
    /// The referral's status reason if the status changes.
    pub reason: Option<String>,
    /// The competition the referral is now in, if that changes.
    pub competition: Option<CompetitionId>,
    /// The provider awarded, if one is.
    pub awarded: Option<&'a str>,
}

/// The referral an event is about. A referral this service never wrote is an error (retried,
/// then dead-lettered): every competition starts from one of its referrals.
pub fn referral(conn: &mut DbConnection, id: ReferralId, event: &str) -> Result<Referral, DbError> {
    store::find(conn, id)?
        .ok_or_else(|| DbError::Other(anyhow::anyhow!("{event} for unknown referral {id}")))
}

/// Applies `p`, reported by `env`, to referral `r`.
pub fn apply(
    conn: &mut DbConnection,
    mut r: Referral,
    env: &Envelope,
    p: Progress<'_>,
) -> Result<(), DbError> {
    let from = r.status;
    let at = env.occurred_at.naive_utc();
    let from_competition = !matches!(p.happening, Happening::PlacementStarted);
    if from_competition && r.competition_at.is_some_and(|last| at < last) {
        tracing::warn!(referral_id = %r.id, event_type = %env.event_type, event_id = %env.id,
            "competition event older than the last one applied; status unchanged");
        return Ok(());
    }
    let Some(to) = domain::after(from, r.competition_id, p.happening) else {
        tracing::info!(referral_id = %r.id, status = %r.status, event_type = %env.event_type,
            event_id = %env.id, "event does not apply to the referral as it is; status unchanged");
        return Ok(());
    };
    let now = Utc::now().naive_utc();
    let kept = (from == to).then(|| r.status_reason.clone()).flatten();
    r.status_reason = p.reason.or(kept);
    r.status = to;
    r.updated_at = now;
    if from_competition {
        r.competition_at = Some(at);
    }
    if let Some(c) = p.competition {
        r.competition_id = Some(c);
    }
    if let Some(provider) = p.awarded {
        r.awarded_provider = Some(provider.to_owned());
    }
    store::save_progress(conn, &r)?;
    record(conn, &r, now, p.action, from, p.actor, p.detail)
}
