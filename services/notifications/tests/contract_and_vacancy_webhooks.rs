//! Councils and providers hear of vacancies offered between councils and of the contract
//! service's events, through their own endpoints, signed; endpoints are changed with PATCH.

#[macro_use]
mod common;

use std::collections::HashMap;

use chrono::NaiveDate;
use common::{Hook, Signed, register, run};
use hub_events::{
    BedOffered, BedVoid, IpaReviewDue, OrderIssued, OrderOverdue, PlacementEnded,
    ServiceContractExpiring, VacancyPublished,
};
use hub_platform::{
    Role,
    directory::{DERBY, HALTON, KNOWSLEY, LIVERPOOL, SEFTON, WIRRAL},
};
use hub_testkit::{Receiver, Reply, TestApp};
use serde_json::{Value, json};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------
// A council's offered vacancy reaches the other councils of the partnerships it belongs to,
// through their own endpoints; endpoints can be changed.

/// Six councils' endpoints for offered vacancies (Knowsley's switched off by its owner);
/// a provider's own vacancy published, then one Sefton offers (`offered`), received by the
/// three councils it reaches.
struct Offered {
    app: TestApp,
    rx: Receiver,
    hooks: HashMap<&'static str, Hook>,
    offered: VacancyPublished,
}

async fn a_vacancy_offered_by_sefton(app: TestApp, rx: Receiver) -> Offered {
    let mut hooks = HashMap::new();
    for council in [LIVERPOOL, HALTON, WIRRAL, KNOWSLEY, DERBY, SEFTON] {
        let body = json!({"url": rx.url(council), "event_types": ["vacancy.offered"], "description": "placements team"});
        let owner = app.user(council, Role::Commissioner);
        hooks.insert(council, register(&app, &owner, &body).await);
    }
    let knowsley = &hooks[KNOWSLEY];
    let (s, _) = app
        .notifications()
        .disable(&knowsley.owner, &knowsley.id)
        .await;
    assert_eq!(s, 200);

    let vacancy = |offered_by: Option<&str>| VacancyPublished {
        vacancy_id: Uuid::now_v7(),
        provider_id: "prov-care-assist".into(),
        lot_id: Uuid::now_v7(),
        home_id: Some(Uuid::now_v7()),
        postcode_district: "L20".into(),
        available_from: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        expires_on: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        offered_by: offered_by.map(str::to_owned),
    };
    app.publish("competition", &vacancy(None)).await;
    let offered = vacancy(Some(SEFTON));
    app.publish("competition", &offered).await;
    for council in [LIVERPOOL, HALTON, WIRRAL] {
        rx.wait(council, "vacancy.offered", 1).await;
    }
    Offered {
        app,
        rx,
        hooks,
        offered,
    }
}

/// The offer reaches the councils Sefton shares a partnership with, signed, naming the
/// partnerships; not the offerer, not a council outside them, not one whose endpoint is
/// disabled; and once. A provider's own vacancy is not an offer between councils.
async fn an_offered_vacancy_reaches_the_partner_councils(app: TestApp, rx: Receiver) {
    let Offered {
        app,
        rx,
        hooks,
        offered,
    } = a_vacancy_offered_by_sefton(app, rx).await;
    for (council, shared) in [
        (LIVERPOOL, json!(["AIM", "LCR-PPA"])),
        (HALTON, json!(["LCR-PPA"])),
        (WIRRAL, json!(["AIM", "LCR-PPA"])),
    ] {
        let got = rx.wait(council, "vacancy.offered", 1).await;
        assert!(
            got[0].verifies(&hooks[council].secret),
            "signed for {council}"
        );
        let d = &got[0].json()["data"];
        assert_eq!(d["vacancy_id"], offered.vacancy_id.to_string());
        assert_eq!(
            (d["offered_by"].as_str(), d["offered_by_name"].as_str()),
            (Some(SEFTON), Some("Sefton Metropolitan Borough Council"))
        );
        assert_eq!(d["partnerships"], shared, "{council}");
        assert_eq!(d["postcode_district"], "L20");
    }
    for council in [SEFTON, DERBY, KNOWSLEY] {
        let hook = &hooks[council];
        let (_, log) = app
            .notifications()
            .deliveries(&hook.owner, &hook.id, "")
            .await;
        let n = log["items"].as_array().unwrap().len();
        assert_eq!(
            n, 0,
            "{council}: not the offerer, not outside its partnerships, not while disabled"
        );
    }
    assert_eq!(
        rx.of(LIVERPOOL, "vacancy.offered").len(),
        1,
        "one offer, once"
    );
}

on_both_isolated!(
    run,
    an_offered_vacancy_reaches_the_partner_councils,
    an_offered_vacancy_reaches_the_partner_councils_on_sqlite,
    an_offered_vacancy_reaches_the_partner_councils_on_postgres
);

/// [`a_vacancy_offered_by_sefton`], then Derby changes its endpoint's URL and clears its
/// description (the answer too).
async fn derbys_endpoint_changed(app: TestApp, rx: Receiver) -> (Offered, Reply) {
    let o = a_vacancy_offered_by_sefton(app, rx).await;
    let derby = &o.hooks[DERBY];
    let reply = o
        .app
        .notifications()
        .change(
            &derby.owner,
            &derby.id,
            &json!({"url": o.rx.url("derby-new"), "description": ""}),
        )
        .await;
    (o, reply)
}

/// Endpoints are changed with PATCH: only the fields given (an empty description clears
/// it); the endpoint is read back without its secret.
async fn an_endpoint_changes_only_the_fields_given(app: TestApp, rx: Receiver) {
    let (o, (s, r)) = derbys_endpoint_changed(app, rx).await;
    let derby = &o.hooks[DERBY];
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (r["url"].as_str(), &r["description"]),
        (Some(o.rx.url("derby-new").as_str()), &Value::Null)
    );
    assert_eq!(r["event_types"], json!(["vacancy.offered"]));
    let (s, r) = o.app.notifications().get(&derby.owner, &derby.id).await;
    assert_eq!(
        (s, r["url"].as_str()),
        (200, Some(o.rx.url("derby-new").as_str()))
    );
    assert!(r.get("secret").is_none());
}

on_both_isolated!(
    run,
    an_endpoint_changes_only_the_fields_given,
    an_endpoint_changes_only_the_fields_given_on_sqlite,
    an_endpoint_changes_only_the_fields_given_on_postgres
);

/// A change is checked like a new endpoint: the audience's event types, the scheme, no
/// secret of one's own, and something to change.
async fn a_change_is_checked_like_a_new_endpoint(app: TestApp, rx: Receiver) {
    let (o, _) = derbys_endpoint_changed(app, rx).await;
    let derby = &o.hooks[DERBY];
    for (body, field, rule) in [
        (
            json!({"event_types": ["competition.invited"]}),
            "/event_types/0",
            "audience",
        ),
        (json!({"url": "ftp://x"}), "/url", "scheme"),
        (json!({"secret": "mine"}), "/secret", "unknown_field"),
        (json!({}), "/", "min_properties"),
    ] {
        let (s, r) = o
            .app
            .notifications()
            .change(&derby.owner, &derby.id, &body)
            .await;
        assert_eq!(
            (
                s,
                r["errors"][0]["field"].as_str(),
                r["errors"][0]["rule"].as_str()
            ),
            (422, Some(field), Some(rule)),
            "{body}"
        );
    }
}

on_both_isolated!(
    run,
    a_change_is_checked_like_a_new_endpoint,
    a_change_is_checked_like_a_new_endpoint_on_sqlite,
    a_change_is_checked_like_a_new_endpoint_on_postgres
);

/// Another organisation's endpoint is not found (to change or to read); a social worker of
/// the owner does not manage endpoints.
async fn only_the_owner_manages_an_endpoint(app: TestApp, rx: Receiver) {
    let (o, _) = derbys_endpoint_changed(app, rx).await;
    let (hooks, id) = (o.app.notifications(), &o.hooks[DERBY].id);
    let other = o.app.user(LIVERPOOL, Role::Commissioner);
    assert_eq!(
        hooks
            .change(&other, id, &json!({"description": "x"}))
            .await
            .0,
        404
    );
    assert_eq!(hooks.get(&other, id).await.0, 404);
    let social_worker = o.app.user(DERBY, Role::SocialWorker);
    assert_eq!(
        hooks
            .change(&social_worker, id, &json!({"description": "x"}))
            .await
            .0,
        403
    );
}

on_both_isolated!(
    run,
    only_the_owner_manages_an_endpoint,
    only_the_owner_manages_an_endpoint_on_sqlite,
    only_the_owner_manages_an_endpoint_on_postgres
);

// ---------------------------------------------------------------------------------------
// Contract events reach the provider and the councils concerned as signed webhooks: the
// provider hears of its orders, overdue orders, IPA reviews and ended placements; the
// child's council of overdue orders, IPA reviews and void beds; the councils a bed is
// offered to of the offer; the lead council of an expiring service contract. Nobody else,
// and only ids, codes, dates and amounts.

const PROVIDER: &str = "prov-care-assist";

/// The endpoints: the provider's, Sefton's (the child's council), Liverpool's (an admin's),
/// Wirral's and Halton's.
struct Endpoints {
    provider: Hook,
    sefton: Hook,
    liverpool: Hook,
    wirral: Hook,
    halton: Hook,
}

async fn contract_endpoints(app: &TestApp, rx: &Receiver) -> Endpoints {
    let register = |org: &'static str, role: Role, types: Vec<&'static str>| {
        let body = json!({"url": rx.url(org), "event_types": types});
        async move { register(app, &app.user(org, role), &body).await }
    };
    Endpoints {
        provider: register(
            PROVIDER,
            Role::Provider,
            vec![
                "order.issued",
                "order.overdue",
                "ipa.review_due",
                "placement.ended",
            ],
        )
        .await,
        sefton: register(
            SEFTON,
            Role::Commissioner,
            vec![
                "order.overdue",
                "ipa.review_due",
                "bed.void",
                "service_contract.expiring",
            ],
        )
        .await,
        liverpool: register(LIVERPOOL, Role::Admin, vec!["bed.offered"]).await,
        wirral: register(WIRRAL, Role::Commissioner, vec!["bed.offered", "bed.void"]).await,
        halton: register(
            HALTON,
            Role::Commissioner,
            vec!["service_contract.expiring", "bed.offered"],
        )
        .await,
    }
}

/// Each side may only ask for what it is sent.
async fn each_side_asks_only_for_what_it_is_sent(app: TestApp, rx: Receiver) {
    contract_endpoints(&app, &rx).await;
    for (org, role, types, pointer) in [
        (
            PROVIDER,
            Role::Provider,
            json!(["order.issued", "bed.void"]),
            "/event_types/1",
        ),
        (
            SEFTON,
            Role::Commissioner,
            json!(["order.issued"]),
            "/event_types/0",
        ),
        (
            SEFTON,
            Role::Commissioner,
            json!(["placement.ended"]),
            "/event_types/0",
        ),
    ] {
        let (s, r) = app
            .notifications()
            .register(
                &app.user(org, role),
                &json!({"url": rx.url("refused"), "event_types": types}),
            )
            .await;
        assert_eq!(
            (
                s,
                r["errors"][0]["field"].as_str(),
                r["errors"][0]["rule"].as_str()
            ),
            (422, Some(pointer), Some("audience")),
            "{org}: {r}"
        );
    }
}

on_both_isolated!(
    run,
    each_side_asks_only_for_what_it_is_sent,
    each_side_asks_only_for_what_it_is_sent_on_sqlite,
    each_side_asks_only_for_what_it_is_sent_on_postgres
);

/// The [`contract_endpoints`], and the contract service's events published: an order
/// (`order`) issued to the provider for Sefton and overdue, an IPA review due, a void bed of
/// block contract `block` offered by Sefton to Liverpool, Wirral, Knowsley and itself, a
/// service contract Halton leads expiring, the placement ended; every webhook received.
struct Published {
    app: TestApp,
    rx: Receiver,
    hooks: Endpoints,
    order: Uuid,
    block: Uuid,
}

async fn contract_events_published(app: TestApp, rx: Receiver) -> Published {
    let hooks = contract_endpoints(&app, &rx).await;
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
    let (order, placement, block) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    app.publish("contract", &issued(order, day(1), day(3)))
        .await;
    app.publish(
        "contract",
        &OrderOverdue {
            order_id: order,
            provider_id: PROVIDER.into(),
            council: SEFTON.into(),
            due_by: day(3),
        },
    )
    .await;
    app.publish(
        "contract",
        &IpaReviewDue {
            placement_id: placement,
            ipa_id: Uuid::now_v7(),
            council: SEFTON.into(),
            provider_id: PROVIDER.into(),
            review_due_on: day(20),
            overdue: false,
        },
    )
    .await;
    app.publish(
        "contract",
        &BedVoid {
            block_contract_id: block,
            bed: 2,
            council: SEFTON.into(),
            provider_id: PROVIDER.into(),
            void_from: day(5),
        },
    )
    .await;
    app.publish("contract", &bed_offered(block, day(12), day(31)))
        .await;
    app.publish("contract", &expiring()).await;
    app.publish("contract", &ended(placement, day(24))).await;
    for (org, kind) in [
        (PROVIDER, "order.issued"),
        (PROVIDER, "order.overdue"),
        (PROVIDER, "ipa.review_due"),
        (PROVIDER, "placement.ended"),
        (SEFTON, "order.overdue"),
        (SEFTON, "ipa.review_due"),
        (SEFTON, "bed.void"),
        (LIVERPOOL, "bed.offered"),
        (WIRRAL, "bed.offered"),
        (HALTON, "service_contract.expiring"),
    ] {
        rx.wait(org, kind, 1).await;
    }
    Published {
        app,
        rx,
        hooks,
        order,
        block,
    }
}

/// Order `order` issued to the provider for Sefton, starting `start`, to be accepted by
/// `due_by`.
fn issued(order: Uuid, start: NaiveDate, due_by: NaiveDate) -> OrderIssued {
    OrderIssued {
        order_id: order,
        competition_id: Uuid::now_v7(),
        referral_id: Uuid::now_v7(),
        council: SEFTON.into(),
        provider_id: PROVIDER.into(),
        framework_id: Uuid::now_v7(),
        weekly_rate_pence: 450_000,
        start_date: start,
        due_by,
        emergency: false,
    }
}

/// Bed 2 of block contract `block`, offered by Sefton to Liverpool, Wirral, Knowsley and
/// itself.
fn bed_offered(block: Uuid, available_from: NaiveDate, expires: NaiveDate) -> BedOffered {
    BedOffered {
        block_contract_id: block,
        bed: 2,
        offered_by: SEFTON.into(),
        offered_to: vec![
            LIVERPOOL.into(),
            WIRRAL.into(),
            KNOWSLEY.into(),
            SEFTON.into(),
        ],
        provider_id: PROVIDER.into(),
        lot_id: Some(Uuid::now_v7()),
        home_id: Some(Uuid::now_v7()),
        postcode_district: "L20".into(),
        available_from,
        offer_expires_on: expires,
    }
}

/// A service contract Halton leads, six months from its end, one extension left.
fn expiring() -> ServiceContractExpiring {
    ServiceContractExpiring {
        contract_id: Uuid::now_v7(),
        lead_council: HALTON.into(),
        provider_id: "prov-adoption-support".into(),
        end_date: NaiveDate::from_ymd_opt(2027, 3, 31).unwrap(),
        months_before: 6,
        extensions_left: 1,
    }
}

/// Placement `placement` ended on `end_date`, a planned move.
fn ended(placement: Uuid, end_date: NaiveDate) -> PlacementEnded {
    PlacementEnded {
        placement_id: placement,
        council: SEFTON.into(),
        provider_id: PROVIDER.into(),
        end_date,
        reason: "planned_move".into(),
        block_contract_id: None,
        bed: None,
    }
}

/// The provider hears of its order (with a link to it), the overdue reminder, the review and
/// the end of the placement (ids, codes and dates only).
async fn the_provider_hears_of_its_orders_reviews_and_ends(app: TestApp, rx: Receiver) {
    let Published {
        rx, hooks, order, ..
    } = contract_events_published(app, rx).await;
    let got = rx.wait(PROVIDER, "order.issued", 1).await;
    assert!(got[0].verifies(&hooks.provider.secret));
    let d = &got[0].json()["data"];
    assert_eq!(d["order_id"], order.to_string());
    assert_eq!(
        (
            d["council"].as_str(),
            d["weekly_rate_pence"].as_i64(),
            d["due_by"].as_str()
        ),
        (Some(SEFTON), Some(450_000), Some("2026-12-03"))
    );
    assert_eq!(
        d["order_url"],
        format!("https://hub.example/v1/orders/{order}")
    );
    let overdue = rx.wait(PROVIDER, "order.overdue", 1).await;
    assert_eq!(overdue[0].json()["data"]["due_by"], "2026-12-03");
    let review = rx.wait(PROVIDER, "ipa.review_due", 1).await;
    assert_eq!(
        (
            review[0].json()["data"]["review_due_on"].as_str(),
            review[0].json()["data"]["overdue"].as_bool()
        ),
        (Some("2026-12-20"), Some(false))
    );
    let end = rx.wait(PROVIDER, "placement.ended", 1).await;
    assert!(end[0].verifies(&hooks.provider.secret));
    let mut keys: Vec<String> = end[0].json()["data"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "bed",
            "block_contract_id",
            "council",
            "end_date",
            "placement_id",
            "provider_id",
            "reason"
        ],
        "ids, codes and dates only"
    );
    assert_eq!(end[0].json()["data"]["reason"], "planned_move");
}

on_both_isolated!(
    run,
    the_provider_hears_of_its_orders_reviews_and_ends,
    the_provider_hears_of_its_orders_reviews_and_ends_on_sqlite,
    the_provider_hears_of_its_orders_reviews_and_ends_on_postgres
);

/// Sefton, the child's council, hears of the overdue order, the review and its void bed.
async fn the_childs_council_hears_of_overdue_orders_reviews_and_void_beds(
    app: TestApp,
    rx: Receiver,
) {
    let Published {
        rx, hooks, block, ..
    } = contract_events_published(app, rx).await;
    for kind in ["order.overdue", "ipa.review_due", "bed.void"] {
        let got = rx.wait(SEFTON, kind, 1).await;
        assert!(got[0].verifies(&hooks.sefton.secret), "{kind}");
    }
    let void = &rx.of(SEFTON, "bed.void")[0].json()["data"];
    assert_eq!(
        (
            void["block_contract_id"].as_str(),
            void["bed"].as_u64(),
            void["void_from"].as_str()
        ),
        (
            Some(block.to_string().as_str()),
            Some(2),
            Some("2026-12-05")
        )
    );
}

on_both_isolated!(
    run,
    the_childs_council_hears_of_overdue_orders_reviews_and_void_beds,
    the_childs_council_hears_of_overdue_orders_reviews_and_void_beds_on_sqlite,
    the_childs_council_hears_of_overdue_orders_reviews_and_void_beds_on_postgres
);

/// The bed offered reaches Liverpool and Wirral (Knowsley has no endpoint, Sefton is the
/// offerer), not Halton, which it was not offered to; who else was offered it is not said.
/// Halton, the lead council, hears of its expiring service contract.
async fn offered_beds_and_expiring_contracts_reach_their_councils(app: TestApp, rx: Receiver) {
    let Published { rx, hooks, .. } = contract_events_published(app, rx).await;
    for (council, hook) in [(LIVERPOOL, &hooks.liverpool), (WIRRAL, &hooks.wirral)] {
        let got = rx.wait(council, "bed.offered", 1).await;
        assert!(got[0].verifies(&hook.secret), "{council}");
        let d = &got[0].json()["data"];
        assert_eq!(
            (d["offered_by"].as_str(), d["offered_by_name"].as_str()),
            (Some(SEFTON), Some("Sefton Metropolitan Borough Council"))
        );
        assert_eq!(
            (
                d["bed"].as_u64(),
                d["offer_expires_on"].as_str(),
                d["postcode_district"].as_str()
            ),
            (Some(2), Some("2026-12-31"), Some("L20"))
        );
        assert!(
            d.get("offered_to").is_none(),
            "who else was offered it is not said"
        );
    }
    let expiring = rx.wait(HALTON, "service_contract.expiring", 1).await;
    assert!(expiring[0].verifies(&hooks.halton.secret));
    assert_eq!(expiring[0].json()["data"]["months_before"], 6);
}

on_both_isolated!(
    run,
    offered_beds_and_expiring_contracts_reach_their_councils,
    offered_beds_and_expiring_contracts_reach_their_councils_on_sqlite,
    offered_beds_and_expiring_contracts_reach_their_councils_on_postgres
);

/// Every delivery is logged once, for its own organisation only; nothing the provider got
/// names or dates a child.
async fn every_delivery_is_logged_once_for_its_own_organisation(app: TestApp, rx: Receiver) {
    let Published { app, rx, hooks, .. } = contract_events_published(app, rx).await;
    assert_eq!(
        logged(&app, &hooks.provider).await,
        [
            "ipa.review_due",
            "order.issued",
            "order.overdue",
            "placement.ended"
        ]
    );
    assert_eq!(
        logged(&app, &hooks.sefton).await,
        ["bed.void", "ipa.review_due", "order.overdue"],
        "not the bed it offered, nor the contract Halton leads"
    );
    assert_eq!(
        logged(&app, &hooks.halton).await,
        ["service_contract.expiring"],
        "not offered the bed"
    );
    assert_eq!(
        logged(&app, &hooks.wirral).await,
        ["bed.offered"],
        "not Sefton's void bed"
    );
    for r in rx.requests(&format!("/{PROVIDER}")) {
        let text = String::from_utf8_lossy(&r.body);
        assert!(
            !text.contains("date_of_birth") && !text.contains("\"name\""),
            "{text}"
        );
    }
}

on_both_isolated!(
    run,
    every_delivery_is_logged_once_for_its_own_organisation,
    every_delivery_is_logged_once_for_its_own_organisation_on_sqlite,
    every_delivery_is_logged_once_for_its_own_organisation_on_postgres
);

/// The event types of the deliveries logged for `hook`'s endpoint, sorted (the log read as
/// its owner is asserted 200).
async fn logged(app: &TestApp, hook: &Hook) -> Vec<String> {
    let (s, log) = app
        .notifications()
        .deliveries(&hook.owner, &hook.id, "")
        .await;
    assert_eq!(s, 200, "{log}");
    let mut types: Vec<String> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["event_type"].as_str().unwrap().to_owned())
        .collect();
    types.sort();
    types
}
