//! Safe retries of creating requests: `Idempotency-Key`.
//!
//! A client that sends a creating `POST` with an `Idempotency-Key` header (any printable
//! text of 1 to 255 characters, e.g. a UUID it made) may send it again — after a timeout, a
//! dropped connection, a crash of its own — and get the first answer back, with no second
//! effect. The key belongs to the calling organisation; it is remembered for
//! [`KEY_LIFETIME_MS`]. The same key with a different request (another body, another path)
//! is a 422 on `Idempotency-Key`, rule `reused`.
//!
//! The first answer is stored by the service in the transaction that made the effect
//! (`hub_bus::Store::write_once`), so it is there on every replica, after a restart, and
//! never without the effect it answers for. [`guard_bodies`](crate::http::guard_bodies)
//! reads the request body and fingerprints the request ([`fingerprint`]); the
//! [`IdempotencyKey`] extractor hands the key and fingerprint to the handler; the handler's
//! transaction returns an [`Answer`] (status, JSON body, `Location`), which is what is
//! stored and sent.

use actix_web::{
    FromRequest, HttpMessage, HttpRequest, HttpResponse, Responder, body::BoxBody, dev::Payload,
    http::StatusCode,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::problem::Problem;

/// The request header.
pub const HEADER: &str = "idempotency-key";

/// The header a replayed answer carries: `true`.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// How long a key is remembered: 24 hours.
pub const KEY_LIFETIME_MS: i64 = 24 * 60 * 60 * 1000;

/// The longest key, in characters.
pub const MAX_KEY_CHARS: usize = 255;

/// A request's fingerprint: SHA-256 of its method, path and query, and body, hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(pub String);

/// The fingerprint of a request with this method, URI (path and query) and body.
pub fn fingerprint(method: &str, uri: &str, body: &[u8]) -> Fingerprint {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b" ");
    h.update(uri.as_bytes());
    h.update(b"\n");
    h.update(body);
    Fingerprint(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `Idempotency-Key` of a request, if it has one, with the request's fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub Option<Keyed>);

/// A key and the fingerprint of the request that carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyed {
    pub key: String,
    pub fingerprint: String,
}

impl IdempotencyKey {
    /// No key: the request is not retried safely (a second one makes a second effect).
    pub fn none() -> Self {
        Self(None)
    }

    /// Reads the header of `req`: 422 on `Idempotency-Key` (rule `format`) unless it is 1 to
    /// 255 printable ASCII characters. The fingerprint is the one [`crate::http::guard_bodies`]
    /// left in the request's extensions, or that of the method and URI alone when it did not
    /// run (a request with no body).
    pub fn of(req: &HttpRequest) -> Result<Self, Problem> {
        let Some(raw) = req.headers().get(HEADER) else {
            return Ok(Self(None));
        };
        let key = raw
            .to_str()
            .ok()
            .filter(|k| {
                (1..=MAX_KEY_CHARS).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic())
            })
            .ok_or_else(|| {
                Problem::invalid(
                    "Idempotency-Key",
                    "format",
                    format!(
                        "1 to {MAX_KEY_CHARS} printable characters, without spaces (a UUID will do)"
                    ),
                )
            })?
            .to_owned();
        let fingerprint = req
            .extensions()
            .get::<Fingerprint>()
            .cloned()
            .unwrap_or_else(|| fingerprint(req.method().as_str(), &req.uri().to_string(), b""));
        Ok(Self(Some(Keyed {
            key,
            fingerprint: fingerprint.0,
        })))
    }
}

impl FromRequest for IdempotencyKey {
    type Error = Problem;
    type Future = std::future::Ready<Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::of(req))
    }
}

/// The problem for a key sent again with another request.
pub fn reused() -> Problem {
    Problem::invalid(
        "Idempotency-Key",
        "reused",
        "this key was sent with a different request in the last 24 hours: use a new key for a new request",
    )
}

/// An answer a write transaction gives: what is sent, and what a retry with the same
/// `Idempotency-Key` gets again.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: serde_json::Value,
    /// The `Location` header, for a created resource.
    pub location: Option<String>,
    /// A stored answer sent again: carries `Idempotent-Replayed: true`.
    pub replayed: bool,
}

impl Answer {
    /// `201 Created` with `body` as JSON.
    pub fn created(body: &impl Serialize) -> Self {
        Self::new(StatusCode::CREATED, body)
    }

    /// `200 OK` with `body` as JSON.
    pub fn ok(body: &impl Serialize) -> Self {
        Self::new(StatusCode::OK, body)
    }

    /// `status` with `body` as JSON.
    pub fn new(status: StatusCode, body: &impl Serialize) -> Self {
        Self {
            status: status.as_u16(),
            body: serde_json::to_value(body).expect("a response body is JSON"),
            location: None,
            replayed: false,
        }
    }

    /// With a `Location` header.
    pub fn at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }
}

impl Responder for Answer {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        let mut res =
            HttpResponse::build(StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK));
        if let Some(location) = &self.location {
            res.insert_header(("location", location.as_str()));
        }
        if self.replayed {
            res.insert_header((REPLAYED_HEADER, "true"));
        }
        res.json(self.body)
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn a_fingerprint_changes_with_the_method_the_path_or_the_body() {
        let a = fingerprint("POST", "/v1/referrals", b"{}");
        assert_eq!(a, fingerprint("POST", "/v1/referrals", b"{}"));
        assert_ne!(a, fingerprint("POST", "/v1/referrals", b"{ }"));
        assert_ne!(a, fingerprint("POST", "/v1/orders", b"{}"));
        assert_ne!(a, fingerprint("PUT", "/v1/referrals", b"{}"));
        assert_eq!(a.0.len(), 64);
    }

    #[test]
    fn keys_are_printable_and_short() {
        let key = |k: &str| {
            IdempotencyKey::of(
                &TestRequest::post()
                    .insert_header((HEADER, k))
                    .to_http_request(),
            )
        };
        assert!(
            key("0193a1b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b")
                .unwrap()
                .0
                .is_some()
        );
        for bad in ["", "has space", &"k".repeat(256)] {
            let p = key(bad).unwrap_err();
            assert_eq!(
                (
                    p.status,
                    p.errors[0].field.as_str(),
                    p.errors[0].rule.as_str()
                ),
                (422, "Idempotency-Key", "format"),
                "{bad:?}"
            );
        }
        let none = IdempotencyKey::of(&TestRequest::post().to_http_request()).unwrap();
        assert_eq!(none, IdempotencyKey::none());
    }
}
