//! Frameworks, lots and mini-competitions: the rules. No I/O.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use hub_events::{ReferralSubmitted, Urgency};
use hub_platform::{FieldError, http::Validate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FrameworkKind {
    FrameworkAgreement,
    FlexiblePurchasingSystem,
    DynamicPurchasingSystem,
    ProviderPartnerAgreement,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLot {
    pub name: String,
    /// `residential`, `foster_care`, …
    pub placement_type: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFramework {
    pub partnership: String,
    pub name: String,
    pub kind: FrameworkKind,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub lots: Vec<NewLot>,
}

impl Validate for NewFramework {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if hub_platform::directory::partnership(&self.partnership).is_none() {
            e.push(FieldError::new(
                "/partnership",
                "one_of",
                "not a known partnership (AIM, LCR-PPA, D2N2, WMAS)",
            ));
        }
        if self.name.trim().is_empty() {
            e.push(FieldError::new(
                "/name",
                "required",
                "a framework needs a name",
            ));
        }
        if self.end_date <= self.start_date {
            e.push(FieldError::new(
                "/end_date",
                "after_start",
                "the end date must be after the start date",
            ));
        }
        if self.lots.is_empty() {
            e.push(FieldError::new(
                "/lots",
                "min_items",
                "a framework needs at least one lot",
            ));
        }
        for (i, lot) in self.lots.iter().enumerate() {
            if lot.name.trim().is_empty() {
                e.push(FieldError::new(
                    format!("/lots/{i}/name"),
                    "required",
                    "a lot needs a name",
                ));
            }
        }
        e
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Admission {
    pub provider_id: String,
    pub name: String,
    /// The Provider Response weekly price for the lot, in pence.
    pub weekly_price_pence: i64,
}

impl Validate for Admission {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if !is_provider_id(&self.provider_id) {
            e.push(FieldError::new(
                "/provider_id",
                "format",
                "lower-case letters, digits and `-`, 3 to 64 characters",
            ));
        }
        if self.weekly_price_pence <= 0 {
            e.push(FieldError::new(
                "/weekly_price_pence",
                "min",
                "a weekly price must be more than zero",
            ));
        }
        e
    }
}

pub fn is_provider_id(s: &str) -> bool {
    (3..=64).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBid {
    pub weekly_price_pence: i64,
    pub start_date: NaiveDate,
}

impl Validate for NewBid {
    fn validate(&self) -> Vec<FieldError> {
        if self.weekly_price_pence <= 0 {
            vec![FieldError::new(
                "/weekly_price_pence",
                "min",
                "a weekly price must be more than zero",
            )]
        } else {
            Vec::new()
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Award {
    pub bid_id: uuid::Uuid,
}

impl Validate for Award {}

/// How long providers have to bid, by urgency.
pub fn bid_window(urgency: Urgency) -> Duration {
    match urgency {
        Urgency::Planned => Duration::hours(72),
        Urgency::Urgent => Duration::hours(24),
        Urgency::Emergency => Duration::hours(4),
    }
}

pub fn deadline(opened: DateTime<Utc>, urgency: Urgency) -> DateTime<Utc> {
    opened + bid_window(urgency)
}

/// The non-identifying summary providers are sent: type, age band, needs, area.
pub fn summary(e: &ReferralSubmitted) -> String {
    let needs = if e.needs.is_empty() {
        "no recorded needs".to_owned()
    } else {
        e.needs.join(", ")
    };
    format!(
        "{} placement, age band {}, needs: {}; near {}; wanted from {}",
        e.placement_type.replace('_', " "),
        serde_json::to_value(e.age_band)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        needs,
        e.area_district,
        e.wanted_start
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emergencies_get_the_shortest_window() {
        let t = Utc::now();
        assert!(deadline(t, Urgency::Emergency) < deadline(t, Urgency::Urgent));
        assert_eq!(deadline(t, Urgency::Planned) - t, Duration::hours(72));
        assert!(is_provider_id("prov-care-assist") && !is_provider_id("Care Assist"));
    }
}
