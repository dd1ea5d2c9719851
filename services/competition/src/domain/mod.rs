//! Frameworks, lots and mini-competitions: the rules. No I/O.
//!
//! Money bounds: every weekly price a caller gives here — a Provider Response price per need
//! level, a bid's weekly price, a direct award's weekly rate — is more than zero and at most
//! `Pence::MAX_WEEKLY` (£100,000.00), else 422 naming the field (rule `range`). An award
//! carries one of them to the contract service, so no award can hold a rate that finance
//! could not cost.

pub mod calloff;
pub mod competition;
pub mod criteria;
pub mod evaluation;
pub mod framework;
pub mod homes;
pub mod ocds;
pub mod preselection;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Months, NaiveDate, Utc};
use hub_events::{ReferralSubmitted, Urgency};
use hub_platform::{FieldError, Pence, http::Validate};
use serde::Deserialize;
use utoipa::ToSchema;

use criteria::{Criterion, CriterionName};

pub use competition::{Bid, Competition, DirectAwardTerms, InvitationDecline, LogEntry, Score};
pub use framework::{AdmittedProvider, Framework, Lot, Round};
pub use homes::{Home, OfferedBed, Vacancy};

hub_platform::code_enum! {
    pub enum FrameworkKind {
        FrameworkAgreement,
        FlexiblePurchasingSystem,
        DynamicPurchasingSystem,
        ProviderPartnerAgreement,
    }
}

hub_platform::code_enum! {
    /// How a competition came to be: the routes of a referral (`referral.submitted`'s
    /// `route`) this service acts on. The council's other routes source the placement
    /// elsewhere and make no competition.
    pub enum CompetitionRoute {
        /// Every admitted provider of the lot is invited at once.
        MiniCompetition,
        /// The commissioner first narrows the providers down (preselection), then opens.
        PreselectedMiniCompetition,
        /// An emergency placement awarded without competition.
        DirectAward,
    }
}

/// The name the service's code uses (`CompetitionRoute` in the OpenAPI document).
pub type Route = CompetitionRoute;

impl Route {
    /// The status a competition of this route starts in.
    pub fn first_status(self) -> calloff::Status {
        match self {
            Route::MiniCompetition => calloff::Status::Open,
            Route::PreselectedMiniCompetition => calloff::Status::Draft,
            Route::DirectAward => calloff::Status::AwaitingDirectAward,
        }
    }
}

impl FrameworkKind {
    /// Open systems admit new providers in later admission rounds (flexible and dynamic
    /// purchasing systems, and the open-ended LCR Provider Partner Agreement); a framework
    /// agreement admits its providers at set-up only.
    pub fn is_open_system(self) -> bool {
        !matches!(self, Self::FrameworkAgreement)
    }
}

/// The PPA is reviewed every 2 years (3.2 of the LCR paper): the default review date.
pub fn default_review_date(start: NaiveDate) -> NaiveDate {
    start.checked_add_months(Months::new(24)).unwrap_or(start)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLot {
    pub name: String,
    /// `residential`, `foster_care`, …
    pub placement_type: String,
    /// Foster care by age band: the youngest and oldest ages the lot covers.
    #[serde(default)]
    pub min_age_years: Option<u32>,
    #[serde(default)]
    pub max_age_years: Option<u32>,
    /// A cohort purchase (as the NW Residential FPS Lot 7): who the cohort is.
    #[serde(default)]
    pub cohort: Option<String>,
    /// The criteria its mini-competitions start from (default: price 60, quality 40).
    #[serde(default)]
    pub default_criteria: Option<Vec<Criterion>>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFramework {
    pub partnership: String,
    pub name: String,
    pub kind: FrameworkKind,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// Default: start + 2 years.
    #[serde(default)]
    pub review_date: Option<NaiveDate>,
    /// GSS codes of the councils that may call off (default: the partnership's members).
    #[serde(default)]
    pub purchasing_bodies: Option<Vec<String>>,
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
        if let Some(r) = self.review_date
            && r <= self.start_date
        {
            e.push(FieldError::new(
                "/review_date",
                "after_start",
                "the review date must be after the start date",
            ));
        }
        if let Some(bodies) = &self.purchasing_bodies {
            e.extend(purchasing_body_errors(bodies));
        }
        for (i, lot) in self.lots.iter().enumerate() {
            e.extend(lot.errors(&format!("/lots/{i}")));
        }
        e
    }
}

/// The rules of a framework's purchasing bodies: at least one, each a known council, none
/// twice.
fn purchasing_body_errors(bodies: &[String]) -> Vec<FieldError> {
    let mut e = Vec::new();
    if bodies.is_empty() {
        e.push(FieldError::new(
            "/purchasing_bodies",
            "min_items",
            "at least one council calls off (or leave it out: the partnership's members)",
        ));
    }
    for (i, b) in bodies.iter().enumerate() {
        if hub_platform::directory::council(b).is_none() {
            e.push(FieldError::new(
                format!("/purchasing_bodies/{i}"),
                "one_of",
                "not a known council GSS code",
            ));
        } else if bodies[..i].contains(b) {
            e.push(FieldError::new(
                format!("/purchasing_bodies/{i}"),
                "unique",
                "listed twice",
            ));
        }
    }
    e
}

impl NewLot {
    /// The rules of a lot set up with a framework, its fields under `at`.
    fn errors(&self, at: &str) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.name.trim().is_empty() {
            e.push(FieldError::new(
                format!("{at}/name"),
                "required",
                "a lot needs a name",
            ));
        }
        if self.max_age_years.is_some_and(|a| a > 25) {
            e.push(FieldError::new(
                format!("{at}/max_age_years"),
                "max",
                "25 at most",
            ));
        }
        if let (Some(lo), Some(hi)) = (self.min_age_years, self.max_age_years)
            && lo > hi
        {
            e.push(FieldError::new(
                format!("{at}/min_age_years"),
                "max",
                "no more than the lot's maximum age",
            ));
        }
        if let Some(c) = &self.default_criteria {
            e.extend(criteria::validate(&format!("{at}/default_criteria"), c));
        }
        e
    }
}

hub_platform::code_enum! {
    /// An admission round: the one a framework is set up with, or a later one of an open system.
    pub enum RoundKind {
        Setup,
        Round,
    }
}

/// Opening an admission round of an open system.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRound {
    /// The last day providers may be admitted in this round (default: until closed).
    #[serde(default)]
    pub closes_on: Option<NaiveDate>,
    #[serde(default)]
    pub note: Option<String>,
}

impl Validate for NewRound {}

/// Open: not closed, and not past its last day.
pub fn round_is_open(closed: bool, closes_on: Option<NaiveDate>, today: NaiveDate) -> bool {
    !closed && closes_on.is_none_or(|d| d >= today)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Admission {
    pub provider_id: String,
    pub name: String,
    /// The Provider Response weekly price by need level, in pence
    /// (e.g. `{"standard": 214900, "enhanced": 265000, "complex": 390000}`).
    #[serde(default)]
    pub weekly_prices: Option<BTreeMap<String, i64>>,
    /// Shorthand for `{"standard": weekly_price_pence}`.
    #[serde(default)]
    pub weekly_price_pence: Option<i64>,
    /// Places the provider offers under the lot.
    #[serde(default)]
    pub capacity: Option<u32>,
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
        if self.name.trim().is_empty() {
            e.push(FieldError::new("/name", "required", "the provider's name"));
        }
        match (&self.weekly_prices, self.weekly_price_pence) {
            (None, None) => e.push(FieldError::new(
                "/weekly_prices",
                "required",
                "the Provider Response weekly prices by need level",
            )),
            (Some(_), Some(_)) => e.push(FieldError::new(
                "/weekly_price_pence",
                "exclusive",
                "give weekly_prices or weekly_price_pence, not both",
            )),
            (Some(m), None) if m.is_empty() => e.push(FieldError::new(
                "/weekly_prices",
                "min_items",
                "at least one need level",
            )),
            _ => {}
        }
        for (level, price) in self.prices() {
            let field = if self.weekly_prices.is_some() {
                format!("/weekly_prices/{level}")
            } else {
                "/weekly_price_pence".to_owned()
            };
            if !calloff::is_need_level(&level) {
                e.push(FieldError::new(
                    field.clone(),
                    "format",
                    "a need level is lower-case letters, digits and `_`",
                ));
            }
            if price <= 0 {
                e.push(FieldError::new(
                    field,
                    "min",
                    "a weekly price must be more than zero",
                ));
            } else if let Err(err) = Pence(price).check_range(&field, Pence(1), Pence::MAX_WEEKLY) {
                e.push(err);
            }
        }
        e
    }
}

/// The need level a single `weekly_price_pence` stands for, and competitions are priced at
/// unless the commissioner says otherwise.
pub const STANDARD: &str = "standard";

impl Admission {
    pub fn prices(&self) -> BTreeMap<String, i64> {
        match (&self.weekly_prices, self.weekly_price_pence) {
            (Some(m), _) => m.clone(),
            (None, Some(p)) => BTreeMap::from([(STANDARD.to_owned(), p)]),
            (None, None) => BTreeMap::new(),
        }
    }
}

/// The single price kept beside the price list: the standard rate, else the lowest.
pub fn headline_price(prices: &BTreeMap<String, i64>) -> i64 {
    prices
        .get(STANDARD)
        .copied()
        .or_else(|| prices.values().min().copied())
        .unwrap_or(0)
}

/// Whether a bid's price needs evidence for its variation: it is above the provider's own
/// Provider Response rate for the competition's need level, or the provider priced no rate
/// for that level (nothing to be in line with).
pub fn needs_variation_evidence(price: i64, provider_response: Option<i64>) -> bool {
    provider_response.is_none_or(|rate| price > rate)
}

/// A text that must not be blank: `required` on `field` with `message` if it is.
fn required(field: &str, value: &str, message: &str) -> Vec<FieldError> {
    if value.trim().is_empty() {
        vec![FieldError::new(field, "required", message)]
    } else {
        Vec::new()
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
    /// The home or carers offered (the provider's own, in the competition's lot).
    #[serde(default)]
    pub home_id: Option<crate::ids::HomeId>,
    /// An answer per criterion (e.g. how the home would meet the child's needs).
    #[serde(default)]
    pub answers: BTreeMap<CriterionName, String>,
    /// Why the price differs from the Provider Response rate (needed when it is above).
    #[serde(default)]
    pub price_variation_evidence: Option<String>,
}

impl Validate for NewBid {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.weekly_price_pence <= 0 {
            e.push(FieldError::new(
                "/weekly_price_pence",
                "min",
                "a weekly price must be more than zero",
            ));
        } else if let Err(err) = Pence(self.weekly_price_pence).check_range(
            "/weekly_price_pence",
            Pence(1),
            Pence::MAX_WEEKLY,
        ) {
            e.push(err);
        }
        for (c, a) in &self.answers {
            if a.len() > 10_000 {
                e.push(FieldError::new(
                    format!("/answers/{c}"),
                    "max_length",
                    "10,000 characters at most",
                ));
            }
        }
        e
    }
}

impl NewBid {
    /// The evidence for a price variation, if any was given (blank counts as none).
    pub fn evidence(&self) -> Option<&str> {
        self.price_variation_evidence
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

/// Award the best-value bid; naming a bid is a check that it is the best value.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Award {
    #[serde(default)]
    pub bid_id: Option<crate::ids::BidId>,
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

    #[test]
    fn reviews_fall_two_years_after_the_start() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(default_review_date(d("2020-10-19")), d("2022-10-19"));
        assert_eq!(default_review_date(d("2024-02-29")), d("2026-02-28"));
        assert!(FrameworkKind::ProviderPartnerAgreement.is_open_system());
        assert!(!FrameworkKind::FrameworkAgreement.is_open_system());
        assert!(round_is_open(false, Some(d("2026-03-01")), d("2026-03-01")));
        assert!(!round_is_open(
            false,
            Some(d("2026-02-28")),
            d("2026-03-01")
        ));
        assert!(!round_is_open(true, None, d("2026-03-01")));
    }

    #[test]
    fn provider_responses_are_priced_by_need_level() {
        let a: Admission = serde_json::from_value(serde_json::json!({
            "provider_id": "prov-care-assist", "name": "Care Assist", "weekly_price_pence": 214900
        }))
        .unwrap();
        assert!(a.validate().is_empty());
        assert_eq!(
            a.prices(),
            BTreeMap::from([("standard".to_owned(), 214_900)])
        );
        let b: Admission = serde_json::from_value(serde_json::json!({
            "provider_id": "prov-x", "name": "X",
            "weekly_prices": {"standard": 200000, "Complex": 0}
        }))
        .unwrap();
        let rules: Vec<(String, String)> = b
            .validate()
            .into_iter()
            .map(|e| (e.field, e.rule))
            .collect();
        assert!(rules.contains(&("/weekly_prices/Complex".into(), "format".into())));
        assert!(rules.contains(&("/weekly_prices/Complex".into(), "min".into())));
        assert_eq!(headline_price(&b.prices()), 200_000);
        assert!(needs_variation_evidence(214_901, Some(214_900)));
        assert!(!needs_variation_evidence(214_900, Some(214_900)));
        assert!(needs_variation_evidence(1, None));
    }

    #[test]
    fn weekly_prices_are_at_most_the_weekly_bound() {
        let max = Pence::MAX_WEEKLY.0;
        let rules = |errors: Vec<FieldError>| -> Vec<(String, String)> {
            errors.into_iter().map(|e| (e.field, e.rule)).collect()
        };
        let bid = |price: i64| -> NewBid {
            serde_json::from_value(
                serde_json::json!({"weekly_price_pence": price, "start_date": "2026-12-01"}),
            )
            .unwrap()
        };
        assert!(bid(max).validate().is_empty());
        assert_eq!(
            rules(bid(max + 1).validate()),
            [("/weekly_price_pence".into(), "range".into())]
        );
        let admission: Admission = serde_json::from_value(serde_json::json!({
            "provider_id": "prov-x", "name": "X",
            "weekly_prices": {"standard": 200000, "complex": i64::MAX}
        }))
        .unwrap();
        assert_eq!(
            rules(admission.validate()),
            [("/weekly_prices/complex".into(), "range".into())]
        );
        let award = |rate: i64| -> calloff::DirectAward {
            serde_json::from_value(serde_json::json!({
                "provider_id": "prov-care-assist", "weekly_rate_pence": rate,
                "start_date": "2026-12-01", "justification": "emergency"
            }))
            .unwrap()
        };
        assert!(award(max).validate().is_empty());
        assert_eq!(
            rules(award(i64::MAX).validate()),
            [("/weekly_rate_pence".into(), "range".into())]
        );
    }

    #[test]
    fn bids_name_answers_by_criterion() {
        let b: NewBid = serde_json::from_value(serde_json::json!({
            "weekly_price_pence": 1, "start_date": "2026-12-01",
            "answers": {"quality": "Outstanding home"}, "price_variation_evidence": "  "
        }))
        .unwrap();
        assert_eq!(b.answers[&CriterionName::Quality], "Outstanding home");
        assert_eq!(b.evidence(), None);
        assert!(
            serde_json::from_value::<NewBid>(serde_json::json!({
                "weekly_price_pence": 1, "start_date": "2026-12-01", "answers": {"vibes": "x"}
            }))
            .is_err()
        );
    }
}
