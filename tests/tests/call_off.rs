//! The LCR call-off process end to end, across every service, with three councils and six
//! providers: a preselected mini-competition that leaves two providers out for stated
//! reasons, three bids (one above its Provider Response, refused without evidence and
//! accepted with it), scoring, no award while an invited provider has not answered before the
//! deadline, bidding closed early with a reason code every invited provider is told, the
//! award, the unsuccessful told why (and nothing of each other), every webhook signed and
//! received, and the OCDS export valid against the OCDS 1.1 release-package schema.
//! Run embedded and distributed.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use hub_acceptance::{Client, Received, TestPlatform, WebhookReceiver};
use hub_platform::{
    Role,
    directory::{HALTON, KNOWSLEY, LIVERPOOL, SEFTON},
};
use serde_json::{Value, json};

const AREA: (f64, f64) = (53.46, -2.99); // L20, Bootle

/// A provider: id, Provider Response weekly pence, home (lat, lon), genders accepted.
type Provider = (&'static str, i64, (f64, f64), &'static [&'static str]);

const PROVIDERS: &[Provider] = &[
    ("prov-care-assist", 214_900, (53.48, -3.02), &["male"]),
    (
        "prov-family-care-group",
        317_065,
        (53.45, -2.99),
        &["male", "female"],
    ),
    (
        "prov-wirral-homes",
        250_000,
        (53.39, -3.02),
        &["male", "female"],
    ),
    (
        "prov-mersey-homes",
        260_000,
        (53.48, -2.89),
        &["male", "female"],
    ),
    // Left out: takes girls only.
    ("prov-girls-first", 240_000, (53.47, -2.98), &["female"]),
    // Left out: Manchester, about 30 miles from L20.
    (
        "prov-far-away",
        230_000,
        (53.48, -2.24),
        &["male", "female"],
    ),
];

const CHILD_NAME: &str = "Riley Example-Child";

fn referral(framework: &str, lot: &str, route: &str) -> Value {
    json!({
        "partnership": "LCR-PPA", "framework_id": framework, "lot_id": lot, "route": route,
        "route_reason": "needs a home near school and family; preselect on distance and vacancy",
        "submit": true,
        "document": {
            "child": {"name": CHILD_NAME, "date_of_birth": "2012-03-02", "gender": "male"},
            "legal_status": "s31 care order", "placement_type": "residential", "urgency": "planned",
            "needs": ["emotional_behavioural"],
            "about_me": "Quiet, loves animals, wants to keep seeing his sister.",
            "location": {"postcode_district": "L20", "latitude": AREA.0, "longitude": AREA.1, "max_distance_miles": 20.0},
            "wanted_start": "2026-12-01"
        }
    })
}

async fn call_off(p: &TestPlatform) {
    let http = Client::default();
    let hooks = WebhookReceiver::start().await;
    let comp = &p.urls.competition;
    let halton = p.token(HALTON, &[Role::Commissioner]);

    // Halton, the lead commissioner, sets up the PPA and admits six providers with their
    // Provider Responses; each provider lists its home and a live vacancy, and registers a webhook.
    let fw = http
        .post(
            &format!("{comp}/v1/frameworks"),
            Some(&halton),
            &json!({"partnership": "LCR-PPA", "name": "LCR Provider Partner Agreement",
                    "kind": "provider_partner_agreement", "start_date": "2020-10-19", "end_date": "2030-10-18",
                    "lots": [{"name": "Residential", "placement_type": "residential"}]}),
        )
        .await;
    assert_eq!(fw.status, 201, "{fw:?}");
    let framework = fw.body["id"].as_str().unwrap().to_owned();
    let lot = fw.body["lots"][0]["id"].as_str().unwrap().to_owned();
    let today = Utc::now().date_naive();
    let mut secrets = HashMap::new();
    for (id, price, home, genders) in PROVIDERS {
        let r = http
            .post(
                &format!("{comp}/v1/frameworks/{framework}/lots/{lot}/providers"),
                Some(&halton),
                &json!({"provider_id": id, "name": id.trim_start_matches("prov-"),
                        "weekly_prices": {"standard": price, "enhanced": price + 50_000}, "capacity": 4}),
            )
            .await;
        assert_eq!(r.status, 201, "{r:?}");
        let token = p.token(id, &[Role::Provider]);
        let h = http
            .post(
                &format!("{comp}/v1/frameworks/{framework}/lots/{lot}/providers/{id}/homes"),
                Some(&token),
                &json!({"name": format!("{id} house"), "latitude": home.0, "longitude": home.1,
                        "postcode_district": "L20", "registered_places": 4, "occupied_places": 1,
                        "genders_accepted": genders, "min_age_years": 8, "max_age_years": 17,
                        "specialisms": ["emotional_behavioural"], "ofsted_rating": "good",
                        "emergency_capacity": false, "educational_provision": []}),
            )
            .await;
        assert_eq!(h.status, 201, "{h:?}");
        let v = http
            .post(
                &format!("{comp}/v1/vacancies"),
                Some(&token),
                &json!({"lot_id": lot, "home_id": h.body["id"], "available_from": today.to_string(),
                        "expires_on": (today + Duration::days(30)).to_string(), "suits": "a young person aged 10 to 16"}),
            )
            .await;
        assert_eq!(v.status, 201, "{v:?}");
        let w = http
            .post(
                &format!("{}/v1/webhooks", p.urls.notifications),
                Some(&token),
                &json!({"url": hooks.endpoint(id), "event_types": ["competition.invited", "referral.updated",
                        "competition.awarded", "competition.unsuccessful", "competition.closed",
                        "competition.bidding_closed"]}),
            )
            .await;
        assert_eq!(w.status, 201, "{w:?}");
        secrets.insert(
            id.to_string(),
            w.body["secret"].as_str().unwrap().to_owned(),
        );
    }

    // Sefton refers a child with a preselected mini-competition; Knowsley refers another with
    // a mini-competition of the whole lot.
    let sefton = p.token(SEFTON, &[Role::Commissioner]);
    let knowsley = p.token(KNOWSLEY, &[Role::Commissioner]);
    let r = http
        .post(
            &format!("{}/v1/referrals", p.urls.referral),
            Some(&sefton),
            &referral(&framework, &lot, "preselected_mini_competition"),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let referral_id = r.body["id"].as_str().unwrap().to_owned();
    let k = http
        .post(
            &format!("{}/v1/referrals", p.urls.referral),
            Some(&knowsley),
            &referral(&framework, &lot, "mini_competition"),
        )
        .await;
    assert_eq!(k.status, 201, "{k:?}");

    // The commissioner sees who would be invited and why each other provider is left out.
    let list = http
        .get_until(
            &format!("{comp}/v1/competitions?referral_id={referral_id}"),
            &sefton,
            20,
            |r| r.body["items"].as_array().is_some_and(|a| !a.is_empty()),
        )
        .await;
    let id = list.body["items"][0]["id"].as_str().unwrap().to_owned();
    let c = http
        .get(&format!("{comp}/v1/competitions/{id}"), Some(&sefton))
        .await;
    assert_eq!(c.body["status"], "draft", "{c:?}");
    let mut would: Vec<&str> = c.body["would_invite"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str().or(v["provider_id"].as_str()))
        .collect();
    would.sort();
    assert_eq!(
        would,
        [
            "prov-care-assist",
            "prov-family-care-group",
            "prov-mersey-homes",
            "prov-wirral-homes"
        ]
    );
    let reasons: HashMap<String, Vec<String>> = c.body["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let codes = l["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["code"].as_str().unwrap().to_owned())
                .collect();
            (l["provider_id"].as_str().unwrap().to_owned(), codes)
        })
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert_eq!(reasons["prov-girls-first"], ["gender_not_accepted"]);
    assert_eq!(reasons["prov-far-away"], ["too_far"]);

    // Liverpool, a partner, sees neither Sefton's competition nor Knowsley's.
    let liverpool = p.token(LIVERPOOL, &[Role::Commissioner]);
    assert_eq!(
        http.get(&format!("{comp}/v1/competitions/{id}"), Some(&liverpool))
            .await
            .status,
        404
    );

    // Criteria: weights must add up to 100.
    let criteria_url = format!("{comp}/v1/competitions/{id}/criteria");
    let bad = http
        .put_read(&format!("{comp}/v1/competitions/{id}"), &criteria_url, &sefton, &json!({"criteria": [{"criterion": "price", "mode": "scored", "weight": 60},
                                                          {"criterion": "quality", "mode": "scored", "weight": 30}]}))
        .await;
    assert_eq!(
        (bad.status, bad.body["errors"][0]["rule"].as_str()),
        (422, Some("sum_100")),
        "{bad:?}"
    );
    let ok = http
        .put_read(
            &format!("{comp}/v1/competitions/{id}"),
            &criteria_url,
            &sefton,
            &json!({"criteria": [
            {"criterion": "compatibility", "mode": "pass_fail"},
            {"criterion": "price", "mode": "scored", "weight": 50},
            {"criterion": "location", "mode": "scored", "weight": 20},
            {"criterion": "quality", "mode": "scored", "weight": 30}]}),
        )
        .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    let opened = http
        .post(
            &format!("{comp}/v1/competitions/{id}/open"),
            Some(&sefton),
            &json!({}),
        )
        .await;
    assert_eq!(
        (opened.status, opened.body["status"].as_str()),
        (200, Some("open")),
        "{opened:?}"
    );

    // Exactly the four preselected providers are invited to Sefton's competition.
    let invited_to = |all: &[Received], competition: &str| -> Vec<String> {
        let mut v: Vec<String> = all
            .iter()
            .filter(|w| {
                w.json()["type"] == "competition.invited"
                    && w.json()["data"]["competition_id"] == competition
            })
            .map(|w| w.owner.clone())
            .collect();
        v.sort();
        v
    };
    let got = hooks
        .wait_for("four invitations", 20, |all| {
            invited_to(all, &id).len() >= 4
        })
        .await;
    assert_eq!(invited_to(&got, &id), would);

    // Three bid. Care Assist asks more than its Provider Response: refused without evidence.
    let bids = format!("{comp}/v1/competitions/{id}/bids");
    let bid = |price: i64, evidence: Option<&str>| {
        let mut b = json!({"weekly_price_pence": price, "start_date": "2026-12-01",
                           "answers": {"quality": "Ofsted good; a key worker who shares his love of animals"}});
        if let Some(e) = evidence {
            b["price_variation_evidence"] = json!(e);
        }
        b
    };
    let care = p.token("prov-care-assist", &[Role::Provider]);
    let refused = http.post(&bids, Some(&care), &bid(280_000, None)).await;
    assert_eq!(
        (refused.status, refused.body["type"].as_str()),
        (422, Some("/problems/price-above-provider-response")),
        "{refused:?}"
    );
    let care_bid = http
        .post(
            &bids,
            Some(&care),
            &bid(280_000, Some("waking night staff for the first month")),
        )
        .await;
    assert_eq!(care_bid.status, 201, "{care_bid:?}");
    let fcg_bid = http
        .post(
            &bids,
            Some(&p.token("prov-family-care-group", &[Role::Provider])),
            &bid(300_000, None),
        )
        .await;
    assert_eq!(fcg_bid.status, 201, "{fcg_bid:?}");
    let wirral_bid = http
        .post(
            &bids,
            Some(&p.token("prov-wirral-homes", &[Role::Provider])),
            &bid(240_000, None),
        )
        .await;
    assert_eq!(wirral_bid.status, 201, "{wirral_bid:?}");
    // A provider left out cannot bid (it was not invited: 404).
    let outsider = http
        .post(
            &bids,
            Some(&p.token("prov-girls-first", &[Role::Provider])),
            &bid(200_000, None),
        )
        .await;
    assert_eq!(outsider.status, 404, "{outsider:?}");

    // Scoring: the commissioner decides the gate and quality; price and location are automatic.
    let score = |bid: &Value, criterion: &str| {
        format!(
            "{comp}/v1/competitions/{id}/bids/{}/scores/{criterion}",
            bid.body_id()
        )
    };
    for (b, quality) in [
        (&care_bid.body, 20),
        (&fcg_bid.body, 30),
        (&wirral_bid.body, 15),
    ] {
        let g = http
            .put(
                &score(b, "compatibility"),
                Some(&sefton),
                &json!({"passed": true, "reason": "suits his needs"}),
            )
            .await;
        assert_eq!(g.status, 200, "{g:?}");
        let q = http
            .put(
                &score(b, "quality"),
                Some(&sefton),
                &json!({"score": quality, "reason": "Ofsted and offer"}),
            )
            .await;
        assert_eq!(q.status, 200, "{q:?}");
    }
    let ev = http
        .post(
            &format!("{comp}/v1/competitions/{id}/evaluate"),
            Some(&sefton),
            &json!({}),
        )
        .await;
    assert_eq!(ev.status, 200, "{ev:?}");
    assert_eq!(ev.body["gates_decided"], true);
    // Family Care Group: price 50 × 2,400/3,000 = 40.00, quality 30, nearest home: best value.
    assert_eq!(ev.body["winner"], fcg_bid.body["id"]);
    // Mersey Homes, invited, has neither bid nor declined, and the deadline is days away:
    // no award yet.
    let award_url = format!("{comp}/v1/competitions/{id}/award");
    let early = http.post(&award_url, Some(&sefton), &json!({})).await;
    assert_eq!(
        (early.status, early.body["type"].as_str()),
        (409, Some("/problems/bidding-open")),
        "{early:?}"
    );
    assert!(
        early.body["detail"]
            .as_str()
            .unwrap()
            .contains("prov-mersey-homes"),
        "{early:?}"
    );
    // The commissioner closes bidding early with a reason code; every invited provider is
    // told the code, and the council's note (which names the child) stays with the council.
    let closed = http
        .post(
            &format!("{comp}/v1/competitions/{id}/close-bidding"),
            Some(&sefton),
            &json!({"reason": "court_timescale", "note": format!("the court sits on Monday for {CHILD_NAME}")}),
        )
        .await;
    assert_eq!(closed.status, 200, "{closed:?}");
    let got = hooks
        .wait_for("bidding closed early, told to the four", 20, |all| {
            all.iter()
                .filter(|w| {
                    w.json()["type"] == "competition.bidding_closed"
                        && w.json()["data"]["competition_id"] == id.as_str()
                })
                .count()
                >= 4
        })
        .await;
    let mut told: Vec<String> = got
        .iter()
        .filter(|w| w.json()["type"] == "competition.bidding_closed")
        .inspect(|w| assert_eq!(w.json()["data"]["reason"], "court_timescale"))
        .map(|w| w.owner.clone())
        .collect();
    told.sort();
    assert_eq!(told, would);
    let award = http.post(&award_url, Some(&sefton), &json!({})).await;
    assert_eq!(
        (award.status, award.body["awarded_provider"].as_str()),
        (200, Some("prov-family-care-group")),
        "{award:?}"
    );

    // The winner is told; the two unsuccessful bidders are told why, with their scores
    // beside the winner's.
    let got = hooks
        .wait_for("award and unsuccessful notices", 20, |all| {
            let has = |o: &str, t: &str| all.iter().any(|w| w.owner == o && w.json()["type"] == t);
            has("prov-family-care-group", "competition.awarded")
                && has("prov-care-assist", "competition.unsuccessful")
                && has("prov-wirral-homes", "competition.unsuccessful")
        })
        .await;
    for loser in ["prov-care-assist", "prov-wirral-homes"] {
        let w = got
            .iter()
            .find(|w| w.owner == loser && w.json()["type"] == "competition.unsuccessful")
            .unwrap();
        let data = w.json()["data"].clone();
        assert_eq!(data["competition_id"], id.as_str());
        assert!(
            data["winner_total"].as_u64() > data["total"].as_u64(),
            "{data}"
        );
        let price = data["scores"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["criterion"] == "price")
            .unwrap();
        assert_eq!(
            price["winner_score"], 4000,
            "winner's price score beside theirs: {data}"
        );
        assert!(
            !data["reasons"].as_array().unwrap().is_empty(),
            "told why: {data}"
        );
    }
    let wirral = got
        .iter()
        .find(|w| w.owner == "prov-wirral-homes" && w.json()["type"] == "competition.unsuccessful")
        .unwrap();
    let price = wirral.json()["data"]["scores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["criterion"] == "price")
        .unwrap()
        .clone();
    assert_eq!(
        price["score"], 5000,
        "the lowest price gets the full weight"
    );
    // Care Assist lost to Family Care Group; Wirral Homes, the other unsuccessful bidder,
    // had the lowest price (£2,400.00). Care Assist is told its own price and scores, the
    // winner's name and scores, and nothing of Wirral Homes: not its name, not its price.
    let care = got
        .iter()
        .find(|w| w.owner == "prov-care-assist" && w.json()["type"] == "competition.unsuccessful")
        .unwrap();
    let data = care.json()["data"].clone();
    assert_eq!(data["weekly_price_pence"], 280_000);
    assert_eq!(
        (
            data["winner_provider_id"].as_str(),
            data["winner_name"].as_str()
        ),
        (Some("prov-family-care-group"), Some("family-care-group"))
    );
    let text = String::from_utf8_lossy(&care.body).to_string();
    for other in ["wirral", "240000", "2,400", "2400.00"] {
        assert!(!text.contains(other), "{other} told to Care Assist: {text}");
    }

    // Every webhook was signed with its endpoint's secret and carries no child's name.
    let all = hooks.all();
    assert!(all.len() >= 4 + 6 + 3, "{} webhooks", all.len());
    for w in &all {
        assert!(
            w.signature_valid(&secrets[&w.owner]),
            "{} got a badly signed webhook",
            w.owner
        );
        assert!(
            !String::from_utf8_lossy(&w.body).contains("Riley"),
            "no child's personal data in webhooks"
        );
    }
    assert!(!all.iter().any(
        |w| w.owner == "prov-girls-first" && w.json()["data"]["competition_id"] == id.as_str()
    ));

    // The OCDS export validates against the OCDS 1.1 release-package schema and links the
    // mini-competition to its framework.
    let ocds = http
        .get(&format!("{comp}/v1/competitions/{id}/ocds"), Some(&sefton))
        .await;
    assert_eq!(ocds.status, 200, "{ocds:?}");
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/ocds-1.1");
    let validator =
        competition::domain::ocds::SchemaValidator::load(&dir).unwrap_or_else(|e| panic!("{e:#}"));
    let errors = validator.errors(&ocds.body);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let releases = ocds.body["releases"].as_array().unwrap();
    assert!(
        releases.iter().any(|r| r["tag"] == json!(["award"])),
        "an award release"
    );
    assert!(
        releases
            .iter()
            .all(|r| r["relatedProcesses"][0]["relationship"] == json!(["framework"]))
    );
    assert!(!ocds.body.to_string().contains("Riley"));
    assert_eq!(
        http.get(
            &format!("{comp}/v1/competitions/{id}/ocds"),
            Some(&liverpool)
        )
        .await
        .status,
        404
    );

    // Knowsley's own competition invited the whole lot and is Knowsley's alone.
    let kid = k.body["id"].as_str().unwrap();
    let kc = http
        .get_until(
            &format!("{comp}/v1/competitions?referral_id={kid}"),
            &knowsley,
            20,
            |r| r.body["items"].as_array().is_some_and(|a| !a.is_empty()),
        )
        .await;
    let kc_id = kc.body["items"][0]["id"].as_str().unwrap().to_owned();
    hooks
        .wait_for("Knowsley's invitations", 20, |all| {
            invited_to(all, &kc_id).len() == 6
        })
        .await;
    assert_eq!(
        http.get(&format!("{comp}/v1/competitions/{kc_id}"), Some(&sefton))
            .await
            .status,
        404
    );
    hooks.stop().await;
}

trait BodyId {
    fn body_id(&self) -> String;
}

impl BodyId for Value {
    fn body_id(&self) -> String {
        self["id"].as_str().expect("an id").to_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lcr_call_off_embedded() {
    let p = TestPlatform::embedded().await;
    call_off(&p).await;
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lcr_call_off_distributed() {
    let p = TestPlatform::distributed().await;
    call_off(&p).await;
    p.stop().await;
}
