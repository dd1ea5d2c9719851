//! The responses' building blocks, made from the domain's types: what the API shows of a
//! competition, a bid, a mark, a decline, a direct award, a history entry, a framework, a
//! lot, an admission round, a Provider Response, a home and a vacancy. The JSON of each is
//! what the service always answered: the lists, maps and documents a competition keeps
//! whole (criteria, preselection, answers, prices) are shown beside these by the views that
//! carry them, and a history entry's detail is kept for the record, never shown.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use hub_events::{CompetitionCloseReason, Urgency};
use hub_platform::Pence;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    domain::{
        AdmittedProvider, Bid, Competition, DirectAwardTerms, Framework, FrameworkKind, Home,
        InvitationDecline, LogEntry, Lot, Round, RoundKind, Route, Score, Vacancy,
        calloff::{CloseBiddingReason, DeclineReason, LogAction, Status},
        criteria::CriterionName,
        homes::{HomeKind, OfstedRating, VacancyStatus},
    },
    ids::{
        BidId, CompetitionId, FrameworkId, HomeId, LogEntryId, LotId, ReferralId, RoundId,
        VacancyId,
    },
};

/// A competition's own fields: what the list of competitions shows of each, and what a
/// competition's full view starts with.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CompetitionSummary {
    pub id: CompetitionId,
    pub referral_id: ReferralId,
    pub referral_version: i32,
    pub council: String,
    pub partnership: String,
    pub framework_id: FrameworkId,
    pub lot_id: LotId,
    pub status: Status,
    #[schema(value_type = String)]
    pub urgency: Urgency,
    pub deadline: DateTime<Utc>,
    pub awarded_provider: Option<String>,
    pub awarded_bid: Option<BidId>,
    pub awarded_by: Option<String>,
    pub created_at: DateTime<Utc>,
    /// `mini_competition`, `preselected_mini_competition` or `direct_award`.
    pub route: Route,
    /// The need level whose Provider Response rates bids are held to.
    pub need_level: String,
    pub opened_at: Option<DateTime<Utc>>,
    pub opened_by: Option<String>,
    #[schema(value_type = Option<String>)]
    pub closed_reason: Option<CompetitionCloseReason>,
    /// Awarded directly (an emergency), not by mini-competition.
    pub direct: bool,
    #[schema(value_type = Option<i64>)]
    pub awarded_rate_pence: Option<Pence>,
    pub awarded_start_date: Option<NaiveDate>,
    pub awarded_at: Option<DateTime<Utc>>,
    /// A direct award's next review.
    pub review_date: Option<NaiveDate>,
    /// The competition (or direct award) this one reopened.
    pub reopened_from: Option<CompetitionId>,
    /// When the commissioner closed bidding before the deadline, if they did…
    pub bidding_closed_at: Option<DateTime<Utc>>,
    /// …and the reason code the invited providers were told.
    pub bidding_closed_reason: Option<CloseBiddingReason>,
}

impl From<&Competition> for CompetitionSummary {
    fn from(c: &Competition) -> Self {
        Self {
            id: c.id,
            referral_id: c.referral_id,
            referral_version: c.referral_version,
            council: c.council.clone(),
            partnership: c.partnership.clone(),
            framework_id: c.framework_id,
            lot_id: c.lot_id,
            status: c.status,
            urgency: c.urgency,
            deadline: c.deadline.and_utc(),
            awarded_provider: c.awarded_provider.clone(),
            awarded_bid: c.awarded_bid,
            awarded_by: c.awarded_by.clone(),
            created_at: c.created_at.and_utc(),
            route: c.route,
            need_level: c.need_level.clone(),
            opened_at: c.opened_at.map(|t| t.and_utc()),
            opened_by: c.opened_by.clone(),
            closed_reason: c.closed_reason,
            direct: c.direct,
            awarded_rate_pence: c.awarded_rate_pence,
            awarded_start_date: c.awarded_start_date,
            awarded_at: c.awarded_at.map(|t| t.and_utc()),
            review_date: c.review_date,
            reopened_from: c.reopened_from,
            bidding_closed_at: c.bidding_closed_at.map(|t| t.and_utc()),
            bidding_closed_reason: c.bidding_closed_reason,
        }
    }
}

/// A bid's own fields (what a bid's view starts with, and what the history keeps of bids set
/// aside).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BidSummary {
    pub id: BidId,
    pub competition_id: CompetitionId,
    pub provider_id: String,
    #[schema(value_type = i64)]
    pub weekly_price_pence: Pence,
    pub start_date: NaiveDate,
    pub home_id: Option<HomeId>,
    pub home_name: Option<String>,
    /// The Provider Response rate at the competition's need level when the bid was made.
    #[schema(value_type = Option<i64>)]
    pub provider_response_pence: Option<Pence>,
    pub price_variation_evidence: Option<String>,
    pub submitted_by: String,
    pub submitted_at: DateTime<Utc>,
}

impl From<&Bid> for BidSummary {
    fn from(b: &Bid) -> Self {
        Self {
            id: b.id,
            competition_id: b.competition_id,
            provider_id: b.provider_id.clone(),
            weekly_price_pence: b.weekly_price_pence,
            start_date: b.start_date,
            home_id: b.home_id,
            home_name: b.home_name.clone(),
            provider_response_pence: b.provider_response_pence,
            price_variation_evidence: b.price_variation_evidence.clone(),
            submitted_by: b.submitted_by.clone(),
            submitted_at: b.submitted_at.and_utc(),
        }
    }
}

/// A bid as shown: the bid and its answers per criterion.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BidView {
    #[serde(flatten)]
    pub bid: BidSummary,
    pub answers: BTreeMap<String, String>,
}

impl From<Bid> for BidView {
    fn from(bid: Bid) -> Self {
        Self {
            bid: BidSummary::from(&bid),
            answers: bid.answers,
        }
    }
}

/// The commissioner's mark on one criterion of one bid.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScoreView {
    pub bid_id: BidId,
    pub criterion: CriterionName,
    pub points: Option<i32>,
    pub passed: Option<bool>,
    pub reason: String,
    pub scored_by: String,
    pub scored_at: DateTime<Utc>,
}

impl From<Score> for ScoreView {
    fn from(s: Score) -> Self {
        Self {
            bid_id: s.bid_id,
            criterion: s.criterion,
            points: s.points,
            passed: s.passed,
            reason: s.reason,
            scored_by: s.scored_by,
            scored_at: s.scored_at.and_utc(),
        }
    }
}

/// An invited provider's decline (the council sees them all; a provider its own).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeclineView {
    pub provider_id: String,
    pub reason: DeclineReason,
    pub note: Option<String>,
    pub declined_by: String,
    pub declined_at: DateTime<Utc>,
}

impl From<InvitationDecline> for DeclineView {
    fn from(d: InvitationDecline) -> Self {
        Self {
            provider_id: d.provider_id,
            reason: d.reason,
            note: d.note,
            declined_by: d.declined_by,
            declined_at: d.declined_at.and_utc(),
        }
    }
}

/// A direct award's terms.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DirectAwardView {
    pub competition_id: CompetitionId,
    pub provider_id: String,
    #[schema(value_type = i64)]
    pub weekly_rate_pence: Pence,
    pub start_date: NaiveDate,
    pub justification: String,
    pub review_date: NaiveDate,
    pub awarded_by: String,
    pub awarded_at: DateTime<Utc>,
}

impl From<DirectAwardTerms> for DirectAwardView {
    fn from(d: DirectAwardTerms) -> Self {
        Self {
            competition_id: d.competition_id,
            provider_id: d.provider_id,
            weekly_rate_pence: d.weekly_rate_pence,
            start_date: d.start_date,
            justification: d.justification,
            review_date: d.review_date,
            awarded_by: d.awarded_by,
            awarded_at: d.awarded_at.and_utc(),
        }
    }
}

/// An entry of a competition's history (its detail stays in the record).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LogView {
    pub id: LogEntryId,
    pub competition_id: CompetitionId,
    /// `opened`, `preselection_changed`, `criteria_changed`, `closed`, `reopened`,
    /// `rerouted`, `awarded`, `direct_award`, `review_kept`, `review_reopened`.
    pub action: LogAction,
    pub reason: Option<String>,
    pub actor: String,
    pub org: String,
    pub at: DateTime<Utc>,
}

impl From<LogEntry> for LogView {
    fn from(l: LogEntry) -> Self {
        Self {
            id: l.id,
            competition_id: l.competition_id,
            action: l.action,
            reason: l.reason,
            actor: l.actor,
            org: l.org,
            at: l.at.and_utc(),
        }
    }
}

/// A framework's own fields (its purchasing bodies, lots and rounds are shown beside).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FrameworkSummary {
    pub id: FrameworkId,
    pub partnership: String,
    pub name: String,
    pub kind: FrameworkKind,
    pub lead_commissioner: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub review_date: NaiveDate,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<&Framework> for FrameworkSummary {
    fn from(f: &Framework) -> Self {
        Self {
            id: f.id,
            partnership: f.partnership.clone(),
            name: f.name.clone(),
            kind: f.kind,
            lead_commissioner: f.lead_commissioner.clone(),
            start_date: f.start_date,
            end_date: f.end_date,
            review_date: f.review_date,
            created_by: f.created_by.clone(),
            created_at: f.created_at.and_utc(),
        }
    }
}

/// A lot's own fields (its criteria and providers are shown beside).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LotSummary {
    pub id: LotId,
    pub framework_id: FrameworkId,
    pub name: String,
    pub placement_type: String,
    pub min_age_years: Option<i32>,
    pub max_age_years: Option<i32>,
    pub cohort: Option<String>,
}

impl From<&Lot> for LotSummary {
    fn from(l: &Lot) -> Self {
        Self {
            id: l.id,
            framework_id: l.framework_id,
            name: l.name.clone(),
            placement_type: l.placement_type.clone(),
            min_age_years: l.min_age_years,
            max_age_years: l.max_age_years,
            cohort: l.cohort.clone(),
        }
    }
}

/// An admission round.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoundView {
    pub id: RoundId,
    pub framework_id: FrameworkId,
    pub kind: RoundKind,
    pub note: Option<String>,
    pub closes_on: Option<NaiveDate>,
    pub opened_by: String,
    pub opened_at: DateTime<Utc>,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl From<Round> for RoundView {
    fn from(r: Round) -> Self {
        Self {
            id: r.id,
            framework_id: r.framework_id,
            kind: r.kind,
            note: r.note,
            closes_on: r.closes_on,
            opened_by: r.opened_by,
            opened_at: r.opened_at.and_utc(),
            closed_by: r.closed_by,
            closed_at: r.closed_at.map(|t| t.and_utc()),
        }
    }
}

/// An admission's own fields (its prices by need level and homes are shown beside).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdmissionSummary {
    pub lot_id: LotId,
    pub provider_id: String,
    pub provider_name: String,
    /// The standard rate (else the lowest): what a single price meant before need levels.
    #[schema(value_type = i64)]
    pub weekly_price_pence: Pence,
    pub capacity: Option<i32>,
    pub round_id: Option<RoundId>,
    pub admitted_by: String,
    pub admitted_at: DateTime<Utc>,
}

impl From<&AdmittedProvider> for AdmissionSummary {
    fn from(a: &AdmittedProvider) -> Self {
        Self {
            lot_id: a.lot_id,
            provider_id: a.provider_id.clone(),
            provider_name: a.provider_name.clone(),
            weekly_price_pence: a.weekly_price_pence,
            capacity: a.capacity,
            round_id: a.round_id,
            admitted_by: a.admitted_by.clone(),
            admitted_at: a.admitted_at.and_utc(),
        }
    }
}

/// A home or fostering household as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HomeView {
    pub id: HomeId,
    pub lot_id: LotId,
    pub provider_id: String,
    pub name: String,
    pub kind: HomeKind,
    pub latitude: f64,
    pub longitude: f64,
    pub postcode_district: String,
    pub registered_places: i32,
    pub occupied_places: i32,
    pub genders_accepted: Vec<String>,
    pub min_age_years: i32,
    pub max_age_years: i32,
    pub specialisms: Vec<String>,
    pub ofsted_rating: Option<OfstedRating>,
    pub emergency_capacity: bool,
    pub educational_provision: Vec<String>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
    /// Sent as the `ETag` header, not in the body.
    #[serde(skip)]
    pub revision: i64,
}

impl From<Home> for HomeView {
    fn from(h: Home) -> Self {
        Self {
            id: h.id,
            lot_id: h.lot_id,
            provider_id: h.provider_id,
            name: h.name,
            kind: h.kind,
            latitude: h.latitude,
            longitude: h.longitude,
            postcode_district: h.postcode_district,
            registered_places: h.registered_places,
            occupied_places: h.occupied_places,
            genders_accepted: h.genders_accepted,
            min_age_years: h.min_age_years,
            max_age_years: h.max_age_years,
            specialisms: h.specialisms,
            ofsted_rating: h.ofsted_rating,
            emergency_capacity: h.emergency_capacity,
            educational_provision: h.educational_provision,
            updated_by: h.updated_by,
            updated_at: h.updated_at.and_utc(),
            revision: h.revision,
        }
    }
}

/// A provider's vacancy, as its provider publishes, updates and withdraws it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VacancyView {
    pub id: VacancyId,
    pub provider_id: String,
    pub lot_id: LotId,
    pub home_id: HomeId,
    pub available_from: NaiveDate,
    pub expires_on: NaiveDate,
    pub suits: String,
    pub places: i32,
    pub status: VacancyStatus,
    pub withdrawn_reason: Option<String>,
    pub updated_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Sent as the `ETag` header, not in the body.
    #[serde(skip)]
    pub revision: i64,
}

impl From<Vacancy> for VacancyView {
    fn from(v: Vacancy) -> Self {
        Self {
            id: v.id,
            provider_id: v.provider_id,
            lot_id: v.lot_id,
            home_id: v.home_id,
            available_from: v.available_from,
            expires_on: v.expires_on,
            suits: v.suits,
            places: v.places,
            status: v.status,
            withdrawn_reason: v.withdrawn_reason,
            updated_by: v.updated_by,
            created_at: v.created_at.and_utc(),
            updated_at: v.updated_at.and_utc(),
            revision: v.revision,
        }
    }
}
