//! The shared referral document and its rules. No I/O.

use chrono::NaiveDate;
use hub_events::{AgeBand, Urgency, age_in_years};
use hub_platform::{FieldError, http::Validate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Codes of needs a referral can record (LCR referral document).
pub const NEED_CODES: &[&str] = &[
    "emotional_behavioural",
    "learning_disability",
    "physical_disability",
    "health",
    "mental_health",
    "risk_missing",
    "risk_exploitation",
    "risk_offending",
    "substance_misuse",
    "self_harm",
    "autism",
    "communication",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlacementType {
    Residential,
    FosterCare,
    ParentAndChild,
    SupportedAccommodation,
}

impl PlacementType {
    pub fn code(self) -> &'static str {
        match self {
            Self::Residential => "residential",
            Self::FosterCare => "foster_care",
            Self::ParentAndChild => "parent_and_child",
            Self::SupportedAccommodation => "supported_accommodation",
        }
    }
}

/// How the placement will be sourced (the options appraisal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    MiniCompetition,
    PreselectedMiniCompetition,
    DirectAward,
    OtherPurchasingSystem,
    SpotPurchase,
}

impl Route {
    pub fn code(self) -> &'static str {
        match self {
            Self::MiniCompetition => "mini_competition",
            Self::PreselectedMiniCompetition => "preselected_mini_competition",
            Self::DirectAward => "direct_award",
            Self::OtherPurchasingSystem => "other_purchasing_system",
            Self::SpotPurchase => "spot_purchase",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Child {
    pub name: String,
    pub date_of_birth: NaiveDate,
    pub gender: String,
    #[serde(default)]
    pub ethnicity: Option<String>,
    #[serde(default)]
    pub religion: Option<String>,
    #[serde(default)]
    pub first_language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// Postcode district of the area the child needs to stay near (e.g. `L20`).
    pub postcode_district: String,
    pub latitude: f64,
    pub longitude: f64,
    pub max_distance_miles: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Education {
    #[serde(default)]
    pub school: Option<String>,
    #[serde(default)]
    pub ehcp: bool,
    #[serde(default)]
    pub educational_needs: Vec<String>,
}

/// The referral document as the council writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralDocument {
    pub child: Child,
    pub legal_status: String,
    pub placement_type: PlacementType,
    pub urgency: Urgency,
    /// Need codes (see `NEED_CODES`).
    pub needs: Vec<String>,
    #[serde(default)]
    pub education: Option<Education>,
    /// The child's own nature and personality, in their words and their carers'.
    pub about_me: String,
    pub location: Location,
    #[serde(default)]
    pub siblings: Option<String>,
    #[serde(default)]
    pub contact_arrangements: Option<String>,
    pub wanted_start: NaiveDate,
    #[serde(default)]
    pub expected_duration_weeks: Option<u32>,
}

impl ReferralDocument {
    pub fn age_band(&self) -> AgeBand {
        AgeBand::for_age(age_in_years(self.child.date_of_birth, self.wanted_start))
    }

    /// What an invited provider sees before award: no name, no date of birth (age in years),
    /// no coordinates (postcode district).
    pub fn redacted(&self) -> RedactedDocument {
        RedactedDocument {
            age_years: age_in_years(self.child.date_of_birth, self.wanted_start),
            gender: self.child.gender.clone(),
            ethnicity: self.child.ethnicity.clone(),
            religion: self.child.religion.clone(),
            first_language: self.child.first_language.clone(),
            legal_status: self.legal_status.clone(),
            placement_type: self.placement_type,
            urgency: self.urgency,
            needs: self.needs.clone(),
            education: self.education.clone(),
            about_me: self.about_me.clone(),
            postcode_district: self.location.postcode_district.clone(),
            max_distance_miles: self.location.max_distance_miles,
            siblings: self.siblings.clone(),
            contact_arrangements: self.contact_arrangements.clone(),
            wanted_start: self.wanted_start,
            expected_duration_weeks: self.expected_duration_weeks,
        }
    }

    pub fn field_errors(&self, prefix: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let f = |s: &str| format!("{prefix}{s}");
        if self.child.name.trim().is_empty() {
            errors.push(FieldError::new(
                f("/child/name"),
                "required",
                "the child's name must not be empty",
            ));
        }
        if self.child.date_of_birth > self.wanted_start {
            errors.push(FieldError::new(
                f("/child/date_of_birth"),
                "before_start",
                "the date of birth is after the wanted start",
            ));
        } else if age_in_years(self.child.date_of_birth, self.wanted_start) >= 18 {
            errors.push(FieldError::new(
                f("/child/date_of_birth"),
                "under_18",
                "the child is 18 or over at the wanted start",
            ));
        }
        for (i, need) in self.needs.iter().enumerate() {
            if !NEED_CODES.contains(&need.as_str()) {
                errors.push(FieldError::new(
                    f(&format!("/needs/{i}")),
                    "one_of",
                    format!("`{need}` is not a need code ({})", NEED_CODES.join(", ")),
                ));
            }
        }
        let loc = &self.location;
        if !is_postcode_district(&loc.postcode_district) {
            errors.push(FieldError::new(
                f("/location/postcode_district"),
                "format",
                "a postcode district such as L20 or WA7",
            ));
        }
        if !(49.0..=61.0).contains(&loc.latitude) {
            errors.push(FieldError::new(
                f("/location/latitude"),
                "range",
                "latitude must be within the UK (49 to 61)",
            ));
        }
        if !(-9.0..=2.5).contains(&loc.longitude) {
            errors.push(FieldError::new(
                f("/location/longitude"),
                "range",
                "longitude must be within the UK (-9 to 2.5)",
            ));
        }
        if !(loc.max_distance_miles > 0.0 && loc.max_distance_miles <= 500.0) {
            errors.push(FieldError::new(
                f("/location/max_distance_miles"),
                "range",
                "between 0 and 500 miles",
            ));
        }
        if self.about_me.trim().is_empty() {
            errors.push(FieldError::new(
                f("/about_me"),
                "required",
                "say who the child is, in their words and their carers'",
            ));
        }
        errors
    }
}

/// `L20`, `WA7`, `CH41`, `EC1A`: one or two letters, a digit, then a digit or letter.
pub fn is_postcode_district(s: &str) -> bool {
    let b = s.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    let rest = &b[letters..];
    (1..=2).contains(&letters)
        && (1..=2).contains(&rest.len())
        && rest[0].is_ascii_digit()
        && rest
            .get(1)
            .is_none_or(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
}

/// The view an invited provider gets before it is awarded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RedactedDocument {
    pub age_years: u32,
    pub gender: String,
    pub ethnicity: Option<String>,
    pub religion: Option<String>,
    pub first_language: Option<String>,
    pub legal_status: String,
    pub placement_type: PlacementType,
    pub urgency: Urgency,
    pub needs: Vec<String>,
    pub education: Option<Education>,
    pub about_me: String,
    pub postcode_district: String,
    pub max_distance_miles: f64,
    pub siblings: Option<String>,
    pub contact_arrangements: Option<String>,
    pub wanted_start: NaiveDate,
    pub expected_duration_weeks: Option<u32>,
}

/// A request to write a referral.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReferral {
    /// Partnership code (e.g. `LCR-PPA`); the council must be a member.
    pub partnership: String,
    pub framework_id: uuid::Uuid,
    pub lot_id: uuid::Uuid,
    pub route: Route,
    /// Why this route (the options appraisal).
    pub route_reason: String,
    /// Submit at once (otherwise the referral stays a draft).
    #[serde(default)]
    pub submit: bool,
    pub document: ReferralDocument,
}

impl Validate for NewReferral {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors = self.document.field_errors("/document");
        if hub_platform::directory::partnership(&self.partnership).is_none() {
            errors.push(FieldError::new(
                "/partnership",
                "one_of",
                "not a known partnership (AIM, LCR-PPA, D2N2, WMAS)",
            ));
        }
        if self.route_reason.trim().is_empty() {
            errors.push(FieldError::new(
                "/route_reason",
                "required",
                "record why this route was chosen",
            ));
        }
        errors
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Submitted,
    InCompetition,
    Awarded,
    Placed,
    Closed,
    Withdrawn,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::InCompetition => "in_competition",
            Self::Awarded => "awarded",
            Self::Placed => "placed",
            Self::Closed => "closed",
            Self::Withdrawn => "withdrawn",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postcode_districts() {
        for ok in ["L20", "WA7", "CH41", "EC1A", "M1"] {
            assert!(is_postcode_district(ok), "{ok}");
        }
        for bad in ["", "L", "20", "L20 3AB", "l20", "ABC1"] {
            assert!(!is_postcode_district(bad), "{bad}");
        }
    }
}
