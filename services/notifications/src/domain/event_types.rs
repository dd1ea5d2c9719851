//! The webhook event types and who may subscribe to which: providers take what concerns
//! their bids, orders and placements; councils what concerns their beds, partners and
//! contracts; `order.overdue` and `ipa.review_due` go to both. A type asked for by the
//! wrong audience is a 422 (`audience`), an unknown one a 422 (`one_of`).

use hub_platform::FieldError;

/// A provider was invited to bid in a mini-competition.
pub const INVITED: &str = "competition.invited";
/// A referral a provider was invited on has a new version.
pub const REFERRAL_UPDATED: &str = "referral.updated";
/// A provider's bid won (or it was directly awarded).
pub const AWARDED: &str = "competition.awarded";
/// A provider that bid did not win: why, with its scores beside the winner's.
pub const UNSUCCESSFUL: &str = "competition.unsuccessful";
/// A competition a provider was invited to closed without an award.
pub const CLOSED: &str = "competition.closed";
/// The commissioner closed bidding early in a competition a provider was invited to.
pub const BIDDING_CLOSED: &str = "competition.bidding_closed";
/// A partner council offers a bed (a vacancy in one of its block-contracted homes).
pub const VACANCY_OFFERED: &str = "vacancy.offered";
/// The provider is sent an order to sign.
pub const ORDER_ISSUED: &str = "order.issued";
/// An order was not signed by the day it was due (to the provider and the council).
pub const ORDER_OVERDUE: &str = "order.overdue";
/// A placement's IPA review is due or overdue (to the provider and the council).
pub const IPA_REVIEW_DUE: &str = "ipa.review_due";
/// A block bed the council holds became empty.
pub const BED_VOID: &str = "bed.void";
/// A partner council offers a void block bed (to each council it is offered to).
pub const BED_OFFERED: &str = "bed.offered";
/// A service contract the council leads reaches an expiry alert.
pub const SERVICE_CONTRACT_EXPIRING: &str = "service_contract.expiring";
/// A placement with the provider ended.
pub const PLACEMENT_ENDED: &str = "placement.ended";

/// What providers may subscribe to.
pub const PROVIDER_EVENT_TYPES: &[&str] = &[
    INVITED,
    REFERRAL_UPDATED,
    AWARDED,
    UNSUCCESSFUL,
    CLOSED,
    BIDDING_CLOSED,
    ORDER_ISSUED,
    ORDER_OVERDUE,
    IPA_REVIEW_DUE,
    PLACEMENT_ENDED,
];
/// What councils may subscribe to.
pub const COUNCIL_EVENT_TYPES: &[&str] = &[
    VACANCY_OFFERED,
    ORDER_OVERDUE,
    IPA_REVIEW_DUE,
    BED_VOID,
    BED_OFFERED,
    SERVICE_CONTRACT_EXPIRING,
];
/// Webhook event types an endpoint can subscribe to.
pub const WEBHOOK_EVENT_TYPES: &[&str] = &[
    INVITED,
    REFERRAL_UPDATED,
    AWARDED,
    UNSUCCESSFUL,
    CLOSED,
    BIDDING_CLOSED,
    VACANCY_OFFERED,
    ORDER_ISSUED,
    ORDER_OVERDUE,
    IPA_REVIEW_DUE,
    BED_VOID,
    BED_OFFERED,
    SERVICE_CONTRACT_EXPIRING,
    PLACEMENT_ENDED,
];

/// Who owns an endpoint, which decides what it may subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Provider,
    Council,
}

impl Audience {
    pub fn event_types(self) -> &'static [&'static str] {
        match self {
            Self::Provider => PROVIDER_EVENT_TYPES,
            Self::Council => COUNCIL_EVENT_TYPES,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Provider => "providers",
            Self::Council => "councils",
        }
    }
}

/// Event types `audience` may not subscribe to (known types meant for the other audience;
/// unknown ones are refused by [`event_type_errors`]).
pub fn audience_errors(types: &[String], audience: Audience) -> Vec<FieldError> {
    types
        .iter()
        .enumerate()
        .filter(|(_, t)| {
            WEBHOOK_EVENT_TYPES.contains(&t.as_str())
                && !audience.event_types().contains(&t.as_str())
        })
        .map(|(i, t)| {
            FieldError::new(
                format!("/event_types/{i}"),
                "audience",
                format!(
                    "`{t}` is not sent to {}; they may subscribe to: {}",
                    audience.name(),
                    audience.event_types().join(", ")
                ),
            )
        })
        .collect()
}

/// Problems with a list of subscribed event types: empty, unknown or repeated.
pub fn event_type_errors(types: &[String]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if types.is_empty() {
        errors.push(FieldError::new(
            "/event_types",
            "min_items",
            "subscribe to at least one event type",
        ));
    }
    for (i, t) in types.iter().enumerate() {
        if !WEBHOOK_EVENT_TYPES.contains(&t.as_str()) {
            errors.push(FieldError::new(
                format!("/event_types/{i}"),
                "one_of",
                format!(
                    "`{t}` is not a webhook event type ({})",
                    WEBHOOK_EVENT_TYPES.join(", ")
                ),
            ));
        } else if types[..i].contains(t) {
            errors.push(FieldError::new(
                format!("/event_types/{i}"),
                "unique",
                format!("`{t}` is listed twice"),
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Validate, WebhookChange};

    #[test]
    fn providers_and_councils_subscribe_to_their_own_event_types() {
        let types = |t: &[&str]| t.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(audience_errors(&types(PROVIDER_EVENT_TYPES), Audience::Provider).is_empty());
        assert!(audience_errors(&types(COUNCIL_EVENT_TYPES), Audience::Council).is_empty());
        let errs = audience_errors(
            &types(&[INVITED, VACANCY_OFFERED, "nope"]),
            Audience::Provider,
        );
        assert_eq!(
            errs.iter()
                .map(|e| (e.field.as_str(), e.rule.as_str()))
                .collect::<Vec<_>>(),
            [("/event_types/1", "audience")]
        );
        let errs = audience_errors(&types(&[VACANCY_OFFERED, CLOSED]), Audience::Council);
        assert_eq!(errs[0].field, "/event_types/1");
        assert!(
            errs[0].message.contains("vacancy.offered"),
            "{}",
            errs[0].message
        );
        let change = WebhookChange::default();
        assert_eq!(change.validate()[0].rule, "min_properties");
    }
}
