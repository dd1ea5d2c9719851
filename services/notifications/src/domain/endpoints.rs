//! An endpoint's rules: what a registration or a change may say (an absolute `http(s)` URL
//! without credentials or fragment, known event types each once, a description of at most
//! 500 characters), how a description is kept, and the endpoint's own state machine: a
//! disabled endpoint takes no redelivery (409 `webhook-disabled`) until it is enabled.

use hub_platform::{FieldError, Problem, http::Validate};
use serde::Deserialize;
use utoipa::ToSchema;

use super::event_type_errors;

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
/// A delivery may be sent again only while its endpoint is enabled: a disabled one is a 409
/// naming the endpoint and why it is disabled.
pub fn redeliverable(
    endpoint_id: &impl std::fmt::Display,
    enabled: bool,
    disabled_reason: Option<&str>,
) -> Result<(), Problem> {
    if enabled {
        return Ok(());
    }
    Err(Problem::conflict(
        "webhook-disabled",
        format!(
            "the webhook {endpoint_id} is disabled; enable it first ({})",
            disabled_reason.unwrap_or_default()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AWARDED, INVITED, UNSUCCESSFUL};

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
}
