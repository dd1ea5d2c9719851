//! The API contract (issue 13, ADR 0004) on the webhook endpoints: lists are keyset pages,
//! an endpoint's edits need its current `ETag` in `If-Match`, a registration retried with
//! the same `Idempotency-Key` registers one endpoint, and every timestamp answered or sent
//! in a webhook is RFC 3339 with `Z`.

#[macro_use]
mod common;

use std::collections::BTreeSet;

use chrono::DateTime;
use common::{PROVIDER_TYPES, opened, register, run};
use hub_platform::Role;
use hub_testkit::{Receiver, TestApp};
use serde_json::{Value, json};
use uuid::Uuid;

/// Five endpoints walked two at a time: every one exactly once, oldest first, the last page
/// without `next`; a cursor that is none is a 422 on `cursor`; another organisation's
/// cursor shows it nothing of the first's.
async fn endpoints_are_walked_page_by_page(app: TestApp, rx: Receiver) {
    let owner = app.user("prov-a", Role::Provider);
    let mut registered = Vec::new();
    for n in 0..5 {
        let body = json!({"url": rx.url(&format!("h{n}")), "event_types": ["competition.invited"]});
        registered.push(register(&app, &owner, &body).await.id);
    }
    let hooks = app.notifications();
    let (mut seen, mut query, mut pages) = (Vec::new(), "limit=2".to_owned(), 0);
    loop {
        let (s, page) = hooks.list_page(&owner, &query).await;
        assert_eq!(s, 200, "{page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2, "{page}");
        seen.extend(items.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        pages += 1;
        match page["next"].as_str() {
            Some(next) => query = format!("limit=2&cursor={next}"),
            None => break,
        }
    }
    assert_eq!((seen, pages), (registered.clone(), 3));

    let (s, first) = hooks.list_page(&owner, "limit=2").await;
    let next = first["next"].as_str().unwrap();
    let other = app.user("prov-b", Role::Provider);
    assert_eq!(
        hooks
            .list_page(&other, &format!("limit=2&cursor={next}"))
            .await,
        (200, json!({"items": [], "next": null}))
    );
    assert_eq!(s, 200);
    for bad in ["cursor=not-a-cursor", "limit=0", "limit=201"] {
        let (s, p) = hooks.list_page(&owner, bad).await;
        assert_eq!(s, 422, "{bad}: {p}");
    }
    let (_, p) = hooks.list_page(&owner, "cursor=not-a-cursor").await;
    assert_eq!(
        (
            p["errors"][0]["field"].as_str(),
            p["errors"][0]["rule"].as_str()
        ),
        (Some("cursor"), Some("format"))
    );
    // The default page holds them all (50 at most).
    assert_eq!(
        hooks.list(&owner).await.1["items"].as_array().map(Vec::len),
        Some(5)
    );
}

on_both_isolated!(
    run,
    endpoints_are_walked_page_by_page,
    endpoints_are_walked_page_by_page_on_sqlite,
    endpoints_are_walked_page_by_page_on_postgres
);

/// Five deliveries to one endpoint walked two at a time: every one exactly once, newest
/// first, also with the status filter on every page.
async fn deliveries_are_walked_page_by_page(app: TestApp, rx: Receiver) {
    let owner = app.user("prov-a", Role::Provider);
    let hook = register(
        &app,
        &owner,
        &json!({"url": rx.url("h"), "event_types": ["competition.invited"]}),
    )
    .await;
    for _ in 0..5 {
        app.publish(
            "competition",
            &opened(Uuid::now_v7(), Uuid::now_v7(), 1, &["prov-a"]),
        )
        .await;
    }
    rx.wait("h", "competition.invited", 5).await;
    let hooks = app.notifications();
    let all = |query: &'static str| {
        let (hooks, owner, id) = (&hooks, &owner, &hook.id);
        async move {
            let (mut seen, mut q, mut pages) = (Vec::new(), query.to_owned(), 0);
            loop {
                let (s, page) = hooks.deliveries(owner, id, &q).await;
                assert_eq!(s, 200, "{page}");
                let items = page["items"].as_array().unwrap().clone();
                assert!(items.len() <= 2, "{page}");
                seen.extend(items);
                pages += 1;
                match page["next"].as_str() {
                    Some(next) => q = format!("{query}&cursor={next}"),
                    None => break,
                }
            }
            (seen, pages)
        }
    };
    let (walked, pages) = all("limit=2").await;
    let ids: Vec<&str> = walked.iter().map(|d| d["id"].as_str().unwrap()).collect();
    let (_, whole) = hooks.deliveries(&owner, &hook.id, "").await;
    let newest_first: Vec<&str> = whole["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!((ids.len(), pages), (5, 3));
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 5, "each once");
    assert_eq!(ids, newest_first);
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted, "newest (greatest UUIDv7) first");

    let delivered = eventually_delivered(&app, &owner, &hook.id).await;
    let (filtered, _) = all("limit=2&status=delivered").await;
    assert_eq!(filtered.len(), delivered);
    assert!(filtered.iter().all(|d| d["status"] == "delivered"));
    let (none, _) = all("limit=2&status=failed").await;
    assert!(none.is_empty());
    let (s, p) = hooks
        .deliveries(&owner, &hook.id, "cursor=bm90IGEga2V5")
        .await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("cursor")));
}

/// How many of the endpoint's deliveries are delivered, once all five are.
async fn eventually_delivered(app: &TestApp, owner: &hub_testkit::User, id: &str) -> usize {
    hub_testkit::eventually(
        "five delivered",
        std::time::Duration::from_secs(5),
        || async {
            let (_, page) = app
                .notifications()
                .deliveries(owner, id, "status=delivered")
                .await;
            let n = page["items"].as_array().map_or(0, Vec::len);
            (n == 5).then_some(n)
        },
    )
    .await
}

on_both_isolated!(
    run,
    deliveries_are_walked_page_by_page,
    deliveries_are_walked_page_by_page_on_sqlite,
    deliveries_are_walked_page_by_page_on_postgres
);

/// Every edit of an endpoint (change, secret rotation, disable, enable) needs its current
/// `ETag` in `If-Match`: 428 without one, 412 with a stale one (nothing changed), and with
/// the current one it succeeds and answers the new `ETag`. The delivery worker's own
/// changes raise it too, as anyone else's would.
async fn endpoint_edits_need_the_current_etag(app: TestApp, rx: Receiver) {
    let owner = app.user("prov-a", Role::Provider);
    let hook = register(
        &app,
        &owner,
        &json!({"url": rx.url("h"), "event_types": PROVIDER_TYPES}),
    )
    .await;
    let hooks = app.notifications();
    let read = hooks.get_raw(&owner, &hook.id).await;
    assert_eq!(read.status, 200);
    let first = read.header("etag").unwrap().to_owned();
    assert_eq!(first, "\"1\"");

    let change = json!({"description": "bids team"});
    let r = hooks.change_if(&owner, &hook.id, None, &change).await;
    assert_eq!(
        (r.status, r.json()["type"].as_str()),
        (428, Some("/problems/precondition-required"))
    );
    let r = hooks
        .change_if(&owner, &hook.id, Some(&first), &change)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["description"], "bids team");
    let second = r.header("etag").unwrap().to_owned();
    assert_ne!(second, first);
    assert_eq!(
        hooks.etag(&owner, &hook.id).await.as_deref(),
        Some(second.as_str())
    );

    // A second edit based on the first read loses: 412, and the endpoint is as the first
    // edit left it.
    let r = hooks
        .change_if(
            &owner,
            &hook.id,
            Some(&first),
            &json!({"description": "lost"}),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["type"].as_str()),
        (412, Some("/problems/precondition-failed"))
    );
    assert_eq!(
        hooks.get(&owner, &hook.id).await.1["description"],
        "bids team"
    );

    let mut tag = second;
    for action in ["rotate-secret", "disable", "enable"] {
        let r = hooks.act_if(&owner, &hook.id, action, None).await;
        assert_eq!(r.status, 428, "{action}");
        let r = hooks.act_if(&owner, &hook.id, action, Some(&first)).await;
        assert_eq!(r.status, 412, "{action}");
        let r = hooks.act_if(&owner, &hook.id, action, Some(&tag)).await;
        assert_eq!(r.status, 200, "{action}: {}", r.text());
        let next = r.header("etag").unwrap().to_owned();
        assert_ne!(next, tag, "{action}");
        assert_eq!(hooks.etag(&owner, &hook.id).await, Some(next.clone()));
        tag = next;
    }
    assert_eq!(hooks.get(&owner, &hook.id).await.1["enabled"], true);
    // `*` overwrites on purpose; another organisation's endpoint stays 404 whatever is sent.
    let r = hooks.act_if(&owner, &hook.id, "disable", Some("*")).await;
    assert_eq!(
        (r.status, r.json()["enabled"].as_bool()),
        (200, Some(false))
    );
    let other = app.user("prov-b", Role::Provider);
    let r = hooks.act_if(&other, &hook.id, "enable", Some("*")).await;
    assert_eq!(r.status, 404);
}

on_both_isolated!(
    run,
    endpoint_edits_need_the_current_etag,
    endpoint_edits_need_the_current_etag_on_sqlite,
    endpoint_edits_need_the_current_etag_on_postgres
);

/// A registration sent twice with one `Idempotency-Key` registers one endpoint and answers
/// the same (the same id and secret), the second time with `idempotent-replayed: true`; the
/// same key with another body is a 422 `reused`; another organisation's same key is its own.
async fn a_retried_registration_registers_one_endpoint(app: TestApp, rx: Receiver) {
    let owner = app.user("prov-a", Role::Provider);
    let hooks = app.notifications();
    let body = json!({"url": rx.url("h"), "event_types": ["competition.invited"]});
    let first = hooks.register_once(&owner, "reg-1", &body).await;
    assert_eq!(first.status, 201, "{}", first.text());
    assert_eq!(first.header("idempotent-replayed"), None);
    let id = first.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        first.header("location"),
        Some(format!("/v1/webhooks/{id}").as_str())
    );

    let again = hooks.register_once(&owner, "reg-1", &body).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json(), first.json(), "the same endpoint and secret");
    assert_eq!(again.header("location"), first.header("location"));
    let (_, list) = hooks.list(&owner).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");

    let other_body = json!({"url": rx.url("other"), "event_types": ["competition.invited"]});
    let reused = hooks.register_once(&owner, "reg-1", &other_body).await;
    assert_eq!(reused.status, 422, "{}", reused.text());
    assert_eq!(
        (
            reused.json()["errors"][0]["field"].as_str(),
            reused.json()["errors"][0]["rule"].as_str()
        ),
        (Some("Idempotency-Key"), Some("reused"))
    );
    let (_, list) = hooks.list(&owner).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));

    let other = app.user("prov-b", Role::Provider);
    let theirs = hooks.register_once(&other, "reg-1", &body).await;
    assert_eq!(theirs.status, 201);
    assert_ne!(theirs.json()["id"], first.json()["id"]);
}

on_both_isolated!(
    run,
    a_retried_registration_registers_one_endpoint,
    a_retried_registration_registers_one_endpoint_on_sqlite,
    a_retried_registration_registers_one_endpoint_on_postgres
);

/// `at` is RFC 3339 with the offset `Z`.
#[track_caller]
fn assert_utc(what: &str, at: &Value) {
    let text = at.as_str().unwrap_or_else(|| panic!("{what}: {at}"));
    assert!(
        text.ends_with('Z') && DateTime::parse_from_rfc3339(text).is_ok(),
        "{what}: {text}"
    );
}

/// Every timestamp the service answers (endpoints, a rotation, deliveries and their
/// attempts) and every one in a webhook it sends (the envelope's `timestamp`, the data's
/// `deadline`) is RFC 3339 with `Z`.
async fn every_timestamp_is_rfc3339_in_utc(app: TestApp, rx: Receiver) {
    let owner = app.user("prov-a", Role::Provider);
    let hook = register(
        &app,
        &owner,
        &json!({"url": rx.url("h"), "event_types": ["competition.invited"]}),
    )
    .await;
    let hooks = app.notifications();
    app.publish(
        "competition",
        &opened(Uuid::now_v7(), Uuid::now_v7(), 1, &["prov-a"]),
    )
    .await;
    let got = rx.wait("h", "competition.invited", 1).await;
    let sent = got[0].json();
    assert_utc("webhook timestamp", &sent["timestamp"]);
    assert_utc("webhook deadline", &sent["data"]["deadline"]);

    let (_, rotated) = hooks.rotate_secret(&owner, &hook.id).await;
    assert_utc(
        "previous_secret_valid_until",
        &rotated["previous_secret_valid_until"],
    );
    let (_, off) = hooks.disable(&owner, &hook.id).await;
    assert_utc("created_at", &off["created_at"]);
    assert_utc("disabled_at", &off["disabled_at"]);
    let (_, list) = hooks.list(&owner).await;
    assert_utc("listed created_at", &list["items"][0]["created_at"]);

    let log = hub_testkit::eventually("delivered", std::time::Duration::from_secs(5), || async {
        let (_, log) = hooks.deliveries(&owner, &hook.id, "status=delivered").await;
        log["items"][0].is_object().then_some(log)
    })
    .await;
    let d = &log["items"][0];
    assert_utc("delivery created_at", &d["created_at"]);
    assert_utc("delivered_at", &d["delivered_at"]);
    assert_utc("attempt at", &d["attempt_log"][0]["at"]);
    assert_utc("payload timestamp", &d["payload"]["timestamp"]);
}

on_both_isolated!(
    run,
    every_timestamp_is_rfc3339_in_utc,
    every_timestamp_is_rfc3339_in_utc_on_sqlite,
    every_timestamp_is_rfc3339_in_utc_on_postgres
);
