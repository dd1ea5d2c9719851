//! A referral as the service keeps it: its facts and status, its versions, the log of who
//! read which version, the history of its transitions, and what it announces. No I/O.
//!
//! Rules:
//! * a status changes only through [`ReferralStatus`]'s transitions ([`Referral::withdraw`] and the
//!   like call them and keep the reason and the time with it);
//! * events carry codes and ids, never words about the child: the announcements here take
//!   what they may from the document (age band, needs, an area rounded to 0.01°).

use chrono::NaiveDateTime;
use hub_events::{ReferralClosed, ReferralSubmitted, ReferralUpdated, ReferralWithdrawn, Urgency};

use super::{
    Change, Conflict, ReferralDocument, ReferralRoute, ReferralStatus, Rerouting, Withdrawal,
};
use crate::ids::{CompetitionId, FrameworkId, LotId, ReadId, ReferralId, TransitionId};

/// A referral: who wrote it for which partnership, framework and lot, its route and status.
#[derive(Debug, Clone, PartialEq)]
pub struct Referral {
    pub id: ReferralId,
    pub council: String,
    pub partnership: String,
    pub framework_id: FrameworkId,
    pub lot_id: LotId,
    pub status: ReferralStatus,
    /// The newest version.
    pub version: i32,
    pub route: ReferralRoute,
    /// Why this route (the options appraisal; council staff only).
    pub route_reason: String,
    pub urgency: Urgency,
    pub awarded_provider: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Why the status last changed (council staff only).
    pub status_reason: Option<String>,
    /// The competition (or direct award) the referral is in or was last in.
    pub competition_id: Option<CompetitionId>,
    /// When the last competition event applied to it happened.
    pub competition_at: Option<NaiveDateTime>,
    /// Raised by one at every change of the referral: its `ETag`, which a `PUT` or
    /// re-route's `If-Match` must name (ADR 0004).
    pub revision: i64,
}

/// One version of a referral's document, with the route in force from it.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub referral_id: ReferralId,
    pub version: i32,
    pub document: ReferralDocument,
    pub created_by: String,
    pub created_by_org: String,
    pub created_at: NaiveDateTime,
    pub route: ReferralRoute,
    pub route_reason: String,
    pub kind: VersionKind,
}

hub_platform::code_enum! {
    /// What made a version.
    pub enum VersionKind {
        /// The first version.
        Created,
        /// A new document (`PUT`).
        Document,
        /// A new route (`POST …/route`), same document.
        Route,
    }
}

/// Who is looking, which decides what a view holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The council's own staff: everything.
    Council,
    /// The awarded provider: the full document, not the council's reasoning.
    Awarded,
    /// An invited provider: the redacted document.
    Invited,
}

impl Audience {
    pub fn view(self) -> ReferralViewKind {
        match self {
            Self::Invited => ReferralViewKind::Redacted,
            Self::Council | Self::Awarded => ReferralViewKind::Full,
        }
    }
}

hub_platform::code_enum! {
    /// Which view of the document a reader got.
    pub enum ReferralViewKind {
        Full,
        Redacted,
    }
}

/// The versions a provider may read: from the one it was invited on (the awarded provider:
/// every version).
pub fn provider_may_read(version: i32, invited_on: Option<i32>, awarded: bool) -> bool {
    awarded || invited_on.is_some_and(|v| version >= v)
}

/// One logged read of a referral.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    pub id: ReadId,
    pub referral_id: ReferralId,
    pub version: i32,
    pub reader_sub: String,
    pub reader_org: String,
    pub view: ReferralViewKind,
    pub read_at: NaiveDateTime,
}

hub_platform::code_enum! {
    /// What a transition in a referral's history was.
    pub enum ReferralAction {
        Created,
        Submitted,
        Updated,
        Rerouted,
        Resubmitted,
        Withdrawn,
        Closed,
        CompetitionOpened,
        CompetitionClosed,
        Awarded,
        Placed,
        Returned,
    }
}

/// A transition to record: what happened, from and to which status, on which version, by
/// whom (a user, or the service whose event caused it), and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub action: ReferralAction,
    pub from: ReferralStatus,
    pub to: ReferralStatus,
    pub version: i32,
    pub actor: String,
    pub actor_org: String,
    pub detail: Option<String>,
}

/// A recorded transition.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub id: TransitionId,
    pub referral_id: ReferralId,
    pub at: NaiveDateTime,
    pub transition: Transition,
}

/// Coordinates rounded to 0.01°: an area, not an address.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl Referral {
    /// Submits a draft: the status it had.
    pub fn submit(&mut self, now: NaiveDateTime) -> Result<ReferralStatus, Conflict> {
        let from = self.status;
        self.status = from.submit()?;
        self.updated_at = now;
        Ok(from)
    }

    /// Withdraws the referral with the council's reason: the status it had.
    pub fn withdraw(
        &mut self,
        why: &Withdrawal,
        now: NaiveDateTime,
    ) -> Result<ReferralStatus, Conflict> {
        let from = self.status;
        self.status = from.withdraw()?;
        self.status_reason = Some(why.describe());
        self.updated_at = now;
        Ok(from)
    }

    /// Closes a placed referral: the status it had.
    pub fn close(
        &mut self,
        reason: String,
        now: NaiveDateTime,
    ) -> Result<ReferralStatus, Conflict> {
        let from = self.status;
        self.status = from.close()?;
        self.status_reason = Some(reason);
        self.updated_at = now;
        Ok(from)
    }

    /// Takes the council's new route (and framework and lot, if it names others): how the
    /// change is kept, the status it had, and what the history says of it. A returned
    /// referral is submitted again.
    pub fn reroute(
        &mut self,
        to: &Rerouting,
        now: NaiveDateTime,
    ) -> Result<(Change, ReferralStatus, String), Conflict> {
        let from = self.status;
        let change = from.reroute()?;
        let from_route = self.route;
        self.route = to.route;
        self.route_reason = to.reason.trim().to_owned();
        if let Some(f) = to.framework_id {
            self.framework_id = f;
        }
        if let Some(l) = to.lot_id {
            self.lot_id = l;
        }
        self.status = from.rerouted();
        self.updated_at = now;
        let detail = format!("{from_route} → {}: {}", self.route, self.route_reason);
        Ok((change, from, detail))
    }

    /// `referral.submitted` for the current version and route.
    pub fn submitted(&self, doc: &ReferralDocument, by: &str) -> ReferralSubmitted {
        ReferralSubmitted {
            referral_id: self.id.0,
            version: self.version as u32,
            council: self.council.clone(),
            framework_id: self.framework_id.0,
            lot_id: self.lot_id.0,
            route: self.route.to_string(),
            placement_type: doc.placement_type.to_string(),
            urgency: doc.urgency,
            age_band: doc.age_band(),
            age_years: hub_events::age_in_years(doc.child.date_of_birth, doc.wanted_start),
            gender: doc.child.gender.clone(),
            needs: doc.needs.clone(),
            educational_needs: doc
                .education
                .as_ref()
                .map(|e| e.educational_needs.clone())
                .unwrap_or_default(),
            ehcp: doc.education.as_ref().is_some_and(|e| e.ehcp),
            wanted_start: doc.wanted_start,
            area_district: doc.location.postcode_district.clone(),
            area_latitude: round2(doc.location.latitude),
            area_longitude: round2(doc.location.longitude),
            max_distance_miles: doc.location.max_distance_miles,
            submitted_by: by.to_owned(),
        }
    }

    /// `referral.updated` for the current version.
    pub fn updated(&self, doc: &ReferralDocument) -> ReferralUpdated {
        ReferralUpdated {
            referral_id: self.id.0,
            version: self.version as u32,
            council: self.council.clone(),
            urgency: doc.urgency,
            needs: doc.needs.clone(),
        }
    }

    /// `referral.withdrawn`: the reason's code only (the council's words stay here).
    pub fn withdrawn(&self, why: &Withdrawal) -> ReferralWithdrawn {
        ReferralWithdrawn {
            referral_id: self.id.0,
            council: self.council.clone(),
            reason: why.reason.to_string(),
        }
    }

    /// `referral.closed` (the reason stays here).
    pub fn closed(&self) -> ReferralClosed {
        ReferralClosed {
            referral_id: self.id.0,
            council: self.council.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_read_from_the_version_they_were_invited_on() {
        assert!(provider_may_read(2, Some(2), false));
        assert!(provider_may_read(3, Some(2), false));
        assert!(!provider_may_read(1, Some(2), false));
        assert!(!provider_may_read(1, None, false));
        assert!(provider_may_read(1, None, true));
    }
}
