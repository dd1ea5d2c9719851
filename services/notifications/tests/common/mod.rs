//! The notifications tests' harness and fixtures, in one place: the service started (the bus
//! retrying as configured) behind its client in a runtime of its own, a receiver on
//! 127.0.0.1, endpoints as registered, signatures checked, and the competition and referral
//! services' events.

// Each test file uses some of these, never all: what one file leaves unused is not dead.
#![allow(dead_code)]

use std::future::Future;

use chrono::{NaiveDate, Utc};
use hub_events::{
    BidOutcome, CompetitionAwarded, CompetitionOpened, CriterionScore, ReferralUpdated, Urgency,
};
use hub_platform::{Settings, db::Migrations, directory::SEFTON};
use hub_testkit::{Backend, Received, Receiver, ServiceCtx, TestApp, User, isolated};
use serde::Serialize;
use uuid::Uuid;

pub static SETS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &notifications::MIGRATIONS];

/// Two `#[test]`s running `$scenario(app, receiver)` with `$run` ([`run`] or
/// [`run_strict`]): on SQLite and on PostgreSQL. Not `hub_testkit::on_both!`: each runs in a
/// runtime of its own that stops, with the delivery worker in it, before its database goes.
macro_rules! on_both_isolated {
    ($run:path, $scenario:ident, $sqlite:ident, $postgres:ident) => {
        #[test]
        fn $sqlite() {
            $run(::hub_testkit::Backend::Sqlite, $scenario);
        }

        #[test]
        fn $postgres() {
            $run(::hub_testkit::Backend::Postgres, $scenario);
        }
    };
}

/// Settings with fast webhook retries and short timeouts.
pub fn settings() -> Settings {
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
pub fn run<F, Fut>(backend: Backend, scenario: F)
where
    F: FnOnce(TestApp, Receiver) -> Fut,
    Fut: Future<Output = ()>,
{
    isolated(backend, notifications::NAME, &SETS, |store| async move {
        let app = ServiceCtx::builder(notifications::NAME)
            .settings(settings())
            .bus_retries(true)
            .start_on(store, notifications::start)
            .await
            .into_app()
            .await;
        scenario(app, Receiver::accepting().await).await;
    });
}

/// As [`run`], but with the safe default of webhooks to public https addresses only (no
/// `webhooks.allow_http_loopback`), and no bus retries.
pub fn run_strict<F, Fut>(backend: Backend, scenario: F)
where
    F: FnOnce(TestApp, Receiver) -> Fut,
    Fut: Future<Output = ()>,
{
    isolated(backend, notifications::NAME, &SETS, |store| async move {
        let settings = Settings::load_with(&[
            ("server.public_url", "https://hub.example"),
            ("webhooks.initial_backoff_ms", "100"),
        ])
        .unwrap();
        assert!(!settings.webhooks.allow_http_loopback, "the safe default");
        let app = ServiceCtx::builder(notifications::NAME)
            .settings(settings)
            .start_on(store, notifications::start)
            .await
            .into_app()
            .await;
        scenario(app, Receiver::accepting().await).await;
    });
}

/// Installs the platform's telemetry once per test process (W3C propagation and spans, as
/// `hub serve` does at start-up), so trace context is carried exactly as in production.
pub fn init_telemetry() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let settings = Settings::load_with(&[("telemetry.log_filter", "warn")]).unwrap();
        std::mem::forget(
            hub_platform::telemetry::init("notifications-test", &settings.telemetry).unwrap(),
        );
    });
}

/// An endpoint as registered: its id and secret, and the user who registered it.
pub struct Hook {
    pub id: String,
    pub secret: String,
    pub owner: User,
}

/// `owner` registers the endpoint `body` (`{"url", "event_types", …}`); asserts 201.
pub async fn register(app: &TestApp, owner: &User, body: &impl Serialize) -> Hook {
    let (s, r) = app.notifications().register(owner, body).await;
    assert_eq!(s, 201, "{}: {r}", owner.org);
    Hook {
        id: r["id"].as_str().unwrap().to_owned(),
        secret: r["secret"].as_str().unwrap().to_owned(),
        owner: owner.clone(),
    }
}

/// A webhook's signature checks out with `secret`.
pub trait Signed {
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

/// What a provider's endpoint may ask for about the referrals it is invited to.
pub const PROVIDER_TYPES: [&str; 6] = [
    "competition.invited",
    "referral.updated",
    "competition.awarded",
    "competition.unsuccessful",
    "competition.closed",
    "competition.bidding_closed",
];

/// Competition `competition` opened for version `version` of `referral`, inviting `invited`.
pub fn opened(
    referral: Uuid,
    competition: Uuid,
    version: u32,
    invited: &[&str],
) -> CompetitionOpened {
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

/// Version `version` of `referral`: urgent now, with a going-missing risk.
pub fn updated(referral: Uuid, version: u32) -> ReferralUpdated {
    ReferralUpdated {
        referral_id: referral,
        version,
        council: SEFTON.into(),
        urgency: Urgency::Urgent,
        needs: vec!["emotional_behavioural".into(), "risk_missing".into()],
    }
}

/// Competition `competition` for `referral` awarded to `winner` (directly if `direct`); each
/// of `losers` scored against the winner, with the reasons.
pub fn award(
    referral: Uuid,
    competition: Uuid,
    winner: &str,
    losers: &[&str],
    direct: bool,
) -> CompetitionAwarded {
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
        outcomes: losers.iter().map(|p| outcome(p, winner)).collect(),
    }
}

/// `loser`'s bid against `winner`'s: a pass on quality, 69.00 against 82.50 in all.
fn outcome(loser: &str, winner: &str) -> BidOutcome {
    let score = |criterion: &str, weight, score, winner_score| CriterionScore {
        criterion: criterion.into(),
        weight,
        passed: None,
        score: Some(score),
        winner_score: Some(winner_score),
    };
    BidOutcome {
        provider_id: loser.to_owned(),
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
    }
}
