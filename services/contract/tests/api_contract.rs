//! The API contract (issue 13, ADR 0004) as the contract service keeps it, on SQLite and
//! PostgreSQL: timestamps in RFC 3339 with `Z`; lists in pages walked by cursor, each row
//! once, filters holding on every page; in-place edits (an emergency order's timescale, a
//! service contract's pensions, an IPA's draft) only on the revision last read (`ETag` and
//! `If-Match`: 412 stale, 428 absent); creating requests safe to retry (`Idempotency-Key`).

mod common;

use actix_web::test::TestRequest;
use chrono::{DateTime, Days};
use common::{award, id_of, issue, placed, start_clock_off as start, today};
use hub_platform::{
    Role,
    directory::{SEFTON, WIRRAL},
};
use hub_testkit::{RawReply, Reply, TestApp, User, assert_problem, on_both};
use serde_json::{Value, json};

/// A Sefton commissioner.
fn sefton(app: &TestApp) -> User {
    app.user_as("cathy", SEFTON, Role::Commissioner)
}

/// The provider of the orders ([`common::PROVIDER`]).
fn provider(app: &TestApp) -> User {
    app.user_as("pat", common::PROVIDER, Role::Provider)
}

/// `GET path` as `user`, whole (for its headers).
async fn get_raw(app: &TestApp, user: &User, path: &str) -> RawReply {
    app.send_raw(user, TestRequest::get().uri(path)).await
}

/// `PUT path` with `body` and `If-Match: {if_match}` when given, whole.
async fn put_raw(
    app: &TestApp,
    user: &User,
    path: &str,
    if_match: Option<&str>,
    body: &Value,
) -> RawReply {
    let mut req = TestRequest::put().uri(path).set_json(body);
    if let Some(tag) = if_match {
        req = req.insert_header(("if-match", tag));
    }
    app.send_raw(user, req).await
}

/// `POST path` with `body` and `Idempotency-Key: {key}`, whole.
async fn post_keyed(app: &TestApp, user: &User, path: &str, key: &str, body: &Value) -> RawReply {
    let req = TestRequest::post()
        .uri(path)
        .insert_header(("idempotency-key", key))
        .set_json(body);
    app.send_raw(user, req).await
}

fn reply(r: &RawReply) -> Reply {
    (r.status, r.json())
}

fn etag(r: &RawReply) -> String {
    r.header("etag")
        .unwrap_or_else(|| panic!("no ETag: {} {}", r.status, r.text()))
        .to_owned()
}

/// `at` is RFC 3339 with the offset `Z` (UTC), not a local time without an offset.
#[track_caller]
fn assert_utc(at: &Value) {
    let text = at
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {at}"));
    assert!(text.ends_with('Z'), "{text}");
    let parsed = DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(parsed.offset().local_minus_utc(), 0, "{text}");
}

/// A plain service contract (no TUPE staff) AIM's lead commissioner lets; with `tupe_lgps`,
/// one whose pension arrangements are recorded before it goes live.
fn service_contract(tupe_lgps: bool) -> Value {
    json!({
        "partnership": "AIM", "provider_id": "prov-adoption-support",
        "title": "Adoption support services for Adoption in Merseyside",
        "services": ["letterbox"], "value_pence": 24_000_000,
        "start_date": "2018-04-01", "end_date": "2020-03-31",
        "budget_line": "commissioned_adoption_support", "extensions_allowed": 1,
        "tupe_lgps": tupe_lgps
    })
}

async fn timestamps(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let cathy = sefton(&app);
    let placement = placed(&app, today()).await;
    let (s, p) = contracts.placement(&cathy, &placement).await;
    assert_eq!(s, 200, "{p}");
    assert_utc(&p["created_at"]);
    let (_, order) = contracts
        .order(&cathy, p["order_id"].as_str().unwrap())
        .await;
    assert_utc(&order["issued_at"]);
    assert_utc(&order["signed_at"]);
    let (_, page) = contracts.orders(&cathy, "").await;
    assert_utc(&page["items"][0]["issued_at"]);
    let (s, c) = contracts
        .let_service(&cathy, &service_contract(false))
        .await;
    assert_eq!(s, 201, "{c}");
    assert_utc(&c["created_at"]);
    assert_utc(&c["history"][0]["at"]);
    // A plain date stays a date.
    assert_eq!(c["start_date"], "2018-04-01");
}

on_both!(
    timestamps,
    every_timestamp_answered_is_rfc_3339_in_utc_on_sqlite,
    every_timestamp_answered_is_rfc_3339_in_utc_on_postgres
);

/// Walks `list` (a client's list method with its query) page by page with `limit=2`; the
/// items of every page, in order, and how many pages there were.
async fn walk<F, Fut>(filters: &str, list: F) -> (Vec<Value>, usize)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Reply>,
{
    let mut seen = Vec::new();
    let mut query = format!("{filters}&limit=2");
    for pages in 1.. {
        let (s, page) = list(query.clone()).await;
        assert_eq!(s, 200, "{page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2, "{page}");
        seen.extend(items.iter().cloned());
        match page["next"].as_str() {
            Some(next) => query = format!("{filters}&limit=2&cursor={next}"),
            None => return (seen, pages),
        }
    }
    unreachable!()
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(id_of).collect()
}

async fn pages(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let cathy = sefton(&app);
    let mut issued = Vec::new();
    for days in 1..=5 {
        issued.push(id_of(
            &issue(&app, &award(SEFTON, false, today() + Days::new(days))).await,
        ));
    }
    // Another council's order, which Sefton never sees.
    issue(&app, &award(WIRRAL, false, today())).await;

    let (list, cathy) = (&contracts, &cathy);
    // Newest first, every one of Sefton's once, over three pages.
    let (seen, pages) = walk("", |q| async move { list.orders(cathy, &q).await }).await;
    let newest_first: Vec<String> = issued.iter().rev().cloned().collect();
    assert_eq!((ids(&seen), pages), (newest_first.clone(), 3));

    // A filter holds on every page: the provider signs the second and fourth.
    for id in [&issued[1], &issued[3]] {
        assert_eq!(contracts.sign(&provider(&app), id).await.0, 200);
    }
    let (seen, _) = walk(
        "status=issued",
        |q| async move { list.orders(cathy, &q).await },
    )
    .await;
    let still_issued: Vec<String> = [4, 2, 0].iter().map(|i| issued[*i].clone()).collect();
    assert_eq!(ids(&seen), still_issued);

    // A signed order's variations, oldest first (by their number), over two pages.
    for n in 1..=3 {
        let body =
            json!({"what": format!("change {n}"), "why": "needs", "effective_from": "2027-01-15"});
        let (s, v) = contracts.vary_order(cathy, &issued[1], &body).await;
        assert_eq!(s, 201, "{v}");
    }
    let varied = issued[1].as_str();
    let (seen, pages) = walk("", |q| async move {
        list.order_variations(cathy, varied, &q).await
    })
    .await;
    let seqs: Vec<i64> = seen.iter().map(|v| v["seq"].as_i64().unwrap()).collect();
    assert_eq!((seqs, pages), (vec![1, 2, 3], 2));

    // A cursor the list did not give, and limits out of range, are refused.
    assert_problem(
        &contracts.orders(cathy, "cursor=not-a-cursor").await,
        422,
        "validation",
        Some(("cursor", "format")),
    );
    for limit in ["0", "201", "ten"] {
        assert_problem(
            &contracts.orders(cathy, &format!("limit={limit}")).await,
            422,
            "validation",
            Some(("limit", "range")),
        );
    }
    let (_, first) = contracts.orders(cathy, "limit=5").await;
    assert_eq!(
        (first["items"].as_array().unwrap().len(), &first["next"]),
        (5, &Value::Null)
    );
}

on_both!(
    pages,
    a_cursor_walk_sees_every_row_once_in_order_on_sqlite,
    a_cursor_walk_sees_every_row_once_in_order_on_postgres
);

/// The checks every in-place edit makes: 428 without `If-Match`, 412 on a stale one,
/// success on the current one (a new `ETag`, which `GET read` answers too), then the old
/// one is stale; `*` overwrites.
async fn edit_on_revision(app: &TestApp, user: &User, read: &str, edit: &str, body: &Value) {
    let first = etag(&get_raw(app, user, read).await);
    assert_problem(
        &reply(&put_raw(app, user, edit, None, body).await),
        428,
        "precondition-required",
        None,
    );
    assert_problem(
        &reply(&put_raw(app, user, edit, Some("\"999\""), body).await),
        412,
        "precondition-failed",
        None,
    );
    let done = put_raw(app, user, edit, Some(&first), body).await;
    assert_eq!(done.status, 200, "{}", done.text());
    let second = etag(&done);
    assert_ne!(second, first);
    assert_eq!(etag(&get_raw(app, user, read).await), second);
    assert_problem(
        &reply(&put_raw(app, user, edit, Some(&first), body).await),
        412,
        "precondition-failed",
        None,
    );
    let any = put_raw(app, user, edit, Some("*"), body).await;
    assert_eq!(any.status, 200, "{}", any.text());
}

async fn revisions(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let cathy = sefton(&app);

    // An emergency order's timescale; signing it raises its revision too.
    let order = id_of(&issue(&app, &award(SEFTON, true, today())).await);
    let agreed = json!({"due_by": today().to_string(), "agreed_with": "registered manager"});
    let read = format!("/v1/orders/{order}");
    edit_on_revision(&app, &cathy, &read, &format!("{read}/timescale"), &agreed).await;
    let before = etag(&get_raw(&app, &cathy, &read).await);
    assert_eq!(contracts.sign(&provider(&app), &order).await.0, 200);
    assert_ne!(etag(&get_raw(&app, &cathy, &read).await), before);

    // A service contract's pension arrangements.
    let (s, c) = contracts.let_service(&cathy, &service_contract(true)).await;
    assert_eq!(s, 201, "{c}");
    let read = format!("/v1/contracts/services/{}", id_of(&c));
    let pensions = json!({"admission_agreement": "signed", "admission_agreement_signed_on": "2018-03-20",
        "bond": "in_progress"});
    edit_on_revision(&app, &cathy, &read, &format!("{read}/pensions"), &pensions).await;

    // An IPA's draft, until the provider signs it.
    let placement = placed(&app, today()).await;
    let sam = app.user_as("sam", SEFTON, Role::SocialWorker);
    let (s, ipa) = contracts
        .draft_ipa(
            &sam,
            &placement,
            &json!({"contact_arrangements": "Fortnightly"}),
        )
        .await;
    assert_eq!(s, 201, "{ipa}");
    let read = format!("/v1/placements/{placement}/ipa");
    let edited = json!({"contact_arrangements": "Weekly, and by video on Sundays"});
    edit_on_revision(&app, &sam, &read, &format!("{read}/versions/1"), &edited).await;
    let (_, ipa) = contracts.ipa(&sam, &placement).await;
    assert_eq!(
        (
            ipa["versions"].as_array().unwrap().len(),
            &ipa["versions"][0]["contact_arrangements"]
        ),
        (1, &edited["contact_arrangements"])
    );
    assert_eq!(
        contracts.sign_ipa(&provider(&app), &placement, 1).await.0,
        200
    );
    assert_problem(
        &contracts.edit_ipa(&sam, &placement, 1, &edited).await,
        409,
        "ipa-not-draft",
        None,
    );
}

on_both!(
    revisions,
    in_place_edits_need_the_revision_last_read_on_sqlite,
    in_place_edits_need_the_revision_last_read_on_postgres
);

/// `POST path` with `body` twice with one key: one effect, the first answer twice (the
/// second marked replayed); the key with another body is a 422 `reused`. The answer.
async fn once(app: &TestApp, user: &User, path: &str, body: &Value, other: &Value) -> Value {
    let key = format!("retry-{}", uuid::Uuid::now_v7());
    let first = post_keyed(app, user, path, &key, body).await;
    assert!(matches!(first.status, 200 | 201), "{}", first.text());
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = post_keyed(app, user, path, &key, body).await;
    assert_eq!(
        (again.status, again.json(), again.header("location")),
        (first.status, first.json(), first.header("location"))
    );
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_problem(
        &reply(&post_keyed(app, user, path, &key, other).await),
        422,
        "validation",
        Some(("Idempotency-Key", "reused")),
    );
    first.json()
}

async fn retries(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let cathy = sefton(&app);

    // A placement under a signed order.
    let order = id_of(&issue(&app, &award(SEFTON, false, today())).await);
    assert_eq!(contracts.sign(&provider(&app), &order).await.0, 200);
    let body = json!({"order_id": order});
    let other = json!({"order_id": order, "home_latitude": 53.4, "home_longitude": -2.9});
    once(&app, &cathy, "/v1/placements", &body, &other).await;
    let (_, listed) = contracts.placements(&cathy, "").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");

    // A variation of the order.
    let path = format!("/v1/orders/{order}/variations");
    let body = json!({"what": "extra staffing", "why": "needs", "effective_from": "2027-01-15"});
    let other = json!({"what": "less staffing", "why": "needs", "effective_from": "2027-01-15"});
    once(&app, &cathy, &path, &body, &other).await;
    let (_, listed) = contracts.order_variations(&cathy, &order, "").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");

    // A service contract, and a variation of it (answered with the contract, 200).
    let path = "/v1/contracts/services";
    let c = once(
        &app,
        &cathy,
        path,
        &service_contract(false),
        &service_contract(true),
    )
    .await;
    let (_, listed) = contracts.services(&cathy, "").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    let path = format!("{path}/{}/variations", id_of(&c));
    let body = json!({"effective_on": "2019-01-01", "reason": "demand", "description": "more"});
    let other = json!({"effective_on": "2019-01-01", "reason": "demand", "description": "less"});
    let varied = once(&app, &cathy, &path, &body, &other).await;
    let (_, c) = contracts.service(&cathy, &id_of(&c)).await;
    assert_eq!(c["history"], varied["history"]);
    assert_eq!(
        c["history"].as_array().unwrap().len(),
        2,
        "let, varied once"
    );
}

on_both!(
    retries,
    a_retried_create_makes_one_resource_on_sqlite,
    a_retried_create_makes_one_resource_on_postgres
);

/// Every `$ref` in the service's OpenAPI document names one of its components (renamed
/// components, e.g. `OrderDeclineReason` behind the `DeclineReason` alias, included), and
/// the two variation bodies are told apart.
#[test]
fn the_document_refers_only_to_its_own_components() {
    use utoipa::OpenApi;
    let doc = serde_json::to_value(contract::api::ContractApi::openapi()).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    for r in &found {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
        assert!(schemas.contains_key(name), "{r} is not a component");
    }
    for name in [
        "NewOrderVariation",
        "NewServiceContractVariation",
        "OrderDeclineReason",
        "IpaReviewOutcome",
        "ServiceContractStatus",
    ] {
        assert!(schemas.contains_key(name), "{name}");
    }
    let body = |path: &str| {
        doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .clone()
    };
    assert_eq!(
        body("/v1/orders/{id}/variations"),
        "#/components/schemas/NewOrderVariation"
    );
    assert_eq!(
        body("/v1/contracts/services/{id}/variations"),
        "#/components/schemas/NewServiceContractVariation"
    );
}
