//! Typed payloads. Money is integer pence; councils are ONS GSS codes; providers are their
//! own ids. Nothing here may identify a child: referral ids, codes and bands only.
//!
//! # Codes out, words in: the audit of every `String` field (issue 10, rule 4)
//!
//! No council's free text about a child leaves the service it was written in: an event carries
//! a reason *code* (an enum, or a code its owner validates), and the words stay in the owning
//! service's history. Each `String` field, and what it may hold:
//!
//! * **Ids and codes, never words**: `council`, `lead_council`, `offered_by`, `offered_to`,
//!   `partnership`, `lead_commissioner`, `purchasing_bodies` (GSS codes); `provider_id`,
//!   `invited`, `unsuccessful` (provider ids); `submitted_by`, `awarded_by`, `signed_by`,
//!   `approved_by` (the acting user's id: staff, not a child); `route`, `placement_type`,
//!   `needs`, `criterion`, `services`, `budget_line` (codes the owner validates);
//!   `area_district`, `postcode_district` (postcode districts, checked); `referral_path`.
//! * **Reason codes**: `ReferralWithdrawn::reason` (the referral service's
//!   `WithdrawalReason`; the council's `detail` stays there); `CompetitionClosed::reason`
//!   ([`CompetitionCloseReason`]; changed from the commissioner's words, which now stay in the
//!   competition's history); `ReferralReturned::reason` ([`ReferralReturnReason`]);
//!   `OrderDeclined::reason` (the contract service's decline code; its detail stays there);
//!   `PlacementEnded::reason` (the contract service's end-reason code). Re-routing reasons
//!   and the reasons a referral is closed are not sent at all (referral service only).
//! * **Words written *for* the receiver, by design**: `CompetitionClosed::provider_message`
//!   (written for the invited providers, separate from the internal reason);
//!   `BidOutcome::reasons` (feedback on the provider's own bid: generated sentences plus the
//!   commissioner's short mark reason, which the marking API says the unsuccessful provider
//!   is told); `CompetitionOpened::summary` (generated from codes: type, age band, need codes);
//!   `lot_name`, `FrameworkLot::name` (the framework's own words).
//! * **Not about a child**: `VacancyWithdrawn::reason` (a provider's words about its own
//!   bed, or the service's `bed filled`); `ServiceContractTerminated::reason` (a lead
//!   commissioner's reason for ending a partnership-wide service contract with a provider,
//!   read by finance; no child is party to it).
//! * **Codes by shape**: `ReferralSubmitted::gender` and `educational_needs` are codes the
//!   referral service checks by shape (1 to 32 letters, digits, `_`, `-`: never a
//!   description); there is no closed list of them yet.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{AgeBand, Event, Urgency};

macro_rules! event {
    ($ty:ident, $name:literal, $version:literal) => {
        impl Event for $ty {
            const TYPE: &'static str = $name;
            const VERSION: u16 = $version;
        }
    };
}

/// A council submitted a referral (the first version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferralSubmitted {
    pub referral_id: Uuid,
    pub version: u32,
    /// GSS code of the council whose child it is.
    pub council: String,
    pub framework_id: Uuid,
    pub lot_id: Uuid,
    pub route: String,
    pub placement_type: String,
    pub urgency: Urgency,
    pub age_band: AgeBand,
    /// Age in whole years at the wanted start (what providers' age ranges are checked against).
    pub age_years: u32,
    /// Gender code as recorded (what homes' accepted genders are checked against).
    pub gender: String,
    /// Needs as codes (e.g. `emotional_behavioural`, `learning_disability`).
    pub needs: Vec<String>,
    /// Educational need codes, and whether the child has an EHCP.
    pub educational_needs: Vec<String>,
    pub ehcp: bool,
    pub wanted_start: NaiveDate,
    /// Where the child needs to stay near, as a postcode district (e.g. `L20`)…
    pub area_district: String,
    /// …and that area's position rounded to 0.01° (about a kilometre), never an address.
    pub area_latitude: f64,
    pub area_longitude: f64,
    pub max_distance_miles: f64,
    pub submitted_by: String,
}
event!(ReferralSubmitted, "referral.submitted", 1);

/// A new version of a submitted referral.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferralUpdated {
    pub referral_id: Uuid,
    pub version: u32,
    pub council: String,
    pub urgency: Urgency,
    pub needs: Vec<String>,
}
event!(ReferralUpdated, "referral.updated", 1);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferralWithdrawn {
    pub referral_id: Uuid,
    pub council: String,
    pub reason: String,
}
event!(ReferralWithdrawn, "referral.withdrawn", 1);

/// A council closed a placed referral (its placement is over): nothing more is placed under
/// it. The council's reason stays in the referral service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferralClosed {
    pub referral_id: Uuid,
    pub council: String,
}
event!(ReferralClosed, "referral.closed", 1);

/// One lot of a framework, as services other than the competition service need it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkLot {
    pub lot_id: Uuid,
    pub name: String,
    pub placement_type: String,
}

/// A framework or purchasing system as it now stands: its partnership, the councils that may
/// call off (its purchasing bodies) and its lots. Published whenever any of these is set or
/// changed, always whole, so a consumer replaces what it held (when `occurred_at` is newer).
/// The referral service keeps it as its replica, to refuse a referral that would go nowhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkPublished {
    pub framework_id: Uuid,
    pub partnership: String,
    pub lead_commissioner: String,
    /// GSS codes of the councils that may call off.
    pub purchasing_bodies: Vec<String>,
    pub lots: Vec<FrameworkLot>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
}
event!(FrameworkPublished, "competition.framework_published", 1);

/// Why the competition service could not act on a submitted referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReferralReturnReason {
    /// No framework or purchasing system has the referral's `framework_id`.
    UnknownFramework,
    /// No lot has the referral's `lot_id`.
    UnknownLot,
    /// The lot is not one of the framework's.
    LotNotInFramework,
    /// The framework belongs to another partnership than the referral.
    OtherPartnership,
    /// The council is not one of the framework's purchasing bodies.
    NotAPurchasingBody,
    /// Any code this consumer does not know yet.
    #[serde(other)]
    Other,
}

impl ReferralReturnReason {
    pub fn code(self) -> &'static str {
        match self {
            Self::UnknownFramework => "unknown_framework",
            Self::UnknownLot => "unknown_lot",
            Self::LotNotInFramework => "lot_not_in_framework",
            Self::OtherPartnership => "other_partnership",
            Self::NotAPurchasingBody => "not_a_purchasing_body",
            Self::Other => "other",
        }
    }
}

/// The competition service cannot route a submitted referral (version `referral_version`) and
/// puts it back to its council with the reason as a code: no referral silently goes nowhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferralReturned {
    pub referral_id: Uuid,
    pub referral_version: u32,
    pub council: String,
    pub reason: ReferralReturnReason,
}
event!(ReferralReturned, "competition.referral_returned", 1);

/// A mini-competition opened and invited providers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompetitionOpened {
    pub competition_id: Uuid,
    pub referral_id: Uuid,
    pub referral_version: u32,
    pub council: String,
    pub framework_id: Uuid,
    pub lot_id: Uuid,
    pub lot_name: String,
    pub urgency: Urgency,
    pub deadline: DateTime<Utc>,
    /// Provider ids invited to bid.
    pub invited: Vec<String>,
    /// A non-identifying summary of the need (type, age band, need codes).
    pub summary: String,
    /// Path of the referral an invited provider reads (relative to the platform's base URL).
    pub referral_path: String,
}
event!(CompetitionOpened, "competition.opened", 1);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BidSubmitted {
    pub competition_id: Uuid,
    pub bid_id: Uuid,
    pub provider_id: String,
    pub council: String,
}
event!(BidSubmitted, "competition.bid_submitted", 1);

/// One criterion's score of one bid, beside the winner's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriterionScore {
    /// `location`, `best_match`, `compatibility`, `quality`, `price`, `service_offer`, …
    pub criterion: String,
    /// Weight out of 100 (0 for a pass/fail gate).
    pub weight: u32,
    /// Pass/fail gates: whether the bid passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed: Option<bool>,
    /// Scored criteria: the weighted score in hundredths of a point (0..=weight×100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner_score: Option<u32>,
}

/// How one bid fared: what an unsuccessful provider is told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BidOutcome {
    pub provider_id: String,
    /// The weighted total in hundredths of a point (out of 10,000), if it passed the gates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner_total: Option<u32>,
    pub scores: Vec<CriterionScore>,
    /// Why it was not successful, in words: its own marks and the winning bid's relative
    /// advantages per criterion; never another bidder's price or identity.
    pub reasons: Vec<String>,
    /// This bid's own weekly price in pence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekly_price_pence: Option<i64>,
    /// The winner's name (as admitted to the lot); its id is the award's `provider_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner_name: Option<String>,
}

/// A competition was awarded (or a direct award was made).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompetitionAwarded {
    pub competition_id: Uuid,
    pub referral_id: Uuid,
    pub council: String,
    pub framework_id: Uuid,
    pub lot_id: Uuid,
    pub provider_id: String,
    pub bid_id: Option<Uuid>,
    pub weekly_rate_pence: i64,
    pub start_date: NaiveDate,
    pub unsuccessful: Vec<String>,
    pub awarded_by: String,
    /// A direct award (emergency), not the result of a mini-competition.
    #[serde(default)]
    pub direct: bool,
    /// Each unsuccessful bid's scores beside the winner's, and the reasons.
    #[serde(default)]
    pub outcomes: Vec<BidOutcome>,
}
event!(CompetitionAwarded, "competition.awarded", 1);

/// Why a competition closed without an award: the code every invited provider is told.
/// The commissioner's own words stay in the competition service's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CompetitionCloseReason {
    /// No bid met the requirement (or none passed the gates).
    NoAcceptableBid,
    /// Nobody bid by the deadline.
    NoBids,
    /// The child's needs or plan changed, so the requirement as competed no longer stands.
    NeedChanged,
    /// The placement was found another way.
    PlacedElsewhere,
    /// The council withdrew the referral.
    ReferralWithdrawn,
    /// Anything else (and any code this consumer does not know yet).
    #[serde(other)]
    Other,
}

impl CompetitionCloseReason {
    pub const ALL: [Self; 6] = [
        Self::NoAcceptableBid,
        Self::NoBids,
        Self::NeedChanged,
        Self::PlacedElsewhere,
        Self::ReferralWithdrawn,
        Self::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::NoAcceptableBid => "no_acceptable_bid",
            Self::NoBids => "no_bids",
            Self::NeedChanged => "need_changed",
            Self::PlacedElsewhere => "placed_elsewhere",
            Self::ReferralWithdrawn => "referral_withdrawn",
            Self::Other => "other",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// A competition closed without an award (no acceptable bid, or the need went away).
/// Providers are told the reason as a code, and `provider_message` if the commissioner wrote
/// one for them; the commissioner's internal reason is never sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompetitionClosed {
    pub competition_id: Uuid,
    pub referral_id: Uuid,
    pub council: String,
    pub reason: CompetitionCloseReason,
    /// Words the commissioner wrote for the invited providers (not its internal reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_message: Option<String>,
    /// Providers that were invited (they are told).
    pub invited: Vec<String>,
}
event!(CompetitionClosed, "competition.closed", 1);

/// The commissioner closed bidding before the deadline, with a reason code every invited
/// provider is told (the commissioner's own note stays with the council).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BiddingClosed {
    pub competition_id: Uuid,
    pub referral_id: Uuid,
    pub council: String,
    /// `placement_needed_sooner`, `court_timescale` or `other`.
    pub reason: String,
    /// The deadline the providers had been given.
    pub deadline: DateTime<Utc>,
    pub closed_at: DateTime<Utc>,
    /// Providers that were invited (they are told).
    pub invited: Vec<String>,
}
event!(BiddingClosed, "competition.bidding_closed", 1);

/// A provider published (or updated) a live vacancy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VacancyPublished {
    pub vacancy_id: Uuid,
    pub provider_id: String,
    pub lot_id: Uuid,
    pub home_id: Option<Uuid>,
    pub postcode_district: String,
    pub available_from: NaiveDate,
    pub expires_on: NaiveDate,
    /// For a bed offered by a council to its partners (block contracts), the offering council.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered_by: Option<String>,
}
event!(VacancyPublished, "competition.vacancy_published", 1);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VacancyWithdrawn {
    pub vacancy_id: Uuid,
    pub provider_id: String,
    pub reason: String,
}
event!(VacancyWithdrawn, "competition.vacancy_withdrawn", 1);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderIssued {
    pub order_id: Uuid,
    pub competition_id: Uuid,
    pub referral_id: Uuid,
    pub council: String,
    pub provider_id: String,
    pub framework_id: Uuid,
    pub weekly_rate_pence: i64,
    pub start_date: NaiveDate,
    pub due_by: NaiveDate,
    /// An emergency order (a direct award): `due_by` is the timescale the parties agreed.
    #[serde(default)]
    pub emergency: bool,
}
event!(OrderIssued, "contract.order_issued", 1);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderSigned {
    pub order_id: Uuid,
    pub provider_id: String,
    pub council: String,
    pub signed_by: String,
    /// Signed after the day it was due back.
    #[serde(default)]
    pub late: bool,
}
event!(OrderSigned, "contract.order_signed", 1);

/// The provider declined an issued order, with its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderDeclined {
    pub order_id: Uuid,
    pub provider_id: String,
    pub council: String,
    pub reason: String,
}
event!(OrderDeclined, "contract.order_declined", 1);

/// An issued order was not signed by the day it was due (raised once per order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderOverdue {
    pub order_id: Uuid,
    pub provider_id: String,
    pub council: String,
    pub due_by: NaiveDate,
}
event!(OrderOverdue, "contract.order_overdue", 1);

/// A child's placement started: the money-bearing event finance commits from.
///
/// A placement is made either under a signed order (`order_id`) or in a bed of a block
/// contract (`block_contract_id` and `bed`); a block bed's cost is the block contract's
/// (committed from [`BlockContractLet`]), so finance does not commit `weekly_rate_pence`
/// a second time for it, it only attributes the bed to `council` while the child is in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacementStarted {
    pub placement_id: Uuid,
    #[serde(default)]
    pub order_id: Option<Uuid>,
    pub referral_id: Uuid,
    /// The council whose child it is.
    pub council: String,
    pub provider_id: String,
    /// The core weekly fee.
    pub weekly_rate_pence: i64,
    /// Weekly cost of the IPA's additional services (extra staffing, education provision).
    #[serde(default)]
    pub extras_weekly_pence: i64,
    pub start_date: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_contract_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bed: Option<u16>,
}
event!(PlacementStarted, "contract.placement_started", 1);

/// A placement's cost changed (a new IPA version approved), from `effective_from`.
/// The new figures replace the old ones from that day; days before it keep the old ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacementRateChanged {
    pub placement_id: Uuid,
    pub council: String,
    pub provider_id: String,
    pub weekly_rate_pence: i64,
    #[serde(default)]
    pub extras_weekly_pence: i64,
    pub effective_from: NaiveDate,
    /// The IPA version that set the new figures.
    pub ipa_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_contract_id: Option<Uuid>,
}
event!(PlacementRateChanged, "contract.placement_rate_changed", 1);

/// A placement ended. `end_date` is the child's last night in it (costs stop after it).
/// The order and any block contract stay in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacementEnded {
    pub placement_id: Uuid,
    pub council: String,
    pub provider_id: String,
    pub end_date: NaiveDate,
    /// `planned_move`, `step_down`, `breakdown`, `return_home`, `adoption`, `turned_18`, `other`.
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_contract_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bed: Option<u16>,
}
event!(PlacementEnded, "contract.placement_ended", 1);

/// A version of a placement's Individual Placement Agreement was approved by the child's
/// social worker (the provider had signed it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IpaApproved {
    pub placement_id: Uuid,
    pub ipa_id: Uuid,
    pub version: u32,
    pub council: String,
    pub provider_id: String,
    pub weekly_rate_pence: i64,
    pub extras_weekly_pence: i64,
    pub effective_from: NaiveDate,
    pub next_review_on: NaiveDate,
    pub approved_by: String,
}
event!(IpaApproved, "contract.ipa_approved", 1);

/// An IPA review falls due (or is overdue: `overdue`), raised once for each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IpaReviewDue {
    pub placement_id: Uuid,
    pub ipa_id: Uuid,
    pub council: String,
    pub provider_id: String,
    pub review_due_on: NaiveDate,
    pub overdue: bool,
}
event!(IpaReviewDue, "contract.ipa_review_due", 1);

/// A lead commissioner let a block contract: `beds` beds at a block weekly rate, replacing
/// a spot rate, for a term. Finance commits every bed, filled or void, over the term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockContractLet {
    pub block_contract_id: Uuid,
    /// The council that let it and holds the contract.
    pub lead_council: String,
    pub provider_id: String,
    pub beds: u16,
    pub block_weekly_rate_pence: i64,
    pub spot_weekly_rate_pence: i64,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// Planned annual saving: (spot − block) × 52 × beds.
    pub planned_annual_saving_pence: i64,
}
event!(BlockContractLet, "contract.block_contract_let", 1);

/// An extension option of a block contract was used: the term (and every bed's cost) runs
/// on to `new_end_date`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockContractExtended {
    pub block_contract_id: Uuid,
    pub lead_council: String,
    pub provider_id: String,
    pub previous_end_date: NaiveDate,
    pub new_end_date: NaiveDate,
    pub extensions_used: u16,
    pub extensions_left: u16,
}
event!(BlockContractExtended, "contract.block_contract_extended", 1);

/// A block bed became empty (from `void_from`); the bed's council is told at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BedVoid {
    pub block_contract_id: Uuid,
    pub bed: u16,
    /// The council the bed is held for.
    pub council: String,
    pub provider_id: String,
    pub void_from: NaiveDate,
}
event!(BedVoid, "contract.bed_void", 1);

/// A bed left void past the set number of days is offered to the partnership's other
/// councils. The competition service lists it as a vacancy; notifications tells the councils.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BedOffered {
    pub block_contract_id: Uuid,
    pub bed: u16,
    pub offered_by: String,
    pub offered_to: Vec<String>,
    pub provider_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_id: Option<Uuid>,
    pub postcode_district: String,
    pub available_from: NaiveDate,
    /// Until when the offer stands (a vacancy expires then unless the bed is filled first).
    pub offer_expires_on: NaiveDate,
}
event!(BedOffered, "contract.bed_offered", 1);

/// A void bed was filled by a placement (of the bed's council or a partner's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BedFilled {
    pub block_contract_id: Uuid,
    pub bed: u16,
    pub placement_id: Uuid,
    /// The council whose child now uses the bed.
    pub council: String,
    pub provider_id: String,
    pub filled_on: NaiveDate,
}
event!(BedFilled, "contract.bed_filled", 1);

/// A lead commissioner's service contract for all partners went live.
/// Finance phases `value_pence` evenly by day over `start_date ..= end_date`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceContractLet {
    pub contract_id: Uuid,
    pub lead_council: String,
    pub provider_id: String,
    /// Service codes, e.g. `access_to_records`, `birth_parent_counselling`, `letterbox`.
    pub services: Vec<String>,
    pub value_pence: i64,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// The pooled-budget line it is charged to, e.g. `commissioned_adoption_support`.
    pub budget_line: String,
    pub extensions_allowed: u16,
}
event!(ServiceContractLet, "contract.service_contract_let", 1);

/// An extension option was used: the term runs to `new_end_date`, adding `added_value_pence`,
/// phased over the extension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceContractExtended {
    pub contract_id: Uuid,
    pub lead_council: String,
    pub provider_id: String,
    pub previous_end_date: NaiveDate,
    pub new_end_date: NaiveDate,
    pub added_value_pence: i64,
    pub extensions_used: u16,
    pub extensions_left: u16,
}
event!(
    ServiceContractExtended,
    "contract.service_contract_extended",
    1
);

/// A variation changed a live service contract's value: `value_change_pence` (negative for a
/// reduction) is added to it, phased evenly by day over `effective_on ..= phased_to` (the end
/// date as it stood at the variation; a later extension does not move it), and cut by a
/// termination like the rest of the contract. One event per variation; the reason and
/// description stay in the contract service's history (free text is not sent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceContractVaried {
    pub contract_id: Uuid,
    pub lead_council: String,
    pub provider_id: String,
    /// The variation's entry in the contract's history: what a repeat is recognised by.
    pub variation_id: Uuid,
    pub effective_on: NaiveDate,
    pub phased_to: NaiveDate,
    pub value_change_pence: i64,
    /// The services from `effective_on`, when the variation changes them too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<String>>,
}
event!(ServiceContractVaried, "contract.service_contract_varied", 1);

/// A service contract reaches an expiry alert lead time (e.g. 9, 6 or 3 months before its
/// end), raised once per lead time, so a new procurement starts in time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceContractExpiring {
    pub contract_id: Uuid,
    pub lead_council: String,
    pub provider_id: String,
    pub end_date: NaiveDate,
    pub months_before: u16,
    pub extensions_left: u16,
}
event!(
    ServiceContractExpiring,
    "contract.service_contract_expiring",
    1
);

/// A service contract was terminated early; phasing stops after `terminated_on`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceContractTerminated {
    pub contract_id: Uuid,
    pub lead_council: String,
    pub provider_id: String,
    pub terminated_on: NaiveDate,
    pub reason: String,
}
event!(
    ServiceContractTerminated,
    "contract.service_contract_terminated",
    1
);
