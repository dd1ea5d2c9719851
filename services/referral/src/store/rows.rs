//! The rows of the referral service's tables: the domain's types as they are stored, and
//! their conversions. Private to the store: no query returns a row.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hub_events::Urgency;
use hub_platform::{Code, Json};

use crate::domain::{
    Referral, ReferralAction, ReferralDocument, ReferralRoute, ReferralStatus, ReferralViewKind,
    Version, VersionKind,
};
use crate::ids::{CompetitionId, FrameworkId, LotId, ReadId, ReferralId, TransitionId};
use crate::schema::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = referrals)]
pub(super) struct ReferralRow {
    pub(super) id: ReferralId,
    pub(super) council: String,
    pub(super) partnership: String,
    pub(super) framework_id: FrameworkId,
    pub(super) lot_id: LotId,
    pub(super) status: ReferralStatus,
    pub(super) version: i32,
    pub(super) route: ReferralRoute,
    pub(super) route_reason: String,
    pub(super) urgency: Code<Urgency>,
    pub(super) awarded_provider: Option<String>,
    pub(super) created_by: String,
    pub(super) created_at: NaiveDateTime,
    pub(super) updated_at: NaiveDateTime,
    pub(super) status_reason: Option<String>,
    pub(super) competition_id: Option<CompetitionId>,
    pub(super) competition_at: Option<NaiveDateTime>,
    pub(super) revision: i64,
}

impl From<ReferralRow> for Referral {
    fn from(r: ReferralRow) -> Self {
        Self {
            id: r.id,
            council: r.council,
            partnership: r.partnership,
            framework_id: r.framework_id,
            lot_id: r.lot_id,
            status: r.status,
            version: r.version,
            route: r.route,
            route_reason: r.route_reason,
            urgency: r.urgency.0,
            awarded_provider: r.awarded_provider,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            status_reason: r.status_reason,
            competition_id: r.competition_id,
            competition_at: r.competition_at,
            revision: r.revision,
        }
    }
}

impl From<&Referral> for ReferralRow {
    fn from(r: &Referral) -> Self {
        Self {
            id: r.id,
            council: r.council.clone(),
            partnership: r.partnership.clone(),
            framework_id: r.framework_id,
            lot_id: r.lot_id,
            status: r.status,
            version: r.version,
            route: r.route,
            route_reason: r.route_reason.clone(),
            urgency: Code(r.urgency),
            awarded_provider: r.awarded_provider.clone(),
            created_by: r.created_by.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            status_reason: r.status_reason.clone(),
            competition_id: r.competition_id,
            competition_at: r.competition_at,
            revision: r.revision,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = referral_versions)]
pub(super) struct VersionRow {
    pub(super) referral_id: ReferralId,
    pub(super) version: i32,
    pub(super) document: Json<ReferralDocument>,
    pub(super) created_by: String,
    pub(super) created_by_org: String,
    pub(super) created_at: NaiveDateTime,
    pub(super) route: ReferralRoute,
    pub(super) route_reason: String,
    pub(super) kind: VersionKind,
}

impl From<VersionRow> for Version {
    fn from(v: VersionRow) -> Self {
        Self {
            referral_id: v.referral_id,
            version: v.version,
            document: v.document.0,
            created_by: v.created_by,
            created_by_org: v.created_by_org,
            created_at: v.created_at,
            route: v.route,
            route_reason: v.route_reason,
            kind: v.kind,
        }
    }
}

impl From<&Version> for VersionRow {
    fn from(v: &Version) -> Self {
        Self {
            referral_id: v.referral_id,
            version: v.version,
            document: Json(v.document.clone()),
            created_by: v.created_by.clone(),
            created_by_org: v.created_by_org.clone(),
            created_at: v.created_at,
            route: v.route,
            route_reason: v.route_reason.clone(),
            kind: v.kind,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = referral_reads)]
pub(super) struct ReadRow {
    pub(super) id: ReadId,
    pub(super) referral_id: ReferralId,
    pub(super) version: i32,
    pub(super) reader_sub: String,
    pub(super) reader_org: String,
    pub(super) view: ReferralViewKind,
    pub(super) read_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = referral_history)]
pub(super) struct HistoryRow {
    pub(super) id: TransitionId,
    pub(super) referral_id: ReferralId,
    pub(super) at: NaiveDateTime,
    pub(super) action: ReferralAction,
    pub(super) from_status: ReferralStatus,
    pub(super) to_status: ReferralStatus,
    pub(super) version: i32,
    pub(super) actor: String,
    pub(super) actor_org: String,
    pub(super) detail: Option<String>,
}

/// A framework as the referral service's replica holds it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = known_frameworks)]
pub(super) struct KnownFrameworkRow {
    pub(super) id: FrameworkId,
    pub(super) partnership: String,
    pub(super) purchasing_bodies: Json<Vec<String>>,
    pub(super) lot_ids: Json<Vec<LotId>>,
    pub(super) as_of: NaiveDateTime,
}
