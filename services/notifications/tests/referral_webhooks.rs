//! Providers follow the referrals they are invited to: organisations register endpoints
//! through the HTTP API, the competition and referral services' events come in on the
//! in-process bus, and the webhooks go out to a real HTTP receiver on 127.0.0.1. Runs on
//! SQLite, and on PostgreSQL at `postgres://postgres@127.0.0.1:5432` (or the
//! `HUB_TEST_POSTGRES` URL template with `{service}`); a database per run is created and
//! dropped.

#[macro_use]
mod common;

use std::collections::HashMap;

use chrono::Utc;
use common::{PROVIDER_TYPES, Signed, award, opened, register, run, updated};
use hub_events::{BiddingClosed, CompetitionCloseReason, CompetitionClosed};
use hub_platform::{Role, directory::SEFTON};
use hub_testkit::{Receiver, TestApp};
use serde_json::{Value, json};
use uuid::Uuid;

/// Each audience subscribes to its own event types only: a provider not to a council's, a
/// council not to a provider's.
async fn each_audience_subscribes_to_its_own_event_types(app: TestApp, rx: Receiver) {
    four_providers(&app, &rx).await;
    let hooks = app.notifications();
    let (s, r) = hooks
        .register(
            &app.user("prov-a", Role::Provider),
            &json!({"url": rx.url("x"), "event_types": ["competition.invited", "vacancy.offered"]}),
        )
        .await;
    assert_eq!(
        (
            s,
            r["errors"][0]["field"].as_str(),
            r["errors"][0]["rule"].as_str()
        ),
        (422, Some("/event_types/1"), Some("audience"))
    );
    let (s, r) = hooks
        .register(
            &app.user(SEFTON, Role::Commissioner),
            &json!({"url": rx.url("x"), "event_types": ["referral.updated"]}),
        )
        .await;
    assert_eq!(
        (s, r["errors"][0]["rule"].as_str()),
        (422, Some("audience"))
    );
}

on_both_isolated!(
    run,
    each_audience_subscribes_to_its_own_event_types,
    each_audience_subscribes_to_its_own_event_types_on_sqlite,
    each_audience_subscribes_to_its_own_event_types_on_postgres
);

/// Endpoints of prov-a, prov-b, prov-c and prov-d, for every provider event type.
async fn four_providers(app: &TestApp, rx: &Receiver) -> HashMap<&'static str, common::Hook> {
    let mut hooks = HashMap::new();
    for p in ["prov-a", "prov-b", "prov-c", "prov-d"] {
        let body = json!({"url": rx.url(p), "event_types": PROVIDER_TYPES});
        hooks.insert(p, register(app, &app.user(p, Role::Provider), &body).await);
    }
    hooks
}

/// The journey's cast: four providers' endpoints (every provider event type), the referral
/// and its first competition.
struct Journey {
    app: TestApp,
    rx: Receiver,
    hooks: HashMap<&'static str, common::Hook>,
    referral: Uuid,
    c1: Uuid,
}

/// Invited providers hear of a referral's later versions while its competition is open, the
/// winner after the award, nobody after a close; the unsuccessful hear why; the closed are
/// told the reason; a direct award's winner hears too. A journey (what each provider got in
/// all is checked at its end), told in steps.
async fn providers_follow_their_referrals(app: TestApp, rx: Receiver) {
    let hooks = four_providers(&app, &rx).await;
    let j = Journey {
        app,
        rx,
        hooks,
        referral: Uuid::now_v7(),
        c1: Uuid::now_v7(),
    };
    j.invited_hear_of_later_versions().await;
    j.bidding_closed_early().await;
    j.closed_without_award().await;
    let c2 = j.reopened_to_others().await;
    j.awarded_with_reasons_for_the_unsuccessful(c2).await;
    j.after_the_award_only_the_winner_hears().await;
    j.deliveries_logged_as_received().await;
}

on_both_isolated!(
    run,
    providers_follow_their_referrals,
    providers_follow_their_referrals_on_sqlite,
    providers_follow_their_referrals_on_postgres
);

impl Journey {
    /// The competition opens to prov-a, prov-b and prov-c; version 2 while it is open: the
    /// three invited hear of it, nobody else.
    async fn invited_hear_of_later_versions(&self) {
        let (app, rx, referral, c1) = (&self.app, &self.rx, self.referral, self.c1);
        app.publish(
            "competition",
            &opened(referral, c1, 1, &["prov-a", "prov-b", "prov-c"]),
        )
        .await;
        for p in ["prov-a", "prov-b", "prov-c"] {
            rx.wait(p, "competition.invited", 1).await;
        }
        app.publish("referral", &updated(referral, 2)).await;
        for p in ["prov-a", "prov-b", "prov-c"] {
            let got = rx.wait(p, "referral.updated", 1).await;
            assert!(got[0].verifies(&self.hooks[p].secret), "signed for {p}");
            let d = &got[0].json()["data"];
            assert_eq!(
                d["referral_url"],
                format!("https://hub.example/v1/referrals/{referral}?version=2")
            );
            assert_eq!(
                (d["version"].as_u64(), d["invited_version"].as_u64()),
                (Some(2), Some(1))
            );
            assert_eq!(
                (d["lot_name"].as_str(), d["urgency"].as_str()),
                (Some("Residential"), Some("urgent"))
            );
            assert_eq!(d["competition_id"], c1.to_string());
        }
        assert!(rx.of("prov-d", "referral.updated").is_empty());
    }

    /// The commissioner closes bidding early: every invited provider is told the reason code
    /// and the deadline it had been given; nobody else.
    async fn bidding_closed_early(&self) {
        let (app, rx, c1) = (&self.app, &self.rx, self.c1);
        let deadline: chrono::DateTime<Utc> = "2026-12-07T12:00:00Z".parse().unwrap();
        app.publish(
            "competition",
            &BiddingClosed {
                competition_id: c1,
                referral_id: self.referral,
                council: SEFTON.into(),
                reason: "placement_needed_sooner".into(),
                deadline,
                closed_at: Utc::now(),
                invited: vec!["prov-a".into(), "prov-b".into(), "prov-c".into()],
            },
        )
        .await;
        for p in ["prov-a", "prov-b", "prov-c"] {
            let got = rx.wait(p, "competition.bidding_closed", 1).await;
            assert!(got[0].verifies(&self.hooks[p].secret));
            let d = &got[0].json()["data"];
            assert_eq!(
                (d["reason"].as_str(), d["competition_id"].as_str()),
                (
                    Some("placement_needed_sooner"),
                    Some(c1.to_string().as_str())
                )
            );
            assert_eq!(d["deadline"], "2026-12-07T12:00:00Z");
        }
        assert!(rx.of("prov-d", "competition.bidding_closed").is_empty());
    }

    /// Closed without an award: every invited provider is told why; later versions reach
    /// nobody.
    async fn closed_without_award(&self) {
        let (app, rx) = (&self.app, &self.rx);
        app.publish(
            "competition",
            &CompetitionClosed {
                competition_id: self.c1,
                referral_id: self.referral,
                council: SEFTON.into(),
                reason: CompetitionCloseReason::NoAcceptableBid,
                provider_message: Some("No bid met the location criterion.".into()),
                invited: vec!["prov-a".into(), "prov-b".into(), "prov-c".into()],
            },
        )
        .await;
        for p in ["prov-a", "prov-b", "prov-c"] {
            let got = rx.wait(p, "competition.closed", 1).await;
            assert!(got[0].verifies(&self.hooks[p].secret));
            let d = &got[0].json()["data"];
            assert_eq!(d["reason"], "no_acceptable_bid");
            assert_eq!(d["provider_message"], "No bid met the location criterion.");
            assert_eq!(d["lot_name"], "Residential");
        }
        app.publish("referral", &updated(self.referral, 3)).await;
    }

    /// Re-routed and reopened on version 4 to prov-a and prov-d: version 4 is no news to
    /// them, version 5 is.
    async fn reopened_to_others(&self) -> Uuid {
        let (app, rx, referral) = (&self.app, &self.rx, self.referral);
        let c2 = Uuid::now_v7();
        app.publish(
            "competition",
            &opened(referral, c2, 4, &["prov-a", "prov-d"]),
        )
        .await;
        app.publish("referral", &updated(referral, 4)).await;
        app.publish("referral", &updated(referral, 5)).await;
        for p in ["prov-a", "prov-d"] {
            let got = rx
                .wait(p, "referral.updated", if p == "prov-a" { 2 } else { 1 })
                .await;
            let last = got.last().unwrap().json();
            assert_eq!(
                (
                    last["data"]["version"].as_u64(),
                    last["data"]["invited_version"].as_u64()
                ),
                (Some(5), Some(4))
            );
        }
        c2
    }

    /// Competition `c2` awarded to prov-d: it is told; prov-a is told why not, with its scores beside the
    /// winner's, its own price and the winner's name; not the winner's price.
    async fn awarded_with_reasons_for_the_unsuccessful(&self, c2: Uuid) {
        let rx = &self.rx;
        self.app
            .publish(
                "competition",
                &award(self.referral, c2, "prov-d", &["prov-a"], false),
            )
            .await;
        let won = rx.wait("prov-d", "competition.awarded", 1).await;
        assert!(won[0].verifies(&self.hooks["prov-d"].secret));
        assert_eq!(won[0].json()["data"]["direct"], false);
        let lost = rx.wait("prov-a", "competition.unsuccessful", 1).await;
        assert!(lost[0].verifies(&self.hooks["prov-a"].secret));
        let d = lost[0].json()["data"].clone();
        assert_eq!(
            (d["total"].as_u64(), d["winner_total"].as_u64()),
            (Some(6_900), Some(8_250))
        );
        let lines: Vec<(String, Option<u64>, Option<u64>)> = d["scores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["criterion"].as_str().unwrap().to_owned(),
                    s["score"].as_u64(),
                    s["winner_score"].as_u64(),
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                ("quality".to_owned(), None, None),
                ("price".to_owned(), Some(3_900), Some(5_000)),
                ("location".to_owned(), Some(3_000), Some(2_250)),
                ("best_match".to_owned(), Some(0), Some(1_000)),
            ]
        );
        assert_eq!(d["scores"][0]["passed"], true);
        assert_eq!(d["reasons"].as_array().unwrap().len(), 2);
        assert_eq!(d["weekly_price_pence"], 380_000);
        assert_eq!(
            (d["winner_provider_id"].as_str(), d["winner_name"].as_str()),
            (Some("prov-d"), Some("prov-d Homes"))
        );
        let text = d.to_string();
        assert!(!text.contains("450000"), "{text}");
    }

    /// After the award only the winner hears of new versions; a direct award's winner is
    /// told, and hears of later versions.
    async fn after_the_award_only_the_winner_hears(&self) {
        let (app, rx) = (&self.app, &self.rx);
        app.publish("referral", &updated(self.referral, 6)).await;
        let got = rx.wait("prov-d", "referral.updated", 2).await;
        assert_eq!(got[1].json()["data"]["version"], 6);

        let r2 = Uuid::now_v7();
        app.publish(
            "competition",
            &award(r2, Uuid::now_v7(), "prov-b", &[], true),
        )
        .await;
        let won = rx.wait("prov-b", "competition.awarded", 1).await;
        assert_eq!(won[0].json()["data"]["direct"], true);
        app.publish("referral", &updated(r2, 2)).await;
        let got = rx.wait("prov-b", "referral.updated", 2).await;
        let d = &got[1].json()["data"];
        assert_eq!(
            (d["referral_id"].as_str(), d["version"].as_u64()),
            (Some(r2.to_string().as_str()), Some(2))
        );
        assert_eq!(d["invited_version"], Value::Null);
    }

    /// What each provider got, in all: the delivery logs agree with the receiver.
    async fn deliveries_logged_as_received(&self) {
        let expect = [
            (
                "prov-a",
                vec![
                    ("competition.invited", 2),
                    ("referral.updated", 2),
                    ("competition.bidding_closed", 1),
                    ("competition.closed", 1),
                    ("competition.unsuccessful", 1),
                ],
            ),
            (
                "prov-b",
                vec![
                    ("competition.invited", 1),
                    ("referral.updated", 2),
                    ("competition.bidding_closed", 1),
                    ("competition.closed", 1),
                    ("competition.awarded", 1),
                ],
            ),
            (
                "prov-c",
                vec![
                    ("competition.invited", 1),
                    ("referral.updated", 1),
                    ("competition.bidding_closed", 1),
                    ("competition.closed", 1),
                ],
            ),
            (
                "prov-d",
                vec![
                    ("competition.invited", 1),
                    ("referral.updated", 2),
                    ("competition.awarded", 1),
                ],
            ),
        ];
        for (p, counts) in expect {
            let hook = &self.hooks[p];
            let (s, log) = self
                .app
                .notifications()
                .deliveries(&hook.owner, &hook.id, "")
                .await;
            assert_eq!(s, 200);
            let mut got: HashMap<String, usize> = HashMap::new();
            for d in log["items"].as_array().unwrap() {
                *got.entry(d["event_type"].as_str().unwrap().to_owned())
                    .or_default() += 1;
            }
            let want: HashMap<String, usize> =
                counts.iter().map(|(t, n)| ((*t).to_owned(), *n)).collect();
            assert_eq!(got, want, "{p}");
        }
    }
}

/// A competition reopened under its id takes its invitees back into the referral's audience;
/// an event arriving late (older than the one that set the competition's state) does not
/// change it.
async fn reopened_competitions_and_late_events(app: TestApp, rx: Receiver) {
    let mut hooks = HashMap::new();
    for p in ["prov-a", "prov-b"] {
        let body = json!({"url": rx.url(p), "event_types": PROVIDER_TYPES});
        hooks.insert(p, register(&app, &app.user(p, Role::Provider), &body).await);
    }
    let updates = |p: &'static str| updated_versions(&app, &hooks[p]);
    let (referral, c1) = (Uuid::now_v7(), Uuid::now_v7());
    app.publish("competition", &opened(referral, c1, 1, &["prov-a"]))
        .await;
    app.publish(
        "competition",
        &CompetitionClosed {
            competition_id: c1,
            referral_id: referral,
            council: SEFTON.into(),
            reason: CompetitionCloseReason::NoAcceptableBid,
            provider_message: None,
            invited: vec!["prov-a".into()],
        },
    )
    .await;
    app.publish("referral", &updated(referral, 2)).await;
    assert_eq!(updates("prov-a").await, Vec::<u64>::new(), "closed: nobody");
    // Reopened on version 2 with prov-b added.
    app.publish(
        "competition",
        &opened(referral, c1, 2, &["prov-a", "prov-b"]),
    )
    .await;
    app.publish("referral", &updated(referral, 3)).await;
    assert_eq!(updates("prov-a").await, [3]);
    assert_eq!(updates("prov-b").await, [3]);
    // Awarded to prov-b; the first opening, redelivered late, does not reopen it.
    app.publish(
        "competition",
        &award(referral, c1, "prov-b", &["prov-a"], false),
    )
    .await;
    app.publish_late("competition", &opened(referral, c1, 1, &["prov-a"]), 60)
        .await;
    app.publish("referral", &updated(referral, 4)).await;
    assert_eq!(updates("prov-a").await, [3]);
    assert_eq!(updates("prov-b").await, [3, 4]);
    let got = rx.wait("prov-b", "referral.updated", 2).await;
    assert!(
        got.iter()
            .any(|r| r.json()["data"]["lot_name"] == "Residential")
    );
}

on_both_isolated!(
    run,
    reopened_competitions_and_late_events,
    reopened_competitions_and_late_events_on_sqlite,
    reopened_competitions_and_late_events_on_postgres
);

/// The versions of `referral.updated` logged for `hook`'s endpoint, in order.
async fn updated_versions(app: &TestApp, hook: &common::Hook) -> Vec<u64> {
    let (_, log) = app
        .notifications()
        .deliveries(&hook.owner, &hook.id, "")
        .await;
    let mut v: Vec<u64> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["event_type"] == "referral.updated")
        .map(|d| d["payload"]["data"]["version"].as_u64().unwrap())
        .collect();
    v.sort_unstable();
    v
}
