//! The thin flow through every service, over the bus, each step a real REST call with a
//! real token — run embedded (one process, SQLite, in-process bus) and distributed (each
//! service on its own port, PostgreSQL, RabbitMQ). Both must give the same outcome, to the
//! penny on the ledger.

use hub_acceptance::{Client, TestPlatform, WebhookReceiver};
use hub_platform::{Role, directory::SEFTON};
use serde_json::{Value, json};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

#[derive(diesel::QueryableByName)]
struct Outboxed {
    #[diesel(sql_type = diesel::sql_types::Text)]
    envelope: String,
}

/// The `traceparent` of the first outbox event of a type written by a service.
async fn outbox_traceparent(p: &TestPlatform, service: &str, event_type: &'static str) -> String {
    use diesel::RunQueryDsl;
    let row: Outboxed = p
        .store(service)
        .db
        .run(move |c| {
            Ok(diesel::sql_query(
                "SELECT envelope FROM outbox WHERE event_type = $1 ORDER BY id LIMIT 1",
            )
            .bind::<diesel::sql_types::Text, _>(event_type)
            .get_result(c)?)
        })
        .await
        .expect("the event is in the outbox");
    let env = hub_events::Envelope::from_json(row.envelope.as_bytes()).unwrap();
    env.traceparent.unwrap_or_default()
}

const CHILD_NAME: &str = "Jordan Example-Child";
const CHILD_DOB: &str = "2012-05-14";

/// £1,999.99 a week: not a whole number of pence a day, so the ledger's rounding shows.
const WEEKLY: i64 = 199_999;

pub fn referral_body(framework_id: &str, lot_id: &str) -> Value {
    json!({
        "partnership": "LCR-PPA",
        "framework_id": framework_id,
        "lot_id": lot_id,
        "route": "mini_competition",
        "route_reason": "planned move; the PPA residential lot has suitable homes",
        "submit": true,
        "document": {
            "child": {"name": CHILD_NAME, "date_of_birth": CHILD_DOB, "gender": "male",
                      "ethnicity": "White British", "first_language": "English"},
            "legal_status": "s31 care order",
            "placement_type": "residential",
            "urgency": "planned",
            "needs": ["emotional_behavioural", "risk_missing"],
            "education": {"school": "Example High School", "ehcp": true, "educational_needs": ["SEMH"]},
            "about_me": "Loves football and drawing; needs time to trust new adults.",
            "location": {"postcode_district": "L20", "latitude": 53.46, "longitude": -2.99, "max_distance_miles": 20.0},
            "wanted_start": "2026-12-01",
            "expected_duration_weeks": 52
        }
    })
}

async fn thin_flow(p: &TestPlatform) {
    let http = Client::default();
    let hooks = WebhookReceiver::start().await;
    let seeded = hub::seed::seed(&p.urls.competition, &p.auth)
        .await
        .expect("seed");
    let residential: Vec<&str> = hub::seed::DEMO_PROVIDERS
        .iter()
        .filter(|d| d.2 == 0)
        .map(|d| d.0)
        .collect();

    // Every provider registers a webhook endpoint.
    let mut secrets = std::collections::HashMap::new();
    for (provider, ..) in hub::seed::DEMO_PROVIDERS {
        let token = p.token(provider, &[Role::Provider]);
        let r = http
            .post(
                &format!("{}/v1/webhooks", p.urls.notifications),
                Some(&token),
                &json!({"url": hooks.endpoint(provider),
                        "event_types": ["competition.invited", "competition.awarded", "competition.unsuccessful"]}),
            )
            .await;
        assert_eq!(r.status, 201, "{r:?}");
        secrets.insert(
            provider.to_string(),
            r.body["secret"]
                .as_str()
                .expect("secret shown once")
                .to_owned(),
        );
    }

    // A Sefton commissioner submits a referral, within a trace of the council's own system.
    let sefton = p.token(SEFTON, &[Role::Commissioner]);
    let r = http
        .post_with(
            &format!("{}/v1/referrals", p.urls.referral),
            Some(&sefton),
            &referral_body(&seeded.framework_id, &seeded.residential_lot),
            &[
                ("traceparent", &format!("00-{TRACE_ID}-00f067aa0ba902b7-01")),
                ("tracestate", "council=sefton-case-system"),
            ],
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.body["status"], "submitted");
    let referral_id = r.body["id"].as_str().unwrap().to_owned();

    // Each provider admitted to the lot gets a signed invitation; nobody else does.
    let got = hooks
        .wait_for("three invitations", 20, |all| {
            all.iter()
                .filter(|w| w.json()["type"] == "competition.invited")
                .count()
                >= residential.len()
        })
        .await;
    let invites: Vec<_> = got
        .iter()
        .filter(|w| w.json()["type"] == "competition.invited")
        .collect();
    let mut owners: Vec<&str> = invites.iter().map(|w| w.owner.as_str()).collect();
    owners.sort();
    let mut expected = residential.clone();
    expected.sort();
    assert_eq!(owners, expected, "only the lot's providers are invited");
    for w in &invites {
        assert!(
            w.signature_valid(&secrets[&w.owner]),
            "webhook to {} has a valid signature",
            w.owner
        );
        assert!(
            !w.signature_valid("whsec_d3Jvbmcgc2VjcmV0IHdyb25nIHNlY3JldA=="),
            "a wrong secret does not verify"
        );
        let body = String::from_utf8_lossy(&w.body);
        assert!(
            !body.contains("Jordan") && !body.contains(CHILD_DOB),
            "no child's personal data in webhooks: {body}"
        );
        assert_eq!(w.json()["data"]["referral_id"], referral_id.as_str());
        // The provider's webhook joins the council's trace (its own span), and the caller's
        // tracestate does not reach it.
        assert_eq!(
            w.traceparent.split('-').nth(1),
            Some(TRACE_ID),
            "the webhook to {} carries the trace: {:?}",
            w.owner,
            w.traceparent
        );
        assert!(!w.tracestate, "no tracestate to {}", w.owner);
    }
    let data = invites[0].json()["data"].clone();
    let competition_id = data["competition_id"].as_str().unwrap().to_owned();

    // One trace follows the referral: the caller's trace id is on the event the referral
    // service emitted and on the one the competition service emitted in reaction to it (and,
    // above, on each provider's webhook).
    for (service, event_type) in [
        ("referral", "referral.submitted"),
        ("competition", "competition.opened"),
    ] {
        let tp = outbox_traceparent(p, service, event_type).await;
        assert_eq!(
            tp.split('-').nth(1),
            Some(TRACE_ID),
            "{event_type} from {service} carries the trace: {tp}"
        );
    }
    let referral_url = data["referral_url"].as_str().unwrap().to_owned();
    assert_eq!(
        referral_url,
        format!("{}/v1/referrals/{referral_id}", p.urls.referral)
    );

    // An invited provider reads the redacted referral; a provider not invited gets 404.
    let care_assist = p.token("prov-care-assist", &[Role::Provider]);
    let r = http.get(&referral_url, Some(&care_assist)).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["view"], "redacted");
    assert_eq!(r.body["redacted"]["age_years"], 14);
    assert_eq!(r.body["redacted"]["postcode_district"], "L20");
    let text = r.body.to_string();
    assert!(
        !text.contains("Jordan") && !text.contains(CHILD_DOB),
        "redacted view leaks: {text}"
    );
    let outsider = p.token("prov-brightpath", &[Role::Provider]);
    assert_eq!(http.get(&referral_url, Some(&outsider)).await.status, 404);

    // Two providers bid; the commissioner awards Care Assist.
    let bid = http
        .post(
            &format!(
                "{}/v1/competitions/{competition_id}/bids",
                p.urls.competition
            ),
            Some(&care_assist),
            &json!({"weekly_price_pence": WEEKLY, "start_date": "2026-12-01"}),
        )
        .await;
    assert_eq!(bid.status, 201, "{bid:?}");
    let fcg = p.token("prov-family-care-group", &[Role::Provider]);
    let other = http
        .post(
            &format!(
                "{}/v1/competitions/{competition_id}/bids",
                p.urls.competition
            ),
            Some(&fcg),
            &json!({"weekly_price_pence": 280_900, "start_date": "2026-12-01"}),
        )
        .await;
    assert_eq!(other.status, 201, "{other:?}");
    // Mersey Homes, the third invited, declines: every invited provider has answered, so the
    // award need not wait for the deadline. Quality is the commissioner's to score.
    let declined = http
        .post(
            &format!(
                "{}/v1/competitions/{competition_id}/decline",
                p.urls.competition
            ),
            Some(&p.token("prov-mersey-homes", &[Role::Provider])),
            &json!({"reason": "location"}),
        )
        .await;
    assert_eq!(declined.status, 200, "{declined:?}");
    for (b, quality) in [(&bid, 30), (&other, 35)] {
        let q = http
            .put(
                &format!(
                    "{}/v1/competitions/{competition_id}/bids/{}/scores/quality",
                    p.urls.competition,
                    b.body["id"].as_str().unwrap()
                ),
                Some(&sefton),
                &json!({"score": quality, "reason": "Ofsted and offer"}),
            )
            .await;
        assert_eq!(q.status, 200, "{q:?}");
    }
    let award = http
        .post(
            &format!(
                "{}/v1/competitions/{competition_id}/award",
                p.urls.competition
            ),
            Some(&sefton),
            &json!({"bid_id": bid.body["id"]}),
        )
        .await;
    assert_eq!(award.status, 200, "{award:?}");
    assert_eq!(award.body["awarded_provider"], "prov-care-assist");

    // The winner is told; so is the unsuccessful bidder.
    hooks
        .wait_for("award webhooks", 20, |all| {
            let ty = |o: &str, t: &str| all.iter().any(|w| w.owner == o && w.json()["type"] == t);
            ty("prov-care-assist", "competition.awarded")
                && ty("prov-family-care-group", "competition.unsuccessful")
        })
        .await;
    // Awarded, the provider now sees the full referral.
    let r = http
        .get_until(&referral_url, &care_assist, 20, |r| {
            r.body["view"] == "full"
        })
        .await;
    assert_eq!(r.body["document"]["child"]["name"], CHILD_NAME);

    // An order is issued; the provider signs it.
    let orders = http
        .get_until(
            &format!(
                "{}/v1/orders?competition_id={competition_id}",
                p.urls.contract
            ),
            &care_assist,
            20,
            |r| r.body["items"].as_array().is_some_and(|a| !a.is_empty()),
        )
        .await;
    let order = &orders.body["items"][0];
    assert_eq!(order["weekly_rate_pence"], WEEKLY);
    assert_eq!(order["status"], "issued");
    let order_id = order["id"].as_str().unwrap().to_owned();
    let signed = http
        .post(
            &format!("{}/v1/orders/{order_id}/sign", p.urls.contract),
            Some(&care_assist),
            &json!({}),
        )
        .await;
    assert_eq!(signed.status, 200, "{signed:?}");
    assert_eq!(signed.body["status"], "signed");

    // The placement starts at the awarded weekly rate.
    let placed = http
        .post(
            &format!("{}/v1/placements", p.urls.contract),
            Some(&sefton),
            &json!({"order_id": order_id}),
        )
        .await;
    assert_eq!(placed.status, 201, "{placed:?}");
    assert_eq!(placed.body["weekly_rate_pence"], WEEKLY);
    assert_eq!(placed.body["start_date"], "2026-12-01");

    // The ledger shows the commitment for the rest of 2026/27, prorated by day, to the penny:
    // £1,999.99 × 31/7 = £8,857.10 (December, January, March), × 28/7 = £7,999.96 (February).
    let finance = p.token(SEFTON, &[Role::Finance]);
    let ledger = http
        .get_until(
            &format!("{}/v1/ledger?partnership=LCR-PPA&year=2026", p.urls.finance),
            &finance,
            20,
            |r| r.body["lines"].as_array().is_some_and(|a| !a.is_empty()),
        )
        .await;
    assert_eq!(ledger.status, 200, "{ledger:?}");
    let by_period: Vec<(i64, i64)> = ledger.body["by_period"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["period"].as_i64().unwrap(),
                p["amount_pence"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_period,
        vec![(9, 885_710), (10, 885_710), (11, 799_996), (12, 885_710)]
    );
    assert_eq!(ledger.body["committed_pence"], 3_457_126);

    // The referral has moved through its lifecycle and the reads were logged.
    let r = http
        .get_until(
            &format!("{}/v1/referrals/{referral_id}", p.urls.referral),
            &sefton,
            20,
            |r| r.body["status"] == "placed",
        )
        .await;
    assert_eq!(r.body["view"], "full");
    let reads = http
        .get(
            &format!("{}/v1/referrals/{referral_id}/reads", p.urls.referral),
            Some(&sefton),
        )
        .await;
    let readers: Vec<&str> = reads.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["reader_org"].as_str())
        .collect();
    assert!(readers.contains(&"prov-care-assist"), "{readers:?}");
    assert!(
        !readers.contains(&"prov-brightpath"),
        "a refused read is not a read: {readers:?}"
    );
    hooks.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thin_flow_embedded() {
    let p = TestPlatform::embedded().await;
    thin_flow(&p).await;
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thin_flow_distributed() {
    let p = TestPlatform::distributed().await;
    thin_flow(&p).await;
    p.stop().await;
}
