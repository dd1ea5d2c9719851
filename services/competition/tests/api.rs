//! The competition service on its own: the lead commissioner, the councils and the providers
//! work through the HTTP API (the test kit's competition clients); referrals come in as events
//! on the in-process bus; what the service tells others is read from its outbox. Every refusal
//! is checked with its exact status and problem type. One behaviour per test, each on SQLite
//! and on PostgreSQL at `postgres://postgres@127.0.0.1:5432` unless `HUB_TEST_POSTGRES` says
//! otherwise (a URL template with `{service}`); a database per test is created and dropped.
//! A fixture function sets up the state a behaviour needs by the same requests the whole
//! journey made before it.

mod common;

use chrono::{Duration, NaiveDate, Utc};
use common::{
    AREA, FOSTER_PROVIDER, Fixture, PROVIDERS, competition_of, deadline_passes, etag, fixture,
    framework_body, halton, id_of, ids, ocds_of, provider, referral, referred, sefton,
    sefton_social_worker, set_up_framework, start,
};
use hub_events::{
    AgeBand, CompetitionAwarded, CompetitionCloseReason, CompetitionClosed, CompetitionOpened,
    Envelope, FrameworkPublished, ReferralReturnReason, ReferralReturned, ReferralSubmitted,
    ReferralWithdrawn, Urgency, VacancyPublished, VacancyWithdrawn,
};
use hub_platform::{
    Role,
    directory::{HALTON, NOTTINGHAM, SEFTON, WIRRAL, distance_miles},
};
use hub_testkit::{TestApp, User, assert_problem, on_both};
use serde_json::{Value, json};
use uuid::Uuid;

// -- Frameworks, admission rounds, Provider Responses and homes ---------------------------

/// The framework body of these tests: the LCR PPA of `kind`, one residential lot.
fn ppa(kind: &str) -> Value {
    framework_body("LCR PPA", kind)
}

/// A Provider Response admitting `p` to the residential lot.
fn admission(p: &str) -> Value {
    json!({"provider_id": p, "name": p,
           "weekly_prices": {"standard": 214_900, "complex": 390_000}, "capacity": 6})
}

/// The PPA set up by Halton: its id, its lot, its set-up round.
struct Ppa {
    id: String,
    lot: String,
    round: String,
}

/// Halton sets up a provider partner agreement.
async fn ppa_set_up(app: &TestApp) -> (Ppa, Value) {
    let (s, fw) = app
        .frameworks()
        .create(&halton(app), &ppa("provider_partner_agreement"))
        .await;
    assert_eq!(s, 201, "{fw}");
    let p = Ppa {
        id: id_of(&fw),
        lot: fw["lots"][0]["id"].as_str().unwrap().to_owned(),
        round: fw["admission_rounds"][0]["id"].as_str().unwrap().to_owned(),
    };
    (p, fw)
}

/// The PPA with Care Assist admitted in its set-up round.
async fn care_assist_admitted(app: &TestApp) -> Ppa {
    let (p, _) = ppa_set_up(app).await;
    let (s, a) = app
        .frameworks()
        .admit(&halton(app), &p.id, &p.lot, &admission("prov-care-assist"))
        .await;
    assert_eq!(s, 201, "{a}");
    p
}

/// Then the set-up round closed and a 2026 refresh admitting `prov-late`: its admission,
/// and the new round.
async fn refreshed(app: &TestApp) -> (Ppa, Value, Value) {
    let p = care_assist_admitted(app).await;
    let (frameworks, halton) = (app.frameworks(), halton(app));
    let (s, closed) = frameworks.close_round(&halton, &p.id, &p.round).await;
    assert_eq!(s, 200, "{closed}");
    let (s, r2) = frameworks
        .open_round(&halton, &p.id, Some(&json!({"note": "2026 refresh"})))
        .await;
    assert_eq!(s, 201, "{r2}");
    let (s, a) = frameworks
        .admit(&halton, &p.id, &p.lot, &admission("prov-late"))
        .await;
    assert_eq!(s, 201, "{a}");
    (p, a, r2)
}

/// The home Care Assist records at the refreshed PPA.
fn crosby_house() -> Value {
    json!({"name": "Crosby House", "latitude": 53.49, "longitude": -3.02,
           "postcode_district": "L23", "registered_places": 4})
}

/// Halton sets up a framework agreement beside the PPA and closes its set-up round: its id.
async fn framework_agreement_closed(app: &TestApp) -> String {
    let (frameworks, halton) = (app.frameworks(), halton(app));
    let (_, fa) = frameworks
        .create(&halton, &ppa("framework_agreement"))
        .await;
    let fa_id = id_of(&fa);
    let fa_round = fa["admission_rounds"][0]["id"].as_str().unwrap();
    frameworks.close_round(&halton, &fa_id, fa_round).await;
    fa_id
}

/// The lot's default criteria: a location gate, price 70 and quality 30.
fn location_price_quality() -> Value {
    json!({"criteria": [{"criterion": "location", "mode": "pass_fail"},
                        {"criterion": "price", "mode": "scored", "weight": 70},
                        {"criterion": "quality", "mode": "scored", "weight": 30}]})
}

/// The refreshed PPA, a closed framework agreement beside it, and the lot's default
/// criteria set.
async fn lot_criteria_set(app: &TestApp) -> Ppa {
    let (p, _, _) = refreshed(app).await;
    framework_agreement_closed(app).await;
    let (s, l) = app
        .frameworks()
        .set_lot_criteria(&halton(app), &p.id, &p.lot, &location_price_quality())
        .await;
    assert_eq!(s, 200, "{l}");
    p
}

/// Then Care Assist's home recorded: the home.
async fn home_recorded(app: &TestApp) -> (Ppa, Value) {
    let p = lot_criteria_set(app).await;
    let care = provider(app, "prov-care-assist");
    let (s, h) = app
        .frameworks()
        .add_home(&care, &p.id, &p.lot, "prov-care-assist", &crosby_house())
        .await;
    assert_eq!(s, 201, "{h}");
    (p, h)
}

/// Care Assist records that home `h` is full.
async fn crosby_house_full(app: &TestApp, p: &Ppa, h: &Value) -> (u16, Value) {
    let mut changed = crosby_house();
    changed["occupied_places"] = json!(4);
    let home = h["id"].as_str().unwrap();
    let care = provider(app, "prov-care-assist");
    let at = (p.id.as_str(), p.lot.as_str(), "prov-care-assist", home);
    let frameworks = app.frameworks();
    let etag = frameworks.home_etag(&care, at.0, at.1, at.2, at.3).await;
    frameworks.update_home(&care, at, &etag, &changed).await
}

async fn only_the_lead_commissioner_sets_up_a_framework(url: &str) {
    let app = start(url).await;
    let frameworks = app.frameworks();
    assert_problem(
        &frameworks
            .create(&sefton(&app), &ppa("provider_partner_agreement"))
            .await,
        403,
        "forbidden",
        None,
    );
    let mut bad = ppa("provider_partner_agreement");
    bad["purchasing_bodies"] = json!(["E99999999"]);
    bad["review_date"] = json!("2019-01-01");
    bad["lots"][0]["default_criteria"] =
        json!([{"criterion": "price", "mode": "scored", "weight": 50}]);
    let r = frameworks.create(&halton(&app), &bad).await;
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
}

/// A provider partner agreement: reviewed every 2 years, called off by the six councils.
async fn a_provider_partner_agreement_is_reviewed_every_two_years(url: &str) {
    let app = start(url).await;
    let (_, fw) = ppa_set_up(&app).await;
    assert_eq!(fw["review_date"], "2022-10-19");
    assert_eq!(fw["purchasing_bodies"].as_array().unwrap().len(), 6);
    assert_eq!(fw["lead_commissioner"], HALTON);
    assert_eq!(fw["admission_open"], true);
    assert_eq!(fw["admission_rounds"][0]["kind"], "setup");
    assert_eq!(fw["lots"][0]["default_criteria"][0]["weight"], 60);
}

async fn the_lead_commissioner_admits_a_provider_once(url: &str) {
    let app = start(url).await;
    let (p, _) = ppa_set_up(&app).await;
    let (frameworks, halton) = (app.frameworks(), halton(&app));
    let (s, a) = frameworks
        .admit(&halton, &p.id, &p.lot, &admission("prov-care-assist"))
        .await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["weekly_prices"]["complex"], 390_000);
    assert_eq!(a["weekly_price_pence"], 214_900);
    assert_problem(
        &frameworks
            .admit(&halton, &p.id, &p.lot, &admission("prov-care-assist"))
            .await,
        409,
        "already-admitted",
        None,
    );
    assert_problem(
        &frameworks
            .admit(&sefton(&app), &p.id, &p.lot, &admission("prov-x"))
            .await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &frameworks
            .admit(
                &halton,
                &p.id,
                &p.lot,
                &json!({"provider_id": "prov-y", "name": "Y"}),
            )
            .await,
        422,
        "validation",
        Some(("/weekly_prices", "required")),
    );
}

/// Closing the set-up round stops admissions until a new round opens.
async fn admissions_wait_for_a_new_round(url: &str) {
    let app = start(url).await;
    let p = care_assist_admitted(&app).await;
    let (frameworks, halton) = (app.frameworks(), halton(&app));
    let (s, closed) = frameworks.close_round(&halton, &p.id, &p.round).await;
    assert_eq!(s, 200, "{closed}");
    assert_problem(
        &frameworks
            .admit(&halton, &p.id, &p.lot, &admission("prov-late"))
            .await,
        409,
        "admission-closed",
        None,
    );
    let (s, r2) = frameworks
        .open_round(&halton, &p.id, Some(&json!({"note": "2026 refresh"})))
        .await;
    assert_eq!(s, 201, "{r2}");
    assert_problem(
        &frameworks.open_round(&halton, &p.id, None).await,
        409,
        "round-open",
        None,
    );
    let (s, a) = frameworks
        .admit(&halton, &p.id, &p.lot, &admission("prov-late"))
        .await;
    assert_eq!((s, a["round_id"].clone()), (201, r2["id"].clone()));
}

/// A framework agreement admits at set-up only.
async fn a_framework_agreement_admits_at_set_up_only(url: &str) {
    let app = start(url).await;
    refreshed(&app).await;
    let fa_id = framework_agreement_closed(&app).await;
    assert_problem(
        &app.frameworks()
            .open_round(&halton(&app), &fa_id, None)
            .await,
        409,
        "closed-system",
        None,
    );
}

/// A lot's default criteria: weights sum to 100.
async fn a_lots_default_criteria_weigh_100(url: &str) {
    let app = start(url).await;
    let (p, _, _) = refreshed(&app).await;
    framework_agreement_closed(&app).await;
    let (frameworks, halton) = (app.frameworks(), halton(&app));
    assert_problem(
        &frameworks
            .set_lot_criteria(
                &halton,
                &p.id,
                &p.lot,
                &json!({"criteria": [{"criterion": "price", "mode": "scored", "weight": 70},
                                     {"criterion": "quality", "mode": "scored", "weight": 20}]}),
            )
            .await,
        422,
        "validation",
        Some(("/criteria", "sum_100")),
    );
    let (s, l) = frameworks
        .set_lot_criteria(&halton, &p.id, &p.lot, &location_price_quality())
        .await;
    assert_eq!(s, 200, "{l}");
    assert_eq!(l["default_criteria"][0]["mode"], "pass_fail");
}

/// The provider records its homes; nobody else does.
async fn a_provider_records_its_own_homes(url: &str) {
    let app = start(url).await;
    let p = lot_criteria_set(&app).await;
    let frameworks = app.frameworks();
    let care = provider(&app, "prov-care-assist");
    let add = |user: User, home: Value| {
        let (frameworks, p) = (&frameworks, &p);
        async move {
            frameworks
                .add_home(&user, &p.id, &p.lot, "prov-care-assist", &home)
                .await
        }
    };
    let (s, h) = add(care.clone(), crosby_house()).await;
    assert_eq!(s, 201, "{h}");
    assert_eq!(
        (h["max_age_years"].as_i64(), h["kind"].as_str()),
        (Some(17), Some("home"))
    );
    assert_problem(
        &add(provider(&app, "prov-late"), crosby_house()).await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &add(halton(&app), crosby_house()).await,
        403,
        "forbidden",
        None,
    );
    let mut bad_home = crosby_house();
    bad_home["latitude"] = json!(-3.02);
    assert_problem(
        &add(care, bad_home).await,
        422,
        "validation",
        Some(("/latitude", "range")),
    );
}

/// The provider keeps its homes up to date; councils read them with its admission; another
/// provider cannot.
async fn a_provider_keeps_its_homes_up_to_date(url: &str) {
    let app = start(url).await;
    let (p, h) = home_recorded(&app).await;
    let frameworks = app.frameworks();
    let (s, h2) = crosby_house_full(&app, &p, &h).await;
    assert_eq!((s, h2["occupied_places"].as_i64()), (200, Some(4)));
    let (s, a) = frameworks
        .admission(&sefton(&app), &p.id, &p.lot, "prov-care-assist")
        .await;
    assert_eq!(
        (s, a["homes"].as_array().map(Vec::len)),
        (200, Some(1)),
        "{a}"
    );
    assert_problem(
        &frameworks
            .admission(
                &provider(&app, "prov-late"),
                &p.id,
                &p.lot,
                "prov-care-assist",
            )
            .await,
        404,
        "not-found",
        None,
    );
}

/// Who reads the framework: a provider sees only its own Provider Response; a council
/// outside the partnership gets 404.
async fn a_provider_reads_only_its_own_provider_response(url: &str) {
    let app = start(url).await;
    let (p, h) = home_recorded(&app).await;
    let (s, h2) = crosby_house_full(&app, &p, &h).await;
    assert_eq!(s, 200, "{h2}");
    let frameworks = app.frameworks();
    let care = provider(&app, "prov-care-assist");
    let (s, seen) = frameworks.get(&care, &p.id).await;
    assert_eq!(s, 200);
    assert_eq!(ids(&seen["lots"][0]["providers"]), vec!["prov-care-assist"]);
    let (_, seen) = frameworks.get(&sefton(&app), &p.id).await;
    assert_eq!(seen["lots"][0]["providers"].as_array().unwrap().len(), 2);
    assert_problem(
        &frameworks
            .get(&app.user(NOTTINGHAM, Role::Commissioner), &p.id)
            .await,
        404,
        "not-found",
        None,
    );
}

// -- Live vacancies -----------------------------------------------------------------------

/// A council's search of the residential lot near the child's area, with `extra` query.
fn near_the_child(f: &Fixture, extra: &str) -> String {
    format!(
        "lot_id={}&latitude={}&longitude={}{extra}",
        f.residential, AREA.0, AREA.1
    )
}

/// A vacancy at `home` in `lot`, listed until `expires`.
fn vacancy(home: &str, lot: &str, expires: NaiveDate) -> Value {
    json!({"lot_id": lot, "home_id": home,
           "available_from": (expires - Duration::days(10)).to_string(),
           "expires_on": expires.to_string(), "suits": "a boy aged 12 to 15"})
}

/// Care Assist lists its own vacancy and updates it to two places: the vacancy's id and the
/// update's reply.
async fn care_assist_updates_its_vacancy(app: &TestApp) -> (String, (u16, Value)) {
    let care = provider(app, "prov-care-assist");
    let today = Utc::now().date_naive();
    let (s, mine) = app.vacancies().list(&care, "").await;
    assert_eq!((s, mine["items"].as_array().unwrap().len()), (200, 1));
    let vid = mine["items"][0]["id"].as_str().unwrap().to_owned();
    let body = json!({"available_from": today.to_string(),
                      "expires_on": (today + Duration::days(7)).to_string(),
                      "suits": "a boy aged 13 to 16", "places": 2});
    let etag = app.vacancies().etag(&care, &vid).await;
    let updated = app.vacancies().update(&care, &vid, &etag, &body).await;
    (vid, updated)
}

async fn each_vacancy_is_published(url: &str) {
    let app = start(url).await;
    fixture(&app).await;
    let published = app.outbox_of::<VacancyPublished>().await;
    assert_eq!(published.len(), 5, "one per vacancy");
    assert_eq!(published[0].postcode_district, "L20");
}

/// Nearest first, with the great-circle distance.
async fn vacancies_are_listed_nearest_first(url: &str) {
    let app = start(url).await;
    let f = fixture(&app).await;
    let (vacancies, sefton) = (app.vacancies(), sefton_social_worker(&app));
    let (s, all) = vacancies.list(&sefton, &near_the_child(&f, "")).await;
    assert_eq!(s, 200, "{all}");
    let rows = all["items"].as_array().unwrap();
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
    let (_, near) = vacancies
        .list(&sefton, &near_the_child(&f, "&max_miles=10"))
        .await;
    assert_eq!(near["items"].as_array().unwrap().len(), 4);
}

/// Bad queries and unseen lots.
async fn a_vacancy_search_names_a_lot_the_council_sees(url: &str) {
    let app = start(url).await;
    let f = fixture(&app).await;
    let (vacancies, sefton) = (app.vacancies(), sefton_social_worker(&app));
    assert_problem(
        &vacancies.list(&sefton, "").await,
        422,
        "validation",
        Some(("lot_id", "required")),
    );
    assert_problem(
        &vacancies
            .list(&sefton, &format!("lot_id={}&latitude=53.4", f.residential))
            .await,
        422,
        "validation",
        Some(("latitude", "pair")),
    );
    assert_problem(
        &vacancies
            .list(
                &app.user(NOTTINGHAM, Role::Commissioner),
                &near_the_child(&f, ""),
            )
            .await,
        404,
        "not-found",
        None,
    );
}

/// A provider publishes at its own homes only, in lots it is admitted to.
async fn a_provider_publishes_at_its_own_homes_only(url: &str) {
    let app = start(url).await;
    let f = fixture(&app).await;
    let vacancies = app.vacancies();
    let care = provider(&app, "prov-care-assist");
    let today = Utc::now().date_naive();
    let care_home = &f.homes["prov-care-assist"];
    assert_problem(
        &vacancies
            .publish(
                &care,
                &vacancy(&f.homes["prov-girls-first"], &f.residential, today),
            )
            .await,
        422,
        "validation",
        Some(("/home_id", "exists")),
    );
    assert_problem(
        &vacancies
            .publish(&care, &vacancy(care_home, &f.foster, today))
            .await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &vacancies
            .publish(
                &care,
                &vacancy(care_home, &f.residential, today - Duration::days(1)),
            )
            .await,
        422,
        "validation",
        Some(("/expires_on", "not_past")),
    );
    assert_problem(
        &vacancies
            .publish(
                &sefton_social_worker(&app),
                &vacancy(care_home, &f.residential, today),
            )
            .await,
        403,
        "forbidden",
        None,
    );
}

/// A provider lists its own vacancies and updates them: announced again.
async fn a_provider_updates_its_vacancy(url: &str) {
    let app = start(url).await;
    fixture(&app).await;
    let (_, (s, u)) = care_assist_updates_its_vacancy(&app).await;
    assert_eq!((s, u["places"].as_i64()), (200, Some(2)), "{u}");
    assert_eq!(app.outbox_of::<VacancyPublished>().await.len(), 6);
}

/// A provider withdraws its own vacancy, once; others' are 404.
async fn a_provider_withdraws_its_vacancy(url: &str) {
    let app = start(url).await;
    fixture(&app).await;
    let (vid, (s, _)) = care_assist_updates_its_vacancy(&app).await;
    assert_eq!(s, 200);
    let (vacancies, care) = (app.vacancies(), provider(&app, "prov-care-assist"));
    assert_problem(
        &vacancies
            .withdraw(&provider(&app, "prov-girls-first"), &vid, None)
            .await,
        404,
        "not-found",
        None,
    );
    let (s, w) = vacancies
        .withdraw(&care, &vid, Some(&json!({"reason": "place filled"})))
        .await;
    assert_eq!((s, w["status"].as_str()), (200, Some("withdrawn")), "{w}");
    let withdrawn = app.outbox_of::<VacancyWithdrawn>().await;
    assert_eq!(
        (withdrawn.len(), withdrawn[0].reason.as_str()),
        (1, "place filled")
    );
    assert_problem(
        &vacancies.withdraw(&care, &vid, None).await,
        409,
        "vacancy-not-live",
        None,
    );
}

/// Expired vacancies disappear (as withdrawn ones do).
async fn expired_vacancies_disappear(url: &str) {
    let app = start(url).await;
    let f = fixture(&app).await;
    let (vid, (s, _)) = care_assist_updates_its_vacancy(&app).await;
    assert_eq!(s, 200);
    let (s, w) = app
        .vacancies()
        .withdraw(
            &provider(&app, "prov-care-assist"),
            &vid,
            Some(&json!({"reason": "place filled"})),
        )
        .await;
    assert_eq!(s, 200, "{w}");
    let today = Utc::now().date_naive();
    app.sql(format!(
        "UPDATE vacancies SET expires_on = '{}' WHERE provider_id = 'prov-mersey-homes'",
        today - Duration::days(1)
    ))
    .await;
    let (_, left) = app
        .vacancies()
        .list(&sefton_social_worker(&app), &near_the_child(&f, ""))
        .await;
    let mut providers = ids(&left["items"]);
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

// -- A mini-competition: bids, declines, scores and the award -----------------------------

/// A competition of the fixture's framework: the framework and the competition's id.
struct Opened {
    f: Fixture,
    id: String,
}

/// The award criteria Sefton sets for the mini-competition.
fn mini_criteria() -> Value {
    json!({"criteria": [
        {"criterion": "compatibility", "mode": "pass_fail"},
        {"criterion": "price", "mode": "scored", "weight": 50},
        {"criterion": "location", "mode": "scored", "weight": 20},
        {"criterion": "quality", "mode": "scored", "weight": 30}]})
}

/// A bid at `price` a week from `home`, with `evidence` for a price above the Provider
/// Response.
fn bid(price: i64, home: &str, evidence: Option<&str>) -> Value {
    let mut b = json!({"weekly_price_pence": price, "start_date": "2026-12-01", "home_id": home,
                       "answers": {"quality": "Ofsted good; a key worker who plays football"}});
    if let Some(e) = evidence {
        b["price_variation_evidence"] = json!(e);
    }
    b
}

/// A decline with a reason code and perhaps a note.
fn decline(reason: &str, note: Option<&str>) -> Value {
    json!({"reason": reason, "note": note})
}

/// The fixture, and a planned mini-competition referral delivered twice: the competition.
async fn mini_opened(app: &TestApp) -> (Fixture, Value) {
    let f = fixture(app).await;
    let r = referral(&f, "mini_competition", Urgency::Planned);
    app.publish("referral", &r).await;
    app.publish("referral", &r).await; // redelivered: still one competition
    let c = competition_of(app, &r).await;
    (f, c)
}

/// The mini-competition with Sefton's criteria set.
async fn mini_with_criteria(app: &TestApp) -> Opened {
    let (f, c) = mini_opened(app).await;
    let id = id_of(&c);
    let (s, c2) = app
        .competitions()
        .set_criteria(&sefton(app), &id, &etag(app, &id).await, &mini_criteria())
        .await;
    assert_eq!(s, 200, "{c2}");
    Opened { f, id }
}

/// Then Care Assist's bid above its rate, with evidence, replaced by one at £2,100: the
/// mini-competition and Care Assist's live bid.
async fn care_assist_bid(app: &TestApp) -> (Opened, String) {
    let m = mini_with_criteria(app).await;
    let care = provider(app, "prov-care-assist");
    let home = &m.f.homes["prov-care-assist"];
    let evidence = Some("1:1 staffing at night for the first month");
    let (s, b1) = app
        .competitions()
        .bid(&care, &m.id, &bid(280_000, home, evidence))
        .await;
    assert_eq!(s, 201, "{b1}");
    let (s, b2) = app
        .competitions()
        .bid(&care, &m.id, &bid(210_000, home, None))
        .await;
    assert_eq!(s, 201, "{b2}");
    (m, id_of(&b2))
}

/// The live bids of Care Assist, Family Care Group and Girls First.
struct Bids {
    care: String,
    fcg: String,
    girls: String,
}

/// Then Family Care Group's bid at £3,000 and Girls First's at £2,500.
async fn bids_in(app: &TestApp) -> (Opened, Bids) {
    let (m, care) = care_assist_bid(app).await;
    let mut live = Vec::new();
    for (p, price) in [
        ("prov-family-care-group", 300_000),
        ("prov-girls-first", 250_000),
    ] {
        let (s, b) = app
            .competitions()
            .bid(&provider(app, p), &m.id, &bid(price, &m.f.homes[p], None))
            .await;
        assert_eq!(s, 201, "{b}");
        live.push(id_of(&b));
    }
    let [fcg, girls] = live.try_into().unwrap();
    (m, Bids { care, fcg, girls })
}

/// Then Mersey Homes bids and declines; Little Steps and No Vacancy decline (No Vacancy
/// twice, the second reason standing). Each provider sees its own decline.
async fn all_answered(app: &TestApp) -> (Opened, Bids) {
    let (m, bids) = bids_in(app).await;
    let competitions = app.competitions();
    let mersey = provider(app, "prov-mersey-homes");
    let (s, mb) = competitions
        .bid(
            &mersey,
            &m.id,
            &bid(390_000, &m.f.homes["prov-mersey-homes"], None),
        )
        .await;
    assert_eq!(s, 201, "{mb}");
    let (steps, novac) = (
        provider(app, "prov-little-steps"),
        provider(app, "prov-no-vacancy"),
    );
    for (user, reason, note) in [
        (
            &mersey,
            "location",
            Some("our home is in Didsbury, too far from school"),
        ),
        (&steps, "cannot_meet_needs", None),
        (&novac, "other", Some("registration inspection that week")),
        (&novac, "no_capacity", None),
    ] {
        let (s, v) = competitions
            .decline(user, &m.id, &decline(reason, note))
            .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(
            v["declined"].as_array().unwrap().len(),
            1,
            "a provider sees its own decline: {v}"
        );
        assert_eq!(v["declined"][0]["reason"], reason);
    }
    (m, bids)
}

/// Then Sefton decides the compatibility gate: Girls First's home takes girls only.
async fn gates_marked(app: &TestApp) -> (Opened, Bids) {
    let (m, bids) = all_answered(app).await;
    for (b, passed, reason) in [
        (&bids.care, true, "matches his need for a calm home"),
        (&bids.fcg, true, "boys' home, right age range"),
        (&bids.girls, false, "the home takes girls only"),
    ] {
        let (s, mark) = app
            .competitions()
            .score(
                &sefton(app),
                &m.id,
                b,
                "compatibility",
                &json!({"passed": passed, "reason": reason}),
            )
            .await;
        assert_eq!(s, 200, "{mark}");
    }
    (m, bids)
}

/// Sefton marks `bid`'s quality.
async fn quality_marked(app: &TestApp, m: &Opened, bid: &str, points: u32, reason: &str) {
    let (s, mark) = app
        .competitions()
        .score(
            &sefton(app),
            &m.id,
            bid,
            "quality",
            &json!({"score": points, "reason": reason}),
        )
        .await;
    assert_eq!(s, 200, "{mark}");
}

/// Then quality marked: Care Assist 20 of 30, Family Care Group 30.
async fn scored(app: &TestApp) -> (Opened, Bids) {
    let (m, bids) = gates_marked(app).await;
    let care = "good; limited evidence of education support";
    quality_marked(app, &m, &bids.care, 20, care).await;
    quality_marked(
        app,
        &m,
        &bids.fcg,
        30,
        "outstanding; strong education offer",
    )
    .await;
    (m, bids)
}

/// Then evaluated, and awarded to Care Assist's bid: the evaluation and the award.
async fn awarded(app: &TestApp) -> (Opened, Bids, Value, Value) {
    let (m, bids) = scored(app).await;
    let competitions = app.competitions();
    let sefton = sefton(app);
    let (s, ev) = competitions.evaluate(&sefton, &m.id).await;
    assert_eq!(s, 200, "{ev}");
    let (s, awarded) = competitions
        .award(&sefton, &m.id, Some(&json!({"bid_id": bids.care})))
        .await;
    assert_eq!(s, 200, "{awarded}");
    (m, bids, ev, awarded)
}

async fn a_redelivered_referral_opens_one_competition_for_every_provider(url: &str) {
    let app = start(url).await;
    let (_, c) = mini_opened(&app).await;
    assert_eq!(c["status"], "open");
    assert_eq!(c["need_level"], "standard");
    let all: Vec<String> = {
        let mut v: Vec<String> = PROVIDERS.iter().map(|p| p.id.to_owned()).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&c["invited"]), all, "every provider of the lot");
    let opened = app.outbox_of::<CompetitionOpened>().await;
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].invited.len(), 6);
}

/// Criteria: weights must sum to 100; only the council's commissioners set them.
async fn the_councils_commissioner_sets_the_criteria(url: &str) {
    let app = start(url).await;
    let (_, c) = mini_opened(&app).await;
    let (competitions, id) = (app.competitions(), id_of(&c));
    let sefton = sefton(&app);
    assert_problem(
        &competitions
            .set_criteria(
                &sefton,
                &id,
                &etag(&app, &id).await,
                &json!({"criteria": [{"criterion": "price", "mode": "scored", "weight": 50},
                                     {"criterion": "quality", "mode": "scored", "weight": 40}]}),
            )
            .await,
        422,
        "validation",
        Some(("/criteria", "sum_100")),
    );
    assert_problem(
        &competitions
            .set_criteria(
                &sefton_social_worker(&app),
                &id,
                &etag(&app, &id).await,
                &mini_criteria(),
            )
            .await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &competitions
            .set_criteria(
                &app.user(WIRRAL, Role::Commissioner),
                &id,
                &etag(&app, &id).await,
                &mini_criteria(),
            )
            .await,
        404,
        "not-found",
        None,
    );
    let (s, c2) = competitions
        .set_criteria(&sefton, &id, &etag(&app, &id).await, &mini_criteria())
        .await;
    assert_eq!(
        (s, c2["criteria"].as_array().map(Vec::len)),
        (200, Some(4)),
        "{c2}"
    );
}

/// Bids: only invited providers.
async fn only_invited_providers_bid(url: &str) {
    let app = start(url).await;
    let m = mini_with_criteria(&app).await;
    let competitions = app.competitions();
    let foster = provider(&app, FOSTER_PROVIDER);
    let care_home = &m.f.homes["prov-care-assist"];
    assert_problem(
        &competitions
            .bid(&foster, &m.id, &bid(90_000, care_home, None))
            .await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &competitions.get(&foster, &m.id).await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &competitions
            .bid(&sefton(&app), &m.id, &bid(90_000, care_home, None))
            .await,
        403,
        "forbidden",
        None,
    );
}

/// Above the Provider Response rate: refused without evidence, accepted with it.
async fn a_bid_above_the_provider_response_needs_evidence(url: &str) {
    let app = start(url).await;
    let m = mini_with_criteria(&app).await;
    let competitions = app.competitions();
    let care = provider(&app, "prov-care-assist");
    let home = &m.f.homes["prov-care-assist"];
    let over = competitions
        .bid(&care, &m.id, &bid(280_000, home, None))
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
        &competitions
            .bid(&care, &m.id, &bid(280_000, home, Some("  ")))
            .await,
        422,
        "price-above-provider-response",
        None,
    );
    let evidence = Some("1:1 staffing at night for the first month");
    let (s, b1) = competitions
        .bid(&care, &m.id, &bid(280_000, home, evidence))
        .await;
    assert_eq!(s, 201, "{b1}");
    assert_eq!(b1["provider_response_pence"], 214_900);
    assert_eq!(b1["home_name"], "Crosby House");
}

/// A bid names one of the provider's own homes, and answers the competition's criteria.
async fn a_bid_names_its_own_home_and_answers_the_criteria(url: &str) {
    let app = start(url).await;
    let (m, _) = care_assist_bid(&app).await;
    let competitions = app.competitions();
    let fcg = provider(&app, "prov-family-care-group");
    assert_problem(
        &competitions
            .bid(
                &fcg,
                &m.id,
                &bid(300_000, &m.f.homes["prov-care-assist"], None),
            )
            .await,
        422,
        "validation",
        Some(("/home_id", "exists")),
    );
    let mut answers = bid(300_000, &m.f.homes["prov-family-care-group"], None);
    answers["answers"] = json!({"best_match": "x"});
    assert_problem(
        &competitions.bid(&fcg, &m.id, &answers).await,
        422,
        "validation",
        Some(("/answers/best_match", "criterion")),
    );
}

/// Resubmission replaces the live bid: the council sees one per provider, with its answers.
async fn a_resubmitted_bid_replaces_the_live_one(url: &str) {
    let app = start(url).await;
    let (m, _) = bids_in(&app).await;
    let (_, seen) = app.competitions().get(&sefton(&app), &m.id).await;
    assert_eq!(
        seen["bids"].as_array().unwrap().len(),
        3,
        "one live bid per provider"
    );
    assert_eq!(
        seen["bids"][0]["answers"]["quality"],
        "Ofsted good; a key worker who plays football"
    );
}

async fn a_provider_sees_only_its_own_bid(url: &str) {
    let app = start(url).await;
    let (m, _) = bids_in(&app).await;
    let care = provider(&app, "prov-care-assist");
    let (_, own) = app.competitions().get(&care, &m.id).await;
    assert_eq!(
        own["bids"].as_array().unwrap().len(),
        1,
        "a provider sees its own bid"
    );
    assert_eq!(ids(&own["invited"]), vec!["prov-care-assist"]);
    assert!(own.get("history").is_none() && own.get("left_out").is_none());
}

/// The criteria are fixed once bids are in. Before the deadline, no award while an invited
/// provider has neither bid nor declined: the three who have not are named.
async fn bids_fix_the_criteria_and_wait_for_every_invited_provider(url: &str) {
    let app = start(url).await;
    let (m, _) = bids_in(&app).await;
    let (competitions, sefton) = (app.competitions(), sefton(&app));
    assert_problem(
        &competitions
            .set_criteria(&sefton, &m.id, &etag(&app, &m.id).await, &mini_criteria())
            .await,
        409,
        "bids-received",
        None,
    );
    let early = competitions.award(&sefton, &m.id, None).await;
    assert_problem(&early, 409, "bidding-open", None);
    let detail = early.1["detail"].as_str().unwrap();
    for waiting in ["prov-little-steps", "prov-mersey-homes", "prov-no-vacancy"] {
        assert!(detail.contains(waiting), "{detail}");
    }
    assert!(!detail.contains("prov-care-assist"), "{detail}");
}

/// Only an invited provider declines, each with a reason code (a note for `other`).
async fn only_an_invited_provider_declines_with_a_reason_code(url: &str) {
    let app = start(url).await;
    let (m, _) = bids_in(&app).await;
    let competitions = app.competitions();
    let novac = provider(&app, "prov-no-vacancy");
    assert_problem(
        &competitions
            .decline(
                &provider(&app, FOSTER_PROVIDER),
                &m.id,
                &decline("no_capacity", None),
            )
            .await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &competitions
            .decline(&sefton(&app), &m.id, &decline("no_capacity", None))
            .await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &competitions
            .decline(&novac, &m.id, &decline("other", Some(" ")))
            .await,
        422,
        "validation",
        Some(("/note", "required")),
    );
    assert_problem(
        &competitions
            .decline(&novac, &m.id, &decline("too_busy", None))
            .await,
        422,
        "validation",
        None,
    );
}

/// The commissioner sees who declined and why; Mersey Homes' decline withdrew its bid.
async fn the_commissioner_sees_who_declined_and_why(url: &str) {
    let app = start(url).await;
    let (m, _) = all_answered(&app).await;
    let (_, seen) = app.competitions().get(&sefton(&app), &m.id).await;
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
}

/// Evaluation: the compatibility gate is undecided, so no award yet.
async fn no_award_while_a_gate_is_undecided(url: &str) {
    let app = start(url).await;
    let (m, _) = all_answered(&app).await;
    let (competitions, sefton) = (app.competitions(), sefton(&app));
    let (s, ev) = competitions.evaluate(&sefton, &m.id).await;
    assert_eq!(s, 200, "{ev}");
    assert_eq!(ev["gates_decided"], false);
    let incomplete = competitions.award(&sefton, &m.id, None).await;
    assert_problem(&incomplete, 409, "evaluation-incomplete", None);
    assert!(
        incomplete.1["detail"]
            .as_str()
            .unwrap()
            .contains("compatibility"),
        "{}",
        incomplete.1
    );
}

/// Scoring: the commissioner marks the gate and quality; price and location are automatic.
async fn the_commissioner_marks_within_the_criteria(url: &str) {
    let app = start(url).await;
    let (m, bids) = gates_marked(&app).await;
    let (competitions, sefton) = (app.competitions(), sefton(&app));
    let cid = bids.care.as_str();
    let mark = |user: User, criterion: &'static str, body: Value| {
        let (competitions, id) = (&competitions, &m.id);
        async move { competitions.score(&user, id, cid, criterion, &body).await }
    };
    assert_problem(
        &mark(sefton.clone(), "price", json!({"score": 10, "reason": "x"})).await,
        422,
        "validation",
        Some(("criterion", "automatic")),
    );
    assert_problem(
        &mark(
            sefton.clone(),
            "quality",
            json!({"score": 31, "reason": "x"}),
        )
        .await,
        422,
        "validation",
        Some(("/score", "max")),
    );
    assert_problem(
        &mark(sefton.clone(), "quality", json!({"score": 20})).await,
        422,
        "validation",
        Some(("/reason", "required")),
    );
    assert_problem(
        &mark(
            sefton_social_worker(&app),
            "quality",
            json!({"score": 20, "reason": "x"}),
        )
        .await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &mark(sefton, "best_match", json!({"score": 1, "reason": "x"})).await,
        422,
        "validation",
        Some(("criterion", "not_in_competition")),
    );
}

/// Every gate is decided, but quality (30 of 100 points) is not yet scored for Family Care
/// Group's acceptable bid: no award yet, and the mark is named.
async fn an_unscored_mark_is_named(url: &str) {
    let app = start(url).await;
    let (m, bids) = gates_marked(&app).await;
    let care = "good; limited evidence of education support";
    quality_marked(&app, &m, &bids.care, 20, care).await;
    let fid = &bids.fcg;
    let incomplete = app.competitions().award(&sefton(&app), &m.id, None).await;
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
    quality_marked(&app, &m, fid, 30, "outstanding; strong education offer").await;
}

/// The score a ranking row gives `criterion`.
fn score_of(row: &Value, criterion: &str) -> u64 {
    row["scores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["criterion"] == criterion)
        .unwrap()["score"]
        .as_u64()
        .unwrap()
}

/// The location score of `p`'s home: 20 points, less for each mile of the 20 allowed.
fn location_score(p: &str) -> u64 {
    let h = PROVIDERS.iter().find(|x| x.id == p).unwrap().home;
    let d = distance_miles(h.1, h.2, AREA.0, AREA.1);
    (2000.0 * (1.0 - d / 20.0)).round() as u64
}

/// Price and location are scored automatically; the best value ranks first.
async fn the_ranking_scores_price_location_and_quality(url: &str) {
    let app = start(url).await;
    let (m, bids) = scored(&app).await;
    let (_, ev) = app.competitions().evaluate(&sefton(&app), &m.id).await;
    assert_eq!(ev["gates_decided"], true, "{ev}");
    assert_eq!(ev["winner"], bids.care);
    let care_row = &ev["ranking"][0];
    let fcg_row = &ev["ranking"][1];
    assert_eq!(care_row["bid_id"], bids.care);
    assert_eq!(score_of(care_row, "price"), 5000);
    // 50 × 210,000 / 300,000 = 35.00
    assert_eq!(score_of(fcg_row, "price"), 3500);
    assert_eq!(
        score_of(care_row, "location"),
        location_score("prov-care-assist")
    );
    assert_eq!(
        score_of(fcg_row, "location"),
        location_score("prov-family-care-group")
    );
    assert_eq!(
        care_row["total"].as_u64().unwrap(),
        5000 + 2000 + location_score("prov-care-assist")
    );
    assert_eq!(ev["ranking"][2]["acceptable"], false);
    assert!(ev["ranking"][2]["rank"].is_null());
}

/// Award: naming a bid that is not the best value is refused; the best value wins.
async fn the_best_value_wins_the_award(url: &str) {
    let app = start(url).await;
    let (m, bids) = scored(&app).await;
    let (competitions, sefton) = (app.competitions(), sefton(&app));
    let (s, ev) = competitions.evaluate(&sefton, &m.id).await;
    assert_eq!(s, 200, "{ev}");
    assert_problem(
        &competitions
            .award(&sefton, &m.id, Some(&json!({"bid_id": bids.fcg})))
            .await,
        409,
        "not-best-value",
        None,
    );
    assert_problem(
        &competitions
            .award(&sefton, &m.id, Some(&json!({"bid_id": Uuid::now_v7()})))
            .await,
        422,
        "validation",
        Some(("/bid_id", "exists")),
    );
    let (s, awarded) = competitions
        .award(&sefton, &m.id, Some(&json!({"bid_id": bids.care})))
        .await;
    assert_eq!(s, 200, "{awarded}");
    assert_eq!(awarded["awarded_provider"], "prov-care-assist");
    assert_eq!(awarded["awarded_rate_pence"], 210_000);
    let events = app.outbox_of::<CompetitionAwarded>().await;
    assert_eq!(events.len(), 1);
    assert!(!events[0].direct);
    assert_eq!(events[0].weekly_rate_pence, 210_000);
}

/// Each unsuccessful provider is told its own price and scores, the winner's name and
/// scores, and why it lost.
async fn the_unsuccessful_are_told_why(url: &str) {
    let app = start(url).await;
    let (_, _, ev, _) = awarded(&app).await;
    let a = app.outbox_of::<CompetitionAwarded>().await.remove(0);
    let mut unsuccessful = a.unsuccessful.clone();
    unsuccessful.sort();
    assert_eq!(
        unsuccessful,
        vec!["prov-family-care-group", "prov-girls-first"]
    );
    assert_eq!(a.outcomes.len(), 2);
    let outcome = |p: &str| a.outcomes.iter().find(|o| o.provider_id == p).unwrap();
    let fcg_out = outcome("prov-family-care-group");
    assert_eq!(
        fcg_out.winner_total,
        ev["ranking"][0]["total"].as_u64().map(|t| t as u32)
    );
    let criterion = |c: &str| fcg_out.scores.iter().find(|s| s.criterion == c).unwrap();
    let q = criterion("quality");
    assert_eq!((q.score, q.winner_score), (Some(3000), Some(2000)));
    let p = criterion("price");
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
    let girls_out = outcome("prov-girls-first");
    assert_eq!(girls_out.total, None);
    assert_eq!(
        girls_out.reasons[0],
        "did not pass the compatibility requirement: the home takes girls only"
    );
    assert_eq!(fcg_out.weekly_price_pence, Some(300_000));
    assert_eq!(fcg_out.winner_name.as_deref(), Some("care-assist"));
}

/// Awarded: no more declines, no more bids, no second award.
async fn an_awarded_competition_is_closed(url: &str) {
    let app = start(url).await;
    let (m, _, _, _) = awarded(&app).await;
    let competitions = app.competitions();
    let fcg = provider(&app, "prov-family-care-group");
    assert_problem(
        &competitions
            .decline(&fcg, &m.id, &decline("no_capacity", None))
            .await,
        409,
        "competition-closed",
        None,
    );
    assert_problem(
        &competitions
            .bid(
                &fcg,
                &m.id,
                &bid(200_000, &m.f.homes["prov-family-care-group"], None),
            )
            .await,
        409,
        "competition-closed",
        None,
    );
    assert_problem(
        &competitions.award(&sefton(&app), &m.id, None).await,
        409,
        "competition-closed",
        None,
    );
}

/// The council exports the competition as OCDS: tender, then award, linked to the
/// framework. Nobody else may.
async fn the_council_exports_an_award_as_ocds(url: &str) {
    let app = start(url).await;
    let (m, _, _, _) = awarded(&app).await;
    let package = ocds_of(&app, &m.id).await;
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
    let uri = format!("/v1/competitions/{}/ocds", m.id);
    assert!(package["uri"].as_str().unwrap().ends_with(&uri));
    let competitions = app.competitions();
    assert_problem(
        &competitions
            .ocds(&app.user(WIRRAL, Role::Commissioner), &m.id)
            .await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &competitions
            .ocds(&provider(&app, "prov-care-assist"), &m.id)
            .await,
        404,
        "not-found",
        None,
    );
}

/// A bid after the deadline is refused.
async fn a_late_bid_is_refused(url: &str) {
    let app = start(url).await;
    let (m, _, _, _) = awarded(&app).await;
    let r2 = referral(&m.f, "mini_competition", Urgency::Emergency);
    let id2 = id_of(&referred(&app, &r2).await);
    deadline_passes(&app, &id2).await;
    assert_problem(
        &app.competitions()
            .bid(
                &provider(&app, "prov-care-assist"),
                &id2,
                &bid(200_000, &m.f.homes["prov-care-assist"], None),
            )
            .await,
        409,
        "deadline-passed",
        None,
    );
}

// -- A preselected mini-competition: a draft until the commissioner confirms it -----------

/// The reason codes for which `p` was left out of `c`.
fn reasons(c: &Value, p: &str) -> Vec<String> {
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
}

/// Every preselection test on.
fn every_filter() -> Value {
    json!({"home_size": true, "distance": true, "live_vacancy": true, "gender": true,
           "age": true, "educational_needs": true})
}

/// The fixture and a planned preselected mini-competition: its draft.
async fn draft(app: &TestApp) -> Value {
    let f = fixture(app).await;
    let r = referral(&f, "preselected_mini_competition", Urgency::Planned);
    referred(app, &r).await
}

/// Sefton asks for four places, then for one without the live-vacancy test: the draft's id
/// and the two replies.
async fn preselection_changed(app: &TestApp) -> (String, (u16, Value), (u16, Value)) {
    let id = id_of(&draft(app).await);
    let (competitions, sefton) = (app.competitions(), sefton(app));
    let body = json!({"filters": every_filter(), "places_needed": 4,
                      "reason": "a sibling group of four"});
    let four = competitions
        .set_preselection(&sefton, &id, &etag(app, &id).await, &body)
        .await;
    let mut filters = every_filter();
    filters["live_vacancy"] = json!(false);
    let one = competitions
        .set_preselection(
            &sefton,
            &id,
            &etag(app, &id).await,
            &json!({"filters": filters, "places_needed": 1,
                    "reason": "vacancy lists lag: ask providers without a listed vacancy too"}),
        )
        .await;
    (id, four, one)
}

/// Then price and best match at the enhanced rate: the draft's id.
async fn draft_ready(app: &TestApp) -> String {
    let (id, _, (s, c3)) = preselection_changed(app).await;
    assert_eq!(s, 200, "{c3}");
    let (s, _) = app
        .competitions()
        .set_criteria(
            &sefton(app),
            &id,
            &etag(app, &id).await,
            &json!({"criteria": [{"criterion": "price", "mode": "scored", "weight": 40},
                                 {"criterion": "best_match", "mode": "scored", "weight": 60}],
                    "need_level": "enhanced"}),
        )
        .await;
    assert_eq!(s, 200);
    id
}

/// Then confirmed: the competition's id and the reply.
async fn preselected_opened(app: &TestApp) -> (String, (u16, Value)) {
    let id = draft_ready(app).await;
    let opened = app.competitions().open(&sefton(app), &id, None).await;
    (id, opened)
}

/// A preselected competition is a draft naming whom it would invite and why the others
/// are left out; nobody is told yet.
async fn a_preselected_competition_starts_as_a_draft(url: &str) {
    let app = start(url).await;
    let c = draft(&app).await;
    assert_eq!(c["status"], "draft");
    assert!(
        app.outbox_of::<CompetitionOpened>().await.is_empty(),
        "nobody told yet"
    );
    assert_eq!(
        ids(&c["would_invite"]),
        vec!["prov-care-assist", "prov-family-care-group"]
    );
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
}

/// A draft is not exported, and providers know nothing of it.
async fn a_draft_is_the_councils_alone(url: &str) {
    let app = start(url).await;
    let id = id_of(&draft(&app).await);
    let competitions = app.competitions();
    assert_problem(
        &competitions.ocds(&sefton(&app), &id).await,
        409,
        "competition-state",
        None,
    );
    assert_problem(
        &competitions
            .get(&provider(&app, "prov-care-assist"), &id)
            .await,
        404,
        "not-found",
        None,
    );
}

/// The commissioner changes the tests, saying why.
async fn the_commissioner_changes_the_preselection_saying_why(url: &str) {
    let app = start(url).await;
    let id = id_of(&draft(&app).await);
    assert_problem(
        &app.competitions()
            .set_preselection(
                &sefton(&app),
                &id,
                &etag(&app, &id).await,
                &json!({"filters": every_filter()}),
            )
            .await,
        422,
        "validation",
        Some(("/reason", "required")),
    );
}

/// Four places: no home has them. Without the live-vacancy test, No Vacancy is asked too.
async fn a_changed_preselection_changes_whom_it_would_invite(url: &str) {
    let app = start(url).await;
    let (_, (s, c2), (s3, c3)) = preselection_changed(&app).await;
    assert_eq!(s, 200, "{c2}");
    assert!(c2["would_invite"].as_array().unwrap().is_empty());
    assert_eq!(reasons(&c2, "prov-care-assist"), vec!["home_full"]);
    assert_eq!(
        reasons(&c2, "prov-family-care-group"),
        vec!["home_too_small"]
    );
    assert_eq!(s3, 200, "{c3}");
    assert_eq!(
        ids(&c3["would_invite"]),
        vec![
            "prov-care-assist",
            "prov-family-care-group",
            "prov-no-vacancy"
        ]
    );
    assert_eq!(c3["preselection"]["set_by"], "user-of-E08000014");
}

/// A draft's criteria weigh 100 too.
async fn a_drafts_criteria_weigh_100(url: &str) {
    let app = start(url).await;
    let (id, _, _) = preselection_changed(&app).await;
    assert_problem(
        &app.competitions()
            .set_criteria(
                &sefton(&app),
                &id,
                &etag(&app, &id).await,
                &json!({"criteria": [{"criterion": "price", "mode": "scored", "weight": 60},
                                     {"criterion": "quality", "mode": "scored", "weight": 50}]}),
            )
            .await,
        422,
        "validation",
        Some(("/criteria", "sum_100")),
    );
}

/// Confirming: a deadline in the past is refused, and only a commissioner confirms.
async fn confirming_takes_a_future_deadline_and_a_commissioner(url: &str) {
    let app = start(url).await;
    let id = draft_ready(&app).await;
    let competitions = app.competitions();
    assert_problem(
        &competitions
            .open(
                &sefton(&app),
                &id,
                Some(&json!({"deadline": "2020-01-01T00:00:00Z"})),
            )
            .await,
        422,
        "validation",
        Some(("/deadline", "future")),
    );
    assert_problem(
        &competitions
            .open(&sefton_social_worker(&app), &id, None)
            .await,
        403,
        "forbidden",
        None,
    );
}

/// Confirmed: the three are invited and told; who was left out, and each change, recorded.
async fn a_confirmed_draft_invites_and_tells_the_preselected(url: &str) {
    let app = start(url).await;
    let (_, (s, opened)) = preselected_opened(&app).await;
    let three = vec![
        "prov-care-assist",
        "prov-family-care-group",
        "prov-no-vacancy",
    ];
    assert_eq!(s, 200, "{opened}");
    assert_eq!(opened["status"], "open");
    assert_eq!(ids(&opened["invited"]), three);
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
    let events = app.outbox_of::<CompetitionOpened>().await;
    assert_eq!(events.len(), 1);
    let mut invited = events[0].invited.clone();
    invited.sort();
    assert_eq!(invited, three);
}

/// Once open, no second confirmation and no new preselection; the tender is exported.
async fn an_open_competition_keeps_its_preselection(url: &str) {
    let app = start(url).await;
    let (id, _) = preselected_opened(&app).await;
    let (competitions, sefton) = (app.competitions(), sefton(&app));
    assert_problem(
        &competitions.open(&sefton, &id, None).await,
        409,
        "competition-state",
        None,
    );
    assert_problem(
        &competitions
            .set_preselection(
                &sefton,
                &id,
                &etag(&app, &id).await,
                &json!({"filters": {}, "reason": "x"}),
            )
            .await,
        409,
        "competition-state",
        None,
    );
    let package = ocds_of(&app, &id).await;
    assert_eq!(package["releases"].as_array().unwrap().len(), 1);
}

/// A provider left out cannot see or bid; an invited one bids at its enhanced rate.
async fn only_the_preselected_bid_at_the_need_levels_rate(url: &str) {
    let app = start(url).await;
    let (id, _) = preselected_opened(&app).await;
    let competitions = app.competitions();
    let bid = |price: i64| json!({"weekly_price_pence": price, "start_date": "2026-12-01"});
    assert_problem(
        &competitions
            .bid(&provider(&app, "prov-mersey-homes"), &id, &bid(300_000))
            .await,
        404,
        "not-found",
        None,
    );
    let (s, b) = competitions
        .bid(&provider(&app, "prov-care-assist"), &id, &bid(264_900))
        .await;
    assert_eq!(
        (s, b["provider_response_pence"].as_i64()),
        (201, Some(264_900)),
        "{b}"
    );
}

// -- Closing bidding, closing, reopening, rerouting; a withdrawn referral -----------------

/// The fixture and an urgent mini-competition priced alone behind a location gate, with one
/// bid, from Mersey Homes' home 31 miles away: the competition's id.
async fn far_bid_only(app: &TestApp) -> (Fixture, String) {
    let f = fixture(app).await;
    let r = referral(&f, "mini_competition", Urgency::Urgent);
    let id = id_of(&referred(app, &r).await);
    let competitions = app.competitions();
    let (s, _) = competitions
        .set_criteria(
            &sefton(app),
            &id,
            &etag(app, &id).await,
            &json!({"criteria": [{"criterion": "location", "mode": "pass_fail"},
                                 {"criterion": "price", "mode": "scored", "weight": 100}]}),
        )
        .await;
    assert_eq!(s, 200);
    let body = json!({"weekly_price_pence": 390_000, "start_date": "2026-12-01",
                      "home_id": f.homes["prov-mersey-homes"]});
    let (s, b) = competitions
        .bid(&provider(app, "prov-mersey-homes"), &id, &body)
        .await;
    assert_eq!(s, 201, "{b}");
    (f, id)
}

/// Then Sefton closes bidding early, the placement being needed sooner: the reply.
async fn bidding_closed_early(app: &TestApp) -> (Fixture, String, Value) {
    let (f, id) = far_bid_only(app).await;
    let body = json!({"reason": "placement_needed_sooner",
                      "note": "his current placement ends on Friday"});
    let (s, cb) = app
        .competitions()
        .close_bidding(&sefton(app), &id, &body)
        .await;
    assert_eq!(s, 200, "{cb}");
    (f, id, cb)
}

/// Then Sefton closes the competition, no bid being acceptable: the close-bidding reply and
/// the close's.
async fn closed_unawarded(app: &TestApp) -> (Fixture, String, Value, (u16, Value)) {
    let (f, id, cb) = bidding_closed_early(app).await;
    let body = json!({
        "reason": "no_acceptable_bid",
        "detail": "Saoirse needs a home without an older peer group; nothing within 20 miles",
        "provider_message": "No bid met the location requirement."
    });
    let closed = app.competitions().close(&sefton(app), &id, &body).await;
    (f, id, cb, closed)
}

/// Sefton reopens competition `id` for three days, widened to 30 miles: the new deadline
/// and the reply.
async fn reopen_for_three_days(app: &TestApp, id: &str) -> (String, (u16, Value)) {
    let deadline = (Utc::now() + Duration::days(3))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let reply = app
        .competitions()
        .reopen(
            &sefton(app),
            id,
            Some(&json!({"deadline": deadline, "reason": "widened to 30 miles"})),
        )
        .await;
    (deadline, reply)
}

/// The closed competition reopened for three days.
async fn reopened(app: &TestApp) -> (Fixture, String) {
    let (f, id, _, (s, closed)) = closed_unawarded(app).await;
    assert_eq!(s, 200, "{closed}");
    let (_, (s, reopened)) = reopen_for_three_days(app, &id).await;
    assert_eq!(s, 200, "{reopened}");
    (f, id)
}

/// Then closed again once the new deadline has passed, no bid having come.
async fn closed_again(app: &TestApp) -> (Fixture, String) {
    let (f, id) = reopened(app).await;
    deadline_passes(app, &id).await;
    let (s, closed) = app
        .competitions()
        .close(
            &sefton(app),
            &id,
            &json!({"reason": "other", "detail": "still nothing suitable"}),
        )
        .await;
    assert_eq!(s, 200, "{closed}");
    (f, id)
}

/// Then re-routed to a direct award, and awarded directly: the direct award's reply.
async fn rerouted_and_awarded(app: &TestApp) -> (Fixture, String, (u16, Value)) {
    let (f, id) = closed_again(app).await;
    let (competitions, sefton) = (app.competitions(), sefton(app));
    let (s, rr) = competitions
        .reroute(
            &sefton,
            &id,
            &json!({"route": "direct_award", "reason": "the child needs a home this week"}),
        )
        .await;
    assert_eq!(
        (s, rr["status"].as_str()),
        (200, Some("awaiting_direct_award")),
        "{rr}"
    );
    let body = json!({"provider_id": "prov-care-assist", "weekly_rate_pence": 250_000,
                      "start_date": "2026-12-01",
                      "justification": "only home able to take him this week"});
    let da = competitions.direct_award(&sefton, &id, &body).await;
    (f, id, da)
}

/// The only bid is from a home 31 miles away: it fails the location gate.
async fn a_bid_failing_a_gate_cannot_win(url: &str) {
    let app = start(url).await;
    let (_, id) = far_bid_only(&app).await;
    let (_, ev) = app.competitions().evaluate(&sefton(&app), &id).await;
    assert!(ev["winner"].is_null(), "{ev}");
    assert!(
        ev["ranking"][0]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("did not pass the location requirement"),
        "{ev}"
    );
}

/// Before the deadline, with five invited providers yet to answer, neither an award nor a
/// close without one: the other providers were promised 24 hours.
async fn no_award_or_close_while_providers_may_still_bid(url: &str) {
    let app = start(url).await;
    let (_, id) = far_bid_only(&app).await;
    let (competitions, sefton) = (app.competitions(), sefton(&app));
    assert_problem(
        &competitions.award(&sefton, &id, None).await,
        409,
        "bidding-open",
        None,
    );
    assert_problem(
        &competitions
            .close(&sefton, &id, &json!({"reason": "no_acceptable_bid"}))
            .await,
        409,
        "bidding-open",
        None,
    );
}

/// Only the council's commissioner closes bidding early, with a reason code (a note for
/// `other`).
async fn closing_bidding_early_takes_a_reason_code(url: &str) {
    let app = start(url).await;
    let (_, id) = far_bid_only(&app).await;
    let competitions = app.competitions();
    let sooner = json!({"reason": "placement_needed_sooner"});
    assert_problem(
        &competitions
            .close_bidding(&sefton(&app), &id, &json!({"reason": "other"}))
            .await,
        422,
        "validation",
        Some(("/note", "required")),
    );
    assert_problem(
        &competitions
            .close_bidding(&sefton_social_worker(&app), &id, &sooner)
            .await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &competitions
            .close_bidding(&provider(&app, "prov-mersey-homes"), &id, &sooner)
            .await,
        404,
        "not-found",
        None,
    );
}

/// The commissioner closes bidding early, with a reason code every invited provider is
/// told; the note stays in the council's history.
async fn every_invited_provider_is_told_bidding_closed_and_why(url: &str) {
    let app = start(url).await;
    let (_, id, cb) = bidding_closed_early(&app).await;
    assert_eq!(cb["bidding_closed_reason"], "placement_needed_sooner");
    assert!(cb["bidding_closed_at"].is_string(), "{cb}");
    let told = app.outbox_of::<hub_events::BiddingClosed>().await;
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
}

/// Bidding closed: no bid, no second close; and no award, the only bid being unacceptable.
async fn once_bidding_closed_no_bid_is_taken(url: &str) {
    let app = start(url).await;
    let (_, id, _) = bidding_closed_early(&app).await;
    let (competitions, sefton) = (app.competitions(), sefton(&app));
    assert_problem(
        &competitions
            .bid(
                &provider(&app, "prov-care-assist"),
                &id,
                &json!({"weekly_price_pence": 200_000, "start_date": "2026-12-01"}),
            )
            .await,
        409,
        "bidding-closed",
        None,
    );
    assert_problem(
        &competitions
            .close_bidding(&sefton, &id, &json!({"reason": "court_timescale"}))
            .await,
        409,
        "bidding-closed",
        None,
    );
    assert_problem(
        &competitions.award(&sefton, &id, None).await,
        409,
        "no-acceptable-bid",
        None,
    );
}

/// Closed with a reason code, by the council's commissioner; the council's words are not a
/// code: refused, naming the field.
async fn closing_takes_a_reason_code(url: &str) {
    let app = start(url).await;
    let (_, id, _) = bidding_closed_early(&app).await;
    let (competitions, sefton) = (app.competitions(), sefton(&app));
    assert_problem(
        &competitions
            .close(&sefton, &id, &json!({"reason": " "}))
            .await,
        422,
        "validation",
        Some(("/reason", "required")),
    );
    assert_problem(
        &competitions
            .close(
                &sefton,
                &id,
                &json!({"reason": "Saoirse needs a home without an older peer group"}),
            )
            .await,
        422,
        "validation",
        Some(("/reason", "one_of")),
    );
    assert_problem(
        &competitions
            .close(
                &sefton_social_worker(&app),
                &id,
                &json!({"reason": "no_bids"}),
            )
            .await,
        403,
        "forbidden",
        None,
    );
}

/// Codes out, words in: providers get the code and the words written for them; the
/// council's own words stay in the competition's history. No bid after.
async fn a_closed_competition_tells_providers_only_the_code_and_their_words(url: &str) {
    let app = start(url).await;
    let (_, id, _, (s, closed)) = closed_unawarded(&app).await;
    assert_eq!(
        (s, closed["status"].as_str()),
        (200, Some("closed")),
        "{closed}"
    );
    let events = app.outbox_of::<CompetitionClosed>().await;
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
        &app.competitions()
            .bid(
                &provider(&app, "prov-mersey-homes"),
                &id,
                &json!({"weekly_price_pence": 1, "start_date": "2026-12-01"}),
            )
            .await,
        409,
        "competition-closed",
        None,
    );
}

/// Exported as unsuccessful; bidding ended when the commissioner closed it, not at the
/// deadline.
async fn a_closed_competition_is_exported_unsuccessful(url: &str) {
    let app = start(url).await;
    let (_, id, cb, (s, closed)) = closed_unawarded(&app).await;
    assert_eq!(s, 200, "{closed}");
    let package = ocds_of(&app, &id).await;
    assert_eq!(package["releases"][1]["tender"]["status"], "unsuccessful");
    let ended = package["releases"][1]["tender"]["tenderPeriod"]["endDate"]
        .as_str()
        .unwrap();
    assert_eq!(
        ended[..19],
        cb["bidding_closed_at"].as_str().unwrap()[..19],
        "{package}"
    );
}

/// Reopened with a new deadline: the old bids are set aside, the providers told again.
async fn a_reopened_competition_sets_the_old_bids_aside(url: &str) {
    let app = start(url).await;
    let (_, id, _, (s, closed)) = closed_unawarded(&app).await;
    assert_eq!(s, 200, "{closed}");
    assert_problem(
        &app.competitions()
            .reopen(
                &sefton(&app),
                &id,
                Some(&json!({"deadline": "2020-01-01T00:00:00Z"})),
            )
            .await,
        422,
        "validation",
        Some(("/deadline", "future")),
    );
    let (deadline, (s, reopened)) = reopen_for_three_days(&app, &id).await;
    assert_eq!(s, 200, "{reopened}");
    assert_eq!(reopened["status"], "open");
    assert!(reopened["bids"].as_array().unwrap().is_empty());
    assert!(
        reopened["deadline"]
            .as_str()
            .unwrap()
            .starts_with(&deadline[..16])
    );
    assert_eq!(app.outbox_of::<CompetitionOpened>().await.len(), 2);
    assert!(
        reopened["bidding_closed_at"].is_null(),
        "a new bidding window: {reopened}"
    );
}

/// Closed again once the new deadline has passed (no bid came), not before.
async fn a_reopened_competition_closes_after_its_new_deadline(url: &str) {
    let app = start(url).await;
    let (_, id) = reopened(&app).await;
    let (competitions, sefton) = (app.competitions(), sefton(&app));
    let nothing = json!({"reason": "other", "detail": "still nothing suitable"});
    assert_problem(
        &competitions.close(&sefton, &id, &nothing).await,
        409,
        "bidding-open",
        None,
    );
    deadline_passes(&app, &id).await;
    let (s, closed) = competitions.close(&sefton, &id, &nothing).await;
    assert_eq!(s, 200, "{closed}");
}

/// A closed competition is re-routed, with a reason, to a direct award, and awarded.
async fn a_closed_competition_is_rerouted_to_a_direct_award(url: &str) {
    let app = start(url).await;
    let (_, id) = closed_again(&app).await;
    let (competitions, sefton) = (app.competitions(), sefton(&app));
    assert_problem(
        &competitions
            .reroute(&sefton, &id, &json!({"route": "direct_award"}))
            .await,
        422,
        "validation",
        Some(("/reason", "required")),
    );
    assert_problem(
        &competitions
            .reroute(
                &sefton,
                &id,
                &json!({"route": "spot_purchase", "reason": "x"}),
            )
            .await,
        422,
        "validation",
        Some(("/route", "one_of")),
    );
    let (_, _, (s, da)) = rerouted_and_awarded(&app).await;
    assert_eq!(s, 200, "{da}");
    assert_eq!(
        (da["status"].as_str(), da["direct"].as_bool()),
        (Some("awarded"), Some(true))
    );
}

/// A withdrawn referral closes its competition, which cannot be reopened, and is exported
/// as cancelled.
async fn a_withdrawn_referral_closes_its_competition_for_good(url: &str) {
    let app = start(url).await;
    let (f, _, (s, da)) = rerouted_and_awarded(&app).await;
    assert_eq!(s, 200, "{da}");
    let r2 = referral(&f, "mini_competition", Urgency::Planned);
    let id2 = id_of(&referred(&app, &r2).await);
    app.publish(
        "referral",
        &ReferralWithdrawn {
            referral_id: r2.referral_id,
            council: SEFTON.into(),
            reason: "the child returned home".into(),
        },
    )
    .await;
    let c2 = competition_of(&app, &r2).await;
    assert_eq!(
        (c2["status"].as_str(), c2["closed_reason"].as_str()),
        (Some("closed"), Some("referral_withdrawn"))
    );
    let events = app.outbox_of::<CompetitionClosed>().await;
    assert_eq!(
        events.last().unwrap().reason,
        CompetitionCloseReason::ReferralWithdrawn
    );
    assert_eq!(events.last().unwrap().competition_id.to_string(), id2);
    assert_problem(
        &app.competitions().reopen(&sefton(&app), &id2, None).await,
        409,
        "referral-withdrawn",
        None,
    );
    let package = ocds_of(&app, &id2).await;
    assert_eq!(package["releases"][1]["tender"]["status"], "cancelled");
}

// -- What unsuccessful providers are told -------------------------------------------------

/// An urgent competition on price and quality alike. Mersey Homes first declines, then
/// changes its mind; three providers bid and are marked on quality: the competition, the
/// decline's reply.
async fn three_marked_bids(app: &TestApp) -> (String, (u16, Value)) {
    let f = fixture(app).await;
    let r = referral(&f, "mini_competition", Urgency::Urgent);
    let id = id_of(&referred(app, &r).await);
    let (competitions, sefton) = (app.competitions(), sefton(app));
    let (s, c) = competitions
        .set_criteria(
            &sefton,
            &id,
            &etag(app, &id).await,
            &json!({"criteria": [{"criterion": "price", "mode": "scored", "weight": 50},
                                 {"criterion": "quality", "mode": "scored", "weight": 50}]}),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    let declined = competitions
        .decline(
            &provider(app, "prov-mersey-homes"),
            &id,
            &json!({"reason": "no_capacity"}),
        )
        .await;
    for (p, price, quality) in [
        ("prov-care-assist", 200_000, 10),
        ("prov-family-care-group", 300_000, 50),
        ("prov-mersey-homes", 360_000, 40),
    ] {
        let (s, b) = competitions
            .bid(
                &provider(app, p),
                &id,
                &json!({"weekly_price_pence": price, "start_date": "2026-12-01"}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let (s, m) = competitions
            .score(
                &sefton,
                &id,
                &id_of(&b),
                "quality",
                &json!({"score": quality, "reason": "as seen on the visit"}),
            )
            .await;
        assert_eq!(s, 200, "{m}");
    }
    (id, declined)
}

/// Sefton closes bidding on competition `id` for the court's timescale: the reply.
async fn closed_for_the_court(app: &TestApp, id: &str) -> (u16, Value) {
    app.competitions()
        .close_bidding(&sefton(app), id, &json!({"reason": "court_timescale"}))
        .await
}

/// A bid replaces the provider's decline.
async fn a_bid_replaces_the_providers_decline(url: &str) {
    let app = start(url).await;
    let (id, (s, d)) = three_marked_bids(&app).await;
    assert_eq!(
        (s, d["declined"].as_array().map(Vec::len)),
        (200, Some(1)),
        "{d}"
    );
    let (s, cb) = closed_for_the_court(&app, &id).await;
    assert_eq!(s, 200, "{cb}");
    assert_eq!(
        cb["declined"],
        json!([]),
        "Mersey Homes bid after all: {cb}"
    );
    assert_eq!(cb["bids"].as_array().unwrap().len(), 3);
}

/// Three acceptable bids; the cheapest loses on quality. The other unsuccessful provider is
/// told its own price and scores, the winner's name and scores and where the winning bid
/// was better, and nothing of the cheapest bid: not its price, not its provider.
async fn unsuccessful_providers_learn_only_of_themselves_and_the_winner(url: &str) {
    let app = start(url).await;
    let (id, _) = three_marked_bids(&app).await;
    let (s, cb) = closed_for_the_court(&app, &id).await;
    assert_eq!(s, 200, "{cb}");
    let (s, awarded) = app.competitions().award(&sefton(&app), &id, None).await;
    assert_eq!(s, 200, "{awarded}");
    assert_eq!(awarded["awarded_provider"], "prov-family-care-group");
    let a = app.outbox_of::<CompetitionAwarded>().await.remove(0);
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

// -- Direct awards and their reviews ------------------------------------------------------

/// Why Sefton awards directly.
const JUSTIFICATION: &str = "an extreme emergency: the only home with an emergency bed tonight";

/// A direct award to Care Assist for referral `r`, with `justification` if any.
fn direct_award(r: &ReferralSubmitted, justification: Option<&str>) -> Value {
    let mut b = json!({"referral_id": r.referral_id, "provider_id": "prov-care-assist",
                       "weekly_rate_pence": 420_000, "start_date": "2026-11-20"});
    if let Some(j) = justification {
        b["justification"] = json!(j);
    }
    b
}

/// The fixture and an emergency referral for a direct award: the referral and its
/// competition.
async fn awaiting_direct_award(app: &TestApp) -> (Fixture, ReferralSubmitted, Value) {
    let f = fixture(app).await;
    let r = referral(&f, "direct_award", Urgency::Emergency);
    let c = referred(app, &r).await;
    (f, r, c)
}

/// Then Sefton awards it directly to Care Assist: the referral and the reply.
async fn directly_awarded(app: &TestApp) -> (Fixture, ReferralSubmitted, (u16, Value)) {
    let (f, r, _) = awaiting_direct_award(app).await;
    let da = app
        .competitions()
        .direct_award_for_referral(&sefton(app), &direct_award(&r, Some(JUSTIFICATION)))
        .await;
    (f, r, da)
}

/// Sefton reviews direct award `id` with `body`.
async fn reviewed(app: &TestApp, id: &str, body: &Value) -> (u16, Value) {
    app.competitions().review(&sefton(app), id, body).await
}

/// A 90-day review date.
fn in_90_days() -> String {
    (Utc::now().date_naive() + Duration::days(90)).to_string()
}

/// Then kept at its first review, and reopened to competition at the next: the direct
/// award's id and the reopening's reply.
async fn kept_then_reopened(app: &TestApp) -> (Fixture, String, (u16, Value)) {
    let (f, _, (s, da)) = directly_awarded(app).await;
    assert_eq!(s, 201, "{da}");
    let id = id_of(&da);
    let (s, kept) = reviewed(
        app,
        &id,
        &json!({"decision": "keep", "reason": "settled well", "next_review_date": in_90_days()}),
    )
    .await;
    assert_eq!(s, 200, "{kept}");
    let reopened = reviewed(
        app,
        &id,
        &json!({"decision": "reopen", "reason": "test the market for a longer-term home"}),
    )
    .await;
    (f, id, reopened)
}

/// A direct-award referral waits for the award; nobody is invited.
async fn a_direct_award_referral_awaits_its_award(url: &str) {
    let app = start(url).await;
    let (_, _, c) = awaiting_direct_award(&app).await;
    assert_eq!(c["status"], "awaiting_direct_award");
    assert!(app.outbox_of::<CompetitionOpened>().await.is_empty());
}

/// A direct award needs a justification, and names its referral.
async fn a_direct_award_is_justified(url: &str) {
    let app = start(url).await;
    let (_, r, _) = awaiting_direct_award(&app).await;
    let (competitions, sefton) = (app.competitions(), sefton(&app));
    assert_problem(
        &competitions
            .direct_award_for_referral(&sefton, &direct_award(&r, None))
            .await,
        422,
        "validation",
        Some(("/justification", "required")),
    );
    assert_problem(
        &competitions
            .direct_award_for_referral(&sefton, &direct_award(&r, Some("  ")))
            .await,
        422,
        "validation",
        Some(("/justification", "required")),
    );
    let mut no_referral = direct_award(&r, Some("x"));
    no_referral.as_object_mut().unwrap().remove("referral_id");
    assert_problem(
        &competitions
            .direct_award_for_referral(&sefton, &no_referral)
            .await,
        422,
        "validation",
        Some(("/referral_id", "required")),
    );
}

/// Only the referral's council's commissioner awards directly, to an admitted provider;
/// nothing is exported before.
async fn the_councils_commissioner_awards_directly_to_an_admitted_provider(url: &str) {
    let app = start(url).await;
    let (_, r, c) = awaiting_direct_award(&app).await;
    let (competitions, sefton) = (app.competitions(), sefton(&app));
    let why = Some(JUSTIFICATION);
    assert_problem(
        &competitions
            .direct_award_for_referral(
                &app.user(WIRRAL, Role::Commissioner),
                &direct_award(&r, why),
            )
            .await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &competitions
            .direct_award_for_referral(&sefton_social_worker(&app), &direct_award(&r, why))
            .await,
        403,
        "forbidden",
        None,
    );
    let mut outsider = direct_award(&r, why);
    outsider["provider_id"] = json!(FOSTER_PROVIDER);
    assert_problem(
        &competitions
            .direct_award_for_referral(&sefton, &outsider)
            .await,
        422,
        "validation",
        Some(("/provider_id", "admitted")),
    );
    assert_problem(
        &competitions.ocds(&sefton, c["id"].as_str().unwrap()).await,
        409,
        "competition-state",
        None,
    );
}

/// Awarded directly, reviewed within 28 days, announced once.
async fn a_direct_award_is_announced_with_a_review_date(url: &str) {
    let app = start(url).await;
    let (_, r, (s, da)) = directly_awarded(&app).await;
    assert_eq!(s, 201, "{da}");
    assert_eq!(
        (da["status"].as_str(), da["direct"].as_bool()),
        (Some("awarded"), Some(true))
    );
    let today = Utc::now().date_naive();
    assert_eq!(da["review_date"], (today + Duration::days(28)).to_string());
    assert_eq!(da["direct_award"]["justification"], JUSTIFICATION);
    let events = app.outbox_of::<CompetitionAwarded>().await;
    assert_eq!(events.len(), 1);
    assert!(events[0].direct && events[0].bid_id.is_none());
    assert_eq!(
        (events[0].provider_id.as_str(), events[0].weekly_rate_pence),
        ("prov-care-assist", 420_000)
    );
    assert_problem(
        &app.competitions()
            .direct_award_for_referral(&sefton(&app), &direct_award(&r, Some(JUSTIFICATION)))
            .await,
        409,
        "competition-state",
        None,
    );
}

/// A direct award is exported as one release, by the direct method, without its
/// justification.
async fn a_direct_award_is_exported_without_its_justification(url: &str) {
    let app = start(url).await;
    let (_, _, (s, da)) = directly_awarded(&app).await;
    assert_eq!(s, 201, "{da}");
    let package = ocds_of(&app, da["id"].as_str().unwrap()).await;
    assert_eq!(package["releases"].as_array().unwrap().len(), 1);
    assert_eq!(
        package["releases"][0]["tender"]["procurementMethod"],
        "direct"
    );
    assert!(
        !package.to_string().contains("extreme emergency"),
        "no justification text exported"
    );
}

/// Review: kept, with a reason, until a later review.
async fn a_direct_award_is_kept_until_a_later_review(url: &str) {
    let app = start(url).await;
    let (_, _, (s, da)) = directly_awarded(&app).await;
    assert_eq!(s, 201, "{da}");
    let id = id_of(&da);
    assert_problem(
        &reviewed(&app, &id, &json!({"decision": "keep"})).await,
        422,
        "validation",
        Some(("/reason", "required")),
    );
    let next = in_90_days();
    let (s, kept) = reviewed(
        &app,
        &id,
        &json!({"decision": "keep", "reason": "settled well", "next_review_date": next}),
    )
    .await;
    assert_eq!(s, 200, "{kept}");
    assert_eq!(kept["competition"]["review_date"], next);
}

/// Review: reopened to competition, inviting the lot; the review is done, and the new
/// competition is no direct award to review.
async fn a_reviewed_direct_award_reopens_to_competition(url: &str) {
    let app = start(url).await;
    let (_, id, (s, reopened)) = kept_then_reopened(&app).await;
    assert_eq!(s, 200, "{reopened}");
    let new = &reopened["reopened_as"];
    assert_eq!(new["status"], "open");
    assert_eq!(new["reopened_from"], id.as_str());
    assert_eq!(new["invited"].as_array().unwrap().len(), 6);
    assert!(reopened["competition"]["review_date"].is_null());
    assert_eq!(app.outbox_of::<CompetitionOpened>().await.len(), 1);
    let keep = json!({"decision": "keep", "reason": "x"});
    assert_problem(&reviewed(&app, &id, &keep).await, 409, "review-done", None);
    assert_problem(
        &reviewed(&app, new["id"].as_str().unwrap(), &keep).await,
        409,
        "not-a-direct-award",
        None,
    );
}

/// A preselected draft can be awarded directly too, with a review date of its own.
async fn a_preselected_draft_is_awarded_directly(url: &str) {
    let app = start(url).await;
    let (f, _, (s, reopened)) = kept_then_reopened(&app).await;
    assert_eq!(s, 200, "{reopened}");
    let r2 = referral(&f, "preselected_mini_competition", Urgency::Emergency);
    let d = referred(&app, &r2).await;
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
    let review_date = (Utc::now().date_naive() + Duration::days(14)).to_string();
    let (s, da2) = app
        .competitions()
        .direct_award(
            &sefton(&app),
            &id_of(&d),
            &json!({"provider_id": "prov-care-assist", "weekly_rate_pence": 300_000,
                    "start_date": "2026-11-21", "justification": "emergency bed tonight",
                    "review_date": review_date}),
        )
        .await;
    assert_eq!(s, 200, "{da2}");
    assert_eq!(da2["review_date"], review_date);
}

// -- Money is bounded ---------------------------------------------------------------------

/// A bid from Care Assist at `price` a week, with evidence for a price above its rate.
fn bounded_bid(f: &Fixture, price: i64) -> Value {
    json!({"weekly_price_pence": price, "start_date": "2026-12-01",
           "home_id": f.homes["prov-care-assist"],
           "price_variation_evidence": "two-to-one staffing around the clock",
           "answers": {"quality": "Ofsted good"}})
}

/// A planned mini-competition of the fixture's: its id.
async fn planned_mini(app: &TestApp, f: &Fixture) -> String {
    let r = referral(f, "mini_competition", Urgency::Planned);
    id_of(&referred(app, &r).await)
}

/// Money cannot overflow: a Provider Response price and a bid's weekly price are each at
/// most £100,000.00 a week; more is 422 naming the field; at the bound a bid is taken.
async fn weekly_prices_are_bounded(url: &str) {
    let app = start(url).await;
    let f = fixture(&app).await;
    let max = hub_platform::Pence::MAX_WEEKLY.0;
    assert_problem(
        &app.frameworks()
            .admit(
                &halton(&app),
                &f.framework,
                &f.foster,
                &json!({"provider_id": "prov-new-foster", "name": "New Foster",
                        "weekly_prices": {"standard": 98_500, "complex": i64::MAX}}),
            )
            .await,
        422,
        "validation",
        Some(("/weekly_prices/complex", "range")),
    );
    let id = planned_mini(&app, &f).await;
    let (competitions, care) = (app.competitions(), provider(&app, "prov-care-assist"));
    for price in [i64::MAX, max + 1] {
        assert_problem(
            &competitions.bid(&care, &id, &bounded_bid(&f, price)).await,
            422,
            "validation",
            Some(("/weekly_price_pence", "range")),
        );
    }
    let (s, b) = competitions.bid(&care, &id, &bounded_bid(&f, max)).await;
    assert_eq!(s, 201, "{b}");
}

/// A direct award's weekly rate is at most £100,000.00 too: one of i64::MAX a week is 422
/// and nothing is announced (it used to reach the contract service and the ledger as
/// negative lines); at the bound it is awarded.
async fn direct_award_rates_are_bounded(url: &str) {
    let app = start(url).await;
    let f = fixture(&app).await;
    let max = hub_platform::Pence::MAX_WEEKLY.0;
    let id = planned_mini(&app, &f).await;
    let care = provider(&app, "prov-care-assist");
    let (s, b) = app
        .competitions()
        .bid(&care, &id, &bounded_bid(&f, max))
        .await;
    assert_eq!(s, 201, "{b}");
    let r = referral(&f, "direct_award", Urgency::Emergency);
    app.publish("referral", &r).await;
    let award = |rate: i64| {
        json!({"referral_id": r.referral_id, "provider_id": "prov-care-assist",
               "weekly_rate_pence": rate, "start_date": "2026-11-20",
               "justification": "the only home with an emergency bed tonight"})
    };
    let (competitions, sefton) = (app.competitions(), sefton(&app));
    assert_problem(
        &competitions
            .direct_award_for_referral(&sefton, &award(i64::MAX))
            .await,
        422,
        "validation",
        Some(("/weekly_rate_pence", "range")),
    );
    assert!(app.outbox_of::<CompetitionAwarded>().await.is_empty());
    let (s, a) = competitions
        .direct_award_for_referral(&sefton, &award(max))
        .await;
    assert!(s == 200 || s == 201, "{s} {a}");
    let awarded = app.outbox_of::<CompetitionAwarded>().await;
    assert_eq!(
        awarded
            .iter()
            .map(|a| a.weekly_rate_pence)
            .collect::<Vec<_>>(),
        vec![max]
    );
}

// -- Referrals the service cannot route ---------------------------------------------------

/// Halton sets up the LCR PPA for every council, and one for Halton alone: each
/// framework's id and lot.
async fn two_frameworks(app: &TestApp) -> [(Uuid, Uuid); 2] {
    let uuid = |s: &str| s.parse::<Uuid>().unwrap();
    let mut out = Vec::new();
    for bodies in [None, Some(vec![HALTON])] {
        let mut body = ppa("provider_partner_agreement");
        if let Some(b) = bodies {
            body["purchasing_bodies"] = json!(b);
        }
        let (id, lot) = set_up_framework(app, &body).await;
        out.push((uuid(&id), uuid(&lot)));
    }
    out.try_into().unwrap()
}

/// A planned referral from Sefton to `framework_id`'s `lot_id`.
fn submitted(framework_id: Uuid, lot_id: Uuid) -> ReferralSubmitted {
    ReferralSubmitted {
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
    }
}

/// Every framework set up is published whole for the referral service's replica.
async fn every_framework_is_published_whole(url: &str) {
    let app = start(url).await;
    let [(ppa, lot), _] = two_frameworks(&app).await;
    let published = app.outbox_of::<FrameworkPublished>().await;
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
}

/// A submitted referral the service cannot route is returned to its council with a reason
/// code (never dropped silently), and one it can route opens a competition as before.
async fn referrals_that_cannot_be_routed_are_returned(url: &str) {
    let app = start(url).await;
    let [(ppa, lot), (halton_only, halton_lot)] = two_frameworks(&app).await;
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
        app.publish_envelope(&Envelope::new("referral", partnership, r))
            .await;
    }
    let returned = app.outbox_of::<ReferralReturned>().await;
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
    assert!(app.outbox_of::<CompetitionOpened>().await.is_empty());

    // A referral it can route opens a competition and is not returned.
    app.publish("referral", &submitted(ppa, lot)).await;
    assert_eq!(app.outbox_of::<CompetitionOpened>().await.len(), 1);
    assert_eq!(app.outbox_of::<ReferralReturned>().await.len(), cases.len());
}

// ---------------------------------------------------------------------------------------

on_both!(
    only_the_lead_commissioner_sets_up_a_framework,
    only_the_lead_commissioner_sets_up_a_framework_on_sqlite,
    only_the_lead_commissioner_sets_up_a_framework_on_postgres
);
on_both!(
    a_provider_partner_agreement_is_reviewed_every_two_years,
    a_provider_partner_agreement_is_reviewed_every_two_years_on_sqlite,
    a_provider_partner_agreement_is_reviewed_every_two_years_on_postgres
);
on_both!(
    the_lead_commissioner_admits_a_provider_once,
    the_lead_commissioner_admits_a_provider_once_on_sqlite,
    the_lead_commissioner_admits_a_provider_once_on_postgres
);
on_both!(
    admissions_wait_for_a_new_round,
    admissions_wait_for_a_new_round_on_sqlite,
    admissions_wait_for_a_new_round_on_postgres
);
on_both!(
    a_framework_agreement_admits_at_set_up_only,
    a_framework_agreement_admits_at_set_up_only_on_sqlite,
    a_framework_agreement_admits_at_set_up_only_on_postgres
);
on_both!(
    a_lots_default_criteria_weigh_100,
    a_lots_default_criteria_weigh_100_on_sqlite,
    a_lots_default_criteria_weigh_100_on_postgres
);
on_both!(
    a_provider_records_its_own_homes,
    a_provider_records_its_own_homes_on_sqlite,
    a_provider_records_its_own_homes_on_postgres
);
on_both!(
    a_provider_keeps_its_homes_up_to_date,
    a_provider_keeps_its_homes_up_to_date_on_sqlite,
    a_provider_keeps_its_homes_up_to_date_on_postgres
);
on_both!(
    a_provider_reads_only_its_own_provider_response,
    a_provider_reads_only_its_own_provider_response_on_sqlite,
    a_provider_reads_only_its_own_provider_response_on_postgres
);
on_both!(
    each_vacancy_is_published,
    each_vacancy_is_published_on_sqlite,
    each_vacancy_is_published_on_postgres
);
on_both!(
    vacancies_are_listed_nearest_first,
    vacancies_are_listed_nearest_first_on_sqlite,
    vacancies_are_listed_nearest_first_on_postgres
);
on_both!(
    a_vacancy_search_names_a_lot_the_council_sees,
    a_vacancy_search_names_a_lot_the_council_sees_on_sqlite,
    a_vacancy_search_names_a_lot_the_council_sees_on_postgres
);
on_both!(
    a_provider_publishes_at_its_own_homes_only,
    a_provider_publishes_at_its_own_homes_only_on_sqlite,
    a_provider_publishes_at_its_own_homes_only_on_postgres
);
on_both!(
    a_provider_updates_its_vacancy,
    a_provider_updates_its_vacancy_on_sqlite,
    a_provider_updates_its_vacancy_on_postgres
);
on_both!(
    a_provider_withdraws_its_vacancy,
    a_provider_withdraws_its_vacancy_on_sqlite,
    a_provider_withdraws_its_vacancy_on_postgres
);
on_both!(
    expired_vacancies_disappear,
    expired_vacancies_disappear_on_sqlite,
    expired_vacancies_disappear_on_postgres
);
on_both!(
    a_redelivered_referral_opens_one_competition_for_every_provider,
    a_redelivered_referral_opens_one_competition_for_every_provider_on_sqlite,
    a_redelivered_referral_opens_one_competition_for_every_provider_on_postgres
);
on_both!(
    the_councils_commissioner_sets_the_criteria,
    the_councils_commissioner_sets_the_criteria_on_sqlite,
    the_councils_commissioner_sets_the_criteria_on_postgres
);
on_both!(
    only_invited_providers_bid,
    only_invited_providers_bid_on_sqlite,
    only_invited_providers_bid_on_postgres
);
on_both!(
    a_bid_above_the_provider_response_needs_evidence,
    a_bid_above_the_provider_response_needs_evidence_on_sqlite,
    a_bid_above_the_provider_response_needs_evidence_on_postgres
);
on_both!(
    a_bid_names_its_own_home_and_answers_the_criteria,
    a_bid_names_its_own_home_and_answers_the_criteria_on_sqlite,
    a_bid_names_its_own_home_and_answers_the_criteria_on_postgres
);
on_both!(
    a_resubmitted_bid_replaces_the_live_one,
    a_resubmitted_bid_replaces_the_live_one_on_sqlite,
    a_resubmitted_bid_replaces_the_live_one_on_postgres
);
on_both!(
    a_provider_sees_only_its_own_bid,
    a_provider_sees_only_its_own_bid_on_sqlite,
    a_provider_sees_only_its_own_bid_on_postgres
);
on_both!(
    bids_fix_the_criteria_and_wait_for_every_invited_provider,
    bids_fix_the_criteria_and_wait_for_every_invited_provider_on_sqlite,
    bids_fix_the_criteria_and_wait_for_every_invited_provider_on_postgres
);
on_both!(
    only_an_invited_provider_declines_with_a_reason_code,
    only_an_invited_provider_declines_with_a_reason_code_on_sqlite,
    only_an_invited_provider_declines_with_a_reason_code_on_postgres
);
on_both!(
    the_commissioner_sees_who_declined_and_why,
    the_commissioner_sees_who_declined_and_why_on_sqlite,
    the_commissioner_sees_who_declined_and_why_on_postgres
);
on_both!(
    no_award_while_a_gate_is_undecided,
    no_award_while_a_gate_is_undecided_on_sqlite,
    no_award_while_a_gate_is_undecided_on_postgres
);
on_both!(
    the_commissioner_marks_within_the_criteria,
    the_commissioner_marks_within_the_criteria_on_sqlite,
    the_commissioner_marks_within_the_criteria_on_postgres
);
on_both!(
    an_unscored_mark_is_named,
    an_unscored_mark_is_named_on_sqlite,
    an_unscored_mark_is_named_on_postgres
);
on_both!(
    the_ranking_scores_price_location_and_quality,
    the_ranking_scores_price_location_and_quality_on_sqlite,
    the_ranking_scores_price_location_and_quality_on_postgres
);
on_both!(
    the_best_value_wins_the_award,
    the_best_value_wins_the_award_on_sqlite,
    the_best_value_wins_the_award_on_postgres
);
on_both!(
    the_unsuccessful_are_told_why,
    the_unsuccessful_are_told_why_on_sqlite,
    the_unsuccessful_are_told_why_on_postgres
);
on_both!(
    an_awarded_competition_is_closed,
    an_awarded_competition_is_closed_on_sqlite,
    an_awarded_competition_is_closed_on_postgres
);
on_both!(
    the_council_exports_an_award_as_ocds,
    the_council_exports_an_award_as_ocds_on_sqlite,
    the_council_exports_an_award_as_ocds_on_postgres
);
on_both!(
    a_late_bid_is_refused,
    a_late_bid_is_refused_on_sqlite,
    a_late_bid_is_refused_on_postgres
);
on_both!(
    a_preselected_competition_starts_as_a_draft,
    a_preselected_competition_starts_as_a_draft_on_sqlite,
    a_preselected_competition_starts_as_a_draft_on_postgres
);
on_both!(
    a_draft_is_the_councils_alone,
    a_draft_is_the_councils_alone_on_sqlite,
    a_draft_is_the_councils_alone_on_postgres
);
on_both!(
    the_commissioner_changes_the_preselection_saying_why,
    the_commissioner_changes_the_preselection_saying_why_on_sqlite,
    the_commissioner_changes_the_preselection_saying_why_on_postgres
);
on_both!(
    a_changed_preselection_changes_whom_it_would_invite,
    a_changed_preselection_changes_whom_it_would_invite_on_sqlite,
    a_changed_preselection_changes_whom_it_would_invite_on_postgres
);
on_both!(
    a_drafts_criteria_weigh_100,
    a_drafts_criteria_weigh_100_on_sqlite,
    a_drafts_criteria_weigh_100_on_postgres
);
on_both!(
    confirming_takes_a_future_deadline_and_a_commissioner,
    confirming_takes_a_future_deadline_and_a_commissioner_on_sqlite,
    confirming_takes_a_future_deadline_and_a_commissioner_on_postgres
);
on_both!(
    a_confirmed_draft_invites_and_tells_the_preselected,
    a_confirmed_draft_invites_and_tells_the_preselected_on_sqlite,
    a_confirmed_draft_invites_and_tells_the_preselected_on_postgres
);
on_both!(
    an_open_competition_keeps_its_preselection,
    an_open_competition_keeps_its_preselection_on_sqlite,
    an_open_competition_keeps_its_preselection_on_postgres
);
on_both!(
    only_the_preselected_bid_at_the_need_levels_rate,
    only_the_preselected_bid_at_the_need_levels_rate_on_sqlite,
    only_the_preselected_bid_at_the_need_levels_rate_on_postgres
);
on_both!(
    a_bid_failing_a_gate_cannot_win,
    a_bid_failing_a_gate_cannot_win_on_sqlite,
    a_bid_failing_a_gate_cannot_win_on_postgres
);
on_both!(
    no_award_or_close_while_providers_may_still_bid,
    no_award_or_close_while_providers_may_still_bid_on_sqlite,
    no_award_or_close_while_providers_may_still_bid_on_postgres
);
on_both!(
    closing_bidding_early_takes_a_reason_code,
    closing_bidding_early_takes_a_reason_code_on_sqlite,
    closing_bidding_early_takes_a_reason_code_on_postgres
);
on_both!(
    every_invited_provider_is_told_bidding_closed_and_why,
    every_invited_provider_is_told_bidding_closed_and_why_on_sqlite,
    every_invited_provider_is_told_bidding_closed_and_why_on_postgres
);
on_both!(
    once_bidding_closed_no_bid_is_taken,
    once_bidding_closed_no_bid_is_taken_on_sqlite,
    once_bidding_closed_no_bid_is_taken_on_postgres
);
on_both!(
    closing_takes_a_reason_code,
    closing_takes_a_reason_code_on_sqlite,
    closing_takes_a_reason_code_on_postgres
);
on_both!(
    a_closed_competition_tells_providers_only_the_code_and_their_words,
    a_closed_competition_tells_providers_only_the_code_and_their_words_on_sqlite,
    a_closed_competition_tells_providers_only_the_code_and_their_words_on_postgres
);
on_both!(
    a_closed_competition_is_exported_unsuccessful,
    a_closed_competition_is_exported_unsuccessful_on_sqlite,
    a_closed_competition_is_exported_unsuccessful_on_postgres
);
on_both!(
    a_reopened_competition_sets_the_old_bids_aside,
    a_reopened_competition_sets_the_old_bids_aside_on_sqlite,
    a_reopened_competition_sets_the_old_bids_aside_on_postgres
);
on_both!(
    a_reopened_competition_closes_after_its_new_deadline,
    a_reopened_competition_closes_after_its_new_deadline_on_sqlite,
    a_reopened_competition_closes_after_its_new_deadline_on_postgres
);
on_both!(
    a_closed_competition_is_rerouted_to_a_direct_award,
    a_closed_competition_is_rerouted_to_a_direct_award_on_sqlite,
    a_closed_competition_is_rerouted_to_a_direct_award_on_postgres
);
on_both!(
    a_withdrawn_referral_closes_its_competition_for_good,
    a_withdrawn_referral_closes_its_competition_for_good_on_sqlite,
    a_withdrawn_referral_closes_its_competition_for_good_on_postgres
);
on_both!(
    a_bid_replaces_the_providers_decline,
    a_bid_replaces_the_providers_decline_on_sqlite,
    a_bid_replaces_the_providers_decline_on_postgres
);
on_both!(
    unsuccessful_providers_learn_only_of_themselves_and_the_winner,
    unsuccessful_providers_learn_only_of_themselves_and_the_winner_on_sqlite,
    unsuccessful_providers_learn_only_of_themselves_and_the_winner_on_postgres
);
on_both!(
    a_direct_award_referral_awaits_its_award,
    a_direct_award_referral_awaits_its_award_on_sqlite,
    a_direct_award_referral_awaits_its_award_on_postgres
);
on_both!(
    a_direct_award_is_justified,
    a_direct_award_is_justified_on_sqlite,
    a_direct_award_is_justified_on_postgres
);
on_both!(
    the_councils_commissioner_awards_directly_to_an_admitted_provider,
    the_councils_commissioner_awards_directly_to_an_admitted_provider_on_sqlite,
    the_councils_commissioner_awards_directly_to_an_admitted_provider_on_postgres
);
on_both!(
    a_direct_award_is_announced_with_a_review_date,
    a_direct_award_is_announced_with_a_review_date_on_sqlite,
    a_direct_award_is_announced_with_a_review_date_on_postgres
);
on_both!(
    a_direct_award_is_exported_without_its_justification,
    a_direct_award_is_exported_without_its_justification_on_sqlite,
    a_direct_award_is_exported_without_its_justification_on_postgres
);
on_both!(
    a_direct_award_is_kept_until_a_later_review,
    a_direct_award_is_kept_until_a_later_review_on_sqlite,
    a_direct_award_is_kept_until_a_later_review_on_postgres
);
on_both!(
    a_reviewed_direct_award_reopens_to_competition,
    a_reviewed_direct_award_reopens_to_competition_on_sqlite,
    a_reviewed_direct_award_reopens_to_competition_on_postgres
);
on_both!(
    a_preselected_draft_is_awarded_directly,
    a_preselected_draft_is_awarded_directly_on_sqlite,
    a_preselected_draft_is_awarded_directly_on_postgres
);
on_both!(
    weekly_prices_are_bounded,
    weekly_prices_are_bounded_on_sqlite,
    weekly_prices_are_bounded_on_postgres
);
on_both!(
    direct_award_rates_are_bounded,
    direct_award_rates_are_bounded_on_sqlite,
    direct_award_rates_are_bounded_on_postgres
);
on_both!(
    every_framework_is_published_whole,
    every_framework_is_published_whole_on_sqlite,
    every_framework_is_published_whole_on_postgres
);
on_both!(
    referrals_that_cannot_be_routed_are_returned,
    referrals_that_cannot_be_routed_are_returned_on_sqlite,
    referrals_that_cannot_be_routed_are_returned_on_postgres
);
