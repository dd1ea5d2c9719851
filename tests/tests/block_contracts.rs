//! A block contract end to end, embedded and distributed: Sefton lets Care Assist's four
//! beds for the LCR partners (the seed's £2,149 → £1,988 a week), two Sefton children move
//! in, the sweep offers the void beds to the partner councils, a bed appears among
//! Knowsley's vacancies and a Knowsley child takes it, one Sefton placement ends early (its
//! bed is offered in turn), and the savings are exact to the penny.
//!
//! The dates are past ones, so the sweep (every second here, as of today) finds the beds
//! long void and offers them at once; nothing depends on when it runs.

use hub_acceptance::{Client, TestPlatform};
use hub_platform::{
    Pence, Role,
    directory::{KNOWSLEY, NOTTINGHAM, SEFTON, WIRRAL},
};
use serde_json::{Value, json};

const CARE_ASSIST: &str = "prov-care-assist";

/// The offered beds of a block contract in a vacancy listing, by bed number.
fn offered_beds(listing: &Value, contract: &str) -> Vec<i64> {
    let mut beds: Vec<i64> = listing["items"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter(|v| v["block_contract_id"] == contract)
                .filter_map(|v| v["bed"].as_i64())
                .collect()
        })
        .unwrap_or_default();
    beds.sort_unstable();
    beds
}

async fn block_contract(p: &TestPlatform) {
    let http = Client::default();
    let seeded = hub::seed::seed(&p.urls.competition, &p.auth)
        .await
        .expect("seed");
    let sefton = p.token(SEFTON, &[Role::Commissioner]);
    let knowsley = p.token(KNOWSLEY, &[Role::Commissioner]);
    let comp = &p.urls.competition;
    let con = &p.urls.contract;

    // Care Assist records its home in the residential lot.
    let home = http
        .post(
            &format!(
                "{comp}/v1/frameworks/{}/lots/{}/providers/{CARE_ASSIST}/homes",
                seeded.framework_id, seeded.residential_lot
            ),
            Some(&p.token(CARE_ASSIST, &[Role::Provider])),
            &json!({
                "name": "Crosby House", "latitude": 53.49, "longitude": -3.02,
                "postcode_district": "L23", "registered_places": 4, "occupied_places": 0,
                "genders_accepted": ["male"], "min_age_years": 11, "max_age_years": 17,
                "specialisms": ["emotional_behavioural"], "ofsted_rating": "good",
                "emergency_capacity": false, "educational_provision": []
            }),
        )
        .await;
    assert_eq!(home.status, 201, "{:?}", home.body);
    let home_id = home.body["id"].as_str().unwrap().to_owned();

    // Sefton lets the block contract for the LCR partners: 4 beds, £1,988 a week against
    // the spot rate of £2,149, 3 years from 1 April 2025 with 2 one-year extensions.
    let let_ = http
        .post(
            &format!("{con}/v1/contracts/blocks"),
            Some(&sefton),
            &json!({
                "partnership": "LCR-PPA", "provider_id": CARE_ASSIST,
                "description": "male adolescents", "beds": 4,
                "block_weekly_rate_pence": 198_800, "spot_weekly_rate_pence": 214_900,
                "start_date": "2025-04-01", "term_years": 3, "extension_options": 2,
                "lot_id": seeded.residential_lot, "home_id": home_id, "postcode_district": "L23"
            }),
        )
        .await;
    assert_eq!(let_.status, 201, "{:?}", let_.body);
    let contract = let_.body["id"].as_str().unwrap().to_owned();
    let planned = Pence(let_.body["planned_annual_saving_pence"].as_i64().unwrap());
    assert_eq!(planned, Pence(3_348_800));
    assert_eq!(planned.to_string(), "£33,488.00");
    assert_eq!(let_.body["end_date"], "2028-03-31");
    let contract_url = format!("{con}/v1/contracts/blocks/{contract}");
    // Partners see it; another partnership's council does not.
    let r = http
        .get(&contract_url, Some(&p.token(WIRRAL, &[Role::Finance])))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = http
        .get(
            &contract_url,
            Some(&p.token(NOTTINGHAM, &[Role::Commissioner])),
        )
        .await;
    assert_eq!(
        (r.status, r.body["type"].as_str()),
        (404, Some("/problems/not-found"))
    );

    // Two Sefton children move into beds 1 and 2 on 1 April 2025.
    // Each child has a referral of its own council, submitted in the LCR PPA.
    let place = |token: String, bed: u16, start: &'static str| {
        let http = http.clone();
        let url = format!("{con}/v1/placements");
        let contract = contract.clone();
        let (referrals, framework, lot) = (
            p.urls.referral.clone(),
            seeded.framework_id.clone(),
            seeded.residential_lot.clone(),
        );
        async move {
            let referral = http
                .spot_referral(&referrals, &token, "LCR-PPA", &framework, &lot)
                .await;
            http.post_until_known(
                &url,
                &token,
                &json!({"block_contract_id": contract, "bed": bed,
                        "referral_id": referral, "start_date": start}),
                20,
            )
            .await
        }
    };
    let first = place(sefton.clone(), 1, "2025-04-01").await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(first.body["weekly_rate_pence"], 198_800);
    let second = place(sefton.clone(), 2, "2025-04-01").await;
    assert_eq!(second.status, 201, "{:?}", second.body);
    let second_id = second.body["id"].as_str().unwrap().to_owned();

    // A Knowsley child cannot take a bed held for Sefton that was not offered to Knowsley.
    let refused = place(knowsley.clone(), 1, "2025-05-01").await;
    assert_eq!(
        (refused.status, refused.body["type"].as_str()),
        (409, Some("/problems/bed-not-offered")),
        "{:?}",
        refused.body
    );

    // Beds 3 and 4, void since 1 April 2025, are offered to the partners by the sweep and
    // listed among Knowsley's vacancies in the residential lot, with the home.
    let lot_vacancies = format!(
        "{comp}/v1/vacancies?lot_id={}&latitude=53.46&longitude=-2.99",
        seeded.residential_lot
    );
    let listed = http
        .get_until(&lot_vacancies, &knowsley, 30, |r| {
            offered_beds(&r.body, &contract) == vec![3, 4]
        })
        .await;
    let bed3 = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["block_contract_id"] == contract.as_str() && v["bed"] == 3)
        .unwrap()
        .clone();
    assert_eq!(
        (
            bed3["offered_by"].as_str(),
            bed3["home_name"].as_str(),
            bed3["provider_id"].as_str(),
            bed3["postcode_district"].as_str()
        ),
        (
            Some(SEFTON),
            Some("Crosby House"),
            Some(CARE_ASSIST),
            Some("L23")
        )
    );
    assert!(bed3["distance_miles"].as_f64().is_some());
    let r = http.get(&contract_url, Some(&knowsley)).await;
    assert_eq!(r.body["bed_states"][2]["status"], "offered", "{:?}", r.body);

    // A Knowsley child takes bed 3 from 1 May 2025; the vacancy goes.
    let third = place(knowsley.clone(), 3, "2025-05-01").await;
    assert_eq!(third.status, 201, "{:?}", third.body);
    assert_eq!(third.body["council"], KNOWSLEY);
    http.get_until(&lot_vacancies, &knowsley, 30, |r| {
        offered_beds(&r.body, &contract) == vec![4]
    })
    .await;

    // The second Sefton child's placement ends early, on 30 September 2025: bed 2 is void
    // from 1 October and offered in turn.
    let ended = http
        .post(
            &format!("{con}/v1/placements/{second_id}/end"),
            Some(&sefton),
            &json!({"end_date": "2025-09-30", "reason": "breakdown"}),
        )
        .await;
    assert_eq!(ended.status, 200, "{:?}", ended.body);
    http.get_until(
        &format!("{comp}/v1/vacancies?offered=true"),
        &knowsley,
        30,
        |r| offered_beds(&r.body, &contract) == vec![2, 4],
    )
    .await;
    let view = http.get(&contract_url, Some(&sefton)).await;
    let stays: Vec<(String, String, Value)> = view.body["bed_states"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["stays"].as_array().cloned().unwrap_or_default())
        .map(|s| {
            (
                s["council"].as_str().unwrap().to_owned(),
                s["from"].as_str().unwrap().to_owned(),
                s["to"].clone(),
            )
        })
        .collect();
    assert_eq!(
        stays,
        vec![
            (SEFTON.into(), "2025-04-01".into(), Value::Null),
            (SEFTON.into(), "2025-04-01".into(), json!("2025-09-30")),
            (KNOWSLEY.into(), "2025-05-01".into(), Value::Null),
        ]
    );

    // Savings, 1 April – 31 December 2025 (275 days × 4 beds = 1,100 bed-days): bed 1 full
    // (275), bed 2 to 30 September (183), bed 3 from 1 May (245), bed 4 never: 703 occupied,
    // 397 void. Realised £161 × 703 / 7 = £16,169.00; voids £1,988 × 397 / 7 = £112,748.00.
    let savings = http
        .get(
            &format!("{contract_url}/savings?from=2025-04-01&to=2025-12-31"),
            Some(&p.token(SEFTON, &[Role::Finance])),
        )
        .await;
    assert_eq!(savings.status, 200, "{:?}", savings.body);
    let s = &savings.body;
    assert_eq!(
        (
            s["bed_days"].as_i64(),
            s["occupied_bed_days"].as_i64(),
            s["void_bed_days"].as_i64()
        ),
        (Some(1100), Some(703), Some(397))
    );
    let pence = |k: &str| Pence(s[k].as_i64().unwrap());
    assert_eq!(
        pence("planned_annual_saving_pence").to_string(),
        "£33,488.00"
    );
    assert_eq!(pence("realised_saving_pence"), Pence::gbp(16_169, 0));
    assert_eq!(pence("void_cost_pence"), Pence::gbp(112_748, 0));
    assert_eq!(pence("net_saving_pence").to_string(), "-£96,579.00");

    // Extending uses the options, then none is left.
    let extend = format!("{contract_url}/extend");
    for end in ["2029-03-31", "2030-03-31"] {
        let r = http.post(&extend, Some(&sefton), &json!({})).await;
        assert_eq!((r.status, r.body["end_date"].as_str()), (200, Some(end)));
    }
    let r = http.post(&extend, Some(&sefton), &json!({})).await;
    assert_eq!(
        (r.status, r.body["type"].as_str()),
        (409, Some("/problems/no-extensions-left"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn block_contract_embedded() {
    let p = TestPlatform::embedded_with(&[("contract.sweep_interval_secs", "1")]).await;
    block_contract(&p).await;
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn block_contract_distributed() {
    let p = TestPlatform::distributed_with(&[("contract.sweep_interval_secs", "1")]).await;
    block_contract(&p).await;
    p.stop().await;
}
