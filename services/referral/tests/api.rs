//! The referral service on its own: the council's placement team works through the HTTP API,
//! and the competition and contract services' events come in on the in-process bus. Runs on
//! SQLite, and on PostgreSQL at `postgres://postgres@127.0.0.1:5432` unless
//! `HUB_TEST_POSTGRES` says otherwise (a URL template with `{service}`); a
//! database per run is created and dropped.

use chrono::{NaiveDate, Utc};
use hub_events::{
    CompetitionAwarded, CompetitionCloseReason, CompetitionClosed, CompetitionOpened, FrameworkLot,
    FrameworkPublished, PlacementStarted, ReferralClosed, ReferralReturnReason, ReferralReturned,
    ReferralSubmitted, ReferralUpdated, ReferralWithdrawn, Urgency,
};
use hub_platform::{
    Role,
    db::Migrations,
    directory::{HALTON, KNOWSLEY, SEFTON},
};
use hub_testkit::{ServiceCtx, call, on_both};
use serde_json::{Value, json};
use uuid::Uuid;

static SETS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &referral::MIGRATIONS];

const CHILD: &str = "Jordan Example-Child";
const DOB: &str = "2012-05-14";
/// The council's words about siblings and contact: the awarded provider's to read only.
const SIBLINGS: &str = "Two sisters, Aoife (9) and Niamh (6), placed together in Crosby";
const CONTACT: &str = "Supervised contact with mum Sinead at the Bootle family centre";

fn document() -> Value {
    json!({
        "child": {"name": CHILD, "date_of_birth": DOB, "gender": "male", "first_language": "English"},
        "legal_status": "s31 care order",
        "placement_type": "residential",
        "urgency": "planned",
        "needs": ["emotional_behavioural"],
        "education": {"school": "Example High", "school_type": "mainstream",
            "school_phase": "secondary", "school_postcode_district": "L21", "ehcp": true,
            "educational_needs": ["SEMH"]},
        "about_me": "Loves football; needs time to trust new adults.",
        "siblings": SIBLINGS,
        "sibling_ages": [9, 6],
        "contact_arrangements": CONTACT,
        "contact": [{"kind": "birth_mother", "frequency": "fortnightly"},
            {"kind": "siblings", "frequency": "monthly"}],
        "location": {"postcode_district": "L20", "latitude": 53.4612, "longitude": -2.9873, "max_distance_miles": 20.0},
        "wanted_start": "2026-12-01"
    })
}

fn new_referral(route: &str, submit: bool) -> Value {
    json!({
        "partnership": "LCR-PPA",
        "framework_id": Uuid::now_v7(),
        "lot_id": Uuid::now_v7(),
        "route": route,
        "route_reason": "planned move; the PPA residential lot has suitable homes",
        "submit": submit,
        "document": document(),
    })
}

fn opened(referral: &str, competition: Uuid, version: u32, invited: &[&str]) -> CompetitionOpened {
    CompetitionOpened {
        competition_id: competition,
        referral_id: referral.parse().unwrap(),
        referral_version: version,
        council: SEFTON.into(),
        framework_id: Uuid::now_v7(),
        lot_id: Uuid::now_v7(),
        lot_name: "Residential".into(),
        urgency: Urgency::Planned,
        deadline: Utc::now() + chrono::Duration::days(3),
        invited: invited.iter().map(|s| (*s).to_owned()).collect(),
        summary: "residential, 11-15, emotional_behavioural".into(),
        referral_path: format!("/v1/referrals/{referral}"),
    }
}

fn closed(referral: &str, competition: Uuid) -> CompetitionClosed {
    CompetitionClosed {
        competition_id: competition,
        referral_id: referral.parse().unwrap(),
        council: SEFTON.into(),
        reason: CompetitionCloseReason::NoAcceptableBid,
        provider_message: None,
        invited: vec!["prov-a".into(), "prov-b".into()],
    }
}

fn awarded(referral: &str, competition: Uuid, provider: &str, direct: bool) -> CompetitionAwarded {
    CompetitionAwarded {
        competition_id: competition,
        referral_id: referral.parse().unwrap(),
        council: SEFTON.into(),
        framework_id: Uuid::now_v7(),
        lot_id: Uuid::now_v7(),
        provider_id: provider.into(),
        bid_id: (!direct).then(Uuid::now_v7),
        weekly_rate_pence: 450_000,
        start_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        unsuccessful: vec![],
        awarded_by: "user-of-E08000014".into(),
        direct,
        outcomes: vec![],
    }
}

fn problem_type(body: &Value) -> &str {
    body["type"].as_str().unwrap_or_default()
}

/// Draft → submitted → in competition → (new version) → competition closed → re-routed (new
/// version, resubmitted) → in competition again → awarded → placed → closed; who sees which
/// version on the way, and every read logged.
async fn lifecycle_and_versions(url: &str) {
    let ctx = ServiceCtx::start(url, referral::NAME, &SETS, referral::start).await;
    let app = ctx.app().await;
    let sefton = ctx.token(SEFTON, Role::Commissioner);
    let (a, c) = (
        ctx.token("prov-a", Role::Provider),
        ctx.token("prov-c", Role::Provider),
    );

    // A draft is edited in place: no new version, no event.
    let (s, r) = call(
        &app,
        "POST",
        "/v1/referrals",
        &sefton,
        Some(new_referral("mini_competition", false)),
    )
    .await;
    assert_eq!(
        (s, r["status"].as_str(), r["version"].as_i64()),
        (201, Some("draft"), Some(1)),
        "{r}"
    );
    let id = r["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/referrals/{id}");
    let mut doc = document();
    doc["about_me"] = json!("Loves football and drawing.");
    let (s, r) = call(&app, "PUT", &path, &sefton, Some(doc.clone())).await;
    assert_eq!((s, r["version"].as_i64()), (200, Some(1)), "{r}");
    assert_eq!(r["document"]["about_me"], "Loves football and drawing.");
    assert!(ctx.outbox().await.is_empty(), "drafts are not announced");

    let (s, r) = call(&app, "POST", &format!("{path}/submit"), &sefton, None).await;
    assert_eq!((s, r["status"].as_str()), (200, Some("submitted")));
    // The same document again is no change.
    let (s, r) = call(&app, "PUT", &path, &sefton, Some(doc.clone())).await;
    assert_eq!((s, r["version"].as_i64()), (200, Some(1)));
    let events = ctx.outbox().await;
    assert_eq!(events.len(), 1);
    let submitted: ReferralSubmitted = events[0].decode().unwrap();
    assert_eq!((submitted.version, submitted.age_years), (1, 14));

    // A mini-competition opens: prov-a and prov-b are invited on version 1.
    let c1 = Uuid::now_v7();
    ctx.publish("competition", &opened(&id, c1, 1, &["prov-a", "prov-b"]))
        .await;
    let (_, r) = call(&app, "GET", &path, &sefton, None).await;
    assert_eq!(r["status"], "in_competition");

    let (s, r) = call(&app, "GET", &path, &a, None).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (
            r["view"].as_str(),
            r["version"].as_i64(),
            r["latest_version"].as_i64()
        ),
        (Some("redacted"), Some(1), Some(1))
    );
    assert_eq!(r["redacted"]["age_years"], 14);
    assert_eq!(r["redacted"]["postcode_district"], "L20");
    assert_eq!(r["redacted"]["about_me"], "Loves football and drawing.");
    assert!(r.get("route_reason").is_none() && r.get("document").is_none());
    let text = r.to_string();
    for leak in [
        CHILD,
        DOB,
        "53.4612",
        "Example High",
        "Aoife",
        "Crosby",
        "Sinead",
        "Bootle",
    ] {
        assert!(
            !text.contains(leak),
            "the redacted view leaks {leak}: {text}"
        );
    }
    // Until award: the school as type, phase and district; siblings as number and ages;
    // contact as kind and frequency.
    assert_eq!(
        r["redacted"]["education"],
        json!({"school_type": "mainstream", "school_phase": "secondary",
            "school_postcode_district": "L21", "ehcp": true, "educational_needs": ["SEMH"]})
    );
    assert_eq!(
        r["redacted"]["siblings"],
        json!({"number": 2, "ages": [9, 6]})
    );
    assert_eq!(
        r["redacted"]["contact"],
        json!([{"kind": "birth_mother", "frequency": "fortnightly"},
            {"kind": "siblings", "frequency": "monthly"}])
    );

    // A provider that was not invited: 404, as if the referral did not exist.
    for p in [
        path.clone(),
        format!("{path}/versions"),
        format!("{path}?version=1"),
    ] {
        let (s, r) = call(&app, "GET", &p, &c, None).await;
        assert_eq!((s, problem_type(&r)), (404, "/problems/not-found"), "{p}");
    }

    // A change after submission is a new version, announced without child data.
    let mut doc2 = doc.clone();
    doc2["urgency"] = json!("urgent");
    doc2["needs"] = json!(["emotional_behavioural", "risk_missing"]);
    let (s, r) = call(&app, "PUT", &path, &sefton, Some(doc2.clone())).await;
    assert_eq!(
        (s, r["version"].as_i64(), r["urgency"].as_str()),
        (200, Some(2), Some("urgent")),
        "{r}"
    );
    let events = ctx.outbox().await;
    assert_eq!(events.len(), 2);
    let updated: ReferralUpdated = events[1].decode().unwrap();
    assert_eq!((updated.version, updated.urgency), (2, Urgency::Urgent));
    assert_eq!(events[1].partnership, "LCR-PPA");
    assert!(!events[1].payload.to_string().contains("Jordan"));

    // The invited provider still sees the version it was invited on, learns of the later
    // one, and may read it; not one that does not exist.
    let (_, r) = call(&app, "GET", &path, &a, None).await;
    assert_eq!(
        (r["version"].as_i64(), r["latest_version"].as_i64()),
        (Some(1), Some(2))
    );
    let (s, r) = call(&app, "GET", &format!("{path}?version=2"), &a, None).await;
    assert_eq!(
        (s, r["version"].as_i64(), r["view"].as_str()),
        (200, Some(2), Some("redacted"))
    );
    assert_eq!(r["redacted"]["urgency"], "urgent");
    assert_eq!(r["redacted"]["needs"][1], "risk_missing");
    let (s, r) = call(&app, "GET", &format!("{path}?version=3"), &a, None).await;
    assert_eq!((s, problem_type(&r)), (404, "/problems/not-found"));
    let (s, r) = call(&app, "GET", &format!("{path}?version=0"), &a, None).await;
    assert_eq!(
        (s, r["errors"][0]["field"].as_str()),
        (422, Some("version"))
    );
    let (s, list) = call(&app, "GET", &format!("{path}/versions"), &a, None).await;
    assert_eq!(s, 200);
    let nums: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(nums, [1, 2]);
    assert!(
        list[0].get("created_by").is_none() && list[0].get("route_reason").is_none(),
        "{list}"
    );
    assert_eq!(list[1]["created_by_org"], SEFTON);
    assert_eq!(list[1]["kind"], "document");

    // The route cannot change while the competition is open.
    let reroute = json!({"route": "preselected_mini_competition", "reason": "no bid from the whole lot; preselect by distance"});
    let (s, r) = call(
        &app,
        "POST",
        &format!("{path}/route"),
        &sefton,
        Some(reroute.clone()),
    )
    .await;
    assert_eq!(
        (s, problem_type(&r)),
        (409, "/problems/referral-in-competition")
    );

    // The competition closes without an award: back to submitted, with the reason.
    ctx.publish("competition", &closed(&id, c1)).await;
    let (_, r) = call(&app, "GET", &path, &sefton, None).await;
    assert_eq!(r["status"], "submitted");
    assert!(
        r["status_reason"]
            .as_str()
            .unwrap()
            .contains("no_acceptable_bid"),
        "{r}"
    );
    let (_, r) = call(&app, "GET", &path, &a, None).await;
    assert!(
        r.get("status_reason").is_none(),
        "the council's reasons are its own"
    );

    // Re-routed: a new version with the route and why, announced and submitted again.
    let (s, r) = call(
        &app,
        "POST",
        &format!("{path}/route"),
        &sefton,
        Some(reroute),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (
            r["version"].as_i64(),
            r["route"].as_str(),
            r["status"].as_str()
        ),
        (
            Some(3),
            Some("preselected_mini_competition"),
            Some("submitted")
        )
    );
    assert_eq!(
        r["route_reason"],
        "no bid from the whole lot; preselect by distance"
    );
    assert_eq!(r["document"]["urgency"], "urgent", "the same document");
    let events = ctx.outbox().await;
    assert_eq!(
        events
            .iter()
            .map(|e| e.event_type.as_str())
            .collect::<Vec<_>>(),
        [
            "referral.submitted",
            "referral.updated",
            "referral.updated",
            "referral.submitted"
        ]
    );
    let again: ReferralSubmitted = events[3].decode().unwrap();
    assert_eq!(
        (again.version, again.route.as_str()),
        (3, "preselected_mini_competition")
    );
    assert_eq!(events[2].decode::<ReferralUpdated>().unwrap().version, 3);
    let (_, list) = call(&app, "GET", &format!("{path}/versions"), &sefton, None).await;
    let kinds: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["kind"].as_str().unwrap(), v["route"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("created", "mini_competition"),
            ("document", "mini_competition"),
            ("route", "preselected_mini_competition")
        ]
    );
    assert_eq!(list[2]["created_by"], "user-of-E08000014");

    // A second competition on version 3 invites prov-a again and prov-c for the first time.
    let c2 = Uuid::now_v7();
    ctx.publish("competition", &opened(&id, c2, 3, &["prov-a", "prov-c"]))
        .await;
    let (_, r) = call(&app, "GET", &path, &c, None).await;
    assert_eq!(
        (r["version"].as_i64(), r["view"].as_str()),
        (Some(3), Some("redacted"))
    );
    let (s, _) = call(&app, "GET", &format!("{path}?version=1"), &c, None).await;
    assert_eq!(s, 404, "nothing from before its invitation");
    let (_, r) = call(&app, "GET", &path, &a, None).await;
    assert_eq!(r["version"], 3, "re-invited on the later version");
    // A late duplicate of the first competition's closing changes nothing.
    ctx.publish("competition", &closed(&id, c1)).await;
    let (_, r) = call(&app, "GET", &path, &sefton, None).await;
    assert_eq!(r["status"], "in_competition");

    // Awarded to prov-c: it reads everything from now on; prov-a stays redacted.
    ctx.publish("competition", &awarded(&id, c2, "prov-c", false))
        .await;
    // The opening of the same competition arriving late (it happened before the award)
    // changes nothing.
    ctx.publish_late(
        "competition",
        &opened(&id, c2, 3, &["prov-a", "prov-c"]),
        60,
    )
    .await;
    let (_, r) = call(&app, "GET", &path, &c, None).await;
    assert_eq!(
        (r["view"].as_str(), r["status"].as_str()),
        (Some("full"), Some("awarded"))
    );
    assert_eq!(r["document"]["child"]["name"], CHILD);
    // After award, the awarded provider reads the council's words in full.
    assert_eq!(
        (
            r["document"]["education"]["school"].as_str(),
            r["document"]["siblings"].as_str(),
            r["document"]["contact_arrangements"].as_str()
        ),
        (Some("Example High"), Some(SIBLINGS), Some(CONTACT))
    );
    assert!(r.get("route_reason").is_none());
    let (s, r) = call(&app, "GET", &format!("{path}?version=1"), &c, None).await;
    assert_eq!((s, r["view"].as_str()), (200, Some("full")));
    let (_, r) = call(&app, "GET", &path, &a, None).await;
    assert_eq!(r["view"], "redacted");

    // Placed: no withdrawing now, but it can be closed.
    ctx.publish(
        "competition",
        &PlacementStarted {
            placement_id: Uuid::now_v7(),
            order_id: Some(Uuid::now_v7()),
            referral_id: id.parse().unwrap(),
            council: SEFTON.into(),
            provider_id: "prov-c".into(),
            weekly_rate_pence: 450_000,
            extras_weekly_pence: 0,
            start_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            block_contract_id: None,
            bed: None,
        },
    )
    .await;
    let (s, r) = call(
        &app,
        "POST",
        &format!("{path}/withdraw"),
        &sefton,
        Some(json!({"reason": "plan_changed"})),
    )
    .await;
    assert_eq!(
        (s, problem_type(&r)),
        (409, "/problems/referral-placed"),
        "{r}"
    );
    let (s, r) = call(
        &app,
        "POST",
        &format!("{path}/close"),
        &sefton,
        Some(json!({"reason": "placement ended"})),
    )
    .await;
    assert_eq!((s, r["status"].as_str()), (200, Some("closed")), "{r}");
    // Announced (so the contract service places nothing more under it), without the words.
    let closed: Vec<ReferralClosed> = ctx.outbox_of().await;
    assert_eq!(
        closed
            .iter()
            .map(|c| (c.referral_id.to_string(), c.council.as_str()))
            .collect::<Vec<_>>(),
        vec![(id.clone(), SEFTON)]
    );
    assert!(
        ctx.outbox()
            .await
            .iter()
            .all(|e| !e.payload.to_string().contains("placement ended"))
    );
    let (s, r) = call(&app, "PUT", &path, &sefton, Some(doc2)).await;
    assert_eq!((s, problem_type(&r)), (409, "/problems/referral-closed"));

    // Every read was logged: who read which version, in which view.
    let (s, reads) = call(&app, "GET", &format!("{path}/reads"), &sefton, None).await;
    assert_eq!(s, 200);
    let of = |org: &str| -> Vec<(i64, String)> {
        reads
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["reader_org"] == org)
            .map(|r| {
                (
                    r["version"].as_i64().unwrap(),
                    r["view"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let red = |v| (v, "redacted".to_owned());
    let full = |v| (v, "full".to_owned());
    assert_eq!(
        of("prov-a"),
        [red(1), red(1), red(2), red(1), red(3), red(3)]
    );
    assert_eq!(
        of("prov-c"),
        [red(3), full(3), full(1)],
        "refused reads are not reads"
    );

    // The history says who moved it, when, and why.
    let (_, h) = call(&app, "GET", &format!("{path}/history"), &sefton, None).await;
    let actions: Vec<(&str, &str)> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["action"].as_str().unwrap(),
                t["to_status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("created", "draft"),
            ("submitted", "submitted"),
            ("competition_opened", "in_competition"),
            ("updated", "in_competition"),
            ("competition_closed", "submitted"),
            ("resubmitted", "submitted"),
            ("competition_opened", "in_competition"),
            ("awarded", "awarded"),
            ("placed", "placed"),
            ("closed", "closed"),
        ]
    );
    assert_eq!(h[5]["actor"], "user-of-E08000014");
    assert!(
        h[5]["detail"]
            .as_str()
            .unwrap()
            .starts_with("mini_competition → preselected_mini_competition")
    );
    for p in [format!("{path}/reads"), format!("{path}/history")] {
        assert_eq!(call(&app, "GET", &p, &a, None).await.0, 404, "{p}");
    }
}

/// Withdrawal, before and after a competition opened, and a direct award.
async fn withdrawals_and_direct_awards(url: &str) {
    let ctx = ServiceCtx::start(url, referral::NAME, &SETS, referral::start).await;
    let app = ctx.app().await;
    let sefton = ctx.token(SEFTON, Role::SocialWorker);

    let (_, r) = call(
        &app,
        "POST",
        "/v1/referrals",
        &sefton,
        Some(new_referral("mini_competition", true)),
    )
    .await;
    let id = r["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/referrals/{id}");
    ctx.publish("competition", &opened(&id, Uuid::now_v7(), 1, &["prov-a"]))
        .await;

    let (s, r) = call(
        &app,
        "POST",
        &format!("{path}/withdraw"),
        &sefton,
        Some(json!({"reason": "other"})),
    )
    .await;
    assert_eq!(
        (
            s,
            r["errors"][0]["field"].as_str(),
            r["errors"][0]["rule"].as_str()
        ),
        (422, Some("/detail"), Some("required"))
    );
    let (s, r) = call(
        &app,
        "POST",
        &format!("{path}/withdraw"),
        &sefton,
        Some(json!({"reason": "gone"})),
    )
    .await;
    assert_eq!((s, r["errors"][0]["rule"].as_str()), (422, Some("one_of")));
    let (s, r) = call(
        &app,
        "POST",
        &format!("{path}/withdraw"),
        &sefton,
        Some(json!({"reason": "returned_home", "detail": "Jordan went home to his grandmother"})),
    )
    .await;
    assert_eq!((s, r["status"].as_str()), (200, Some("withdrawn")), "{r}");
    assert_eq!(
        r["status_reason"],
        "returned_home: Jordan went home to his grandmother"
    );
    let events = ctx.outbox().await;
    let last = events.last().unwrap();
    let w: ReferralWithdrawn = last.decode().unwrap();
    assert_eq!(
        (w.reason.as_str(), w.council.as_str()),
        ("returned_home", SEFTON)
    );
    assert!(
        !last.payload.to_string().contains("grandmother"),
        "the council's words stay here"
    );

    let (s, r) = call(
        &app,
        "POST",
        &format!("{path}/withdraw"),
        &sefton,
        Some(json!({"reason": "duplicate"})),
    )
    .await;
    assert_eq!((s, problem_type(&r)), (409, "/problems/referral-withdrawn"));
    let (s, r) = call(&app, "PUT", &path, &sefton, Some(document())).await;
    assert_eq!((s, problem_type(&r)), (409, "/problems/referral-withdrawn"));
    let (s, r) = call(
        &app,
        "POST",
        &format!("{path}/route"),
        &sefton,
        Some(json!({"route": "spot_purchase", "reason": "x"})),
    )
    .await;
    assert_eq!((s, problem_type(&r)), (409, "/problems/referral-withdrawn"));
    // An award that crosses the withdrawal does not bring it back.
    ctx.publish(
        "competition",
        &awarded(&id, Uuid::now_v7(), "prov-a", false),
    )
    .await;
    let (_, r) = call(&app, "GET", &path, &sefton, None).await;
    assert_eq!(r["status"], "withdrawn");
    // The invited provider still reads what it was invited on, and sees it withdrawn.
    let (s, r) = call(
        &app,
        "GET",
        &path,
        &ctx.token("prov-a", Role::Provider),
        None,
    )
    .await;
    assert_eq!(
        (s, r["status"].as_str(), r["view"].as_str()),
        (200, Some("withdrawn"), Some("redacted"))
    );

    // A draft withdrawn is not announced: nobody else knew of it.
    let before = ctx.outbox().await.len();
    let (_, r) = call(
        &app,
        "POST",
        "/v1/referrals",
        &sefton,
        Some(new_referral("mini_competition", false)),
    )
    .await;
    let draft = r["id"].as_str().unwrap().to_owned();
    let (s, _) = call(
        &app,
        "POST",
        &format!("/v1/referrals/{draft}/withdraw"),
        &sefton,
        Some(json!({"reason": "duplicate"})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(ctx.outbox().await.len(), before);

    // A direct award in an emergency: submitted → awarded without a competition.
    let (_, r) = call(
        &app,
        "POST",
        "/v1/referrals",
        &sefton,
        Some(new_referral("direct_award", true)),
    )
    .await;
    let direct = r["id"].as_str().unwrap().to_owned();
    let dpath = format!("/v1/referrals/{direct}");
    let prov_d = ctx.token("prov-d", Role::Provider);
    assert_eq!(
        call(&app, "GET", &dpath, &prov_d, None).await.0,
        404,
        "not before the award"
    );
    ctx.publish(
        "competition",
        &awarded(&direct, Uuid::now_v7(), "prov-d", true),
    )
    .await;
    let (_, r) = call(&app, "GET", &dpath, &sefton, None).await;
    assert_eq!(r["status"], "awarded");
    let (s, r) = call(&app, "GET", &dpath, &prov_d, None).await;
    assert_eq!((s, r["view"].as_str()), (200, Some("full")));
    let (s, list) = call(&app, "GET", &format!("{dpath}/versions"), &prov_d, None).await;
    assert_eq!((s, list.as_array().map(Vec::len)), (200, Some(1)));
    let (_, h) = call(&app, "GET", &format!("{dpath}/history"), &sefton, None).await;
    assert!(
        h[2]["detail"]
            .as_str()
            .unwrap()
            .starts_with("direct award to prov-d"),
        "{h}"
    );
    // Once awarded the route is not changed here.
    let (s, r) = call(
        &app,
        "POST",
        &format!("{dpath}/route"),
        &sefton,
        Some(json!({"route": "mini_competition", "reason": "review"})),
    )
    .await;
    assert_eq!((s, problem_type(&r)), (409, "/problems/referral-awarded"));
    // The direct award is reviewed and the requirement opened to competition (the same id).
    let d1: Uuid = h[2]["detail"]
        .as_str()
        .unwrap()
        .rsplit('(')
        .next()
        .unwrap()
        .trim_end_matches(')')
        .parse()
        .unwrap();
    ctx.publish("competition", &opened(&direct, d1, 1, &["prov-e"]))
        .await;
    let (_, r) = call(&app, "GET", &dpath, &sefton, None).await;
    assert_eq!(r["status"], "in_competition");
    let (s, r) = call(
        &app,
        "GET",
        &dpath,
        &ctx.token("prov-e", Role::Provider),
        None,
    )
    .await;
    assert_eq!((s, r["view"].as_str()), (200, Some("redacted")));
}

fn framework(partnership: &str, bodies: &[&str], lots: &[Uuid]) -> FrameworkPublished {
    FrameworkPublished {
        framework_id: Uuid::now_v7(),
        partnership: partnership.into(),
        lead_commissioner: HALTON.into(),
        purchasing_bodies: bodies.iter().map(|b| (*b).to_owned()).collect(),
        lots: lots
            .iter()
            .map(|l| FrameworkLot {
                lot_id: *l,
                name: "Residential".into(),
                placement_type: "residential".into(),
            })
            .collect(),
        start_date: NaiveDate::from_ymd_opt(2025, 4, 1).unwrap(),
        end_date: NaiveDate::from_ymd_opt(2029, 3, 31).unwrap(),
    }
}

fn for_framework(fw: &FrameworkPublished, lot: Uuid, submit: bool) -> Value {
    let mut r = new_referral("mini_competition", submit);
    r["framework_id"] = json!(fw.framework_id);
    r["lot_id"] = json!(lot);
    r
}

/// No referral silently goes nowhere: what the replica of the competition service's frameworks
/// can tell is refused at write and at submit (422 naming the field, nothing written); what
/// only the competition service can tell comes back as `competition.referral_returned`, and the
/// council sees the referral `returned` with the reason code, to re-route it.
async fn referrals_that_would_go_nowhere(url: &str) {
    let ctx = ServiceCtx::start(url, referral::NAME, &SETS, referral::start).await;
    let app = ctx.app().await;
    let sefton = ctx.token(SEFTON, Role::Commissioner);
    let knowsley = ctx.token(KNOWSLEY, Role::Commissioner);
    let (lot, other_lot) = (Uuid::now_v7(), Uuid::now_v7());
    let ppa = framework("LCR-PPA", &[SEFTON, HALTON], &[lot]);
    ctx.publish("competition", &ppa).await;
    let aim = framework("AIM", &[SEFTON, KNOWSLEY], &[other_lot]);
    ctx.publish("competition", &aim).await;

    let post = |token: &String, body: Value| {
        let (app, token) = (&app, token.clone());
        async move { call(app, "POST", "/v1/referrals", &token, Some(body)).await }
    };
    let refused = |token: &String, body: Value, field: &'static str, rule: &'static str| {
        let r = post(token, body);
        async move {
            let (s, r) = r.await;
            assert_eq!((s, problem_type(&r)), (422, "/problems/validation"), "{r}");
            assert_eq!(
                (
                    r["errors"][0]["field"].as_str(),
                    r["errors"][0]["rule"].as_str()
                ),
                (Some(field), Some(rule)),
                "{r}"
            );
        }
    };
    // A lot that is not the framework's, even for a draft.
    refused(
        &sefton,
        for_framework(&ppa, other_lot, false),
        "/lot_id",
        "in_framework",
    )
    .await;
    // A framework of another partnership.
    refused(
        &sefton,
        for_framework(&aim, other_lot, true),
        "/framework_id",
        "partnership",
    )
    .await;
    // A council that is not one of the purchasing bodies.
    refused(
        &knowsley,
        for_framework(&ppa, lot, true),
        "/framework_id",
        "purchasing_body",
    )
    .await;
    assert!(
        ctx.outbox().await.is_empty(),
        "nothing written, nothing sent"
    );
    let (_, list) = call(&app, "GET", "/v1/referrals", &sefton, None).await;
    assert_eq!(list.as_array().map(Vec::len), Some(0), "{list}");

    // The right framework and lot: accepted.
    let (s, r) = post(&sefton, for_framework(&ppa, lot, true)).await;
    assert_eq!((s, r["status"].as_str()), (201, Some("submitted")), "{r}");

    // A draft checked again at submit: the framework has since dropped Sefton (an older
    // publication arriving late changes nothing).
    let (s, draft) = post(&sefton, for_framework(&ppa, lot, false)).await;
    assert_eq!(s, 201, "{draft}");
    let mut narrower = ppa.clone();
    narrower.purchasing_bodies = vec![HALTON.into()];
    ctx.publish("competition", &narrower).await;
    ctx.publish_late("competition", &ppa, 60).await;
    let submit = format!("/v1/referrals/{}/submit", draft["id"].as_str().unwrap());
    let (s, r) = call(&app, "POST", &submit, &sefton, None).await;
    assert_eq!(
        (s, r["errors"][0]["field"].as_str()),
        (422, Some("/framework_id")),
        "{r}"
    );
    let (_, r) = call(
        &app,
        "GET",
        &format!("/v1/referrals/{}", draft["id"].as_str().unwrap()),
        &sefton,
        None,
    )
    .await;
    assert_eq!(r["status"], "draft");

    // A framework the replica has not heard of: accepted, and the competition service returns
    // it; the council sees why, and re-routes it to a framework and lot that will take it.
    ctx.publish("competition", &ppa).await;
    let (s, r) = post(&sefton, new_referral("mini_competition", true)).await;
    assert_eq!((s, r["status"].as_str()), (201, Some("submitted")), "{r}");
    let id = r["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/referrals/{id}");
    let returned = ReferralReturned {
        referral_id: id.parse().unwrap(),
        referral_version: 1,
        council: SEFTON.into(),
        reason: ReferralReturnReason::UnknownFramework,
    };
    ctx.publish("competition", &returned).await;
    let (_, r) = call(&app, "GET", &path, &sefton, None).await;
    assert_eq!(
        (r["status"].as_str(), r["status_reason"].as_str()),
        (Some("returned"), Some("unknown_framework")),
        "{r}"
    );
    let (_, listed) = call(&app, "GET", "/v1/referrals?status=returned", &sefton, None).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    let route_to = |lot_id: Uuid| {
        let (app, sefton, path) = (&app, &sefton, &path);
        let body = json!({"route": "mini_competition", "reason": "the PPA residential lot",
            "framework_id": ppa.framework_id, "lot_id": lot_id});
        async move { call(app, "POST", &format!("{path}/route"), sefton, Some(body)).await }
    };
    let (s, r) = route_to(other_lot).await;
    assert_eq!(
        (s, r["errors"][0]["field"].as_str()),
        (422, Some("/lot_id")),
        "{r}"
    );
    let (s, r) = route_to(lot).await;
    assert_eq!(
        (s, r["status"].as_str(), r["version"].as_i64()),
        (200, Some("submitted"), Some(2)),
        "{r}"
    );
    let resubmitted = ctx.outbox_of::<ReferralSubmitted>().await;
    let last = resubmitted.last().unwrap();
    assert_eq!(
        (last.framework_id, last.lot_id, last.version),
        (ppa.framework_id, lot, 2)
    );
    // The return of version 1 arriving again changes nothing now.
    ctx.publish("competition", &returned).await;
    let (_, r) = call(&app, "GET", &path, &sefton, None).await;
    assert_eq!(r["status"], "submitted");
}

/// The council's list, and every refusal: wrong role 403, another organisation's id 404, bad
/// input 422.
async fn lists_and_refusals(url: &str) {
    let ctx = ServiceCtx::start(url, referral::NAME, &SETS, referral::start).await;
    let app = ctx.app().await;
    let sefton = ctx.token(SEFTON, Role::Commissioner);
    let knowsley = ctx.token(KNOWSLEY, Role::SocialWorker);

    let mut ids = Vec::new();
    for (token, submit) in [
        (&sefton, false),
        (&sefton, true),
        (&knowsley, true),
        (&sefton, true),
    ] {
        let (s, r) = call(
            &app,
            "POST",
            "/v1/referrals",
            token,
            Some(new_referral("mini_competition", submit)),
        )
        .await;
        assert_eq!(s, 201, "{r}");
        ids.push(r["id"].as_str().unwrap().to_owned());
    }
    let (s, list) = call(&app, "GET", "/v1/referrals", &sefton, None).await;
    assert_eq!(s, 200);
    let got: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        [ids[3].as_str(), ids[1].as_str(), ids[0].as_str()],
        "the council's own, newest first"
    );
    let text = list.to_string();
    assert!(
        !text.contains(CHILD) && !text.contains(DOB) && !text.contains("document"),
        "{text}"
    );
    let (_, list) = call(&app, "GET", "/v1/referrals?status=draft", &sefton, None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], ids[0].as_str());
    let (_, list) = call(
        &app,
        "GET",
        "/v1/referrals?status=submitted&limit=1",
        &sefton,
        None,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], ids[3].as_str());
    let (_, list) = call(&app, "GET", "/v1/referrals", &knowsley, None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    for q in ["status=open", "limit=0", "limit=201", "limit=x"] {
        let (s, r) = call(&app, "GET", &format!("/v1/referrals?{q}"), &sefton, None).await;
        assert_eq!((s, problem_type(&r)), (422, "/problems/validation"), "{q}");
    }
    for (org, role) in [("prov-a", Role::Provider), (SEFTON, Role::Finance)] {
        let (s, r) = call(&app, "GET", "/v1/referrals", &ctx.token(org, role), None).await;
        assert_eq!(
            (s, problem_type(&r)),
            (403, "/problems/forbidden"),
            "{org} {role:?}"
        );
    }

    // Another council's referral: 404 for every verb.
    let path = format!("/v1/referrals/{}", ids[1]);
    let reroute = json!({"route": "spot_purchase", "reason": "no framework provider"});
    for (method, p, body) in [
        ("GET", path.clone(), None),
        ("PUT", path.clone(), Some(document())),
        ("POST", format!("{path}/submit"), None),
        (
            "POST",
            format!("{path}/withdraw"),
            Some(json!({"reason": "duplicate"})),
        ),
        ("POST", format!("{path}/route"), Some(reroute.clone())),
        (
            "POST",
            format!("{path}/close"),
            Some(json!({"reason": "x"})),
        ),
        ("GET", format!("{path}/versions"), None),
        ("GET", format!("{path}/reads"), None),
        ("GET", format!("{path}/history"), None),
    ] {
        let (s, r) = call(&app, method, &p, &knowsley, body).await;
        assert_eq!(
            (s, problem_type(&r)),
            (404, "/problems/not-found"),
            "{method} {p}"
        );
    }
    // The wrong role: 403 whatever the id.
    for (org, role) in [(SEFTON, Role::Finance), ("prov-a", Role::Provider)] {
        let t = ctx.token(org, role);
        for (method, p, body) in [
            ("PUT", path.clone(), Some(document())),
            (
                "POST",
                format!("{path}/withdraw"),
                Some(json!({"reason": "duplicate"})),
            ),
            ("POST", format!("{path}/route"), Some(reroute.clone())),
            (
                "POST",
                format!("{path}/close"),
                Some(json!({"reason": "x"})),
            ),
        ] {
            let (s, r) = call(&app, method, &p, &t, body).await;
            assert_eq!(
                (s, problem_type(&r)),
                (403, "/problems/forbidden"),
                "{org} {method} {p}"
            );
        }
    }
    // Sefton's finance team does not read children's referrals.
    assert_eq!(
        call(&app, "GET", &path, &ctx.token(SEFTON, Role::Finance), None)
            .await
            .0,
        404
    );

    // Bad documents are refused whole, naming the field and the rule.
    let mut bad = document();
    bad["nickname"] = json!("J");
    let (s, r) = call(&app, "PUT", &path, &sefton, Some(bad)).await;
    assert_eq!(
        (
            s,
            r["errors"][0]["field"].as_str(),
            r["errors"][0]["rule"].as_str()
        ),
        (422, Some("/nickname"), Some("unknown_field"))
    );
    let mut bad = document();
    bad["needs"] = json!(["flying"]);
    bad["child"]["name"] = json!(" ");
    let (s, r) = call(&app, "PUT", &path, &sefton, Some(bad)).await;
    let fields: Vec<&str> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!((s, fields), (422, vec!["/child/name", "/needs/0"]));
    // The structured fields an invited provider reads are checked too: a full postcode is not
    // a district, and contact is a kind and a frequency, not words.
    let mut bad = document();
    bad["education"]["school_postcode_district"] = json!("L21 4PQ");
    let (s, r) = call(&app, "PUT", &path, &sefton, Some(bad)).await;
    assert_eq!(
        (s, r["errors"][0]["field"].as_str()),
        (422, Some("/education/school_postcode_district")),
        "{r}"
    );
    let mut bad = document();
    bad["contact"] = json!([{"kind": "mum Sinead", "frequency": "weekly"}]);
    let (s, r) = call(&app, "PUT", &path, &sefton, Some(bad)).await;
    assert_eq!(
        (s, r["errors"][0]["field"].as_str()),
        (422, Some("/contact/0/kind")),
        "{r}"
    );
    let (s, r) = call(
        &app,
        "POST",
        &format!("{path}/route"),
        &sefton,
        Some(json!({"route": "spot_purchase", "reason": " "})),
    )
    .await;
    assert_eq!(
        (s, r["errors"][0]["field"].as_str()),
        (422, Some("/reason"))
    );
    let (s, r) = call(
        &app,
        "POST",
        &format!("{path}/route"),
        &sefton,
        Some(json!({"route": "anywhere", "reason": "x"})),
    )
    .await;
    assert_eq!((s, r["errors"][0]["field"].as_str()), (422, Some("/route")));
    let (_, r) = call(&app, "GET", &path, &sefton, None).await;
    assert_eq!(r["version"], 1, "nothing half-written");
    let (s, r) = call(
        &app,
        "POST",
        &format!("{path}/close"),
        &sefton,
        Some(json!({"reason": "done"})),
    )
    .await;
    assert_eq!(
        (s, problem_type(&r)),
        (409, "/problems/referral-not-placed")
    );
    let (s, r) = call(&app, "POST", &format!("{path}/submit"), &sefton, None).await;
    assert_eq!((s, problem_type(&r)), (409, "/problems/referral-not-draft"));

    // A draft's route changes in place.
    let draft = format!("/v1/referrals/{}", ids[0]);
    let (s, r) = call(
        &app,
        "POST",
        &format!("{draft}/route"),
        &sefton,
        Some(reroute),
    )
    .await;
    assert_eq!(
        (s, r["version"].as_i64(), r["route"].as_str()),
        (200, Some(1), Some("spot_purchase"))
    );
    let (_, v) = call(&app, "GET", &format!("{draft}/versions"), &sefton, None).await;
    assert_eq!(
        (v[0]["route"].as_str(), v[0]["route_reason"].as_str()),
        (Some("spot_purchase"), Some("no framework provider"))
    );
}

on_both!(
    lifecycle_and_versions,
    lifecycle_and_versions_on_sqlite,
    lifecycle_and_versions_on_postgres
);
on_both!(
    withdrawals_and_direct_awards,
    withdrawals_and_direct_awards_on_sqlite,
    withdrawals_and_direct_awards_on_postgres
);
on_both!(
    lists_and_refusals,
    lists_and_refusals_on_sqlite,
    lists_and_refusals_on_postgres
);

/// A placement that started for `referral` in a block bed (no order, no award before it).
fn placed_in_block_bed(referral: &str) -> PlacementStarted {
    PlacementStarted {
        placement_id: Uuid::now_v7(),
        order_id: None,
        referral_id: referral.parse().unwrap(),
        council: SEFTON.into(),
        provider_id: "prov-care-assist".into(),
        weekly_rate_pence: 198_800,
        extras_weekly_pence: 0,
        start_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        block_contract_id: Some(Uuid::now_v7()),
        bed: Some(1),
    }
}

/// Every placement places its referral: a child placed in a block bed on the direct-award,
/// other-purchasing-system or spot-purchase route (never awarded), or while a competition is
/// still open for it, is `placed`; a late close of that competition changes nothing.
async fn every_placement_places_its_referral(url: &str) {
    let ctx = ServiceCtx::start(url, referral::NAME, &SETS, referral::start).await;
    let app = ctx.app().await;
    let sefton = ctx.token(SEFTON, Role::Commissioner);
    let status = |id: String| {
        let (app, sefton) = (&app, &sefton);
        async move {
            let (s, r) = call(app, "GET", &format!("/v1/referrals/{id}"), sefton, None).await;
            assert_eq!(s, 200, "{r}");
            r["status"].as_str().unwrap().to_owned()
        }
    };
    let submit = |route: &'static str| {
        let (app, sefton) = (&app, &sefton);
        async move {
            let (s, r) = call(
                app,
                "POST",
                "/v1/referrals",
                sefton,
                Some(new_referral(route, true)),
            )
            .await;
            assert_eq!((s, r["status"].as_str()), (201, Some("submitted")), "{r}");
            r["id"].as_str().unwrap().to_owned()
        }
    };
    for route in ["direct_award", "other_purchasing_system", "spot_purchase"] {
        let id = submit(route).await;
        ctx.publish("contract", &placed_in_block_bed(&id)).await;
        assert_eq!(status(id.clone()).await, "placed", "route {route}");
        let (_, h) = call(
            &app,
            "GET",
            &format!("/v1/referrals/{id}/history"),
            &sefton,
            None,
        )
        .await;
        assert!(h.to_string().contains("\"placed\""), "{h}");
    }

    // In a competition when the child is placed in a block bed: placed, and the close of
    // that competition arriving afterwards does not put it back to `submitted`.
    let id = submit("mini_competition").await;
    let competition = Uuid::now_v7();
    ctx.publish("competition", &opened(&id, competition, 1, &["prov-a"]))
        .await;
    assert_eq!(status(id.clone()).await, "in_competition");
    ctx.publish("contract", &placed_in_block_bed(&id)).await;
    assert_eq!(status(id.clone()).await, "placed");
    ctx.publish("competition", &closed(&id, competition)).await;
    assert_eq!(status(id.clone()).await, "placed");

    // A withdrawn referral is not placed by a stray event.
    let id = submit("spot_purchase").await;
    let (s, _) = call(
        &app,
        "POST",
        &format!("/v1/referrals/{id}/withdraw"),
        &sefton,
        Some(json!({"reason": "plan_changed"})),
    )
    .await;
    assert_eq!(s, 200);
    ctx.publish("contract", &placed_in_block_bed(&id)).await;
    assert_eq!(status(id).await, "withdrawn");
}

on_both!(
    every_placement_places_its_referral,
    every_placement_places_its_referral_on_sqlite,
    every_placement_places_its_referral_on_postgres
);

on_both!(
    referrals_that_would_go_nowhere,
    referrals_that_would_go_nowhere_on_sqlite,
    referrals_that_would_go_nowhere_on_postgres
);

/// A value stored in a column that its type cannot read (a code no version kind or status
/// has, changed by hand or left by a missing migration) is a 500, never read as some other
/// value (a version of an unknown kind used to be shown as `created`).
async fn unreadable_stored_codes_are_500s(url: &str) {
    let ctx = ServiceCtx::start(url, referral::NAME, &SETS, referral::start).await;
    let app = ctx.app().await;
    let sefton = ctx.token(SEFTON, Role::Commissioner);
    let (s, r) = call(
        &app,
        "POST",
        "/v1/referrals",
        &sefton,
        Some(new_referral("spot_purchase", true)),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    let path = format!("/v1/referrals/{}", r["id"].as_str().unwrap());

    ctx.sql("UPDATE referral_versions SET kind = 'rewritten'")
        .await;
    let (s, r) = call(&app, "GET", &format!("{path}/versions"), &sefton, None).await;
    assert_eq!((s, problem_type(&r)), (500, "/problems/internal"), "{r}");

    ctx.sql("UPDATE referrals SET status = 'open'").await;
    let (s, r) = call(&app, "GET", &path, &sefton, None).await;
    assert_eq!((s, problem_type(&r)), (500, "/problems/internal"), "{r}");
}

on_both!(
    unreadable_stored_codes_are_500s,
    unreadable_stored_codes_are_500s_on_sqlite,
    unreadable_stored_codes_are_500s_on_postgres
);
