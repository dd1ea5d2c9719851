//! The competition tests' shared fixtures: the service started behind its test client, the
//! LCR PPA framework with its providers, homes and vacancies, a submitted referral and the
//! competition it opens, and the checks more than one test makes (an OCDS export that
//! validates, a deadline let pass). The councils come from `hub_platform::directory`.

// Each test crate uses part of these fixtures.
#![allow(dead_code)]

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, Utc};
use hub_events::{AgeBand, ReferralSubmitted, Urgency};
use hub_platform::{
    Role,
    db::Migrations,
    directory::{HALTON, SEFTON},
};
use hub_testkit::{TestApp, User};
use serde_json::{Value, json};
use uuid::Uuid;

pub static SETS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &competition::MIGRATIONS];

/// The competition service on `url`, behind its test client.
pub async fn start(url: &str) -> TestApp {
    TestApp::start(url, competition::NAME, &SETS, competition::start).await
}

/// Bootle (L20): the child's area in every referral here.
pub const AREA: (f64, f64) = (53.46, -2.99);

/// The residential providers: id, name, standard weekly price, their home (name, lat, lon,
/// genders, ages, emergency capacity, educational provision) and whether it has a vacancy.
pub struct Provider {
    pub id: &'static str,
    pub price: i64,
    pub home: (&'static str, f64, f64),
    pub genders: &'static [&'static str],
    pub ages: (u32, u32),
    pub registered: u32,
    pub emergency: bool,
    pub education: &'static [&'static str],
    pub vacancy: bool,
}

pub const PROVIDERS: &[Provider] = &[
    Provider {
        id: "prov-care-assist",
        price: 214_900,
        home: ("Crosby House", 53.49, -3.02),
        genders: &["male", "female"],
        ages: (8, 17),
        registered: 4,
        emergency: true,
        education: &["SEMH"],
        vacancy: true,
    },
    Provider {
        id: "prov-family-care-group",
        price: 317_065,
        home: ("Wirral View", 53.40, -3.05),
        genders: &["male"],
        ages: (10, 17),
        registered: 3,
        emergency: false,
        education: &["SEMH"],
        vacancy: true,
    },
    Provider {
        id: "prov-mersey-homes",
        price: 395_000,
        home: ("Didsbury Lodge", 53.48, -2.24),
        genders: &[],
        ages: (8, 17),
        registered: 4,
        emergency: true,
        education: &["SEMH"],
        vacancy: true,
    },
    Provider {
        id: "prov-girls-first",
        price: 300_000,
        home: ("Seaforth Rise", 53.45, -2.95),
        genders: &["female"],
        ages: (8, 17),
        registered: 4,
        emergency: true,
        education: &["SEMH"],
        vacancy: true,
    },
    Provider {
        id: "prov-little-steps",
        price: 280_000,
        home: ("Litherland Cottage", 53.47, -2.97),
        genders: &[],
        ages: (5, 11),
        registered: 4,
        emergency: true,
        education: &[],
        vacancy: true,
    },
    Provider {
        id: "prov-no-vacancy",
        price: 290_000,
        home: ("Orrell Park", 53.44, -2.98),
        genders: &[],
        ages: (8, 17),
        registered: 4,
        emergency: true,
        education: &["SEMH"],
        vacancy: false,
    },
];

/// The foster-care lot's one provider: never invited to a residential competition.
pub const FOSTER_PROVIDER: &str = "prov-brightpath";

/// The provider `id`'s user.
pub fn provider(app: &TestApp, id: &str) -> User {
    app.user(id, Role::Provider)
}

/// Halton, the LCR PPA's lead commissioner.
pub fn halton(app: &TestApp) -> User {
    app.user(HALTON, Role::Commissioner)
}

/// Sefton's commissioner, the council of every referral here.
pub fn sefton(app: &TestApp) -> User {
    app.user(SEFTON, Role::Commissioner)
}

/// Sefton's social worker.
pub fn sefton_social_worker(app: &TestApp) -> User {
    app.user(SEFTON, Role::SocialWorker)
}

/// A framework of the LCR PPA named `name`, of `kind`, with one residential lot.
pub fn framework_body(name: &str, kind: &str) -> Value {
    json!({
        "partnership": "LCR-PPA", "name": name, "kind": kind,
        "start_date": "2020-10-19", "end_date": "2030-10-18",
        "lots": [{"name": "Residential", "placement_type": "residential"}]
    })
}

/// Halton sets up a framework with `body`: its id and its first lot's id.
pub async fn set_up_framework(app: &TestApp, body: &Value) -> (String, String) {
    let (s, fw) = app.frameworks().create(&halton(app), body).await;
    assert_eq!(s, 201, "{fw}");
    let id = fw["id"].as_str().unwrap().to_owned();
    let lot = fw["lots"][0]["id"].as_str().unwrap().to_owned();
    (id, lot)
}

/// The LCR PPA as [`fixture`] sets it up.
pub struct Fixture {
    pub framework: String,
    pub residential: String,
    pub foster: String,
    /// Home id by provider id.
    pub homes: HashMap<String, String>,
}

/// Halton lets the LCR PPA with a residential and a foster-care lot, admits the providers
/// with their Provider Responses; each provider records its home and publishes a vacancy.
pub async fn fixture(app: &TestApp) -> Fixture {
    let halton = halton(app);
    let frameworks = app.frameworks();
    let body = json!({
        "partnership": "LCR-PPA", "name": "LCR Provider Partner Agreement",
        "kind": "provider_partner_agreement", "start_date": "2020-10-19", "end_date": "2030-10-18",
        "lots": [
            {"name": "Residential", "placement_type": "residential"},
            {"name": "Foster care 0-10", "placement_type": "foster_care",
             "min_age_years": 0, "max_age_years": 10}
        ]
    });
    let (s, fw) = frameworks.create(&halton, &body).await;
    assert_eq!(s, 201, "{fw}");
    let framework = fw["id"].as_str().unwrap().to_owned();
    let residential = fw["lots"][0]["id"].as_str().unwrap().to_owned();
    let foster = fw["lots"][1]["id"].as_str().unwrap().to_owned();
    let mut homes = HashMap::new();
    for p in PROVIDERS {
        let home_id = admit_with_home(app, (&framework, &residential), p).await;
        homes.insert(p.id.to_owned(), home_id);
    }
    let brightpath =
        json!({"provider_id": FOSTER_PROVIDER, "name": "Brightpath", "weekly_price_pence": 98_500});
    let (s, b) = frameworks
        .admit(&halton, &framework, &foster, &brightpath)
        .await;
    assert_eq!(s, 201, "{b}");
    Fixture {
        framework,
        residential,
        foster,
        homes,
    }
}

/// Halton admits `p` to the lot; `p` records its home and, if it has one, publishes a
/// vacancy there: the home's id.
async fn admit_with_home(app: &TestApp, (framework, lot): (&str, &str), p: &Provider) -> String {
    let today = Utc::now().date_naive();
    let response = json!({"provider_id": p.id, "name": p.id.trim_start_matches("prov-"),
                          "weekly_prices": {"standard": p.price, "enhanced": p.price + 50_000},
                          "capacity": 4});
    let (s, b) = app
        .frameworks()
        .admit(&halton(app), framework, lot, &response)
        .await;
    assert_eq!(s, 201, "{b}");
    let user = provider(app, p.id);
    let (s, h) = app
        .frameworks()
        .add_home(
            &user,
            framework,
            lot,
            p.id,
            &json!({
                "name": p.home.0, "latitude": p.home.1, "longitude": p.home.2,
                "postcode_district": "L20", "registered_places": p.registered, "occupied_places": 1,
                "genders_accepted": p.genders, "min_age_years": p.ages.0, "max_age_years": p.ages.1,
                "specialisms": ["emotional_behavioural"], "ofsted_rating": "good",
                "emergency_capacity": p.emergency, "educational_provision": p.education
            }),
        )
        .await;
    assert_eq!(s, 201, "{h}");
    let home_id = h["id"].as_str().unwrap().to_owned();
    if p.vacancy {
        let (s, v) = app
            .vacancies()
            .publish(
                &user,
                &json!({"lot_id": lot, "home_id": home_id,
                        "available_from": today.to_string(),
                        "expires_on": (today + Duration::days(30)).to_string(),
                        "suits": "a young person aged 10 to 16 who needs a calm home"}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
    }
    home_id
}

/// A referral from Sefton for a 14-year-old boy in Bootle, on `route`, to the residential
/// lot.
pub fn referral(f: &Fixture, route: &str, urgency: Urgency) -> ReferralSubmitted {
    ReferralSubmitted {
        referral_id: Uuid::now_v7(),
        version: 1,
        council: SEFTON.into(),
        framework_id: f.framework.parse().unwrap(),
        lot_id: f.residential.parse().unwrap(),
        route: route.into(),
        placement_type: "residential".into(),
        urgency,
        age_band: AgeBand::ElevenToFifteen,
        age_years: 14,
        gender: "male".into(),
        needs: vec!["emotional_behavioural".into()],
        educational_needs: vec!["SEMH".into()],
        ehcp: true,
        wanted_start: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        area_district: "L20".into(),
        area_latitude: AREA.0,
        area_longitude: AREA.1,
        max_distance_miles: 20.0,
        submitted_by: "sw-sefton".into(),
    }
}

/// The competition opened for `r` (as its council sees it).
pub async fn competition_of(app: &TestApp, r: &ReferralSubmitted) -> Value {
    let sefton = sefton(app);
    let competitions = app.competitions();
    let (s, list) = competitions
        .list(&sefton, &format!("referral_id={}", r.referral_id))
        .await;
    assert_eq!(s, 200, "{list}");
    let id = list["items"][0]["id"]
        .as_str()
        .expect("a competition")
        .to_owned();
    let (s, c) = competitions.get(&sefton, &id).await;
    assert_eq!(s, 200, "{c}");
    c
}

/// The referral service submits `r`; the competition it opened (as its council sees it).
pub async fn referred(app: &TestApp, r: &ReferralSubmitted) -> Value {
    app.publish("referral", r).await;
    competition_of(app, r).await
}

/// Asserts that an export validates against the OCDS 1.1 release-package schema in
/// `../shared/ocds-1.1/` (draft-04, the release schema registered offline under its URL).
#[track_caller]
pub fn assert_ocds_valid(package: &Value) {
    use std::sync::OnceLock;
    static V: OnceLock<competition::domain::ocds::SchemaValidator> = OnceLock::new();
    let v = V.get_or_init(|| {
        let dir =
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/ocds-1.1");
        competition::domain::ocds::SchemaValidator::load(&dir).unwrap_or_else(|e| panic!("{e:#}"))
    });
    let errors = v.errors(package);
    assert!(errors.is_empty(), "{}\n{package:#}", errors.join("\n"));
}

/// Competition `id` exported as OCDS by Sefton's social worker: 200, and valid.
pub async fn ocds_of(app: &TestApp, id: &str) -> Value {
    let (s, package) = app
        .competitions()
        .ocds(&sefton_social_worker(app), id)
        .await;
    assert_eq!(s, 200, "{package}");
    assert_ocds_valid(&package);
    package
}

/// Lets competition `id`'s deadline pass (a minute ago).
pub async fn deadline_passes(app: &TestApp, id: &str) {
    app.sql(format!(
        "UPDATE competitions SET deadline = '{}' WHERE id = '{id}'",
        (Utc::now() - Duration::minutes(1))
            .naive_utc()
            .format("%Y-%m-%d %H:%M:%S")
    ))
    .await;
}

/// The ids in `v` (strings, or objects' `provider_id`), sorted.
pub fn ids(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            x.as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| x["provider_id"].as_str().unwrap().to_owned())
        })
        .collect();
    out.sort();
    out
}

/// The `id` of `v`, as text.
pub fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// The competition's `ETag`, as its council's commissioner reads it (what an edit of its
/// criteria or preselection sends back in `If-Match`).
pub async fn etag(app: &TestApp, id: &str) -> String {
    app.competitions().etag(&sefton(app), id).await
}
