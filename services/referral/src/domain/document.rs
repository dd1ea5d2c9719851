//! The referral document as the council writes it, its checks, and the redacted view an
//! invited provider reads before award. No I/O.

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

/// What kind of placement; its code (`Display`) is what `referral.submitted` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum PlacementType {
    Residential,
    FosterCare,
    ParentAndChild,
    SupportedAccommodation,
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
    /// The school's name: read in full by the awarded provider only.
    #[serde(default)]
    pub school: Option<String>,
    /// What an invited provider sees of the school before award: its type, phase and postcode
    /// district (documents written before these fields show none of them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_type: Option<SchoolType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_phase: Option<SchoolPhase>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school_postcode_district: Option<String>,
    #[serde(default)]
    pub ehcp: bool,
    #[serde(default)]
    pub educational_needs: Vec<String>,
}

impl Education {
    /// The school without its name.
    fn redacted(&self) -> RedactedEducation {
        RedactedEducation {
            school_type: self.school_type,
            school_phase: self.school_phase,
            school_postcode_district: self.school_postcode_district.clone(),
            ehcp: self.ehcp,
            educational_needs: self.educational_needs.clone(),
        }
    }
}

/// The kind of school the child attends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SchoolType {
    Mainstream,
    Special,
    AlternativeProvision,
    PupilReferralUnit,
    Independent,
    /// Not on a school roll (home educated, or awaiting a place).
    NotOnRoll,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SchoolPhase {
    Primary,
    Secondary,
    AllThrough,
    Post16,
}

/// Who the child keeps in contact with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    BirthMother,
    BirthFather,
    Siblings,
    Grandparents,
    OtherFamily,
    FormerCarers,
    Friends,
    Other,
}

/// How often.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactFrequency {
    Daily,
    SeveralTimesAWeek,
    Weekly,
    Fortnightly,
    Monthly,
    SeveralTimesAYear,
    Yearly,
    /// Letters, cards or calls only (e.g. letterbox).
    IndirectOnly,
}

/// One contact arrangement as kind and frequency: what an invited provider sees before award
/// (the council's words in `contact_arrangements` go to the awarded provider only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub kind: ContactKind,
    pub frequency: ContactFrequency,
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
    /// The council's words about the child's brothers and sisters: the awarded provider's
    /// to read, never an invited one's.
    #[serde(default)]
    pub siblings: Option<String>,
    /// The siblings' ages in whole years (their number is the list's length): what an
    /// invited provider sees of them before award.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sibling_ages: Option<Vec<u32>>,
    /// The council's words about family time: the awarded provider's to read.
    #[serde(default)]
    pub contact_arrangements: Option<String>,
    /// Each contact as kind and frequency: what an invited provider sees before award.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Vec<Contact>>,
    pub wanted_start: NaiveDate,
    #[serde(default)]
    pub expected_duration_weeks: Option<u32>,
}

impl ReferralDocument {
    pub fn age_band(&self) -> AgeBand {
        AgeBand::for_age(age_in_years(self.child.date_of_birth, self.wanted_start))
    }

    /// What an invited provider sees before award: no name, no date of birth (age in years),
    /// no coordinates (postcode district); the school as type, phase and postcode district
    /// (no name); siblings as their number and ages; contact as kind and frequency. The
    /// council's free text about siblings and contact is not in it.
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
            education: self.education.as_ref().map(Education::redacted),
            about_me: self.about_me.clone(),
            postcode_district: self.location.postcode_district.clone(),
            max_distance_miles: self.location.max_distance_miles,
            siblings: self.sibling_ages.as_ref().map(|ages| Siblings {
                number: ages.len() as u32,
                ages: ages.clone(),
            }),
            contact: self.contact.clone().unwrap_or_default(),
            wanted_start: self.wanted_start,
            expected_duration_weeks: self.expected_duration_weeks,
        }
    }

    /// Every broken rule of the document, fields under `prefix` (`/document` in a new
    /// referral), in the order of the document.
    pub fn field_errors(&self, prefix: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let f = |s: &str| format!("{prefix}{s}");
        self.child_errors(&f, &mut errors);
        self.code_errors(&f, &mut errors);
        self.location_errors(&f, &mut errors);
        self.structured_errors(&f, &mut errors);
        if self.about_me.trim().is_empty() {
            errors.push(FieldError::new(
                f("/about_me"),
                "required",
                "say who the child is, in their words and their carers'",
            ));
        }
        errors
    }

    fn child_errors(&self, f: &dyn Fn(&str) -> String, errors: &mut Vec<FieldError>) {
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
        // Sent in `referral.submitted`: codes, never words about the child.
        if !is_code(&self.child.gender) {
            errors.push(FieldError::new(
                f("/child/gender"),
                "code",
                "a gender code (e.g. female, male, non_binary), not a description",
            ));
        }
    }

    /// Needs and educational needs travel in `referral.submitted`: codes, never words.
    fn code_errors(&self, f: &dyn Fn(&str) -> String, errors: &mut Vec<FieldError>) {
        let educational = self.education.iter().flat_map(|e| &e.educational_needs);
        for (i, code) in educational.enumerate() {
            if !is_code(code) {
                errors.push(FieldError::new(
                    f(&format!("/education/educational_needs/{i}")),
                    "code",
                    "an educational need code (e.g. SEMH, MLD), not a description",
                ));
            }
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
    }

    fn location_errors(&self, f: &dyn Fn(&str) -> String, errors: &mut Vec<FieldError>) {
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
    }

    /// The structured fields an invited provider reads before award: an area, never an
    /// address; ages, never names.
    fn structured_errors(&self, f: &dyn Fn(&str) -> String, errors: &mut Vec<FieldError>) {
        if let Some(d) = self
            .education
            .as_ref()
            .and_then(|e| e.school_postcode_district.as_deref())
            .filter(|d| !is_postcode_district(d))
        {
            errors.push(FieldError::new(
                f("/education/school_postcode_district"),
                "format",
                format!(
                    "`{d}` is not a postcode district such as L20 or WA7 (never a full postcode)"
                ),
            ));
        }
        for (i, age) in self.sibling_ages.iter().flatten().enumerate() {
            if *age > 40 {
                errors.push(FieldError::new(
                    f(&format!("/sibling_ages/{i}")),
                    "range",
                    "a sibling's age in whole years, 0 to 40",
                ));
            }
        }
    }
}

pub use hub_platform::directory::is_postcode_district;

/// A code, not words: 1 to 32 letters, digits, `_` or `-` (what events may carry of the
/// child's gender and educational needs).
pub fn is_code(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
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
    pub education: Option<RedactedEducation>,
    pub about_me: String,
    pub postcode_district: String,
    pub max_distance_miles: f64,
    /// The siblings' number and ages, where the council recorded their ages.
    pub siblings: Option<Siblings>,
    /// Contact arrangements as kind and frequency.
    pub contact: Vec<Contact>,
    pub wanted_start: NaiveDate,
    pub expected_duration_weeks: Option<u32>,
}

/// The school as an invited provider sees it: no name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RedactedEducation {
    pub school_type: Option<SchoolType>,
    pub school_phase: Option<SchoolPhase>,
    pub school_postcode_district: Option<String>,
    pub ehcp: bool,
    pub educational_needs: Vec<String>,
}

/// A child's brothers and sisters as an invited provider sees them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Siblings {
    pub number: u32,
    pub ages: Vec<u32>,
}

/// A `PUT` of the whole document is validated as the document of a new referral is.
impl Validate for ReferralDocument {
    fn validate(&self) -> Vec<FieldError> {
        self.field_errors("")
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

    pub(crate) fn doc() -> ReferralDocument {
        ReferralDocument {
            child: Child {
                name: "A Child".into(),
                date_of_birth: NaiveDate::from_ymd_opt(2012, 5, 14).unwrap(),
                gender: "male".into(),
                ethnicity: None,
                religion: None,
                first_language: None,
            },
            legal_status: "s31 care order".into(),
            placement_type: PlacementType::Residential,
            urgency: Urgency::Planned,
            needs: vec!["emotional_behavioural".into()],
            education: None,
            about_me: "Loves football.".into(),
            location: Location {
                postcode_district: "L20".into(),
                latitude: 53.46,
                longitude: -2.99,
                max_distance_miles: 20.0,
            },
            siblings: None,
            sibling_ages: None,
            contact_arrangements: None,
            contact: None,
            wanted_start: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            expected_duration_weeks: None,
        }
    }

    #[test]
    fn a_put_document_is_checked_like_a_new_one() {
        assert!(doc().validate().is_empty());
        let mut bad = doc();
        bad.needs.push("flying".into());
        bad.location.postcode_district = "l20".into();
        let fields: Vec<String> = bad.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["/needs/1", "/location/postcode_district"]);
    }

    #[test]
    fn the_redacted_view_has_no_name_birth_date_or_coordinates() {
        let text = serde_json::to_string(&doc().redacted()).unwrap();
        for leak in ["A Child", "2012-05-14", "53.46", "-2.99"] {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
        assert!(text.contains("\"age_years\":14") && text.contains("L20"));
    }

    #[test]
    fn until_award_the_school_siblings_and_contact_are_structured_not_words() {
        let mut d = doc();
        d.education = Some(Education {
            school: Some("St Winefride's Catholic Primary".into()),
            school_type: Some(SchoolType::Mainstream),
            school_phase: Some(SchoolPhase::Primary),
            school_postcode_district: Some("L20".into()),
            ehcp: false,
            educational_needs: vec![],
        });
        d.siblings =
            Some("Two younger sisters, Aoife (6) and Niamh (4), with foster carers".into());
        d.sibling_ages = Some(vec![6, 4]);
        d.contact_arrangements =
            Some("Supervised contact with mum Sinead at the Bootle centre".into());
        d.contact = Some(vec![Contact {
            kind: ContactKind::BirthMother,
            frequency: ContactFrequency::Fortnightly,
        }]);
        let r = serde_json::to_value(d.redacted()).unwrap();
        let text = r.to_string();
        for leak in ["Winefride", "Aoife", "Niamh", "Sinead", "Bootle"] {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
        assert_eq!(
            r["education"],
            serde_json::json!({"school_type": "mainstream", "school_phase": "primary",
                "school_postcode_district": "L20", "ehcp": false, "educational_needs": []})
        );
        assert_eq!(
            r["siblings"],
            serde_json::json!({"number": 2, "ages": [6, 4]})
        );
        assert_eq!(
            r["contact"],
            serde_json::json!([{"kind": "birth_mother", "frequency": "fortnightly"}])
        );
        // A document written before the structured fields reads as it did, showing no words.
        let old: ReferralDocument = serde_json::from_value(serde_json::json!({
            "child": {"name": "A Child", "date_of_birth": "2012-05-14", "gender": "male"},
            "legal_status": "s20", "placement_type": "residential", "urgency": "planned",
            "needs": [], "education": {"school": "Old School", "ehcp": true, "educational_needs": []},
            "about_me": "x", "siblings": "a brother, Sam",
            "contact_arrangements": "weekly with gran",
            "location": {"postcode_district": "L20", "latitude": 53.4, "longitude": -2.9,
                "max_distance_miles": 10.0},
            "wanted_start": "2026-12-01"
        }))
        .unwrap();
        let r = serde_json::to_string(&old.redacted()).unwrap();
        for leak in ["Old School", "Sam", "gran"] {
            assert!(!r.contains(leak), "{leak} in {r}");
        }
        let mut bad = d.clone();
        bad.child.gender = "girl, prefers to be called Sam".into();
        bad.education.as_mut().unwrap().educational_needs =
            vec!["SEMH".into(), "needs a TA".into()];
        bad.education.as_mut().unwrap().school_postcode_district = Some("L20 3AB".into());
        bad.sibling_ages = Some(vec![6, 400]);
        let fields: Vec<String> = bad.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "/child/gender",
                "/education/educational_needs/1",
                "/education/school_postcode_district",
                "/sibling_ages/1"
            ]
        );
    }
}
