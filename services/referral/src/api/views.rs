//! The responses: what each audience sees of a referral, its versions, reads and history.
//! Built here from the domain's types; the council's reasoning (`route_reason`,
//! `status_reason`) and the authors of versions are shown to its own staff only.

use chrono::{DateTime, NaiveDateTime, Utc};
use hub_events::Urgency;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{
    Audience, HistoryEntry, Read, RedactedDocument, Referral, ReferralAction, ReferralDocument,
    ReferralRoute, ReferralStatus, ReferralViewKind, Version, VersionKind,
};
use crate::ids::{FrameworkId, LotId, ReadId, ReferralId};

/// A stored time (UTC, without offset) as it is answered: RFC 3339 ending in `Z`.
fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

/// A referral as its council sees it, or as a provider sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralView {
    pub id: ReferralId,
    pub status: ReferralStatus,
    /// The version shown.
    pub version: i32,
    /// The newest version: a provider shown the version it was invited on learns here that
    /// there is a later one (read it with `?version=N`).
    pub latest_version: i32,
    pub council: String,
    pub partnership: String,
    pub framework_id: FrameworkId,
    pub lot_id: LotId,
    pub route: ReferralRoute,
    /// Why this route (the options appraisal). The council's staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_reason: Option<String>,
    /// Why the status last changed (a withdrawal, a closed competition). The council's staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    pub urgency: Urgency,
    /// `full` or `redacted`.
    pub view: ReferralViewKind,
    /// When the version shown was written.
    pub version_created_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<ReferralDocument>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redacted: Option<RedactedDocument>,
}

impl ReferralView {
    /// Version `v` of `r` as `who` sees it.
    pub fn of(r: Referral, v: Version, who: Audience) -> Self {
        let full = who != Audience::Invited;
        let council = who == Audience::Council;
        Self {
            id: r.id,
            status: r.status,
            version: v.version,
            latest_version: r.version,
            council: r.council,
            partnership: r.partnership,
            framework_id: r.framework_id,
            lot_id: r.lot_id,
            route: r.route,
            route_reason: council.then_some(r.route_reason),
            status_reason: r.status_reason.filter(|_| council),
            urgency: r.urgency,
            view: who.view(),
            version_created_at: utc(v.created_at),
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
            redacted: (!full).then(|| v.document.redacted()),
            document: full.then_some(v.document),
        }
    }
}

/// A referral in a list: no document, so no child's personal data (reading that is a logged
/// `GET` of the referral).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralSummary {
    pub id: ReferralId,
    pub status: ReferralStatus,
    pub version: i32,
    pub partnership: String,
    pub framework_id: FrameworkId,
    pub lot_id: LotId,
    pub route: ReferralRoute,
    pub urgency: Urgency,
    pub awarded_provider: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Referral> for ReferralSummary {
    fn from(r: Referral) -> Self {
        Self {
            id: r.id,
            status: r.status,
            version: r.version,
            partnership: r.partnership,
            framework_id: r.framework_id,
            lot_id: r.lot_id,
            route: r.route,
            urgency: r.urgency,
            awarded_provider: r.awarded_provider,
            created_by: r.created_by,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        }
    }
}

/// One version of a referral, without its content.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralVersionSummary {
    pub version: i32,
    pub created_at: DateTime<Utc>,
    /// The organisation that wrote it.
    pub created_by_org: String,
    /// The user who wrote it (the council's staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    pub kind: VersionKind,
    /// The route in force from this version (the council's staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<ReferralRoute>,
    /// Why that route (the council's staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_reason: Option<String>,
}

impl ReferralVersionSummary {
    /// Version `v` as the council's staff (`council`) or a provider sees it.
    pub fn of(v: Version, council: bool) -> Self {
        Self {
            version: v.version,
            created_at: utc(v.created_at),
            created_by_org: v.created_by_org,
            created_by: council.then_some(v.created_by),
            kind: v.kind,
            route: council.then_some(v.route),
            route_reason: council.then_some(v.route_reason),
        }
    }
}

/// One logged read: who read which version, in which view, when.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReferralReadRecord)]
pub struct ReadRecord {
    pub id: ReadId,
    pub referral_id: ReferralId,
    pub version: i32,
    pub reader_sub: String,
    pub reader_org: String,
    pub view: ReferralViewKind,
    pub read_at: DateTime<Utc>,
}

impl From<Read> for ReadRecord {
    fn from(r: Read) -> Self {
        Self {
            id: r.id,
            referral_id: r.referral_id,
            version: r.version,
            reader_sub: r.reader_sub,
            reader_org: r.reader_org,
            view: r.view,
            read_at: utc(r.read_at),
        }
    }
}

/// One transition of a referral.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReferralHistoryRecord)]
pub struct HistoryRecord {
    pub at: DateTime<Utc>,
    pub action: ReferralAction,
    pub from_status: ReferralStatus,
    pub to_status: ReferralStatus,
    pub version: i32,
    /// The user, or the service whose event caused it.
    pub actor: String,
    pub actor_org: String,
    pub detail: Option<String>,
}

impl From<HistoryEntry> for HistoryRecord {
    fn from(h: HistoryEntry) -> Self {
        let t = h.transition;
        Self {
            at: utc(h.at),
            action: t.action,
            from_status: t.from,
            to_status: t.to,
            version: t.version,
            actor: t.actor,
            actor_org: t.actor_org,
            detail: t.detail,
        }
    }
}
