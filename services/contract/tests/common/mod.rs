//! Fixtures shared by the contract service's tests: the service started with the clock the
//! test needs, awards and referrals as the other services announce them, and orders and
//! placements made through the API. The councils come from `hub_platform::directory`.

// Each test file is a crate of its own and uses only some of these.
#![allow(dead_code)]

use chrono::{NaiveDate, Utc};
use hub_events::{AgeBand, CompetitionAwarded, Envelope, ReferralSubmitted, Urgency};
use hub_platform::{Role, Settings, db::Migrations, directory::SEFTON};
use hub_testkit::{ServiceCtx, TestApp};
use serde_json::{Value, json};
use uuid::Uuid;

pub static SETS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &contract::MIGRATIONS];

/// The provider awarded the orders here (and Care Assist, of the seed's block contract).
pub const PROVIDER: &str = "prov-care-assist";
/// A provider with nothing to do with them.
pub const OTHER_PROVIDER: &str = "prov-other";

/// The service with the default settings (its clock sweeping as of today).
pub async fn start(url: &str) -> TestApp {
    TestApp::start(url, contract::NAME, &SETS, contract::start).await
}

/// The service with its clock off (no sweep at start either): the tests sweep with the days
/// they choose.
pub async fn start_clock_off(url: &str) -> TestApp {
    start_with_sweep_every(url, "0").await
}

/// The service with its clock slowed to an hour: its first sweep (at start-up, as of today)
/// may still run at any point of the test.
pub async fn start_hourly(url: &str) -> TestApp {
    start_with_sweep_every(url, "3600").await
}

async fn start_with_sweep_every(url: &str, secs: &str) -> TestApp {
    let settings = Settings::load_with(&[("contract.sweep_interval_secs", secs)]).unwrap();
    ServiceCtx::builder(contract::NAME)
        .settings(settings)
        .start(url, &SETS, contract::start)
        .await
        .into_app()
        .await
}

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// An award of a placement for a child of `council` to [`PROVIDER`] at £2,149.00 a week, by
/// mini-competition (with a winning bid) or `direct`.
pub fn award(council: &str, direct: bool, start_date: NaiveDate) -> CompetitionAwarded {
    CompetitionAwarded {
        competition_id: Uuid::now_v7(),
        referral_id: Uuid::now_v7(),
        council: council.into(),
        framework_id: Uuid::now_v7(),
        lot_id: Uuid::now_v7(),
        provider_id: PROVIDER.into(),
        bid_id: (!direct).then(Uuid::now_v7),
        weekly_rate_pence: 214_900,
        start_date,
        unsuccessful: Vec::new(),
        awarded_by: "jo".into(),
        direct,
        outcomes: Vec::new(),
    }
}

/// A referral of `council` as the referral service announces it when submitted.
pub fn submitted(council: &str) -> ReferralSubmitted {
    ReferralSubmitted {
        referral_id: Uuid::now_v7(),
        version: 1,
        council: council.into(),
        framework_id: Uuid::now_v7(),
        lot_id: Uuid::now_v7(),
        route: "spot_purchase".into(),
        placement_type: "residential".into(),
        urgency: Urgency::Planned,
        age_band: AgeBand::ElevenToFifteen,
        age_years: 14,
        gender: "male".into(),
        needs: vec!["emotional_behavioural".into()],
        educational_needs: Vec::new(),
        ehcp: false,
        wanted_start: today(),
        area_district: "L20".into(),
        area_latitude: 53.46,
        area_longitude: -2.99,
        max_distance_miles: 20.0,
        submitted_by: "cathy".into(),
    }
}

/// Announces a submitted referral of `council` in `partnership`, as the referral service
/// would; returns its id.
pub async fn referral_in(app: &TestApp, council: &str, partnership: &str) -> Uuid {
    let r = submitted(council);
    app.publish_envelope(&Envelope::new("referral", partnership, &r))
        .await;
    r.referral_id
}

/// Publishes an award in LCR-PPA and returns the order it issued.
pub async fn issue(app: &TestApp, a: &CompetitionAwarded) -> Value {
    issue_in(app, "LCR-PPA", a).await
}

/// Publishes an award in `partnership` and returns the order it issued, as a commissioner
/// of the award's council lists it.
pub async fn issue_in(app: &TestApp, partnership: &str, a: &CompetitionAwarded) -> Value {
    app.publish_envelope(&Envelope::new("competition", partnership, a))
        .await;
    let commissioner = app.user(&a.council, Role::Commissioner);
    let (s, list) = app
        .contracts()
        .orders(
            &commissioner,
            &format!("competition_id={}", a.competition_id),
        )
        .await;
    assert_eq!(s, 200, "{list}");
    list["items"][0].clone()
}

/// A Sefton child placed from `start_date` under an order signed by [`PROVIDER`]; the
/// placement's id.
pub async fn placed(app: &TestApp, start_date: NaiveDate) -> String {
    let contracts = app.contracts();
    let order = issue(app, &award(SEFTON, false, start_date)).await;
    let id = order["id"].as_str().unwrap();
    let provider = app.user(PROVIDER, Role::Provider);
    let (s, _) = contracts.sign(&provider, id).await;
    assert_eq!(s, 200);
    let sefton = app.user(SEFTON, Role::Commissioner);
    let (s, p) = contracts.place(&sefton, &json!({"order_id": id})).await;
    assert_eq!(s, 201, "{p}");
    p["id"].as_str().unwrap().to_owned()
}

/// The id of a JSON object the API answered.
pub fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}
