//! The platform's one OpenAPI document (issue 13): valid OpenAPI 3.1 that clients can be
//! generated from — every operation with an operationId of its own, no two services'
//! components sharing a name with different shapes, every error problem+json.

use utoipa::OpenApi;

fn parts() -> Vec<(&'static str, utoipa::openapi::OpenApi)> {
    vec![
        ("referral", referral::api::ReferralApi::openapi()),
        ("competition", competition::api::CompetitionApi::openapi()),
        ("contract", contract::api::ContractApi::openapi()),
        ("finance", finance::api::FinanceApi::openapi()),
        (
            "notifications",
            notifications::api::NotificationsApi::openapi(),
        ),
    ]
}

fn document() -> utoipa::openapi::OpenApi {
    hub_platform::http::openapi_document(
        "Commissioning Hub",
        parts().into_iter().map(|(_, doc)| doc).collect(),
    )
}

#[test]
fn no_two_services_define_a_component_of_one_name_differently() {
    let parts = parts();
    let named: Vec<(&str, &utoipa::openapi::OpenApi)> =
        parts.iter().map(|(n, d)| (*n, d)).collect();
    let found = hub_platform::openapi::collisions(&named);
    assert!(
        found.is_empty(),
        "components defined twice:\n{}",
        found.join("\n")
    );
}

#[test]
fn every_operation_has_an_operation_id_of_its_own() {
    let found = hub_platform::openapi::operation_id_problems(&document());
    assert!(found.is_empty(), "operationIds:\n{}", found.join("\n"));
}

/// Every 4xx and 5xx of every operation is documented as `application/problem+json`.
#[test]
fn every_error_is_documented_as_problem_json() {
    let doc = serde_json::to_value(document()).unwrap();
    let mut wrong = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(responses) = op["responses"].as_object() else {
                continue;
            };
            for (status, r) in responses {
                if (status.starts_with('4') || status.starts_with('5'))
                    && r["content"]["application/problem+json"].is_null()
                {
                    wrong.push(format!("{method} {path} {status}"));
                }
            }
            if responses.get("401").is_none() {
                wrong.push(format!("{method} {path}: no 401"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
