//! The integration-event catalogue: the one contract between services.
//!
//! Every event travels in an [`Envelope`] (id, type, version, occurred_at, source,
//! partnership, traceparent, payload). Payloads are typed structs implementing [`Event`];
//! the event type doubles as the AMQP routing key. Consumers ignore unknown fields (no
//! `deny_unknown_fields` here), so adding a field is backwards compatible; a breaking change
//! is a new `VERSION`.
//!
//! No child's personal data ever goes into a payload: only ids, codes, bands and links.
//! This crate does no I/O.

// No function over 80 lines (clippy.toml) without a reason written beside it
// (`#[expect(clippy::too_many_lines, reason = "…")]`); a unit test may tell a longer story.
#![warn(clippy::too_many_lines)]
#![cfg_attr(test, allow(clippy::too_many_lines))]

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use uuid::Uuid;

mod catalogue;
pub use catalogue::*;

/// A typed integration event.
pub trait Event: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The event type, also the routing key: `<service>.<what happened>`.
    const TYPE: &'static str;
    /// The payload version.
    const VERSION: u16;
}

/// The envelope every integration event travels in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// UUIDv7: unique, time-ordered; the idempotency key of every consumer.
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    pub version: u16,
    pub occurred_at: DateTime<Utc>,
    /// The service that emitted the event.
    pub source: String,
    /// The partnership the event belongs to (e.g. `LCR-PPA`, `AIM`).
    pub partnership: String,
    /// W3C trace context of the operation that emitted the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracestate: Option<String>,
    pub payload: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("expected event type {expected} but the envelope holds {actual}")]
    WrongType {
        expected: &'static str,
        actual: String,
    },
    #[error(
        "event {event_type} version {version} is newer than this consumer understands ({known})"
    )]
    UnknownVersion {
        event_type: String,
        version: u16,
        known: u16,
    },
    #[error("payload of {event_type} does not match its schema: {source}")]
    Payload {
        event_type: String,
        source: serde_json::Error,
    },
}

impl Envelope {
    /// Wraps a typed event. The trace context is filled in by the bus when the event is
    /// written to the outbox.
    pub fn new<E: Event>(source: &str, partnership: &str, event: &E) -> Self {
        Self {
            id: Uuid::now_v7(),
            event_type: E::TYPE.to_owned(),
            version: E::VERSION,
            occurred_at: Utc::now(),
            source: source.to_owned(),
            partnership: partnership.to_owned(),
            traceparent: None,
            tracestate: None,
            payload: serde_json::to_value(event).expect("event payloads always serialise"),
        }
    }

    /// The routing key this envelope is published under.
    pub fn routing_key(&self) -> &str {
        &self.event_type
    }

    pub fn is<E: Event>(&self) -> bool {
        self.event_type == E::TYPE
    }

    /// Reads the typed payload. Unknown fields are ignored; a newer major version is refused.
    pub fn decode<E: Event>(&self) -> Result<E, EventError> {
        if self.event_type != E::TYPE {
            return Err(EventError::WrongType {
                expected: E::TYPE,
                actual: self.event_type.clone(),
            });
        }
        if self.version > E::VERSION {
            return Err(EventError::UnknownVersion {
                event_type: self.event_type.clone(),
                version: self.version,
                known: E::VERSION,
            });
        }
        serde_json::from_value(self.payload.clone()).map_err(|source| EventError::Payload {
            event_type: self.event_type.clone(),
            source,
        })
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("envelopes always serialise")
    }

    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// Urgency of a placement request, as the LCR referral document records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Planned,
    Urgent,
    Emergency,
}

/// Age band of a child: what an event may carry instead of a date of birth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgeBand {
    #[serde(rename = "0-4")]
    UnderFive,
    #[serde(rename = "5-10")]
    FiveToTen,
    #[serde(rename = "11-15")]
    ElevenToFifteen,
    #[serde(rename = "16-17")]
    SixteenToSeventeen,
}

impl AgeBand {
    pub fn for_age(years: u32) -> Self {
        match years {
            0..=4 => Self::UnderFive,
            5..=10 => Self::FiveToTen,
            11..=15 => Self::ElevenToFifteen,
            _ => Self::SixteenToSeventeen,
        }
    }
}

/// Whole years between a date of birth and a date.
pub fn age_in_years(date_of_birth: NaiveDate, on: NaiveDate) -> u32 {
    on.years_since(date_of_birth).unwrap_or(0)
}

/// Every event type in the catalogue, for documentation and topology checks.
pub const ALL_EVENT_TYPES: &[&str] = &[
    ReferralSubmitted::TYPE,
    ReferralUpdated::TYPE,
    ReferralWithdrawn::TYPE,
    ReferralClosed::TYPE,
    CompetitionOpened::TYPE,
    BidSubmitted::TYPE,
    CompetitionAwarded::TYPE,
    CompetitionClosed::TYPE,
    BiddingClosed::TYPE,
    FrameworkPublished::TYPE,
    ReferralReturned::TYPE,
    VacancyPublished::TYPE,
    VacancyWithdrawn::TYPE,
    OrderIssued::TYPE,
    OrderSigned::TYPE,
    OrderDeclined::TYPE,
    OrderOverdue::TYPE,
    PlacementStarted::TYPE,
    PlacementRateChanged::TYPE,
    PlacementEnded::TYPE,
    IpaApproved::TYPE,
    IpaReviewDue::TYPE,
    BlockContractLet::TYPE,
    BlockContractExtended::TYPE,
    BedVoid::TYPE,
    BedOffered::TYPE,
    BedFilled::TYPE,
    ServiceContractLet::TYPE,
    ServiceContractExtended::TYPE,
    ServiceContractVaried::TYPE,
    ServiceContractExpiring::TYPE,
    ServiceContractTerminated::TYPE,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_round_trips_and_decodes_its_payload() {
        let event = OrderSigned {
            order_id: Uuid::now_v7(),
            provider_id: "prov-care-assist".into(),
            council: "E08000014".into(),
            signed_by: "user-1".into(),
            late: false,
        };
        let env = Envelope::new("contract", "LCR-PPA", &event);
        let bytes = env.to_json();
        let back = Envelope::from_json(&bytes).unwrap();
        assert_eq!(back, env);
        assert_eq!(back.routing_key(), "contract.order_signed");
        assert_eq!(back.decode::<OrderSigned>().unwrap(), event);
        assert!(matches!(
            back.decode::<OrderIssued>(),
            Err(EventError::WrongType { .. })
        ));
    }

    #[test]
    fn consumers_ignore_unknown_fields_but_refuse_newer_versions() {
        let event = OrderSigned {
            order_id: Uuid::now_v7(),
            provider_id: "p".into(),
            council: "E08000014".into(),
            signed_by: "u".into(),
            late: true,
        };
        let mut env = Envelope::new("contract", "LCR-PPA", &event);
        env.payload["added_later"] = serde_json::json!(42);
        assert_eq!(env.decode::<OrderSigned>().unwrap(), event);
        env.version = OrderSigned::VERSION + 1;
        assert!(matches!(
            env.decode::<OrderSigned>(),
            Err(EventError::UnknownVersion { .. })
        ));
    }

    #[test]
    fn age_bands_follow_whole_years() {
        let dob = NaiveDate::from_ymd_opt(2012, 3, 1).unwrap();
        assert_eq!(
            age_in_years(dob, NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()),
            13
        );
        assert_eq!(
            age_in_years(dob, NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()),
            14
        );
        assert_eq!(AgeBand::for_age(14), AgeBand::ElevenToFifteen);
        assert_eq!(
            serde_json::to_string(&AgeBand::for_age(3)).unwrap(),
            "\"0-4\""
        );
    }

    #[test]
    fn a_close_carries_a_code_and_older_payloads_still_decode() {
        let closed = CompetitionClosed {
            competition_id: Uuid::now_v7(),
            referral_id: Uuid::now_v7(),
            council: "E08000014".into(),
            reason: CompetitionCloseReason::NoAcceptableBid,
            provider_message: None,
            invited: vec!["prov-a".into()],
        };
        let v = serde_json::to_value(&closed).unwrap();
        assert_eq!(v["reason"], "no_acceptable_bid");
        assert!(v.get("provider_message").is_none());
        for r in CompetitionCloseReason::ALL {
            assert_eq!(CompetitionCloseReason::parse(r.code()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.code());
        }
        // An event written before codes (the commissioner's words) decodes as `other`; the
        // words themselves are not carried any further.
        let mut old = v.clone();
        old["reason"] = serde_json::json!("no acceptable bid: nothing within 20 miles");
        let decoded: CompetitionClosed = serde_json::from_value(old).unwrap();
        assert_eq!(decoded.reason, CompetitionCloseReason::Other);
    }

    #[test]
    fn event_types_are_unique_routing_keys() {
        let mut seen = std::collections::HashSet::new();
        for t in ALL_EVENT_TYPES {
            assert!(seen.insert(*t), "{t} appears twice");
            assert!(
                t.contains('.') && !t.contains(' '),
                "{t} is not a routing key"
            );
        }
    }
}
