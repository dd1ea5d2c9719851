//! Typed payloads. Money is integer pence; councils are ONS GSS codes; providers are their
//! own ids. Nothing here may identify a child: referral ids, codes and bands only.

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
    /// Why it was not successful, in words.
    pub reasons: Vec<String>,
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

/// A competition closed without an award (no acceptable bid, or the need went away).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompetitionClosed {
    pub competition_id: Uuid,
    pub referral_id: Uuid,
    pub council: String,
    pub reason: String,
    /// Providers that were invited (they are told).
    pub invited: Vec<String>,
}
event!(CompetitionClosed, "competition.closed", 1);

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
}
event!(OrderIssued, "contract.order_issued", 1);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderSigned {
    pub order_id: Uuid,
    pub provider_id: String,
    pub council: String,
    pub signed_by: String,
}
event!(OrderSigned, "contract.order_signed", 1);

/// A child's placement started: the money-bearing event finance commits from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacementStarted {
    pub placement_id: Uuid,
    pub order_id: Uuid,
    pub referral_id: Uuid,
    pub council: String,
    pub provider_id: String,
    pub weekly_rate_pence: i64,
    pub start_date: NaiveDate,
}
event!(PlacementStarted, "contract.placement_started", 1);
