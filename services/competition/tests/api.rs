//! The competition service on its own: the lead commissioner, the councils and the providers
//! work through the HTTP API; referrals come in as events on the in-process bus; what the
//! service tells others is read from its outbox. Every refusal is checked with its exact
//! status and problem type. Runs on SQLite, and on PostgreSQL at
//! `postgres://postgres@127.0.0.1:5432` unless `HUB_TEST_POSTGRES` says otherwise (a URL
//! template with `{service}`); a database per run is created and dropped.

use chrono::{Duration, NaiveDate, Utc};
use hub_events::{
    AgeBand, CompetitionAwarded, CompetitionCloseReason, CompetitionClosed, CompetitionOpened,
    Envelope, FrameworkPublished, ReferralReturnReason, ReferralReturned, ReferralSubmitted,
    ReferralWithdrawn, Urgency, VacancyPublished, VacancyWithdrawn,
};
use hub_platform::{
    Role,
    db::Migrations,
    directory::{HALTON, NOTTINGHAM, SEFTON, WIRRAL, distance_miles},
};
use hub_testkit::{ServiceCtx, assert_problem, call, on_both};
use serde_json::{Value, json};
use uuid::Uuid;

static SETS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &competition::MIGRATIONS];

/// Bootle (L20): the child's area in every referral here.
const AREA: (f64, f64) = (53.46, -2.99);

/// The residential providers: id, name, standard weekly price, their home (name, lat, lon,
/// genders, ages, emergency capacity, educational provision) and whether it has a vacancy.
struct Provider {
    id: &'static str,
    price: i64,
    home: (&'static str, f64, f64),
    genders: &'static [&'static str],
    ages: (u32, u32),
    registered: u32,
    emergency: bool,
    education: &'static [&'static str],
    vacancy: bool,
}

const PROVIDERS: &[Provider] = &[
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
const FOSTER_PROVIDER: &str = "prov-brightpath";

struct Fixture {
    framework: String,
    residential: String,
    foster: String,
    /// Home id by provider id.
    homes: std::collections::HashMap<String, String>,
}

/// Halton lets the LCR PPA with a residential and a foster-care lot, admits the providers
/// with their Provider Responses; each provider records its home and publishes a vacancy.
async fn fixture<S, B>(ctx: &ServiceCtx, app: &S) -> Fixture
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let halton = ctx.token(HALTON, Role::Commissioner);
    let (s, fw) = call(
        app,
        "POST",
        "/v1/frameworks",
        &halton,
        Some(json!({
            "partnership": "LCR-PPA", "name": "LCR Provider Partner Agreement",
            "kind": "provider_partner_agreement", "start_date": "2020-10-19", "end_date": "2030-10-18",
            "lots": [
                {"name": "Residential", "placement_type": "residential"},
                {"name": "Foster care 0-10", "placement_type": "foster_care", "min_age_years": 0, "max_age_years": 10}
            ]
        })),
    )
    .await;
    assert_eq!(s, 201, "{fw}");
    let framework = fw["id"].as_str().unwrap().to_owned();
    let residential = fw["lots"][0]["id"].as_str().unwrap().to_owned();
    let foster = fw["lots"][1]["id"].as_str().unwrap().to_owned();
    let mut homes = std::collections::HashMap::new();
    let today = Utc::now().date_naive();
    for p in PROVIDERS {
        let (s, b) = call(
            app,
            "POST",
            &format!("/v1/frameworks/{framework}/lots/{residential}/providers"),
            &halton,
            Some(json!({"provider_id": p.id, "name": p.id.trim_start_matches("prov-"),
                        "weekly_prices": {"standard": p.price, "enhanced": p.price + 50_000}, "capacity": 4})),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let token = ctx.token(p.id, Role::Provider);
        let (s, h) = call(
            app,
            "POST",
            &format!(
                "/v1/frameworks/{framework}/lots/{residential}/providers/{}/homes",
                p.id
            ),
            &token,
            Some(json!({
                "name": p.home.0, "latitude": p.home.1, "longitude": p.home.2,
                "postcode_district": "L20", "registered_places": p.registered, "occupied_places": 1,
                "genders_accepted": p.genders, "min_age_years": p.ages.0, "max_age_years": p.ages.1,
                "specialisms": ["emotional_behavioural"], "ofsted_rating": "good",
                "emergency_capacity": p.emergency, "educational_provision": p.education
            })),
        )
        .await;
        assert_eq!(s, 201, "{h}");
        let home_id = h["id"].as_str().unwrap().to_owned();
        if p.vacancy {
            let (s, v) = call(
                app,
                "POST",
                "/v1/vacancies",
                &token,
                Some(json!({"lot_id": residential, "home_id": home_id,
                            "available_from": today.to_string(),
                            "expires_on": (today + Duration::days(30)).to_string(),
                            "suits": "a young person aged 10 to 16 who needs a calm home"})),
            )
            .await;
            assert_eq!(s, 201, "{v}");
        }
        homes.insert(p.id.to_owned(), home_id);
    }
    let (s, b) = call(
        app,
        "POST",
        &format!("/v1/frameworks/{framework}/lots/{foster}/providers"),
        &halton,
        Some(json!({"provider_id": FOSTER_PROVIDER, "name": "Brightpath", "weekly_price_pence": 98_500})),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    Fixture {
        framework,
        residential,
        foster,
        homes,
    }
}

fn referral(f: &Fixture, route: &str, urgency: Urgency) -> ReferralSubmitted {
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
async fn competition_of<S, B>(ctx: &ServiceCtx, app: &S, r: &ReferralSubmitted) -> Value
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let sefton = ctx.token(SEFTON, Role::Commissioner);
    let (s, list) = call(
        app,
        "GET",
        &format!("/v1/competitions?referral_id={}", r.referral_id),
        &sefton,
        None,
    )
    .await;
    assert_eq!(s, 200, "{list}");
    let id = list[0]["id"].as_str().expect("a competition").to_owned();
    let (s, c) = call(app, "GET", &format!("/v1/competitions/{id}"), &sefton, None).await;
    assert_eq!(s, 200, "{c}");
    c
}

/// Asserts that an export validates against the OCDS 1.1 release-package schema in
/// `../shared/ocds-1.1/` (draft-04, the release schema registered offline under its URL).
#[track_caller]
fn assert_ocds_valid(package: &Value) {
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

async fn ocds_of<S, B>(ctx: &ServiceCtx, app: &S, id: &str) -> Value
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let (s, package) = call(
        app,
        "GET",
        &format!("/v1/competitions/{id}/ocds"),
        &ctx.token(SEFTON, Role::SocialWorker),
        None,
    )
    .await;
    assert_eq!(s, 200, "{package}");
    assert_ocds_valid(&package);
    package
}

/// Lets competition `id`'s deadline pass (a minute ago).
async fn deadline_passes(ctx: &ServiceCtx, id: &str) {
    ctx.sql(format!(
        "UPDATE competitions SET deadline = '{}' WHERE id = '{id}'",
        (Utc::now() - Duration::minutes(1))
            .naive_utc()
            .format("%Y-%m-%d %H:%M:%S")
    ))
    .await;
}

fn ids(v: &Value) -> Vec<String> {
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

// ---------------------------------------------------------------------------------------

async fn frameworks_rounds_and_provider_responses(url: &str) {
    let ctx = ServiceCtx::start(url, competition::NAME, &SETS, competition::start).await;
    let app = ctx.app().await;
    let halton = ctx.token(HALTON, Role::Commissioner);
    let sefton = ctx.token(SEFTON, Role::Commissioner);
    let body = |kind: &str| {
        json!({
            "partnership": "LCR-PPA", "name": "LCR PPA", "kind": kind,
            "start_date": "2020-10-19", "end_date": "2030-10-18",
            "lots": [{"name": "Residential", "placement_type": "residential"}]
        })
    };
    // Only the partnership's lead commissioner sets a framework up.
    assert_problem(
        &call(
            &app,
            "POST",
            "/v1/frameworks",
            &sefton,
            Some(body("provider_partner_agreement")),
        )
        .await,
        403,
        "forbidden",
        None,
    );
    let mut bad = body("provider_partner_agreement");
    bad["purchasing_bodies"] = json!(["E99999999"]);
    bad["review_date"] = json!("2019-01-01");
    bad["lots"][0]["default_criteria"] =
        json!([{"criterion": "price", "mode": "scored", "weight": 50}]);
    let r = call(&app, "POST", "/v1/frameworks", &halton, Some(bad)).await;
    assert_problem(
        &r,
        422,
        "validation",
        Some(("/purchasing_bodies/0", "one_of")),
    );
    assert_problem(&r, 422, "validation", Some(("/review_date", "after_start")));
    assert_problem(
        &r,
        422,
        "validation",
        Some(("/lots/0/default_criteria", "sum_100")),
    );

    // A provider partner agreement: reviewed every 2 years, called off by the six councils.
    let (s, fw) = call(
        &app,
        "POST",
        "/v1/frameworks",
        &halton,
        Some(body("provider_partner_agreement")),
    )
    .await;
    assert_eq!(s, 201, "{fw}");
    assert_eq!(fw["review_date"], "2022-10-19");
    assert_eq!(fw["purchasing_bodies"].as_array().unwrap().len(), 6);
    assert_eq!(fw["lead_commissioner"], HALTON);
    assert_eq!(fw["admission_open"], true);
    assert_eq!(fw["admission_rounds"][0]["kind"], "setup");
    assert_eq!(fw["lots"][0]["default_criteria"][0]["weight"], 60);
    let id = fw["id"].as_str().unwrap();
    let lot = fw["lots"][0]["id"].as_str().unwrap();
    let admit = |p: &str| json!({"provider_id": p, "name": p, "weekly_prices": {"standard": 214_900, "complex": 390_000}, "capacity": 6});
    let admit_path = format!("/v1/frameworks/{id}/lots/{lot}/providers");
    let (s, a) = call(
        &app,
        "POST",
        &admit_path,
        &halton,
        Some(admit("prov-care-assist")),
    )
    .await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["weekly_prices"]["complex"], 390_000);
    assert_eq!(a["weekly_price_pence"], 214_900);
    assert_problem(
        &call(
            &app,
            "POST",
            &admit_path,
            &halton,
            Some(admit("prov-care-assist")),
        )
        .await,
        409,
        "already-admitted",
        None,
    );
    assert_problem(
        &call(&app, "POST", &admit_path, &sefton, Some(admit("prov-x"))).await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &admit_path,
            &halton,
            Some(json!({"provider_id": "prov-y", "name": "Y"})),
        )
        .await,
        422,
        "validation",
        Some(("/weekly_prices", "required")),
    );
    // Closing the set-up round stops admissions until a new round opens.
    let round = fw["admission_rounds"][0]["id"].as_str().unwrap();
    let (s, closed) = call(
        &app,
        "POST",
        &format!("/v1/frameworks/{id}/admission-rounds/{round}/close"),
        &halton,
        None,
    )
    .await;
    assert_eq!(s, 200, "{closed}");
    assert_problem(
        &call(&app, "POST", &admit_path, &halton, Some(admit("prov-late"))).await,
        409,
        "admission-closed",
        None,
    );
    let rounds = format!("/v1/frameworks/{id}/admission-rounds");
    let (s, r2) = call(
        &app,
        "POST",
        &rounds,
        &halton,
        Some(json!({"note": "2026 refresh"})),
    )
    .await;
    assert_eq!(s, 201, "{r2}");
    assert_problem(
        &call(&app, "POST", &rounds, &halton, None).await,
        409,
        "round-open",
        None,
    );
    let (s, a) = call(&app, "POST", &admit_path, &halton, Some(admit("prov-late"))).await;
    assert_eq!((s, a["round_id"].clone()), (201, r2["id"].clone()));

    // A framework agreement admits at set-up only.
    let (_, fa) = call(
        &app,
        "POST",
        "/v1/frameworks",
        &halton,
        Some(body("framework_agreement")),
    )
    .await;
    let fa_id = fa["id"].as_str().unwrap();
    let fa_round = fa["admission_rounds"][0]["id"].as_str().unwrap();
    call(
        &app,
        "POST",
        &format!("/v1/frameworks/{fa_id}/admission-rounds/{fa_round}/close"),
        &halton,
        None,
    )
    .await;
    assert_problem(
        &call(
            &app,
            "POST",
            &format!("/v1/frameworks/{fa_id}/admission-rounds"),
            &halton,
            None,
        )
        .await,
        409,
        "closed-system",
        None,
    );

    // A lot's default criteria: weights sum to 100.
    let crit = format!("/v1/frameworks/{id}/lots/{lot}/criteria");
    assert_problem(
        &call(
            &app,
            "PUT",
            &crit,
            &halton,
            Some(
                json!({"criteria": [{"criterion": "price", "mode": "scored", "weight": 70},
                                     {"criterion": "quality", "mode": "scored", "weight": 20}]}),
            ),
        )
        .await,
        422,
        "validation",
        Some(("/criteria", "sum_100")),
    );
    let (s, l) = call(
        &app,
        "PUT",
        &crit,
        &halton,
        Some(
            json!({"criteria": [{"criterion": "location", "mode": "pass_fail"},
                                 {"criterion": "price", "mode": "scored", "weight": 70},
                                 {"criterion": "quality", "mode": "scored", "weight": 30}]}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{l}");
    assert_eq!(l["default_criteria"][0]["mode"], "pass_fail");

    // The provider keeps its homes; nobody else does.
    let home = json!({"name": "Crosby House", "latitude": 53.49, "longitude": -3.02,
                      "postcode_district": "L23", "registered_places": 4});
    let homes = format!("/v1/frameworks/{id}/lots/{lot}/providers/prov-care-assist/homes");
    let care = ctx.token("prov-care-assist", Role::Provider);
    let (s, h) = call(&app, "POST", &homes, &care, Some(home.clone())).await;
    assert_eq!(s, 201, "{h}");
    assert_eq!(
        (h["max_age_years"].as_i64(), h["kind"].as_str()),
        (Some(17), Some("home"))
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &homes,
            &ctx.token("prov-late", Role::Provider),
            Some(home.clone()),
        )
        .await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &call(&app, "POST", &homes, &halton, Some(home.clone())).await,
        403,
        "forbidden",
        None,
    );
    let mut bad_home = home.clone();
    bad_home["latitude"] = json!(-3.02);
    assert_problem(
        &call(&app, "POST", &homes, &care, Some(bad_home)).await,
        422,
        "validation",
        Some(("/latitude", "range")),
    );
    let mut changed = home.clone();
    changed["occupied_places"] = json!(4);
    let (s, h2) = call(
        &app,
        "PUT",
        &format!("{homes}/{}", h["id"].as_str().unwrap()),
        &care,
        Some(changed),
    )
    .await;
    assert_eq!((s, h2["occupied_places"].as_i64()), (200, Some(4)));
    let (s, a) = call(
        &app,
        "GET",
        &format!("/v1/frameworks/{id}/lots/{lot}/providers/prov-care-assist"),
        &sefton,
        None,
    )
    .await;
    assert_eq!(
        (s, a["homes"].as_array().map(Vec::len)),
        (200, Some(1)),
        "{a}"
    );
    assert_problem(
        &call(
            &app,
            "GET",
            &format!("/v1/frameworks/{id}/lots/{lot}/providers/prov-care-assist"),
            &ctx.token("prov-late", Role::Provider),
            None,
        )
        .await,
        404,
        "not-found",
        None,
    );

    // Who reads the framework: a provider sees only its own Provider Response; a council
    // outside the partnership gets 404.
    let (s, seen) = call(&app, "GET", &format!("/v1/frameworks/{id}"), &care, None).await;
    assert_eq!(s, 200);
    assert_eq!(ids(&seen["lots"][0]["providers"]), vec!["prov-care-assist"]);
    let (_, seen) = call(&app, "GET", &format!("/v1/frameworks/{id}"), &sefton, None).await;
    assert_eq!(seen["lots"][0]["providers"].as_array().unwrap().len(), 2);
    assert_problem(
        &call(
            &app,
            "GET",
            &format!("/v1/frameworks/{id}"),
            &ctx.token(NOTTINGHAM, Role::Commissioner),
            None,
        )
        .await,
        404,
        "not-found",
        None,
    );
}

async fn live_vacancies(url: &str) {
    let ctx = ServiceCtx::start(url, competition::NAME, &SETS, competition::start).await;
    let app = ctx.app().await;
    let f = fixture(&ctx, &app).await;
    let published = ctx.outbox_of::<VacancyPublished>().await;
    assert_eq!(published.len(), 5, "one per vacancy");
    assert_eq!(published[0].postcode_district, "L20");
    let sefton = ctx.token(SEFTON, Role::SocialWorker);
    let list = |lot: &str, extra: &str| {
        format!(
            "/v1/vacancies?lot_id={lot}&latitude={}&longitude={}{extra}",
            AREA.0, AREA.1
        )
    };
    // Nearest first, with the great-circle distance.
    let (s, all) = call(&app, "GET", &list(&f.residential, ""), &sefton, None).await;
    assert_eq!(s, 200, "{all}");
    let rows = all.as_array().unwrap();
    assert_eq!(rows.len(), 5);
    let miles: Vec<f64> = rows
        .iter()
        .map(|r| r["distance_miles"].as_f64().unwrap())
        .collect();
    assert!(miles.windows(2).all(|w| w[0] <= w[1]), "{miles:?}");
    let far = PROVIDERS
        .iter()
        .find(|p| p.id == "prov-mersey-homes")
        .unwrap();
    let expected = distance_miles(AREA.0, AREA.1, far.home.1, far.home.2);
    assert_eq!(rows[4]["provider_id"], "prov-mersey-homes");
    assert!((miles[4] - expected).abs() < 1e-9);
    assert_eq!(rows[4]["home_name"], "Didsbury Lodge");
    let (_, near) = call(
        &app,
        "GET",
        &list(&f.residential, "&max_miles=10"),
        &sefton,
        None,
    )
    .await;
    assert_eq!(near.as_array().unwrap().len(), 4);
    // Bad queries and unseen lots.
    assert_problem(
        &call(&app, "GET", "/v1/vacancies", &sefton, None).await,
        422,
        "validation",
        Some(("lot_id", "required")),
    );
    assert_problem(
        &call(
            &app,
            "GET",
            &format!("/v1/vacancies?lot_id={}&latitude=53.4", f.residential),
            &sefton,
            None,
        )
        .await,
        422,
        "validation",
        Some(("latitude", "pair")),
    );
    assert_problem(
        &call(
            &app,
            "GET",
            &list(&f.residential, ""),
            &ctx.token(NOTTINGHAM, Role::Commissioner),
            None,
        )
        .await,
        404,
        "not-found",
        None,
    );
    // A provider publishes at its own homes only, in lots it is admitted to.
    let care = ctx.token("prov-care-assist", Role::Provider);
    let today = Utc::now().date_naive();
    let v = |home: &str, lot: &str, expires: NaiveDate| {
        json!({"lot_id": lot, "home_id": home, "available_from": (expires - Duration::days(10)).to_string(),
               "expires_on": expires.to_string(), "suits": "a boy aged 12 to 15"})
    };
    assert_problem(
        &call(
            &app,
            "POST",
            "/v1/vacancies",
            &care,
            Some(v(&f.homes["prov-girls-first"], &f.residential, today)),
        )
        .await,
        422,
        "validation",
        Some(("/home_id", "exists")),
    );
    assert_problem(
        &call(
            &app,
            "POST",
            "/v1/vacancies",
            &care,
            Some(v(&f.homes["prov-care-assist"], &f.foster, today)),
        )
        .await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &call(
            &app,
            "POST",
            "/v1/vacancies",
            &care,
            Some(v(
                &f.homes["prov-care-assist"],
                &f.residential,
                today - Duration::days(1),
            )),
        )
        .await,
        422,
        "validation",
        Some(("/expires_on", "not_past")),
    );
    assert_problem(
        &call(
            &app,
            "POST",
            "/v1/vacancies",
            &sefton,
            Some(v(&f.homes["prov-care-assist"], &f.residential, today)),
        )
        .await,
        403,
        "forbidden",
        None,
    );
    // A provider lists its own; updates and withdraws them; others' are 404.
    let (s, mine) = call(&app, "GET", "/v1/vacancies", &care, None).await;
    assert_eq!((s, mine.as_array().unwrap().len()), (200, 1));
    let vid = mine[0]["id"].as_str().unwrap().to_owned();
    let (s, u) = call(
        &app,
        "PUT",
        &format!("/v1/vacancies/{vid}"),
        &care,
        Some(json!({"available_from": today.to_string(), "expires_on": (today + Duration::days(7)).to_string(),
                    "suits": "a boy aged 13 to 16", "places": 2})),
    )
    .await;
    assert_eq!((s, u["places"].as_i64()), (200, Some(2)), "{u}");
    assert_eq!(ctx.outbox_of::<VacancyPublished>().await.len(), 6);
    assert_problem(
        &call(
            &app,
            "POST",
            &format!("/v1/vacancies/{vid}/withdraw"),
            &ctx.token("prov-girls-first", Role::Provider),
            None,
        )
        .await,
        404,
        "not-found",
        None,
    );
    let (s, w) = call(
        &app,
        "POST",
        &format!("/v1/vacancies/{vid}/withdraw"),
        &care,
        Some(json!({"reason": "place filled"})),
    )
    .await;
    assert_eq!((s, w["status"].as_str()), (200, Some("withdrawn")), "{w}");
    let withdrawn = ctx.outbox_of::<VacancyWithdrawn>().await;
    assert_eq!(
        (withdrawn.len(), withdrawn[0].reason.as_str()),
        (1, "place filled")
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &format!("/v1/vacancies/{vid}/withdraw"),
            &care,
            None,
        )
        .await,
        409,
        "vacancy-not-live",
        None,
    );
    // Expired vacancies disappear.
    ctx.sql(format!(
        "UPDATE vacancies SET expires_on = '{}' WHERE provider_id = 'prov-mersey-homes'",
        today - Duration::days(1)
    ))
    .await;
    let (_, left) = call(&app, "GET", &list(&f.residential, ""), &sefton, None).await;
    let mut providers = ids(&left);
    providers.dedup();
    assert_eq!(
        providers,
        vec![
            "prov-family-care-group",
            "prov-girls-first",
            "prov-little-steps"
        ]
    );
}

async fn mini_competition_bids_scores_and_award(url: &str) {
    let ctx = ServiceCtx::start(url, competition::NAME, &SETS, competition::start).await;
    let app = ctx.app().await;
    let f = fixture(&ctx, &app).await;
    let r = referral(&f, "mini_competition", Urgency::Planned);
    ctx.publish("referral", &r).await;
    ctx.publish("referral", &r).await; // redelivered: still one competition
    let c = competition_of(&ctx, &app, &r).await;
    assert_eq!(c["status"], "open");
    assert_eq!(c["need_level"], "standard");
    let all: Vec<String> = {
        let mut v: Vec<String> = PROVIDERS.iter().map(|p| p.id.to_owned()).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&c["invited"]), all, "every provider of the lot");
    let opened = ctx.outbox_of::<CompetitionOpened>().await;
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].invited.len(), 6);
    let id = c["id"].as_str().unwrap().to_owned();
    let path = |p: &str| format!("/v1/competitions/{id}{p}");
    let sefton = ctx.token(SEFTON, Role::Commissioner);

    // Criteria: weights must sum to 100; only the council's commissioners set them.
    assert_problem(
        &call(
            &app,
            "PUT",
            &path("/criteria"),
            &sefton,
            Some(
                json!({"criteria": [{"criterion": "price", "mode": "scored", "weight": 50},
                                     {"criterion": "quality", "mode": "scored", "weight": 40}]}),
            ),
        )
        .await,
        422,
        "validation",
        Some(("/criteria", "sum_100")),
    );
    let criteria = json!({"criteria": [
        {"criterion": "compatibility", "mode": "pass_fail"},
        {"criterion": "price", "mode": "scored", "weight": 50},
        {"criterion": "location", "mode": "scored", "weight": 20},
        {"criterion": "quality", "mode": "scored", "weight": 30}]});
    assert_problem(
        &call(
            &app,
            "PUT",
            &path("/criteria"),
            &ctx.token(SEFTON, Role::SocialWorker),
            Some(criteria.clone()),
        )
        .await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &call(
            &app,
            "PUT",
            &path("/criteria"),
            &ctx.token(WIRRAL, Role::Commissioner),
            Some(criteria.clone()),
        )
        .await,
        404,
        "not-found",
        None,
    );
    let (s, c2) = call(
        &app,
        "PUT",
        &path("/criteria"),
        &sefton,
        Some(criteria.clone()),
    )
    .await;
    assert_eq!(
        (s, c2["criteria"].as_array().map(Vec::len)),
        (200, Some(4)),
        "{c2}"
    );

    // Bids: only invited providers.
    let bid = |price: i64, home: &str, evidence: Option<&str>| {
        let mut b = json!({"weekly_price_pence": price, "start_date": "2026-12-01", "home_id": home,
                           "answers": {"quality": "Ofsted good; a key worker who plays football"}});
        if let Some(e) = evidence {
            b["price_variation_evidence"] = json!(e);
        }
        b
    };
    let care = ctx.token("prov-care-assist", Role::Provider);
    let fcg = ctx.token("prov-family-care-group", Role::Provider);
    let girls = ctx.token("prov-girls-first", Role::Provider);
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/bids"),
            &ctx.token(FOSTER_PROVIDER, Role::Provider),
            Some(bid(90_000, &f.homes["prov-care-assist"], None)),
        )
        .await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &call(
            &app,
            "GET",
            &path(""),
            &ctx.token(FOSTER_PROVIDER, Role::Provider),
            None,
        )
        .await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/bids"),
            &sefton,
            Some(bid(90_000, &f.homes["prov-care-assist"], None)),
        )
        .await,
        403,
        "forbidden",
        None,
    );
    // Above the Provider Response rate: refused without evidence, accepted with it.
    let over = call(
        &app,
        "POST",
        &path("/bids"),
        &care,
        Some(bid(280_000, &f.homes["prov-care-assist"], None)),
    )
    .await;
    assert_problem(
        &over,
        422,
        "price-above-provider-response",
        Some(("/weekly_price_pence", "provider_response")),
    );
    assert!(
        over.1["detail"].as_str().unwrap().contains("£2,149.00"),
        "{}",
        over.1
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/bids"),
            &care,
            Some(bid(280_000, &f.homes["prov-care-assist"], Some("  "))),
        )
        .await,
        422,
        "price-above-provider-response",
        None,
    );
    let (s, b1) = call(
        &app,
        "POST",
        &path("/bids"),
        &care,
        Some(bid(
            280_000,
            &f.homes["prov-care-assist"],
            Some("1:1 staffing at night for the first month"),
        )),
    )
    .await;
    assert_eq!(s, 201, "{b1}");
    assert_eq!(b1["provider_response_pence"], 214_900);
    assert_eq!(b1["home_name"], "Crosby House");
    // Resubmission replaces the live bid.
    let (s, b2) = call(
        &app,
        "POST",
        &path("/bids"),
        &care,
        Some(bid(210_000, &f.homes["prov-care-assist"], None)),
    )
    .await;
    assert_eq!(s, 201, "{b2}");
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/bids"),
            &fcg,
            Some(bid(300_000, &f.homes["prov-care-assist"], None)),
        )
        .await,
        422,
        "validation",
        Some(("/home_id", "exists")),
    );
    let mut answers = bid(300_000, &f.homes["prov-family-care-group"], None);
    answers["answers"] = json!({"best_match": "x"});
    assert_problem(
        &call(&app, "POST", &path("/bids"), &fcg, Some(answers)).await,
        422,
        "validation",
        Some(("/answers/best_match", "criterion")),
    );
    let (s, b3) = call(
        &app,
        "POST",
        &path("/bids"),
        &fcg,
        Some(bid(300_000, &f.homes["prov-family-care-group"], None)),
    )
    .await;
    assert_eq!(s, 201, "{b3}");
    let (s, b4) = call(
        &app,
        "POST",
        &path("/bids"),
        &girls,
        Some(bid(250_000, &f.homes["prov-girls-first"], None)),
    )
    .await;
    assert_eq!(s, 201, "{b4}");
    let (_, seen) = call(&app, "GET", &path(""), &sefton, None).await;
    assert_eq!(
        seen["bids"].as_array().unwrap().len(),
        3,
        "one live bid per provider"
    );
    assert_eq!(
        seen["bids"][0]["answers"]["quality"],
        "Ofsted good; a key worker who plays football"
    );
    let (_, own) = call(&app, "GET", &path(""), &care, None).await;
    assert_eq!(
        own["bids"].as_array().unwrap().len(),
        1,
        "a provider sees its own bid"
    );
    assert_eq!(ids(&own["invited"]), vec!["prov-care-assist"]);
    assert!(own.get("history").is_none() && own.get("left_out").is_none());
    assert_problem(
        &call(&app, "PUT", &path("/criteria"), &sefton, Some(criteria)).await,
        409,
        "bids-received",
        None,
    );

    // Before the deadline, no award while an invited provider has neither bid nor declined:
    // the three who have not are named.
    let early = call(&app, "POST", &path("/award"), &sefton, None).await;
    assert_problem(&early, 409, "bidding-open", None);
    let detail = early.1["detail"].as_str().unwrap();
    for waiting in ["prov-little-steps", "prov-mersey-homes", "prov-no-vacancy"] {
        assert!(detail.contains(waiting), "{detail}");
    }
    assert!(!detail.contains("prov-care-assist"), "{detail}");

    // The other three decline, each with a reason code. Only an invited provider may.
    let decline = |reason: &str, note: Option<&str>| json!({"reason": reason, "note": note});
    let mersey = ctx.token("prov-mersey-homes", Role::Provider);
    let steps = ctx.token("prov-little-steps", Role::Provider);
    let novac = ctx.token("prov-no-vacancy", Role::Provider);
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/decline"),
            &ctx.token(FOSTER_PROVIDER, Role::Provider),
            Some(decline("no_capacity", None)),
        )
        .await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/decline"),
            &sefton,
            Some(decline("no_capacity", None)),
        )
        .await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/decline"),
            &novac,
            Some(decline("other", Some(" "))),
        )
        .await,
        422,
        "validation",
        Some(("/note", "required")),
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/decline"),
            &novac,
            Some(decline("too_busy", None)),
        )
        .await,
        422,
        "validation",
        None,
    );
    // Mersey Homes bid, then declines: the decline withdraws its bid.
    let (s, mb) = call(
        &app,
        "POST",
        &path("/bids"),
        &mersey,
        Some(bid(390_000, &f.homes["prov-mersey-homes"], None)),
    )
    .await;
    assert_eq!(s, 201, "{mb}");
    for (token, reason, note) in [
        (
            &mersey,
            "location",
            Some("our home is in Didsbury, too far from school"),
        ),
        (&steps, "cannot_meet_needs", None),
        (&novac, "other", Some("registration inspection that week")),
        (&novac, "no_capacity", None),
    ] {
        let (s, v) = call(
            &app,
            "POST",
            &path("/decline"),
            token,
            Some(decline(reason, note)),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(
            v["declined"].as_array().unwrap().len(),
            1,
            "a provider sees its own decline: {v}"
        );
        assert_eq!(v["declined"][0]["reason"], reason);
    }
    let (_, seen) = call(&app, "GET", &path(""), &sefton, None).await;
    let declined: Vec<(&str, &str)> = seen["declined"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["provider_id"].as_str().unwrap(),
                d["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        declined,
        vec![
            ("prov-little-steps", "cannot_meet_needs"),
            ("prov-mersey-homes", "location"),
            ("prov-no-vacancy", "no_capacity"),
        ],
        "the commissioner sees who declined and why"
    );
    assert_eq!(
        seen["declined"][1]["note"],
        "our home is in Didsbury, too far from school"
    );
    assert_eq!(
        seen["bids"].as_array().unwrap().len(),
        3,
        "Mersey's bid withdrawn: {seen}"
    );

    // Evaluation: the compatibility gate is undecided, so no award yet.
    let (s, ev) = call(&app, "POST", &path("/evaluate"), &sefton, None).await;
    assert_eq!(s, 200, "{ev}");
    assert_eq!(ev["gates_decided"], false);
    let incomplete = call(&app, "POST", &path("/award"), &sefton, None).await;
    assert_problem(&incomplete, 409, "evaluation-incomplete", None);
    assert!(
        incomplete.1["detail"]
            .as_str()
            .unwrap()
            .contains("compatibility"),
        "{}",
        incomplete.1
    );

    // Scoring: the commissioner marks the gate and quality; price and location are automatic.
    let (cid, fid, gid) = (
        b2["id"].as_str().unwrap(),
        b3["id"].as_str().unwrap(),
        b4["id"].as_str().unwrap(),
    );
    let mark = |bid: &str, criterion: &str| path(&format!("/bids/{bid}/scores/{criterion}"));
    for (b, passed, reason) in [
        (cid, true, "matches his need for a calm home"),
        (fid, true, "boys' home, right age range"),
        (gid, false, "the home takes girls only"),
    ] {
        let (s, m) = call(
            &app,
            "PUT",
            &mark(b, "compatibility"),
            &sefton,
            Some(json!({"passed": passed, "reason": reason})),
        )
        .await;
        assert_eq!(s, 200, "{m}");
    }
    assert_problem(
        &call(
            &app,
            "PUT",
            &mark(cid, "price"),
            &sefton,
            Some(json!({"score": 10, "reason": "x"})),
        )
        .await,
        422,
        "validation",
        Some(("criterion", "automatic")),
    );
    assert_problem(
        &call(
            &app,
            "PUT",
            &mark(cid, "quality"),
            &sefton,
            Some(json!({"score": 31, "reason": "x"})),
        )
        .await,
        422,
        "validation",
        Some(("/score", "max")),
    );
    assert_problem(
        &call(
            &app,
            "PUT",
            &mark(cid, "quality"),
            &sefton,
            Some(json!({"score": 20})),
        )
        .await,
        422,
        "validation",
        Some(("/reason", "required")),
    );
    assert_problem(
        &call(
            &app,
            "PUT",
            &mark(cid, "quality"),
            &ctx.token(SEFTON, Role::SocialWorker),
            Some(json!({"score": 20, "reason": "x"})),
        )
        .await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &call(
            &app,
            "PUT",
            &mark(cid, "best_match"),
            &sefton,
            Some(json!({"score": 1, "reason": "x"})),
        )
        .await,
        422,
        "validation",
        Some(("criterion", "not_in_competition")),
    );
    for (b, points, reason) in [
        (cid, 20, "good; limited evidence of education support"),
        (fid, 30, "outstanding; strong education offer"),
    ] {
        // Every gate is decided now, but quality (30 of 100 points) is not yet scored for
        // Family Care Group's acceptable bid: no award yet, and the mark is named.
        if b == fid {
            let incomplete = call(&app, "POST", &path("/award"), &sefton, None).await;
            assert_problem(
                &incomplete,
                409,
                "evaluation-incomplete",
                Some((&format!("/bids/{fid}/scores/quality"), "undecided")),
            );
            assert_eq!(
                incomplete.1["errors"].as_array().unwrap().len(),
                1,
                "{}",
                incomplete.1
            );
        }
        let (s, m) = call(
            &app,
            "PUT",
            &mark(b, "quality"),
            &sefton,
            Some(json!({"score": points, "reason": reason})),
        )
        .await;
        assert_eq!(s, 200, "{m}");
    }
    let (_, ev) = call(&app, "POST", &path("/evaluate"), &sefton, None).await;
    assert_eq!(ev["gates_decided"], true, "{ev}");
    assert_eq!(ev["winner"], cid);
    let home = |p: &str| PROVIDERS.iter().find(|x| x.id == p).unwrap().home;
    let loc = |p: &str| {
        let h = home(p);
        let d = distance_miles(h.1, h.2, AREA.0, AREA.1);
        (2000.0 * (1.0 - d / 20.0)).round() as u64
    };
    let care_row = &ev["ranking"][0];
    let fcg_row = &ev["ranking"][1];
    let score_of = |row: &Value, c: &str| {
        row["scores"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["criterion"] == c)
            .unwrap()["score"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(care_row["bid_id"], cid);
    assert_eq!(score_of(care_row, "price"), 5000);
    // 50 × 210,000 / 300,000 = 35.00
    assert_eq!(score_of(fcg_row, "price"), 3500);
    assert_eq!(score_of(care_row, "location"), loc("prov-care-assist"));
    assert_eq!(score_of(fcg_row, "location"), loc("prov-family-care-group"));
    assert_eq!(
        care_row["total"].as_u64().unwrap(),
        5000 + 2000 + loc("prov-care-assist")
    );
    assert_eq!(ev["ranking"][2]["acceptable"], false);
    assert!(ev["ranking"][2]["rank"].is_null());

    // Award: naming a bid that is not the best value is refused; the best value wins.
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/award"),
            &sefton,
            Some(json!({"bid_id": fid})),
        )
        .await,
        409,
        "not-best-value",
        None,
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/award"),
            &sefton,
            Some(json!({"bid_id": Uuid::now_v7()})),
        )
        .await,
        422,
        "validation",
        Some(("/bid_id", "exists")),
    );
    let (s, awarded) = call(
        &app,
        "POST",
        &path("/award"),
        &sefton,
        Some(json!({"bid_id": cid})),
    )
    .await;
    assert_eq!(s, 200, "{awarded}");
    assert_eq!(awarded["awarded_provider"], "prov-care-assist");
    assert_eq!(awarded["awarded_rate_pence"], 210_000);
    let events = ctx.outbox_of::<CompetitionAwarded>().await;
    assert_eq!(events.len(), 1);
    let a = &events[0];
    assert!(!a.direct);
    assert_eq!(a.weekly_rate_pence, 210_000);
    let mut unsuccessful = a.unsuccessful.clone();
    unsuccessful.sort();
    assert_eq!(
        unsuccessful,
        vec!["prov-family-care-group", "prov-girls-first"]
    );
    assert_eq!(a.outcomes.len(), 2);
    let fcg_out = a
        .outcomes
        .iter()
        .find(|o| o.provider_id == "prov-family-care-group")
        .unwrap();
    assert_eq!(
        fcg_out.winner_total,
        care_row["total"].as_u64().map(|t| t as u32)
    );
    let q = fcg_out
        .scores
        .iter()
        .find(|s| s.criterion == "quality")
        .unwrap();
    assert_eq!((q.score, q.winner_score), (Some(3000), Some(2000)));
    let p = fcg_out
        .scores
        .iter()
        .find(|s| s.criterion == "price")
        .unwrap();
    assert_eq!(
        (p.score, p.winner_score, p.weight),
        (Some(3500), Some(5000), 50)
    );
    assert!(
        fcg_out
            .reasons
            .iter()
            .any(|r| r.starts_with("price: 35.00 against 50.00")),
        "{:?}",
        fcg_out.reasons
    );
    let girls_out = a
        .outcomes
        .iter()
        .find(|o| o.provider_id == "prov-girls-first")
        .unwrap();
    assert_eq!(girls_out.total, None);
    assert_eq!(
        girls_out.reasons[0],
        "did not pass the compatibility requirement: the home takes girls only"
    );
    // Each unsuccessful provider is told its own price and the winner's name.
    assert_eq!(fcg_out.weekly_price_pence, Some(300_000));
    assert_eq!(fcg_out.winner_name.as_deref(), Some("care-assist"));
    // Declining is over once the competition is awarded.
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/decline"),
            &fcg,
            Some(decline("no_capacity", None)),
        )
        .await,
        409,
        "competition-closed",
        None,
    );
    // The council exports the competition as OCDS: tender, then award, linked to the
    // framework. Nobody else may.
    let package = ocds_of(&ctx, &app, &id).await;
    let releases = package["releases"].as_array().unwrap();
    assert_eq!(releases.len(), 2);
    assert_eq!(releases[1]["tag"], json!(["award"]));
    assert_eq!(
        releases[1]["awards"][0]["suppliers"][0]["id"],
        "prov-care-assist"
    );
    assert_eq!(
        releases[0]["relatedProcesses"][0]["relationship"],
        json!(["framework"])
    );
    assert!(package["uri"].as_str().unwrap().ends_with(&path("/ocds")));
    assert_problem(
        &call(
            &app,
            "GET",
            &path("/ocds"),
            &ctx.token(WIRRAL, Role::Commissioner),
            None,
        )
        .await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &call(&app, "GET", &path("/ocds"), &care, None).await,
        404,
        "not-found",
        None,
    );

    // Awarded: no more bids, no second award.
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/bids"),
            &fcg,
            Some(bid(200_000, &f.homes["prov-family-care-group"], None)),
        )
        .await,
        409,
        "competition-closed",
        None,
    );
    assert_problem(
        &call(&app, "POST", &path("/award"), &sefton, None).await,
        409,
        "competition-closed",
        None,
    );

    // A late bid.
    let r2 = referral(&f, "mini_competition", Urgency::Emergency);
    ctx.publish("referral", &r2).await;
    let c2 = competition_of(&ctx, &app, &r2).await;
    let id2 = c2["id"].as_str().unwrap();
    deadline_passes(&ctx, id2).await;
    assert_problem(
        &call(
            &app,
            "POST",
            &format!("/v1/competitions/{id2}/bids"),
            &care,
            Some(bid(200_000, &f.homes["prov-care-assist"], None)),
        )
        .await,
        409,
        "deadline-passed",
        None,
    );
}

async fn preselected_competitions(url: &str) {
    let ctx = ServiceCtx::start(url, competition::NAME, &SETS, competition::start).await;
    let app = ctx.app().await;
    let f = fixture(&ctx, &app).await;
    let r = referral(&f, "preselected_mini_competition", Urgency::Planned);
    ctx.publish("referral", &r).await;
    let c = competition_of(&ctx, &app, &r).await;
    assert_eq!(c["status"], "draft");
    assert!(
        ctx.outbox_of::<CompetitionOpened>().await.is_empty(),
        "nobody told yet"
    );
    assert_eq!(
        ids(&c["would_invite"]),
        vec!["prov-care-assist", "prov-family-care-group"]
    );
    let reasons = |c: &Value, p: &str| -> Vec<String> {
        c["left_out"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["provider_id"] == p)
            .map(|l| {
                l["reasons"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["code"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(reasons(&c, "prov-mersey-homes"), vec!["too_far"]);
    assert_eq!(reasons(&c, "prov-girls-first"), vec!["gender_not_accepted"]);
    assert_eq!(
        reasons(&c, "prov-little-steps"),
        vec!["age_not_accepted", "educational_needs_not_met"]
    );
    assert_eq!(reasons(&c, "prov-no-vacancy"), vec!["no_live_vacancy"]);
    let far = &c["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["provider_id"] == "prov-mersey-homes")
        .unwrap()["reasons"][0];
    assert!(
        far["detail"]
            .as_str()
            .unwrap()
            .contains("miles from L20, beyond the 20 allowed"),
        "{far}"
    );
    assert_eq!(c["preselection"]["filters"]["emergency_capacity"], false);
    let id = c["id"].as_str().unwrap().to_owned();
    let path = |p: &str| format!("/v1/competitions/{id}{p}");
    let sefton = ctx.token(SEFTON, Role::Commissioner);
    let care = ctx.token("prov-care-assist", Role::Provider);
    assert_problem(
        &call(&app, "GET", &path("/ocds"), &sefton, None).await,
        409,
        "competition-state",
        None,
    );
    // Providers know nothing of a draft.
    assert_problem(
        &call(&app, "GET", &path(""), &care, None).await,
        404,
        "not-found",
        None,
    );

    // The commissioner changes the tests, saying why.
    let filters = json!({"home_size": true, "distance": true, "live_vacancy": true, "gender": true,
                         "age": true, "educational_needs": true});
    assert_problem(
        &call(
            &app,
            "PUT",
            &path("/preselection"),
            &sefton,
            Some(json!({"filters": filters})),
        )
        .await,
        422,
        "validation",
        Some(("/reason", "required")),
    );
    let (s, c2) = call(
        &app,
        "PUT",
        &path("/preselection"),
        &sefton,
        Some(json!({"filters": filters, "places_needed": 4, "reason": "a sibling group of four"})),
    )
    .await;
    assert_eq!(s, 200, "{c2}");
    assert!(c2["would_invite"].as_array().unwrap().is_empty());
    assert_eq!(reasons(&c2, "prov-care-assist"), vec!["home_full"]);
    assert_eq!(
        reasons(&c2, "prov-family-care-group"),
        vec!["home_too_small"]
    );
    let mut filters = filters;
    filters["live_vacancy"] = json!(false);
    let (s, c3) = call(
        &app,
        "PUT",
        &path("/preselection"),
        &sefton,
        Some(json!({"filters": filters, "places_needed": 1,
                    "reason": "vacancy lists lag: ask providers without a listed vacancy too"})),
    )
    .await;
    assert_eq!(s, 200, "{c3}");
    assert_eq!(
        ids(&c3["would_invite"]),
        vec![
            "prov-care-assist",
            "prov-family-care-group",
            "prov-no-vacancy"
        ]
    );
    assert_eq!(c3["preselection"]["set_by"], "user-of-E08000014");
    assert_problem(
        &call(
            &app,
            "PUT",
            &path("/criteria"),
            &sefton,
            Some(
                json!({"criteria": [{"criterion": "price", "mode": "scored", "weight": 60},
                                     {"criterion": "quality", "mode": "scored", "weight": 50}]}),
            ),
        )
        .await,
        422,
        "validation",
        Some(("/criteria", "sum_100")),
    );
    let (s, _) = call(
        &app,
        "PUT",
        &path("/criteria"),
        &sefton,
        Some(
            json!({"criteria": [{"criterion": "price", "mode": "scored", "weight": 40},
                                 {"criterion": "best_match", "mode": "scored", "weight": 60}],
                    "need_level": "enhanced"}),
        ),
    )
    .await;
    assert_eq!(s, 200);

    // Confirming: a deadline in the past is refused; then the three are invited and told.
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/open"),
            &sefton,
            Some(json!({"deadline": "2020-01-01T00:00:00Z"})),
        )
        .await,
        422,
        "validation",
        Some(("/deadline", "future")),
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/open"),
            &ctx.token(SEFTON, Role::SocialWorker),
            None,
        )
        .await,
        403,
        "forbidden",
        None,
    );
    let (s, opened) = call(&app, "POST", &path("/open"), &sefton, None).await;
    assert_eq!(s, 200, "{opened}");
    assert_eq!(opened["status"], "open");
    assert_eq!(
        ids(&opened["invited"]),
        vec![
            "prov-care-assist",
            "prov-family-care-group",
            "prov-no-vacancy"
        ]
    );
    assert_eq!(
        reasons(&opened, "prov-mersey-homes"),
        vec!["too_far"],
        "left out, recorded"
    );
    let history: Vec<&str> = opened["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        history,
        vec![
            "preselection_changed",
            "preselection_changed",
            "criteria_changed",
            "opened"
        ]
    );
    let events = ctx.outbox_of::<CompetitionOpened>().await;
    assert_eq!(events.len(), 1);
    let mut invited = events[0].invited.clone();
    invited.sort();
    assert_eq!(
        invited,
        vec![
            "prov-care-assist",
            "prov-family-care-group",
            "prov-no-vacancy"
        ]
    );
    assert_problem(
        &call(&app, "POST", &path("/open"), &sefton, None).await,
        409,
        "competition-state",
        None,
    );
    assert_problem(
        &call(
            &app,
            "PUT",
            &path("/preselection"),
            &sefton,
            Some(json!({"filters": {}, "reason": "x"})),
        )
        .await,
        409,
        "competition-state",
        None,
    );
    let package = ocds_of(&ctx, &app, &id).await;
    assert_eq!(package["releases"].as_array().unwrap().len(), 1);
    // A provider left out cannot see or bid; an invited one bids at its enhanced rate.
    let mersey = ctx.token("prov-mersey-homes", Role::Provider);
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/bids"),
            &mersey,
            Some(json!({"weekly_price_pence": 300_000, "start_date": "2026-12-01"})),
        )
        .await,
        404,
        "not-found",
        None,
    );
    let (s, b) = call(
        &app,
        "POST",
        &path("/bids"),
        &care,
        Some(json!({"weekly_price_pence": 264_900, "start_date": "2026-12-01"})),
    )
    .await;
    assert_eq!(
        (s, b["provider_response_pence"].as_i64()),
        (201, Some(264_900)),
        "{b}"
    );
}

async fn close_reopen_reroute_and_withdraw(url: &str) {
    let ctx = ServiceCtx::start(url, competition::NAME, &SETS, competition::start).await;
    let app = ctx.app().await;
    let f = fixture(&ctx, &app).await;
    let sefton = ctx.token(SEFTON, Role::Commissioner);
    let r = referral(&f, "mini_competition", Urgency::Urgent);
    ctx.publish("referral", &r).await;
    let id = competition_of(&ctx, &app, &r).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = |p: &str| format!("/v1/competitions/{id}{p}");
    let (s, _) = call(
        &app,
        "PUT",
        &path("/criteria"),
        &sefton,
        Some(
            json!({"criteria": [{"criterion": "location", "mode": "pass_fail"},
                                 {"criterion": "price", "mode": "scored", "weight": 100}]}),
        ),
    )
    .await;
    assert_eq!(s, 200);
    // The only bid is from a home 31 miles away: it fails the location gate.
    let mersey = ctx.token("prov-mersey-homes", Role::Provider);
    let (s, b) = call(
        &app,
        "POST",
        &path("/bids"),
        &mersey,
        Some(json!({"weekly_price_pence": 390_000, "start_date": "2026-12-01", "home_id": f.homes["prov-mersey-homes"]})),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let (_, ev) = call(&app, "POST", &path("/evaluate"), &sefton, None).await;
    assert!(ev["winner"].is_null(), "{ev}");
    assert!(
        ev["ranking"][0]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("did not pass the location requirement"),
        "{ev}"
    );
    // Before the deadline, with five invited providers yet to answer, neither an award nor a
    // close without one: the other providers were promised 24 hours.
    assert_problem(
        &call(&app, "POST", &path("/award"), &sefton, None).await,
        409,
        "bidding-open",
        None,
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/close"),
            &sefton,
            Some(json!({"reason": "no_acceptable_bid"})),
        )
        .await,
        409,
        "bidding-open",
        None,
    );
    // The commissioner closes bidding early, with a reason code every invited provider is
    // told; the note stays in the council's history.
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/close-bidding"),
            &sefton,
            Some(json!({"reason": "other"})),
        )
        .await,
        422,
        "validation",
        Some(("/note", "required")),
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/close-bidding"),
            &ctx.token(SEFTON, Role::SocialWorker),
            Some(json!({"reason": "placement_needed_sooner"})),
        )
        .await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/close-bidding"),
            &mersey,
            Some(json!({"reason": "placement_needed_sooner"})),
        )
        .await,
        404,
        "not-found",
        None,
    );
    let (s, cb) = call(
        &app,
        "POST",
        &path("/close-bidding"),
        &sefton,
        Some(json!({"reason": "placement_needed_sooner", "note": "his current placement ends on Friday"})),
    )
    .await;
    assert_eq!(s, 200, "{cb}");
    assert_eq!(cb["bidding_closed_reason"], "placement_needed_sooner");
    assert!(cb["bidding_closed_at"].is_string(), "{cb}");
    let told = ctx.outbox_of::<hub_events::BiddingClosed>().await;
    assert_eq!(told.len(), 1);
    assert_eq!(
        (
            told[0].reason.as_str(),
            told[0].invited.len(),
            told[0].competition_id.to_string()
        ),
        ("placement_needed_sooner", 6, id.clone())
    );
    assert!(
        !serde_json::to_string(&told[0]).unwrap().contains("Friday"),
        "the note stays with the council"
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/bids"),
            &ctx.token("prov-care-assist", Role::Provider),
            Some(json!({"weekly_price_pence": 200_000, "start_date": "2026-12-01"})),
        )
        .await,
        409,
        "bidding-closed",
        None,
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/close-bidding"),
            &sefton,
            Some(json!({"reason": "court_timescale"})),
        )
        .await,
        409,
        "bidding-closed",
        None,
    );
    assert_problem(
        &call(&app, "POST", &path("/award"), &sefton, None).await,
        409,
        "no-acceptable-bid",
        None,
    );

    // Closed with a reason; the invited providers are told.
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/close"),
            &sefton,
            Some(json!({"reason": " "})),
        )
        .await,
        422,
        "validation",
        Some(("/reason", "required")),
    );
    // The council's words are not a code: refused, naming the field.
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/close"),
            &sefton,
            Some(json!({"reason": "Saoirse needs a home without an older peer group"})),
        )
        .await,
        422,
        "validation",
        Some(("/reason", "one_of")),
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/close"),
            &ctx.token(SEFTON, Role::SocialWorker),
            Some(json!({"reason": "no_bids"})),
        )
        .await,
        403,
        "forbidden",
        None,
    );
    let (s, closed) = call(
        &app,
        "POST",
        &path("/close"),
        &sefton,
        Some(json!({
            "reason": "no_acceptable_bid",
            "detail": "Saoirse needs a home without an older peer group; nothing within 20 miles",
            "provider_message": "No bid met the location requirement."
        })),
    )
    .await;
    assert_eq!(
        (s, closed["status"].as_str()),
        (200, Some("closed")),
        "{closed}"
    );
    // Codes out, words in: providers get the code and the words written for them; the
    // council's own words stay in the competition's history.
    let events = ctx.outbox_of::<CompetitionClosed>().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].reason, CompetitionCloseReason::NoAcceptableBid);
    assert_eq!(
        events[0].provider_message.as_deref(),
        Some("No bid met the location requirement.")
    );
    let sent = serde_json::to_string(&events[0]).unwrap();
    assert!(!sent.contains("Saoirse"), "{sent}");
    let history = closed["history"].to_string();
    assert!(history.contains("Saoirse needs a home"), "{history}");
    assert_eq!(events[0].invited.len(), 6);
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/bids"),
            &mersey,
            Some(json!({"weekly_price_pence": 1, "start_date": "2026-12-01"})),
        )
        .await,
        409,
        "competition-closed",
        None,
    );
    let package = ocds_of(&ctx, &app, &id).await;
    assert_eq!(package["releases"][1]["tender"]["status"], "unsuccessful");
    // Bidding ended when the commissioner closed it, not at the deadline.
    let ended = package["releases"][1]["tender"]["tenderPeriod"]["endDate"]
        .as_str()
        .unwrap();
    assert_eq!(
        ended[..19],
        cb["bidding_closed_at"].as_str().unwrap()[..19],
        "{package}"
    );
    // Reopened with a new deadline: the old bids are set aside, the providers told again.
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/reopen"),
            &sefton,
            Some(json!({"deadline": "2020-01-01T00:00:00Z"})),
        )
        .await,
        422,
        "validation",
        Some(("/deadline", "future")),
    );
    let deadline = (Utc::now() + Duration::days(3))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let (s, reopened) = call(
        &app,
        "POST",
        &path("/reopen"),
        &sefton,
        Some(json!({"deadline": deadline, "reason": "widened to 30 miles"})),
    )
    .await;
    assert_eq!(s, 200, "{reopened}");
    assert_eq!(reopened["status"], "open");
    assert!(reopened["bids"].as_array().unwrap().is_empty());
    assert!(
        reopened["deadline"]
            .as_str()
            .unwrap()
            .starts_with(&deadline[..16])
    );
    assert_eq!(ctx.outbox_of::<CompetitionOpened>().await.len(), 2);
    assert!(
        reopened["bidding_closed_at"].is_null(),
        "a new bidding window: {reopened}"
    );
    // Closed again once the new deadline has passed (no bid came), then re-routed to a
    // direct award.
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/close"),
            &sefton,
            Some(json!({"reason": "other", "detail": "still nothing suitable"})),
        )
        .await,
        409,
        "bidding-open",
        None,
    );
    deadline_passes(&ctx, &id).await;
    let (s, closed) = call(
        &app,
        "POST",
        &path("/close"),
        &sefton,
        Some(json!({"reason": "other", "detail": "still nothing suitable"})),
    )
    .await;
    assert_eq!(s, 200, "{closed}");
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/reroute"),
            &sefton,
            Some(json!({"route": "direct_award"})),
        )
        .await,
        422,
        "validation",
        Some(("/reason", "required")),
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &path("/reroute"),
            &sefton,
            Some(json!({"route": "spot_purchase", "reason": "x"})),
        )
        .await,
        422,
        "validation",
        Some(("/route", "one_of")),
    );
    let (s, rr) = call(
        &app,
        "POST",
        &path("/reroute"),
        &sefton,
        Some(json!({"route": "direct_award", "reason": "the child needs a home this week"})),
    )
    .await;
    assert_eq!(
        (s, rr["status"].as_str()),
        (200, Some("awaiting_direct_award")),
        "{rr}"
    );
    let (s, da) = call(
        &app,
        "POST",
        &path("/direct-award"),
        &sefton,
        Some(json!({"provider_id": "prov-care-assist", "weekly_rate_pence": 250_000,
                    "start_date": "2026-12-01", "justification": "only home able to take him this week"})),
    )
    .await;
    assert_eq!(s, 200, "{da}");
    assert_eq!(
        (da["status"].as_str(), da["direct"].as_bool()),
        (Some("awarded"), Some(true))
    );

    // A withdrawn referral closes its competition, which cannot be reopened.
    let r2 = referral(&f, "mini_competition", Urgency::Planned);
    ctx.publish("referral", &r2).await;
    let id2 = competition_of(&ctx, &app, &r2).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ctx.publish(
        "referral",
        &ReferralWithdrawn {
            referral_id: r2.referral_id,
            council: SEFTON.into(),
            reason: "the child returned home".into(),
        },
    )
    .await;
    let c2 = competition_of(&ctx, &app, &r2).await;
    assert_eq!(
        (c2["status"].as_str(), c2["closed_reason"].as_str()),
        (Some("closed"), Some("referral_withdrawn"))
    );
    let events = ctx.outbox_of::<CompetitionClosed>().await;
    assert_eq!(
        events.last().unwrap().reason,
        CompetitionCloseReason::ReferralWithdrawn
    );
    assert_eq!(events.last().unwrap().competition_id.to_string(), id2);
    assert_problem(
        &call(
            &app,
            "POST",
            &format!("/v1/competitions/{id2}/reopen"),
            &sefton,
            None,
        )
        .await,
        409,
        "referral-withdrawn",
        None,
    );
    let package = ocds_of(&ctx, &app, &id2).await;
    assert_eq!(package["releases"][1]["tender"]["status"], "cancelled");
}

/// Three acceptable bids; the cheapest loses on quality. The other unsuccessful provider is
/// told its own price and scores, the winner's name and scores and where the winning bid
/// was better, and nothing of the cheapest bid: not its price, not its provider.
async fn unsuccessful_providers_learn_only_of_themselves_and_the_winner(url: &str) {
    let ctx = ServiceCtx::start(url, competition::NAME, &SETS, competition::start).await;
    let app = ctx.app().await;
    let f = fixture(&ctx, &app).await;
    let sefton = ctx.token(SEFTON, Role::Commissioner);
    let r = referral(&f, "mini_competition", Urgency::Urgent);
    ctx.publish("referral", &r).await;
    let id = competition_of(&ctx, &app, &r).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = |p: &str| format!("/v1/competitions/{id}{p}");
    let (s, c) = call(
        &app,
        "PUT",
        &path("/criteria"),
        &sefton,
        Some(
            json!({"criteria": [{"criterion": "price", "mode": "scored", "weight": 50},
                                 {"criterion": "quality", "mode": "scored", "weight": 50}]}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{c}");
    // Mersey Homes first declines, then changes its mind and bids: the bid replaces the
    // decline.
    let (s, d) = call(
        &app,
        "POST",
        &path("/decline"),
        &ctx.token("prov-mersey-homes", Role::Provider),
        Some(json!({"reason": "no_capacity"})),
    )
    .await;
    assert_eq!(
        (s, d["declined"].as_array().map(Vec::len)),
        (200, Some(1)),
        "{d}"
    );
    let mut bids = Vec::new();
    for (provider, price, quality) in [
        ("prov-care-assist", 200_000, 10),
        ("prov-family-care-group", 300_000, 50),
        ("prov-mersey-homes", 360_000, 40),
    ] {
        let (s, b) = call(
            &app,
            "POST",
            &path("/bids"),
            &ctx.token(provider, Role::Provider),
            Some(json!({"weekly_price_pence": price, "start_date": "2026-12-01"})),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let bid = b["id"].as_str().unwrap().to_owned();
        let (s, m) = call(
            &app,
            "PUT",
            &path(&format!("/bids/{bid}/scores/quality")),
            &sefton,
            Some(json!({"score": quality, "reason": "as seen on the visit"})),
        )
        .await;
        assert_eq!(s, 200, "{m}");
        bids.push(bid);
    }
    let (s, cb) = call(
        &app,
        "POST",
        &path("/close-bidding"),
        &sefton,
        Some(json!({"reason": "court_timescale"})),
    )
    .await;
    assert_eq!(s, 200, "{cb}");
    assert_eq!(
        cb["declined"],
        json!([]),
        "Mersey Homes bid after all: {cb}"
    );
    assert_eq!(cb["bids"].as_array().unwrap().len(), 3);
    let (s, awarded) = call(&app, "POST", &path("/award"), &sefton, None).await;
    assert_eq!(s, 200, "{awarded}");
    assert_eq!(awarded["awarded_provider"], "prov-family-care-group");
    let a = ctx.outbox_of::<CompetitionAwarded>().await.remove(0);
    let mersey = a
        .outcomes
        .iter()
        .find(|o| o.provider_id == "prov-mersey-homes")
        .unwrap();
    let told = serde_json::to_string(mersey).unwrap();
    for other in [
        "prov-care-assist",
        "care-assist",
        "£2,000.00",
        "200000",
        "2,000",
    ] {
        assert!(
            !told.contains(other),
            "{other} told to Mersey Homes: {told}"
        );
    }
    assert_eq!(mersey.weekly_price_pence, Some(360_000));
    assert_eq!(mersey.winner_name.as_deref(), Some("family-care-group"));
    let q = mersey
        .scores
        .iter()
        .find(|s| s.criterion == "quality")
        .unwrap();
    assert_eq!((q.score, q.winner_score), (Some(4000), Some(5000)));
    assert!(
        mersey
            .reasons
            .iter()
            .any(|r| r.starts_with("quality: 40.00 against 50.00")),
        "{:?}",
        mersey.reasons
    );
}

async fn direct_awards_and_reviews(url: &str) {
    let ctx = ServiceCtx::start(url, competition::NAME, &SETS, competition::start).await;
    let app = ctx.app().await;
    let f = fixture(&ctx, &app).await;
    let sefton = ctx.token(SEFTON, Role::Commissioner);
    let r = referral(&f, "direct_award", Urgency::Emergency);
    ctx.publish("referral", &r).await;
    let c = competition_of(&ctx, &app, &r).await;
    assert_eq!(c["status"], "awaiting_direct_award");
    assert!(ctx.outbox_of::<CompetitionOpened>().await.is_empty());
    let award = |justification: Option<&str>| {
        let mut b = json!({"referral_id": r.referral_id, "provider_id": "prov-care-assist",
                           "weekly_rate_pence": 420_000, "start_date": "2026-11-20"});
        if let Some(j) = justification {
            b["justification"] = json!(j);
        }
        b
    };
    let direct = "/v1/competitions/direct-awards";
    // A justification is required.
    assert_problem(
        &call(&app, "POST", direct, &sefton, Some(award(None))).await,
        422,
        "validation",
        Some(("/justification", "required")),
    );
    assert_problem(
        &call(&app, "POST", direct, &sefton, Some(award(Some("  ")))).await,
        422,
        "validation",
        Some(("/justification", "required")),
    );
    let mut no_referral = award(Some("x"));
    no_referral.as_object_mut().unwrap().remove("referral_id");
    assert_problem(
        &call(&app, "POST", direct, &sefton, Some(no_referral)).await,
        422,
        "validation",
        Some(("/referral_id", "required")),
    );
    let justification = "an extreme emergency: the only home with an emergency bed tonight";
    let why = Some(justification);
    assert_problem(
        &call(
            &app,
            "POST",
            direct,
            &ctx.token(WIRRAL, Role::Commissioner),
            Some(award(why)),
        )
        .await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &call(
            &app,
            "POST",
            direct,
            &ctx.token(SEFTON, Role::SocialWorker),
            Some(award(why)),
        )
        .await,
        403,
        "forbidden",
        None,
    );
    let mut outsider = award(why);
    outsider["provider_id"] = json!(FOSTER_PROVIDER);
    assert_problem(
        &call(&app, "POST", direct, &sefton, Some(outsider)).await,
        422,
        "validation",
        Some(("/provider_id", "admitted")),
    );
    assert_problem(
        &call(
            &app,
            "GET",
            &format!("/v1/competitions/{}/ocds", c["id"].as_str().unwrap()),
            &sefton,
            None,
        )
        .await,
        409,
        "competition-state",
        None,
    );
    let (s, da) = call(&app, "POST", direct, &sefton, Some(award(why))).await;
    assert_eq!(s, 201, "{da}");
    assert_eq!(
        (da["status"].as_str(), da["direct"].as_bool()),
        (Some("awarded"), Some(true))
    );
    let today = Utc::now().date_naive();
    assert_eq!(da["review_date"], (today + Duration::days(28)).to_string());
    assert_eq!(da["direct_award"]["justification"], justification);
    let events = ctx.outbox_of::<CompetitionAwarded>().await;
    assert_eq!(events.len(), 1);
    assert!(events[0].direct && events[0].bid_id.is_none());
    assert_eq!(
        (events[0].provider_id.as_str(), events[0].weekly_rate_pence),
        ("prov-care-assist", 420_000)
    );
    assert_problem(
        &call(&app, "POST", direct, &sefton, Some(award(why))).await,
        409,
        "competition-state",
        None,
    );

    let package = ocds_of(&ctx, &app, da["id"].as_str().unwrap()).await;
    assert_eq!(package["releases"].as_array().unwrap().len(), 1);
    assert_eq!(
        package["releases"][0]["tender"]["procurementMethod"],
        "direct"
    );
    assert!(
        !package.to_string().contains("extreme emergency"),
        "no justification text exported"
    );

    // Review: kept until a later review, then reopened to competition.
    let id = da["id"].as_str().unwrap().to_owned();
    let review = format!("/v1/competitions/{id}/review");
    assert_problem(
        &call(
            &app,
            "POST",
            &review,
            &sefton,
            Some(json!({"decision": "keep"})),
        )
        .await,
        422,
        "validation",
        Some(("/reason", "required")),
    );
    let next = (today + Duration::days(90)).to_string();
    let (s, kept) = call(
        &app,
        "POST",
        &review,
        &sefton,
        Some(json!({"decision": "keep", "reason": "settled well", "next_review_date": next})),
    )
    .await;
    assert_eq!(s, 200, "{kept}");
    assert_eq!(kept["competition"]["review_date"], next);
    let (s, reopened) = call(
        &app,
        "POST",
        &review,
        &sefton,
        Some(json!({"decision": "reopen", "reason": "test the market for a longer-term home"})),
    )
    .await;
    assert_eq!(s, 200, "{reopened}");
    let new = &reopened["reopened_as"];
    assert_eq!(new["status"], "open");
    assert_eq!(new["reopened_from"], id.as_str());
    assert_eq!(new["invited"].as_array().unwrap().len(), 6);
    assert!(reopened["competition"]["review_date"].is_null());
    assert_eq!(ctx.outbox_of::<CompetitionOpened>().await.len(), 1);
    assert_problem(
        &call(
            &app,
            "POST",
            &review,
            &sefton,
            Some(json!({"decision": "keep", "reason": "x"})),
        )
        .await,
        409,
        "review-done",
        None,
    );
    let new_id = new["id"].as_str().unwrap();
    assert_problem(
        &call(
            &app,
            "POST",
            &format!("/v1/competitions/{new_id}/review"),
            &sefton,
            Some(json!({"decision": "keep", "reason": "x"})),
        )
        .await,
        409,
        "not-a-direct-award",
        None,
    );

    // A preselected draft can be awarded directly too.
    let r2 = referral(&f, "preselected_mini_competition", Urgency::Emergency);
    ctx.publish("referral", &r2).await;
    let d = competition_of(&ctx, &app, &r2).await;
    assert_eq!(d["preselection"]["filters"]["emergency_capacity"], true);
    assert!(
        d["left_out"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["provider_id"] == "prov-family-care-group"
                && l["reasons"][0]["code"] == "no_emergency_capacity"),
        "{d}"
    );
    let (s, da2) = call(
        &app,
        "POST",
        &format!(
            "/v1/competitions/{}/direct-award",
            d["id"].as_str().unwrap()
        ),
        &sefton,
        Some(
            json!({"provider_id": "prov-care-assist", "weekly_rate_pence": 300_000,
                    "start_date": "2026-11-21", "justification": "emergency bed tonight",
                    "review_date": (today + Duration::days(14)).to_string()}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{da2}");
    assert_eq!(da2["review_date"], (today + Duration::days(14)).to_string());
}

// ---------------------------------------------------------------------------------------

on_both!(
    frameworks_rounds_and_provider_responses,
    frameworks_on_sqlite,
    frameworks_on_postgres
);
on_both!(live_vacancies, vacancies_on_sqlite, vacancies_on_postgres);
on_both!(
    mini_competition_bids_scores_and_award,
    mini_competition_on_sqlite,
    mini_competition_on_postgres
);
on_both!(
    preselected_competitions,
    preselection_on_sqlite,
    preselection_on_postgres
);
on_both!(
    close_reopen_reroute_and_withdraw,
    close_reopen_reroute_on_sqlite,
    close_reopen_reroute_on_postgres
);
on_both!(
    unsuccessful_providers_learn_only_of_themselves_and_the_winner,
    unsuccessful_notices_on_sqlite,
    unsuccessful_notices_on_postgres
);
on_both!(
    direct_awards_and_reviews,
    direct_awards_on_sqlite,
    direct_awards_on_postgres
);

/// Money cannot overflow: a Provider Response price, a bid's weekly price and a direct
/// award's weekly rate are each at most £100,000.00 a week; more is 422 naming the field,
/// and nothing is written or announced (a direct award of i64::MAX used to reach the
/// contract service and the ledger as negative lines).
async fn weekly_prices_are_bounded(url: &str) {
    let ctx = ServiceCtx::start(url, competition::NAME, &SETS, competition::start).await;
    let app = ctx.app().await;
    let f = fixture(&ctx, &app).await;
    let max = hub_platform::Pence::MAX_WEEKLY.0;
    let halton = ctx.token(HALTON, Role::Commissioner);
    assert_problem(
        &call(
            &app,
            "POST",
            &format!("/v1/frameworks/{}/lots/{}/providers", f.framework, f.foster),
            &halton,
            Some(
                json!({"provider_id": "prov-new-foster", "name": "New Foster",
                        "weekly_prices": {"standard": 98_500, "complex": i64::MAX}}),
            ),
        )
        .await,
        422,
        "validation",
        Some(("/weekly_prices/complex", "range")),
    );

    // A bid of more than £100,000.00 a week is refused; at the bound it is taken.
    let r = referral(&f, "mini_competition", Urgency::Planned);
    ctx.publish("referral", &r).await;
    let c = competition_of(&ctx, &app, &r).await;
    let bids = format!("/v1/competitions/{}/bids", c["id"].as_str().unwrap());
    let care = ctx.token("prov-care-assist", Role::Provider);
    let bid = |price: i64| {
        json!({"weekly_price_pence": price, "start_date": "2026-12-01",
               "home_id": f.homes["prov-care-assist"],
               "price_variation_evidence": "two-to-one staffing around the clock",
               "answers": {"quality": "Ofsted good"}})
    };
    for price in [i64::MAX, max + 1] {
        assert_problem(
            &call(&app, "POST", &bids, &care, Some(bid(price))).await,
            422,
            "validation",
            Some(("/weekly_price_pence", "range")),
        );
    }
    let (s, b) = call(&app, "POST", &bids, &care, Some(bid(max))).await;
    assert_eq!(s, 201, "{b}");

    // A direct award of i64::MAX a week.
    let r = referral(&f, "direct_award", Urgency::Emergency);
    ctx.publish("referral", &r).await;
    let award = |rate: i64| {
        json!({"referral_id": r.referral_id, "provider_id": "prov-care-assist",
               "weekly_rate_pence": rate, "start_date": "2026-11-20",
               "justification": "the only home with an emergency bed tonight"})
    };
    let sefton = ctx.token(SEFTON, Role::Commissioner);
    let direct = "/v1/competitions/direct-awards";
    assert_problem(
        &call(&app, "POST", direct, &sefton, Some(award(i64::MAX))).await,
        422,
        "validation",
        Some(("/weekly_rate_pence", "range")),
    );
    assert!(ctx.outbox_of::<CompetitionAwarded>().await.is_empty());
    let (s, a) = call(&app, "POST", direct, &sefton, Some(award(max))).await;
    assert!(s == 200 || s == 201, "{s} {a}");
    let awarded = ctx.outbox_of::<CompetitionAwarded>().await;
    assert_eq!(
        awarded
            .iter()
            .map(|a| a.weekly_rate_pence)
            .collect::<Vec<_>>(),
        vec![max]
    );
}

on_both!(
    weekly_prices_are_bounded,
    weekly_prices_are_bounded_on_sqlite,
    weekly_prices_are_bounded_on_postgres
);

/// Every framework set up is published whole for the referral service's replica; a submitted
/// referral the service cannot route is returned to its council with a reason code (never
/// dropped silently), and one it can route opens a competition as before.
async fn referrals_that_cannot_be_routed_are_returned(url: &str) {
    let ctx = ServiceCtx::start(url, competition::NAME, &SETS, competition::start).await;
    let app = ctx.app().await;
    let halton = ctx.token(HALTON, Role::Commissioner);
    let set_up = |bodies: Option<Vec<&'static str>>| {
        let (app, halton) = (&app, &halton);
        async move {
            let mut body = json!({
                "partnership": "LCR-PPA", "name": "LCR PPA", "kind": "provider_partner_agreement",
                "start_date": "2020-10-19", "end_date": "2030-10-18",
                "lots": [{"name": "Residential", "placement_type": "residential"}]
            });
            if let Some(b) = bodies {
                body["purchasing_bodies"] = json!(b);
            }
            let (s, fw) = call(app, "POST", "/v1/frameworks", halton, Some(body)).await;
            assert_eq!(s, 201, "{fw}");
            let id = |v: &Value| v.as_str().unwrap().parse::<Uuid>().unwrap();
            (id(&fw["id"]), id(&fw["lots"][0]["id"]))
        }
    };
    let (ppa, lot) = set_up(None).await;
    let (halton_only, halton_lot) = set_up(Some(vec![HALTON])).await;
    let published = ctx.outbox_of::<FrameworkPublished>().await;
    assert_eq!(published.len(), 2);
    assert_eq!(
        (
            published[0].framework_id,
            published[0].partnership.as_str(),
            published[0]
                .lots
                .iter()
                .map(|l| l.lot_id)
                .collect::<Vec<_>>()
        ),
        (ppa, "LCR-PPA", vec![lot])
    );
    assert!(published[0].purchasing_bodies.iter().any(|b| b == SEFTON));
    assert_eq!(published[1].purchasing_bodies, [HALTON]);

    let submitted = |framework_id: Uuid, lot_id: Uuid| ReferralSubmitted {
        referral_id: Uuid::now_v7(),
        version: 1,
        council: SEFTON.into(),
        framework_id,
        lot_id,
        route: "mini_competition".into(),
        placement_type: "residential".into(),
        urgency: Urgency::Planned,
        age_band: AgeBand::ElevenToFifteen,
        age_years: 14,
        gender: "male".into(),
        needs: vec![],
        educational_needs: vec![],
        ehcp: false,
        wanted_start: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        area_district: "L20".into(),
        area_latitude: AREA.0,
        area_longitude: AREA.1,
        max_distance_miles: 20.0,
        submitted_by: "sw-sefton".into(),
    };
    let cases = [
        (
            submitted(Uuid::now_v7(), lot),
            "LCR-PPA",
            ReferralReturnReason::UnknownFramework,
        ),
        (
            submitted(ppa, Uuid::now_v7()),
            "LCR-PPA",
            ReferralReturnReason::UnknownLot,
        ),
        (
            submitted(ppa, halton_lot),
            "LCR-PPA",
            ReferralReturnReason::LotNotInFramework,
        ),
        (
            submitted(halton_only, halton_lot),
            "LCR-PPA",
            ReferralReturnReason::NotAPurchasingBody,
        ),
        (
            submitted(ppa, lot),
            "AIM",
            ReferralReturnReason::OtherPartnership,
        ),
    ];
    for (r, partnership, _) in &cases {
        ctx.publish_envelope(&Envelope::new("referral", partnership, r))
            .await;
    }
    let returned = ctx.outbox_of::<ReferralReturned>().await;
    assert_eq!(
        returned
            .iter()
            .map(|e| (
                e.referral_id,
                e.referral_version,
                e.council.as_str(),
                e.reason
            ))
            .collect::<Vec<_>>(),
        cases
            .iter()
            .map(|(r, _, why)| (r.referral_id, 1, SEFTON, *why))
            .collect::<Vec<_>>()
    );
    assert!(ctx.outbox_of::<CompetitionOpened>().await.is_empty());

    // A referral it can route opens a competition and is not returned.
    ctx.publish("referral", &submitted(ppa, lot)).await;
    assert_eq!(ctx.outbox_of::<CompetitionOpened>().await.len(), 1);
    assert_eq!(ctx.outbox_of::<ReferralReturned>().await.len(), cases.len());
}

on_both!(
    referrals_that_cannot_be_routed_are_returned,
    returned_referrals_on_sqlite,
    returned_referrals_on_postgres
);
