//! Every route the finance service mounts is in its OpenAPI document.

use utoipa::OpenApi;

#[test]
fn every_endpoint_is_documented() {
    let doc = finance::api::FinanceApi::openapi();
    let mut paths: Vec<(String, Vec<String>)> = doc
        .paths
        .paths
        .iter()
        .map(|(path, item)| {
            let mut methods = Vec::new();
            if item.get.is_some() {
                methods.push("get".to_owned());
            }
            if item.post.is_some() {
                methods.push("post".to_owned());
            }
            (path.clone(), methods)
        })
        .collect();
    paths.sort();
    let m = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        paths,
        vec![
            ("/v1/actuals".to_owned(), m(&["get", "post"])),
            ("/v1/actuals/uploads/{id}".to_owned(), m(&["get"])),
            ("/v1/budgets".to_owned(), m(&["get", "post"])),
            ("/v1/budgets/{id}".to_owned(), m(&["get"])),
            ("/v1/budgets/{id}/periods".to_owned(), m(&["get"])),
            (
                "/v1/budgets/{id}/periods/{period}/close".to_owned(),
                m(&["post"])
            ),
            ("/v1/budgets/{id}/versions".to_owned(), m(&["post"])),
            ("/v1/ledger".to_owned(), m(&["get"])),
            ("/v1/monitoring".to_owned(), m(&["get"])),
            ("/v1/monitoring/drill".to_owned(), m(&["get"])),
        ]
    );
}

/// Every operation is named verb-and-resource, and the names are the finance service's own
/// (issue 13: a client generated from the platform's document needs them unique).
#[test]
fn every_operation_has_its_own_operation_id() {
    let doc = serde_json::to_value(finance::api::FinanceApi::openapi()).unwrap();
    let mut ids: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "closeBudgetPeriod",
            "createBudget",
            "createBudgetVersion",
            "getActualsUpload",
            "getBudget",
            "getLedger",
            "getMonitoringDrill",
            "getMonitoringReport",
            "listActuals",
            "listBudgetPeriods",
            "listBudgets",
            "uploadActuals",
        ]
    );
}
