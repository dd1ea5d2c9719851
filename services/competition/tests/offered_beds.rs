//! Block-contract beds offered to partner councils (`contract.bed_offered`) are listed as
//! vacancies to the councils they were offered to, with `offered_by`, and withdrawn when the
//! bed is filled (`contract.bed_filled`). On SQLite and PostgreSQL.

use chrono::{Duration, Utc};
use hub_events::{BedFilled, BedOffered, VacancyPublished, VacancyWithdrawn};
use hub_platform::{
    Role,
    db::Migrations,
    directory::{HALTON, KNOWSLEY, LIVERPOOL, NOTTINGHAM, SEFTON, ST_HELENS, WIRRAL},
};
use hub_testkit::{ServiceCtx, assert_problem, call, on_both};
use serde_json::{Value, json};
use uuid::Uuid;

static SETS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &competition::MIGRATIONS];

const CARE_ASSIST: &str = "prov-care-assist";

fn rows(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

async fn offered_beds(url: &str) {
    let ctx = ServiceCtx::start(url, competition::NAME, &SETS, competition::start).await;
    let app = ctx.app().await;
    let halton = ctx.token(HALTON, Role::Commissioner);
    let (s, fw) = call(
        &app,
        "POST",
        "/v1/frameworks",
        &halton,
        Some(json!({
            "partnership": "LCR-PPA", "name": "LCR Provider Partner Agreement",
            "kind": "provider_partner_agreement", "start_date": "2020-10-19", "end_date": "2030-10-18",
            "lots": [{"name": "Residential", "placement_type": "residential"}]
        })),
    )
    .await;
    assert_eq!(s, 201, "{fw}");
    let framework = fw["id"].as_str().unwrap().to_owned();
    let lot = fw["lots"][0]["id"].as_str().unwrap().to_owned();
    let (s, b) = call(
        &app,
        "POST",
        &format!("/v1/frameworks/{framework}/lots/{lot}/providers"),
        &halton,
        Some(json!({"provider_id": CARE_ASSIST, "name": "Care Assist", "weekly_price_pence": 214_900})),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let (s, home) = call(
        &app,
        "POST",
        &format!("/v1/frameworks/{framework}/lots/{lot}/providers/{CARE_ASSIST}/homes"),
        &ctx.token(CARE_ASSIST, Role::Provider),
        Some(json!({
            "name": "Crosby House", "latitude": 53.49, "longitude": -3.02,
            "postcode_district": "L23", "registered_places": 4, "occupied_places": 3,
            "genders_accepted": ["male"], "min_age_years": 11, "max_age_years": 17,
            "specialisms": ["emotional_behavioural"], "ofsted_rating": "good",
            "emergency_capacity": false, "educational_provision": []
        })),
    )
    .await;
    assert_eq!(s, 201, "{home}");
    let home_id: Uuid = home["id"].as_str().unwrap().parse().unwrap();

    // Sefton offers bed 3 of the Care Assist block contract to the rest of the LCR; Liverpool
    // offers a bed of another contract (no lot, no home known here) to Knowsley only.
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
    ctx.publish("contract", &offer).await;
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
    ctx.publish("contract", &other).await;
    let published = ctx.outbox_of::<VacancyPublished>().await;
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
            lot.clone(),
            Some(home_id),
            today + Duration::days(365)
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
    assert_eq!(ctx.outbox().await[0].partnership, "LCR-PPA");
    let vacancy_id = published[0].vacancy_id.to_string();

    // Knowsley sees Sefton's bed in the lot (with the home and its distance) and both beds
    // with `offered=true`.
    let knowsley = ctx.token(KNOWSLEY, Role::SocialWorker);
    let (s, listed) = call(
        &app,
        "GET",
        &format!("/v1/vacancies?lot_id={lot}&latitude=53.46&longitude=-2.99"),
        &knowsley,
        None,
    )
    .await;
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
    assert_eq!(bed["block_contract_id"], care_contract.to_string());
    assert!(bed["distance_miles"].as_f64().unwrap() > 0.0);
    let (_, all) = call(&app, "GET", "/v1/vacancies?offered=true", &knowsley, None).await;
    let all = rows(&all);
    assert_eq!(all.len(), 2, "{all:?}");
    let liverpool_bed = all.iter().find(|v| v["offered_by"] == LIVERPOOL).unwrap();
    assert_eq!(liverpool_bed["home_name"], Value::Null);
    assert_eq!(liverpool_bed["postcode_district"], "CH41");
    // Wirral was offered Sefton's bed only; Sefton sees its own offer; Liverpool its own and
    // Sefton's; Nottingham nothing; a provider's own list has no council offers.
    for (org, n) in [(WIRRAL, 1), (SEFTON, 1), (LIVERPOOL, 2), (NOTTINGHAM, 0)] {
        let (s, got) = call(
            &app,
            "GET",
            "/v1/vacancies?offered=true",
            &ctx.token(org, Role::Commissioner),
            None,
        )
        .await;
        assert_eq!((s, rows(&got).len()), (200, n), "{org}: {got}");
    }
    let (_, own) = call(
        &app,
        "GET",
        "/v1/vacancies",
        &ctx.token(CARE_ASSIST, Role::Provider),
        None,
    )
    .await;
    assert_eq!(own, json!([]));
    // A council still names a lot, or asks for offered beds.
    assert_problem(
        &call(&app, "GET", "/v1/vacancies", &knowsley, None).await,
        422,
        "validation",
        Some(("lot_id", "required")),
    );

    // The same offer announced again updates the listing rather than adding one.
    ctx.publish("contract", &offer).await;
    let published = ctx.outbox_of::<VacancyPublished>().await;
    assert_eq!(published.len(), 3);
    assert_eq!(published[2].vacancy_id.to_string(), vacancy_id);
    let (_, all) = call(&app, "GET", "/v1/vacancies?offered=true", &knowsley, None).await;
    assert_eq!(rows(&all).len(), 2);

    // A Knowsley child moves in: the vacancy is withdrawn and no longer listed.
    ctx.publish(
        "contract",
        &BedFilled {
            block_contract_id: care_contract,
            bed: 3,
            placement_id: Uuid::now_v7(),
            council: KNOWSLEY.into(),
            provider_id: CARE_ASSIST.into(),
            filled_on: today,
        },
    )
    .await;
    let withdrawn = ctx.outbox_of::<VacancyWithdrawn>().await;
    assert_eq!(withdrawn.len(), 1);
    assert_eq!(withdrawn[0].vacancy_id.to_string(), vacancy_id);
    assert_eq!(withdrawn[0].provider_id, CARE_ASSIST);
    let (_, listed) = call(
        &app,
        "GET",
        &format!("/v1/vacancies?lot_id={lot}"),
        &knowsley,
        None,
    )
    .await;
    assert_eq!(listed, json!([]));
    let (_, all) = call(&app, "GET", "/v1/vacancies?offered=true", &knowsley, None).await;
    assert_eq!(rows(&all).len(), 1);
    assert_eq!(rows(&all)[0]["offered_by"], LIVERPOOL);

    // Out of order: a copy of the offer made before the fill arrives after it (a retried
    // delivery). The bed is in use, so it is not listed again and nothing is announced.
    ctx.publish_late("contract", &offer, 60).await;
    assert_eq!(ctx.outbox_of::<VacancyPublished>().await.len(), 3);
    let (_, all) = call(&app, "GET", "/v1/vacancies?offered=true", &knowsley, None).await;
    assert_eq!(rows(&all).len(), 1, "{all}");

    // A fill that arrives before its bed's (earlier) offer: the offer is never listed.
    let liverpool_contract = other.block_contract_id;
    ctx.publish(
        "contract",
        &BedFilled {
            block_contract_id: liverpool_contract,
            bed: 2,
            placement_id: Uuid::now_v7(),
            council: LIVERPOOL.into(),
            provider_id: "prov-family-care-group".into(),
            filled_on: today,
        },
    )
    .await;
    ctx.publish_late(
        "contract",
        &BedOffered {
            bed: 2,
            ..other.clone()
        },
        60,
    )
    .await;
    assert_eq!(ctx.outbox_of::<VacancyPublished>().await.len(), 3);
    assert_eq!(ctx.outbox_of::<VacancyWithdrawn>().await.len(), 1);

    // The child leaves and the bed is offered again, after the fill: listed once more.
    ctx.publish("contract", &offer).await;
    let published = ctx.outbox_of::<VacancyPublished>().await;
    assert_eq!(published.len(), 4);
    assert_ne!(
        published[3].vacancy_id.to_string(),
        vacancy_id,
        "a new listing"
    );
    let (_, all) = call(&app, "GET", "/v1/vacancies?offered=true", &knowsley, None).await;
    assert_eq!(rows(&all).len(), 2, "{all}");
}

on_both!(
    offered_beds,
    offered_beds_are_vacancies_on_sqlite,
    offered_beds_are_vacancies_on_postgres
);
