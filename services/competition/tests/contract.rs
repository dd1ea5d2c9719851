//! The competition service's side of the API contract (issue 13, ADR 0004): timestamps in
//! RFC 3339 with `Z`, keyset pages walked to the end, `ETag`/`If-Match` on what users edit in
//! place, and `Idempotency-Key` on creating requests. Each on SQLite and on PostgreSQL.

mod common;

use chrono::DateTime;
use common::{
    AREA, PROVIDERS, etag, fixture, framework_body, halton, id_of, provider, referral, referred,
    sefton, start,
};
use hub_events::Urgency;
use hub_platform::{Role, directory::NOTTINGHAM};
use hub_testkit::{User, assert_problem, on_both};
use serde_json::{Value, json};

/// Every one of `fields` of `v` is RFC 3339 with the offset `Z`.
#[track_caller]
fn assert_utc(v: &Value, fields: &[&str]) {
    for f in fields {
        let text = v[*f].as_str().unwrap_or_else(|| panic!("{f}: {v}"));
        assert!(text.ends_with('Z'), "{f} = {text}");
        DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{f} = {text}: {e}"));
    }
}

/// A competition, its history, a framework and its set-up round answer RFC 3339 with `Z`.
async fn timestamps_are_rfc_3339_in_utc(url: &str) {
    let app = start(url).await;
    let f = fixture(&app).await;
    let c = referred(&app, &referral(&f, "mini_competition", Urgency::Planned)).await;
    assert_utc(&c, &["created_at", "deadline", "opened_at"]);
    assert_utc(&c["history"][0], &["at"]);
    let (s, fw) = app.frameworks().get(&sefton(&app), &f.framework).await;
    assert_eq!(s, 200, "{fw}");
    assert_utc(&fw, &["created_at"]);
    assert_utc(&fw["admission_rounds"][0], &["opened_at"]);
    assert_utc(&fw["lots"][0]["providers"][0], &["admitted_at"]);
}

/// Five competitions walked two at a time: each seen once, newest first; a cursor that is
/// not one is a 422.
async fn competitions_are_walked_a_page_at_a_time(url: &str) {
    let app = start(url).await;
    let f = fixture(&app).await;
    let mut made = Vec::new();
    for _ in 0..5 {
        let c = referred(&app, &referral(&f, "mini_competition", Urgency::Planned)).await;
        made.push(id_of(&c));
    }
    made.reverse();
    let (competitions, sefton) = (app.competitions(), sefton(&app));
    let (mut seen, mut query, mut pages) = (Vec::new(), "limit=2".to_owned(), 0);
    loop {
        let (s, page) = competitions.list(&sefton, &query).await;
        assert_eq!(s, 200, "{page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2, "{page}");
        seen.extend(items.iter().map(id_of));
        pages += 1;
        match page["next"].as_str() {
            Some(next) => query = format!("limit=2&cursor={next}"),
            None => break,
        }
    }
    assert_eq!((seen, pages), (made, 3));
    assert_problem(
        &competitions.list(&sefton, "cursor=not-a-cursor").await,
        422,
        "validation",
        Some(("cursor", "format")),
    );
    assert_problem(
        &competitions.list(&sefton, "limit=201").await,
        422,
        "validation",
        Some(("limit", "range")),
    );
}

/// Every page of a list `list` answers for `query`, `limit` at a time, walked to its end:
/// the ids seen in order (each page at most `limit` long) and how many pages there were.
async fn walk<F, Fut>(list: F, query: &str, limit: usize) -> (Vec<String>, usize)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = (u16, Value)>,
{
    let (mut seen, mut pages) = (Vec::new(), 0);
    let mut q = format!("{query}&limit={limit}");
    loop {
        let (s, page) = list(q.clone()).await;
        assert_eq!(s, 200, "{page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit, "{page}");
        seen.extend(items.iter().map(id_of));
        pages += 1;
        match page["next"].as_str() {
            Some(next) => q = format!("{query}&limit={limit}&cursor={next}"),
            None => return (seen, pages),
        }
    }
}

/// Five vacancies near the child, two at a time: each once, nearest first as in one page.
async fn vacancies_are_walked_a_page_at_a_time(url: &str) {
    let app = start(url).await;
    let f = fixture(&app).await;
    let sefton = app.user(hub_platform::directory::SEFTON, Role::SocialWorker);
    let near = format!(
        "lot_id={}&latitude={}&longitude={}",
        f.residential, AREA.0, AREA.1
    );
    let (s, whole) = app.vacancies().list(&sefton, &near).await;
    assert_eq!((s, whole["next"].clone()), (200, Value::Null), "{whole}");
    let all: Vec<String> = whole["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(all.len(), 5);
    let (vacancies, who) = (&app.vacancies(), &sefton);
    let walked = walk(
        move |q| async move { vacancies.list(who, &q).await },
        &near,
        2,
    )
    .await;
    assert_eq!(walked, (all, 3));
    assert_problem(
        &vacancies.list(&sefton, &format!("{near}&cursor=e30")).await,
        422,
        "validation",
        Some(("cursor", "format")),
    );
}

/// Three bids, two at a time, newest first, to the council; a bidder sees its own only.
/// The history, oldest first, to the council only.
async fn bids_and_history_are_walked_a_page_at_a_time(url: &str) {
    let app = start(url).await;
    let f = fixture(&app).await;
    let id = id_of(&referred(&app, &referral(&f, "mini_competition", Urgency::Planned)).await);
    let competitions = app.competitions();
    let mut made = Vec::new();
    for p in &PROVIDERS[..3] {
        let body = json!({"weekly_price_pence": p.price, "start_date": "2026-12-01",
                          "home_id": f.homes[p.id]});
        let (s, b) = competitions.bid(&provider(&app, p.id), &id, &body).await;
        assert_eq!(s, 201, "{b}");
        made.push(id_of(&b));
    }
    made.reverse();
    let sefton = sefton(&app);
    let (list, who, c) = (&competitions, &sefton, id.as_str());
    let walked = walk(move |q| async move { list.bids(who, c, &q).await }, "", 2).await;
    assert_eq!(walked, (made.clone(), 2));
    let own: &User = &provider(&app, PROVIDERS[1].id);
    let (_, mine) = competitions.bids(own, &id, "").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(id_of(&mine["items"][0]), made[1]);
    let (_, view) = competitions.get(&sefton, &id).await;
    let history: Vec<String> = view["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    let walked = walk(
        move |q| async move { list.history(who, c, &q).await },
        "",
        1,
    )
    .await;
    assert_eq!(walked, (history.clone(), history.len()));
    assert_problem(
        &competitions.history(own, &id, "").await,
        403,
        "forbidden",
        None,
    );
}

/// A council lists its partnership's frameworks, another partnership's council none; an
/// admitted provider its own, another provider those open for admission.
async fn frameworks_are_listed_to_whom_may_see_them(url: &str) {
    let app = start(url).await;
    let f = fixture(&app).await;
    let frameworks = app.frameworks();
    let ids =
        |v: &Value| -> Vec<String> { v["items"].as_array().unwrap().iter().map(id_of).collect() };
    let (s, mine) = frameworks.list(&sefton(&app), "").await;
    assert_eq!((s, ids(&mine)), (200, vec![f.framework.clone()]), "{mine}");
    let (_, none) = frameworks
        .list(&app.user(NOTTINGHAM, Role::Commissioner), "")
        .await;
    assert_eq!(none["items"], json!([]));
    let (_, admitted) = frameworks
        .list(&provider(&app, "prov-care-assist"), "")
        .await;
    assert_eq!(ids(&admitted), vec![f.framework.clone()]);
    // The set-up round is open: a provider not admitted sees the framework too, until the
    // lead closes it.
    let stranger = provider(&app, "prov-new-to-the-lot");
    let (_, open) = frameworks.list(&stranger, "").await;
    assert_eq!(ids(&open), vec![f.framework.clone()]);
    let (_, fw) = frameworks.get(&halton(&app), &f.framework).await;
    let round = fw["admission_rounds"][0]["id"].as_str().unwrap();
    let (s, _) = frameworks
        .close_round(&halton(&app), &f.framework, round)
        .await;
    assert_eq!(s, 200);
    let (_, closed) = frameworks.list(&stranger, "").await;
    assert_eq!(closed["items"], json!([]));
}

/// A competition's criteria: 428 without If-Match, 412 with a stale one, 200 with the one
/// read (and a new ETag).
async fn criteria_are_changed_on_the_revision_read(url: &str) {
    let app = start(url).await;
    let f = fixture(&app).await;
    let id = id_of(&referred(&app, &referral(&f, "mini_competition", Urgency::Planned)).await);
    let (competitions, sefton) = (app.competitions(), sefton(&app));
    let body = json!({"criteria": [{"criterion": "price", "mode": "scored", "weight": 60},
                                   {"criterion": "quality", "mode": "scored", "weight": 40}]});
    let read = etag(&app, &id).await;
    let none = competitions
        .set_criteria_raw(&sefton, &id, None, &body)
        .await;
    assert_problem(
        &(none.status, none.json()),
        428,
        "precondition-required",
        None,
    );
    let stale = competitions
        .set_criteria_raw(&sefton, &id, Some("\"0\""), &body)
        .await;
    assert_problem(
        &(stale.status, stale.json()),
        412,
        "precondition-failed",
        None,
    );
    let ok = competitions
        .set_criteria_raw(&sefton, &id, Some(&read), &body)
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    let new = ok.header("etag").unwrap().to_owned();
    assert_ne!(new, read);
    assert_eq!(etag(&app, &id).await, new);
    // The tag read before the change is stale now.
    let again = competitions
        .set_criteria_raw(&sefton, &id, Some(&read), &body)
        .await;
    assert_eq!(again.status, 412);
}

/// A vacancy and a home: a stale If-Match is a 412, none a 428, the current one changes it.
async fn homes_and_vacancies_are_changed_on_the_revision_read(url: &str) {
    let app = start(url).await;
    let f = fixture(&app).await;
    let care = provider(&app, "prov-care-assist");
    let (_, mine) = app.vacancies().list(&care, "").await;
    let vid = mine["items"][0]["id"].as_str().unwrap().to_owned();
    let (s, v) = app.vacancies().get(&care, &vid).await;
    assert_eq!(s, 200, "{v}");
    let body = json!({"available_from": v["available_from"], "expires_on": v["expires_on"],
                      "suits": "a boy aged 13 to 16", "places": 2});
    let none = app.vacancies().update_raw(&care, &vid, None, &body).await;
    assert_eq!(none.status, 428, "{}", none.text());
    let read = app.vacancies().etag(&care, &vid).await;
    let (s, updated) = app.vacancies().update(&care, &vid, &read, &body).await;
    assert_eq!((s, updated["places"].as_i64()), (200, Some(2)), "{updated}");
    assert_problem(
        &app.vacancies().update(&care, &vid, &read, &body).await,
        412,
        "precondition-failed",
        None,
    );
    let home = f.homes["prov-care-assist"].as_str();
    let at = (
        f.framework.as_str(),
        f.residential.as_str(),
        "prov-care-assist",
        home,
    );
    let frameworks = app.frameworks();
    let (s, h) = frameworks.home(&care, at.0, at.1, at.2, at.3).await;
    assert_eq!(s, 200, "{h}");
    let mut changed = h.clone();
    for k in ["id", "lot_id", "provider_id", "updated_by", "updated_at"] {
        changed.as_object_mut().unwrap().remove(k);
    }
    changed["occupied_places"] = json!(2);
    let read = frameworks.home_etag(&care, at.0, at.1, at.2, at.3).await;
    let (s, saved) = frameworks.update_home(&care, at, &read, &changed).await;
    assert_eq!(
        (s, saved["occupied_places"].as_i64()),
        (200, Some(2)),
        "{saved}"
    );
    assert_problem(
        &frameworks.update_home(&care, at, &read, &changed).await,
        412,
        "precondition-failed",
        None,
    );
}

/// The same framework sent twice with one key: one framework, the same answer, replayed;
/// the same key with another body is a 422 `reused`.
async fn a_framework_sent_again_with_its_key_is_made_once(url: &str) {
    let app = start(url).await;
    let halton = halton(&app);
    let body = framework_body("LCR PPA", "provider_partner_agreement");
    let first = app.frameworks().create_keyed(&halton, "fw-1", &body).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let again = app.frameworks().create_keyed(&halton, "fw-1", &body).await;
    assert_eq!(
        (
            again.status,
            again.json(),
            again.header("idempotent-replayed")
        ),
        (201, first.json(), Some("true"))
    );
    assert_eq!(
        again.header("location"),
        Some(format!("/v1/frameworks/{}", id_of(&first.json())).as_str())
    );
    let (_, listed) = app.frameworks().list(&halton, "").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    let other = framework_body("Another", "provider_partner_agreement");
    let reused = app.frameworks().create_keyed(&halton, "fw-1", &other).await;
    assert_problem(
        &(reused.status, reused.json()),
        422,
        "validation",
        Some(("Idempotency-Key", "reused")),
    );
}

on_both!(
    timestamps_are_rfc_3339_in_utc,
    timestamps_are_rfc_3339_in_utc_on_sqlite,
    timestamps_are_rfc_3339_in_utc_on_postgres
);
on_both!(
    competitions_are_walked_a_page_at_a_time,
    competitions_are_walked_a_page_at_a_time_on_sqlite,
    competitions_are_walked_a_page_at_a_time_on_postgres
);
on_both!(
    vacancies_are_walked_a_page_at_a_time,
    vacancies_are_walked_a_page_at_a_time_on_sqlite,
    vacancies_are_walked_a_page_at_a_time_on_postgres
);
on_both!(
    bids_and_history_are_walked_a_page_at_a_time,
    bids_and_history_are_walked_a_page_at_a_time_on_sqlite,
    bids_and_history_are_walked_a_page_at_a_time_on_postgres
);
on_both!(
    frameworks_are_listed_to_whom_may_see_them,
    frameworks_are_listed_to_whom_may_see_them_on_sqlite,
    frameworks_are_listed_to_whom_may_see_them_on_postgres
);
on_both!(
    criteria_are_changed_on_the_revision_read,
    criteria_are_changed_on_the_revision_read_on_sqlite,
    criteria_are_changed_on_the_revision_read_on_postgres
);
on_both!(
    homes_and_vacancies_are_changed_on_the_revision_read,
    homes_and_vacancies_are_changed_on_the_revision_read_on_sqlite,
    homes_and_vacancies_are_changed_on_the_revision_read_on_postgres
);
on_both!(
    a_framework_sent_again_with_its_key_is_made_once,
    a_framework_sent_again_with_its_key_is_made_once_on_sqlite,
    a_framework_sent_again_with_its_key_is_made_once_on_postgres
);
