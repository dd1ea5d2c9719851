//! The referral service's acceptance journey: the council's placement team works through the
//! HTTP API, and the competition and contract services' events come in on the in-process bus.
//! Draft → submitted → in competition → (new version) → competition closed → re-routed (new
//! version, resubmitted) → in competition again → awarded → placed → closed; who sees which
//! version on the way, and every read logged. The journey stays whole (the reads log and the
//! history at its end are of every step), told in steps, each a function.

mod common;

use chrono::NaiveDate;
use common::{
    CHILD, CONTACT, DOB, SIBLINGS, awarded, closed, document, new_referral, opened, problem_type,
    start,
};
use hub_events::{PlacementStarted, ReferralClosed, ReferralSubmitted, ReferralUpdated, Urgency};
use hub_platform::{Role, directory::SEFTON};
use hub_testkit::{TestApp, User, on_both};
use serde_json::{Value, json};
use uuid::Uuid;

/// The journey's cast: Sefton's commissioner, prov-a (invited to both competitions) and
/// prov-c (invited to the second, and awarded), and the referral.
struct Journey {
    app: TestApp,
    sefton: User,
    a: User,
    c: User,
    id: String,
    /// The first competition.
    c1: Uuid,
}

async fn lifecycle_and_versions(url: &str) {
    let app = start(url).await;
    let sefton = app.user(SEFTON, Role::Commissioner);
    let (a, c) = (
        app.user("prov-a", Role::Provider),
        app.user("prov-c", Role::Provider),
    );
    let mut j = Journey {
        app,
        sefton,
        a,
        c,
        id: String::new(),
        c1: Uuid::nil(),
    };
    let doc = j.draft_edited_then_submitted().await;
    j.invited_providers_read_redacted().await;
    let doc2 = j.a_change_after_submission_is_a_new_version(&doc).await;
    j.invited_provider_reads_later_versions().await;
    j.closed_without_award_then_rerouted().await;
    j.second_competition_awarded().await;
    j.placed_then_closed(doc2).await;
    j.every_read_logged().await;
    j.the_history_says_who_moved_it().await;
}

on_both!(
    lifecycle_and_versions,
    lifecycle_and_versions_on_sqlite,
    lifecycle_and_versions_on_postgres
);

impl Journey {
    /// A draft is edited in place: no new version, no event; submitted, it is announced once.
    async fn draft_edited_then_submitted(&mut self) -> Value {
        let (app, sefton) = (&self.app, &self.sefton);
        let referrals = app.referrals();
        let (s, r) = referrals
            .create(sefton, &new_referral("mini_competition", false))
            .await;
        assert_eq!(
            (s, r["status"].as_str(), r["version"].as_i64()),
            (201, Some("draft"), Some(1)),
            "{r}"
        );
        self.id = r["id"].as_str().unwrap().to_owned();
        let id = &self.id;
        let mut doc = document();
        doc["about_me"] = json!("Loves football and drawing.");
        let tag = referrals.etag(sefton, id).await;
        let (s, r) = referrals.update(sefton, id, &tag, &doc).await;
        assert_eq!((s, r["version"].as_i64()), (200, Some(1)), "{r}");
        assert_eq!(r["document"]["about_me"], "Loves football and drawing.");
        assert!(app.outbox().await.is_empty(), "drafts are not announced");

        let (s, r) = referrals.submit(sefton, id).await;
        assert_eq!((s, r["status"].as_str()), (200, Some("submitted")));
        // The same document again is no change.
        let tag = referrals.etag(sefton, id).await;
        let (s, r) = referrals.update(sefton, id, &tag, &doc).await;
        assert_eq!((s, r["version"].as_i64()), (200, Some(1)));
        let events = app.outbox().await;
        assert_eq!(events.len(), 1);
        let submitted: ReferralSubmitted = events[0].decode().unwrap();
        assert_eq!((submitted.version, submitted.age_years), (1, 14));
        doc
    }

    /// A mini-competition opens: prov-a and prov-b are invited on version 1 and read it
    /// redacted; a provider that was not invited gets 404, as if the referral did not exist.
    async fn invited_providers_read_redacted(&mut self) {
        self.c1 = Uuid::now_v7();
        let (app, id, c1) = (&self.app, &self.id, self.c1);
        let referrals = app.referrals();
        app.publish("competition", &opened(id, c1, 1, &["prov-a", "prov-b"]))
            .await;
        let (_, r) = referrals.get(&self.sefton, id).await;
        assert_eq!(r["status"], "in_competition");

        let (s, r) = referrals.get(&self.a, id).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(
            (
                r["view"].as_str(),
                r["version"].as_i64(),
                r["latest_version"].as_i64()
            ),
            (Some("redacted"), Some(1), Some(1))
        );
        assert_redacted_first_version(&r);

        for (what, (s, r)) in [
            ("the referral", referrals.get(&self.c, id).await),
            ("its versions", referrals.versions(&self.c, id).await),
            ("version 1", referrals.get_version(&self.c, id, 1).await),
        ] {
            assert_eq!(
                (s, problem_type(&r)),
                (404, "/problems/not-found"),
                "{what}"
            );
        }
    }

    /// A change after submission is a new version, announced without child data.
    async fn a_change_after_submission_is_a_new_version(&self, doc: &Value) -> Value {
        let app = &self.app;
        let mut doc2 = doc.clone();
        doc2["urgency"] = json!("urgent");
        doc2["needs"] = json!(["emotional_behavioural", "risk_missing"]);
        let referrals = app.referrals();
        let tag = referrals.etag(&self.sefton, &self.id).await;
        let (s, r) = referrals.update(&self.sefton, &self.id, &tag, &doc2).await;
        assert_eq!(
            (s, r["version"].as_i64(), r["urgency"].as_str()),
            (200, Some(2), Some("urgent")),
            "{r}"
        );
        let events = app.outbox().await;
        assert_eq!(events.len(), 2);
        let updated: ReferralUpdated = events[1].decode().unwrap();
        assert_eq!((updated.version, updated.urgency), (2, Urgency::Urgent));
        assert_eq!(events[1].partnership, "LCR-PPA");
        assert!(!events[1].payload.to_string().contains("Jordan"));
        doc2
    }

    /// The invited provider still sees the version it was invited on, learns of the later
    /// one, and may read it; not one that does not exist.
    async fn invited_provider_reads_later_versions(&self) {
        let (referrals, a, id) = (self.app.referrals(), &self.a, &self.id);
        let (_, r) = referrals.get(a, id).await;
        assert_eq!(
            (r["version"].as_i64(), r["latest_version"].as_i64()),
            (Some(1), Some(2))
        );
        let (s, r) = referrals.get_version(a, id, 2).await;
        assert_eq!(
            (s, r["version"].as_i64(), r["view"].as_str()),
            (200, Some(2), Some("redacted"))
        );
        assert_eq!(r["redacted"]["urgency"], "urgent");
        assert_eq!(r["redacted"]["needs"][1], "risk_missing");
        let (s, r) = referrals.get_version(a, id, 3).await;
        assert_eq!((s, problem_type(&r)), (404, "/problems/not-found"));
        let (s, r) = referrals.get_version(a, id, 0).await;
        assert_eq!(
            (s, r["errors"][0]["field"].as_str()),
            (422, Some("version"))
        );
        let (s, list) = referrals.versions(a, id).await;
        assert_eq!(s, 200);
        let list = &list["items"];
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
    }

    /// The route cannot change while the competition is open; closed without an award, the
    /// referral is back to submitted with the reason (the council's own), and re-routed: a
    /// new version with the route and why, announced and submitted again.
    async fn closed_without_award_then_rerouted(&self) {
        let (app, sefton, id) = (&self.app, &self.sefton, &self.id);
        let referrals = app.referrals();
        let reroute = json!({"route": "preselected_mini_competition", "reason": "no bid from the whole lot; preselect by distance"});
        let tag = referrals.etag(sefton, id).await;
        let (s, r) = referrals.reroute(sefton, id, &tag, &reroute).await;
        assert_eq!(
            (s, problem_type(&r)),
            (409, "/problems/referral-in-competition")
        );

        app.publish("competition", &closed(id, self.c1)).await;
        let (_, r) = referrals.get(sefton, id).await;
        assert_eq!(r["status"], "submitted");
        assert!(
            r["status_reason"]
                .as_str()
                .unwrap()
                .contains("no_acceptable_bid"),
            "{r}"
        );
        let (_, r) = referrals.get(&self.a, id).await;
        assert!(
            r.get("status_reason").is_none(),
            "the council's reasons are its own"
        );

        let tag = referrals.etag(sefton, id).await;
        let (s, r) = referrals.reroute(sefton, id, &tag, &reroute).await;
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
        self.rerouting_announced_and_versioned().await;
    }

    /// The re-routing's events and the versions list after it.
    async fn rerouting_announced_and_versioned(&self) {
        let app = &self.app;
        let events = app.outbox().await;
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
        let (_, list) = app.referrals().versions(&self.sefton, &self.id).await;
        let list = &list["items"];
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
    }

    /// A second competition on version 3 invites prov-a again and prov-c for the first time;
    /// awarded to prov-c, which reads everything from then on, while prov-a stays redacted.
    async fn second_competition_awarded(&self) {
        let (app, id, a, c) = (&self.app, &self.id, &self.a, &self.c);
        let referrals = app.referrals();
        let c2 = Uuid::now_v7();
        app.publish("competition", &opened(id, c2, 3, &["prov-a", "prov-c"]))
            .await;
        let (_, r) = referrals.get(c, id).await;
        assert_eq!(
            (r["version"].as_i64(), r["view"].as_str()),
            (Some(3), Some("redacted"))
        );
        let (s, _) = referrals.get_version(c, id, 1).await;
        assert_eq!(s, 404, "nothing from before its invitation");
        let (_, r) = referrals.get(a, id).await;
        assert_eq!(r["version"], 3, "re-invited on the later version");
        // A late duplicate of the first competition's closing changes nothing.
        app.publish("competition", &closed(id, self.c1)).await;
        let (_, r) = referrals.get(&self.sefton, id).await;
        assert_eq!(r["status"], "in_competition");

        app.publish("competition", &awarded(id, c2, "prov-c", false))
            .await;
        // The opening of the same competition arriving late (it happened before the award)
        // changes nothing.
        app.publish_late("competition", &opened(id, c2, 3, &["prov-a", "prov-c"]), 60)
            .await;
        let (_, r) = referrals.get(c, id).await;
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
        let (s, r) = referrals.get_version(c, id, 1).await;
        assert_eq!((s, r["view"].as_str()), (200, Some("full")));
        let (_, r) = referrals.get(a, id).await;
        assert_eq!(r["view"], "redacted");
    }

    /// Placed: no withdrawing now, but it can be closed, which is announced (so the contract
    /// service places nothing more under it) without the words; nothing changes after.
    async fn placed_then_closed(&self, doc2: Value) {
        let (app, sefton, id) = (&self.app, &self.sefton, &self.id);
        let referrals = app.referrals();
        app.publish(
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
        let (s, r) = referrals
            .withdraw(sefton, id, &json!({"reason": "plan_changed"}))
            .await;
        assert_eq!(
            (s, problem_type(&r)),
            (409, "/problems/referral-placed"),
            "{r}"
        );
        let (s, r) = referrals
            .close(sefton, id, &json!({"reason": "placement ended"}))
            .await;
        assert_eq!((s, r["status"].as_str()), (200, Some("closed")), "{r}");
        let closed: Vec<ReferralClosed> = app.outbox_of().await;
        assert_eq!(
            closed
                .iter()
                .map(|c| (c.referral_id.to_string(), c.council.as_str()))
                .collect::<Vec<_>>(),
            vec![(id.clone(), SEFTON)]
        );
        assert!(
            app.outbox()
                .await
                .iter()
                .all(|e| !e.payload.to_string().contains("placement ended"))
        );
        let tag = referrals.etag(sefton, id).await;
        let (s, r) = referrals.update(sefton, id, &tag, &doc2).await;
        assert_eq!((s, problem_type(&r)), (409, "/problems/referral-closed"));
    }

    /// Every read was logged: who read which version, in which view.
    async fn every_read_logged(&self) {
        let (referrals, sefton, id) = (self.app.referrals(), &self.sefton, &self.id);
        let (s, reads) = referrals.reads(sefton, id).await;
        assert_eq!(
            (s, &reads["next"]),
            (200, &Value::Null),
            "one page holds them all"
        );
        let reads = &reads["items"];
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
    }

    /// The history says who moved it, when, and why; neither it nor the reads log is a
    /// provider's to read.
    async fn the_history_says_who_moved_it(&self) {
        let (referrals, sefton, id) = (self.app.referrals(), &self.sefton, &self.id);
        let (_, h) = referrals.history(sefton, id).await;
        let h = &h["items"];
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
        for (what, (s, _)) in [
            ("reads", referrals.reads(&self.a, id).await),
            ("history", referrals.history(&self.a, id).await),
        ] {
            assert_eq!(s, 404, "{what}");
        }
    }
}

/// The redacted view of version 1: what an invited provider may know, and nothing that names
/// or locates the child. Until award: the school as type, phase and district; siblings as
/// number and ages; contact as kind and frequency.
fn assert_redacted_first_version(r: &Value) {
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
}
