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
    /// Needs as codes (e.g. `emotional_behavioural`, `learning_disability`).
    pub needs: Vec<String>,
    pub wanted_start: NaiveDate,
    /// Where the child needs to stay near, as a postcode district (e.g. `L20`).
    pub area_district: String,
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
}
event!(CompetitionAwarded, "competition.awarded", 1);

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
