//! The one OpenAPI document of a platform, merged from the services' documents.
//!
//! What every operation can answer beyond its own responses is stated here once, so no
//! service can forget it: every error response is `application/problem+json` with the
//! [`Problem`] schema; every operation can answer 401 (it takes a bearer token), 500 and
//! 503; one with a path parameter 404; one with a body 400, 408, 413, 415 and 422; one with
//! query parameters 422. A service documents the statuses that are its own (403, 404 on a
//! collection, 409, 412, 428 …) with `body = Problem`; the media type is corrected here.
//!
//! Merging refuses two services' components of one name and different shapes
//! ([`collisions`]): utoipa's own merge keeps the first silently, which once documented the
//! orders' variation body with the service contracts' one.

use std::collections::BTreeMap;

use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        ContentBuilder, OpenApi, RefOr, ResponseBuilder,
        path::{Operation, PathItem},
        response::Response,
    },
};

use crate::problem::{CONTENT_TYPE, FieldError, Problem};

/// Two or more parts defining a component schema of one name differently: `name (part a,
/// part b)`. Empty when the parts can be merged safely.
pub fn collisions(parts: &[(&str, &OpenApi)]) -> Vec<String> {
    let mut seen: BTreeMap<String, (String, serde_json::Value)> = BTreeMap::new();
    let mut found = Vec::new();
    for (part, doc) in parts {
        let Some(components) = &doc.components else {
            continue;
        };
        for (name, schema) in &components.schemas {
            let shape = serde_json::to_value(schema).unwrap_or_default();
            match seen.get(name) {
                Some((first, other)) if *other != shape => {
                    found.push(format!("{name} ({first}, {part})"));
                }
                Some(_) => {}
                None => {
                    seen.insert(name.clone(), ((*part).to_owned(), shape));
                }
            }
        }
    }
    found
}

/// The statuses an operation can answer whatever it does, with why.
fn implied_statuses(op: &Operation, has_path_params: bool) -> Vec<(&'static str, &'static str)> {
    let mut statuses = vec![
        ("401", "No valid bearer token"),
        ("500", "Something went wrong on our side"),
        ("503", "The database is unavailable; retry later"),
    ];
    if has_path_params {
        statuses.push(("404", "No such resource, or not one the caller may see"));
    }
    let has_query = op.parameters.as_ref().is_some_and(|ps| {
        ps.iter()
            .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query))
    });
    if op.request_body.is_some() {
        statuses.extend([
            ("400", "The body is not JSON"),
            ("408", "The body did not arrive in time"),
            ("413", "The body is too large"),
            ("415", "The body is not of a media type the operation takes"),
            (
                "422",
                "The request breaks a rule: `errors` names each field and rule",
            ),
        ]);
    } else if has_query {
        statuses.push((
            "422",
            "A query parameter breaks a rule: `errors` names it and the rule",
        ));
    }
    statuses
}

fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            CONTENT_TYPE,
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                    "Problem",
                ))))
                .build(),
        )
        .build()
}

/// Every error response of `op` as problem+json, and the statuses it implies added.
fn complete(op: &mut Operation, has_path_params: bool) {
    for (status, response) in op.responses.responses.iter_mut() {
        let is_error = status.starts_with('4') || status.starts_with('5');
        if let (true, RefOr::T(r)) = (is_error, response) {
            *r = problem_response(&r.description);
        }
    }
    for (status, description) in implied_statuses(op, has_path_params) {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(problem_response(description)));
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
        &mut item.head,
        &mut item.options,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// Completes every operation of `doc` (see the module's documentation) and adds the
/// [`Problem`] schema.
pub fn complete_problems(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let has_path_params = path.contains('{');
        for op in operations(item) {
            complete(op, has_path_params);
        }
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components
        .schemas
        .insert(Problem::name().into_owned(), Problem::schema());
    components
        .schemas
        .insert(FieldError::name().into_owned(), FieldError::schema());
}

/// Operation ids used by more than one operation: `id (METHOD path, METHOD path)`; and
/// operations with none. Empty when every operation has one of its own.
pub fn operation_id_problems(doc: &OpenApi) -> Vec<String> {
    let mut by_id: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut missing = Vec::new();
    for (path, item) in &doc.paths.paths {
        let ops = [
            ("GET", &item.get),
            ("PUT", &item.put),
            ("POST", &item.post),
            ("DELETE", &item.delete),
            ("PATCH", &item.patch),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            match &op.operation_id {
                Some(id) => by_id
                    .entry(id.clone())
                    .or_default()
                    .push(format!("{method} {path}")),
                None => missing.push(format!("no operationId: {method} {path}")),
            }
        }
    }
    by_id
        .into_iter()
        .filter(|(_, ops)| ops.len() > 1)
        .map(|(id, ops)| format!("{id} ({})", ops.join(", ")))
        .chain(missing)
        .collect()
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi as _;

    use super::*;

    #[derive(serde::Deserialize, utoipa::ToSchema)]
    #[allow(dead_code)]
    struct NewThing {
        name: String,
    }

    #[utoipa::path(post, path = "/v1/things", request_body = NewThing,
        responses((status = 201), (status = 403, body = Problem, description = "not yours")))]
    #[allow(dead_code)]
    async fn create_thing() {}

    #[utoipa::path(get, path = "/v1/things/{id}", params(("id" = String, Path)),
        responses((status = 200)))]
    #[allow(dead_code)]
    async fn get_thing() {}

    #[derive(utoipa::OpenApi)]
    #[openapi(paths(create_thing, get_thing))]
    struct Doc;

    #[test]
    fn every_error_is_problem_json_and_the_implied_statuses_are_there() {
        let mut doc = Doc::openapi();
        complete_problems(&mut doc);
        let v = serde_json::to_value(&doc).unwrap();
        let create = &v["paths"]["/v1/things"]["post"]["responses"];
        for status in [
            "400", "401", "403", "408", "413", "415", "422", "500", "503",
        ] {
            assert_eq!(
                create[status]["content"]["application/problem+json"]["schema"]["$ref"],
                "#/components/schemas/Problem",
                "{status}: {create}"
            );
        }
        assert_eq!(create["403"]["description"], "not yours");
        assert!(create.get("404").is_none(), "no path parameter: {create}");
        let get = &v["paths"]["/v1/things/{id}"]["get"]["responses"];
        assert!(
            get.get("404").is_some() && get.get("415").is_none(),
            "{get}"
        );
        assert!(v["components"]["schemas"]["Problem"].is_object());
    }

    #[test]
    fn shared_and_missing_operation_ids_are_found() {
        let doc = Doc::openapi();
        assert_eq!(operation_id_problems(&doc), Vec::<String>::new());
        let mut twice = doc.clone();
        twice
            .paths
            .paths
            .get_mut("/v1/things/{id}")
            .unwrap()
            .get
            .as_mut()
            .unwrap()
            .operation_id = Some("create_thing".into());
        assert_eq!(
            operation_id_problems(&twice),
            vec!["create_thing (POST /v1/things, GET /v1/things/{id})".to_owned()]
        );
    }

    #[test]
    fn components_of_one_name_and_two_shapes_collide() {
        #[derive(utoipa::ToSchema)]
        #[allow(dead_code)]
        struct VersionSummary {
            version: u32,
        }
        mod other {
            #[derive(utoipa::ToSchema)]
            #[allow(dead_code)]
            pub struct VersionSummary {
                pub kind: String,
            }
        }
        #[derive(utoipa::OpenApi)]
        #[openapi(components(schemas(VersionSummary)))]
        struct A;
        #[derive(utoipa::OpenApi)]
        #[openapi(components(schemas(other::VersionSummary)))]
        struct B;
        let (a, b) = (A::openapi(), B::openapi());
        assert_eq!(
            collisions(&[("referral", &a), ("finance", &b)]),
            vec!["VersionSummary (referral, finance)".to_owned()]
        );
        assert!(collisions(&[("referral", &a), ("again", &a)]).is_empty());
    }
}
