//! The commissioner's moves on a competition: its terms (criteria, need level), opening a
//! preselected draft, scoring, closing, reopening, re-routing, direct awards in an
//! emergency and their review. Request shapes and their rules; no I/O.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
pub use hub_events::CompetitionCloseReason;
use hub_platform::{FieldError, Pence, Problem, http::Validate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    criteria::{self, Criterion},
    required,
};

hub_platform::code_enum! {
    /// Where a competition stands.
    pub enum CompetitionStatus {
        /// Preselected, not yet confirmed: nobody is invited yet.
        Draft,
        /// Invited providers may bid until the deadline.
        Open,
        Awarded,
        /// Closed without an award, with a reason; may be reopened or re-routed.
        Closed,
        /// Routed to a direct award that has not been made yet.
        AwaitingDirectAward,
    }
}

/// The name the service's code uses (`CompetitionStatus` in the OpenAPI document).
pub type Status = CompetitionStatus;

impl Status {
    /// 409 unless the competition is in one of `allowed`: what `doing` needs.
    pub fn require(self, allowed: &[Status], doing: &str) -> Result<(), Problem> {
        if allowed.contains(&self) {
            return Ok(());
        }
        // Bidding and awarding keep the slug they always had; the other moves share one.
        let slug = if allowed == [Status::Open] {
            "competition-closed"
        } else {
            "competition-state"
        };
        let allowed: Vec<String> = allowed.iter().map(ToString::to_string).collect();
        Err(Problem::conflict(
            slug,
            format!(
                "the competition is {self}; {doing} needs it {}",
                allowed.join(" or ")
            ),
        ))
    }

    /// A preselected draft confirmed: bidding opens.
    pub fn open(self) -> Result<Status, Problem> {
        self.require(&[Self::Draft], "opening")?;
        Ok(Self::Open)
    }

    /// The best-value bid of an open competition wins.
    pub fn award(self) -> Result<Status, Problem> {
        self.require(&[Self::Open], "an award")?;
        Ok(Self::Awarded)
    }

    /// Closed without an award, from any state still looking for a provider.
    pub fn close(self) -> Result<Status, Problem> {
        self.require(
            &[Self::Open, Self::Draft, Self::AwaitingDirectAward],
            "closing",
        )?;
        Ok(Self::Closed)
    }

    /// A closed competition opened again, with a new deadline.
    pub fn reopen(self) -> Result<Status, Problem> {
        self.require(&[Self::Closed], "reopening")?;
        Ok(Self::Open)
    }

    /// A closed competition routed to a direct award.
    pub fn reroute(self) -> Result<Status, Problem> {
        self.require(&[Self::Closed], "re-routing")?;
        Ok(Self::AwaitingDirectAward)
    }

    /// A provider named directly (an emergency), from a draft or a re-routed competition.
    pub fn award_directly(self) -> Result<Status, Problem> {
        self.require(&[Self::Draft, Self::AwaitingDirectAward], "a direct award")?;
        Ok(Self::Awarded)
    }

    /// Still looking for a provider (what a withdrawn referral closes).
    pub fn is_live(self) -> bool {
        matches!(self, Self::Draft | Self::Open | Self::AwaitingDirectAward)
    }

    /// A direct award may be made from here.
    pub fn allows_direct_award(self) -> bool {
        matches!(self, Self::Draft | Self::AwaitingDirectAward)
    }
}

/// How long after a direct award it is reviewed, unless the commissioner says otherwise.
pub const DIRECT_AWARD_REVIEW_DAYS: i64 = 28;

pub fn default_review_date(awarded_on: NaiveDate) -> NaiveDate {
    awarded_on + Duration::days(DIRECT_AWARD_REVIEW_DAYS)
}

/// `standard`, `enhanced`, `complex`, …: lower-case letters, digits and `_`.
pub fn is_need_level(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
}

/// The criteria (and the need level bids are priced at) of a draft competition, or of an
/// open one that has no bid yet.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    pub criteria: Vec<Criterion>,
    /// The need level whose Provider Response rate bids are held to.
    #[serde(default)]
    pub need_level: Option<String>,
}

impl Validate for Terms {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = criteria::validate("/criteria", &self.criteria);
        if let Some(l) = &self.need_level
            && !is_need_level(l)
        {
            e.push(FieldError::new(
                "/need_level",
                "format",
                "lower-case letters, digits and `_` (e.g. standard, enhanced, complex)",
            ));
        }
        e
    }
}

/// A lot's default criteria (the lead commissioner's).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LotCriteria {
    pub criteria: Vec<Criterion>,
}

impl Validate for LotCriteria {
    fn validate(&self) -> Vec<FieldError> {
        criteria::validate("/criteria", &self.criteria)
    }
}

/// Confirming a draft (or reopening a closed competition): an optional deadline.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Open {
    /// When bids close (default: by urgency, 72 h planned, 24 h urgent, 4 h emergency).
    #[serde(default)]
    pub deadline: Option<DateTime<Utc>>,
    #[serde(default)]
    pub reason: Option<String>,
}

impl Validate for Open {}

impl Open {
    pub fn deadline_error(&self, now: DateTime<Utc>) -> Option<FieldError> {
        self.deadline
            .filter(|d| *d <= now)
            .map(|_| FieldError::new("/deadline", "future", "the deadline must be in the future"))
    }
}

/// The commissioner's mark on one criterion of one bid.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreMark {
    /// Scored criteria: whole points, 0..=weight.
    #[serde(default)]
    pub score: Option<u32>,
    /// Pass/fail criteria.
    #[serde(default)]
    pub passed: Option<bool>,
    /// A short reason (what the unsuccessful provider is told).
    #[serde(default)]
    pub reason: String,
}

impl Validate for ScoreMark {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.reason.trim().is_empty() {
            e.push(FieldError::new(
                "/reason",
                "required",
                "give a short reason for the mark",
            ));
        } else if self.reason.len() > 2000 {
            e.push(FieldError::new(
                "/reason",
                "max_length",
                "2,000 characters at most",
            ));
        }
        if self.score.is_some() == self.passed.is_some() {
            e.push(FieldError::new(
                "/score",
                "one_of",
                "give either `score` (scored criteria) or `passed` (pass/fail criteria)",
            ));
        }
        e
    }
}

/// Closing a competition without an award: codes out, words in. `reason` is the code every
/// invited provider is told (`competition.closed`); `detail` is the commissioner's own words
/// (required for `other`), kept in the competition's history and never sent;
/// `provider_message` is optional text written *for* the providers and sent as written.
/// `referral_withdrawn` is not the commissioner's to choose: the referral service's
/// withdrawal closes the competition with it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Close {
    /// `no_acceptable_bid`, `no_bids`, `need_changed`, `placed_elsewhere` or `other`.
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub provider_message: Option<String>,
}

/// Longest free text accepted in a close's `detail` and `provider_message`.
pub const MAX_CLOSE_TEXT: usize = 2000;

impl Close {
    /// The reason code, once validated.
    pub fn code(&self) -> CompetitionCloseReason {
        CompetitionCloseReason::parse(self.reason.trim()).unwrap_or(CompetitionCloseReason::Other)
    }

    fn text(t: &Option<String>) -> Option<String> {
        t.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    }

    /// The commissioner's internal words, trimmed.
    pub fn detail(&self) -> Option<String> {
        Self::text(&self.detail)
    }

    /// The words for providers, trimmed.
    pub fn provider_message(&self) -> Option<String> {
        Self::text(&self.provider_message)
    }
}

impl Validate for Close {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = required(
            "/reason",
            &self.reason,
            "say why it closes without an award (a reason code)",
        );
        let code = CompetitionCloseReason::parse(self.reason.trim());
        if e.is_empty() && matches!(code, None | Some(CompetitionCloseReason::ReferralWithdrawn)) {
            e.push(FieldError::new(
                "/reason",
                "one_of",
                "one of no_acceptable_bid, no_bids, need_changed, placed_elsewhere, other \
                 (the council's own words go in `detail`, kept here; words for the providers in \
                 `provider_message`)",
            ));
        }
        if code == Some(CompetitionCloseReason::Other) {
            e.extend(required(
                "/detail",
                self.detail.as_deref().unwrap_or_default(),
                "say why it closes without an award",
            ));
        }
        for (field, text) in [
            ("/detail", &self.detail),
            ("/provider_message", &self.provider_message),
        ] {
            if text
                .as_deref()
                .is_some_and(|t| t.trim().chars().count() > MAX_CLOSE_TEXT)
            {
                e.push(FieldError::new(
                    field,
                    "max_length",
                    format!("at most {MAX_CLOSE_TEXT} characters"),
                ));
            }
        }
        e
    }
}

hub_platform::code_enum! {
    /// Why an invited provider declines to bid (what the commissioner sees).
    pub enum InvitationDeclineReason {
        /// No place free by the wanted start.
        NoCapacity,
        /// The provider cannot meet the child's assessed needs.
        CannotMeetNeeds,
        /// None of its homes or carers is near enough to the child's area.
        Location,
        /// The child would not fit with the children already living in the home (matching).
        Matching,
        /// Anything else: say what in `note`.
        Other,
    }
}

/// The name the service's code uses (`InvitationDeclineReason` in the OpenAPI document).
pub type DeclineReason = InvitationDeclineReason;

/// An invited provider declining to bid.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decline {
    pub reason: DeclineReason,
    /// The provider's words for the commissioner (needed for `other`).
    #[serde(default)]
    pub note: Option<String>,
}

impl Validate for Decline {
    fn validate(&self) -> Vec<FieldError> {
        note_rules(self.reason == DeclineReason::Other, self.note.as_deref())
    }
}

hub_platform::code_enum! {
    /// Why a commissioner closes bidding before the deadline: the code every invited provider
    /// is told.
    pub enum CloseBiddingReason {
        /// The child's circumstances changed: the placement is needed sooner than the deadline
        /// allows.
        PlacementNeededSooner,
        /// A court or legal timescale needs the decision before the deadline.
        CourtTimescale,
        /// Anything else (the commissioner's `note` says what, and stays with the council).
        Other,
    }
}

/// Closing bidding before the deadline.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBidding {
    pub reason: CloseBiddingReason,
    /// The council's own record of why (kept in the competition's history, never sent to
    /// providers; needed for `other`).
    #[serde(default)]
    pub note: Option<String>,
}

impl Validate for CloseBidding {
    fn validate(&self) -> Vec<FieldError> {
        note_rules(
            self.reason == CloseBiddingReason::Other,
            self.note.as_deref(),
        )
    }
}

/// A `note`: required when the reason is `other`, 2,000 characters at most.
fn note_rules(required_now: bool, note: Option<&str>) -> Vec<FieldError> {
    let note = note.map(str::trim).unwrap_or("");
    if required_now && note.is_empty() {
        vec![FieldError::new(
            "/note",
            "required",
            "say what the reason `other` is",
        )]
    } else if note.chars().count() > 2000 {
        vec![FieldError::new(
            "/note",
            "max_length",
            "2,000 characters at most",
        )]
    } else {
        Vec::new()
    }
}

/// Whether bidding is over: the deadline has passed, or the commissioner closed it early.
pub fn bidding_over(
    now: NaiveDateTime,
    deadline: NaiveDateTime,
    closed_early: Option<NaiveDateTime>,
) -> bool {
    now > deadline || closed_early.is_some()
}

/// The invited providers an award (or a close without one) would still be waiting for:
/// none once bidding is over (deadline passed, or closed early with a reason); before that,
/// every invited provider that has neither bid nor declined. The providers were promised
/// the whole bid window, so a decision before the deadline needs each of them to have
/// answered.
pub fn still_waiting_for<'a>(
    now: NaiveDateTime,
    deadline: NaiveDateTime,
    closed_early: Option<NaiveDateTime>,
    invited: &'a [String],
    answered: &[&str],
) -> Vec<&'a str> {
    if bidding_over(now, deadline, closed_early) {
        return Vec::new();
    }
    invited
        .iter()
        .map(String::as_str)
        .filter(|p| !answered.contains(p))
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RerouteTo {
    DirectAward,
}

/// Re-routing a closed competition.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reroute {
    pub route: RerouteTo,
    #[serde(default)]
    pub reason: String,
}

impl Validate for Reroute {
    fn validate(&self) -> Vec<FieldError> {
        required("/reason", &self.reason, "say why the route changes")
    }
}

/// A direct award in an emergency (4.3 of the LCR PPA paper).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectAward {
    /// The referral (on `POST /v1/competitions/direct-awards`; optional on a competition).
    #[serde(default)]
    pub referral_id: Option<crate::ids::ReferralId>,
    /// The provider best able to meet the needs (admitted to the lot).
    pub provider_id: String,
    pub weekly_rate_pence: i64,
    pub start_date: NaiveDate,
    /// Why a direct award and why this provider (required).
    #[serde(default)]
    pub justification: String,
    /// When the award is reviewed (default: 28 days after it is made).
    #[serde(default)]
    pub review_date: Option<NaiveDate>,
}

impl Validate for DirectAward {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = required(
            "/justification",
            &self.justification,
            "a direct award needs a justification",
        );
        if self.weekly_rate_pence <= 0 {
            e.push(FieldError::new(
                "/weekly_rate_pence",
                "min",
                "a weekly rate must be more than zero",
            ));
        } else if let Err(err) = Pence(self.weekly_rate_pence).check_range(
            "/weekly_rate_pence",
            Pence(1),
            Pence::MAX_WEEKLY,
        ) {
            e.push(err);
        }
        e
    }
}

impl DirectAward {
    pub fn review_date_error(&self, today: NaiveDate) -> Option<FieldError> {
        self.review_date.filter(|d| *d <= today).map(|_| {
            FieldError::new(
                "/review_date",
                "future",
                "the review date must be after today",
            )
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    /// The order stays with the provider (subject to a later review, if a date is given).
    Keep,
    /// The requirement is opened to a new mini-competition of every provider of the lot.
    Reopen,
}

/// The review of a direct award.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    pub decision: ReviewDecision,
    #[serde(default)]
    pub reason: String,
    /// Keep: the next review, if any.
    #[serde(default)]
    pub next_review_date: Option<NaiveDate>,
    /// Reopen: when the new competition's bids close.
    #[serde(default)]
    pub deadline: Option<DateTime<Utc>>,
}

impl Validate for Review {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = required("/reason", &self.reason, "record the review's reason");
        if self.decision == ReviewDecision::Keep && self.deadline.is_some() {
            e.push(FieldError::new(
                "/deadline",
                "reopen_only",
                "a deadline applies only when the requirement is reopened",
            ));
        }
        if self.decision == ReviewDecision::Reopen && self.next_review_date.is_some() {
            e.push(FieldError::new(
                "/next_review_date",
                "keep_only",
                "a next review applies only when the award is kept",
            ));
        }
        e
    }
}

hub_platform::code_enum! {
    /// What a competition's history records (`competition_log.action`).
    pub enum LogAction {
        Awarded,
        BiddingClosed,
        BidsSetAside,
        Closed,
        CriteriaChanged,
        Declined,
        DirectAward,
        Opened,
        PreselectionChanged,
        Reopened,
        Rerouted,
        ReviewKept,
        ReviewReopened,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::criteria::CriterionName;

    #[test]
    fn a_direct_award_needs_a_justification() {
        let d: DirectAward = serde_json::from_value(serde_json::json!({
            "provider_id": "prov-care-assist", "weekly_rate_pence": 400000,
            "start_date": "2026-12-01", "justification": "   "
        }))
        .unwrap();
        let e = d.validate();
        assert_eq!(
            (e[0].field.as_str(), e[0].rule.as_str()),
            ("/justification", "required")
        );
        assert_eq!(
            default_review_date("2026-12-01".parse().unwrap()),
            "2026-12-29".parse::<NaiveDate>().unwrap()
        );
    }

    #[test]
    fn marks_are_a_score_or_a_pass_with_a_reason() {
        let m = ScoreMark {
            score: Some(3),
            passed: Some(true),
            reason: "".into(),
        };
        let rules: Vec<String> = m.validate().into_iter().map(|e| e.rule).collect();
        assert_eq!(rules, vec!["required", "one_of"]);
    }

    #[test]
    fn no_decision_before_the_deadline_while_an_invited_provider_has_not_answered() {
        let at = |h: u32| {
            NaiveDate::from_ymd_opt(2026, 12, 4)
                .unwrap()
                .and_hms_opt(h, 0, 0)
                .unwrap()
        };
        let deadline = at(12);
        let invited: Vec<String> = ["prov-a", "prov-b", "prov-c"].map(String::from).into();
        // Before the deadline: whoever has neither bid nor declined is waited for.
        assert_eq!(
            still_waiting_for(at(9), deadline, None, &invited, &["prov-a"]),
            vec!["prov-b", "prov-c"]
        );
        // Every invited provider answered (bid or declined): no need to wait.
        assert!(
            still_waiting_for(
                at(9),
                deadline,
                None,
                &invited,
                &["prov-c", "prov-a", "prov-b"]
            )
            .is_empty()
        );
        // At the deadline itself bids are still taken; after it, nobody is waited for.
        assert_eq!(
            still_waiting_for(at(12), deadline, None, &invited, &[]).len(),
            3
        );
        assert!(still_waiting_for(at(13), deadline, None, &invited, &[]).is_empty());
        // Bidding closed early with a reason: nobody is waited for.
        assert!(still_waiting_for(at(9), deadline, Some(at(8)), &invited, &[]).is_empty());
        assert!(bidding_over(at(9), deadline, Some(at(8))) && !bidding_over(at(9), deadline, None));
    }

    #[test]
    fn declining_and_closing_early_take_a_code_and_other_needs_words() {
        let d: Decline =
            serde_json::from_value(serde_json::json!({"reason": "no_capacity"})).unwrap();
        assert!(d.validate().is_empty());
        let d: Decline =
            serde_json::from_value(serde_json::json!({"reason": "other", "note": " "})).unwrap();
        assert_eq!(d.validate()[0].field, "/note");
        assert!(serde_json::from_value::<Decline>(serde_json::json!({"reason": "busy"})).is_err());
        let c: CloseBidding =
            serde_json::from_value(serde_json::json!({"reason": "court_timescale"})).unwrap();
        assert!(c.validate().is_empty());
        assert_eq!(c.reason.to_string(), "court_timescale");
        let c: CloseBidding =
            serde_json::from_value(serde_json::json!({"reason": "other"})).unwrap();
        assert_eq!(c.validate()[0].rule, "required");
    }

    #[test]
    fn terms_check_weights_and_need_levels() {
        let t = Terms {
            criteria: vec![Criterion::scored(CriterionName::Price, 70)],
            need_level: Some("Complex".into()),
        };
        let e = t.validate();
        assert_eq!(e[0].rule, "sum_100");
        assert_eq!(e[1].field, "/need_level");
        assert!(
            "awaiting_direct_award"
                .parse::<Status>()
                .unwrap()
                .allows_direct_award()
        );
        assert!(!Status::Awarded.is_live());
    }

    #[test]
    fn a_close_sends_a_code_and_keeps_the_councils_words() {
        let close = |reason: &str, detail: Option<&str>, msg: Option<&str>| Close {
            reason: reason.into(),
            detail: detail.map(str::to_owned),
            provider_message: msg.map(str::to_owned),
        };
        let fields = |c: Close| -> Vec<(String, String)> {
            c.validate()
                .into_iter()
                .map(|e| (e.field, e.rule))
                .collect()
        };
        let ok = close(
            "no_acceptable_bid",
            Some("Saoirse needs a home without an older peer group"),
            Some("No bid met the location requirement."),
        );
        assert!(ok.validate().is_empty());
        assert_eq!(ok.code(), CompetitionCloseReason::NoAcceptableBid);
        assert_eq!(
            ok.provider_message().as_deref(),
            Some("No bid met the location requirement.")
        );
        // Free text where the code goes is refused, naming the field.
        assert_eq!(
            fields(close(
                "Saoirse needs a home without an older peer group",
                None,
                None
            )),
            [("/reason".to_owned(), "one_of".to_owned())]
        );
        assert_eq!(
            fields(close("referral_withdrawn", None, None)),
            [("/reason".to_owned(), "one_of".to_owned())],
            "the referral service's code, not the commissioner's"
        );
        assert_eq!(
            fields(close("other", Some(" "), None)),
            [("/detail".to_owned(), "required".to_owned())]
        );
        let long = "x".repeat(MAX_CLOSE_TEXT + 1);
        assert_eq!(
            fields(close("no_bids", None, Some(&long))),
            [("/provider_message".to_owned(), "max_length".to_owned())]
        );
    }
}
