//! What finance's test files share: the service started behind its client, dates, facts
//! published as the contract service would, the contract events the tests build, the dead
//! letters the refusals leave, and reading figures out of a report.

// Each test file uses its own part of this module.
#![allow(dead_code)]

use chrono::NaiveDate;
use diesel::{QueryableByName, RunQueryDsl, sql_types::Text};
use hub_events::{Envelope, Event, PlacementStarted, ServiceContractLet};
use hub_platform::directory::SEFTON;
use hub_platform::{Role, db::Migrations};
use hub_testkit::{TestApp, User};
use serde_json::Value;
use uuid::Uuid;

pub static SETS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &finance::MIGRATIONS];

/// The finance service on `url`, behind its test client.
pub async fn start(url: &str) -> TestApp {
    TestApp::start(url, finance::NAME, &SETS, finance::start).await
}

/// A finance officer of `org` (`user-of-<org>`).
pub fn finance(app: &TestApp, org: &str) -> User {
    app.user(org, Role::Finance)
}

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Publishes `event` in `partnership` as the contract service would.
pub async fn publish<E: Event>(app: &TestApp, partnership: &str, event: &E) {
    app.publish_envelope(&Envelope::new("contract", partnership, event))
        .await;
}

/// Publishes `event` in AIM once.
pub async fn aim<E: Event>(app: &TestApp, event: &E) {
    publish(app, "AIM", event).await;
}

/// Publishes `event` in AIM twice over (the same envelope redelivered).
pub async fn aim_twice<E: Event>(app: &TestApp, event: &E) {
    let env = Envelope::new("contract", "AIM", event);
    app.publish_envelope(&env).await;
    app.publish_envelope(&env).await;
}

/// A placement of `council`'s child with `provider` at `weekly` pence a week from `start`,
/// under an order, no extras, no end, not in a block.
pub fn placement(council: &str, provider: &str, weekly: i64, start: NaiveDate) -> PlacementStarted {
    PlacementStarted {
        placement_id: Uuid::now_v7(),
        order_id: Some(Uuid::now_v7()),
        referral_id: Uuid::now_v7(),
        council: council.into(),
        provider_id: provider.into(),
        weekly_rate_pence: weekly,
        extras_weekly_pence: 0,
        start_date: start,
        block_contract_id: None,
        bed: None,
    }
}

/// Adoption support Sefton lets with After Adoption for the whole partnership: `value` pence
/// from `start` to `end` on the commissioned support line, letterbox only, no extensions.
pub fn support(value: i64, start: NaiveDate, end: NaiveDate) -> ServiceContractLet {
    ServiceContractLet {
        contract_id: Uuid::now_v7(),
        lead_council: SEFTON.into(),
        provider_id: "prov-after-adoption".into(),
        services: vec!["letterbox".into()],
        value_pence: value,
        start_date: start,
        end_date: end,
        budget_line: "commissioned_adoption_support".into(),
        extensions_allowed: 0,
    }
}

/// `(event type, error)` of each dead letter, oldest first.
pub async fn dead_letters(app: &TestApp) -> Vec<(String, String)> {
    #[derive(QueryableByName)]
    struct Dead {
        #[diesel(sql_type = Text)]
        event_type: String,
        #[diesel(sql_type = Text)]
        error: String,
    }
    app.store
        .db
        .run(|c| {
            Ok(
                diesel::sql_query(
                    "SELECT event_type, error FROM dead_letters ORDER BY dead_ms, id",
                )
                .load::<Dead>(c)?,
            )
        })
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.event_type, d.error))
        .collect()
}

/// The event type of each dead letter, oldest first.
pub async fn dead_letter_types(app: &TestApp) -> Vec<String> {
    dead_letters(app).await.into_iter().map(|d| d.0).collect()
}

/// `v[key]` as pence (panics naming the key and the value when it is not a number).
pub fn money(v: &Value, key: &str) -> i64 {
    v[key].as_i64().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// `v[key]` for each of `keys`, as numbers.
pub fn pick(v: &Value, keys: &[&str]) -> Vec<i64> {
    keys.iter().map(|k| money(v, k)).collect()
}

/// `v[key]` as an array (panics when it is not one).
pub fn items<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not a list in {v}"))
}
