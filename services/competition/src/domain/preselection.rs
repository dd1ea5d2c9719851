//! Preselection (4.1 c of the LCR PPA paper): which of a lot's providers a mini-competition
//! invites, judged on their homes or carers against the child's needs: emergency capacity,
//! home size, distance from the child's area, a live vacancy, gender and age accepted,
//! educational needs. A provider is invited when at least one of its homes passes every
//! test the commissioner applies; every other provider is listed with the reasons, home by
//! home.

use hub_events::{ReferralSubmitted, Urgency};
use hub_platform::{FieldError, directory::distance_miles};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::required;

/// Which tests apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    /// The home can take an emergency placement.
    #[serde(default)]
    pub emergency_capacity: bool,
    /// The home is big enough (and, if a maximum is set, small enough) and not full.
    #[serde(default)]
    pub home_size: bool,
    /// The home is within the maximum distance of the child's area.
    #[serde(default)]
    pub distance: bool,
    /// The provider has a live vacancy at the home.
    #[serde(default)]
    pub live_vacancy: bool,
    /// The home accepts the child's gender.
    #[serde(default)]
    pub gender: bool,
    /// The home's age range includes the child's age.
    #[serde(default)]
    pub age: bool,
    /// The home's educational provision covers each of the child's educational needs.
    #[serde(default)]
    pub educational_needs: bool,
}

impl Filters {
    pub fn any(&self) -> bool {
        self.emergency_capacity
            || self.home_size
            || self.distance
            || self.live_vacancy
            || self.gender
            || self.age
            || self.educational_needs
    }
}

/// The preselection of a competition: the tests, their parameters, and why they were chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Preselection {
    pub filters: Filters,
    /// Places the child (or sibling group) needs in one home.
    pub places_needed: u32,
    /// The child needs a small home: at most this many registered places.
    pub max_registered_places: Option<u32>,
    pub max_distance_miles: f64,
    /// Why these tests.
    pub reason: String,
    /// Who chose them (`null`: the defaults drawn from the referral).
    pub set_by: Option<String>,
}

impl Preselection {
    /// The tests the referral's needs call for: emergency capacity for an emergency;
    /// distance when a maximum is given; educational needs when there are any; home size,
    /// a live vacancy, gender and age always.
    pub fn for_referral(r: &ReferralSubmitted) -> Self {
        Self {
            filters: Filters {
                emergency_capacity: r.urgency == Urgency::Emergency,
                home_size: true,
                distance: r.max_distance_miles > 0.0,
                live_vacancy: true,
                gender: true,
                age: true,
                educational_needs: !r.educational_needs.is_empty(),
            },
            places_needed: 1,
            max_registered_places: None,
            max_distance_miles: r.max_distance_miles,
            reason: "the tests the referral's needs call for (defaults)".to_owned(),
            set_by: None,
        }
    }
}

/// The commissioner's change to a draft competition's preselection.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreselectionUpdate {
    pub filters: Filters,
    #[serde(default)]
    pub places_needed: Option<u32>,
    #[serde(default)]
    pub max_registered_places: Option<u32>,
    #[serde(default)]
    pub max_distance_miles: Option<f64>,
    /// Why these tests (required: the options appraisal is recorded).
    #[serde(default)]
    pub reason: String,
}

impl hub_platform::http::Validate for PreselectionUpdate {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = required("/reason", &self.reason, "record why these tests apply");
        if self.places_needed == Some(0) {
            e.push(FieldError::new("/places_needed", "min", "at least 1 place"));
        }
        if self.max_registered_places == Some(0) {
            e.push(FieldError::new(
                "/max_registered_places",
                "min",
                "at least 1 place",
            ));
        }
        if let Some(m) = self.max_distance_miles
            && !(m.is_finite() && (0.0..=1000.0).contains(&m))
        {
            e.push(FieldError::new(
                "/max_distance_miles",
                "range",
                "0 to 1,000 miles",
            ));
        }
        e
    }
}

impl PreselectionUpdate {
    pub fn apply(self, current: &Preselection, by: &str) -> Preselection {
        Preselection {
            filters: self.filters,
            places_needed: self.places_needed.unwrap_or(current.places_needed),
            max_registered_places: self.max_registered_places,
            max_distance_miles: self
                .max_distance_miles
                .unwrap_or(current.max_distance_miles),
            reason: self.reason.trim().to_owned(),
            set_by: Some(by.to_owned()),
        }
    }
}

/// A home or fostering household as preselection sees it.
#[derive(Debug, Clone)]
pub struct HomeFacts {
    pub id: String,
    pub name: String,
    pub latitude: f64,
    pub longitude: f64,
    pub registered_places: u32,
    pub occupied_places: u32,
    pub genders_accepted: Vec<String>,
    pub min_age_years: u32,
    pub max_age_years: u32,
    pub emergency_capacity: bool,
    pub educational_provision: Vec<String>,
    pub live_vacancy: bool,
}

/// A provider admitted to the lot, with its homes in the lot.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub provider_id: String,
    pub name: String,
    pub homes: Vec<HomeFacts>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    NoHomes,
    NoEmergencyCapacity,
    HomeTooSmall,
    HomeTooLarge,
    HomeFull,
    TooFar,
    NoLiveVacancy,
    GenderNotAccepted,
    AgeNotAccepted,
    EducationalNeedsNotMet,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Reason {
    pub code: ReasonCode,
    pub home_id: Option<String>,
    pub home_name: Option<String>,
    /// In words, e.g. "Oak House is 34.2 miles from L20, beyond the 20 allowed".
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Invitee {
    pub provider_id: String,
    pub name: String,
    /// The homes that passed every test (empty when no test applies).
    pub homes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LeftOut {
    pub provider_id: String,
    pub name: String,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct PreselectionResult {
    pub would_invite: Vec<Invitee>,
    pub left_out: Vec<LeftOut>,
}

/// Applies `p` to every candidate for the child of referral `r`.
pub fn preselect(
    p: &Preselection,
    r: &ReferralSubmitted,
    candidates: &[Candidate],
) -> PreselectionResult {
    let mut out = PreselectionResult::default();
    for c in candidates {
        if !p.filters.any() {
            out.would_invite.push(Invitee {
                provider_id: c.provider_id.clone(),
                name: c.name.clone(),
                homes: Vec::new(),
            });
            continue;
        }
        if c.homes.is_empty() {
            out.left_out.push(LeftOut {
                provider_id: c.provider_id.clone(),
                name: c.name.clone(),
                reasons: vec![Reason {
                    code: ReasonCode::NoHomes,
                    home_id: None,
                    home_name: None,
                    detail: "no homes or carers recorded for this lot".to_owned(),
                }],
            });
            continue;
        }
        let mut passing = Vec::new();
        let mut reasons = Vec::new();
        for h in &c.homes {
            let failed = home_reasons(p, r, h);
            if failed.is_empty() {
                passing.push(h.name.clone());
            } else {
                reasons.extend(failed);
            }
        }
        if passing.is_empty() {
            out.left_out.push(LeftOut {
                provider_id: c.provider_id.clone(),
                name: c.name.clone(),
                reasons,
            });
        } else {
            out.would_invite.push(Invitee {
                provider_id: c.provider_id.clone(),
                name: c.name.clone(),
                homes: passing,
            });
        }
    }
    out
}

/// Why home `h` does not suit the child, test by test (none: it suits).
#[expect(
    clippy::too_many_lines,
    reason = "the preselection tests, one after another in the order the commissioner reads \
              them; each is a rule of the spec with its own wording"
)]
fn home_reasons(p: &Preselection, r: &ReferralSubmitted, h: &HomeFacts) -> Vec<Reason> {
    let mut out = Vec::new();
    let mut fail = |code: ReasonCode, detail: String| {
        out.push(Reason {
            code,
            home_id: Some(h.id.clone()),
            home_name: Some(h.name.clone()),
            detail,
        })
    };
    let f = &p.filters;
    if f.emergency_capacity && !h.emergency_capacity {
        fail(
            ReasonCode::NoEmergencyCapacity,
            format!("{} has no emergency capacity", h.name),
        );
    }
    if f.home_size {
        if h.registered_places < p.places_needed {
            fail(
                ReasonCode::HomeTooSmall,
                format!(
                    "{} is registered for {} place(s); {} needed",
                    h.name, h.registered_places, p.places_needed
                ),
            );
        } else if h.registered_places.saturating_sub(h.occupied_places) < p.places_needed {
            fail(
                ReasonCode::HomeFull,
                format!(
                    "{} is full ({} of {} places taken)",
                    h.name, h.occupied_places, h.registered_places
                ),
            );
        }
        if let Some(max) = p.max_registered_places
            && h.registered_places > max
        {
            fail(
                ReasonCode::HomeTooLarge,
                format!(
                    "{} is registered for {} places; the child needs a home of at most {max}",
                    h.name, h.registered_places
                ),
            );
        }
    }
    if f.distance {
        let d = distance_miles(h.latitude, h.longitude, r.area_latitude, r.area_longitude);
        if d > p.max_distance_miles {
            fail(
                ReasonCode::TooFar,
                format!(
                    "{} is {d:.1} miles from {}, beyond the {} allowed",
                    h.name,
                    r.area_district,
                    miles(p.max_distance_miles)
                ),
            );
        }
    }
    if f.live_vacancy && !h.live_vacancy {
        fail(
            ReasonCode::NoLiveVacancy,
            format!("{} has no live vacancy", h.name),
        );
    }
    if f.gender
        && !h.genders_accepted.is_empty()
        && !h
            .genders_accepted
            .iter()
            .any(|g| g.eq_ignore_ascii_case(r.gender.trim()))
    {
        fail(
            ReasonCode::GenderNotAccepted,
            format!(
                "{} accepts {} only, not {}",
                h.name,
                h.genders_accepted.join(" or "),
                r.gender
            ),
        );
    }
    if f.age && !(h.min_age_years..=h.max_age_years).contains(&r.age_years) {
        fail(
            ReasonCode::AgeNotAccepted,
            format!(
                "{} takes ages {} to {}; the child is {}",
                h.name, h.min_age_years, h.max_age_years, r.age_years
            ),
        );
    }
    if f.educational_needs {
        let missing: Vec<&str> = r
            .educational_needs
            .iter()
            .filter(|n| {
                !h.educational_provision
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(n.trim()))
            })
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            fail(
                ReasonCode::EducationalNeedsNotMet,
                format!("{} does not provide for {}", h.name, missing.join(", ")),
            );
        }
    }
    out
}

fn miles(m: f64) -> String {
    if m.fract() == 0.0 {
        format!("{m:.0}")
    } else {
        format!("{m:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use hub_events::AgeBand;
    use uuid::Uuid;

    pub fn referral(urgency: Urgency) -> ReferralSubmitted {
        ReferralSubmitted {
            referral_id: Uuid::now_v7(),
            version: 1,
            council: "E08000014".into(),
            framework_id: Uuid::now_v7(),
            lot_id: Uuid::now_v7(),
            route: "preselected_mini_competition".into(),
            placement_type: "residential".into(),
            urgency,
            age_band: AgeBand::ElevenToFifteen,
            age_years: 14,
            gender: "male".into(),
            needs: vec!["emotional_behavioural".into()],
            educational_needs: vec!["SEMH".into()],
            ehcp: true,
            wanted_start: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            area_district: "L20".into(),
            area_latitude: 53.46,
            area_longitude: -2.99,
            max_distance_miles: 20.0,
            submitted_by: "jo".into(),
        }
    }

    /// A home that passes everything for `referral()`: in Bootle, 4 places, 1 taken.
    pub fn home(id: &str) -> HomeFacts {
        HomeFacts {
            id: id.into(),
            name: format!("{id} House"),
            latitude: 53.45,
            longitude: -2.98,
            registered_places: 4,
            occupied_places: 1,
            genders_accepted: vec!["male".into(), "female".into()],
            min_age_years: 8,
            max_age_years: 17,
            emergency_capacity: true,
            educational_provision: vec!["semh".into()],
            live_vacancy: true,
        }
    }

    fn candidate(id: &str, homes: Vec<HomeFacts>) -> Candidate {
        Candidate {
            provider_id: id.into(),
            name: id.to_uppercase(),
            homes,
        }
    }

    fn codes(r: &PreselectionResult, provider: &str) -> Vec<ReasonCode> {
        r.left_out
            .iter()
            .find(|l| l.provider_id == provider)
            .map(|l| l.reasons.iter().map(|r| r.code).collect())
            .unwrap_or_default()
    }

    #[test]
    fn defaults_follow_the_referral() {
        let p = Preselection::for_referral(&referral(Urgency::Planned));
        assert!(!p.filters.emergency_capacity && p.filters.educational_needs);
        assert_eq!(p.max_distance_miles, 20.0);
        let mut r = referral(Urgency::Emergency);
        r.educational_needs.clear();
        let p = Preselection::for_referral(&r);
        assert!(p.filters.emergency_capacity && !p.filters.educational_needs);
    }

    #[test]
    fn every_test_names_its_reason() {
        let r = referral(Urgency::Emergency);
        let p = Preselection::for_referral(&r);
        let ok = candidate("ok", vec![home("a")]);
        let no_emergency = candidate(
            "no-emergency",
            vec![HomeFacts {
                emergency_capacity: false,
                ..home("b")
            }],
        );
        let full = candidate(
            "full",
            vec![HomeFacts {
                occupied_places: 4,
                ..home("c")
            }],
        );
        // Nottingham: about 82 miles from Bootle.
        let far = candidate(
            "far",
            vec![HomeFacts {
                latitude: 52.95,
                longitude: -1.15,
                ..home("d")
            }],
        );
        let no_vacancy = candidate(
            "no-vacancy",
            vec![HomeFacts {
                live_vacancy: false,
                ..home("e")
            }],
        );
        let girls = candidate(
            "girls",
            vec![HomeFacts {
                genders_accepted: vec!["female".into()],
                ..home("f")
            }],
        );
        let young = candidate(
            "young",
            vec![HomeFacts {
                max_age_years: 11,
                ..home("g")
            }],
        );
        let school = candidate(
            "school",
            vec![HomeFacts {
                educational_provision: vec![],
                ..home("h")
            }],
        );
        let none = candidate("none", vec![]);
        let mixed = candidate(
            "mixed",
            vec![
                HomeFacts {
                    live_vacancy: false,
                    ..home("i")
                },
                home("j"),
            ],
        );
        let all = [
            ok,
            no_emergency,
            full,
            far,
            no_vacancy,
            girls,
            young,
            school,
            none,
            mixed,
        ];
        let res = preselect(&p, &r, &all);
        let invited: Vec<&str> = res
            .would_invite
            .iter()
            .map(|i| i.provider_id.as_str())
            .collect();
        assert_eq!(invited, vec!["ok", "mixed"]);
        assert_eq!(res.would_invite[1].homes, vec!["j House"]);
        assert_eq!(
            codes(&res, "no-emergency"),
            vec![ReasonCode::NoEmergencyCapacity]
        );
        assert_eq!(codes(&res, "full"), vec![ReasonCode::HomeFull]);
        assert_eq!(codes(&res, "far"), vec![ReasonCode::TooFar]);
        assert_eq!(codes(&res, "no-vacancy"), vec![ReasonCode::NoLiveVacancy]);
        assert_eq!(codes(&res, "girls"), vec![ReasonCode::GenderNotAccepted]);
        assert_eq!(codes(&res, "young"), vec![ReasonCode::AgeNotAccepted]);
        assert_eq!(
            codes(&res, "school"),
            vec![ReasonCode::EducationalNeedsNotMet]
        );
        assert_eq!(codes(&res, "none"), vec![ReasonCode::NoHomes]);
        let far = &res
            .left_out
            .iter()
            .find(|l| l.provider_id == "far")
            .unwrap()
            .reasons[0];
        assert!(
            far.detail.contains("miles from L20, beyond the 20 allowed"),
            "{}",
            far.detail
        );
        assert!(far.detail.starts_with("d House is 8"), "{}", far.detail);
    }

    #[test]
    fn size_limits_and_switched_off_tests() {
        let r = referral(Urgency::Planned);
        let mut p = Preselection::for_referral(&r);
        p.places_needed = 2;
        p.max_registered_places = Some(3);
        let small = candidate(
            "small",
            vec![HomeFacts {
                registered_places: 1,
                occupied_places: 0,
                ..home("a")
            }],
        );
        let big = candidate("big", vec![home("b")]);
        let res = preselect(&p, &r, &[small.clone(), big.clone()]);
        assert_eq!(codes(&res, "small"), vec![ReasonCode::HomeTooSmall]);
        assert_eq!(codes(&res, "big"), vec![ReasonCode::HomeTooLarge]);
        // No test at all: everyone is invited, homes or not.
        p.filters = Filters::default();
        let res = preselect(&p, &r, &[small, big, candidate("none", vec![])]);
        assert_eq!(res.would_invite.len(), 3);
        assert!(res.left_out.is_empty());
    }

    #[test]
    fn fifty_providers_preselect_quickly() {
        let r = referral(Urgency::Planned);
        let p = Preselection::for_referral(&r);
        let all: Vec<Candidate> = (0..50)
            .map(|i| {
                candidate(
                    &format!("p{i}"),
                    (0..4).map(|h| home(&format!("{i}-{h}"))).collect(),
                )
            })
            .collect();
        let started = std::time::Instant::now();
        let res = preselect(&p, &r, &all);
        let took = started.elapsed();
        eprintln!("50 providers × 4 homes preselected in {took:?}");
        assert_eq!(res.would_invite.len(), 50);
        assert!(took < std::time::Duration::from_millis(50));
    }
}
