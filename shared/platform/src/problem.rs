//! `application/problem+json` (RFC 9457) errors with field-level detail.
//!
//! Every error a client can see is a [`Problem`]. Its `type` is a stable URI reference under
//! `/problems/` that clients can switch on; `errors` names each offending field (a JSON
//! pointer into the request body or the query parameter's name) and the rule it broke.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use serde::{Deserialize, Serialize};

pub const CONTENT_TYPE: &str = "application/problem+json";

/// The challenge a 401 carries (RFC 6750 section 3): a bearer token is what every API
/// operation takes.
pub const WWW_AUTHENTICATE: &str = r#"Bearer realm="commissioning-hub""#;

/// One broken rule on one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON pointer into the request body (e.g. `/child/date_of_birth`) or a parameter name.
    pub field: String,
    /// Machine-readable rule (e.g. `required`, `unknown_field`, `type`, `min`, `one_of`).
    pub rule: String,
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        rule: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            rule: rule.into(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.title, self.status)?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        for e in &self.errors {
            write!(f, "; {} {}: {}", e.field, e.rule, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Problem {}

impl Problem {
    /// A problem of type `/problems/<slug>`.
    pub fn new(status: StatusCode, slug: &str, title: &str) -> Self {
        Self {
            problem_type: format!("/problems/{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: None,
            errors: Vec::new(),
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// 400: the body is not JSON at all, or not the JSON media type.
    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed-request",
            "The request body could not be read",
        )
        .with_detail(detail)
    }

    /// 422: the request is well-formed but breaks the named rules.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "The request breaks one or more rules",
        )
        .with_errors(errors)
    }

    /// 422 on one field.
    pub fn invalid(field: &str, rule: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, rule, message)])
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "A valid bearer token is required",
        )
        .with_detail(detail)
    }

    /// 403: the caller may see the resource but lacks the role for this action.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Your role does not allow this",
        )
        .with_detail(detail)
    }

    /// 404, also used for resources the caller may not know exist (ids do not leak).
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found")
            .with_detail(format!("no such {what}"))
    }

    /// 409: the resource is not in a state that allows the action.
    pub fn conflict(slug: &str, detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            slug,
            "The request conflicts with the resource's state",
        )
        .with_detail(detail)
    }

    /// 405: the path exists, the method does not; `allow` lists the methods it has (sent in
    /// the `Allow` header too).
    pub fn method_not_allowed(allow: &[&str]) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "The resource does not take this method",
        )
        .with_detail(format!("allowed: {}", allow.join(", ")))
    }

    /// 412: the `If-Match` of a write names a version the resource is no longer at; read
    /// it again, and write on top of what is there now.
    pub fn precondition_failed(what: &str) -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            "The resource has changed since you read it",
        )
        .with_detail(format!(
            "the {what} was changed by someone else: GET it again for its new ETag"
        ))
    }

    /// 428: a write to something edited in place must say which version it changes.
    pub fn precondition_required(what: &str) -> Self {
        Self::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition-required",
            "Send If-Match with the ETag you read",
        )
        .with_detail(format!(
            "the {what} is edited in place: send If-Match with the ETag of the version you read"
        ))
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side",
        )
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "A dependency is unavailable",
        )
        .with_detail(detail)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The problem as `application/problem+json`; a 401 also carries the challenge RFC 6750
    /// asks for (`WWW-Authenticate: Bearer realm="commissioning-hub"`), and a 405 the
    /// methods the resource has (`Allow`, from the detail [`Problem::method_not_allowed`]
    /// wrote).
    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.content_type(CONTENT_TYPE);
        match self.status {
            401 => {
                res.insert_header(("www-authenticate", WWW_AUTHENTICATE));
            }
            405 => {
                if let Some(allow) = self
                    .detail
                    .as_deref()
                    .and_then(|d| d.strip_prefix("allowed: "))
                {
                    res.insert_header(("allow", allow.to_owned()));
                }
            }
            _ => {}
        }
        res.json(self)
    }
}

/// Unexpected failures are logged with their cause and shown as a bare 500: nothing internal
/// (SQL, paths, child data) reaches the client.
impl From<anyhow::Error> for Problem {
    fn from(err: anyhow::Error) -> Self {
        tracing::error!(error = %format!("{err:#}"), "internal error");
        Self::internal()
    }
}

impl From<diesel::result::Error> for Problem {
    fn from(err: diesel::result::Error) -> Self {
        Self::from(anyhow::Error::from(err))
    }
}

/// The id a route parameter names, or 404 `no such {what}`. Route parameters stay strings so
/// that a malformed id names nothing, exactly as an unknown one does (actix's own path error
/// would be a 422 `path`); call it where the row is looked up, so that the checks before the
/// lookup answer first, as they would for any id.
pub fn path_id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, Problem> {
    raw.parse().map_err(|_| Problem::not_found(what))
}
