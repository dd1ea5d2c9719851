//! An emergency placement end to end, across every service, embedded and distributed:
//! Sefton refers a child for a direct award in an emergency; the commissioner awards Care
//! Assist directly; the contract service issues an emergency order; the child moves in
//! before the provider signs; the commissioner records the signature timescale agreed by
//! phone; the provider signs after it (recorded late). The child's social worker approves
//! the IPA, and when needs change a second IPA version raises the rate and adds waking night
//! staff from 15 January, mid-month: the finance ledger costs the old rate to 14 January and
//! the new one from the 15th, to the penny. The placement then ends and the ledger stops
//! after the last night.

use hub_acceptance::{Client, TestPlatform};
use hub_platform::{Pence, Role, directory::SEFTON};
use serde_json::{Value, json};

/// £1,999.99 a week: not a whole number of pence a day, so the ledger's rounding shows.
const WEEKLY: i64 = 199_999;
/// Version 2 of the IPA: £2,249.00 a week plus £350.00 of waking night staff.
const NEW_WEEKLY: i64 = 224_900;
const EXTRAS: i64 = 35_000;
const CONTACT: &str = "Supervised family time with his mother on Saturdays";

fn referral(framework_id: &str, lot_id: &str) -> Value {
    json!({
        "partnership": "LCR-PPA", "framework_id": framework_id, "lot_id": lot_id,
        "route": "direct_award",
        "route_reason": "placement broke down overnight; a bed needed today",
        "submit": true,
        "document": {
            "child": {"name": "Casey Example-Child", "date_of_birth": "2011-09-30", "gender": "male"},
            "legal_status": "s20 accommodated", "placement_type": "residential", "urgency": "emergency",
            "needs": ["emotional_behavioural", "risk_missing"],
            "about_me": "Likes cooking; struggles at night.",
            "location": {"postcode_district": "L20", "latitude": 53.46, "longitude": -2.99, "max_distance_miles": 20.0},
            "wanted_start": "2026-11-02"
        }
    })
}

fn by_period(ledger: &Value) -> Vec<(i64, i64)> {
    ledger["by_period"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["period"].as_i64().unwrap(),
                p["amount_pence"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn emergency_placement(p: &TestPlatform) {
    let http = Client::default();
    let seeded = hub::seed::seed(&p.urls.competition, &p.auth)
        .await
        .expect("seed");
    let sefton = p.token(SEFTON, &[Role::Commissioner]);
    let social_worker = p.token(SEFTON, &[Role::SocialWorker]);
    let finance = p.token(SEFTON, &[Role::Finance]);
    let care = p.token("prov-care-assist", &[Role::Provider]);
    let contract = &p.urls.contract;

    // The emergency referral and the direct award: the child moved in on Monday 2 November.
    let r = http
        .post(
            &format!("{}/v1/referrals", p.urls.referral),
            Some(&sefton),
            &referral(&seeded.framework_id, &seeded.residential_lot),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let referral_id = r.body["id"].as_str().unwrap().to_owned();
    http.get_until(
        &format!(
            "{}/v1/competitions?referral_id={referral_id}",
            p.urls.competition
        ),
        &sefton,
        20,
        |r| r.body["items"][0]["status"] == "awaiting_direct_award",
    )
    .await;
    let award = http
        .post(
            &format!("{}/v1/competitions/direct-awards", p.urls.competition),
            Some(&sefton),
            &json!({"referral_id": referral_id, "provider_id": "prov-care-assist",
                    "weekly_rate_pence": WEEKLY, "start_date": "2026-11-02",
                    "justification": "the only home with an emergency bed within 20 miles"}),
        )
        .await;
    assert_eq!(award.status, 201, "{award:?}");
    assert_eq!(award.body["direct"], true);

    // An emergency order is issued.
    let orders = http
        .get_until(
            &format!("{contract}/v1/orders?referral_id={referral_id}"),
            &sefton,
            20,
            |r| r.body["items"].as_array().is_some_and(|a| !a.is_empty()),
        )
        .await;
    let order = orders.body["items"][0].clone();
    assert_eq!(
        (
            order["status"].as_str(),
            order["emergency"].as_bool(),
            order["weekly_rate_pence"].as_i64()
        ),
        (Some("issued"), Some(true), Some(WEEKLY))
    );
    assert_eq!(order["start_date"], "2026-11-02");
    let order_id = order["id"].as_str().unwrap().to_owned();

    // The child is placed before the signature.
    let placed = http
        .post(
            &format!("{contract}/v1/placements"),
            Some(&sefton),
            &json!({"order_id": order_id, "home_latitude": 53.48, "home_longitude": -3.02}),
        )
        .await;
    assert_eq!(placed.status, 201, "{placed:?}");
    assert_eq!(placed.body["start_date"], "2026-11-02");
    let placement_id = placed.body["id"].as_str().unwrap().to_owned();

    // The parties agreed by phone that the order would be signed by Wednesday 4 November;
    // it was not, so it is overdue; the provider then signs, late.
    let t = http
        .put_read(
            &format!("{contract}/v1/orders/{order_id}"),
            &format!("{contract}/v1/orders/{order_id}/timescale"),
            &sefton,
            &json!({"due_by": "2026-11-04", "agreed_with": "Care Assist registered manager"}),
        )
        .await;
    assert_eq!(t.status, 200, "{t:?}");
    assert_eq!(
        (t.body["due_by"].as_str(), t.body["overdue"].as_bool()),
        (Some("2026-11-04"), Some(true))
    );
    let overdue = http
        .get(&format!("{contract}/v1/orders?overdue=true"), Some(&sefton))
        .await;
    assert!(
        overdue.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["id"] == order_id.as_str()),
        "{overdue:?}"
    );
    let signed = http
        .post(
            &format!("{contract}/v1/orders/{order_id}/sign"),
            Some(&care),
            &json!({}),
        )
        .await;
    assert_eq!(signed.status, 200, "{signed:?}");
    let o = http
        .get(&format!("{contract}/v1/orders/{order_id}"), Some(&sefton))
        .await;
    assert_eq!(
        (
            o.body["status"].as_str(),
            o.body["late"].as_bool(),
            o.body["overdue"].as_bool()
        ),
        (Some("signed"), Some(true), Some(false))
    );

    // The IPA: version 1 at the order's rate, then version 2 from 15 January.
    let ipa = format!("{contract}/v1/placements/{placement_id}/ipa");
    let agree = |body: Value| {
        let (http, ipa, social_worker, care) = (&http, &ipa, &social_worker, &care);
        async move {
            let d = http
                .post(&format!("{ipa}/versions"), Some(social_worker), &body)
                .await;
            assert_eq!(d.status, 201, "{d:?}");
            let v = d.body["versions"].as_array().unwrap().last().unwrap()["version"]
                .as_i64()
                .unwrap();
            let s = http
                .post(&format!("{ipa}/versions/{v}/sign"), Some(care), &json!({}))
                .await;
            assert_eq!(s.status, 200, "{s:?}");
            let a = http
                .post(
                    &format!("{ipa}/versions/{v}/approve"),
                    Some(social_worker),
                    &json!({}),
                )
                .await;
            assert_eq!(a.status, 200, "{a:?}");
            a.body
        }
    };
    let v1 = agree(json!({"contact_arrangements": CONTACT})).await;
    assert_eq!(
        (v1["in_force"].as_i64(), v1["next_review_on"].as_str()),
        (Some(1), Some("2027-02-02"))
    );
    let v2 = agree(json!({"contact_arrangements": CONTACT, "weekly_rate_pence": NEW_WEEKLY,
                          "extras": [{"service": "waking night staff", "weekly_pence": EXTRAS}],
                          "effective_from": "2027-01-15", "change_reason": "missing at night twice"}))
    .await;
    assert_eq!(v2["in_force"], 2);
    let pl = http
        .get(
            &format!("{contract}/v1/placements/{placement_id}"),
            Some(&finance),
        )
        .await;
    assert_eq!(
        (
            pl.body["weekly_rate_pence"].as_i64(),
            pl.body["extras_weekly_pence"].as_i64()
        ),
        (Some(NEW_WEEKLY), Some(EXTRAS))
    );

    // The ledger: the old rate from 2 November to 14 January, the new rate and extras from
    // the 15th; each line weekly × days / 7 rounded half up.
    let old = Pence(WEEKLY);
    let new = Pence(NEW_WEEKLY + EXTRAS);
    let november = old.prorate_weekly(29); // 2–30 November: 828,567.29 → 828,567
    let december = old.prorate_weekly(31); // 885,709.86 → 885,710
    let january = old.prorate_weekly(14).0 + new.prorate_weekly(17).0; // 399,998 + 631,185.71 → 631,186
    let february = new.prorate_weekly(28); // 1,039,600
    let march = new.prorate_weekly(31); // 1,150,985.71 → 1,150,986
    assert_eq!(
        (november.0, december.0, january, february.0, march.0),
        (828_567, 885_710, 1_031_184, 1_039_600, 1_150_986)
    );
    let ledger_url = format!("{}/v1/ledger?partnership=LCR-PPA&year=2026", p.urls.finance);
    let ledger = http
        .get_until(&ledger_url, &finance, 20, |r| {
            r.status == 200 && by_period(&r.body).contains(&(11, 1_039_600))
        })
        .await;
    assert_eq!(
        by_period(&ledger.body),
        vec![
            (8, 828_567),
            (9, 885_710),
            (10, 1_031_184),
            (11, 1_039_600),
            (12, 1_150_986)
        ]
    );
    assert_eq!(ledger.body["committed_pence"], 4_936_047);
    let mut january_lines: Vec<(String, String, i64, i64, i64)> = ledger.body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["period"] == 10)
        .map(|l| {
            (
                l["from_date"].as_str().unwrap().to_owned(),
                l["to_date"].as_str().unwrap().to_owned(),
                l["weekly_rate_pence"].as_i64().unwrap(),
                l["extras_weekly_pence"].as_i64().unwrap(),
                l["amount_pence"].as_i64().unwrap(),
            )
        })
        .collect();
    january_lines.sort();
    assert_eq!(
        january_lines,
        vec![
            ("2027-01-01".into(), "2027-01-14".into(), WEEKLY, 0, 399_998),
            (
                "2027-01-15".into(),
                "2027-01-31".into(),
                NEW_WEEKLY,
                EXTRAS,
                631_186
            ),
        ]
    );

    // The placement ends after the night of 10 March (a planned move): nothing after it.
    let end = http
        .post(
            &format!("{contract}/v1/placements/{placement_id}/end"),
            Some(&social_worker),
            &json!({"end_date": "2027-03-10", "reason": "planned_move"}),
        )
        .await;
    assert_eq!(end.status, 200, "{end:?}");
    let march_to_10th = new.prorate_weekly(10).0; // 371,285.71 → 371,286
    let ledger = http
        .get_until(&ledger_url, &finance, 20, |r| {
            by_period(&r.body).contains(&(12, march_to_10th))
        })
        .await;
    assert_eq!(
        ledger.body["committed_pence"],
        4_936_047 - 1_150_986 + 371_286
    );
    // The order stays in force.
    let o = http
        .get(&format!("{contract}/v1/orders/{order_id}"), Some(&sefton))
        .await;
    assert_eq!(o.body["status"], "signed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn emergency_placement_embedded() {
    let p = TestPlatform::embedded().await;
    emergency_placement(&p).await;
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn emergency_placement_distributed() {
    let p = TestPlatform::distributed().await;
    emergency_placement(&p).await;
    p.stop().await;
}
