//! Safe concurrent edits: `ETag` and `If-Match` on everything users edit in place.
//!
//! Each such resource keeps a revision, a number its store raises by one at every change.
//! A read answers it as a strong `ETag` (`"3"`); a write must send it back in `If-Match`. A
//! write whose `If-Match` names another revision gets 412 (someone changed the resource
//! since it was read: read it again, and write on top of what is there now). A write with
//! no `If-Match` gets 428: lost updates are prevented, not merely detectable, and a client
//! generated from the OpenAPI document sees the header as required. `If-Match: *` matches
//! any revision, for a client that means to overwrite whatever is there.
//!
//! The check runs in the write's own transaction, against the revision it read there, so two
//! writes based on the same read cannot both succeed.

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header};

use crate::problem::Problem;

/// A resource's revision as an entity tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ETag(pub i64);

impl ETag {
    /// The header value: the revision in quotes (a strong tag).
    pub fn header_value(self) -> String {
        format!("\"{}\"", self.0)
    }

    /// `(ETag, "…")`, for `HttpResponse::insert_header`.
    pub fn header(self) -> (header::HeaderName, String) {
        (header::ETAG, self.header_value())
    }
}

/// What a write's `If-Match` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// No `If-Match`.
    Absent,
    /// `If-Match: *`.
    Any,
    /// The tags listed (strong comparison: a weak tag never matches).
    Tags(Vec<String>),
}

impl IfMatch {
    /// Reads the request's `If-Match` headers.
    pub fn of(req: &HttpRequest) -> Self {
        let mut tags = Vec::new();
        let mut seen = false;
        for value in req.headers().get_all(header::IF_MATCH) {
            seen = true;
            let Ok(value) = value.to_str() else { continue };
            for tag in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                if tag == "*" {
                    return Self::Any;
                }
                tags.push(tag.to_owned());
            }
        }
        if seen { Self::Tags(tags) } else { Self::Absent }
    }

    /// Checks the write may change `what` at `current`: 428 without `If-Match`, 412 when it
    /// names another revision.
    pub fn check(&self, current: ETag, what: &str) -> Result<(), Problem> {
        match self {
            Self::Absent => Err(Problem::precondition_required(what)),
            Self::Any => Ok(()),
            Self::Tags(tags) => {
                let current = current.header_value();
                if tags.contains(&current) {
                    Ok(())
                } else {
                    Err(Problem::precondition_failed(what))
                }
            }
        }
    }
}

impl FromRequest for IfMatch {
    type Error = Problem;
    type Future = std::future::Ready<Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Self::of(req)))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn if_match(values: &[&str]) -> IfMatch {
        let mut req = TestRequest::put();
        for v in values {
            req = req.append_header((header::IF_MATCH, *v));
        }
        IfMatch::of(&req.to_http_request())
    }

    #[test]
    fn a_write_must_name_the_revision_it_read() {
        let at = ETag(3);
        assert_eq!(at.header_value(), "\"3\"");
        assert!(if_match(&["\"3\""]).check(at, "referral").is_ok());
        assert!(if_match(&["\"1\", \"3\""]).check(at, "referral").is_ok());
        assert!(if_match(&["\"1\"", "\"3\""]).check(at, "referral").is_ok());
        assert!(if_match(&["*"]).check(at, "referral").is_ok());
        let stale = if_match(&["\"2\""]).check(at, "referral").unwrap_err();
        assert_eq!(
            (stale.status, stale.problem_type.as_str()),
            (412, "/problems/precondition-failed")
        );
        // A weak tag never matches: If-Match compares strongly (RFC 9110 13.1.1).
        assert_eq!(
            if_match(&["W/\"3\""])
                .check(at, "referral")
                .unwrap_err()
                .status,
            412
        );
        let absent = if_match(&[]).check(at, "referral").unwrap_err();
        assert_eq!(
            (absent.status, absent.problem_type.as_str()),
            (428, "/problems/precondition-required")
        );
    }
}
