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
    /// Routes the competition service acts on (a competition or a direct award on the
    /// referral's framework and lot); the others source the placement elsewhere.
    pub fn competed(self) -> bool {
        matches!(
            self,
            Self::MiniCompetition | Self::PreselectedMiniCompetition | Self::DirectAward
        )
    }

    pub fn parse(code: &str) -> Option<Self> {
        [
            Self::MiniCompetition,
            Self::PreselectedMiniCompetition,
            Self::DirectAward,
            Self::OtherPurchasingSystem,
            Self::SpotPurchase,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }

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
        // Sent in `referral.submitted`: codes, never words about the child.
        if !is_code(&self.child.gender) {
            errors.push(FieldError::new(
                f("/child/gender"),
                "code",
                "a gender code (e.g. female, male, non_binary), not a description",
            ));
        }
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

/// Where a referral is in its life.
///
/// ```text
/// draft ─submit→ submitted ─competition.opened→ in_competition ─competition.awarded→ awarded
///                    ↑  └──────────── competition.awarded (direct award) ────────────↗   │
///                    └── competition.closed ──┘                                          │
///                                                awarded ─contract.placement_started→ placed ─close→ closed
/// submitted | in_competition ─contract.placement_started (block bed, other system, spot)→ placed
/// draft | submitted | in_competition | awarded ─withdraw→ withdrawn
/// ```
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
    /// Put back to the council by the competition service, which could not route it
    /// (`competition.referral_returned`); `status_reason` holds the reason code.
    Returned,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Self::Draft,
        Self::Submitted,
        Self::Returned,
        Self::InCompetition,
        Self::Awarded,
        Self::Placed,
        Self::Closed,
        Self::Withdrawn,
    ];

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::InCompetition => "in_competition",
            Self::Awarded => "awarded",
            Self::Placed => "placed",
            Self::Closed => "closed",
            Self::Withdrawn => "withdrawn",
            Self::Returned => "returned",
        }
    }
}

/// A refused action: a 409 `/problems/<slug>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub slug: &'static str,
    pub detail: String,
}

impl Conflict {
    fn new(slug: &'static str, detail: impl Into<String>) -> Self {
        Self {
            slug,
            detail: detail.into(),
        }
    }

    fn placed(status: Status) -> Self {
        Self::new(
            "referral-placed",
            format!(
                "the referral is {}: the child has been placed, so it can no longer be withdrawn \
                 (close it once the placement ends)",
                status.code()
            ),
        )
    }

    fn withdrawn() -> Self {
        Self::new("referral-withdrawn", "the referral has been withdrawn")
    }

    fn closed() -> Self {
        Self::new("referral-closed", "the referral is closed")
    }
}

/// How a change is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A draft: the one version is rewritten.
    InPlace,
    /// After submission: a new version.
    NewVersion,
}

impl Status {
    /// Whether the council may withdraw the referral: at any point before placement.
    pub fn withdraw(self) -> Result<Status, Conflict> {
        match self {
            Self::Draft
            | Self::Submitted
            | Self::Returned
            | Self::InCompetition
            | Self::Awarded => Ok(Self::Withdrawn),
            Self::Placed | Self::Closed => Err(Conflict::placed(self)),
            Self::Withdrawn => Err(Conflict::withdrawn()),
        }
    }

    /// Whether the document may be changed (`PUT`), and how the change is kept.
    pub fn edit(self) -> Result<Change, Conflict> {
        match self {
            Self::Draft => Ok(Change::InPlace),
            Self::Submitted
            | Self::Returned
            | Self::InCompetition
            | Self::Awarded
            | Self::Placed => Ok(Change::NewVersion),
            Self::Withdrawn => Err(Conflict::withdrawn()),
            Self::Closed => Err(Conflict::closed()),
        }
    }

    /// Whether the route may be changed. A submitted referral (never routed yet, or back from
    /// a closed competition) or a returned one gets a new version and is submitted again for
    /// the new route (a returned one is `submitted` again: [`Status::rerouted`]).
    pub fn reroute(self) -> Result<Change, Conflict> {
        match self {
            Self::Draft => Ok(Change::InPlace),
            Self::Submitted | Self::Returned => Ok(Change::NewVersion),
            Self::InCompetition => Err(Conflict::new(
                "referral-in-competition",
                "a competition is open for this referral; it must be closed before the referral \
                 is re-routed",
            )),
            Self::Awarded | Self::Placed => Err(Conflict::new(
                "referral-awarded",
                format!(
                    "the referral is {}; a direct award is reviewed (and reopened to competition) \
                     in the competition service",
                    self.code()
                ),
            )),
            Self::Withdrawn => Err(Conflict::withdrawn()),
            Self::Closed => Err(Conflict::closed()),
        }
    }

    /// The status after a re-route: a returned referral is submitted again.
    pub fn rerouted(self) -> Status {
        match self {
            Self::Returned => Self::Submitted,
            s => s,
        }
    }

    /// Whether the referral may be closed: once the child is placed (before that, withdraw).
    pub fn close(self) -> Result<Status, Conflict> {
        match self {
            Self::Placed => Ok(Self::Closed),
            Self::Closed => Err(Conflict::closed()),
            Self::Withdrawn => Err(Conflict::withdrawn()),
            _ => Err(Conflict::new(
                "referral-not-placed",
                format!(
                    "the referral is {}; only a placed referral is closed (withdraw it instead)",
                    self.code()
                ),
            )),
        }
    }
}

/// Something the competition or contract service reports about a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Happening<'a> {
    /// A mini-competition opened (`competition.opened`).
    CompetitionOpened { competition_id: &'a str },
    /// A competition closed without an award (`competition.closed`).
    CompetitionClosed { competition_id: &'a str },
    /// A competition was awarded, or a direct award made (`competition.awarded`).
    Awarded { competition_id: &'a str },
    /// The placement started (`contract.placement_started`).
    PlacementStarted,
    /// The competition service could not route the submitted referral
    /// (`competition.referral_returned`).
    Returned,
}

/// The status after `happening`, given the current status and the competition the referral is
/// in (`current_competition`), or `None` when the event does not apply: the referral was
/// withdrawn or closed meanwhile, or a competition other than the one it is in closed.
/// `Some` of the same status means the event's facts (the competition, the winner) are kept
/// but the status stays.
///
/// Events that arrive late (older than the last one applied, after a retry) are the
/// caller's to drop; this is about what a current event does. A competition may open again
/// under the same id (reopened after closing without an award, or a direct award reviewed
/// and opened to competition).
///
/// After placement the child stays placed while a reviewed direct award is opened to
/// competition and awarded: the status stays `placed` and the new winner reads the referral.
pub fn after(
    status: Status,
    current_competition: Option<&str>,
    happening: Happening<'_>,
) -> Option<Status> {
    use Status::*;
    match happening {
        Happening::CompetitionOpened { .. } => match status {
            Submitted | InCompetition | Awarded => Some(InCompetition),
            Placed => Some(Placed),
            _ => None,
        },
        Happening::CompetitionClosed { competition_id } => match status {
            InCompetition if current_competition.is_none_or(|c| c == competition_id) => {
                Some(Submitted)
            }
            _ => None,
        },
        Happening::Awarded { .. } => match status {
            Submitted | InCompetition | Awarded => Some(Awarded),
            Placed => Some(Placed),
            _ => None,
        },
        // Every placement places its referral, whatever the route: after an award, and
        // equally a child placed in a block bed (or through another purchasing system, or a
        // spot purchase) straight from `submitted`, or while a competition was still open
        // for it (a late award or close of that competition then changes nothing).
        Happening::PlacementStarted => match status {
            Submitted | InCompetition | Awarded | Returned | Placed => Some(Placed),
            Draft | Closed | Withdrawn => None,
        },
        Happening::Returned => match status {
            Submitted | Returned => Some(Returned),
            _ => None,
        },
    }
}

/// What the referral service knows of a framework or purchasing system from the competition
/// service's `competition.framework_published` (its replica).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownFramework {
    pub partnership: String,
    pub purchasing_bodies: Vec<String>,
    pub lot_ids: Vec<String>,
}

/// Why a referral of `council` in `partnership` for `lot_id` of a framework would go
/// nowhere, as 422 field errors, judged from the replica (`known`; `None`: the replica has
/// not heard of the framework, so the competition service judges and returns the referral if
/// it cannot route it). Only routes the competition service acts on are checked
/// ([`Route::competed`]).
pub fn routing_errors(
    known: Option<&KnownFramework>,
    partnership: &str,
    council: &str,
    lot_id: &str,
) -> Vec<FieldError> {
    let Some(fw) = known else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    if fw.partnership != partnership {
        errors.push(FieldError::new(
            "/framework_id",
            "partnership",
            format!(
                "the framework belongs to {}, not to {partnership}",
                fw.partnership
            ),
        ));
    } else if !fw.purchasing_bodies.iter().any(|b| b == council) {
        errors.push(FieldError::new(
            "/framework_id",
            "purchasing_body",
            format!("{council} is not one of the framework's purchasing bodies"),
        ));
    }
    if !fw.lot_ids.iter().any(|l| l == lot_id) {
        errors.push(FieldError::new(
            "/lot_id",
            "in_framework",
            "not a lot of the framework",
        ));
    }
    errors
}

/// Why a council withdraws a referral: a code (what the `referral.withdrawn` event carries;
/// events hold no free text about a child) and, in `detail`, its own words kept here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawalReason {
    /// A placement was found another way (in-house, another purchasing system, spot purchase).
    PlacedElsewhere,
    /// The child returned home or to family and friends.
    ReturnedHome,
    /// The care plan changed and the placement is no longer needed.
    PlanChanged,
    /// Written in error or a duplicate.
    Duplicate,
    /// Anything else: `detail` says what.
    Other,
}

impl WithdrawalReason {
    pub fn code(self) -> &'static str {
        match self {
            Self::PlacedElsewhere => "placed_elsewhere",
            Self::ReturnedHome => "returned_home",
            Self::PlanChanged => "plan_changed",
            Self::Duplicate => "duplicate",
            Self::Other => "other",
        }
    }
}

/// Longest free text accepted in reasons.
pub const MAX_REASON_LEN: usize = 2000;

fn reason_errors(field: &str, text: Option<&str>, required: bool, what: &str) -> Vec<FieldError> {
    match text.map(str::trim) {
        None | Some("") if required => vec![FieldError::new(field, "required", what.to_owned())],
        Some(t) if t.chars().count() > MAX_REASON_LEN => vec![FieldError::new(
            field,
            "max_length",
            format!("at most {MAX_REASON_LEN} characters"),
        )],
        _ => Vec::new(),
    }
}

/// `POST /v1/referrals/{id}/withdraw`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    pub reason: WithdrawalReason,
    /// The council's own words (kept in the referral service; required for `other`).
    #[serde(default)]
    pub detail: Option<String>,
}

impl Validate for Withdrawal {
    fn validate(&self) -> Vec<FieldError> {
        reason_errors(
            "/detail",
            self.detail.as_deref(),
            self.reason == WithdrawalReason::Other,
            "say why the referral is withdrawn",
        )
    }
}

impl Withdrawal {
    /// What the council sees as the status reason.
    pub fn describe(&self) -> String {
        match self
            .detail
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            Some(d) => format!("{}: {d}", self.reason.code()),
            None => self.reason.code().to_owned(),
        }
    }
}

/// `POST /v1/referrals/{id}/route`: the options appraisal again.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rerouting {
    pub route: Route,
    /// Why this route now (e.g. why the mini-competition closed without an award).
    pub reason: String,
    /// Another framework and lot (e.g. for a referral returned because its own would go
    /// nowhere); by default the referral keeps its own.
    #[serde(default)]
    pub framework_id: Option<uuid::Uuid>,
    #[serde(default)]
    pub lot_id: Option<uuid::Uuid>,
}

impl Validate for Rerouting {
    fn validate(&self) -> Vec<FieldError> {
        reason_errors(
            "/reason",
            Some(&self.reason),
            true,
            "record why this route was chosen",
        )
    }
}

/// `POST /v1/referrals/{id}/close`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Closing {
    /// Why the referral is closed (e.g. the placement ended). Kept in the referral service.
    pub reason: String,
}

impl Validate for Closing {
    fn validate(&self) -> Vec<FieldError> {
        reason_errors(
            "/reason",
            Some(&self.reason),
            true,
            "say why the referral is closed",
        )
    }
}

/// A `PUT` of the whole document is validated as the document of a new referral is.
impl Validate for ReferralDocument {
    fn validate(&self) -> Vec<FieldError> {
        self.field_errors("")
    }
}

/// What made a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VersionKind {
    /// The first version.
    Created,
    /// A new document (`PUT`).
    Document,
    /// A new route (`POST …/route`), same document.
    Route,
}

impl VersionKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Document => "document",
            Self::Route => "route",
        }
    }
}

/// The versions a provider may read: from the one it was invited on (the awarded provider:
/// every version).
pub fn provider_may_read(version: i32, invited_on: Option<i32>, awarded: bool) -> bool {
    awarded || invited_on.is_some_and(|v| version >= v)
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

    fn doc() -> ReferralDocument {
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
    fn statuses_round_trip_their_codes() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.code()), Some(s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::json!(s.code())
            );
        }
        assert_eq!(Status::parse("open"), None);
    }

    #[test]
    fn withdrawal_is_refused_once_placed() {
        use Status::*;
        for s in [Draft, Submitted, InCompetition, Awarded] {
            assert_eq!(s.withdraw(), Ok(Withdrawn), "{s:?}");
        }
        for s in [Placed, Closed] {
            assert_eq!(s.withdraw().unwrap_err().slug, "referral-placed", "{s:?}");
        }
        assert_eq!(Withdrawn.withdraw().unwrap_err().slug, "referral-withdrawn");
    }

    #[test]
    fn drafts_change_in_place_and_submitted_referrals_get_versions() {
        use Status::*;
        assert_eq!(Draft.edit(), Ok(Change::InPlace));
        for s in [Submitted, InCompetition, Awarded, Placed] {
            assert_eq!(s.edit(), Ok(Change::NewVersion), "{s:?}");
        }
        assert_eq!(Withdrawn.edit().unwrap_err().slug, "referral-withdrawn");
        assert_eq!(Closed.edit().unwrap_err().slug, "referral-closed");

        assert_eq!(Draft.reroute(), Ok(Change::InPlace));
        assert_eq!(Submitted.reroute(), Ok(Change::NewVersion));
        assert_eq!(
            InCompetition.reroute().unwrap_err().slug,
            "referral-in-competition"
        );
        assert_eq!(Awarded.reroute().unwrap_err().slug, "referral-awarded");
        assert_eq!(Placed.reroute().unwrap_err().slug, "referral-awarded");

        assert_eq!(Placed.close(), Ok(Closed));
        assert_eq!(Awarded.close().unwrap_err().slug, "referral-not-placed");
        assert_eq!(Closed.close().unwrap_err().slug, "referral-closed");
    }

    #[test]
    fn events_move_the_referral_through_its_life() {
        use Happening::{CompetitionClosed, CompetitionOpened, PlacementStarted};
        use Status::*;
        let opened = |c| CompetitionOpened { competition_id: c };
        let closed = |c| CompetitionClosed { competition_id: c };
        let awarded = |c| Happening::Awarded { competition_id: c };
        assert_eq!(after(Submitted, None, opened("c1")), Some(InCompetition));
        assert_eq!(
            after(InCompetition, Some("c1"), closed("c1")),
            Some(Submitted),
            "back to submitted, to be re-routed"
        );
        assert_eq!(
            after(InCompetition, Some("c2"), closed("c1")),
            None,
            "a late close of an earlier competition changes nothing"
        );
        assert_eq!(
            after(InCompetition, Some("c1"), awarded("c1")),
            Some(Awarded)
        );
        assert_eq!(
            after(Submitted, None, awarded("d1")),
            Some(Awarded),
            "a direct award"
        );
        assert_eq!(
            after(Awarded, Some("d1"), opened("d1")),
            Some(InCompetition),
            "a reviewed direct award reopened to competition"
        );
        assert_eq!(
            after(Submitted, Some("c1"), opened("c1")),
            Some(InCompetition),
            "a closed competition reopened"
        );
        assert_eq!(after(Awarded, Some("c1"), PlacementStarted), Some(Placed));
        assert_eq!(
            after(Placed, Some("d1"), opened("d1")),
            Some(Placed),
            "the child stays placed while a direct award is reviewed"
        );
        assert_eq!(after(Placed, Some("d1"), awarded("d1")), Some(Placed));
        for s in [Withdrawn, Closed] {
            for h in [opened("c"), closed("c"), awarded("c"), PlacementStarted] {
                assert_eq!(after(s, Some("c"), h), None, "{s:?} {h:?}");
            }
        }
        assert_eq!(after(Draft, None, opened("c")), None);
        // Every placement places its referral: a block bed, another purchasing system or a
        // spot purchase places a submitted referral, with no award before it.
        assert_eq!(after(Submitted, None, PlacementStarted), Some(Placed));
        assert_eq!(
            after(InCompetition, Some("c"), PlacementStarted),
            Some(Placed)
        );
        assert_eq!(after(Placed, Some("c"), closed("c")), None);
        assert_eq!(after(Draft, None, PlacementStarted), None);
    }

    #[test]
    fn withdrawals_need_words_only_for_other() {
        let w = |reason, detail: Option<&str>| Withdrawal {
            reason,
            detail: detail.map(str::to_owned),
        };
        assert!(
            w(WithdrawalReason::ReturnedHome, None)
                .validate()
                .is_empty()
        );
        assert_eq!(
            w(WithdrawalReason::ReturnedHome, Some(" went home ")).describe(),
            "returned_home: went home"
        );
        let errs = w(WithdrawalReason::Other, Some("  ")).validate();
        assert_eq!(
            (errs[0].field.as_str(), errs[0].rule.as_str()),
            ("/detail", "required")
        );
        let long = "x".repeat(MAX_REASON_LEN + 1);
        assert_eq!(
            w(WithdrawalReason::Duplicate, Some(&long)).validate()[0].rule,
            "max_length"
        );
        let r = Rerouting {
            route: Route::DirectAward,
            reason: "".into(),
            framework_id: None,
            lot_id: None,
        };
        assert_eq!(r.validate()[0].field, "/reason");
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
    fn providers_read_from_the_version_they_were_invited_on() {
        assert!(provider_may_read(2, Some(2), false));
        assert!(provider_may_read(3, Some(2), false));
        assert!(!provider_may_read(1, Some(2), false));
        assert!(!provider_may_read(1, None, false));
        assert!(provider_may_read(1, None, true));
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

    #[test]
    fn a_referral_that_would_go_nowhere_is_refused_naming_the_field() {
        let fw = KnownFramework {
            partnership: "LCR-PPA".into(),
            purchasing_bodies: vec!["E08000014".into(), "E06000006".into()],
            lot_ids: vec!["lot-1".into()],
        };
        let rules = |p, c, l| -> Vec<(String, String)> {
            routing_errors(Some(&fw), p, c, l)
                .into_iter()
                .map(|e| (e.field, e.rule))
                .collect()
        };
        assert!(rules("LCR-PPA", "E08000014", "lot-1").is_empty());
        let pair = |f: &str, r: &str| (f.to_owned(), r.to_owned());
        assert_eq!(
            rules("LCR-PPA", "E08000012", "lot-1"),
            [pair("/framework_id", "purchasing_body")]
        );
        assert_eq!(
            rules("AIM", "E08000014", "lot-1"),
            [pair("/framework_id", "partnership")]
        );
        assert_eq!(
            rules("LCR-PPA", "E08000014", "lot-2"),
            [pair("/lot_id", "in_framework")]
        );
        // Not heard of yet: the competition service judges it (and returns it if need be).
        assert!(routing_errors(None, "LCR-PPA", "E08000012", "lot-9").is_empty());
        assert!(Route::MiniCompetition.competed() && !Route::SpotPurchase.competed());
    }

    #[test]
    fn a_returned_referral_is_rerouted_or_withdrawn() {
        use Status::*;
        assert_eq!(after(Submitted, None, Happening::Returned), Some(Returned));
        for s in [Draft, InCompetition, Awarded, Placed, Withdrawn, Closed] {
            assert_eq!(after(s, None, Happening::Returned), None, "{s:?}");
        }
        assert_eq!(Returned.reroute(), Ok(Change::NewVersion));
        assert_eq!(Returned.rerouted(), Submitted);
        assert_eq!(Submitted.rerouted(), Submitted);
        assert_eq!(Returned.withdraw(), Ok(Withdrawn));
        assert_eq!(Returned.edit(), Ok(Change::NewVersion));
    }
}
