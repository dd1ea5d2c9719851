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

/// The validator: `.ci/install-openapi-validator` (which `.ci/run` runs first) installs it
/// on a fresh machine and prints its path.
fn validator() -> std::path::PathBuf {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../.ci/install-openapi-validator");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "installing openapi-spec-validator failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::path::PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Runs the validator on `doc`: (valid, what it said).
fn validate(validator: &std::path::Path, doc: &serde_json::Value) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!("hub-openapi-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let out = std::process::Command::new(validator)
        .arg(&file)
        .output()
        .expect("running openapi-spec-validator");
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The document is valid OpenAPI 3.1 by openapi-spec-validator (the specification's schema
/// and the rules beyond it); and the check bites: a copy with an operationId made
/// ambiguous is refused.
#[test]
fn the_document_is_valid_openapi_3_1() {
    let validator = validator();
    let doc = serde_json::to_value(document()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let (valid, said) = validate(&validator, &doc);
    assert!(valid, "the OpenAPI document is not valid:\n{said}");
    let mut broken = doc.clone();
    let paths = broken["paths"].as_object_mut().unwrap();
    let ids: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(p, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (p.clone(), m.clone()))
        })
        .take(2)
        .collect();
    for (p, m) in &ids {
        paths[p][m]["operationId"] = "sameForTwo".into();
    }
    let (valid, said) = validate(&validator, &broken);
    assert!(
        !valid,
        "a document with a shared operationId passed: {said}"
    );
}
