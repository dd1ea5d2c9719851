//! What the council sends to write, withdraw, re-route and close a referral, and the checks
//! on it (422 naming the field). No I/O.

use hub_platform::{FieldError, http::Validate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ReferralDocument, ReferralRoute};
use crate::ids::{FrameworkId, LotId};

/// A request to write a referral.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReferral {
    /// Partnership code (e.g. `LCR-PPA`); the council must be a member.
    pub partnership: String,
    pub framework_id: FrameworkId,
    pub lot_id: LotId,
    pub route: ReferralRoute,
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

/// Why a council withdraws a referral: a code (what the `referral.withdrawn` event carries;
/// events hold no free text about a child) and, in `detail`, its own words kept here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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
            Some(d) => format!("{}: {d}", self.reason),
            None => self.reason.to_string(),
        }
    }
}

/// `POST /v1/referrals/{id}/route`: the options appraisal again.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rerouting {
    pub route: ReferralRoute,
    /// Why this route now (e.g. why the mini-competition closed without an award).
    pub reason: String,
    /// Another framework and lot (e.g. for a referral returned because its own would go
    /// nowhere); by default the referral keeps its own.
    #[serde(default)]
    pub framework_id: Option<FrameworkId>,
    #[serde(default)]
    pub lot_id: Option<LotId>,
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
#[schema(as = ReferralClosing)]
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

#[cfg(test)]
mod tests {
    use super::*;

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
            route: ReferralRoute::DirectAward,
            reason: "".into(),
            framework_id: None,
            lot_id: None,
        };
        assert_eq!(r.validate()[0].field, "/reason");
    }
}
