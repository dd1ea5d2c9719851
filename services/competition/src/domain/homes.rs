//! A provider's homes (children's homes) or fostering households (carers), offered under a
//! lot as part of its Provider Response, and the live vacancies it publishes at them.

use chrono::{NaiveDate, NaiveDateTime};
use hub_platform::{FieldError, directory::is_postcode_district, http::Validate};
use serde::Deserialize;
use utoipa::ToSchema;

use super::preselection::HomeFacts;
use crate::ids::{BlockContractId, HomeId, LotId, VacancyId};

hub_platform::code_enum! {
    #[derive(Default)]
    pub enum HomeKind {
        /// A children's home.
        #[default]
        Home,
        /// A fostering household.
        Carers,
    }
}

hub_platform::code_enum! {
    pub enum OfstedRating {
        Outstanding,
        Good,
        RequiresImprovement,
        Inadequate,
        NotYetInspected,
    }
}

/// A home or fostering household (created or replaced whole).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHome {
    pub name: String,
    #[serde(default)]
    pub kind: HomeKind,
    pub latitude: f64,
    pub longitude: f64,
    /// e.g. `L20`.
    pub postcode_district: String,
    pub registered_places: u32,
    /// Places taken now (a home with none free is "full").
    #[serde(default)]
    pub occupied_places: u32,
    /// Gender codes accepted (e.g. `male`, `female`); empty accepts any.
    #[serde(default)]
    pub genders_accepted: Vec<String>,
    #[serde(default)]
    pub min_age_years: u32,
    #[serde(default = "seventeen")]
    pub max_age_years: u32,
    /// Need codes the home specialises in (e.g. `emotional_behavioural`).
    #[serde(default)]
    pub specialisms: Vec<String>,
    #[serde(default)]
    pub ofsted_rating: Option<OfstedRating>,
    /// Can take a child in an emergency (same day).
    #[serde(default)]
    pub emergency_capacity: bool,
    /// Educational needs provided for (e.g. `SEMH`, `on_site_school`).
    #[serde(default)]
    pub educational_provision: Vec<String>,
}

fn seventeen() -> u32 {
    17
}

impl Validate for NewHome {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.name.trim().is_empty() {
            e.push(FieldError::new("/name", "required", "a home needs a name"));
        }
        // Great Britain and Northern Ireland, roughly: enough to catch swapped coordinates.
        if !(49.0..=61.0).contains(&self.latitude) {
            e.push(FieldError::new(
                "/latitude",
                "range",
                "a UK latitude (49 to 61)",
            ));
        }
        if !(-9.0..=2.5).contains(&self.longitude) {
            e.push(FieldError::new(
                "/longitude",
                "range",
                "a UK longitude (-9 to 2.5)",
            ));
        }
        if !is_postcode_district(&self.postcode_district) {
            e.push(FieldError::new(
                "/postcode_district",
                "format",
                "an outward postcode such as L20 or WA7",
            ));
        }
        if self.registered_places == 0 {
            e.push(FieldError::new(
                "/registered_places",
                "min",
                "at least 1 place",
            ));
        }
        if self.occupied_places > self.registered_places {
            e.push(FieldError::new(
                "/occupied_places",
                "max",
                "no more than the registered places",
            ));
        }
        if self.max_age_years > 25 {
            e.push(FieldError::new("/max_age_years", "max", "25 at most"));
        }
        if self.min_age_years > self.max_age_years {
            e.push(FieldError::new(
                "/min_age_years",
                "max",
                "no more than the maximum age",
            ));
        }
        for (field, list) in [
            ("genders_accepted", &self.genders_accepted),
            ("specialisms", &self.specialisms),
            ("educational_provision", &self.educational_provision),
        ] {
            for (i, v) in list.iter().enumerate() {
                if v.trim().is_empty() || v.len() > 64 {
                    e.push(FieldError::new(
                        format!("/{field}/{i}"),
                        "format",
                        "a code of 1 to 64 characters",
                    ));
                }
            }
        }
        e
    }
}

/// A live vacancy (published or replaced whole).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVacancy {
    pub lot_id: LotId,
    /// The home or carers with the vacancy (the provider's own, in that lot).
    pub home_id: HomeId,
    pub available_from: NaiveDate,
    /// The last day the vacancy stands; it disappears after.
    pub expires_on: NaiveDate,
    /// Who it suits, in words (age, gender, needs the home works well with).
    pub suits: String,
    #[serde(default = "one")]
    pub places: u32,
}

/// An update of a vacancy (the home and lot stay).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VacancyUpdate {
    pub available_from: NaiveDate,
    pub expires_on: NaiveDate,
    pub suits: String,
    #[serde(default = "one")]
    pub places: u32,
}

fn one() -> u32 {
    1
}

fn vacancy_rules(
    available_from: NaiveDate,
    expires_on: NaiveDate,
    suits: &str,
    places: u32,
) -> Vec<FieldError> {
    let mut e = Vec::new();
    if expires_on < available_from {
        e.push(FieldError::new(
            "/expires_on",
            "after_available_from",
            "a vacancy cannot expire before it is available",
        ));
    }
    if suits.trim().is_empty() {
        e.push(FieldError::new(
            "/suits",
            "required",
            "say who the vacancy suits",
        ));
    }
    if places == 0 {
        e.push(FieldError::new("/places", "min", "at least 1 place"));
    }
    e
}

impl Validate for NewVacancy {
    fn validate(&self) -> Vec<FieldError> {
        vacancy_rules(
            self.available_from,
            self.expires_on,
            &self.suits,
            self.places,
        )
    }
}

impl Validate for VacancyUpdate {
    fn validate(&self) -> Vec<FieldError> {
        vacancy_rules(
            self.available_from,
            self.expires_on,
            &self.suits,
            self.places,
        )
    }
}

/// A vacancy already expired when published or updated.
pub fn expired_on_arrival(expires_on: NaiveDate, today: NaiveDate) -> Option<FieldError> {
    (expires_on < today).then(|| {
        FieldError::new(
            "/expires_on",
            "not_past",
            format!("the vacancy would already have expired (today is {today})"),
        )
    })
}

hub_platform::code_enum! {
    /// Where a listed vacancy stands: `live` until its provider withdraws it or (a bed offered
    /// under a block contract) a child moves in. An expired vacancy is simply no longer listed.
    pub enum VacancyStatus {
        Live,
        Withdrawn,
        Filled,
    }
}

/// Live: published, not withdrawn, and not past its last day.
pub fn is_live(status: VacancyStatus, expires_on: NaiveDate, today: NaiveDate) -> bool {
    status == VacancyStatus::Live && expires_on >= today
}

/// A provider's home or fostering household, offered under a lot.
#[derive(Debug, Clone)]
pub struct Home {
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
    pub updated_at: NaiveDateTime,
    /// Raised by the store at every change (the home's ETag); a new home is at 1.
    pub revision: i64,
}

impl Home {
    /// Home `id` of `provider_id` in `lot_id` as `h` describes it, kept by `by` at `at`.
    pub fn of(
        id: HomeId,
        lot_id: LotId,
        provider_id: &str,
        h: &NewHome,
        by: &str,
        at: NaiveDateTime,
    ) -> Self {
        Self {
            id,
            lot_id,
            provider_id: provider_id.to_owned(),
            name: h.name.trim().to_owned(),
            kind: h.kind,
            latitude: h.latitude,
            longitude: h.longitude,
            postcode_district: h.postcode_district.clone(),
            registered_places: h.registered_places as i32,
            occupied_places: h.occupied_places as i32,
            genders_accepted: h.genders_accepted.clone(),
            min_age_years: h.min_age_years as i32,
            max_age_years: h.max_age_years as i32,
            specialisms: h.specialisms.clone(),
            ofsted_rating: h.ofsted_rating,
            emergency_capacity: h.emergency_capacity,
            educational_provision: h.educational_provision.clone(),
            updated_by: by.to_owned(),
            updated_at: at,
            revision: 1,
        }
    }

    /// What preselection judges of the home, with whether it has a live vacancy.
    pub fn facts(&self, live_vacancy: bool) -> HomeFacts {
        HomeFacts {
            id: self.id.to_string(),
            name: self.name.clone(),
            latitude: self.latitude,
            longitude: self.longitude,
            registered_places: self.registered_places.max(0) as u32,
            occupied_places: self.occupied_places.max(0) as u32,
            genders_accepted: self.genders_accepted.clone(),
            min_age_years: self.min_age_years.max(0) as u32,
            max_age_years: self.max_age_years.max(0) as u32,
            emergency_capacity: self.emergency_capacity,
            educational_provision: self.educational_provision.clone(),
            live_vacancy,
        }
    }
}

/// A live vacancy a provider publishes at one of its homes.
#[derive(Debug, Clone)]
pub struct Vacancy {
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
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Raised by the store at every change (the vacancy's ETag); a new vacancy is at 1.
    pub revision: i64,
}

/// A block-contract bed a council offers to its partners, listed as a vacancy to the
/// councils it was offered to (and the offering council) until filled or expired.
#[derive(Debug, Clone)]
pub struct OfferedBed {
    pub id: VacancyId,
    pub partnership: String,
    pub block_contract_id: BlockContractId,
    pub bed: i32,
    pub provider_id: String,
    pub offered_by: String,
    pub offered_to: Vec<String>,
    pub lot_id: Option<LotId>,
    pub home_id: Option<HomeId>,
    pub postcode_district: String,
    pub available_from: NaiveDate,
    pub expires_on: NaiveDate,
    pub status: VacancyStatus,
    pub filled_by: Option<String>,
    pub filled_on: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl OfferedBed {
    /// The offering council and the councils it was offered to see it.
    pub fn visible_to(&self, council: &str) -> bool {
        self.offered_by == council || self.offered_to.iter().any(|c| c == council)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home() -> NewHome {
        serde_json::from_value(serde_json::json!({
            "name": "Oak House", "latitude": 53.45, "longitude": -2.98,
            "postcode_district": "L20", "registered_places": 4
        }))
        .unwrap()
    }

    #[test]
    fn a_minimal_home_is_valid_with_defaults() {
        let h = home();
        assert!(h.validate().is_empty(), "{:?}", h.validate());
        assert_eq!(
            (h.kind, h.min_age_years, h.max_age_years),
            (HomeKind::Home, 0, 17)
        );
    }

    #[test]
    fn homes_break_named_rules() {
        let h = NewHome {
            name: " ".into(),
            latitude: -2.98,
            longitude: 53.45,
            postcode_district: "l20".into(),
            registered_places: 2,
            occupied_places: 3,
            min_age_years: 12,
            max_age_years: 10,
            ..home()
        };
        let fields: Vec<String> = h.validate().into_iter().map(|e| e.field).collect();
        for f in [
            "/name",
            "/latitude",
            "/longitude",
            "/postcode_district",
            "/occupied_places",
            "/min_age_years",
        ] {
            assert!(fields.contains(&f.to_owned()), "{f} in {fields:?}");
        }
    }

    #[test]
    fn vacancies_live_until_their_last_day() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert!(is_live(
            VacancyStatus::Live,
            d("2026-03-01"),
            d("2026-03-01")
        ));
        assert!(!is_live(
            VacancyStatus::Live,
            d("2026-02-28"),
            d("2026-03-01")
        ));
        assert!(!is_live(
            VacancyStatus::Withdrawn,
            d("2026-04-01"),
            d("2026-03-01")
        ));
        assert!(expired_on_arrival(d("2026-02-28"), d("2026-03-01")).is_some());
        let v = VacancyUpdate {
            available_from: d("2026-03-10"),
            expires_on: d("2026-03-01"),
            suits: "".into(),
            places: 0,
        };
        let rules: Vec<String> = v.validate().into_iter().map(|e| e.rule).collect();
        assert_eq!(rules, vec!["after_available_from", "required", "min"]);
    }
}
