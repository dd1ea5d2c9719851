//! Individual Placement Agreements (4.5 of the LCR PPA paper): the terms of one child's
//! placement — the weekly rate, additional services with their own weekly costs, contact
//! arrangements, how often it is reviewed. The council drafts a version, the provider signs
//! it and the child's social worker approves it; when needs change a new version is agreed
//! the same way, effective from a date. No I/O.
//!
//! Contact arrangements are the child's personal data: they stay in this service, never in
//! events or logs.
//!
//! Money bounds: the core weekly rate and each extra are more than zero and at most
//! `Pence::MAX_WEEKLY` (£100,000.00); the extras together are at most `Pence::MAX_WEEKLY` a
//! week too (422 `range` naming `/extras`), so a placement costs at most £200,000.00 a week
//! and every figure finance derives from it fits in `i64` over any span of days.

use chrono::{Days, Months, NaiveDate, NaiveDateTime};
use hub_platform::{FieldError, Pence, Principal, Problem, http::Validate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Placement, Visible, may_see, text_errors};
use crate::ids::{IpaId, PlacementId, ReviewId};

/// A placement's Individual Placement Agreement: which version is in force, the review
/// schedule, and which review dates the sweep has raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipa {
    pub id: IpaId,
    pub placement_id: PlacementId,
    pub council: String,
    pub partnership: String,
    pub provider_id: String,
    pub approved_version: Option<i32>,
    pub review_frequency_months: Option<i32>,
    pub next_review_on: Option<NaiveDate>,
    /// The review date raised as due (once per date).
    pub due_raised_for: Option<NaiveDate>,
    /// The review date raised as overdue (once per date).
    pub overdue_raised_for: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    /// Raised at every change of the IPA (its versions, its reviews): its `ETag`.
    pub revision: i64,
}

impl Ipa {
    /// The months between reviews, once a version has been approved; 409
    /// `/problems/ipa-not-approved` before.
    pub fn review_months(&self) -> Result<u32, Problem> {
        match self.review_frequency_months {
            Some(months) => Ok(months as u32),
            None => Err(Problem::conflict(
                "ipa-not-approved",
                "no version of the IPA has been approved yet",
            )),
        }
    }
}

/// Whoever may see the placement.
impl Visible for Ipa {
    const WHAT: &'static str = "IPA";

    fn visible_to(&self, who: &Principal) -> bool {
        may_see(who, &self.council, &self.provider_id)
    }
}

/// One version of an IPA: its terms, and who drafted, signed, approved or withdrew it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpaVersion {
    pub ipa_id: IpaId,
    pub version: i32,
    pub status: VersionStatus,
    pub weekly_rate_pence: Pence,
    pub extras: Vec<Extra>,
    pub extras_weekly_pence: Pence,
    /// Personal: kept in this service only.
    pub contact_arrangements: String,
    pub review_frequency_months: i32,
    pub effective_from: NaiveDate,
    pub change_reason: Option<String>,
    pub drafted_by: String,
    pub drafted_by_org: String,
    pub drafted_at: NaiveDateTime,
    pub provider_signed_by: Option<String>,
    pub provider_signed_at: Option<NaiveDateTime>,
    pub approved_by: Option<String>,
    pub approved_at: Option<NaiveDateTime>,
    pub withdrawn_by: Option<String>,
    pub withdrawn_at: Option<NaiveDateTime>,
}

impl IpaVersion {
    /// The version `who` drafts of the placement's IPA after `versions` (first to last):
    /// refused while one is pending (409 `/problems/ipa-version-pending`); a block bed keeps
    /// the block rate (extras on top).
    pub fn drafted(
        who: &Principal,
        p: &Placement,
        ipa_id: IpaId,
        versions: &[IpaVersion],
        input: &NewIpaVersion,
        now: NaiveDateTime,
    ) -> Result<IpaVersion, Problem> {
        if versions.iter().any(|v| v.status.is_pending()) {
            return Err(Problem::conflict(
                "ipa-version-pending",
                "a version is waiting for signature or approval; approve or withdraw it first",
            ));
        }
        let in_force = versions
            .iter()
            .find(|v| v.status == VersionStatus::Approved);
        let effective_from = input
            .effective_from(p.start_date, in_force.map(|v| v.effective_from))
            .map_err(|e| Problem::validation(vec![e]))?;
        let weekly_rate_pence = input.weekly_rate_pence.map_or(p.weekly_rate_pence, Pence);
        if p.block_contract_id.is_some() && weekly_rate_pence != p.weekly_rate_pence {
            return Err(Problem::invalid(
                "/weekly_rate_pence",
                "block_rate",
                "a block bed costs the block contract's rate; agree extras instead",
            ));
        }
        let extras = input
            .extras
            .iter()
            .map(|x| Extra {
                service: x.service.trim().to_owned(),
                weekly_pence: x.weekly_pence,
            })
            .collect::<Vec<_>>();
        Ok(IpaVersion {
            ipa_id,
            version: versions.last().map_or(1, |v| v.version + 1),
            status: VersionStatus::AwaitingProvider,
            weekly_rate_pence,
            extras,
            extras_weekly_pence: Pence(input.extras_weekly_pence()),
            contact_arrangements: input.contact_arrangements.trim().to_owned(),
            review_frequency_months: input.review_months() as i32,
            effective_from,
            change_reason: input
                .change_reason
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned),
            drafted_by: who.sub.clone(),
            drafted_by_org: who.org.clone(),
            drafted_at: now,
            provider_signed_by: None,
            provider_signed_at: None,
            approved_by: None,
            approved_at: None,
            withdrawn_by: None,
            withdrawn_at: None,
        })
    }
}

/// A review of an IPA, held and recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpaReview {
    pub id: ReviewId,
    pub ipa_id: IpaId,
    pub reviewed_on: NaiveDate,
    /// The review date it answered.
    pub was_due_on: Option<NaiveDate>,
    pub outcome: ReviewOutcome,
    /// Personal: kept in this service only.
    pub notes: Option<String>,
    /// The next review date it set.
    pub next_review_on: NaiveDate,
    pub recorded_by: String,
    pub recorded_by_org: String,
    pub recorded_at: NaiveDateTime,
}

/// Reviewed every three months unless the IPA says otherwise.
pub const DEFAULT_REVIEW_MONTHS: u32 = 3;

/// A review is "due" (listed, and raised once) from this many days before its date; it is
/// overdue from the day after its date.
pub const REVIEW_NOTICE_DAYS: u64 = 14;

hub_platform::code_enum! {
pub enum VersionStatus {
    /// Drafted by the council, waiting for the provider's signature.
    AwaitingProvider,
    /// Signed by the provider, waiting for the social worker's approval.
    AwaitingApproval,
    /// In force (the latest approved version).
    Approved,
    /// Was in force until a later version was approved.
    Superseded,
    /// A draft the council withdrew before it was approved.
    Withdrawn,
}
}

impl VersionStatus {
    /// Drafted or signed, not yet approved or withdrawn.
    pub fn is_pending(self) -> bool {
        matches!(self, Self::AwaitingProvider | Self::AwaitingApproval)
    }

    /// Awaiting the provider → awaiting approval.
    pub fn sign(self) -> Result<Self, Problem> {
        self.expect(Self::AwaitingProvider)
            .map(|()| Self::AwaitingApproval)
    }

    /// Awaiting approval → approved.
    pub fn approve(self) -> Result<Self, Problem> {
        self.expect(Self::AwaitingApproval).map(|()| Self::Approved)
    }

    /// Refuses to act on a version that is not in the `wanted` state, saying where it is.
    fn expect(self, wanted: Self) -> Result<(), Problem> {
        let (slug, detail) = match self {
            s if s == wanted => return Ok(()),
            Self::Withdrawn => ("ipa-withdrawn", "this version was withdrawn"),
            _ if wanted == Self::AwaitingProvider => (
                "ipa-already-signed",
                "the provider signed this version already",
            ),
            Self::AwaitingProvider => {
                ("ipa-not-signed", "the provider has not signed this version")
            }
            _ => ("ipa-already-approved", "this version was approved already"),
        };
        Err(Problem::conflict(slug, detail))
    }
}

/// An additional service the IPA pays for on top of the core fee (extra staffing, education
/// provision, therapy), with its own weekly cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = IpaExtra)]
#[serde(deny_unknown_fields)]
pub struct Extra {
    /// What it is, e.g. `waking night staff` or `1:1 education support`.
    pub service: String,
    pub weekly_pence: i64,
}

/// `POST /v1/placements/{id}/ipa/versions`: a new version of the IPA, drafted by the council.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIpaVersion {
    /// The core weekly fee (default: the placement's current rate; a block bed's is the
    /// block rate).
    #[serde(default)]
    pub weekly_rate_pence: Option<i64>,
    #[serde(default)]
    pub extras: Vec<Extra>,
    /// Family time and other contact (personal: kept in this service only).
    pub contact_arrangements: String,
    /// Months between reviews (1–12, default 3).
    #[serde(default)]
    pub review_frequency_months: Option<u32>,
    /// From when the version's terms apply: the placement's start by default for the first
    /// version; required for a later one, and after the day the version in force began.
    #[serde(default)]
    pub effective_from: Option<NaiveDate>,
    /// What changed in the child's needs (for a later version).
    #[serde(default)]
    pub change_reason: Option<String>,
}

impl Validate for NewIpaVersion {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = text_errors(
            "/contact_arrangements",
            &self.contact_arrangements,
            true,
            4000,
        );
        match self.weekly_rate_pence {
            Some(r) if r <= 0 => e.push(FieldError::new(
                "/weekly_rate_pence",
                "min",
                "a weekly rate must be more than zero",
            )),
            Some(r) => e.extend(
                Pence(r)
                    .check_range("/weekly_rate_pence", Pence(1), Pence::MAX_WEEKLY)
                    .err(),
            ),
            None => {}
        }
        if self.extras.len() > 20 {
            e.push(FieldError::new(
                "/extras",
                "max_items",
                "at most 20 services",
            ));
        }
        for (i, x) in self.extras.iter().enumerate() {
            e.extend(text_errors(
                &format!("/extras/{i}/service"),
                &x.service,
                true,
                200,
            ));
            let field = format!("/extras/{i}/weekly_pence");
            if x.weekly_pence <= 0 {
                e.push(FieldError::new(
                    field,
                    "min",
                    "a weekly cost must be more than zero",
                ));
            } else if let Err(err) =
                Pence(x.weekly_pence).check_range(&field, Pence(1), Pence::MAX_WEEKLY)
            {
                e.push(err);
            }
        }
        // The extras together: summed without wrapping, and held to the weekly bound.
        let total = self
            .extras
            .iter()
            .try_fold(Pence::ZERO, |sum, x| sum.checked_add(Pence(x.weekly_pence)));
        match total {
            Some(t) if t <= Pence::MAX_WEEKLY => {}
            _ => e.push(FieldError::new(
                "/extras",
                "range",
                format!(
                    "the extras together must be at most {} a week (in pence: {})",
                    Pence::MAX_WEEKLY,
                    Pence::MAX_WEEKLY.0
                ),
            )),
        }
        if self
            .review_frequency_months
            .is_some_and(|m| !(1..=12).contains(&m))
        {
            e.push(FieldError::new(
                "/review_frequency_months",
                "range",
                "1 to 12 months",
            ));
        }
        e.extend(text_errors(
            "/change_reason",
            self.change_reason.as_deref().unwrap_or(""),
            false,
            4000,
        ));
        e
    }
}

impl NewIpaVersion {
    /// The extras' weekly total (validated: at most `Pence::MAX_WEEKLY`, so the sum fits).
    pub fn extras_weekly_pence(&self) -> i64 {
        self.extras.iter().map(|x| x.weekly_pence).sum()
    }

    pub fn review_months(&self) -> u32 {
        self.review_frequency_months
            .unwrap_or(DEFAULT_REVIEW_MONTHS)
    }

    /// The day the version applies from, or why it cannot: on or after the placement's
    /// start, and after the day the version in force (if any) began.
    pub fn effective_from(
        &self,
        placement_start: NaiveDate,
        in_force_from: Option<NaiveDate>,
    ) -> Result<NaiveDate, FieldError> {
        let day = match (self.effective_from, in_force_from) {
            (Some(d), _) => d,
            (None, None) => placement_start,
            (None, Some(_)) => {
                return Err(FieldError::new(
                    "/effective_from",
                    "required",
                    "a new version says from when it applies",
                ));
            }
        };
        if day < placement_start {
            return Err(FieldError::new(
                "/effective_from",
                "min",
                format!("the placement started on {placement_start}"),
            ));
        }
        if let Some(current) = in_force_from
            && day <= current
        {
            return Err(FieldError::new(
                "/effective_from",
                "after_current",
                format!("the version in force applies from {current}; a new one starts later"),
            ));
        }
        Ok(day)
    }
}

/// The next review after a review (or an approval) on `from`.
pub fn next_review(from: NaiveDate, months: u32) -> NaiveDate {
    from.checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// A review is due (within the notice period, or past) on `today`.
pub fn review_is_due(next_review_on: NaiveDate, today: NaiveDate) -> bool {
    today + Days::new(REVIEW_NOTICE_DAYS) >= next_review_on
}

/// A review is overdue from the day after its date.
pub fn review_is_overdue(next_review_on: NaiveDate, today: NaiveDate) -> bool {
    today > next_review_on
}

/// What a review's one announcement on `today` says: `Some(true)` once it is overdue,
/// `Some(false)` while it is due within the notice period, `None` before. The sweep raises
/// one `contract.ipa_review_due` for the state the review is in when it first sees it: a
/// review already overdue is announced as overdue only (never first as merely due), and a
/// review announced as due is announced again once, when it becomes overdue.
pub fn review_notice(next_review_on: NaiveDate, today: NaiveDate) -> Option<bool> {
    if review_is_overdue(next_review_on, today) {
        Some(true)
    } else {
        review_is_due(next_review_on, today).then_some(false)
    }
}

hub_platform::code_enum! {
/// What a review concluded.
pub enum IpaReviewOutcome {
    /// The placement meets the child's needs; the IPA stands.
    ContinueAsAgreed,
    /// The child's needs changed: a new IPA version is to be agreed.
    UpdateIpa,
    /// The placement is at risk of breaking down.
    PlacementAtRisk,
    /// The placement is to end.
    EndPlacement,
}
}

/// [`IpaReviewOutcome`] by its short name in this service (the schema name is the long one, unique
/// across the platform).
pub type ReviewOutcome = IpaReviewOutcome;

/// `POST /v1/placements/{id}/ipa/reviews`: a review held.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(as = NewIpaReview)]
#[serde(deny_unknown_fields)]
pub struct NewReview {
    /// The day the review was held (not in the future).
    pub reviewed_on: NaiveDate,
    pub outcome: ReviewOutcome,
    /// Notes (personal: kept in this service only).
    #[serde(default)]
    pub notes: Option<String>,
}

impl Validate for NewReview {
    fn validate(&self) -> Vec<FieldError> {
        text_errors("/notes", self.notes.as_deref().unwrap_or(""), false, 8000)
    }
}

impl NewReview {
    pub fn reviewed_on_error(
        &self,
        placement_start: NaiveDate,
        today: NaiveDate,
    ) -> Option<FieldError> {
        if self.reviewed_on > today {
            Some(FieldError::new(
                "/reviewed_on",
                "max",
                "a review is recorded once held",
            ))
        } else if self.reviewed_on < placement_start {
            Some(FieldError::new(
                "/reviewed_on",
                "min",
                format!("the placement started on {placement_start}"),
            ))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn version(v: serde_json::Value) -> NewIpaVersion {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn versions_are_checked() {
        let v = version(serde_json::json!({
            "weekly_rate_pence": 0, "contact_arrangements": " ",
            "extras": [{"service": "waking night staff", "weekly_pence": 35000}, {"service": "", "weekly_pence": -1}],
            "review_frequency_months": 13}));
        let rules: Vec<(String, String)> = v
            .validate()
            .into_iter()
            .map(|e| (e.field, e.rule))
            .collect();
        assert_eq!(
            rules,
            [
                ("/contact_arrangements".into(), "required".into()),
                ("/weekly_rate_pence".into(), "min".into()),
                ("/extras/1/service".into(), "required".into()),
                ("/extras/1/weekly_pence".into(), "min".into()),
                ("/review_frequency_months".into(), "range".into()),
            ]
        );
        assert_eq!(v.extras_weekly_pence(), 34_999);
        let v = version(serde_json::json!({"contact_arrangements": "weekly"}));
        assert_eq!(v.review_months(), 3);
    }

    #[test]
    fn rates_and_extras_are_bounded_and_the_extras_cannot_add_up_past_the_bound() {
        let rules = |v: serde_json::Value| -> Vec<(String, String)> {
            version(v)
                .validate()
                .into_iter()
                .map(|e| (e.field, e.rule))
                .collect()
        };
        let max = Pence::MAX_WEEKLY.0;
        assert!(
            rules(
                serde_json::json!({"contact_arrangements": "x", "weekly_rate_pence": max,
                "extras": [{"service": "a", "weekly_pence": max}]})
            )
            .is_empty()
        );
        assert_eq!(
            rules(serde_json::json!({"contact_arrangements": "x", "weekly_rate_pence": i64::MAX})),
            [("/weekly_rate_pence".into(), "range".into())]
        );
        // Two extras of i64::MAX wrapped to a negative total before; now each is out of range
        // and so is their sum.
        assert_eq!(
            rules(serde_json::json!({"contact_arrangements": "x", "extras": [
                {"service": "a", "weekly_pence": i64::MAX}, {"service": "b", "weekly_pence": i64::MAX}]})),
            [
                ("/extras/0/weekly_pence".into(), "range".into()),
                ("/extras/1/weekly_pence".into(), "range".into()),
                ("/extras".into(), "range".into()),
            ]
        );
        // Each within the bound, together over it.
        assert_eq!(
            rules(serde_json::json!({"contact_arrangements": "x", "extras": [
                {"service": "a", "weekly_pence": max}, {"service": "b", "weekly_pence": 1}]})),
            [("/extras".into(), "range".into())]
        );
    }

    #[test]
    fn a_first_version_starts_with_the_placement_and_a_later_one_after_the_current() {
        let start = d(2026, 12, 1);
        let v = version(serde_json::json!({"contact_arrangements": "x"}));
        assert_eq!(v.effective_from(start, None), Ok(start));
        assert_eq!(
            v.effective_from(start, Some(start)).unwrap_err().rule,
            "required"
        );
        let v = version(
            serde_json::json!({"contact_arrangements": "x", "effective_from": "2026-11-30"}),
        );
        assert_eq!(v.effective_from(start, None).unwrap_err().rule, "min");
        let v = version(
            serde_json::json!({"contact_arrangements": "x", "effective_from": "2027-01-15"}),
        );
        assert_eq!(v.effective_from(start, Some(start)), Ok(d(2027, 1, 15)));
        assert_eq!(
            v.effective_from(start, Some(d(2027, 1, 15)))
                .unwrap_err()
                .rule,
            "after_current"
        );
    }

    #[test]
    fn reviews_follow_the_frequency_and_are_due_a_fortnight_ahead() {
        assert_eq!(next_review(d(2026, 12, 1), 3), d(2027, 3, 1));
        // The end of a longer month lands on the end of a shorter one.
        assert_eq!(next_review(d(2026, 11, 30), 3), d(2027, 2, 28));
        let on = d(2027, 3, 1);
        assert!(!review_is_due(on, d(2027, 2, 14)));
        assert!(review_is_due(on, d(2027, 2, 15)));
        assert!(!review_is_overdue(on, on) && review_is_overdue(on, d(2027, 3, 2)));
        // One announcement for the state the review is in: an overdue one is never called
        // merely due.
        assert_eq!(review_notice(on, d(2027, 2, 14)), None);
        assert_eq!(review_notice(on, d(2027, 2, 15)), Some(false));
        assert_eq!(review_notice(on, on), Some(false));
        assert_eq!(review_notice(on, d(2027, 3, 2)), Some(true));
        assert_eq!(review_notice(on, d(2028, 1, 1)), Some(true));
        let r: NewReview = serde_json::from_value(
            serde_json::json!({"reviewed_on": "2027-03-01", "outcome": "continue_as_agreed"}),
        )
        .unwrap();
        assert!(r.reviewed_on_error(d(2026, 12, 1), d(2027, 3, 1)).is_none());
        assert_eq!(
            r.reviewed_on_error(d(2026, 12, 1), d(2027, 2, 28))
                .unwrap()
                .rule,
            "max"
        );
        assert_eq!(
            r.reviewed_on_error(d(2027, 3, 2), d(2027, 3, 5))
                .unwrap()
                .rule,
            "min"
        );
    }
}
