//! The API contract (issue 13, ADR 0004) as the referral service keeps it: lists are pages
//! walked with a cursor; an edit names the revision it read (`If-Match`: 412 stale, 428
//! none); a create retried with its `Idempotency-Key` writes once; every time ends in `Z`.

mod common;

use actix_web::test::TestRequest;
use chrono::DateTime;
use common::{document, new_referral, problem_type, start};
use hub_events::ReferralSubmitted;
use hub_platform::{Role, directory::SEFTON};
use hub_testkit::{TestApp, User, on_both};
use serde_json::{Value, json};

/// `n` referrals of Sefton, submitted or drafts; their ids, oldest first.
async fn referrals(app: &TestApp, sefton: &User, n: usize, submit: bool) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let (s, r) = app
            .referrals()
            .create(sefton, &new_referral("spot_purchase", submit))
            .await;
        assert_eq!(s, 201, "{r}");
        ids.push(r["id"].as_str().unwrap().to_owned());
    }
    ids
}

/// Walks the council's list with `query` two at a time, answering every id seen, in order.
async fn walk(app: &TestApp, sefton: &User, query: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("{query}&limit=2&cursor={c}"),
            None => format!("{query}&limit=2"),
        };
        let (s, page) = app.referrals().list(sefton, &q).await;
        assert_eq!(s, 200, "{page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2, "{page}");
        seen.extend(items.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    seen
}

/// Five submitted referrals and a draft, walked two at a time with the status filter: every
/// submitted one exactly once, newest first, and no draft on any page; a cursor this list
/// did not give is a 422.
async fn the_list_is_walked_a_page_at_a_time(url: &str) {
    let app = start(url).await;
    let sefton = app.user(SEFTON, Role::Commissioner);
    let mut submitted = referrals(&app, &sefton, 3, true).await;
    referrals(&app, &sefton, 1, false).await;
    submitted.extend(referrals(&app, &sefton, 2, true).await);
    submitted.reverse();
    assert_eq!(walk(&app, &sefton, "status=submitted").await, submitted);
    assert_eq!(walk(&app, &sefton, "").await.len(), 6, "and all of them");

    for cursor in ["not-a-cursor!", "bm9wZQ"] {
        let (s, r) = app
            .referrals()
            .list(&sefton, &format!("cursor={cursor}"))
            .await;
        assert_eq!(
            (s, r["errors"][0]["field"].as_str()),
            (422, Some("cursor")),
            "{cursor}: {r}"
        );
    }
}

on_both!(
    the_list_is_walked_a_page_at_a_time,
    the_list_is_walked_a_page_at_a_time_on_sqlite,
    the_list_is_walked_a_page_at_a_time_on_postgres
);

/// `PUT /v1/referrals/{id}` with `if_match` (none when `None`), answering the whole response.
async fn put(app: &TestApp, user: &User, id: &str, if_match: Option<&str>, doc: &Value) -> Raw {
    let mut req = TestRequest::put()
        .uri(&format!("/v1/referrals/{id}"))
        .set_json(doc);
    if let Some(tag) = if_match {
        req = req.insert_header(("if-match", tag));
    }
    Raw::of(app.send_raw(user, req).await)
}

/// `POST /v1/referrals/{id}/route` with `if_match` (none when `None`).
async fn route(app: &TestApp, user: &User, id: &str, if_match: Option<&str>) -> Raw {
    let mut req = TestRequest::post()
        .uri(&format!("/v1/referrals/{id}/route"))
        .set_json(json!({"route": "direct_award", "reason": "an emergency now"}));
    if let Some(tag) = if_match {
        req = req.insert_header(("if-match", tag));
    }
    Raw::of(app.send_raw(user, req).await)
}

/// What an edit answered: status, ETag, body.
struct Raw {
    status: u16,
    etag: Option<String>,
    body: Value,
}

impl Raw {
    fn of(r: hub_testkit::RawReply) -> Self {
        Self {
            status: r.status,
            etag: r.header("etag").map(str::to_owned),
            body: r.json(),
        }
    }
}

/// Two edits based on one read: the first wins and answers a new ETag; the second is 412
/// and changes nothing; without If-Match a write is 428. For a draft edited in place and for
/// a submitted referral's new version alike, and for the route.
async fn an_edit_names_the_revision_it_read(url: &str) {
    let app = start(url).await;
    let sefton = app.user(SEFTON, Role::Commissioner);
    for submit in [false, true] {
        let id = &referrals(&app, &sefton, 1, submit).await[0];
        let read = app.referrals().etag(&sefton, id).await;
        let mut mine = document();
        mine["about_me"] = json!("Mine.");
        let mut theirs = document();
        theirs["about_me"] = json!("Theirs.");

        let first = put(&app, &sefton, id, Some(&read), &mine).await;
        assert_eq!(first.status, 200, "{}", first.body);
        let now = first.etag.expect("an edit answers the new ETag");
        assert_ne!(now, read, "the ETag changes with the edit");
        assert_eq!(app.referrals().etag(&sefton, id).await, now);

        let second = put(&app, &sefton, id, Some(&read), &theirs).await;
        assert_eq!(
            (second.status, problem_type(&second.body)),
            (412, "/problems/precondition-failed"),
            "{}",
            second.body
        );
        let blind = put(&app, &sefton, id, None, &theirs).await;
        assert_eq!(
            (blind.status, problem_type(&blind.body)),
            (428, "/problems/precondition-required"),
            "{}",
            blind.body
        );
        let (_, r) = app.referrals().get(&sefton, id).await;
        assert_eq!(r["document"]["about_me"], "Mine.", "the first edit stands");

        let stale = route(&app, &sefton, id, Some(&read)).await;
        assert_eq!(stale.status, 412, "{}", stale.body);
        let blind = route(&app, &sefton, id, None).await;
        assert_eq!(blind.status, 428, "{}", blind.body);
        let routed = route(&app, &sefton, id, Some(&now)).await;
        assert_eq!(
            (routed.status, routed.body["route"].as_str()),
            (200, Some("direct_award")),
            "{}",
            routed.body
        );
        assert_ne!(routed.etag.as_deref(), Some(now.as_str()));
        // `*` overwrites whatever is there, on purpose.
        assert_eq!(put(&app, &sefton, id, Some("*"), &theirs).await.status, 200);
    }
}

on_both!(
    an_edit_names_the_revision_it_read,
    an_edit_names_the_revision_it_read_on_sqlite,
    an_edit_names_the_revision_it_read_on_postgres
);

/// A create sent twice with one key writes one referral and announces it once; the retry
/// gets the first answer again, marked replayed. The same key with another body is a 422.
async fn a_retried_create_writes_once(url: &str) {
    let app = start(url).await;
    let sefton = app.user(SEFTON, Role::SocialWorker);
    let body = new_referral("mini_competition", true);
    let first = app.referrals().create_once(&sefton, "retry-1", &body).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let id = first.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        first.header("location"),
        Some(format!("/v1/referrals/{id}").as_str())
    );
    assert_eq!(first.header("idempotent-replayed"), None);

    let again = app.referrals().create_once(&sefton, "retry-1", &body).await;
    assert_eq!(
        (again.status, again.header("idempotent-replayed")),
        (201, Some("true"))
    );
    assert_eq!(again.json(), first.json(), "the first answer again");
    let (_, list) = app.referrals().list(&sefton, "").await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(app.outbox_of::<ReferralSubmitted>().await.len(), 1);

    let other = new_referral("spot_purchase", true);
    let reused = app
        .referrals()
        .create_once(&sefton, "retry-1", &other)
        .await;
    let problem = reused.json();
    assert_eq!(
        (
            reused.status,
            problem["errors"][0]["field"].as_str(),
            problem["errors"][0]["rule"].as_str()
        ),
        (422, Some("Idempotency-Key"), Some("reused")),
        "{problem}"
    );
    let (_, list) = app.referrals().list(&sefton, "").await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
}

on_both!(
    a_retried_create_writes_once,
    a_retried_create_writes_once_on_sqlite,
    a_retried_create_writes_once_on_postgres
);

/// `value` is an RFC 3339 time with the offset `Z`.
#[track_caller]
fn assert_utc(what: &str, value: &Value) {
    let text = value.as_str().unwrap_or_default();
    assert!(
        text.ends_with('Z') && DateTime::parse_from_rfc3339(text).is_ok(),
        "{what}: {value}"
    );
}

/// Every time the service answers is RFC 3339 in UTC (`…Z`): the referral's, its versions',
/// its reads' and its history's.
async fn every_time_is_rfc3339_in_utc(url: &str) {
    let app = start(url).await;
    let sefton = app.user(SEFTON, Role::Commissioner);
    let id = &referrals(&app, &sefton, 1, true).await[0];
    let referrals = app.referrals();
    let (_, r) = referrals.get(&sefton, id).await;
    for field in ["created_at", "updated_at", "version_created_at"] {
        assert_utc(field, &r[field]);
    }
    let (_, list) = referrals.list(&sefton, "").await;
    assert_utc("list created_at", &list["items"][0]["created_at"]);
    let (_, versions) = referrals.versions(&sefton, id).await;
    assert_utc("version created_at", &versions["items"][0]["created_at"]);
    let (_, reads) = referrals.reads(&sefton, id).await;
    assert_utc("read_at", &reads["items"][0]["read_at"]);
    let (_, history) = referrals.history(&sefton, id).await;
    assert_utc("history at", &history["items"][0]["at"]);
}

on_both!(
    every_time_is_rfc3339_in_utc,
    every_time_is_rfc3339_in_utc_on_sqlite,
    every_time_is_rfc3339_in_utc_on_postgres
);
