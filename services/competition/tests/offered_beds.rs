//! Block-contract beds offered to partner councils (`contract.bed_offered`) are listed as
//! vacancies to the councils they were offered to, with `offered_by`, and withdrawn when the
//! bed is filled (`contract.bed_filled`). One behaviour per test, each on SQLite and
//! PostgreSQL; a fixture function replays the events a behaviour needs.

mod common;

use chrono::{Duration, NaiveDate, Utc};
use common::{framework_body, halton, provider, set_up_framework, start};
use hub_events::{BedFilled, BedOffered, VacancyPublished, VacancyWithdrawn};
use hub_platform::{
    Role,
    directory::{HALTON, KNOWSLEY, LIVERPOOL, NOTTINGHAM, SEFTON, ST_HELENS, WIRRAL},
};
use hub_testkit::{TestApp, User, assert_problem, on_both};
use serde_json::{Value, json};
use uuid::Uuid;

const CARE_ASSIST: &str = "prov-care-assist";

/// The items of a page of vacancies.
fn rows(v: &Value) -> Vec<Value> {
    v["items"].as_array().cloned().unwrap_or_default()
}

/// Knowsley's social worker: offered both beds.
fn knowsley(app: &TestApp) -> User {
    app.user(KNOWSLEY, Role::SocialWorker)
}

/// The beds offered: Sefton's bed 3 of the Care Assist block contract (in the lot, at
/// Crosby House) and Liverpool's bed 1 of another contract.
struct Offers {
    lot: String,
    home_id: Uuid,
    today: NaiveDate,
    care_contract: Uuid,
    offer: BedOffered,
    other: BedOffered,
}

/// Halton sets up the LCR PPA and admits Care Assist, which records Crosby House: the lot
/// and the home.
async fn crosby_house_recorded(app: &TestApp) -> (String, Uuid) {
    let body = framework_body(
        "LCR Provider Partner Agreement",
        "provider_partner_agreement",
    );
    let (framework, lot) = set_up_framework(app, &body).await;
    let frameworks = app.frameworks();
    let response =
        json!({"provider_id": CARE_ASSIST, "name": "Care Assist", "weekly_price_pence": 214_900});
    let (s, b) = frameworks
        .admit(&halton(app), &framework, &lot, &response)
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, home) = frameworks
        .add_home(
            &provider(app, CARE_ASSIST),
            &framework,
            &lot,
            CARE_ASSIST,
            &json!({
                "name": "Crosby House", "latitude": 53.49, "longitude": -3.02,
                "postcode_district": "L23", "registered_places": 4, "occupied_places": 3,
                "genders_accepted": ["male"], "min_age_years": 11, "max_age_years": 17,
                "specialisms": ["emotional_behavioural"], "ofsted_rating": "good",
                "emergency_capacity": false, "educational_provision": []
            }),
        )
        .await;
    assert_eq!(s, 201, "{home}");
    (lot, home["id"].as_str().unwrap().parse().unwrap())
}

/// Then Sefton offers bed 3 of the Care Assist block contract to the rest of the LCR;
/// Liverpool offers a bed of another contract (no lot, no home known here) to Knowsley only.
async fn offered(app: &TestApp) -> Offers {
    let (lot, home_id) = crosby_house_recorded(app).await;
    let today = Utc::now().date_naive();
    let care_contract = Uuid::now_v7();
    let offer = BedOffered {
        block_contract_id: care_contract,
        bed: 3,
        offered_by: SEFTON.into(),
        offered_to: vec![
            HALTON.into(),
            KNOWSLEY.into(),
            LIVERPOOL.into(),
            ST_HELENS.into(),
            WIRRAL.into(),
        ],
        provider_id: CARE_ASSIST.into(),
        lot_id: Some(lot.parse().unwrap()),
        home_id: Some(home_id),
        postcode_district: "L23".into(),
        available_from: today,
        offer_expires_on: today + Duration::days(365),
    };
    app.publish("contract", &offer).await;
    let other = BedOffered {
        block_contract_id: Uuid::now_v7(),
        bed: 1,
        offered_by: LIVERPOOL.into(),
        offered_to: vec![KNOWSLEY.into()],
        provider_id: "prov-family-care-group".into(),
        lot_id: None,
        home_id: None,
        postcode_district: "CH41".into(),
        available_from: today,
        offer_expires_on: today + Duration::days(30),
    };
    app.publish("contract", &other).await;
    Offers {
        lot,
        home_id,
        today,
        care_contract,
        offer,
        other,
    }
}

/// The vacancy Sefton's offer was listed as.
async fn sefton_vacancy(app: &TestApp) -> String {
    app.outbox_of::<VacancyPublished>().await[0]
        .vacancy_id
        .to_string()
}

/// Then Sefton's offer announced again, and a Knowsley child moves into the bed.
async fn filled(app: &TestApp) -> Offers {
    let o = offered(app).await;
    app.publish("contract", &o.offer).await;
    app.publish(
        "contract",
        &BedFilled {
            block_contract_id: o.care_contract,
            bed: 3,
            placement_id: Uuid::now_v7(),
            council: KNOWSLEY.into(),
            provider_id: CARE_ASSIST.into(),
            filled_on: o.today,
        },
    )
    .await;
    o
}

/// Then a copy of the offer made before the fill arrives after it, and Liverpool's bed 2 is
/// filled before its (earlier) offer arrives.
async fn out_of_order(app: &TestApp) -> Offers {
    let o = filled(app).await;
    app.publish_late("contract", &o.offer, 60).await;
    app.publish(
        "contract",
        &BedFilled {
            block_contract_id: o.other.block_contract_id,
            bed: 2,
            placement_id: Uuid::now_v7(),
            council: LIVERPOOL.into(),
            provider_id: "prov-family-care-group".into(),
            filled_on: o.today,
        },
    )
    .await;
    let offer = BedOffered {
        bed: 2,
        ..o.other.clone()
    };
    app.publish_late("contract", &offer, 60).await;
    o
}

/// Each offer is announced as a vacancy, in the partnership, with who offered it.
async fn offered_beds_are_announced_as_vacancies(url: &str) {
    let app = start(url).await;
    let o = offered(&app).await;
    let published = app.outbox_of::<VacancyPublished>().await;
    assert_eq!(published.len(), 2);
    assert_eq!(
        (
            published[0].offered_by.as_deref(),
            published[0].lot_id.to_string(),
            published[0].home_id,
            published[0].expires_on
        ),
        (
            Some(SEFTON),
            o.lot.clone(),
            Some(o.home_id),
            o.today + Duration::days(365)
        )
    );
    assert_eq!(
        (
            published[1].offered_by.as_deref(),
            published[1].lot_id,
            published[1].postcode_district.as_str()
        ),
        (Some(LIVERPOOL), Uuid::nil(), "CH41")
    );
    assert_eq!(app.outbox().await[0].partnership, "LCR-PPA");
}

/// Knowsley sees Sefton's bed in the lot (with the home and its distance).
async fn an_offered_bed_is_listed_in_its_lot(url: &str) {
    let app = start(url).await;
    let o = offered(&app).await;
    let vacancy_id = sefton_vacancy(&app).await;
    let near = format!("lot_id={}&latitude=53.46&longitude=-2.99", o.lot);
    let (s, listed) = app.vacancies().list(&knowsley(&app), &near).await;
    assert_eq!(s, 200, "{listed}");
    let listed = rows(&listed);
    assert_eq!(listed.len(), 1, "{listed:?}");
    let bed = &listed[0];
    assert_eq!(
        (
            bed["id"].as_str(),
            bed["offered_by"].as_str(),
            bed["bed"].as_i64(),
            bed["home_name"].as_str(),
            bed["postcode_district"].as_str(),
            bed["provider_name"].as_str(),
            bed["places"].as_i64()
        ),
        (
            Some(vacancy_id.as_str()),
            Some(SEFTON),
            Some(3),
            Some("Crosby House"),
            Some("L23"),
            Some("Care Assist"),
            Some(1)
        )
    );
    assert_eq!(bed["block_contract_id"], o.care_contract.to_string());
    assert!(bed["distance_miles"].as_f64().unwrap() > 0.0);
}

/// Knowsley sees both beds with `offered=true`; the one with no home known, by its district.
async fn a_council_lists_the_beds_offered_to_it(url: &str) {
    let app = start(url).await;
    offered(&app).await;
    let (_, all) = app.vacancies().list(&knowsley(&app), "offered=true").await;
    let all = rows(&all);
    assert_eq!(all.len(), 2, "{all:?}");
    let liverpool_bed = all.iter().find(|v| v["offered_by"] == LIVERPOOL).unwrap();
    assert_eq!(liverpool_bed["home_name"], Value::Null);
    assert_eq!(liverpool_bed["postcode_district"], "CH41");
}

/// Wirral was offered Sefton's bed only; Sefton sees its own offer; Liverpool its own and
/// Sefton's; Nottingham nothing; a provider's own list has no council offers. A council
/// still names a lot, or asks for offered beds.
async fn each_council_sees_the_offers_made_to_it_or_by_it(url: &str) {
    let app = start(url).await;
    offered(&app).await;
    let vacancies = app.vacancies();
    for (org, n) in [(WIRRAL, 1), (SEFTON, 1), (LIVERPOOL, 2), (NOTTINGHAM, 0)] {
        let (s, got) = vacancies
            .list(&app.user(org, Role::Commissioner), "offered=true")
            .await;
        assert_eq!((s, rows(&got).len()), (200, n), "{org}: {got}");
    }
    let (_, own) = vacancies.list(&provider(&app, CARE_ASSIST), "").await;
    assert_eq!(own["items"], json!([]));
    assert_problem(
        &vacancies.list(&knowsley(&app), "").await,
        422,
        "validation",
        Some(("lot_id", "required")),
    );
}

/// The same offer announced again updates the listing rather than adding one.
async fn an_offer_announced_again_updates_its_listing(url: &str) {
    let app = start(url).await;
    let o = offered(&app).await;
    let vacancy_id = sefton_vacancy(&app).await;
    app.publish("contract", &o.offer).await;
    let published = app.outbox_of::<VacancyPublished>().await;
    assert_eq!(published.len(), 3);
    assert_eq!(published[2].vacancy_id.to_string(), vacancy_id);
    let (_, all) = app.vacancies().list(&knowsley(&app), "offered=true").await;
    assert_eq!(rows(&all).len(), 2);
}

/// A Knowsley child moves in: the vacancy is withdrawn and no longer listed.
async fn a_filled_bed_is_withdrawn(url: &str) {
    let app = start(url).await;
    let o = filled(&app).await;
    let vacancy_id = sefton_vacancy(&app).await;
    let withdrawn = app.outbox_of::<VacancyWithdrawn>().await;
    assert_eq!(withdrawn.len(), 1);
    assert_eq!(withdrawn[0].vacancy_id.to_string(), vacancy_id);
    assert_eq!(withdrawn[0].provider_id, CARE_ASSIST);
    let (vacancies, knowsley) = (app.vacancies(), knowsley(&app));
    let (_, listed) = vacancies
        .list(&knowsley, &format!("lot_id={}", o.lot))
        .await;
    assert_eq!(listed["items"], json!([]));
    let (_, all) = vacancies.list(&knowsley, "offered=true").await;
    assert_eq!(rows(&all).len(), 1);
    assert_eq!(rows(&all)[0]["offered_by"], LIVERPOOL);
}

/// Out of order: a copy of the offer made before the fill arrives after it (a retried
/// delivery). The bed is in use, so it is not listed again and nothing is announced.
async fn an_offer_older_than_its_fill_is_not_listed_again(url: &str) {
    let app = start(url).await;
    let o = filled(&app).await;
    app.publish_late("contract", &o.offer, 60).await;
    assert_eq!(app.outbox_of::<VacancyPublished>().await.len(), 3);
    let (_, all) = app.vacancies().list(&knowsley(&app), "offered=true").await;
    assert_eq!(rows(&all).len(), 1, "{all}");
}

/// A fill that arrives before its bed's (earlier) offer: the offer is never listed.
async fn an_offer_arriving_after_its_fill_is_never_listed(url: &str) {
    let app = start(url).await;
    out_of_order(&app).await;
    assert_eq!(app.outbox_of::<VacancyPublished>().await.len(), 3);
    assert_eq!(app.outbox_of::<VacancyWithdrawn>().await.len(), 1);
}

/// The child leaves and the bed is offered again, after the fill: listed once more.
async fn a_bed_offered_again_after_its_fill_is_listed_anew(url: &str) {
    let app = start(url).await;
    let o = out_of_order(&app).await;
    let vacancy_id = sefton_vacancy(&app).await;
    app.publish("contract", &o.offer).await;
    let published = app.outbox_of::<VacancyPublished>().await;
    assert_eq!(published.len(), 4);
    assert_ne!(
        published[3].vacancy_id.to_string(),
        vacancy_id,
        "a new listing"
    );
    let (_, all) = app.vacancies().list(&knowsley(&app), "offered=true").await;
    assert_eq!(rows(&all).len(), 2, "{all}");
}

on_both!(
    offered_beds_are_announced_as_vacancies,
    offered_beds_are_announced_as_vacancies_on_sqlite,
    offered_beds_are_announced_as_vacancies_on_postgres
);
on_both!(
    an_offered_bed_is_listed_in_its_lot,
    an_offered_bed_is_listed_in_its_lot_on_sqlite,
    an_offered_bed_is_listed_in_its_lot_on_postgres
);
on_both!(
    a_council_lists_the_beds_offered_to_it,
    a_council_lists_the_beds_offered_to_it_on_sqlite,
    a_council_lists_the_beds_offered_to_it_on_postgres
);
on_both!(
    each_council_sees_the_offers_made_to_it_or_by_it,
    each_council_sees_the_offers_made_to_it_or_by_it_on_sqlite,
    each_council_sees_the_offers_made_to_it_or_by_it_on_postgres
);
on_both!(
    an_offer_announced_again_updates_its_listing,
    an_offer_announced_again_updates_its_listing_on_sqlite,
    an_offer_announced_again_updates_its_listing_on_postgres
);
on_both!(
    a_filled_bed_is_withdrawn,
    a_filled_bed_is_withdrawn_on_sqlite,
    a_filled_bed_is_withdrawn_on_postgres
);
on_both!(
    an_offer_older_than_its_fill_is_not_listed_again,
    an_offer_older_than_its_fill_is_not_listed_again_on_sqlite,
    an_offer_older_than_its_fill_is_not_listed_again_on_postgres
);
on_both!(
    an_offer_arriving_after_its_fill_is_never_listed,
    an_offer_arriving_after_its_fill_is_never_listed_on_sqlite,
    an_offer_arriving_after_its_fill_is_never_listed_on_postgres
);
on_both!(
    a_bed_offered_again_after_its_fill_is_listed_anew,
    a_bed_offered_again_after_its_fill_is_listed_anew_on_sqlite,
    a_bed_offered_again_after_its_fill_is_listed_anew_on_postgres
);
