//! Every answer a test gets is checked against the service's own OpenAPI document (issue 13):
//! the operation must be documented, the status documented for it, and a JSON body valid
//! against the schema the document gives for that status (JSON Schema 2020-12, which OpenAPI
//! 3.1 schemas are, with formats checked: a `date-time` without an offset fails). A mismatch
//! panics the test that met it, naming the operation, the status and what did not match, so
//! the document clients are generated from cannot drift from what the server sends.
//!
//! The document is the one the platform serves: the service's own, completed as
//! [`hub_platform::openapi::complete_problems`] completes it (problem+json errors and the
//! statuses every operation implies).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use actix_web::dev::ResourceDef;
use serde_json::{Value, json};

/// A service's OpenAPI document, ready to check answers against.
pub struct Conformance {
    doc: Value,
    paths: Vec<(ResourceDef, String)>,
    validators: Mutex<HashMap<(String, String, String), Arc<jsonschema::Validator>>>,
}

/// What an answer is checked as: the request's method and path, the answer's status, its
/// media type and body.
pub struct Exchange<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    pub media_type: Option<&'a str>,
    pub body: &'a [u8],
}

impl Conformance {
    /// The checker for `openapi` (a service's document, as mounted).
    pub fn new(mut openapi: utoipa::openapi::OpenApi) -> Self {
        hub_platform::openapi::complete_problems(&mut openapi);
        Self::of_document(serde_json::to_value(&openapi).expect("the OpenAPI document is JSON"))
    }

    /// The checker for a served document (`GET /openapi.json`, already complete).
    pub fn of_document(doc: Value) -> Self {
        let mut paths: Vec<(ResourceDef, String)> = doc["paths"]
            .as_object()
            .map(|ps| {
                ps.keys()
                    .map(|p| (ResourceDef::new(p.as_str()), p.clone()))
                    .collect()
            })
            .unwrap_or_default();
        // A literal segment beats a parameter (`/v1/frameworks/{id}/rounds` before
        // `/v1/frameworks/{id}/{anything}`), as in the router: fewer parameters first.
        paths.sort_by_key(|(_, p)| p.matches('{').count());
        Self {
            doc,
            paths,
            validators: Mutex::default(),
        }
    }

    /// Checks one exchange: `Err` says what does not conform.
    #[expect(
        clippy::too_many_lines,
        reason = "one check read top to bottom: operation, status, media type, schema"
    )]
    pub fn check(&self, x: &Exchange<'_>) -> Result<(), String> {
        let method = x.method.to_ascii_lowercase();
        let Some(template) = self
            .paths
            .iter()
            .find(|(def, _)| def.is_match(x.path))
            .map(|(_, p)| p.clone())
        else {
            // Not an operation of this service: the platform's 404 or 405.
            return if matches!(x.status, 404 | 405) {
                Ok(())
            } else {
                Err(format!("{} {} is not in the document", x.method, x.path))
            };
        };
        let op = &self.doc["paths"][&template][&method];
        if op.is_null() {
            return if x.status == 405 {
                Ok(())
            } else {
                Err(format!("{} {template} is not in the document", x.method))
            };
        }
        let status = x.status.to_string();
        let response = match &op["responses"][&status] {
            Value::Null => &op["responses"]["default"],
            r => r,
        };
        if response.is_null() {
            return Err(format!(
                "{} {template} answered {status}, which its operation ({}) does not document",
                x.method,
                op["operationId"].as_str().unwrap_or("no operationId")
            ));
        }
        let content = &response["content"];
        let Some(media_type) = x.media_type.filter(|_| !x.body.is_empty()) else {
            return Ok(());
        };
        if !media_type.ends_with("json") {
            return if content[media_type].is_null() && content.is_object() {
                Err(format!(
                    "{} {template} {status} answered {media_type}, not documented",
                    x.method
                ))
            } else {
                Ok(())
            };
        }
        let schema = &content[media_type]["schema"];
        if schema.is_null() {
            // Documented with no schema (any JSON), or a media type the operation does not
            // document at all.
            let documented = content.as_object().filter(|c| !c.is_empty());
            return if documented.is_some_and(|c| !c.contains_key(media_type)) {
                Err(format!(
                    "{} {template} {status}: {media_type} is not a documented media type ({})",
                    x.method,
                    content
                        .as_object()
                        .unwrap()
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            } else {
                Ok(())
            };
        }
        let body: Value = serde_json::from_slice(x.body).map_err(|e| {
            format!(
                "{} {template} {status}: the body is not JSON: {e}",
                x.method
            )
        })?;
        let validator = self.validator(&template, &method, &status, media_type, schema)?;
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .take(5)
            .map(|e| format!("  at {}: {e}", e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} {template} {status} ({}) does not match its documented schema:\n{}\nbody: {body}",
                x.method,
                op["operationId"].as_str().unwrap_or("no operationId"),
                errors.join("\n")
            ))
        }
    }

    fn validator(
        &self,
        template: &str,
        method: &str,
        status: &str,
        media_type: &str,
        schema: &Value,
    ) -> Result<Arc<jsonschema::Validator>, String> {
        let key = (
            format!("{method} {template}"),
            status.to_owned(),
            media_type.to_owned(),
        );
        if let Some(v) = self.validators.lock().unwrap().get(&key) {
            return Ok(v.clone());
        }
        // The response's schema, with the document's components beside it so that its
        // `#/components/schemas/…` references resolve.
        let mut root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.doc["components"].clone(),
        });
        if let (Some(root), Some(schema)) = (root.as_object_mut(), schema.as_object()) {
            for (k, v) in schema {
                root.insert(k.clone(), v.clone());
            }
        }
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .map_err(|e| format!("{key:?}: the documented schema does not compile: {e}"))?;
        let validator = Arc::new(validator);
        self.validators
            .lock()
            .unwrap()
            .insert(key, validator.clone());
        Ok(validator)
    }
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    use super::*;

    #[derive(serde::Serialize, utoipa::ToSchema)]
    #[allow(dead_code)]
    struct Thing {
        id: uuid::Uuid,
        name: String,
        created_at: chrono::DateTime<chrono::Utc>,
    }

    #[utoipa::path(get, path = "/v1/things/{id}", operation_id = "getThing",
        responses((status = 200, body = Thing)))]
    #[allow(dead_code)]
    async fn get_thing() {}

    #[derive(OpenApi)]
    #[openapi(paths(get_thing))]
    struct Doc;

    fn get(c: &Conformance, status: u16, body: &Value) -> Result<(), String> {
        let bytes = serde_json::to_vec(body).unwrap();
        c.check(&Exchange {
            method: "GET",
            path: "/v1/things/0193",
            status,
            media_type: Some(if status < 400 {
                "application/json"
            } else {
                "application/problem+json"
            }),
            body: &bytes,
        })
    }

    #[test]
    fn answers_are_held_to_the_document() {
        let c = Conformance::new(Doc::openapi());
        let good = json!({"id": "0193a1b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b", "name": "a",
            "created_at": "2026-12-04T14:12:52Z"});
        assert_eq!(get(&c, 200, &good), Ok(()));
        // A timestamp with no offset is not a date-time.
        let mut naive = good.clone();
        naive["created_at"] = json!("2026-12-04T14:12:52.296344677");
        assert!(get(&c, 200, &naive).unwrap_err().contains("created_at"));
        let mut missing = good.clone();
        missing.as_object_mut().unwrap().remove("name");
        assert!(get(&c, 200, &missing).is_err());
        // An undocumented status; a documented problem.
        assert!(
            get(&c, 409, &json!({}))
                .unwrap_err()
                .contains("does not document")
        );
        let problem = json!({"type": "/problems/not-found", "title": "Not found", "status": 404});
        assert_eq!(get(&c, 404, &problem), Ok(()));
    }

    /// The check bites when the document is changed by hand: a schema that says `name` is a
    /// number refuses the server's real answer.
    #[test]
    fn a_schema_changed_by_hand_fails_the_answer() {
        let mut doc = Doc::openapi();
        let components = doc.components.as_mut().unwrap();
        let mut thing = serde_json::to_value(&components.schemas["Thing"]).unwrap();
        thing["properties"]["name"] = json!({"type": "integer"});
        components
            .schemas
            .insert("Thing".into(), serde_json::from_value(thing).unwrap());
        let c = Conformance::new(doc);
        let real = json!({"id": "0193a1b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b", "name": "a",
            "created_at": "2026-12-04T14:12:52Z"});
        assert!(get(&c, 200, &real).unwrap_err().contains("/name"));
    }
}
