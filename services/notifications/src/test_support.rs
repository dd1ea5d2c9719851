//! Test set-up for the unit tests: a scenario on a migrated database of its own (see
//! `hub_testkit::isolated`), the notification settings and events they use, and endpoints
//! written straight into the store. The HTTP receiver and the polling come from the testkit.

use std::future::Future;

use chrono::Utc;
use hub_bus::Store;
use hub_events::{CompetitionOpened, Urgency};
use hub_platform::sql::Json;
use hub_platform::{Settings, db::Migrations};
pub use hub_testkit::{Backend, Receiver, eventually};
use uuid::Uuid;

use crate::{
    ids::EndpointId,
    store::{self, Endpoint},
};

static MIGRATION_SETS: &[&Migrations] = &[&hub_bus::MIGRATIONS, &crate::MIGRATIONS];

/// Runs `scenario` on a fresh migrated database of `backend` in a runtime of its own, and
/// removes the database only after the runtime (and the delivery worker in it) has stopped,
/// so the worker never waits on a database that is gone.
pub fn run<F, Fut>(backend: Backend, scenario: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    hub_testkit::isolated(backend, crate::NAME, MIGRATION_SETS, scenario);
}

pub fn opened(invited: &[&str]) -> CompetitionOpened {
    let referral_id = Uuid::now_v7();
    CompetitionOpened {
        competition_id: Uuid::now_v7(),
        referral_id,
        referral_version: 1,
        council: "E08000014".into(),
        framework_id: Uuid::now_v7(),
        lot_id: Uuid::now_v7(),
        lot_name: "Residential".into(),
        urgency: Urgency::Urgent,
        deadline: Utc::now() + chrono::Duration::days(2),
        invited: invited.iter().map(|s| (*s).to_owned()).collect(),
        summary: "residential, 11-15, emotional_behavioural".into(),
        referral_path: format!("/v1/referrals/{referral_id}"),
    }
}

/// Settings with fast retries for tests.
pub fn settings(overrides: &[(&str, &str)]) -> Settings {
    let mut all = vec![
        ("webhooks.initial_backoff_ms", "100"),
        ("webhooks.max_backoff_ms", "1000"),
        ("webhooks.timeout_ms", "3000"),
        ("webhooks.concurrency", "8"),
        ("server.public_url", "https://hub.example"),
        // The tests' receivers are plain http on 127.0.0.1: the development setting.
        ("webhooks.allow_http_loopback", "true"),
    ];
    all.extend_from_slice(overrides);
    Settings::load_with(&all).expect("test settings")
}

/// Registers an endpoint directly in the store; returns its row (with its secret).
pub async fn endpoint(
    store: &Store,
    org: &str,
    url: &str,
    event_types: &[&str],
    enabled: bool,
) -> Endpoint {
    let now = Utc::now().naive_utc();
    let row = Endpoint {
        id: EndpointId::new(),
        owner_org: org.to_owned(),
        url: url.to_owned(),
        event_types: Json(event_types.iter().map(|t| (*t).to_owned()).collect()),
        description: None,
        secret: crate::domain::new_secret(),
        previous_secret: None,
        previous_secret_until_ms: None,
        enabled,
        disabled_reason: None,
        disabled_at: None,
        created_by: "test".into(),
        created_at: now,
        updated_at: now,
        revision: 1,
    };
    let r = row.clone();
    store
        .db
        .run(move |c| store::insert_endpoint(c, &r))
        .await
        .expect("inserting an endpoint");
    row
}
