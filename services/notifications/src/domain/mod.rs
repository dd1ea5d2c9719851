//! Webhook rules: the event types, endpoint validation, the messages providers receive,
//! Standard Webhooks signing and the retry schedule. No I/O.

use std::collections::HashMap;

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use hub_events::{
    BedOffered, BedVoid, BiddingClosed, CompetitionAwarded, CompetitionClosed, CompetitionOpened,
    Envelope, EventError, IpaReviewDue, OrderIssued, OrderOverdue, PlacementEnded, ReferralUpdated,
    ServiceContractExpiring, Urgency, VacancyPublished,
};
use hub_platform::{FieldError, http::Validate};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;
use uuid::Uuid;

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

/// Prefix of every signing secret (Standard Webhooks).
pub const SECRET_PREFIX: &str = "whsec_";
/// Bytes of key in a new secret.
pub const SECRET_BYTES: usize = 24;
/// How far a `webhook-timestamp` may be from the receiver's clock (Standard Webhooks: 5 min).
pub const TOLERANCE_SECS: i64 = 5 * 60;
/// How long the previous secret keeps signing (as a second signature) after a rotation.
pub const ROTATION_OVERLAP_MS: i64 = 24 * 3600 * 1000;
const MAX_URL_LEN: usize = 2048;
const MAX_DESCRIPTION_LEN: usize = 500;

/// A request to register a webhook endpoint.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where deliveries are POSTed: an `http` or `https` URL.
    #[schema(example = "https://provider.example/hooks/hub")]
    pub url: String,
    /// Webhook event types to receive. Providers: `competition.invited`, `referral.updated`,
    /// `competition.awarded`, `competition.unsuccessful`, `competition.closed`,
    /// `order.issued`, `order.overdue`, `ipa.review_due`, `placement.ended`. Councils:
    /// `vacancy.offered`, `order.overdue`, `ipa.review_due`, `bed.void`, `bed.offered`,
    /// `service_contract.expiring`.
    pub event_types: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

impl Validate for NewWebhook {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors: Vec<FieldError> = url_error(&self.url).into_iter().collect();
        errors.extend(event_type_errors(&self.event_types));
        errors.extend(description_error(self.description.as_deref()));
        errors
    }
}

/// A change to an endpoint: only the fields given change.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookChange {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub event_types: Option<Vec<String>>,
    /// A new description; an empty one removes it.
    #[serde(default)]
    pub description: Option<String>,
}

impl Validate for WebhookChange {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors: Vec<FieldError> = self
            .url
            .as_deref()
            .and_then(url_error)
            .into_iter()
            .collect();
        if let Some(types) = &self.event_types {
            errors.extend(event_type_errors(types));
        }
        errors.extend(description_error(self.description.as_deref()));
        if self.url.is_none() && self.event_types.is_none() && self.description.is_none() {
            errors.push(FieldError::new(
                "/",
                "min_properties",
                "give at least one of url, event_types, description",
            ));
        }
        errors
    }
}

/// What is wrong with an endpoint's description, if anything: it is too long.
fn description_error(description: Option<&str>) -> Option<FieldError> {
    description
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_LEN)
        .then(|| {
            FieldError::new(
                "/description",
                "max_length",
                format!("at most {MAX_DESCRIPTION_LEN} characters"),
            )
        })
}

/// An endpoint's description as it is kept: trimmed, and none if that leaves nothing.
pub fn kept_description(description: String) -> Option<String> {
    Some(description.trim().to_owned()).filter(|d| !d.is_empty())
}

/// What is wrong with an endpoint URL, if anything.
pub fn url_error(raw: &str) -> Option<FieldError> {
    let err = |rule: &str, msg: &str| Some(FieldError::new("/url", rule, msg));
    if raw.len() > MAX_URL_LEN {
        return err("max_length", "at most 2048 characters");
    }
    let Ok(url) = url::Url::parse(raw) else {
        return err("format", "not an absolute URL");
    };
    if !matches!(url.scheme(), "http" | "https") {
        return err("scheme", "the URL must start with http:// or https://");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return err("format", "the URL names no host");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return err(
            "no_credentials",
            "put no credentials in the URL; verify the webhook-signature header instead",
        );
    }
    if url.fragment().is_some() {
        return err("format", "the URL must not have a #fragment");
    }
    None
}

/// Where webhooks may go. Deliveries leave from inside the platform's network, so a URL is
/// a way to make the platform send requests: only https to a public address is accepted.
/// Refused (rule `public_address`, 422 naming `/url`) at registration and again at connect
/// time, after DNS resolution (so a name that later resolves to an inside address, DNS
/// rebinding, gets nowhere):
/// - loopback (127.0.0.0/8, ::1, `localhost`), unless `allow_http_loopback` (development:
///   then http is accepted too, for loopback only);
/// - private (RFC 1918, 100.64.0.0/10 shared, fc00::/7 unique local), link-local
///   (169.254.0.0/16, fe80::/10: the cloud metadata address 169.254.169.254 is one) and
///   metadata names (`metadata.google.internal`, `metadata`);
/// - unspecified, broadcast, multicast and documentation addresses;
/// - the platform's own address (the host and port of `server.public_url`).
///
/// Only IP literals and these names are known at registration; other names are checked each
/// time a delivery connects.
#[derive(Debug, Clone, Default)]
pub struct Destinations {
    /// Development: plain http, and https, to a loopback address.
    pub allow_http_loopback: bool,
    /// The platform's own `host:port` (from `server.public_url`).
    pub own: Option<(String, u16)>,
}

impl Destinations {
    pub fn new(allow_http_loopback: bool, public_url: &str) -> Self {
        let own = url::Url::parse(public_url).ok().and_then(|u| {
            Some((
                u.host_str()?.to_ascii_lowercase(),
                u.port_or_known_default()?,
            ))
        });
        Self {
            allow_http_loopback,
            own,
        }
    }

    /// Why `ip` may not receive webhooks (a category name), if it may not.
    pub fn refused_ip(&self, ip: std::net::IpAddr) -> Option<&'static str> {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let category = match ip {
            IpAddr::V4(v4) => {
                let [a, b, ..] = v4.octets();
                if v4.is_loopback() {
                    "loopback"
                } else if v4.is_private() || (a == 100 && (64..128).contains(&b)) {
                    "private"
                } else if v4.is_link_local() {
                    "link-local"
                } else if v4.is_unspecified()
                    || v4.is_broadcast()
                    || v4.is_multicast()
                    || v4.is_documentation()
                    || a == 0
                    || a >= 240
                {
                    "reserved"
                } else {
                    return None;
                }
            }
            IpAddr::V6(v6) => {
                let first = v6.segments()[0];
                if v6.is_loopback() {
                    "loopback"
                } else if first & 0xfe00 == 0xfc00 {
                    "private"
                } else if first & 0xffc0 == 0xfe80 {
                    "link-local"
                } else if v6.is_unspecified()
                    || v6.is_multicast()
                    || first == 0x2001 && v6.segments()[1] == 0x0db8
                {
                    "reserved"
                } else {
                    return None;
                }
            }
        };
        (category != "loopback" || !self.allow_http_loopback).then_some(category)
    }

    /// What is wrong with where `raw` points, if anything (checked after [`url_error`]).
    pub fn error(&self, raw: &str) -> Option<FieldError> {
        let url = url::Url::parse(raw).ok()?;
        let refused = |why: String| {
            Some(FieldError::new(
                "/url",
                "public_address",
                format!("webhooks go to public addresses only: {why}"),
            ))
        };
        let host = url.host_str()?.to_ascii_lowercase();
        let literal = match url.host()? {
            url::Host::Ipv4(v4) => Some(std::net::IpAddr::V4(v4)),
            url::Host::Ipv6(v6) => Some(std::net::IpAddr::V6(v6)),
            url::Host::Domain(_) => None,
        };
        let loopback_name = host == "localhost" || host.ends_with(".localhost");
        if let Some(ip) = literal
            && let Some(category) = self.refused_ip(ip)
        {
            return refused(format!("this is a {category} address"));
        }
        if loopback_name && !self.allow_http_loopback {
            return refused("this is a loopback address".into());
        }
        if matches!(host.as_str(), "metadata.google.internal" | "metadata") {
            return refused("this is a cloud metadata address".into());
        }
        if self
            .own
            .as_ref()
            .is_some_and(|(h, p)| *h == host && Some(*p) == url.port_or_known_default())
        {
            return refused("this is the platform's own address".into());
        }
        let loopback = loopback_name || literal.is_some_and(|ip| ip.is_loopback());
        if url.scheme() != "https" && !(self.allow_http_loopback && loopback) {
            return Some(FieldError::new(
                "/url",
                "scheme",
                "the URL must start with https://",
            ));
        }
        None
    }
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

/// A new signing secret: `whsec_` + base64 of 24 random bytes from the operating system's
/// CSPRNG (through rustls' ring provider, already a dependency of the platform).
pub fn new_secret() -> String {
    let mut key = [0u8; SECRET_BYTES];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut key)
        .expect("the operating system's random number generator failed");
    format!("{SECRET_PREFIX}{}", BASE64.encode(key))
}

/// The HMAC key of a secret: base64-decoded after the optional `whsec_` prefix. A secret that
/// is not base64 is used as raw bytes (the reference libraries refuse it; we never issue one).
pub fn secret_key(secret: &str) -> Vec<u8> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    BASE64
        .decode(encoded)
        .unwrap_or_else(|_| encoded.as_bytes().to_vec())
}

fn mac(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(&secret_key(secret)).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The Standard Webhooks signature of a message: `v1,` + base64(HMAC-SHA256(key, `{id}.{timestamp}.{body}`)).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "v1,{}",
        BASE64.encode(mac(secret, id, timestamp, body).finalize().into_bytes())
    )
}

/// Why a webhook was refused by [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the webhook-timestamp is more than 5 minutes old")]
    TooOld,
    #[error("the webhook-timestamp is more than 5 minutes in the future")]
    InFuture,
    #[error("no v1 signature in the webhook-signature header matches")]
    NoMatch,
}

/// Verifies a webhook as a receiver does: `timestamp` must be within [`TOLERANCE_SECS`] of
/// `now` (unix seconds), and one of the space-separated `v1,<base64>` signatures in
/// `signature_header` must match (compared in constant time). Several signatures appear
/// while a rotated secret's predecessor is still valid.
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
    signature_header: &str,
    now: i64,
) -> Result<(), SignatureError> {
    if now - timestamp > TOLERANCE_SECS {
        return Err(SignatureError::TooOld);
    }
    if timestamp - now > TOLERANCE_SECS {
        return Err(SignatureError::InFuture);
    }
    let expected = mac(secret, id, timestamp, body);
    signature_header
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|s| BASE64.decode(s).ok())
        .any(|sig| expected.clone().verify_slice(&sig).is_ok())
        .then_some(())
        .ok_or(SignatureError::NoMatch)
}

/// How long to wait after failed attempt number `attempt` (1-based): `initial_ms` doubling
/// each attempt, at most `max_ms`.
pub fn backoff_ms(attempt: u32, initial_ms: u64, max_ms: u64) -> u64 {
    let factor = 1u64
        .checked_shl(attempt.saturating_sub(1))
        .unwrap_or(u64::MAX);
    initial_ms.max(1).saturating_mul(factor).min(max_ms)
}

/// Endpoints that already have `per_endpoint` deliveries in flight.
pub fn saturated(in_flight: &HashMap<String, usize>, per_endpoint: usize) -> Vec<String> {
    let mut busy: Vec<String> = in_flight
        .iter()
        .filter(|(_, n)| **n >= per_endpoint)
        .map(|(e, _)| e.clone())
        .collect();
    busy.sort();
    busy
}

/// Which of the due deliveries `(delivery id, endpoint id)`, in order, to send now so that
/// no endpoint has more than `per_endpoint` in flight: a slow receiver cannot take every
/// sending slot.
pub fn choose(
    candidates: &[(String, String)],
    in_flight: &HashMap<String, usize>,
    per_endpoint: usize,
) -> Vec<String> {
    let mut counts = in_flight.clone();
    let mut chosen = Vec::new();
    for (id, endpoint) in candidates {
        let n = counts.entry(endpoint.clone()).or_default();
        if *n < per_endpoint {
            *n += 1;
            chosen.push(id.clone());
        }
    }
    chosen
}

/// What happens to a delivery after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again at this time (unix ms).
    RetryAt(i64),
    /// The first attempt is older than the give-up window: mark the delivery failed and
    /// disable the endpoint.
    GiveUp,
}

/// The retry rule: back off exponentially until the first attempt is `give_up_after_hours` old.
pub fn after_failure(
    attempt: u32,
    first_attempt_ms: i64,
    now_ms: i64,
    settings: &RetryPolicy,
) -> AfterFailure {
    if now_ms - first_attempt_ms >= settings.give_up_after_ms {
        AfterFailure::GiveUp
    } else {
        let wait = backoff_ms(
            attempt,
            settings.initial_backoff_ms,
            settings.max_backoff_ms,
        );
        AfterFailure::RetryAt(now_ms.saturating_add(i64::try_from(wait).unwrap_or(i64::MAX)))
    }
}

/// The retry settings in the units the rules use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
    pub give_up_after_ms: i64,
}

impl From<&hub_platform::config::WebhookSettings> for RetryPolicy {
    fn from(s: &hub_platform::config::WebhookSettings) -> Self {
        Self {
            initial_backoff_ms: s.initial_backoff_ms,
            max_backoff_ms: s.max_backoff_ms.max(s.initial_backoff_ms),
            give_up_after_ms: i64::try_from(s.give_up_after_hours.saturating_mul(3_600_000))
                .unwrap_or(i64::MAX),
        }
    }
}

/// Whether an HTTP status means the receiver accepted the webhook.
pub fn accepted(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Status of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (or, while its endpoint is disabled, paused).
    Pending,
    Delivered,
    /// Given up after `webhooks.give_up_after_hours`; can be redelivered.
    Failed,
}

impl DeliveryStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
}

/// A webhook message as the receiver gets it (the Standard Webhooks payload shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message<T> {
    /// The webhook event type, e.g. `competition.invited`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the event happened (RFC 3339, UTC).
    pub timestamp: String,
    pub data: T,
}

/// `competition.invited`: the provider may bid. Ids, codes and a link only; the referral
/// itself (redacted) is read with the provider's token at `referral_url`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Invited {
    pub competition_id: Uuid,
    pub referral_id: Uuid,
    pub referral_version: u32,
    /// GSS code of the council.
    pub council: String,
    pub lot_id: Uuid,
    pub lot_name: String,
    pub urgency: Urgency,
    pub deadline: DateTime<Utc>,
    /// Non-identifying summary (placement type, age band, need codes).
    pub summary: String,
    pub referral_url: String,
}

/// `competition.awarded`: the provider won (or was directly awarded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Awarded {
    pub competition_id: Uuid,
    pub referral_id: Uuid,
    pub council: String,
    pub framework_id: Uuid,
    pub lot_id: Uuid,
    pub bid_id: Option<Uuid>,
    /// The awarded weekly rate in pence.
    pub weekly_rate_pence: i64,
    pub start_date: NaiveDate,
    /// A direct award (an emergency), not a mini-competition's.
    pub direct: bool,
    /// The full referral, readable now the provider is awarded.
    pub referral_url: String,
}

/// One criterion of an unsuccessful bid, beside the winner's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CriterionResult {
    /// `location`, `best_match`, `compatibility`, `quality`, `price`, `service_offer`, …
    pub criterion: String,
    /// Weight out of 100 (0 for a pass/fail gate).
    pub weight: u32,
    /// A pass/fail gate: whether this bid passed.
    pub passed: Option<bool>,
    /// A scored criterion: this bid's weighted score in hundredths of a point (0 to weight × 100).
    pub score: Option<u32>,
    /// The winning bid's weighted score on the same criterion.
    pub winner_score: Option<u32>,
}

/// `competition.unsuccessful`: the provider bid but did not win, and why: its own price, its
/// scores beside the winner's per criterion, the totals, who won, and the reasons in words
/// (where the winning bid was better). Nothing of any other unsuccessful bid (its price or
/// its provider), nor the winner's price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Unsuccessful {
    pub competition_id: Uuid,
    pub referral_id: Uuid,
    pub council: String,
    pub lot_id: Uuid,
    /// This provider's own weekly price in pence, if it bid.
    pub weekly_price_pence: Option<i64>,
    /// The winner: its provider id and its name (as admitted to the lot).
    pub winner_provider_id: String,
    pub winner_name: Option<String>,
    /// This bid's weighted total in hundredths of a point (out of 10,000), if it passed the gates.
    pub total: Option<u32>,
    /// The winning bid's weighted total.
    pub winner_total: Option<u32>,
    pub scores: Vec<CriterionResult>,
    /// Why it was not successful, in words.
    pub reasons: Vec<String>,
}

/// `referral.updated`: a referral the provider was invited on has a new version. Codes and a
/// link only; the provider reads the version (redacted until awarded) with its token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReferralUpdate {
    pub referral_id: Uuid,
    /// The new version.
    pub version: u32,
    /// The version the competition opened on (unknown for a direct award).
    pub invited_version: Option<u32>,
    pub council: String,
    /// The competition (or direct award) the provider is in.
    pub competition_id: Uuid,
    pub lot_id: Option<Uuid>,
    pub lot_name: Option<String>,
    pub urgency: Urgency,
    /// Where to read the new version: `…/v1/referrals/{id}?version={version}`.
    pub referral_url: String,
}

/// `competition.closed`: a competition the provider was invited to closed without an award.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Closed {
    pub competition_id: Uuid,
    pub referral_id: Uuid,
    pub council: String,
    /// The lot, when the competition's opening was seen.
    pub lot_id: Option<Uuid>,
    pub lot_name: Option<String>,
    /// Why it closed, as the commissioner recorded it.
    pub reason: String,
}

/// `vacancy.offered`: a partner council offers a vacancy (a bed in a home it holds a block
/// contract with) to the other councils of the partnerships they share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VacancyOffered {
    pub vacancy_id: Uuid,
    /// The provider whose home it is.
    pub provider_id: String,
    pub lot_id: Uuid,
    pub home_id: Option<Uuid>,
    pub postcode_district: String,
    pub available_from: NaiveDate,
    pub expires_on: NaiveDate,
    /// GSS code of the council offering the bed, and its name.
    pub offered_by: String,
    pub offered_by_name: String,
    /// Codes of the partnerships the offering council shares with the receiver.
    pub partnerships: Vec<String>,
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn message<T: Serialize>(event_type: &str, at: DateTime<Utc>, data: T) -> String {
    serde_json::to_string(&Message {
        event_type: event_type.to_owned(),
        timestamp: rfc3339(at),
        data,
    })
    .expect("webhook messages always serialise")
}

/// The `competition.invited` body for a provider invited by `e`. `base_url` is the
/// platform's public base URL (no trailing slash).
pub fn invited_body(e: &CompetitionOpened, occurred_at: DateTime<Utc>, base_url: &str) -> String {
    message(
        INVITED,
        occurred_at,
        Invited {
            competition_id: e.competition_id,
            referral_id: e.referral_id,
            referral_version: e.referral_version,
            council: e.council.clone(),
            lot_id: e.lot_id,
            lot_name: e.lot_name.clone(),
            urgency: e.urgency,
            deadline: e.deadline,
            summary: e.summary.clone(),
            referral_url: join_url(base_url, &e.referral_path),
        },
    )
}

/// The `competition.awarded` body for the winner of `e`.
pub fn awarded_body(e: &CompetitionAwarded, occurred_at: DateTime<Utc>, base_url: &str) -> String {
    message(
        AWARDED,
        occurred_at,
        Awarded {
            competition_id: e.competition_id,
            referral_id: e.referral_id,
            council: e.council.clone(),
            framework_id: e.framework_id,
            lot_id: e.lot_id,
            bid_id: e.bid_id,
            weekly_rate_pence: e.weekly_rate_pence,
            start_date: e.start_date,
            direct: e.direct,
            referral_url: join_url(base_url, &format!("/v1/referrals/{}", e.referral_id)),
        },
    )
}

/// Who is told they were unsuccessful: every provider the award names as unsuccessful or
/// gives an outcome for, but the winner; each once, in order.
pub fn unsuccessful_providers(e: &CompetitionAwarded) -> Vec<&str> {
    let mut out: Vec<&str> = e
        .unsuccessful
        .iter()
        .map(String::as_str)
        .chain(e.outcomes.iter().map(|o| o.provider_id.as_str()))
        .filter(|p| *p != e.provider_id)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The `competition.unsuccessful` body for `provider`, which lost `e`: its own outcome (its
/// scores beside the winner's, and the reasons) and nothing about any other bid.
pub fn unsuccessful_body(
    e: &CompetitionAwarded,
    provider: &str,
    occurred_at: DateTime<Utc>,
) -> String {
    let outcome = e.outcomes.iter().find(|o| o.provider_id == provider);
    message(
        UNSUCCESSFUL,
        occurred_at,
        Unsuccessful {
            competition_id: e.competition_id,
            referral_id: e.referral_id,
            council: e.council.clone(),
            lot_id: e.lot_id,
            weekly_price_pence: outcome.and_then(|o| o.weekly_price_pence),
            winner_provider_id: e.provider_id.clone(),
            winner_name: outcome.and_then(|o| o.winner_name.clone()),
            total: outcome.and_then(|o| o.total),
            winner_total: outcome.and_then(|o| o.winner_total),
            scores: outcome
                .map(|o| {
                    o.scores
                        .iter()
                        .map(|s| CriterionResult {
                            criterion: s.criterion.clone(),
                            weight: s.weight,
                            passed: s.passed,
                            score: s.score,
                            winner_score: s.winner_score,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            reasons: outcome.map(|o| o.reasons.clone()).unwrap_or_default(),
        },
    )
}

/// A competition as the notifications service knows it from `competition.opened`.
#[derive(Debug, Clone, PartialEq)]
pub struct CompetitionInfo {
    pub competition_id: Uuid,
    pub lot_id: Option<Uuid>,
    pub lot_name: Option<String>,
    /// The referral version the competition opened on (unknown for a direct award).
    pub referral_version: Option<u32>,
}

impl CompetitionInfo {
    /// Whether a provider in this competition has yet to hear of `version`: it is later than
    /// the one the competition opened on.
    pub fn is_news(&self, version: u32) -> bool {
        self.referral_version.is_none_or(|v| version > v)
    }
}

/// The `referral.updated` body for a provider invited to `c`.
pub fn referral_updated_body(
    e: &ReferralUpdated,
    c: &CompetitionInfo,
    occurred_at: DateTime<Utc>,
    base_url: &str,
) -> String {
    message(
        REFERRAL_UPDATED,
        occurred_at,
        ReferralUpdate {
            referral_id: e.referral_id,
            version: e.version,
            invited_version: c.referral_version,
            council: e.council.clone(),
            competition_id: c.competition_id,
            lot_id: c.lot_id,
            lot_name: c.lot_name.clone(),
            urgency: e.urgency,
            referral_url: join_url(
                base_url,
                &format!("/v1/referrals/{}?version={}", e.referral_id, e.version),
            ),
        },
    )
}

/// The `competition.closed` body for a provider invited to the competition `e` closed.
pub fn closed_body(
    e: &CompetitionClosed,
    lot: Option<(Uuid, String)>,
    occurred_at: DateTime<Utc>,
) -> String {
    let (lot_id, lot_name) = lot.unzip();
    message(
        CLOSED,
        occurred_at,
        Closed {
            competition_id: e.competition_id,
            referral_id: e.referral_id,
            council: e.council.clone(),
            lot_id,
            lot_name,
            reason: e.reason.clone(),
        },
    )
}

/// `competition.bidding_closed`: the commissioner closed bidding before the deadline in a
/// competition the provider was invited to. The reason is a code; no bid or decline is
/// taken any more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BiddingClosedHook {
    pub competition_id: Uuid,
    pub referral_id: Uuid,
    pub council: String,
    /// `placement_needed_sooner`, `court_timescale` or `other`.
    pub reason: String,
    /// The deadline the providers had been given.
    pub deadline: DateTime<Utc>,
    pub closed_at: DateTime<Utc>,
}

/// The `competition.bidding_closed` body for a provider invited to `e`'s competition.
pub fn bidding_closed_body(e: &BiddingClosed, occurred_at: DateTime<Utc>) -> String {
    message(
        BIDDING_CLOSED,
        occurred_at,
        BiddingClosedHook {
            competition_id: e.competition_id,
            referral_id: e.referral_id,
            council: e.council.clone(),
            reason: e.reason.clone(),
            deadline: e.deadline,
            closed_at: e.closed_at,
        },
    )
}

/// The councils told of a vacancy `offered_by` offers: every other member of the partnerships
/// it belongs to, each with the codes of the partnerships they share, in order.
pub fn vacancy_recipients(offered_by: &str) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for p in hub_platform::directory::partnerships_of(offered_by) {
        for member in p.members.iter().filter(|m| **m != offered_by) {
            match out.iter_mut().find(|(c, _)| c == member) {
                Some((_, shared)) => shared.push(p.code),
                None => out.push((member, vec![p.code])),
            }
        }
    }
    out.sort_by_key(|(c, _)| *c);
    out
}

/// The `vacancy.offered` body for `council`, which shares `partnerships` with the offerer.
pub fn vacancy_offered_body(
    e: &VacancyPublished,
    offered_by: &str,
    partnerships: &[&str],
    occurred_at: DateTime<Utc>,
) -> String {
    message(
        VACANCY_OFFERED,
        occurred_at,
        VacancyOffered {
            vacancy_id: e.vacancy_id,
            provider_id: e.provider_id.clone(),
            lot_id: e.lot_id,
            home_id: e.home_id,
            postcode_district: e.postcode_district.clone(),
            available_from: e.available_from,
            expires_on: e.expires_on,
            offered_by: offered_by.to_owned(),
            offered_by_name: council_name(offered_by),
            partnerships: partnerships.iter().map(|p| (*p).to_owned()).collect(),
        },
    )
}

/// A council's name by its GSS code (empty if the directory does not know it).
fn council_name(code: &str) -> String {
    hub_platform::directory::council(code)
        .map(|c| c.name.to_owned())
        .unwrap_or_default()
}

fn join_url(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

// ---------------------------------------------------------------------------------------
// Contract webhooks: orders, placements, IPAs, block beds and service contracts. Each body
// carries the contract event's ids, codes and dates (never anything about the child) and,
// where there is one, a link to the thing itself.

/// `order.issued`: the provider is sent an order to sign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OrderIssuedHook {
    pub order_id: Uuid,
    pub competition_id: Uuid,
    pub referral_id: Uuid,
    /// GSS code of the council placing the order.
    pub council: String,
    pub framework_id: Uuid,
    pub weekly_rate_pence: i64,
    pub start_date: NaiveDate,
    /// The day it is due back signed.
    pub due_by: NaiveDate,
    /// An emergency order (a direct award): `due_by` is the timescale the parties agreed.
    pub emergency: bool,
    /// Where to read, sign or decline it.
    pub order_url: String,
}

/// `order.overdue`: an issued order was not signed by the day it was due (to the provider
/// and to the council).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OrderOverdueHook {
    pub order_id: Uuid,
    pub provider_id: String,
    pub council: String,
    pub due_by: NaiveDate,
    pub order_url: String,
}

/// `ipa.review_due`: a placement's Individual Placement Agreement is due for review, or
/// overdue (to the provider and to the council).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IpaReviewDueHook {
    pub placement_id: Uuid,
    pub ipa_id: Uuid,
    pub council: String,
    pub provider_id: String,
    pub review_due_on: NaiveDate,
    /// The review date has passed.
    pub overdue: bool,
}

/// `bed.void`: a bed of a block contract the council holds became empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BedVoidHook {
    pub block_contract_id: Uuid,
    /// The bed's number in the block.
    pub bed: u16,
    /// The council the bed is held for (the receiver).
    pub council: String,
    pub provider_id: String,
    pub void_from: NaiveDate,
}

/// `bed.offered`: a partner council offers a block bed left void (to each council it is
/// offered to).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BedOfferedHook {
    pub block_contract_id: Uuid,
    pub bed: u16,
    /// GSS code of the council offering the bed, and its name.
    pub offered_by: String,
    pub offered_by_name: String,
    pub provider_id: String,
    pub lot_id: Option<Uuid>,
    pub home_id: Option<Uuid>,
    pub postcode_district: String,
    pub available_from: NaiveDate,
    /// Until when the offer stands.
    pub offer_expires_on: NaiveDate,
}

/// `service_contract.expiring`: a service contract the council leads reaches an expiry
/// alert (so a new procurement starts in time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServiceContractExpiringHook {
    pub contract_id: Uuid,
    pub lead_council: String,
    pub provider_id: String,
    pub end_date: NaiveDate,
    /// The alert's lead time: months before `end_date`.
    pub months_before: u16,
    pub extensions_left: u16,
}

/// `placement.ended`: a placement with the provider ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlacementEndedHook {
    pub placement_id: Uuid,
    pub council: String,
    pub provider_id: String,
    /// The last night of the placement.
    pub end_date: NaiveDate,
    /// `planned_move`, `step_down`, `breakdown`, `return_home`, `adoption`, `turned_18`, `other`.
    pub reason: String,
    pub block_contract_id: Option<Uuid>,
    pub bed: Option<u16>,
}

/// A webhook to send: (receiving organisation, webhook type, body).
pub type Webhook = (String, &'static str, String);

/// The webhook `kind` with `data`, for an event that happened `at`, to each of `orgs`.
fn webhooks_to<T: Serialize>(
    orgs: &[&str],
    kind: &'static str,
    at: DateTime<Utc>,
    data: T,
) -> Vec<Webhook> {
    let body = message(kind, at, data);
    orgs.iter()
        .map(|o| ((*o).to_owned(), kind, body.clone()))
        .collect()
}

/// The webhooks a contract event causes, in order; `None` if `env` is not a contract event
/// that notifies anyone.
pub fn contract_webhooks(
    env: &Envelope,
    base_url: &str,
) -> Result<Option<Vec<Webhook>>, EventError> {
    let at = env.occurred_at;
    let order_url = |id: &Uuid| join_url(base_url, &format!("/v1/orders/{id}"));
    let out = if env.is::<OrderIssued>() {
        let e: OrderIssued = env.decode()?;
        webhooks_to(
            &[&e.provider_id],
            ORDER_ISSUED,
            at,
            OrderIssuedHook {
                order_id: e.order_id,
                competition_id: e.competition_id,
                referral_id: e.referral_id,
                council: e.council.clone(),
                framework_id: e.framework_id,
                weekly_rate_pence: e.weekly_rate_pence,
                start_date: e.start_date,
                due_by: e.due_by,
                emergency: e.emergency,
                order_url: order_url(&e.order_id),
            },
        )
    } else if env.is::<OrderOverdue>() {
        let e: OrderOverdue = env.decode()?;
        webhooks_to(
            &[&e.provider_id, &e.council],
            ORDER_OVERDUE,
            at,
            OrderOverdueHook {
                order_id: e.order_id,
                provider_id: e.provider_id.clone(),
                council: e.council.clone(),
                due_by: e.due_by,
                order_url: order_url(&e.order_id),
            },
        )
    } else if env.is::<IpaReviewDue>() {
        let e: IpaReviewDue = env.decode()?;
        webhooks_to(
            &[&e.provider_id, &e.council],
            IPA_REVIEW_DUE,
            at,
            IpaReviewDueHook {
                placement_id: e.placement_id,
                ipa_id: e.ipa_id,
                council: e.council.clone(),
                provider_id: e.provider_id.clone(),
                review_due_on: e.review_due_on,
                overdue: e.overdue,
            },
        )
    } else if env.is::<BedVoid>() {
        let e: BedVoid = env.decode()?;
        webhooks_to(
            &[&e.council],
            BED_VOID,
            at,
            BedVoidHook {
                block_contract_id: e.block_contract_id,
                bed: e.bed,
                council: e.council.clone(),
                provider_id: e.provider_id.clone(),
                void_from: e.void_from,
            },
        )
    } else if env.is::<BedOffered>() {
        let e: BedOffered = env.decode()?;
        let councils: Vec<&str> = e
            .offered_to
            .iter()
            .map(String::as_str)
            .filter(|c| *c != e.offered_by)
            .collect();
        webhooks_to(
            &councils,
            BED_OFFERED,
            at,
            BedOfferedHook {
                block_contract_id: e.block_contract_id,
                bed: e.bed,
                offered_by: e.offered_by.clone(),
                offered_by_name: council_name(&e.offered_by),
                provider_id: e.provider_id.clone(),
                lot_id: e.lot_id,
                home_id: e.home_id,
                postcode_district: e.postcode_district.clone(),
                available_from: e.available_from,
                offer_expires_on: e.offer_expires_on,
            },
        )
    } else if env.is::<ServiceContractExpiring>() {
        let e: ServiceContractExpiring = env.decode()?;
        webhooks_to(
            &[&e.lead_council],
            SERVICE_CONTRACT_EXPIRING,
            at,
            ServiceContractExpiringHook {
                contract_id: e.contract_id,
                lead_council: e.lead_council.clone(),
                provider_id: e.provider_id.clone(),
                end_date: e.end_date,
                months_before: e.months_before,
                extensions_left: e.extensions_left,
            },
        )
    } else if env.is::<PlacementEnded>() {
        let e: PlacementEnded = env.decode()?;
        webhooks_to(
            &[&e.provider_id],
            PLACEMENT_ENDED,
            at,
            PlacementEndedHook {
                placement_id: e.placement_id,
                council: e.council.clone(),
                provider_id: e.provider_id.clone(),
                end_date: e.end_date,
                reason: e.reason.clone(),
                block_contract_id: e.block_contract_id,
                bed: e.bed,
            },
        )
    } else {
        return Ok(None);
    };
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector of the Standard Webhooks reference implementations (also the Svix
    /// libraries' `sign` tests): github.com/standard-webhooks/standard-webhooks, libraries/*.
    #[test]
    fn signs_the_standard_webhooks_test_vectors() {
        assert_eq!(
            sign(
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        // libraries/rust/src/lib.rs `test_sign` in the reference repository.
        assert_eq!(
            sign(
                "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1649367553,
                br#"{"email":"test@example.com","username":"test_user"}"#
            ),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
        // The prefix is optional.
        assert_eq!(
            sign(
                "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn verify_accepts_what_sign_makes_and_nothing_else() {
        let secret = new_secret();
        let (id, ts, body) = (
            "01936f5e-0000-7000-8000-000000000000",
            1_760_000_000,
            br#"{"type":"x"}"#.as_slice(),
        );
        let sig = sign(&secret, id, ts, body);
        assert_eq!(verify(&secret, id, ts, body, &sig, ts), Ok(()));
        assert_eq!(
            verify(&secret, id, ts, body, &sig, ts + TOLERANCE_SECS),
            Ok(())
        );
        assert_eq!(
            verify(&secret, id, ts, b"{\"type\":\"y\"}", &sig, ts),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(&secret, "other", ts, body, &sig, ts),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(&secret, id, ts + 1, body, &sig, ts),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(&new_secret(), id, ts, body, &sig, ts),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(&secret, id, ts, body, &sig, ts + TOLERANCE_SECS + 1),
            Err(SignatureError::TooOld)
        );
        assert_eq!(
            verify(&secret, id, ts, body, &sig, ts - TOLERANCE_SECS - 1),
            Err(SignatureError::InFuture)
        );
        // A truncated or empty signature is not a prefix match.
        assert_eq!(
            verify(&secret, id, ts, body, "v1,", ts),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(&secret, id, ts, body, &sig[..sig.len() - 8], ts),
            Err(SignatureError::NoMatch)
        );
        // Several signatures (rotation): any one matching is enough.
        let rotated = format!("{} {sig}", sign(&new_secret(), id, ts, body));
        assert_eq!(verify(&secret, id, ts, body, &rotated, ts), Ok(()));
        assert_eq!(
            verify(&secret, id, ts, body, &sig.replacen("v1,", "v2,", 1), ts),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn secrets_are_whsec_and_24_random_bytes() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with("whsec_"));
        assert_ne!(a, b);
        assert_eq!(secret_key(&a).len(), SECRET_BYTES);
    }

    #[test]
    fn one_endpoint_never_takes_every_slot() {
        let c = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect::<Vec<_>>()
        };
        let in_flight = HashMap::from([("slow".to_owned(), 1usize)]);
        let chosen = choose(
            &c(&[
                ("1", "slow"),
                ("2", "slow"),
                ("3", "fast"),
                ("4", "fast"),
                ("5", "fast"),
            ]),
            &in_flight,
            2,
        );
        assert_eq!(chosen, ["1", "3", "4"]);
        assert_eq!(
            saturated(
                &HashMap::from([("slow".to_owned(), 2), ("fast".to_owned(), 1)]),
                2
            ),
            ["slow"]
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let waits: Vec<u64> = (1..=8).map(|a| backoff_ms(a, 1000, 30_000)).collect();
        assert_eq!(waits, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
        assert_eq!(backoff_ms(200, 1000, 3_600_000), 3_600_000);
        assert_eq!(backoff_ms(64, u64::MAX / 2, u64::MAX), u64::MAX);
    }

    #[test]
    fn failures_are_retried_until_the_give_up_window_closes() {
        let p = RetryPolicy {
            initial_backoff_ms: 1000,
            max_backoff_ms: 60_000,
            give_up_after_ms: 3_600_000,
        };
        assert_eq!(after_failure(1, 0, 10, &p), AfterFailure::RetryAt(1010));
        assert_eq!(after_failure(3, 0, 100, &p), AfterFailure::RetryAt(4100));
        assert_eq!(
            after_failure(40, 0, 3_599_999, &p),
            AfterFailure::RetryAt(3_659_999)
        );
        assert_eq!(after_failure(41, 0, 3_600_000, &p), AfterFailure::GiveUp);
    }

    #[test]
    fn webhooks_go_to_public_https_addresses_only() {
        let strict = Destinations::new(false, "https://hub.example.org");
        let dev = Destinations::new(true, "http://127.0.0.1:8080");
        for ok in [
            "https://provider.example/hooks",
            "https://203.0.113.1.nip.example/h",
            "https://8.8.8.8/h",
            "https://[2606:4700::1111]/h",
            "https://hub.example.org:8443/h",
        ] {
            assert_eq!(strict.error(ok).map(|e| e.rule), None, "{ok}");
        }
        for (bad, rule) in [
            ("http://provider.example/hooks", "scheme"),
            ("https://127.0.0.1/h", "public_address"),
            ("http://127.0.0.1:9000/h", "public_address"),
            ("https://localhost/h", "public_address"),
            ("https://[::1]/h", "public_address"),
            ("https://[::ffff:127.0.0.1]/h", "public_address"),
            ("https://10.0.0.5/h", "public_address"),
            ("https://172.16.3.4/h", "public_address"),
            ("https://192.168.1.1/h", "public_address"),
            ("https://100.100.100.200/h", "public_address"),
            ("https://[fd00:ec2::254]/h", "public_address"),
            ("https://169.254.169.254/latest/meta-data", "public_address"),
            ("https://[fe80::1]/h", "public_address"),
            (
                "https://metadata.google.internal/computeMetadata/v1",
                "public_address",
            ),
            ("https://0.0.0.0/h", "public_address"),
            ("https://hub.example.org/h", "public_address"),
        ] {
            assert_eq!(
                strict.error(bad).map(|e| (e.field, e.rule)),
                Some(("/url".to_owned(), rule.to_owned())),
                "{bad}"
            );
        }
        // Development: loopback (http too), never anything else inside; nor the platform.
        assert!(dev.error("http://127.0.0.1:9000/h").is_none());
        assert!(dev.error("http://localhost:9000/h").is_none());
        assert_eq!(
            dev.error("http://127.0.0.1:8080/v1/x")
                .map(|e| e.rule)
                .as_deref(),
            Some("public_address")
        );
        assert_eq!(
            dev.error("http://10.0.0.5/h").map(|e| e.rule).as_deref(),
            Some("public_address")
        );
        assert_eq!(
            dev.error("http://provider.example/h")
                .map(|e| e.rule)
                .as_deref(),
            Some("scheme")
        );
        assert_eq!(
            dev.refused_ip("169.254.169.254".parse().unwrap()),
            Some("link-local")
        );
        assert_eq!(dev.refused_ip("127.0.0.1".parse().unwrap()), None);
        assert_eq!(
            strict.refused_ip("127.0.0.1".parse().unwrap()),
            Some("loopback")
        );
    }

    #[test]
    fn endpoint_urls_and_event_types_are_checked() {
        assert!(url_error("https://provider.example/hooks?x=1").is_none());
        assert!(url_error("http://127.0.0.1:9000/h").is_none());
        for (bad, rule) in [
            ("ftp://x/y", "scheme"),
            ("javascript:alert(1)", "scheme"),
            ("provider.example/hooks", "format"),
            ("https://user:pw@provider.example/", "no_credentials"),
            ("https://provider.example/#x", "format"),
        ] {
            assert_eq!(
                url_error(bad).map(|e| e.rule),
                Some(rule.to_owned()),
                "{bad}"
            );
        }
        let types = |t: &[&str]| t.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(event_type_errors(&types(&[INVITED, AWARDED, UNSUCCESSFUL])).is_empty());
        let errs = event_type_errors(&types(&[INVITED, "referral.submitted", INVITED]));
        let got: Vec<(&str, &str)> = errs
            .iter()
            .map(|e| (e.field.as_str(), e.rule.as_str()))
            .collect();
        assert_eq!(
            got,
            [("/event_types/1", "one_of"), ("/event_types/2", "unique")]
        );
        assert_eq!(event_type_errors(&[])[0].rule, "min_items");
    }

    #[test]
    fn the_invited_message_carries_ids_codes_and_a_link() {
        let e = CompetitionOpened {
            competition_id: Uuid::now_v7(),
            referral_id: Uuid::now_v7(),
            referral_version: 2,
            council: "E08000014".into(),
            framework_id: Uuid::now_v7(),
            lot_id: Uuid::now_v7(),
            lot_name: "Residential".into(),
            urgency: Urgency::Urgent,
            deadline: "2026-03-01T12:00:00Z".parse().unwrap(),
            invited: vec!["prov-a".into()],
            summary: "residential, 11-15, emotional_behavioural".into(),
            referral_path: "/v1/referrals/abc".into(),
        };
        let at: DateTime<Utc> = "2026-02-27T09:30:00.25Z".parse().unwrap();
        let body: serde_json::Value =
            serde_json::from_str(&invited_body(&e, at, "https://hub.example/")).unwrap();
        assert_eq!(body["type"], INVITED);
        assert_eq!(body["timestamp"], "2026-02-27T09:30:00.250Z");
        assert_eq!(
            body["data"]["referral_url"],
            "https://hub.example/v1/referrals/abc"
        );
        assert_eq!(body["data"]["urgency"], "urgent");
        assert_eq!(body["data"]["deadline"], "2026-03-01T12:00:00Z");
        let keys: Vec<&String> = body["data"].as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 10, "{keys:?}");
    }

    fn award() -> CompetitionAwarded {
        use hub_events::{BidOutcome, CriterionScore};
        let score = |criterion: &str, weight, score, winner| CriterionScore {
            criterion: criterion.into(),
            weight,
            passed: None,
            score: Some(score),
            winner_score: Some(winner),
        };
        CompetitionAwarded {
            competition_id: Uuid::now_v7(),
            referral_id: Uuid::now_v7(),
            council: "E08000014".into(),
            framework_id: Uuid::now_v7(),
            lot_id: Uuid::now_v7(),
            provider_id: "prov-win".into(),
            bid_id: Some(Uuid::now_v7()),
            weekly_rate_pence: 450_000,
            start_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            unsuccessful: vec!["prov-b".into(), "prov-win".into(), "prov-a".into()],
            awarded_by: "jo".into(),
            direct: false,
            outcomes: vec![
                BidOutcome {
                    provider_id: "prov-a".into(),
                    total: Some(7_150),
                    winner_total: Some(8_400),
                    scores: vec![
                        CriterionScore {
                            criterion: "quality".into(),
                            weight: 0,
                            passed: Some(true),
                            score: None,
                            winner_score: None,
                        },
                        score("price", 60, 4_650, 6_000),
                        score("location", 40, 2_500, 2_400),
                    ],
                    reasons: vec!["a higher price than the winning bid".into()],
                    weekly_price_pence: Some(380_000),
                    winner_name: Some("Winning Homes".into()),
                },
                BidOutcome {
                    provider_id: "prov-c".into(),
                    total: None,
                    winner_total: Some(8_400),
                    scores: vec![],
                    reasons: vec!["failed the quality gate".into()],
                    weekly_price_pence: Some(310_000),
                    winner_name: Some("Winning Homes".into()),
                },
            ],
        }
    }

    #[test]
    fn the_unsuccessful_are_told_their_own_scores_beside_the_winners() {
        let e = award();
        assert_eq!(unsuccessful_providers(&e), ["prov-a", "prov-b", "prov-c"]);
        let at: DateTime<Utc> = "2026-11-01T10:00:00Z".parse().unwrap();
        let body: serde_json::Value =
            serde_json::from_str(&unsuccessful_body(&e, "prov-a", at)).unwrap();
        assert_eq!(body["type"], UNSUCCESSFUL);
        let d = &body["data"];
        assert_eq!(
            (d["total"].as_u64(), d["winner_total"].as_u64()),
            (Some(7_150), Some(8_400))
        );
        assert_eq!(d["scores"][0]["passed"], true);
        assert_eq!(d["scores"][1]["criterion"], "price");
        assert_eq!(
            (
                d["scores"][1]["score"].as_u64(),
                d["scores"][1]["winner_score"].as_u64()
            ),
            (Some(4_650), Some(6_000))
        );
        assert_eq!(d["reasons"][0], "a higher price than the winning bid");
        // Its own price, and who won; not the winner's price, nor anything of another loser.
        assert_eq!(d["weekly_price_pence"], 380_000);
        assert_eq!(
            (d["winner_provider_id"].as_str(), d["winner_name"].as_str()),
            (Some("prov-win"), Some("Winning Homes"))
        );
        let text = body.to_string();
        assert!(
            !text.contains("450000") && !text.contains("prov-c") && !text.contains("310000"),
            "nothing about the winner's price, nor another loser: {text}"
        );
        // A provider named unsuccessful without an outcome is still told, without scores.
        let b: serde_json::Value =
            serde_json::from_str(&unsuccessful_body(&e, "prov-b", at)).unwrap();
        assert_eq!(b["data"]["scores"], serde_json::json!([]));
        assert_eq!(b["data"]["total"], serde_json::Value::Null);
    }

    #[test]
    fn the_referral_updated_message_links_the_new_version() {
        let e = ReferralUpdated {
            referral_id: Uuid::now_v7(),
            version: 3,
            council: "E08000014".into(),
            urgency: Urgency::Emergency,
            needs: vec!["risk_missing".into()],
        };
        let c = CompetitionInfo {
            competition_id: Uuid::now_v7(),
            lot_id: Some(Uuid::now_v7()),
            lot_name: Some("Residential".into()),
            referral_version: Some(1),
        };
        assert!(c.is_news(2) && !c.is_news(1));
        let at: DateTime<Utc> = "2026-11-01T10:00:00Z".parse().unwrap();
        let body: serde_json::Value =
            serde_json::from_str(&referral_updated_body(&e, &c, at, "https://hub.example/"))
                .unwrap();
        assert_eq!(body["type"], REFERRAL_UPDATED);
        let d = &body["data"];
        assert_eq!(
            d["referral_url"],
            format!(
                "https://hub.example/v1/referrals/{}?version=3",
                e.referral_id
            )
        );
        assert_eq!(
            (d["version"].as_u64(), d["invited_version"].as_u64()),
            (Some(3), Some(1))
        );
        assert_eq!(
            (d["lot_name"].as_str(), d["urgency"].as_str()),
            (Some("Residential"), Some("emergency"))
        );
    }

    #[test]
    fn vacancies_go_to_the_other_councils_of_every_shared_partnership() {
        use hub_platform::directory::*;
        let got = vacancy_recipients(SEFTON);
        // Sefton is in AIM (Liverpool, Knowsley, Wirral) and the LCR PPA (Halton, Knowsley,
        // Liverpool, St Helens, Wirral).
        assert_eq!(
            got,
            vec![
                (HALTON, vec!["LCR-PPA"]),
                (KNOWSLEY, vec!["AIM", "LCR-PPA"]),
                (LIVERPOOL, vec!["AIM", "LCR-PPA"]),
                (ST_HELENS, vec!["LCR-PPA"]),
                (WIRRAL, vec!["AIM", "LCR-PPA"]),
            ]
        );
        assert!(vacancy_recipients("prov-a").is_empty());
        assert_eq!(vacancy_recipients(DERBY).len(), 3);
    }

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

    /// With the shipped configuration a failing delivery is retried, backing off
    /// exponentially, for at least 24 hours before it is given up and its endpoint disabled.
    /// Who hears of each contract event, under which webhook type.
    #[test]
    fn contract_events_go_to_the_provider_and_the_councils_concerned() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let recipients = |env: Envelope| -> Vec<(String, &'static str)> {
            contract_webhooks(&env, "https://hub.example")
                .unwrap()
                .expect("a contract webhook")
                .into_iter()
                .map(|(org, kind, body)| {
                    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                    assert_eq!(v["type"], kind);
                    (org, kind)
                })
                .collect()
        };
        let overdue = Envelope::new(
            "contract",
            "LCR-PPA",
            &OrderOverdue {
                order_id: Uuid::nil(),
                provider_id: "prov-a".into(),
                council: "E08000014".into(),
                due_by: day,
            },
        );
        assert_eq!(
            recipients(overdue),
            [
                ("prov-a".to_owned(), ORDER_OVERDUE),
                ("E08000014".to_owned(), ORDER_OVERDUE)
            ]
        );
        let offered = Envelope::new(
            "contract",
            "LCR-PPA",
            &BedOffered {
                block_contract_id: Uuid::nil(),
                bed: 1,
                offered_by: "E08000014".into(),
                offered_to: vec!["E08000012".into(), "E08000014".into(), "E08000015".into()],
                provider_id: "prov-a".into(),
                lot_id: None,
                home_id: None,
                postcode_district: "L20".into(),
                available_from: day,
                offer_expires_on: day,
            },
        );
        assert_eq!(
            recipients(offered),
            [
                ("E08000012".to_owned(), BED_OFFERED),
                ("E08000015".to_owned(), BED_OFFERED)
            ],
            "not the offering council"
        );
        let expiring = Envelope::new(
            "contract",
            "LCR-PPA",
            &ServiceContractExpiring {
                contract_id: Uuid::nil(),
                lead_council: "E06000006".into(),
                provider_id: "prov-a".into(),
                end_date: day,
                months_before: 3,
                extensions_left: 0,
            },
        );
        assert_eq!(
            recipients(expiring),
            [("E06000006".to_owned(), SERVICE_CONTRACT_EXPIRING)]
        );
        // The other types are each the audience's own.
        for t in [ORDER_ISSUED, PLACEMENT_ENDED] {
            assert!(PROVIDER_EVENT_TYPES.contains(&t) && !COUNCIL_EVENT_TYPES.contains(&t));
        }
        for t in [BED_VOID, BED_OFFERED, SERVICE_CONTRACT_EXPIRING] {
            assert!(COUNCIL_EVENT_TYPES.contains(&t) && !PROVIDER_EVENT_TYPES.contains(&t));
        }
        for t in [ORDER_OVERDUE, IPA_REVIEW_DUE] {
            assert!(COUNCIL_EVENT_TYPES.contains(&t) && PROVIDER_EVENT_TYPES.contains(&t));
        }
        // Not a contract event (or one nobody is told of): nothing.
        let signed = Envelope::new(
            "contract",
            "LCR-PPA",
            &hub_events::OrderSigned {
                order_id: Uuid::nil(),
                provider_id: "prov-a".into(),
                council: "E08000014".into(),
                signed_by: "someone".into(),
                late: false,
            },
        );
        assert!(contract_webhooks(&signed, "").unwrap().is_none());
    }

    #[test]
    fn the_default_schedule_retries_for_at_least_a_day() {
        let settings = hub_platform::Settings::load_with(&[]).unwrap();
        let policy = RetryPolicy::from(&settings.webhooks);
        let (mut now, mut attempt, mut waits) = (0i64, 1u32, Vec::new());
        let gave_up_at = loop {
            match after_failure(attempt, 0, now, &policy) {
                AfterFailure::RetryAt(at) => {
                    waits.push(at - now);
                    now = at;
                    attempt += 1;
                }
                AfterFailure::GiveUp => break now,
            }
        };
        let hour = 3_600_000;
        assert!(
            waits.windows(2).take(8).all(|w| w[1] == 2 * w[0]),
            "exponential: {waits:?}"
        );
        assert!(
            waits.iter().all(|w| *w <= hour),
            "capped at an hour: {waits:?}"
        );
        assert!(
            gave_up_at >= 24 * hour,
            "retried for {} h only",
            gave_up_at / hour
        );
        assert!(gave_up_at < 27 * hour, "{} h", gave_up_at / hour);
        assert!(attempt < 40, "{attempt} attempts");
    }
}
