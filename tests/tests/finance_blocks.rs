//! Finance across services: a block contract let through the contract service, and a child
//! placed in one of its beds, reach the finance ledger as the contract service publishes
//! them: every bed committed over the year at the block rate, the filled bed to the child's
//! council, the empty ones void to the council they are held for. Embedded.

use hub_acceptance::{Client, TestPlatform};
use hub_platform::{
    Role,
    directory::{HALTON, SEFTON},
};
use serde_json::{Value, json};

const CARE_ASSIST: &str = "prov-care-assist";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_block_contract_reaches_the_ledger_embedded() {
    let p = TestPlatform::embedded().await;
    let http = Client::default();
    let seeded = hub::seed::seed(&p.urls.competition, &p.auth)
        .await
        .expect("seed");
    let sefton = p.token(SEFTON, &[Role::Commissioner]);
    let home = http
        .post(
            &format!(
                "{}/v1/frameworks/{}/lots/{}/providers/{CARE_ASSIST}/homes",
                p.urls.competition, seeded.framework_id, seeded.residential_lot
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
    // Care Assist's four beds at £1,988 a week (£284 a day) from 1 April 2025.
    let let_ = http
        .post(
            &format!("{}/v1/contracts/blocks", p.urls.contract),
            Some(&sefton),
            &json!({
                "partnership": "LCR-PPA", "provider_id": CARE_ASSIST,
                "description": "male adolescents", "beds": 4,
                "block_weekly_rate_pence": 198_800, "spot_weekly_rate_pence": 214_900,
                "start_date": "2025-04-01", "term_years": 3, "extension_options": 2,
                "lot_id": seeded.residential_lot, "home_id": home.body["id"],
                "postcode_district": "L23"
            }),
        )
        .await;
    assert_eq!(let_.status, 201, "{:?}", let_.body);
    let block = let_.body["id"].as_str().unwrap().to_owned();
    let referral = http
        .spot_referral(
            &p.urls.referral,
            &sefton,
            "LCR-PPA",
            &seeded.framework_id,
            &seeded.residential_lot,
        )
        .await;
    let placed = http
        .post_until_known(
            &format!("{}/v1/placements", p.urls.contract),
            &sefton,
            &json!({"block_contract_id": block, "bed": 1,
                    "referral_id": referral, "start_date": "2025-04-01"}),
            20,
        )
        .await;
    assert_eq!(placed.status, 201, "{:?}", placed.body);

    // 2025/26 has 365 days: each bed costs 365 × £284 = £103,660.00; bed 1 is Sefton's
    // child's, beds 2–4 are void, held for Sefton.
    let ledger = http
        .get_until(
            &format!("{}/v1/ledger?partnership=LCR-PPA&year=2025", p.urls.finance),
            &p.token(HALTON, &[Role::Finance]),
            20,
            |r| {
                r.body["lines"].as_array().is_some_and(|lines| {
                    lines
                        .iter()
                        .any(|l| l["attribution"] == "child" && l["bed"] == 1)
                })
            },
        )
        .await;
    let lines = ledger.body["lines"].as_array().unwrap();
    let sum = |pred: &dyn Fn(&Value) -> bool| -> i64 {
        lines
            .iter()
            .filter(|l| pred(l))
            .map(|l| l["amount_pence"].as_i64().unwrap())
            .sum()
    };
    assert_eq!(
        ledger.body["committed_pence"],
        4 * 10_366_000,
        "{:?}",
        ledger.body
    );
    assert_eq!(
        sum(&|l| l["attribution"] == "child" && l["bed"] == 1),
        10_366_000
    );
    assert_eq!(sum(&|l| l["attribution"] == "void"), 3 * 10_366_000);
    assert!(lines.iter().all(|l| l["council"] == SEFTON
        && l["source_kind"] == "block_bed"
        && l["contract_id"] == block.as_str()
        && l["budget_line"] == "placements"));
    p.stop().await;
}
