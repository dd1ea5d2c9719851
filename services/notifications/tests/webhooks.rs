//! The notifications service on its own: organisations register endpoints through the HTTP
//! API, the competition and referral services' events come in on the in-process bus, and the
//! webhooks go out to a real HTTP receiver on 127.0.0.1. Runs on SQLite, and on PostgreSQL at
//! `postgres://postgres@127.0.0.1:5432` (or the `HUB_TEST_POSTGRES` URL template with
//! `{service}`); a database per run is created and dropped.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use chrono::{NaiveDate, Utc};
use hub_events::{
    BedOffered, BedVoid, BidOutcome, BiddingClosed, CompetitionAwarded, CompetitionClosed,
    CompetitionOpened, CriterionScore, Envelope, IpaReviewDue, OrderIssued, OrderOverdue,
    PlacementEnded, ReferralUpdated, ServiceContractExpiring, Urgency, VacancyPublished,
};
use hub_platform::{
    Role, Settings,
    db::Migrations,
    directory::{DERBY, HALTON, KNOWSLEY, LIVERPOOL, SEFTON, WIRRAL},
};
use hub_testkit::{
    Backend, PARTNERSHIP, Received, Receiver, ServiceCtx, call, eventually, isolated,
};
use serde_json::{Value, json};
use uuid::Uuid;

static SETS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &notifications::MIGRATIONS];

// ---------------------------------------------------------------------------------------
// Harness

/// Settings with fast webhook retries and short timeouts.
fn settings() -> Settings {
    Settings::load_with(&[
        ("webhooks.initial_backoff_ms", "100"),
        ("webhooks.max_backoff_ms", "1000"),
        ("webhooks.timeout_ms", "2000"),
        ("webhooks.concurrency", "8"),
        ("server.public_url", "https://hub.example"),
        // The tests' receivers are plain http on 127.0.0.1: the development setting.
        ("webhooks.allow_http_loopback", "true"),
    ])
    .unwrap()
}

/// Runs `scenario` with the service (the bus retrying as configured) on a fresh database of
/// `backend` and a receiver answering 204, in a runtime of its own that stops (with the
/// delivery worker in it) before the database is dropped.
fn run<F, Fut>(backend: Backend, scenario: F)
where
    F: FnOnce(ServiceCtx, Receiver) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    isolated(backend, notifications::NAME, &SETS, |store| async move {
        let ctx = ServiceCtx::builder(notifications::NAME)
            .settings(settings())
            .bus_retries(true)
            .start_on(store, notifications::start)
            .await;
        scenario(ctx, Receiver::accepting().await).await;
    });
}

/// Installs the platform's telemetry once per test process (W3C propagation and spans, as
/// `hub serve` does at start-up), so trace context is carried exactly as in production.
fn init_telemetry() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let settings = Settings::load_with(&[("telemetry.log_filter", "warn")]).unwrap();
        std::mem::forget(
            hub_platform::telemetry::init("notifications-test", &settings.telemetry).unwrap(),
        );
    });
}

/// An endpoint as registered: its id and secret.
struct Hook {
    id: String,
    secret: String,
}

/// A webhook's signature checks out with `secret`.
trait Signed {
    fn verifies(&self, secret: &str) -> bool;
}

impl Signed for Received {
    fn verifies(&self, secret: &str) -> bool {
        let h = |k: &str| self.headers.get(k).cloned().unwrap_or_default();
        notifications::domain::verify(
            secret,
            &h("webhook-id"),
            h("webhook-timestamp").parse().unwrap_or(0),
            &self.body,
            &h("webhook-signature"),
            Utc::now().timestamp(),
        )
        .is_ok()
    }
}

// ---------------------------------------------------------------------------------------
// Events

const PROVIDER_TYPES: [&str; 6] = [
    "competition.invited",
    "referral.updated",
    "competition.awarded",
    "competition.unsuccessful",
    "competition.closed",
    "competition.bidding_closed",
];

fn opened(referral: Uuid, competition: Uuid, version: u32, invited: &[&str]) -> CompetitionOpened {
    CompetitionOpened {
        competition_id: competition,
        referral_id: referral,
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

fn updated(referral: Uuid, version: u32) -> ReferralUpdated {
    ReferralUpdated {
        referral_id: referral,
        version,
        council: SEFTON.into(),
        urgency: Urgency::Urgent,
        needs: vec!["emotional_behavioural".into(), "risk_missing".into()],
    }
}

fn award(
    referral: Uuid,
    competition: Uuid,
    winner: &str,
    losers: &[&str],
    direct: bool,
) -> CompetitionAwarded {
    let score = |criterion: &str, weight, score, winner_score| CriterionScore {
        criterion: criterion.into(),
        weight,
        passed: None,
        score: Some(score),
        winner_score: Some(winner_score),
    };
    CompetitionAwarded {
        competition_id: competition,
        referral_id: referral,
        council: SEFTON.into(),
        framework_id: Uuid::now_v7(),
        lot_id: Uuid::now_v7(),
        provider_id: winner.into(),
        bid_id: (!direct).then(Uuid::now_v7),
        weekly_rate_pence: 450_000,
        start_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        unsuccessful: losers.iter().map(|s| (*s).to_owned()).collect(),
        awarded_by: "user-of-E08000014".into(),
        direct,
        outcomes: losers
            .iter()
            .map(|p| BidOutcome {
                provider_id: (*p).to_owned(),
                total: Some(6_900),
                winner_total: Some(8_250),
                scores: vec![
                    CriterionScore {
                        criterion: "quality".into(),
                        weight: 0,
                        passed: Some(true),
                        score: None,
                        winner_score: None,
                    },
                    score("price", 50, 3_900, 5_000),
                    score("location", 30, 3_000, 2_250),
                    score("best_match", 20, 0, 1_000),
                ],
                reasons: vec![
                    "the winning bid's price was lower".into(),
                    "best match: the home has no experience of going-missing risks".into(),
                ],
                weekly_price_pence: Some(380_000),
                winner_name: Some(format!("{winner} Homes")),
            })
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------
// Scenarios

/// Invited providers hear of a referral's later versions while its competition is open, the
/// winner after the award, nobody after a close; the unsuccessful hear why; the closed are
/// told the reason; a direct award's winner hears too.
async fn providers_follow_their_referrals(ctx: ServiceCtx, rx: Receiver) {
    let app = ctx.app().await;
    let mut hooks = HashMap::new();
    for p in ["prov-a", "prov-b", "prov-c", "prov-d"] {
        let (s, r) = call(
            &app,
            "POST",
            "/v1/webhooks",
            &ctx.token(p, Role::Provider),
            Some(json!({"url": rx.url(p), "event_types": PROVIDER_TYPES})),
        )
        .await;
        assert_eq!(s, 201, "{r}");
        hooks.insert(
            p,
            Hook {
                id: r["id"].as_str().unwrap().to_owned(),
                secret: r["secret"].as_str().unwrap().to_owned(),
            },
        );
    }
    // Each audience subscribes to its own event types only.
    let (s, r) = call(
        &app,
        "POST",
        "/v1/webhooks",
        &ctx.token("prov-a", Role::Provider),
        Some(
            json!({"url": rx.url("x"), "event_types": ["competition.invited", "vacancy.offered"]}),
        ),
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
    let (s, r) = call(
        &app,
        "POST",
        "/v1/webhooks",
        &ctx.token(SEFTON, Role::Commissioner),
        Some(json!({"url": rx.url("x"), "event_types": ["referral.updated"]})),
    )
    .await;
    assert_eq!(
        (s, r["errors"][0]["rule"].as_str()),
        (422, Some("audience"))
    );

    let referral = Uuid::now_v7();
    let c1 = Uuid::now_v7();
    ctx.publish(
        "competition",
        &opened(referral, c1, 1, &["prov-a", "prov-b", "prov-c"]),
    )
    .await;
    for p in ["prov-a", "prov-b", "prov-c"] {
        rx.wait(p, "competition.invited", 1).await;
    }

    // Version 2 while the competition is open: the three invited hear of it, nobody else.
    ctx.publish("referral", &updated(referral, 2)).await;
    for p in ["prov-a", "prov-b", "prov-c"] {
        let got = rx.wait(p, "referral.updated", 1).await;
        assert!(got[0].verifies(&hooks[p].secret), "signed for {p}");
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

    // The commissioner closes bidding early: every invited provider is told the reason code
    // and the deadline it had been given; nobody else.
    let deadline: chrono::DateTime<Utc> = "2026-12-07T12:00:00Z".parse().unwrap();
    ctx.publish(
        "competition",
        &BiddingClosed {
            competition_id: c1,
            referral_id: referral,
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
        assert!(got[0].verifies(&hooks[p].secret));
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

    // Closed without an award: every invited provider is told why; later versions reach nobody.
    ctx.publish(
        "competition",
        &CompetitionClosed {
            competition_id: c1,
            referral_id: referral,
            council: SEFTON.into(),
            reason: "no bid met the location criterion".into(),
            invited: vec!["prov-a".into(), "prov-b".into(), "prov-c".into()],
        },
    )
    .await;
    for p in ["prov-a", "prov-b", "prov-c"] {
        let got = rx.wait(p, "competition.closed", 1).await;
        assert!(got[0].verifies(&hooks[p].secret));
        let d = &got[0].json()["data"];
        assert_eq!(d["reason"], "no bid met the location criterion");
        assert_eq!(d["lot_name"], "Residential");
    }
    ctx.publish("referral", &updated(referral, 3)).await;

    // Re-routed and reopened on version 4 to prov-a and prov-d: version 4 is no news to them,
    // version 5 is.
    let c2 = Uuid::now_v7();
    ctx.publish(
        "competition",
        &opened(referral, c2, 4, &["prov-a", "prov-d"]),
    )
    .await;
    ctx.publish("referral", &updated(referral, 4)).await;
    ctx.publish("referral", &updated(referral, 5)).await;
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

    // Awarded to prov-d: it is told; prov-a is told why not, with its scores beside the winner's.
    ctx.publish(
        "competition",
        &award(referral, c2, "prov-d", &["prov-a"], false),
    )
    .await;
    let won = rx.wait("prov-d", "competition.awarded", 1).await;
    assert!(won[0].verifies(&hooks["prov-d"].secret));
    assert_eq!(won[0].json()["data"]["direct"], false);
    let lost = rx.wait("prov-a", "competition.unsuccessful", 1).await;
    assert!(lost[0].verifies(&hooks["prov-a"].secret));
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
    // Its own price and the winner's name; not the winner's price.
    assert_eq!(d["weekly_price_pence"], 380_000);
    assert_eq!(
        (d["winner_provider_id"].as_str(), d["winner_name"].as_str()),
        (Some("prov-d"), Some("prov-d Homes"))
    );
    let text = d.to_string();
    assert!(!text.contains("450000"), "{text}");

    // After the award only the winner hears of new versions.
    ctx.publish("referral", &updated(referral, 6)).await;
    let got = rx.wait("prov-d", "referral.updated", 2).await;
    assert_eq!(got[1].json()["data"]["version"], 6);

    // A direct award: the winner is told, and hears of later versions.
    let r2 = Uuid::now_v7();
    ctx.publish(
        "competition",
        &award(r2, Uuid::now_v7(), "prov-b", &[], true),
    )
    .await;
    let won = rx.wait("prov-b", "competition.awarded", 1).await;
    assert_eq!(won[0].json()["data"]["direct"], true);
    ctx.publish("referral", &updated(r2, 2)).await;
    let got = rx.wait("prov-b", "referral.updated", 2).await;
    let d = &got[1].json()["data"];
    assert_eq!(
        (d["referral_id"].as_str(), d["version"].as_u64()),
        (Some(r2.to_string().as_str()), Some(2))
    );
    assert_eq!(d["invited_version"], Value::Null);

    // What each provider got, in all: the delivery logs agree with the receiver.
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
        let (s, log) = call(
            &app,
            "GET",
            &format!("/v1/webhooks/{}/deliveries", hooks[p].id),
            &ctx.token(p, Role::Provider),
            None,
        )
        .await;
        assert_eq!(s, 200);
        let mut got: HashMap<String, usize> = HashMap::new();
        for d in log.as_array().unwrap() {
            *got.entry(d["event_type"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        let want: HashMap<String, usize> =
            counts.iter().map(|(t, n)| ((*t).to_owned(), *n)).collect();
        assert_eq!(got, want, "{p}");
    }
}

/// A competition reopened under its id takes its invitees back into the referral's audience;
/// an event arriving late (older than the one that set the competition's state) does not
/// change it.
async fn reopened_competitions_and_late_events(ctx: ServiceCtx, rx: Receiver) {
    let app = ctx.app().await;
    let mut ids = HashMap::new();
    for p in ["prov-a", "prov-b"] {
        let (_, r) = call(
            &app,
            "POST",
            "/v1/webhooks",
            &ctx.token(p, Role::Provider),
            Some(json!({"url": rx.url(p), "event_types": PROVIDER_TYPES})),
        )
        .await;
        ids.insert(p, r["id"].as_str().unwrap().to_owned());
    }
    let updates = |p: &'static str| {
        let (app, id, token) = (&app, ids[p].clone(), ctx.token(p, Role::Provider));
        async move {
            let (_, log) = call(
                app,
                "GET",
                &format!("/v1/webhooks/{id}/deliveries"),
                &token,
                None,
            )
            .await;
            let mut v: Vec<u64> = log
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["event_type"] == "referral.updated")
                .map(|d| d["payload"]["data"]["version"].as_u64().unwrap())
                .collect();
            v.sort_unstable();
            v
        }
    };
    let (referral, c1) = (Uuid::now_v7(), Uuid::now_v7());
    ctx.publish("competition", &opened(referral, c1, 1, &["prov-a"]))
        .await;
    ctx.publish(
        "competition",
        &CompetitionClosed {
            competition_id: c1,
            referral_id: referral,
            council: SEFTON.into(),
            reason: "no acceptable bid".into(),
            invited: vec!["prov-a".into()],
        },
    )
    .await;
    ctx.publish("referral", &updated(referral, 2)).await;
    assert_eq!(updates("prov-a").await, Vec::<u64>::new(), "closed: nobody");
    // Reopened on version 2 with prov-b added.
    ctx.publish(
        "competition",
        &opened(referral, c1, 2, &["prov-a", "prov-b"]),
    )
    .await;
    ctx.publish("referral", &updated(referral, 3)).await;
    assert_eq!(updates("prov-a").await, [3]);
    assert_eq!(updates("prov-b").await, [3]);
    // Awarded to prov-b; the first opening, redelivered late, does not reopen it.
    ctx.publish(
        "competition",
        &award(referral, c1, "prov-b", &["prov-a"], false),
    )
    .await;
    ctx.publish_late("competition", &opened(referral, c1, 1, &["prov-a"]), 60)
        .await;
    ctx.publish("referral", &updated(referral, 4)).await;
    assert_eq!(updates("prov-a").await, [3]);
    assert_eq!(updates("prov-b").await, [3, 4]);
    let got = rx.wait("prov-b", "referral.updated", 2).await;
    assert!(
        got.iter()
            .any(|r| r.json()["data"]["lot_name"] == "Residential")
    );
}

/// A council's offered vacancy reaches the other councils of the partnerships it belongs to,
/// through their own endpoints; endpoints can be changed.
async fn councils_hear_of_offered_vacancies(ctx: ServiceCtx, rx: Receiver) {
    let app = ctx.app().await;
    let mut hooks = HashMap::new();
    for council in [LIVERPOOL, HALTON, WIRRAL, KNOWSLEY, DERBY, SEFTON] {
        let token = ctx.token(council, Role::Commissioner);
        let (s, r) = call(
            &app,
            "POST",
            "/v1/webhooks",
            &token,
            Some(json!({"url": rx.url(council), "event_types": ["vacancy.offered"], "description": "placements team"})),
        )
        .await;
        assert_eq!(s, 201, "{r}");
        hooks.insert(
            council,
            (
                r["id"].as_str().unwrap().to_owned(),
                r["secret"].as_str().unwrap().to_owned(),
                token,
            ),
        );
    }
    // Knowsley switches its endpoint off.
    let (id, _, token) = &hooks[KNOWSLEY];
    assert_eq!(
        call(
            &app,
            "POST",
            &format!("/v1/webhooks/{id}/disable"),
            token,
            None
        )
        .await
        .0,
        200
    );

    let vacancy = |offered_by: Option<&str>| VacancyPublished {
        vacancy_id: Uuid::now_v7(),
        provider_id: "prov-care-assist".into(),
        lot_id: Uuid::now_v7(),
        home_id: Some(Uuid::now_v7()),
        postcode_district: "L20".into(),
        available_from: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        expires_on: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        offered_by: offered_by.map(str::to_owned),
    };
    // A provider's own vacancy is not an offer between councils.
    ctx.publish("competition", &vacancy(None)).await;
    let offered = vacancy(Some(SEFTON));
    ctx.publish("competition", &offered).await;
    for (council, shared) in [
        (LIVERPOOL, json!(["AIM", "LCR-PPA"])),
        (HALTON, json!(["LCR-PPA"])),
        (WIRRAL, json!(["AIM", "LCR-PPA"])),
    ] {
        let got = rx.wait(council, "vacancy.offered", 1).await;
        assert!(got[0].verifies(&hooks[council].1), "signed for {council}");
        let d = &got[0].json()["data"];
        assert_eq!(d["vacancy_id"], offered.vacancy_id.to_string());
        assert_eq!(
            (d["offered_by"].as_str(), d["offered_by_name"].as_str()),
            (Some(SEFTON), Some("Sefton Metropolitan Borough Council"))
        );
        assert_eq!(d["partnerships"], shared, "{council}");
        assert_eq!(d["postcode_district"], "L20");
    }
    for council in [SEFTON, DERBY, KNOWSLEY] {
        let (id, _, token) = &hooks[council];
        let (_, log) = call(
            &app,
            "GET",
            &format!("/v1/webhooks/{id}/deliveries"),
            token,
            None,
        )
        .await;
        let n = log.as_array().unwrap().len();
        assert_eq!(
            n, 0,
            "{council}: not the offerer, not outside its partnerships, not while disabled"
        );
    }
    assert_eq!(
        rx.of(LIVERPOOL, "vacancy.offered").len(),
        1,
        "one offer, once"
    );

    // Endpoints are changed with PATCH: only the fields given, checked like a new one.
    let (id, _, token) = &hooks[DERBY];
    let path = format!("/v1/webhooks/{id}");
    let (s, r) = call(
        &app,
        "PATCH",
        &path,
        token,
        Some(json!({"url": rx.url("derby-new"), "description": ""})),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (r["url"].as_str(), &r["description"]),
        (Some(rx.url("derby-new").as_str()), &Value::Null)
    );
    assert_eq!(r["event_types"], json!(["vacancy.offered"]));
    let (s, r) = call(&app, "GET", &path, token, None).await;
    assert_eq!(
        (s, r["url"].as_str()),
        (200, Some(rx.url("derby-new").as_str()))
    );
    assert!(r.get("secret").is_none());
    for (body, field, rule) in [
        (
            json!({"event_types": ["competition.invited"]}),
            "/event_types/0",
            "audience",
        ),
        (json!({"url": "ftp://x"}), "/url", "scheme"),
        (json!({"secret": "mine"}), "/secret", "unknown_field"),
        (json!({}), "/", "min_properties"),
    ] {
        let (s, r) = call(&app, "PATCH", &path, token, Some(body.clone())).await;
        assert_eq!(
            (
                s,
                r["errors"][0]["field"].as_str(),
                r["errors"][0]["rule"].as_str()
            ),
            (422, Some(field), Some(rule)),
            "{body}"
        );
    }
    let other = ctx.token(LIVERPOOL, Role::Commissioner);
    assert_eq!(
        call(
            &app,
            "PATCH",
            &path,
            &other,
            Some(json!({"description": "x"}))
        )
        .await
        .0,
        404
    );
    assert_eq!(call(&app, "GET", &path, &other, None).await.0, 404);
    let social_worker = ctx.token(DERBY, Role::SocialWorker);
    assert_eq!(
        call(
            &app,
            "PATCH",
            &path,
            &social_worker,
            Some(json!({"description": "x"}))
        )
        .await
        .0,
        403
    );
}

/// A receiver that hangs past the timeout and one that refuses connections, each with a
/// backlog of deliveries, hold up none of the others: every other provider gets all its
/// webhooks well within one timeout.
async fn slow_or_dead_endpoints_hold_up_nobody(ctx: ServiceCtx, rx: Receiver) {
    let app = ctx.app().await;
    rx.set(|path, _| {
        if path == "/prov-slow" {
            (204, Duration::from_secs(10))
        } else {
            (204, Duration::ZERO)
        }
    });
    // A port nothing listens on.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/prov-dead", l.local_addr().unwrap())
    };
    let fast = ["prov-f1", "prov-f2", "prov-f3"];
    let mut ids = HashMap::new();
    for (p, url) in [("prov-slow", rx.url("prov-slow")), ("prov-dead", dead)]
        .into_iter()
        .chain(fast.iter().map(|p| (*p, rx.url(p))))
    {
        let (s, r) = call(
            &app,
            "POST",
            "/v1/webhooks",
            &ctx.token(p, Role::Provider),
            Some(json!({"url": url, "event_types": ["competition.invited"]})),
        )
        .await;
        assert_eq!(s, 201);
        ids.insert(p, r["id"].as_str().unwrap().to_owned());
    }
    // The slow and dead endpoints come first in every event, and each event queues one
    // delivery per endpoint: ten deep backlogs for both.
    let t0 = Instant::now();
    for _ in 0..10 {
        ctx.publish(
            "competition",
            &opened(
                Uuid::now_v7(),
                Uuid::now_v7(),
                1,
                &["prov-slow", "prov-dead", "prov-f1", "prov-f2", "prov-f3"],
            ),
        )
        .await;
    }
    for p in fast {
        let got = rx.wait(p, "competition.invited", 10).await;
        let last = got.iter().map(|r| r.at - t0).max().unwrap();
        eprintln!("{p}: 10 webhooks within {last:?}");
        assert!(
            last < Duration::from_millis(1500),
            "{p} waited {last:?}: held up behind the slow (2 s timeout) or dead endpoint"
        );
    }
    // Meanwhile the slow one holds at most its share of the sending slots (a quarter of 8).
    let slow = rx.of("prov-slow", "competition.invited");
    assert!(
        (1..=2).contains(&slow.len()),
        "{} in flight to the slow receiver",
        slow.len()
    );
    // The dead one's attempts are logged as connection errors and retried.
    let token = ctx.token("prov-dead", Role::Provider);
    let (_, log) = call(
        &app,
        "GET",
        &format!("/v1/webhooks/{}/deliveries", ids["prov-dead"]),
        &token,
        None,
    )
    .await;
    let attempted: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["attempts"].as_i64() > Some(0))
        .collect();
    assert!(!attempted.is_empty(), "{log}");
    assert!(
        attempted
            .iter()
            .all(|d| d["status"] == "pending" && d["last_status_code"].is_null())
    );
    assert!(
        attempted[0]["attempt_log"][0]["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{}",
        attempted[0]
    );
}

/// Contract events reach the provider and the councils concerned as signed webhooks: the
/// provider hears of its orders, overdue orders, IPA reviews and ended placements; the
/// child's council of overdue orders, IPA reviews and void beds; the councils a bed is
/// offered to of the offer; the lead council of an expiring service contract. Nobody else,
/// and only ids, codes, dates and amounts.
async fn contract_events_reach_providers_and_councils(ctx: ServiceCtx, rx: Receiver) {
    let app = ctx.app().await;
    let register = |org: &'static str, role: Role, types: Vec<&'static str>| {
        let (app, ctx, url) = (&app, &ctx, rx.url(org));
        async move {
            let token = ctx.token(org, role);
            let (s, r) = call(
                app,
                "POST",
                "/v1/webhooks",
                &token,
                Some(json!({"url": url, "event_types": types})),
            )
            .await;
            assert_eq!(s, 201, "{org}: {r}");
            Hook {
                id: r["id"].as_str().unwrap().to_owned(),
                secret: r["secret"].as_str().unwrap().to_owned(),
            }
        }
    };
    const PROVIDER: &str = "prov-care-assist";
    let provider = register(
        PROVIDER,
        Role::Provider,
        vec![
            "order.issued",
            "order.overdue",
            "ipa.review_due",
            "placement.ended",
        ],
    )
    .await;
    let sefton = register(
        SEFTON,
        Role::Commissioner,
        vec![
            "order.overdue",
            "ipa.review_due",
            "bed.void",
            "service_contract.expiring",
        ],
    )
    .await;
    let liverpool = register(LIVERPOOL, Role::Admin, vec!["bed.offered"]).await;
    let wirral = register(WIRRAL, Role::Commissioner, vec!["bed.offered", "bed.void"]).await;
    let halton = register(
        HALTON,
        Role::Commissioner,
        vec!["service_contract.expiring", "bed.offered"],
    )
    .await;
    // Each side may only ask for what it is sent.
    for (org, role, types, pointer) in [
        (
            PROVIDER,
            Role::Provider,
            json!(["order.issued", "bed.void"]),
            "/event_types/1",
        ),
        (
            SEFTON,
            Role::Commissioner,
            json!(["order.issued"]),
            "/event_types/0",
        ),
        (
            SEFTON,
            Role::Commissioner,
            json!(["placement.ended"]),
            "/event_types/0",
        ),
    ] {
        let (s, r) = call(
            &app,
            "POST",
            "/v1/webhooks",
            &ctx.token(org, role),
            Some(json!({"url": rx.url("refused"), "event_types": types})),
        )
        .await;
        assert_eq!(
            (
                s,
                r["errors"][0]["field"].as_str(),
                r["errors"][0]["rule"].as_str()
            ),
            (422, Some(pointer), Some("audience")),
            "{org}: {r}"
        );
    }

    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
    let (order, placement, block) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let issued = OrderIssued {
        order_id: order,
        competition_id: Uuid::now_v7(),
        referral_id: Uuid::now_v7(),
        council: SEFTON.into(),
        provider_id: PROVIDER.into(),
        framework_id: Uuid::now_v7(),
        weekly_rate_pence: 450_000,
        start_date: day(1),
        due_by: day(3),
        emergency: false,
    };
    ctx.publish("contract", &issued).await;
    ctx.publish(
        "contract",
        &OrderOverdue {
            order_id: order,
            provider_id: PROVIDER.into(),
            council: SEFTON.into(),
            due_by: day(3),
        },
    )
    .await;
    ctx.publish(
        "contract",
        &IpaReviewDue {
            placement_id: placement,
            ipa_id: Uuid::now_v7(),
            council: SEFTON.into(),
            provider_id: PROVIDER.into(),
            review_due_on: day(20),
            overdue: false,
        },
    )
    .await;
    ctx.publish(
        "contract",
        &BedVoid {
            block_contract_id: block,
            bed: 2,
            council: SEFTON.into(),
            provider_id: PROVIDER.into(),
            void_from: day(5),
        },
    )
    .await;
    let offer = BedOffered {
        block_contract_id: block,
        bed: 2,
        offered_by: SEFTON.into(),
        offered_to: vec![
            LIVERPOOL.into(),
            WIRRAL.into(),
            KNOWSLEY.into(),
            SEFTON.into(),
        ],
        provider_id: PROVIDER.into(),
        lot_id: Some(Uuid::now_v7()),
        home_id: Some(Uuid::now_v7()),
        postcode_district: "L20".into(),
        available_from: day(12),
        offer_expires_on: day(31),
    };
    ctx.publish("contract", &offer).await;
    ctx.publish(
        "contract",
        &ServiceContractExpiring {
            contract_id: Uuid::now_v7(),
            lead_council: HALTON.into(),
            provider_id: "prov-adoption-support".into(),
            end_date: NaiveDate::from_ymd_opt(2027, 3, 31).unwrap(),
            months_before: 6,
            extensions_left: 1,
        },
    )
    .await;
    let ended = PlacementEnded {
        placement_id: placement,
        council: SEFTON.into(),
        provider_id: PROVIDER.into(),
        end_date: day(24),
        reason: "planned_move".into(),
        block_contract_id: None,
        bed: None,
    };
    ctx.publish("contract", &ended).await;

    // The provider: its order (with a link to it), the overdue reminder, the review and the end.
    let got = rx.wait(PROVIDER, "order.issued", 1).await;
    assert!(got[0].verifies(&provider.secret));
    let d = &got[0].json()["data"];
    assert_eq!(d["order_id"], order.to_string());
    assert_eq!(
        (
            d["council"].as_str(),
            d["weekly_rate_pence"].as_i64(),
            d["due_by"].as_str()
        ),
        (Some(SEFTON), Some(450_000), Some("2026-12-03"))
    );
    assert_eq!(
        d["order_url"],
        format!("https://hub.example/v1/orders/{order}")
    );
    let overdue = rx.wait(PROVIDER, "order.overdue", 1).await;
    assert_eq!(overdue[0].json()["data"]["due_by"], "2026-12-03");
    let review = rx.wait(PROVIDER, "ipa.review_due", 1).await;
    assert_eq!(
        (
            review[0].json()["data"]["review_due_on"].as_str(),
            review[0].json()["data"]["overdue"].as_bool()
        ),
        (Some("2026-12-20"), Some(false))
    );
    let end = rx.wait(PROVIDER, "placement.ended", 1).await;
    assert!(end[0].verifies(&provider.secret));
    let mut keys: Vec<String> = end[0].json()["data"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "bed",
            "block_contract_id",
            "council",
            "end_date",
            "placement_id",
            "provider_id",
            "reason"
        ],
        "ids, codes and dates only"
    );
    assert_eq!(end[0].json()["data"]["reason"], "planned_move");

    // Sefton, the child's council: the overdue order, the review, its void bed.
    for kind in ["order.overdue", "ipa.review_due", "bed.void"] {
        let got = rx.wait(SEFTON, kind, 1).await;
        assert!(got[0].verifies(&sefton.secret), "{kind}");
    }
    let void = &rx.of(SEFTON, "bed.void")[0].json()["data"];
    assert_eq!(
        (
            void["block_contract_id"].as_str(),
            void["bed"].as_u64(),
            void["void_from"].as_str()
        ),
        (
            Some(block.to_string().as_str()),
            Some(2),
            Some("2026-12-05")
        )
    );

    // The bed offered: to Liverpool and Wirral (Knowsley has no endpoint, Sefton is the
    // offerer), not to Halton, which it was not offered to.
    for (council, hook) in [(LIVERPOOL, &liverpool), (WIRRAL, &wirral)] {
        let got = rx.wait(council, "bed.offered", 1).await;
        assert!(got[0].verifies(&hook.secret), "{council}");
        let d = &got[0].json()["data"];
        assert_eq!(
            (d["offered_by"].as_str(), d["offered_by_name"].as_str()),
            (Some(SEFTON), Some("Sefton Metropolitan Borough Council"))
        );
        assert_eq!(
            (
                d["bed"].as_u64(),
                d["offer_expires_on"].as_str(),
                d["postcode_district"].as_str()
            ),
            (Some(2), Some("2026-12-31"), Some("L20"))
        );
        assert!(
            d.get("offered_to").is_none(),
            "who else was offered it is not said"
        );
    }
    let expiring = rx.wait(HALTON, "service_contract.expiring", 1).await;
    assert!(expiring[0].verifies(&halton.secret));
    assert_eq!(expiring[0].json()["data"]["months_before"], 6);

    // Every delivery is logged once, for its own organisation only.
    let logged = |hook: &Hook, org: &'static str, role: Role| {
        let (app, ctx, id) = (&app, &ctx, hook.id.clone());
        async move {
            let (s, log) = call(
                app,
                "GET",
                &format!("/v1/webhooks/{id}/deliveries"),
                &ctx.token(org, role),
                None,
            )
            .await;
            assert_eq!(s, 200, "{log}");
            let mut types: Vec<String> = log
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["event_type"].as_str().unwrap().to_owned())
                .collect();
            types.sort();
            types
        }
    };
    assert_eq!(
        logged(&provider, PROVIDER, Role::Provider).await,
        [
            "ipa.review_due",
            "order.issued",
            "order.overdue",
            "placement.ended"
        ]
    );
    assert_eq!(
        logged(&sefton, SEFTON, Role::Commissioner).await,
        ["bed.void", "ipa.review_due", "order.overdue"],
        "not the bed it offered, nor the contract Halton leads"
    );
    assert_eq!(
        logged(&halton, HALTON, Role::Commissioner).await,
        ["service_contract.expiring"],
        "not offered the bed"
    );
    assert_eq!(
        logged(&wirral, WIRRAL, Role::Commissioner).await,
        ["bed.offered"],
        "not Sefton's void bed"
    );
    for r in rx.requests(&format!("/{PROVIDER}")) {
        let text = String::from_utf8_lossy(&r.body);
        assert!(
            !text.contains("date_of_birth") && !text.contains("\"name\""),
            "{text}"
        );
    }
}

/// The (trace id, span id, flags) of a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`,
/// lower case); panics if it is anything else.
fn w3c(traceparent: &str) -> (String, String, String) {
    let parts: Vec<&str> = traceparent.split('-').collect();
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    };
    assert!(
        parts.len() == 4
            && parts[0] == "00"
            && hex(parts[1], 32)
            && hex(parts[2], 16)
            && hex(parts[3], 2),
        "not a W3C traceparent: {traceparent:?}"
    );
    (
        parts[1].to_owned(),
        parts[2].to_owned(),
        parts[3].to_owned(),
    )
}

/// A webhook joins the trace of the event it was made for: the envelope's trace context is
/// kept with the delivery, and every attempt (a retry, a redelivery) sends a `traceparent`
/// with the event's trace id and a span id of its own; the event's `tracestate` (callers'
/// vendor data) is not passed to providers. A webhook for an event without trace context
/// carries none.
async fn webhooks_join_the_event_trace(ctx: ServiceCtx, rx: Receiver) {
    const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const EVENT_SPAN: &str = "00f067aa0ba902b7";
    init_telemetry();
    let app = ctx.app().await;
    let mut hooks = HashMap::new();
    for p in ["prov-traced", "prov-untraced"] {
        let (s, r) = call(
            &app,
            "POST",
            "/v1/webhooks",
            &ctx.token(p, Role::Provider),
            Some(json!({"url": rx.url(p), "event_types": ["competition.invited"]})),
        )
        .await;
        assert_eq!(s, 201, "{r}");
        hooks.insert(
            p,
            Hook {
                id: r["id"].as_str().unwrap().to_owned(),
                secret: r["secret"].as_str().unwrap().to_owned(),
            },
        );
    }
    // The traced provider's first attempt fails, so it is retried.
    rx.set(|path, nth| {
        if path == "/prov-traced" && nth == 0 {
            (500, Duration::ZERO)
        } else {
            (204, Duration::ZERO)
        }
    });

    let mut env = Envelope::new(
        "competition",
        PARTNERSHIP,
        &opened(Uuid::now_v7(), Uuid::now_v7(), 1, &["prov-traced"]),
    );
    env.traceparent = Some(format!("00-{TRACE_ID}-{EVENT_SPAN}-01"));
    env.tracestate = Some("hub=1".into());
    ctx.publish_envelope(&env).await;
    let got = rx.wait("prov-traced", "competition.invited", 2).await;
    let mut spans = Vec::new();
    for r in &got {
        assert!(r.verifies(&hooks["prov-traced"].secret));
        let tp = r
            .headers
            .get("traceparent")
            .unwrap_or_else(|| panic!("no traceparent on {:?}", r.headers));
        let (trace, span, flags) = w3c(tp);
        assert_eq!(trace, TRACE_ID, "the event's trace: {tp}");
        assert_ne!(span, EVENT_SPAN, "a child span of the event's: {tp}");
        assert_eq!(flags, "01", "sampled as the event: {tp}");
        assert_eq!(
            r.headers.get("tracestate"),
            None,
            "the event's tracestate stays inside"
        );
        spans.push(span);
    }
    assert_eq!(got[0].headers["webhook-id"], got[1].headers["webhook-id"]);
    assert_ne!(spans[0], spans[1], "each attempt is a span of its own");

    // A redelivery of the same delivery (once recorded as delivered) stays in the trace.
    let token = ctx.token("prov-traced", Role::Provider);
    let log = format!("/v1/webhooks/{}/deliveries", hooks["prov-traced"].id);
    eventually(
        "the traced delivery recorded as delivered",
        Duration::from_secs(5),
        || async {
            let (_, log) = call(&app, "GET", &log, &token, None).await;
            (log[0]["status"] == "delivered").then_some(())
        },
    )
    .await;
    let (s, r) = call(
        &app,
        "POST",
        &format!(
            "/v1/webhooks/deliveries/{}/redeliver",
            got[0].headers["webhook-id"]
        ),
        &token,
        None,
    )
    .await;
    assert_eq!(s, 202, "{r}");
    let got = rx.wait("prov-traced", "competition.invited", 3).await;
    let (trace, span, _) = w3c(&got[2].headers["traceparent"]);
    assert_eq!(trace, TRACE_ID);
    assert!(!spans.contains(&span) && span != EVENT_SPAN);

    // An event without trace context: its webhook carries none.
    ctx.publish(
        "competition",
        &opened(Uuid::now_v7(), Uuid::now_v7(), 1, &["prov-untraced"]),
    )
    .await;
    let got = rx.wait("prov-untraced", "competition.invited", 1).await;
    assert!(got[0].verifies(&hooks["prov-untraced"].secret));
    assert!(
        !got[0].headers.contains_key("traceparent") && !got[0].headers.contains_key("tracestate"),
        "no trace context sent: {:?}",
        got[0].headers
    );
}

#[test]
fn providers_follow_their_referrals_on_sqlite() {
    run(Backend::Sqlite, providers_follow_their_referrals);
}

#[test]
fn providers_follow_their_referrals_on_postgres() {
    run(Backend::Postgres, providers_follow_their_referrals);
}

#[test]
fn reopened_competitions_and_late_events_on_sqlite() {
    run(Backend::Sqlite, reopened_competitions_and_late_events);
}

#[test]
fn reopened_competitions_and_late_events_on_postgres() {
    run(Backend::Postgres, reopened_competitions_and_late_events);
}

#[test]
fn councils_hear_of_offered_vacancies_on_sqlite() {
    run(Backend::Sqlite, councils_hear_of_offered_vacancies);
}

#[test]
fn councils_hear_of_offered_vacancies_on_postgres() {
    run(Backend::Postgres, councils_hear_of_offered_vacancies);
}

#[test]
fn slow_or_dead_endpoints_hold_up_nobody_on_sqlite() {
    run(Backend::Sqlite, slow_or_dead_endpoints_hold_up_nobody);
}

#[test]
fn slow_or_dead_endpoints_hold_up_nobody_on_postgres() {
    run(Backend::Postgres, slow_or_dead_endpoints_hold_up_nobody);
}

#[test]
fn contract_events_reach_providers_and_councils_on_sqlite() {
    run(
        Backend::Sqlite,
        contract_events_reach_providers_and_councils,
    );
}

#[test]
fn contract_events_reach_providers_and_councils_on_postgres() {
    run(
        Backend::Postgres,
        contract_events_reach_providers_and_councils,
    );
}

/// A redelivery asked for while the delivery's attempt is still in flight is not lost: the
/// attempt's outcome is recorded, but the delivery is sent again.
async fn a_redelivery_during_an_attempt_is_kept(ctx: ServiceCtx, rx: Receiver) {
    let app = ctx.app().await;
    let token = ctx.token("prov-slow", Role::Provider);
    let (s, hook) = call(
        &app,
        "POST",
        "/v1/webhooks",
        &token,
        Some(json!({"url": rx.url("prov-slow"), "event_types": ["competition.invited"]})),
    )
    .await;
    assert_eq!(s, 201, "{hook}");
    // The first attempt is answered (204) only after a second.
    rx.set(|_, nth| {
        if nth == 0 {
            (204, Duration::from_secs(1))
        } else {
            (204, Duration::ZERO)
        }
    });
    ctx.publish(
        "competition",
        &opened(Uuid::now_v7(), Uuid::now_v7(), 1, &["prov-slow"]),
    )
    .await;
    let first = rx.wait("prov-slow", "competition.invited", 1).await;
    // While the provider has not answered yet, it asks for the webhook again.
    let (s, r) = call(
        &app,
        "POST",
        &format!(
            "/v1/webhooks/deliveries/{}/redeliver",
            first[0].headers["webhook-id"]
        ),
        &token,
        None,
    )
    .await;
    assert_eq!(s, 202, "{r}");
    let got = rx.wait("prov-slow", "competition.invited", 2).await;
    assert_eq!(got[0].headers["webhook-id"], got[1].headers["webhook-id"]);
    // Both attempts are in the delivery's log, and it ends delivered.
    let log = format!("/v1/webhooks/{}/deliveries", hook["id"].as_str().unwrap());
    eventually(
        "both attempts recorded, the delivery delivered",
        Duration::from_secs(5),
        || async {
            let (_, log) = call(&app, "GET", &log, &token, None).await;
            let numbers: Vec<i64> = log[0]["attempt_log"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a["attempt"].as_i64())
                .collect();
            (log[0]["status"] == "delivered" && numbers == [1, 2]).then_some(())
        },
    )
    .await;
}

#[test]
fn a_redelivery_during_an_attempt_is_kept_on_sqlite() {
    run(Backend::Sqlite, a_redelivery_during_an_attempt_is_kept);
}

#[test]
fn a_redelivery_during_an_attempt_is_kept_on_postgres() {
    run(Backend::Postgres, a_redelivery_during_an_attempt_is_kept);
}

#[test]
fn webhooks_join_the_event_trace_on_sqlite() {
    run(Backend::Sqlite, webhooks_join_the_event_trace);
}

#[test]
fn webhooks_join_the_event_trace_on_postgres() {
    run(Backend::Postgres, webhooks_join_the_event_trace);
}

// ---------------------------------------------------------------------------------------
// Issue 11 item 7: webhooks go to public https addresses only. Without the development
// setting (`webhooks.allow_http_loopback`), loopback, private, link-local, metadata and the
// platform's own addresses are refused at registration (422 naming `/url`), and a name that
// resolves to one of them is refused again when a delivery connects; the refused attempt is
// logged as refused, with nothing about what answered there.

/// This machine's name: not one the platform knows, resolving (through /etc/hosts) to a
/// loopback or private address, as a name pointed inside after registration would.
fn machine_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .expect("/etc/hostname names this machine")
}

async fn webhooks_go_to_public_addresses_only(ctx: ServiceCtx) {
    let app = ctx.app().await;
    let rx = Receiver::accepting().await;
    let token = ctx.token("prov-a", Role::Provider);
    for (url, rule) in [
        (rx.url("hook"), "public_address"),
        ("https://127.0.0.1:9443/h".to_owned(), "public_address"),
        ("https://localhost/h".to_owned(), "public_address"),
        ("https://10.0.0.1/h".to_owned(), "public_address"),
        ("https://192.168.0.10/h".to_owned(), "public_address"),
        (
            "https://169.254.169.254/latest/meta-data".to_owned(),
            "public_address",
        ),
        ("https://[fd00:ec2::254]/h".to_owned(), "public_address"),
        ("https://[fe80::1]/h".to_owned(), "public_address"),
        (
            "https://metadata.google.internal/v1".to_owned(),
            "public_address",
        ),
        (
            "https://hub.example/v1/referrals".to_owned(),
            "public_address",
        ),
        ("http://provider.example/h".to_owned(), "scheme"),
    ] {
        let (status, body) = call(
            &app,
            "POST",
            "/v1/webhooks",
            &token,
            Some(json!({"url": url, "event_types": ["competition.invited"]})),
        )
        .await;
        assert_eq!(status, 422, "{url}: {body}");
        assert_eq!(
            (&body["errors"][0]["field"], &body["errors"][0]["rule"]),
            (&json!("/url"), &json!(rule)),
            "{url}: {body}"
        );
    }
    // Changing a registered endpoint's URL is checked the same way.
    let (status, hook) = call(
        &app,
        "POST",
        "/v1/webhooks",
        &token,
        Some(json!({"url": "https://provider.example/h", "event_types": ["competition.invited"]})),
    )
    .await;
    assert_eq!(status, 201, "{hook}");
    let (status, body) = call(
        &app,
        "PATCH",
        &format!("/v1/webhooks/{}", hook["id"].as_str().unwrap()),
        &token,
        Some(json!({"url": "https://169.254.169.254/"})),
    )
    .await;
    assert_eq!(
        (status, &body["errors"][0]["field"]),
        (422, &json!("/url")),
        "{body}"
    );

    // A name is checked as the delivery connects, after resolution.
    let port = rx.base.rsplit(':').next().unwrap().to_owned();
    let url = format!("https://{}:{port}/rebound", machine_name());
    let token_b = ctx.token("prov-b", Role::Provider);
    let (status, hook) = call(
        &app,
        "POST",
        "/v1/webhooks",
        &token_b,
        Some(json!({"url": url, "event_types": ["competition.invited"]})),
    )
    .await;
    assert_eq!(status, 201, "{hook}");
    ctx.publish(
        "competition",
        &opened(Uuid::now_v7(), Uuid::now_v7(), 1, &["prov-b"]),
    )
    .await;
    let log = format!("/v1/webhooks/{}/deliveries", hook["id"].as_str().unwrap());
    let error = eventually("a refused attempt", Duration::from_secs(10), || {
        let (app, token_b, log) = (&app, &token_b, &log);
        async move {
            let (_, body) = call(app, "GET", log, token_b, None).await;
            body[0]["attempt_log"][0]["error"]
                .as_str()
                .map(str::to_owned)
        }
    })
    .await;
    assert_eq!(error, "refused: webhooks go to public addresses only");
    assert!(
        rx.requests("/rebound").is_empty(),
        "nothing reached the address"
    );
}

fn run_strict(backend: Backend) {
    isolated(backend, notifications::NAME, &SETS, |store| async move {
        let settings = Settings::load_with(&[
            ("server.public_url", "https://hub.example"),
            ("webhooks.initial_backoff_ms", "100"),
        ])
        .unwrap();
        assert!(!settings.webhooks.allow_http_loopback, "the safe default");
        let ctx = ServiceCtx::builder(notifications::NAME)
            .settings(settings)
            .start_on(store, notifications::start)
            .await;
        webhooks_go_to_public_addresses_only(ctx).await;
    });
}

#[test]
fn webhooks_go_to_public_addresses_only_on_sqlite() {
    run_strict(Backend::Sqlite);
}

#[test]
fn webhooks_go_to_public_addresses_only_on_postgres() {
    run_strict(Backend::Postgres);
}
