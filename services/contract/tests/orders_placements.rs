//! Orders, placements and Individual Placement Agreements through the contract service's
//! HTTP API, with awards coming in on the in-process bus and the clock driven by calling
//! the sweep with chosen days. Every refusal is checked with its exact status and problem
//! type. Runs on SQLite and on PostgreSQL (a database per run, created and dropped).

mod common;

use chrono::{Days, Months, NaiveDate, Utc};
use common::{
    OTHER_PROVIDER, PROVIDER, award, id_of, issue, issue_in, placed, referral_in,
    start_clock_off as start, submitted, today,
};
use contract::{
    domain::{emergency_due_by, order_due_by},
    handlers::sweep::sweep_once,
};
use hub_events::{
    CompetitionClosed, CompetitionOpened, Envelope, IpaApproved, IpaReviewDue, OrderDeclined,
    OrderOverdue, OrderSigned, PlacementEnded, PlacementRateChanged, PlacementStarted,
    ReferralClosed, ReferralWithdrawn, Urgency,
};
use hub_platform::Role;
use hub_platform::directory::{DERBY as DERBY_CITY, HALTON, NOTTINGHAM, SEFTON, WIRRAL};
use hub_testkit::{Reply, TestApp, User, assert_problem, on_both};
use serde_json::{Value, json};
use uuid::Uuid;

/// Who calls in these tests.
struct People {
    /// Sefton's commissioner, Cathy.
    sefton: User,
    /// Sefton's social worker, Sam (the child's).
    sefton_sw: User,
    sefton_fin: User,
    wirral: User,
    wirral_sw: User,
    halton: User,
    /// Care Assist's Pat.
    provider: User,
    other: User,
}

fn people(app: &TestApp) -> People {
    People {
        sefton: app.user_as("cathy", SEFTON, Role::Commissioner),
        sefton_sw: app.user_as("sam", SEFTON, Role::SocialWorker),
        sefton_fin: app.user(SEFTON, Role::Finance),
        wirral: app.user(WIRRAL, Role::Commissioner),
        wirral_sw: app.user(WIRRAL, Role::SocialWorker),
        halton: app.user(HALTON, Role::Commissioner),
        provider: app.user_as("pat", PROVIDER, Role::Provider),
        other: app.user(OTHER_PROVIDER, Role::Provider),
    }
}

/// The IPA reviews one sweep as of `today` raised.
async fn reviews_due(app: &TestApp, today: NaiveDate) -> usize {
    sweep_once(&app.store, today).await.unwrap().reviews_due
}

/// A normal order (for a child moving in in a fortnight) and an emergency one (a direct
/// award for a child who moved in three days ago), both for Sefton.
struct Orders {
    normal: Value,
    emergency: Value,
    normal_id: String,
    emergency_id: String,
    /// The day the emergency placement started.
    started: NaiveDate,
}

async fn two_orders(app: &TestApp) -> Orders {
    let today = today();
    let normal = issue(app, &award(SEFTON, false, today + Days::new(14))).await;
    let started = today - Days::new(3);
    let emergency = issue(app, &award(SEFTON, true, started)).await;
    Orders {
        normal_id: id_of(&normal),
        emergency_id: id_of(&emergency),
        normal,
        emergency,
        started,
    }
}

/// The timescale agreed by phone for the emergency order: signed by yesterday.
fn agreed() -> Value {
    json!({"due_by": (today() - Days::new(1)).to_string(), "agreed_with": "registered manager"})
}

/// The two orders, the emergency one's timescale agreed (and so overdue).
async fn overdue_orders(app: &TestApp) -> Orders {
    let orders = two_orders(app).await;
    let sefton = people(app).sefton;
    let (s, o) = app
        .contracts()
        .agree_timescale(&sefton, &orders.emergency_id, &agreed())
        .await;
    assert_eq!(s, 200, "{o}");
    orders
}

/// Those, swept today (the emergency order raised as overdue) and a fortnight on (the
/// normal one too).
async fn swept_orders(app: &TestApp) -> Orders {
    let orders = overdue_orders(app).await;
    for day in [today(), today() + Days::new(14)] {
        sweep_once(&app.store, day).await.unwrap();
    }
    orders
}

/// Those, the emergency order signed (late) by the provider.
async fn one_signed(app: &TestApp) -> Orders {
    let orders = swept_orders(app).await;
    let provider = people(app).provider;
    let (s, signed) = app.contracts().sign(&provider, &orders.emergency_id).await;
    assert_eq!(s, 200, "{signed}");
    orders
}

/// Those, the normal order declined for want of a vacancy.
async fn one_signed_one_declined(app: &TestApp) -> Orders {
    let orders = one_signed(app).await;
    let provider = people(app).provider;
    let (s, declined) = app
        .contracts()
        .decline(
            &provider,
            &orders.normal_id,
            &json!({"reason": "no_vacancy", "detail": "the last bed went to another child yesterday"}),
        )
        .await;
    assert_eq!(s, 200, "{declined}");
    orders
}

/// A normal order is due back in five working days; an emergency one provisionally five
/// working days after the later of issue and start, until the parties agree a timescale.
async fn orders_are_due(url: &str) {
    let app = start(url).await;
    let today = today();
    let sign_within = app.settings.contract.sign_within_working_days;
    assert_eq!(sign_within, 5);
    let Orders {
        normal,
        emergency,
        started,
        ..
    } = two_orders(&app).await;
    assert_eq!(normal["status"], "issued");
    assert_eq!(normal["emergency"], false);
    assert_eq!(normal["due_by"], order_due_by(today, 5).to_string());
    assert_eq!(normal["council"], SEFTON);
    assert!(normal["lot_id"].is_string());
    assert_eq!(
        (
            emergency["emergency"].as_bool(),
            emergency["timescale"].is_null()
        ),
        (Some(true), true)
    );
    assert_eq!(
        emergency["due_by"],
        emergency_due_by(today, started, 5).to_string()
    );
}

on_both!(
    orders_are_due,
    orders_are_due_in_five_working_days_on_sqlite,
    orders_are_due_in_five_working_days_on_postgres
);

/// The agreed timescale: a commissioner of the order's council, emergency orders only.
async fn timescales(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let today = today();
    let o = two_orders(&app).await;
    for (user, status, slug) in [
        (&p.provider, 403, "forbidden"),
        (&p.sefton_sw, 403, "forbidden"),
        (&p.wirral, 404, "not-found"),
        (&p.other, 404, "not-found"),
    ] {
        let got = contracts
            .agree_timescale(user, &o.emergency_id, &agreed())
            .await;
        assert_problem(&got, status, slug, None);
    }
    assert_problem(
        &contracts
            .agree_timescale(&p.sefton, &o.normal_id, &agreed())
            .await,
        409,
        "not-an-emergency-order",
        None,
    );
    assert_problem(
        &contracts
            .agree_timescale(
                &p.sefton,
                &o.emergency_id,
                &json!({"due_by": today.to_string(), "agreed_with": "  "}),
            )
            .await,
        422,
        "validation",
        Some(("/agreed_with", "required")),
    );
    assert_problem(
        &contracts
            .agree_timescale(
                &p.sefton,
                &o.emergency_id,
                &json!({"due_by": (today + Days::new(91)).to_string(), "agreed_with": "manager"}),
            )
            .await,
        422,
        "validation",
        Some(("/due_by", "max")),
    );
    // Agreed by phone to sign by yesterday, recorded today: the order is overdue at once.
    let (s, o) = contracts
        .agree_timescale(&p.sefton, &o.emergency_id, &agreed())
        .await;
    assert_eq!(s, 200, "{o}");
    assert_eq!(o["due_by"], (today - Days::new(1)).to_string());
    assert_eq!(o["timescale"]["agreed_with"], "registered manager");
    assert_eq!(o["timescale"]["recorded_by"], "cathy");
    assert_eq!(o["overdue"], true);
}

on_both!(
    timescales,
    an_emergency_orders_timescale_is_agreed_on_sqlite,
    an_emergency_orders_timescale_is_agreed_on_postgres
);

/// Overdue orders, as the council and the provider see them; the sweep raises each once.
async fn overdue(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let today = today();
    let Orders { emergency_id, .. } = overdue_orders(&app).await;
    for user in [&p.sefton, &p.provider] {
        let (s, list) = contracts.orders(user, "overdue=true").await;
        assert_eq!(s, 200);
        let ids: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec![emergency_id.as_str()]);
    }
    let (_, none) = contracts.orders(&p.wirral, "overdue=true").await;
    assert_eq!(none["items"], json!([]));
    assert_problem(
        &contracts.orders(&p.sefton, "status=lost").await,
        422,
        "validation",
        None,
    );

    let swept = sweep_once(&app.store, today).await.unwrap();
    assert_eq!(swept.orders_overdue, 1);
    assert_eq!(
        sweep_once(&app.store, today).await.unwrap().orders_overdue,
        0
    );
    let overdue: Vec<OrderOverdue> = app.outbox_of().await;
    assert_eq!(overdue.len(), 1);
    assert_eq!(
        (overdue[0].order_id.to_string(), overdue[0].due_by),
        (emergency_id.clone(), today - Days::new(1))
    );
    // A fortnight on, the normal order is overdue too; two replicas sweeping at once raise it once.
    let later = today + Days::new(14);
    let (a, b) = tokio::join!(sweep_once(&app.store, later), sweep_once(&app.store, later));
    assert_eq!(a.unwrap().orders_overdue + b.unwrap().orders_overdue, 1);
    assert_eq!(app.outbox_of::<OrderOverdue>().await.len(), 2);
}

on_both!(
    overdue,
    overdue_orders_are_listed_and_raised_once_on_sqlite,
    overdue_orders_are_listed_and_raised_once_on_postgres
);

/// Signing: a user of the provider; after the agreed day it is recorded late.
async fn signing(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let Orders { emergency_id, .. } = swept_orders(&app).await;
    assert_problem(
        &contracts.sign(&p.other, &emergency_id).await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &contracts.sign(&p.sefton, &emergency_id).await,
        403,
        "forbidden",
        None,
    );
    let (s, signed) = contracts.sign(&p.provider, &emergency_id).await;
    assert_eq!(s, 200, "{signed}");
    assert_eq!(
        (
            signed["status"].as_str(),
            signed["late"].as_bool(),
            signed["signed_by"].as_str()
        ),
        (Some("signed"), Some(true), Some("pat"))
    );
    assert_eq!(signed["overdue"], false);
    let s: Vec<OrderSigned> = app.outbox_of().await;
    assert!(s[0].late);
    assert_problem(
        &contracts.sign(&p.provider, &emergency_id).await,
        409,
        "order-not-issued",
        None,
    );
    assert_problem(
        &contracts
            .agree_timescale(
                &p.sefton,
                &emergency_id,
                &json!({"due_by": today().to_string(), "agreed_with": "manager"}),
            )
            .await,
        409,
        "order-not-issued",
        None,
    );
}

on_both!(
    signing,
    the_provider_signs_an_order_late_on_sqlite,
    the_provider_signs_an_order_late_on_postgres
);

/// Declining: a user of the provider, with a reason, while the order is issued.
async fn declining_refused(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let o = one_signed(&app).await;
    let decline = |user: &User, id: &str, body: Value| {
        let (contracts, user, id) = (&contracts, user.clone(), id.to_owned());
        async move { contracts.decline(&user, &id, &body).await }
    };
    for (user, id, body, status, slug, error) in [
        (
            &p.provider,
            &o.normal_id,
            json!({"reason": "other"}),
            422,
            "validation",
            Some(("/detail", "required")),
        ),
        (
            &p.provider,
            &o.normal_id,
            json!({"reason": "busy"}),
            422,
            "validation",
            Some(("/reason", "one_of")),
        ),
        (
            &p.other,
            &o.normal_id,
            json!({"reason": "no_vacancy"}),
            404,
            "not-found",
            None,
        ),
        (
            &p.sefton,
            &o.normal_id,
            json!({"reason": "no_vacancy"}),
            403,
            "forbidden",
            None,
        ),
        (
            &p.provider,
            &o.emergency_id,
            json!({"reason": "no_vacancy"}),
            409,
            "order-not-issued",
            None,
        ),
    ] {
        assert_problem(&decline(user, id, body).await, status, slug, error);
    }
}

on_both!(
    declining_refused,
    an_order_is_declined_with_a_reason_by_its_provider_while_issued_on_sqlite,
    an_order_is_declined_with_a_reason_by_its_provider_while_issued_on_postgres
);

/// Declined: the provider's words stay here; the order is then neither signed, declined
/// again, nor overdue.
async fn declining(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let o = one_signed(&app).await;
    let decline = |user: &User, id: &str, body: Value| {
        let (contracts, user, id) = (&contracts, user.clone(), id.to_owned());
        async move { contracts.decline(&user, &id, &body).await }
    };
    let words = "the last bed went to another child yesterday";
    let (s, declined) = decline(
        &p.provider,
        &o.normal_id,
        json!({"reason": "no_vacancy", "detail": words}),
    )
    .await;
    assert_eq!(s, 200, "{declined}");
    assert_eq!(declined["status"], "declined");
    assert_eq!(declined["declined"]["reason"], "no_vacancy");
    assert_eq!(declined["declined"]["detail"], words);
    assert_eq!(declined["declined"]["declined_by"], "pat");
    let d: Vec<OrderDeclined> = app.outbox_of().await;
    assert_eq!(
        (d[0].order_id.to_string(), d[0].reason.as_str()),
        (o.normal_id.clone(), "no_vacancy")
    );
    let raw = app.outbox().await;
    assert!(
        raw.iter().all(|e| !e.payload.to_string().contains(words)),
        "the provider's words stay in the service"
    );
    assert_problem(
        &contracts.sign(&p.provider, &o.normal_id).await,
        409,
        "order-not-issued",
        None,
    );
    assert_problem(
        &decline(&p.provider, &o.normal_id, json!({"reason": "no_vacancy"})).await,
        409,
        "order-not-issued",
        None,
    );
    // A declined order is no longer overdue.
    let (_, list) = contracts.orders(&p.sefton, "overdue=true").await;
    assert_eq!(list["items"], json!([]));
}

on_both!(
    declining,
    the_provider_declines_an_order_with_a_reason_on_sqlite,
    the_provider_declines_an_order_with_a_reason_on_postgres
);

/// Variations of a signed order only, by a commissioner of the order's council, with what,
/// why and from when.
async fn order_variations_refused(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let o = one_signed_one_declined(&app).await;
    let change = json!({"what": "weekly rate £2,149.00 → £2,249.00 (waking night staff)",
                        "why": "needs assessed at the 28-day review", "effective_from": "2027-01-15"});
    assert_problem(
        &contracts.vary_order(&p.sefton, &o.normal_id, &change).await,
        409,
        "order-not-signed",
        None,
    );
    for (user, status, slug) in [
        (&p.provider, 403, "forbidden"),
        (&p.sefton_sw, 403, "forbidden"),
        (&p.wirral, 404, "not-found"),
    ] {
        let got = contracts.vary_order(user, &o.emergency_id, &change).await;
        assert_problem(&got, status, slug, None);
    }
    assert_problem(
        &contracts
            .vary_order(
                &p.sefton,
                &o.emergency_id,
                &json!({"what": "x", "why": "", "effective_from": "2027-01-15"}),
            )
            .await,
        422,
        "validation",
        Some(("/why", "required")),
    );
}

on_both!(
    order_variations_refused,
    an_order_is_varied_by_its_councils_commissioner_once_signed_on_sqlite,
    an_order_is_varied_by_its_councils_commissioner_once_signed_on_postgres
);

/// Each variation is numbered and told to the provider; the order itself stays as signed.
async fn order_variations(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let o = one_signed_one_declined(&app).await;
    let change = json!({"what": "weekly rate £2,149.00 → £2,249.00 (waking night staff)",
                        "why": "needs assessed at the 28-day review", "effective_from": "2027-01-15"});
    let (s, v1) = contracts
        .vary_order(&p.sefton, &o.emergency_id, &change)
        .await;
    assert_eq!(s, 201, "{v1}");
    assert_eq!(
        (v1["seq"].as_i64(), v1["recorded_by"].as_str()),
        (Some(1), Some("cathy"))
    );
    let (s, v2) = contracts
        .vary_order(
            &p.sefton,
            &o.emergency_id,
            &json!({"what": "start date recorded as the night of arrival", "why": "emergency move",
                    "effective_from": o.started.to_string()}),
        )
        .await;
    assert_eq!((s, v2["seq"].as_i64()), (201, Some(2)));
    let (s, list) = contracts
        .order_variations(&p.provider, &o.emergency_id, "")
        .await;
    assert_eq!(s, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_eq!(list["items"][0]["effective_from"], "2027-01-15");
    assert_eq!(
        contracts
            .order_variations(&p.other, &o.emergency_id, "")
            .await
            .0,
        404
    );
    let (_, after) = contracts.order(&p.sefton, &o.emergency_id).await;
    assert_eq!(
        (
            after["weekly_rate_pence"].as_i64(),
            after["status"].as_str()
        ),
        (Some(214_900), Some("signed"))
    );
}

on_both!(
    order_variations,
    a_signed_order_is_varied_on_sqlite,
    a_signed_order_is_varied_on_postgres
);

/// An emergency order for a Sefton child who moved in two days ago, and a normal one for a
/// week on, neither signed.
struct ToPlace {
    emergency: Value,
    normal: Value,
    started: NaiveDate,
}

async fn orders_to_place(app: &TestApp) -> ToPlace {
    let started = today() - Days::new(2);
    let emergency = issue(app, &award(SEFTON, true, started)).await;
    let normal = issue(app, &award(SEFTON, false, today() + Days::new(7))).await;
    ToPlace {
        emergency,
        normal,
        started,
    }
}

/// The emergency order placed (a home given, with its position) before it is signed; the
/// placement's id.
async fn emergency_placed(app: &TestApp) -> (String, ToPlace) {
    let orders = orders_to_place(app).await;
    let body = json!({"order_id": orders.emergency["id"], "home_id": Uuid::now_v7(),
                      "home_latitude": 53.48, "home_longitude": -3.02});
    let (s, p) = app.contracts().place(&people(app).sefton, &body).await;
    assert_eq!(s, 201, "{p}");
    (id_of(&p), orders)
}

/// A normal order is not placed before it is signed; a placement needs an order (or a bed)
/// and both coordinates of the home, and a commissioner of the order's council.
async fn placing_refused(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let ToPlace {
        emergency, normal, ..
    } = orders_to_place(&app).await;
    let place = |body: Value| {
        let (contracts, sefton) = (&contracts, &p.sefton);
        async move { contracts.place(sefton, &body).await }
    };
    assert_problem(
        &place(json!({"order_id": normal["id"]})).await,
        409,
        "order-not-signed",
        None,
    );
    assert_problem(
        &place(json!({})).await,
        422,
        "validation",
        Some(("/order_id", "one_of")),
    );
    assert_problem(
        &place(json!({"order_id": emergency["id"], "referral_id": Uuid::now_v7()})).await,
        422,
        "validation",
        Some(("/referral_id", "not_allowed")),
    );
    assert_problem(
        &place(json!({"order_id": emergency["id"], "home_latitude": 53.4})).await,
        422,
        "validation",
        Some(("/home_longitude", "required")),
    );
    for (user, status, slug) in [
        (&p.sefton_sw, 403, "forbidden"),
        (&p.provider, 403, "forbidden"),
        (&p.wirral, 404, "not-found"),
        (&p.other, 404, "not-found"),
    ] {
        let got = contracts
            .place(user, &json!({"order_id": emergency["id"]}))
            .await;
        assert_problem(&got, status, slug, None);
    }
}

on_both!(
    placing_refused,
    a_placement_is_refused_without_a_signed_order_or_its_council_on_sqlite,
    a_placement_is_refused_without_a_signed_order_or_its_council_on_postgres
);

/// An emergency order is placed before it is signed, from the day the child moved in, at
/// the order's rate.
async fn emergency_placed_as_asked(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let ToPlace {
        emergency, started, ..
    } = orders_to_place(&app).await;
    let home = Uuid::now_v7();
    let (s, placed) = contracts
        .place(
            &p.sefton,
            &json!({"order_id": emergency["id"], "home_id": home,
                    "home_latitude": 53.48, "home_longitude": -3.02}),
        )
        .await;
    assert_eq!(s, 201, "{placed}");
    assert_eq!(
        (
            placed["status"].as_str(),
            placed["start_date"].as_str(),
            placed["order_id"].as_str()
        ),
        (
            Some("active"),
            Some(started.to_string().as_str()),
            emergency["id"].as_str()
        )
    );
    assert_eq!(placed["home_id"], home.to_string());
    assert_eq!(
        (
            placed["weekly_rate_pence"].as_i64(),
            placed["extras_weekly_pence"].as_i64()
        ),
        (Some(214_900), Some(0))
    );
}

on_both!(
    emergency_placed_as_asked,
    an_emergency_placement_starts_as_the_order_says_on_sqlite,
    an_emergency_placement_starts_as_the_order_says_on_postgres
);

/// Placed once; announced without a block bed; the order then awaits its signature, and
/// the provider cannot decline it.
async fn emergency_placement(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let (
        _,
        ToPlace {
            emergency, started, ..
        },
    ) = emergency_placed(&app).await;
    assert_problem(
        &contracts
            .place(&p.sefton, &json!({"order_id": emergency["id"]}))
            .await,
        409,
        "already-placed",
        None,
    );
    let events: Vec<PlacementStarted> = app.outbox_of().await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        (
            events[0].order_id.map(|o| o.to_string()),
            events[0].start_date
        ),
        (emergency["id"].as_str().map(str::to_owned), started)
    );
    assert!(events[0].block_contract_id.is_none() && events[0].bed.is_none());
    let order_id = id_of(&emergency);
    let (_, o) = contracts.order(&p.sefton, &order_id).await;
    assert_eq!(o["status"], "issued");
    assert_problem(
        &contracts
            .decline(
                &p.provider,
                &order_id,
                &json!({"reason": "cannot_meet_needs"}),
            )
            .await,
        409,
        "placement-active",
        None,
    );
}

on_both!(
    emergency_placement,
    an_emergency_order_is_placed_before_it_is_signed_on_sqlite,
    an_emergency_order_is_placed_before_it_is_signed_on_postgres
);

/// Who sees the placement, and the lists.
async fn who_sees_a_placement(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let (id, _) = emergency_placed(&app).await;
    for (user, status) in [
        (&p.sefton_fin, 200),
        (&p.provider, 200),
        (&p.wirral, 404),
        (&p.other, 404),
    ] {
        assert_eq!(contracts.placement(user, &id).await.0, status);
    }
    let (_, mine) = contracts.placements(&p.provider, "status=active").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let (_, none) = contracts.placements(&p.wirral, "").await;
    assert_eq!(none["items"], json!([]));
    assert_problem(
        &contracts.placements(&p.sefton, "status=gone").await,
        422,
        "validation",
        None,
    );
}

on_both!(
    who_sees_a_placement,
    the_council_and_the_provider_see_a_placement_on_sqlite,
    the_council_and_the_provider_see_a_placement_on_postgres
);

/// Ending: a commissioner or social worker of the council, not before it began, for one of
/// the reasons (with a note for "other").
async fn ending_refused(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let today = today();
    let (id, ToPlace { started, .. }) = emergency_placed(&app).await;
    let body = json!({"end_date": (today + Days::new(30)).to_string(), "reason": "breakdown",
                      "note": "allegation against a staff member; moved the same night"});
    for (user, status, slug) in [
        (&p.sefton_fin, 403, "forbidden"),
        (&p.provider, 403, "forbidden"),
        (&p.wirral, 404, "not-found"),
        (&p.other, 404, "not-found"),
    ] {
        let got = contracts.end_placement(user, &id, &body).await;
        assert_problem(&got, status, slug, None);
    }
    for (refused, field, rule) in [
        (
            json!({"end_date": (started - Days::new(1)).to_string(), "reason": "breakdown"}),
            "/end_date",
            "min",
        ),
        (
            json!({"end_date": today.to_string(), "reason": "fell_out"}),
            "/reason",
            "one_of",
        ),
        (
            json!({"end_date": today.to_string(), "reason": "other"}),
            "/note",
            "required",
        ),
    ] {
        let got = contracts.end_placement(&p.sefton_sw, &id, &refused).await;
        assert_problem(&got, 422, "validation", Some((field, rule)));
    }
}

on_both!(
    ending_refused,
    a_placement_is_ended_by_its_councils_staff_not_before_it_began_on_sqlite,
    a_placement_is_ended_by_its_councils_staff_not_before_it_began_on_postgres
);

/// Ended by the child's social worker, once; the note stays in the service, and the order
/// stays in force.
async fn ending(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let today = today();
    let (id, ToPlace { emergency, .. }) = emergency_placed(&app).await;
    let body = json!({"end_date": (today + Days::new(30)).to_string(), "reason": "breakdown",
                      "note": "allegation against a staff member; moved the same night"});
    let (s, ended) = contracts.end_placement(&p.sefton_sw, &id, &body).await;
    assert_eq!(s, 200, "{ended}");
    assert_eq!(ended["status"], "ended");
    assert_eq!(ended["ended"]["reason"], "breakdown");
    assert_eq!(ended["ended"]["ended_by"], "sam");
    assert_eq!(
        ended["ended"]["end_date"],
        (today + Days::new(30)).to_string()
    );
    assert_problem(
        &contracts.end_placement(&p.sefton, &id, &body).await,
        409,
        "placement-ended",
        None,
    );
    let e: Vec<PlacementEnded> = app.outbox_of().await;
    assert_eq!(e.len(), 1);
    assert_eq!(
        (
            e[0].placement_id.to_string(),
            e[0].reason.as_str(),
            e[0].end_date
        ),
        (id.clone(), "breakdown", today + Days::new(30))
    );
    assert!(
        app.outbox()
            .await
            .iter()
            .all(|env| !env.payload.to_string().contains("allegation")),
        "the note stays in the service"
    );
    // The order stays in force: the provider still signs it (late or not, it is recorded).
    let (s, o) = contracts.sign(&p.provider, &id_of(&emergency)).await;
    assert_eq!((s, o["status"].as_str()), (200, Some("signed")));
}

on_both!(
    ending,
    a_placement_ends_once_and_its_order_stays_in_force_on_sqlite,
    a_placement_ends_once_and_its_order_stays_in_force_on_postgres
);

/// A two-bed block contract Sefton lets for AIM from today, and a Sefton child's referral
/// submitted in AIM.
async fn two_bed_block(app: &TestApp) -> (String, Uuid) {
    let (s, block) = app
        .contracts()
        .let_block(
            &people(app).sefton,
            &json!({"partnership": "AIM", "provider_id": PROVIDER, "description": "male adolescents",
                    "beds": 2, "block_weekly_rate_pence": 198_800, "spot_weekly_rate_pence": 214_900,
                    "start_date": today().to_string(), "term_years": 3, "extension_options": 2}),
        )
        .await;
    assert_eq!(s, 201, "{block}");
    (id_of(&block), referral_in(app, SEFTON, "AIM").await)
}

/// A block bed needs a referral; a partner council takes it only once offered, and a
/// council outside the partnership does not see the contract.
async fn block_bed_refused(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let today = today();
    let (block_id, referral) = two_bed_block(&app).await;
    let bed = |bed: u16| {
        json!({"block_contract_id": block_id, "bed": bed, "referral_id": referral,
               "start_date": today.to_string(), "home_latitude": 53.48, "home_longitude": -3.02})
    };
    assert_problem(
        &contracts
            .place(&p.sefton, &json!({"block_contract_id": block_id, "bed": 1}))
            .await,
        422,
        "validation",
        Some(("/referral_id", "required")),
    );
    // Wirral, a partner in AIM, may use the bed only once it is offered; Halton, outside
    // AIM, does not see the contract at all.
    assert_problem(
        &contracts.place(&p.wirral, &bed(1)).await,
        409,
        "bed-not-offered",
        None,
    );
    assert_problem(
        &contracts.place(&p.halton, &bed(1)).await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &contracts
            .place(
                &p.sefton,
                &json!({"block_contract_id": Uuid::now_v7(), "bed": 1, "referral_id": referral,
                        "start_date": today.to_string()}),
            )
            .await,
        404,
        "not-found",
        None,
    );
}

on_both!(
    block_bed_refused,
    a_block_bed_is_refused_without_a_referral_or_an_offer_on_sqlite,
    a_block_bed_is_refused_without_a_referral_or_an_offer_on_postgres
);

/// Sefton places a child in bed 1 at the block rate; ending the placement empties the bed.
async fn block_bed_placement(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let today = today();
    let (block_id, referral) = two_bed_block(&app).await;
    let bed = |bed: u16| {
        json!({"block_contract_id": block_id, "bed": bed, "referral_id": referral,
               "start_date": today.to_string(), "home_latitude": 53.48, "home_longitude": -3.02})
    };
    let (s, in_bed) = contracts.place(&p.sefton, &bed(1)).await;
    assert_eq!(s, 201, "{in_bed}");
    assert_eq!(
        (
            in_bed["block_contract_id"].as_str(),
            in_bed["bed"].as_i64(),
            in_bed["order_id"].as_str()
        ),
        (Some(block_id.as_str()), Some(1), None)
    );
    assert_eq!(in_bed["weekly_rate_pence"], 198_800);
    assert_eq!(in_bed["partnership"], "AIM");
    assert_problem(
        &contracts.place(&p.sefton, &bed(1)).await,
        409,
        "bed-occupied",
        None,
    );
    let started: Vec<PlacementStarted> = app.outbox_of().await;
    let last = started.last().unwrap();
    assert_eq!(
        (
            last.block_contract_id.map(|b| b.to_string()),
            last.bed,
            last.weekly_rate_pence,
            last.order_id
        ),
        (Some(block_id.clone()), Some(1), 198_800, None)
    );
    let (s, out) = contracts
        .end_placement(
            &p.sefton,
            &id_of(&in_bed),
            &json!({"end_date": (today + Days::new(10)).to_string(), "reason": "step_down"}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let e: Vec<PlacementEnded> = app.outbox_of().await;
    let last = e.last().unwrap();
    assert_eq!(
        (
            last.block_contract_id.map(|b| b.to_string()),
            last.bed,
            last.reason.as_str()
        ),
        (Some(block_id.clone()), Some(1), "step_down")
    );
    // The bed is free again from the day after the last night.
    let mut next = bed(1);
    next["start_date"] = json!((today + Days::new(11)).to_string());
    next["referral_id"] = json!(referral_in(&app, SEFTON, "AIM").await);
    assert_eq!(contracts.place(&p.sefton, &next).await.0, 201);
}

on_both!(
    block_bed_placement,
    a_child_is_placed_in_a_block_bed_at_the_block_rate_on_sqlite,
    a_child_is_placed_in_a_block_bed_at_the_block_rate_on_postgres
);

/// A three-bed block contract Sefton lets for AIM from today.
async fn aim_block(app: &TestApp) -> Value {
    let (s, block) = app
        .contracts()
        .let_block(
            &people(app).sefton,
            &json!({"partnership": "AIM", "provider_id": PROVIDER, "beds": 3,
                    "block_weekly_rate_pence": 198_800, "spot_weekly_rate_pence": 214_900,
                    "start_date": today().to_string(), "term_years": 3}),
        )
        .await;
    assert_eq!(s, 201, "{block}");
    block
}

/// Sefton's commissioner places `referral` in `bed` of `block` from today.
async fn place_in_block(app: &TestApp, block: &Value, referral: Uuid, bed: u16) -> Reply {
    let body = json!({"block_contract_id": block["id"], "bed": bed, "referral_id": referral,
                      "start_date": today().to_string()});
    app.contracts().place(&people(app).sefton, &body).await
}

// A block-bed placement needs a real referral of the placing council, in the contract's
// partnership, that can be placed; the service knows referrals from the referral and
// competition services' events, whatever order they arrive in.

async fn a_referral_the_council_sees(url: &str) {
    let app = start(url).await;
    let block = aim_block(&app).await;
    let place = |referral: Uuid, bed: u16| place_in_block(&app, &block, referral, bed);
    // A made-up id, and another council's referral: not visible, 404.
    assert_problem(&place(Uuid::now_v7(), 1).await, 404, "not-found", None);
    let wirrals = referral_in(&app, WIRRAL, "AIM").await;
    assert_problem(&place(wirrals, 1).await, 404, "not-found", None);
    // Sefton's child referred in the LCR PPA cannot take an AIM block bed.
    let lcr = referral_in(&app, SEFTON, "LCR-PPA").await;
    assert_problem(
        &place(lcr, 1).await,
        422,
        "validation",
        Some(("/referral_id", "partnership")),
    );
    let started: Vec<PlacementStarted> = app.outbox_of().await;
    assert!(started.is_empty(), "nothing half-written by the refusals");
}

on_both!(
    a_referral_the_council_sees,
    a_block_bed_needs_the_councils_referral_in_the_partnership_on_sqlite,
    a_block_bed_needs_the_councils_referral_in_the_partnership_on_postgres
);

async fn withdrawn_or_closed(url: &str) {
    let app = start(url).await;
    let block = aim_block(&app).await;
    let place = |referral: Uuid, bed: u16| place_in_block(&app, &block, referral, bed);
    let not_placeable = Some(("/referral_id", "placeable"));
    // Withdrawn: the withdrawal may even arrive before the submission; it holds.
    let withdrawn = submitted(SEFTON);
    app.publish_envelope(&Envelope::new(
        "referral",
        "AIM",
        &ReferralWithdrawn {
            referral_id: withdrawn.referral_id,
            council: SEFTON.into(),
            reason: "plan_changed".into(),
        },
    ))
    .await;
    app.publish_envelope(&Envelope::new("referral", "AIM", &withdrawn))
        .await;
    let got = place(withdrawn.referral_id, 1).await;
    assert_problem(&got, 422, "validation", not_placeable);
    // Closed by the council (its placement over): nothing more is placed under it.
    let closed_referral = referral_in(&app, SEFTON, "AIM").await;
    app.publish_envelope(&Envelope::new(
        "referral",
        "AIM",
        &ReferralClosed {
            referral_id: closed_referral,
            council: SEFTON.into(),
        },
    ))
    .await;
    let got = place(closed_referral, 1).await;
    assert_problem(&got, 422, "validation", not_placeable);
    let started: Vec<PlacementStarted> = app.outbox_of().await;
    assert!(started.is_empty(), "nothing half-written by the refusals");
}

on_both!(
    withdrawn_or_closed,
    a_withdrawn_or_closed_referral_takes_no_block_bed_on_sqlite,
    a_withdrawn_or_closed_referral_takes_no_block_bed_on_postgres
);

async fn in_competition(url: &str) {
    let app = start(url).await;
    let block = aim_block(&app).await;
    let place = |referral: Uuid, bed: u16| place_in_block(&app, &block, referral, bed);
    let not_placeable = Some(("/referral_id", "placeable"));
    // In a competition still open: not placeable until it is closed; a close arriving late
    // (older than the reopening) changes nothing.
    let competing = referral_in(&app, SEFTON, "AIM").await;
    let competition = Uuid::now_v7();
    let opened = CompetitionOpened {
        competition_id: competition,
        referral_id: competing,
        referral_version: 1,
        council: SEFTON.into(),
        framework_id: Uuid::now_v7(),
        lot_id: Uuid::now_v7(),
        lot_name: "Residential".into(),
        urgency: Urgency::Planned,
        deadline: Utc::now() + chrono::Duration::days(3),
        invited: vec![PROVIDER.into()],
        summary: "residential".into(),
        referral_path: format!("/v1/referrals/{competing}"),
    };
    app.publish_envelope(&Envelope::new("competition", "AIM", &opened))
        .await;
    let got = place(competing, 1).await;
    assert_problem(&got, 422, "validation", not_placeable);
    let closed = CompetitionClosed {
        competition_id: competition,
        referral_id: competing,
        council: SEFTON.into(),
        reason: hub_events::CompetitionCloseReason::NoAcceptableBid,
        provider_message: None,
        invited: vec![PROVIDER.into()],
    };
    let mut late = Envelope::new("competition", "AIM", &closed);
    late.occurred_at -= chrono::Duration::seconds(60);
    app.publish_envelope(&late).await;
    let got = place(competing, 1).await;
    assert_problem(&got, 422, "validation", not_placeable);
    app.publish_envelope(&Envelope::new("competition", "AIM", &closed))
        .await;
    assert_eq!(place(competing, 1).await.0, 201);
    // Placed: the same referral cannot take a second bed while the placement goes on.
    let got = place(competing, 2).await;
    assert_problem(&got, 422, "validation", not_placeable);
    // A submitted referral on any route is placed; nothing was left half-written by the
    // refusals (one placement each, and only the two placed).
    let spot = referral_in(&app, SEFTON, "AIM").await;
    assert_eq!(place(spot, 2).await.0, 201);
    let started: Vec<PlacementStarted> = app.outbox_of().await;
    assert_eq!(
        started.iter().map(|p| p.referral_id).collect::<Vec<_>>(),
        vec![competing, spot]
    );
}

on_both!(
    in_competition,
    a_referral_in_competition_takes_a_bed_once_it_closes_on_sqlite,
    a_referral_in_competition_takes_a_bed_once_it_closes_on_postgres
);

const CONTACT: &str =
    "Family time with mum every Saturday at the contact centre; calls with his sister";

/// A Sefton child placed a hundred days ago, and the IPA's state built on it.
struct Ipa {
    /// The placement's id.
    id: String,
    /// The day it started.
    start: NaiveDate,
}

impl Ipa {
    /// The first review, three months after the start.
    fn first_review(&self) -> NaiveDate {
        self.start.checked_add_months(Months::new(3)).unwrap()
    }
}

/// The day version 2 takes effect from.
fn changed_from() -> NaiveDate {
    today() - Days::new(20)
}

async fn placed_100_days_ago(app: &TestApp) -> Ipa {
    let start = today() - Days::new(100);
    Ipa {
        id: placed(app, start).await,
        start,
    }
}

/// Version 1 drafted by the child's social worker, with the contact arrangements.
async fn v1_drafted(app: &TestApp) -> Ipa {
    let ipa = placed_100_days_ago(app).await;
    let (s, drafted) = app
        .contracts()
        .draft_ipa(
            &people(app).sefton_sw,
            &ipa.id,
            &json!({"contact_arrangements": CONTACT}),
        )
        .await;
    assert_eq!(s, 201, "{drafted}");
    ipa
}

/// Version 1 signed by the provider.
async fn v1_signed(app: &TestApp) -> Ipa {
    let ipa = v1_drafted(app).await;
    let provider = people(app).provider;
    assert_eq!(app.contracts().sign_ipa(&provider, &ipa.id, 1).await.0, 200);
    ipa
}

/// Then approved by the social worker: in force, its review overdue.
async fn v1_approved(app: &TestApp) -> Ipa {
    let ipa = v1_signed(app).await;
    let (contracts, p) = (app.contracts(), people(app));
    assert_eq!(contracts.approve_ipa(&p.sefton_sw, &ipa.id, 1).await.0, 200);
    ipa
}

/// Then the overdue review raised by the sweep, and held yesterday (to update the IPA); the
/// next one swept for from its notice to past its day.
async fn reviewed(app: &TestApp) -> Ipa {
    let ipa = v1_approved(app).await;
    assert_eq!(reviews_due(app, today()).await, 1);
    let held = today() - Days::new(1);
    let (s, reviewed) = app
        .contracts()
        .record_review(
            &people(app).sefton_sw,
            &ipa.id,
            &json!({"reviewed_on": held.to_string(), "outcome": "update_ipa",
                    "notes": "needs waking night staff after missing episodes"}),
        )
        .await;
    assert_eq!(s, 201, "{reviewed}");
    let next = held.checked_add_months(Months::new(3)).unwrap();
    let notice = next - Days::new(14);
    for day in [
        today(),
        notice - Days::new(1),
        notice,
        notice,
        next,
        next + Days::new(1),
        next + Days::new(2),
    ] {
        reviews_due(app, day).await;
    }
    ipa
}

/// Then version 2: a higher rate and an extra from twenty days ago, reviewed every two
/// months; signed and approved.
async fn v2_approved(app: &TestApp) -> Ipa {
    let ipa = reviewed(app).await;
    let (contracts, p) = (app.contracts(), people(app));
    let (s, v2) = contracts
        .draft_ipa(&p.sefton_sw, &ipa.id, &version_2())
        .await;
    assert_eq!(s, 201, "{v2}");
    assert_eq!(contracts.sign_ipa(&p.provider, &ipa.id, 2).await.0, 200);
    assert_eq!(contracts.approve_ipa(&p.sefton_sw, &ipa.id, 2).await.0, 200);
    ipa
}

/// Then version 3, at a lower rate from today, drafted by the commissioner and withdrawn.
async fn v3_withdrawn(app: &TestApp) -> Ipa {
    let ipa = v2_approved(app).await;
    let (contracts, sefton) = (app.contracts(), people(app).sefton);
    let (s, _) = contracts.draft_ipa(&sefton, &ipa.id, &version_3()).await;
    assert_eq!(s, 201);
    assert_eq!(contracts.withdraw_ipa(&sefton, &ipa.id, 3).await.0, 200);
    ipa
}

fn version_3() -> Value {
    json!({"contact_arrangements": CONTACT, "weekly_rate_pence": 199_000,
           "effective_from": today().to_string()})
}

fn version_2() -> Value {
    json!({"contact_arrangements": CONTACT, "weekly_rate_pence": 224_900,
           "extras": [{"service": "waking night staff", "weekly_pence": 35_000}],
           "review_frequency_months": 2, "effective_from": changed_from().to_string(),
           "change_reason": "missing from home twice at night"})
}

/// The council drafts the first version.
async fn drafting(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let Ipa { id, start } = placed_100_days_ago(&app).await;
    assert_problem(&contracts.ipa(&p.sefton, &id).await, 404, "not-found", None);
    let v1 = json!({"contact_arrangements": CONTACT});
    for (user, status, slug) in [
        (&p.provider, 403, "forbidden"),
        (&p.sefton_fin, 403, "forbidden"),
        (&p.wirral_sw, 404, "not-found"),
        (&p.other, 404, "not-found"),
    ] {
        let got = contracts.draft_ipa(user, &id, &v1).await;
        assert_problem(&got, status, slug, None);
    }
    assert_problem(
        &contracts
            .draft_ipa(&p.sefton_sw, &id, &json!({"extras": []}))
            .await,
        422,
        "validation",
        Some(("/contact_arrangements", "required")),
    );
    assert_problem(
        &contracts
            .draft_ipa(
                &p.sefton_sw,
                &id,
                &json!({"contact_arrangements": CONTACT, "effective_from": (start - Days::new(1)).to_string()}),
            )
            .await,
        422,
        "validation",
        Some(("/effective_from", "min")),
    );
    let (s, drafted) = contracts.draft_ipa(&p.sefton_sw, &id, &v1).await;
    assert_eq!(s, 201, "{drafted}");
    let d = &drafted["versions"][0];
    assert_eq!(
        (
            d["version"].as_i64(),
            d["status"].as_str(),
            d["weekly_rate_pence"].as_i64()
        ),
        (Some(1), Some("awaiting_provider"), Some(214_900))
    );
    assert_eq!(
        (
            d["effective_from"].as_str(),
            d["review_frequency_months"].as_i64()
        ),
        (Some(start.to_string().as_str()), Some(3))
    );
    assert_eq!(d["contact_arrangements"], CONTACT);
    assert_problem(
        &contracts.draft_ipa(&p.sefton, &id, &v1).await,
        409,
        "ipa-version-pending",
        None,
    );
}

on_both!(
    drafting,
    the_council_drafts_an_ipa_on_sqlite,
    the_council_drafts_an_ipa_on_postgres
);

/// The provider signs, then the child's social worker approves.
async fn signing_an_ipa(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let ipa = v1_drafted(&app).await;
    let id = &ipa.id;
    assert_problem(
        &contracts.approve_ipa(&p.sefton_sw, id, 1).await,
        409,
        "ipa-not-signed",
        None,
    );
    for (user, version, status, slug) in [
        (&p.sefton, 1, 403, "forbidden"),
        (&p.other, 1, 404, "not-found"),
        (&p.provider, 9, 404, "not-found"),
    ] {
        let got = contracts.sign_ipa(user, id, version).await;
        assert_problem(&got, status, slug, None);
    }
    let (s, signed) = contracts.sign_ipa(&p.provider, id, 1).await;
    assert_eq!(s, 200, "{signed}");
    assert_eq!(
        (
            signed["versions"][0]["status"].as_str(),
            signed["versions"][0]["provider_signed_by"].as_str()
        ),
        (Some("awaiting_approval"), Some("pat"))
    );
    assert_problem(
        &contracts.sign_ipa(&p.provider, id, 1).await,
        409,
        "ipa-already-signed",
        None,
    );
}

on_both!(
    signing_an_ipa,
    the_provider_signs_an_ipa_version_once_on_sqlite,
    the_provider_signs_an_ipa_version_once_on_postgres
);

/// Then the child's social worker approves: the version is in force, its review dated.
async fn approving_an_ipa(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let ipa = v1_signed(&app).await;
    let id = &ipa.id;
    // Approving as anyone but a social worker of the child's council.
    for (user, status, slug) in [
        (&p.sefton, 403, "forbidden"),
        (&p.sefton_fin, 403, "forbidden"),
        (&p.provider, 403, "forbidden"),
        (&p.wirral_sw, 404, "not-found"),
        (&p.other, 404, "not-found"),
    ] {
        let got = contracts.approve_ipa(user, id, 1).await;
        assert_problem(&got, status, slug, None);
    }
    let (s, approved) = contracts.approve_ipa(&p.sefton_sw, id, 1).await;
    assert_eq!(s, 200, "{approved}");
    let first_review = ipa.first_review();
    assert_eq!(approved["in_force"], 1);
    assert_eq!(approved["versions"][0]["status"], "approved");
    assert_eq!(approved["versions"][0]["approved_by"], "sam");
    assert_eq!(approved["next_review_on"], first_review.to_string());
    assert_eq!(
        (
            approved["review_due"].as_bool(),
            approved["review_overdue"].as_bool()
        ),
        (Some(true), Some(true))
    );
    assert_problem(
        &contracts.approve_ipa(&p.sefton_sw, id, 1).await,
        409,
        "ipa-already-approved",
        None,
    );
    let ok: Vec<IpaApproved> = app.outbox_of().await;
    assert_eq!(ok.len(), 1);
    assert_eq!(
        (
            ok[0].version,
            ok[0].weekly_rate_pence,
            ok[0].extras_weekly_pence,
            ok[0].next_review_on
        ),
        (1, 214_900, 0, first_review)
    );
    assert!(
        app.outbox_of::<PlacementRateChanged>().await.is_empty(),
        "the first version kept the order's rate: nothing for finance"
    );
}

on_both!(
    approving_an_ipa,
    the_provider_signs_and_the_social_worker_approves_an_ipa_on_sqlite,
    the_provider_signs_and_the_social_worker_approves_an_ipa_on_postgres
);

/// The review is overdue: listed, and raised once, as overdue (never first as merely due).
async fn overdue_review(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let today = today();
    let ipa = v1_approved(&app).await;
    let (_, due) = contracts.reviews_due(&p.sefton_sw, "").await;
    let due = &due["items"];
    assert_eq!(due.as_array().unwrap().len(), 1, "{due}");
    assert_eq!(
        (due[0]["placement_id"].as_str(), due[0]["overdue"].as_bool()),
        (Some(ipa.id.as_str()), Some(true))
    );
    let (_, mine) = contracts.reviews_due(&p.provider, "overdue=true").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let (_, none) = contracts.reviews_due(&p.sefton_sw, "overdue=false").await;
    assert_eq!(none["items"], json!([]));
    let (_, none) = contracts.reviews_due(&p.wirral_sw, "").await;
    assert_eq!(none["items"], json!([]));
    let (a, b) = tokio::join!(sweep_once(&app.store, today), sweep_once(&app.store, today));
    assert_eq!(a.unwrap().reviews_due + b.unwrap().reviews_due, 1);
    assert_eq!(reviews_due(&app, today).await, 0);
    let raised: Vec<IpaReviewDue> = app.outbox_of().await;
    assert_eq!(
        raised
            .iter()
            .map(|r| (r.review_due_on, r.overdue))
            .collect::<Vec<_>>(),
        vec![(ipa.first_review(), true)]
    );
}

on_both!(
    overdue_review,
    an_overdue_ipa_review_is_listed_and_raised_once_on_sqlite,
    an_overdue_ipa_review_is_listed_and_raised_once_on_postgres
);

/// Recording the review sets the next date from the day it was held; the sweep gives
/// notice of it a fortnight before, and raises it once when it is overdue.
async fn recording_a_review(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let today = today();
    let ipa = v1_approved(&app).await;
    assert_eq!(reviews_due(&app, today).await, 1);
    let id = &ipa.id;
    let held = today - Days::new(1);
    for (user, body, status, slug, error) in [
        (
            &p.sefton_sw,
            json!({"reviewed_on": (today + Days::new(1)).to_string(), "outcome": "continue_as_agreed"}),
            422,
            "validation",
            Some(("/reviewed_on", "max")),
        ),
        (
            &p.sefton_sw,
            json!({"reviewed_on": held.to_string(), "outcome": "fine"}),
            422,
            "validation",
            Some(("/outcome", "one_of")),
        ),
        (
            &p.provider,
            json!({"reviewed_on": held.to_string(), "outcome": "update_ipa"}),
            403,
            "forbidden",
            None,
        ),
    ] {
        let got = contracts.record_review(user, id, &body).await;
        assert_problem(&got, status, slug, error);
    }
    let (s, reviewed) = contracts
        .record_review(
            &p.sefton_sw,
            id,
            &json!({"reviewed_on": held.to_string(), "outcome": "update_ipa",
                    "notes": "needs waking night staff after missing episodes"}),
        )
        .await;
    assert_eq!(s, 201, "{reviewed}");
    let next = held.checked_add_months(Months::new(3)).unwrap();
    assert_eq!(reviewed["next_review_on"], next.to_string());
    assert_eq!(reviewed["reviews"][0]["recorded_by"], "sam");
    assert_eq!(
        reviewed["reviews"][0]["was_due_on"],
        ipa.first_review().to_string()
    );
    assert_eq!(reviewed["review_overdue"], false);
    let (_, none) = contracts.reviews_due(&p.sefton_sw, "").await;
    assert_eq!(none["items"], json!([]));
    assert_eq!(reviews_due(&app, today).await, 0);
    let notice = next - Days::new(14);
    assert_eq!(reviews_due(&app, notice - Days::new(1)).await, 0);
    assert_eq!(reviews_due(&app, notice).await, 1);
    assert_eq!(reviews_due(&app, notice).await, 0);
    assert_eq!(reviews_due(&app, next).await, 0);
    assert_eq!(reviews_due(&app, next + Days::new(1)).await, 1);
    assert_eq!(reviews_due(&app, next + Days::new(2)).await, 0);
}

on_both!(
    recording_a_review,
    a_review_sets_the_next_from_the_day_it_was_held_on_sqlite,
    a_review_sets_the_next_from_the_day_it_was_held_on_postgres
);

/// Needs changed: version 2 raises the rate and adds an extra from a day in the middle;
/// finance is told, and the placement carries the new rate.
async fn a_second_version(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let Ipa { id, start } = reviewed(&app).await;
    let changed_from = changed_from();
    for (body, field, rule) in [
        (
            json!({"contact_arrangements": CONTACT, "weekly_rate_pence": 224_900}),
            "/effective_from",
            "required",
        ),
        (
            json!({"contact_arrangements": CONTACT, "effective_from": start.to_string()}),
            "/effective_from",
            "after_current",
        ),
    ] {
        let got = contracts.draft_ipa(&p.sefton_sw, &id, &body).await;
        assert_problem(&got, 422, "validation", Some((field, rule)));
    }
    let (s, v2) = contracts.draft_ipa(&p.sefton_sw, &id, &version_2()).await;
    assert_eq!(s, 201, "{v2}");
    assert_eq!(v2["versions"][1]["extras_weekly_pence"], 35_000);
    assert_eq!(contracts.sign_ipa(&p.provider, &id, 2).await.0, 200);
    let (s, v2) = contracts.approve_ipa(&p.sefton_sw, &id, 2).await;
    assert_eq!(s, 200, "{v2}");
    assert_eq!(
        (
            v2["in_force"].as_i64(),
            v2["versions"][0]["status"].as_str(),
            v2["versions"][1]["status"].as_str()
        ),
        (Some(2), Some("superseded"), Some("approved"))
    );
    let next = changed_from.checked_add_months(Months::new(2)).unwrap();
    assert_eq!(v2["next_review_on"], next.to_string());
    let changes: Vec<PlacementRateChanged> = app.outbox_of().await;
    assert_eq!(changes.len(), 1);
    assert_eq!(
        (
            changes[0].placement_id.to_string(),
            changes[0].weekly_rate_pence,
            changes[0].extras_weekly_pence,
            changes[0].effective_from,
            changes[0].ipa_version
        ),
        (id.clone(), 224_900, 35_000, changed_from, 2)
    );
    let (_, placement) = contracts.placement(&p.sefton, &id).await;
    assert_eq!(
        (
            placement["weekly_rate_pence"].as_i64(),
            placement["extras_weekly_pence"].as_i64(),
            placement["rate_effective_from"].as_str()
        ),
        (
            Some(224_900),
            Some(35_000),
            Some(changed_from.to_string().as_str())
        )
    );
}

on_both!(
    a_second_version,
    a_second_ipa_version_changes_the_rate_from_a_day_on_sqlite,
    a_second_ipa_version_changes_the_rate_from_a_day_on_postgres
);

/// A draft the provider will not sign is withdrawn; no contact arrangements or review notes
/// leave the service.
async fn withdrawing(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let Ipa { id, .. } = v2_approved(&app).await;
    let (s, _) = contracts.draft_ipa(&p.sefton, &id, &version_3()).await;
    assert_eq!(s, 201);
    assert_problem(
        &contracts.withdraw_ipa(&p.provider, &id, 3).await,
        403,
        "forbidden",
        None,
    );
    let (s, w) = contracts.withdraw_ipa(&p.sefton, &id, 3).await;
    assert_eq!(
        (s, w["versions"][2]["status"].as_str()),
        (200, Some("withdrawn"))
    );
    assert_problem(
        &contracts.withdraw_ipa(&p.sefton, &id, 3).await,
        409,
        "ipa-not-pending",
        None,
    );
    assert_problem(
        &contracts.sign_ipa(&p.provider, &id, 3).await,
        409,
        "ipa-withdrawn",
        None,
    );
    assert_eq!(app.outbox_of::<PlacementRateChanged>().await.len(), 1);

    for env in app.outbox().await {
        let text = env.payload.to_string();
        assert!(
            !text.contains("Saturday") && !text.contains("missing"),
            "{text}"
        );
    }
}

on_both!(
    withdrawing,
    an_unsigned_ipa_version_is_withdrawn_on_sqlite,
    an_unsigned_ipa_version_is_withdrawn_on_postgres
);

/// An ended placement takes no new version and no review, and none falls due.
async fn after_the_placement_ends(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let sw = people(&app).sefton_sw;
    let today = today();
    let Ipa { id, .. } = v3_withdrawn(&app).await;
    let (s, _) = contracts
        .end_placement(
            &sw,
            &id,
            &json!({"end_date": today.to_string(), "reason": "turned_18"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_problem(
        &contracts
            .draft_ipa(
                &sw,
                &id,
                &json!({"contact_arrangements": CONTACT, "effective_from": today.to_string()}),
            )
            .await,
        409,
        "placement-ended",
        None,
    );
    assert_problem(
        &contracts
            .record_review(
                &sw,
                &id,
                &json!({"reviewed_on": today.to_string(), "outcome": "continue_as_agreed"}),
            )
            .await,
        409,
        "placement-ended",
        None,
    );
    let next = changed_from().checked_add_months(Months::new(2)).unwrap();
    assert_eq!(reviews_due(&app, next + Days::new(30)).await, 0);
}

on_both!(
    after_the_placement_ends,
    an_ended_placement_takes_no_ipa_version_or_review_on_sqlite,
    an_ended_placement_takes_no_ipa_version_or_review_on_postgres
);

/// A block bed's IPA keeps the block rate; extras are agreed on top.
async fn a_block_beds_ipa(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let p = people(&app);
    let start = today() - Days::new(100);
    let (s, block) = contracts
        .let_block(
            &p.sefton,
            &json!({"partnership": "AIM", "provider_id": PROVIDER, "beds": 1,
                    "block_weekly_rate_pence": 198_800, "spot_weekly_rate_pence": 214_900,
                    "start_date": start.to_string(), "term_years": 3}),
        )
        .await;
    assert_eq!(s, 201, "{block}");
    let (s, bed) = contracts
        .place(
            &p.sefton,
            &json!({"block_contract_id": block["id"], "bed": 1,
                    "referral_id": referral_in(&app, SEFTON, "AIM").await,
                    "start_date": start.to_string()}),
        )
        .await;
    assert_eq!(s, 201, "{bed}");
    let bed_id = id_of(&bed);
    assert_problem(
        &contracts
            .draft_ipa(
                &p.sefton_sw,
                &bed_id,
                &json!({"contact_arrangements": CONTACT, "weekly_rate_pence": 214_900}),
            )
            .await,
        422,
        "validation",
        Some(("/weekly_rate_pence", "block_rate")),
    );
    let (s, v) = contracts
        .draft_ipa(
            &p.sefton_sw,
            &bed_id,
            &json!({"contact_arrangements": CONTACT, "extras": [{"service": "1:1 education support", "weekly_pence": 20_000}]}),
        )
        .await;
    assert_eq!(
        (s, v["versions"][0]["weekly_rate_pence"].as_i64()),
        (201, Some(198_800))
    );
}

on_both!(
    a_block_beds_ipa,
    a_block_beds_ipa_keeps_the_block_rate_on_sqlite,
    a_block_beds_ipa_keeps_the_block_rate_on_postgres
);

const SHEFFIELD: (f64, f64) = (53.381, -1.470); // about 33 miles from Nottingham
const DERBY: (f64, f64) = (52.922, -1.477); // about 14 miles

/// A placement of a Nottingham `child` from `start` under a signed D2N2 order, the home at
/// `home` if known; its id.
async fn place_in_d2n2(
    app: &TestApp,
    child: Uuid,
    start: NaiveDate,
    home: Option<(f64, f64)>,
) -> String {
    let contracts = app.contracts();
    let mut a = award(NOTTINGHAM, false, start);
    a.referral_id = child;
    let order = issue_in(app, "D2N2", &a).await;
    let id = order["id"].as_str().unwrap();
    let (s, _) = contracts
        .sign(&app.user(PROVIDER, Role::Provider), id)
        .await;
    assert_eq!(s, 200);
    let mut body = json!({"order_id": id});
    if let Some((lat, lon)) = home {
        body["home_latitude"] = json!(lat);
        body["home_longitude"] = json!(lon);
    }
    let nottingham = app.user(NOTTINGHAM, Role::Commissioner);
    let (s, p) = contracts.place(&nottingham, &body).await;
    assert_eq!(s, 201, "{p}");
    id_of(&p)
}

/// Three Nottingham children in 2026: A placed near Sheffield from 10 April, broken down on
/// 30 June, then near Derby from 1 July; B near Sheffield from 1 May; C from 2 August, the
/// home's position unknown.
async fn three_children(app: &TestApp) {
    let d = |m: u32, day: u32| common::d(2026, m, day);
    let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let first = place_in_d2n2(app, a, d(4, 10), Some(SHEFFIELD)).await;
    let (s, _) = app
        .contracts()
        .end_placement(
            &app.user(NOTTINGHAM, Role::Commissioner),
            &first,
            &json!({"end_date": "2026-06-30", "reason": "breakdown"}),
        )
        .await;
    assert_eq!(s, 200);
    place_in_d2n2(app, a, d(7, 1), Some(DERBY)).await;
    place_in_d2n2(app, b, d(5, 1), Some(SHEFFIELD)).await;
    place_in_d2n2(app, c, d(8, 2), None).await;
}

async fn stability(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let nottingham = app.user(NOTTINGHAM, Role::Commissioner);
    three_children(&app).await;

    let (s, f) = contracts.stability(&nottingham, "").await;
    assert_eq!(s, 200, "{f}");
    assert_eq!(
        (
            f["council"].as_str(),
            f["children"].as_i64(),
            f["placements"].as_i64()
        ),
        (Some(NOTTINGHAM), Some(3), Some(4))
    );
    assert_eq!(f["placements_per_child"], 1.33);
    assert_eq!(
        f["children_by_placements"],
        json!({"one": 2, "two": 1, "three_or_more": 0})
    );
    assert_eq!(
        (
            f["breakdowns"].as_i64(),
            f["children_with_a_breakdown"].as_i64()
        ),
        (Some(1), Some(1))
    );
    let local = &f["local"][0];
    assert_eq!(local["partnership"], "D2N2");
    assert_eq!(local["local_area"]["radius_miles"], 20.0);
    assert_eq!(
        (
            local["children"].as_i64(),
            local["children_with_home_position"].as_i64(),
            local["children_placed_locally"].as_i64()
        ),
        (Some(3), Some(2), Some(1))
    );
    assert_eq!(local["local_share_percent"], 50.0);
    // From July: A's first placement and its breakdown fall outside.
    let (_, july) = contracts.stability(&nottingham, "from=2026-07-01").await;
    assert_eq!(
        (july["placements"].as_i64(), july["breakdowns"].as_i64()),
        (Some(3), Some(0))
    );
}

on_both!(
    stability,
    stability_figures_per_council_on_sqlite,
    stability_figures_per_council_on_postgres
);

/// Only the council's own staff see its figures; a partner council's is 404, a provider
/// 403; another council's figures are its own.
async fn whose_stability(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let nottingham = app.user(NOTTINGHAM, Role::Commissioner);
    three_children(&app).await;
    let finance = app.user(NOTTINGHAM, Role::Finance);
    assert_eq!(contracts.stability(&finance, "").await.0, 200);
    assert_problem(
        &contracts
            .stability(
                &app.user(DERBY_CITY, Role::Commissioner),
                &format!("council={NOTTINGHAM}"),
            )
            .await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &contracts
            .stability(&app.user(PROVIDER, Role::Provider), "")
            .await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &contracts
            .stability(&nottingham, "from=2026-07-01&to=2026-06-01")
            .await,
        422,
        "validation",
        None,
    );
    // Sefton has none.
    let (_, sefton) = contracts
        .stability(&app.user(SEFTON, Role::SocialWorker), "")
        .await;
    assert_eq!(
        (sefton["children"].as_i64(), sefton["local"].clone()),
        (Some(0), json!([]))
    );
}

on_both!(
    whose_stability,
    stability_figures_are_the_councils_own_on_sqlite,
    stability_figures_are_the_councils_own_on_postgres
);

/// Operation ids come from the handlers' names: each must be unique in the service's
/// OpenAPI document (and the embedded platform merges every service's).
#[test]
fn every_operation_has_its_own_id() {
    use utoipa::OpenApi;
    let doc = serde_json::to_value(contract::api::ContractApi::openapi()).unwrap();
    let mut ids: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str().map(str::to_owned))
        .collect();
    let n = ids.len();
    assert!(n >= 19, "{ids:?}");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate operation ids");
    for path in [
        "/v1/orders/{id}/timescale",
        "/v1/placements/{id}/ipa/versions/{version}/approve",
        "/v1/ipa-reviews",
        "/v1/placement-stability",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path}");
    }
}

/// Money cannot overflow: a block contract's weekly rates, an IPA's rate and each extra are
/// at most £100,000.00 a week, and so are the extras together (summed without wrapping:
/// two extras of i64::MAX used to wrap to a negative total); out of range is 422 naming the
/// field, with nothing written and nothing told to finance.
async fn weekly_money_bounds(url: &str) {
    let app = start(url).await;
    let contracts = app.contracts();
    let sefton = app.user(SEFTON, Role::Commissioner);
    let sw = app.user(SEFTON, Role::SocialWorker);
    let max = hub_platform::Pence::MAX_WEEKLY.0;
    for (field, rate) in [
        ("/block_weekly_rate_pence", i64::MAX),
        ("/spot_weekly_rate_pence", max + 1),
    ] {
        let mut block = json!({"partnership": "AIM", "provider_id": PROVIDER, "beds": 2,
                    "block_weekly_rate_pence": 198_800, "spot_weekly_rate_pence": 214_900,
                    "start_date": today().to_string(), "term_years": 3});
        block[&field[1..]] = json!(rate);
        assert_problem(
            &contracts.let_block(&sefton, &block).await,
            422,
            "validation",
            Some((field, "range")),
        );
    }
    let (_, blocks) = contracts.blocks(&sefton, "").await;
    assert_eq!(
        blocks["items"].as_array().map(Vec::len),
        Some(0),
        "{blocks}"
    );

    let id = placed(&app, today() - Days::new(10)).await;
    let extra = |weekly: i64| json!({"service": "waking night staff", "weekly_pence": weekly});
    for (body, field) in [
        (
            json!({"contact_arrangements": CONTACT, "weekly_rate_pence": i64::MAX}),
            "/weekly_rate_pence",
        ),
        (
            json!({"contact_arrangements": CONTACT, "extras": [extra(i64::MAX), extra(i64::MAX)]}),
            "/extras/0/weekly_pence",
        ),
        (
            json!({"contact_arrangements": CONTACT, "extras": [extra(max), extra(1)]}),
            "/extras",
        ),
    ] {
        assert_problem(
            &contracts.draft_ipa(&sw, &id, &body).await,
            422,
            "validation",
            Some((field, "range")),
        );
    }
    let (s, v) = contracts
        .draft_ipa(
            &sw,
            &id,
            &json!({"contact_arrangements": CONTACT, "weekly_rate_pence": max,
                    "extras": [extra(max - 1), extra(1)]}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["versions"].as_array().map(Vec::len), Some(1), "{v}");
    assert!(app.outbox_of::<PlacementRateChanged>().await.is_empty());
}

on_both!(
    weekly_money_bounds,
    weekly_money_bounds_on_sqlite,
    weekly_money_bounds_on_postgres
);
