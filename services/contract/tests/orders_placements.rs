//! Orders, placements and Individual Placement Agreements through the contract service's
//! HTTP API, with awards coming in on the in-process bus and the clock driven by calling
//! the sweep with chosen days. Every refusal is checked with its exact status and problem
//! type. Runs on SQLite and on PostgreSQL (a database per run, created and dropped).

use chrono::{Days, NaiveDate, Utc};
use contract::{
    domain::{emergency_due_by, order_due_by},
    handlers::sweep::sweep_once,
};
use hub_events::{
    AgeBand, CompetitionAwarded, CompetitionClosed, CompetitionOpened, Envelope, IpaApproved,
    IpaReviewDue, OrderDeclined, OrderOverdue, OrderSigned, PlacementEnded, PlacementRateChanged,
    PlacementStarted, ReferralClosed, ReferralSubmitted, ReferralWithdrawn, Urgency,
};
use hub_platform::directory::{DERBY as DERBY_CITY, HALTON, NOTTINGHAM, SEFTON, WIRRAL};
use hub_platform::{Role, Settings, db::Migrations};
use hub_testkit::{ServiceCtx, assert_problem, call, on_both};
use serde_json::{Value, json};
use uuid::Uuid;

static SETS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &contract::MIGRATIONS];

const PROVIDER: &str = "prov-care-assist";
const OTHER_PROVIDER: &str = "prov-other";

/// The service with its clock off (no sweep at start either): the tests sweep with the days
/// they choose.
async fn start(url: &str) -> ServiceCtx {
    let settings = Settings::load_with(&[("contract.sweep_interval_secs", "0")]).unwrap();
    ServiceCtx::builder(contract::NAME)
        .settings(settings)
        .start(url, &SETS, contract::start)
        .await
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn award(council: &str, direct: bool, start_date: NaiveDate) -> CompetitionAwarded {
    CompetitionAwarded {
        competition_id: Uuid::now_v7(),
        referral_id: Uuid::now_v7(),
        council: council.into(),
        framework_id: Uuid::now_v7(),
        lot_id: Uuid::now_v7(),
        provider_id: PROVIDER.into(),
        bid_id: (!direct).then(Uuid::now_v7),
        weekly_rate_pence: 214_900,
        start_date,
        unsuccessful: Vec::new(),
        awarded_by: "jo".into(),
        direct,
        outcomes: Vec::new(),
    }
}

/// A referral of `council` as the referral service announces it when submitted.
fn submitted(council: &str) -> ReferralSubmitted {
    ReferralSubmitted {
        referral_id: Uuid::now_v7(),
        version: 1,
        council: council.into(),
        framework_id: Uuid::now_v7(),
        lot_id: Uuid::now_v7(),
        route: "spot_purchase".into(),
        placement_type: "residential".into(),
        urgency: Urgency::Planned,
        age_band: AgeBand::ElevenToFifteen,
        age_years: 14,
        gender: "male".into(),
        needs: vec!["emotional_behavioural".into()],
        educational_needs: Vec::new(),
        ehcp: false,
        wanted_start: today(),
        area_district: "L20".into(),
        area_latitude: 53.46,
        area_longitude: -2.99,
        max_distance_miles: 20.0,
        submitted_by: "cathy".into(),
    }
}

/// Announces a submitted referral of `council` in `partnership`, as the referral service
/// would; returns its id.
async fn referral_in(ctx: &ServiceCtx, council: &str, partnership: &str) -> Uuid {
    let r = submitted(council);
    ctx.publish_envelope(&Envelope::new("referral", partnership, &r))
        .await;
    r.referral_id
}

/// Publishes an award in LCR-PPA and returns the order it issued.
async fn issue(ctx: &ServiceCtx, a: &CompetitionAwarded) -> Value {
    issue_in(ctx, "LCR-PPA", a).await
}

/// Publishes an award in `partnership` and returns the order it issued.
async fn issue_in(ctx: &ServiceCtx, partnership: &str, a: &CompetitionAwarded) -> Value {
    ctx.publish_envelope(&Envelope::new("competition", partnership, a))
        .await;
    let app = ctx.app().await;
    let (s, list) = call(
        &app,
        "GET",
        &format!("/v1/orders?competition_id={}", a.competition_id),
        &ctx.token(&a.council, Role::Commissioner),
        None,
    )
    .await;
    assert_eq!(s, 200, "{list}");
    list[0].clone()
}

async fn orders(url: &str) {
    let ctx = start(url).await;
    let app = ctx.app().await;
    let sefton = ctx.token_as("cathy", SEFTON, Role::Commissioner);
    let sefton_sw = ctx.token(SEFTON, Role::SocialWorker);
    let wirral = ctx.token(WIRRAL, Role::Commissioner);
    let provider = ctx.token_as("pat", PROVIDER, Role::Provider);
    let other = ctx.token(OTHER_PROVIDER, Role::Provider);
    let today = today();
    let sign_within = ctx.settings.contract.sign_within_working_days;
    assert_eq!(sign_within, 5);

    // A normal order is due back in five working days; an emergency one (a direct award for
    // a child who moved in three days ago) provisionally five working days after the later
    // of issue and start, until the parties agree a timescale.
    let normal = issue(&ctx, &award(SEFTON, false, today + Days::new(14))).await;
    assert_eq!(normal["status"], "issued");
    assert_eq!(normal["emergency"], false);
    assert_eq!(normal["due_by"], order_due_by(today, 5).to_string());
    assert_eq!(normal["council"], SEFTON);
    assert!(normal["lot_id"].is_string());
    let started = today - Days::new(3);
    let emergency = issue(&ctx, &award(SEFTON, true, started)).await;
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
    let n = |o: &Value| o["id"].as_str().unwrap().to_owned();
    let (normal_id, emergency_id) = (n(&normal), n(&emergency));

    // The agreed timescale: a commissioner of the order's council, emergency orders only.
    let timescale = |id: &str| format!("/v1/orders/{id}/timescale");
    let agreed =
        json!({"due_by": (today - Days::new(1)).to_string(), "agreed_with": "registered manager"});
    for (token, status, slug) in [
        (&provider, 403, "forbidden"),
        (&sefton_sw, 403, "forbidden"),
        (&wirral, 404, "not-found"),
        (&other, 404, "not-found"),
    ] {
        assert_problem(
            &call(
                &app,
                "PUT",
                &timescale(&emergency_id),
                token,
                Some(agreed.clone()),
            )
            .await,
            status,
            slug,
            None,
        );
    }
    assert_problem(
        &call(
            &app,
            "PUT",
            &timescale(&normal_id),
            &sefton,
            Some(agreed.clone()),
        )
        .await,
        409,
        "not-an-emergency-order",
        None,
    );
    assert_problem(
        &call(
            &app,
            "PUT",
            &timescale(&emergency_id),
            &sefton,
            Some(json!({"due_by": today.to_string(), "agreed_with": "  "})),
        )
        .await,
        422,
        "validation",
        Some(("/agreed_with", "required")),
    );
    assert_problem(
        &call(
            &app,
            "PUT",
            &timescale(&emergency_id),
            &sefton,
            Some(json!({"due_by": (today + Days::new(91)).to_string(), "agreed_with": "manager"})),
        )
        .await,
        422,
        "validation",
        Some(("/due_by", "max")),
    );
    // Agreed by phone to sign by yesterday, recorded today: the order is overdue at once.
    let (s, o) = call(
        &app,
        "PUT",
        &timescale(&emergency_id),
        &sefton,
        Some(agreed),
    )
    .await;
    assert_eq!(s, 200, "{o}");
    assert_eq!(o["due_by"], (today - Days::new(1)).to_string());
    assert_eq!(o["timescale"]["agreed_with"], "registered manager");
    assert_eq!(o["timescale"]["recorded_by"], "cathy");
    assert_eq!(o["overdue"], true);

    // Overdue orders, as the council and the provider see them.
    for token in [&sefton, &provider] {
        let (s, list) = call(&app, "GET", "/v1/orders?overdue=true", token, None).await;
        assert_eq!(s, 200);
        let ids: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec![emergency_id.as_str()]);
    }
    let (_, none) = call(&app, "GET", "/v1/orders?overdue=true", &wirral, None).await;
    assert_eq!(none, json!([]));
    assert_problem(
        &call(&app, "GET", "/v1/orders?status=lost", &sefton, None).await,
        422,
        "validation",
        None,
    );

    // The sweep raises each overdue order once.
    let swept = sweep_once(&ctx.store, today).await.unwrap();
    assert_eq!(swept.orders_overdue, 1);
    assert_eq!(
        sweep_once(&ctx.store, today).await.unwrap().orders_overdue,
        0
    );
    let overdue: Vec<OrderOverdue> = ctx.outbox_of().await;
    assert_eq!(overdue.len(), 1);
    assert_eq!(
        (overdue[0].order_id.to_string(), overdue[0].due_by),
        (emergency_id.clone(), today - Days::new(1))
    );
    // A fortnight on, the normal order is overdue too; two replicas sweeping at once raise it once.
    let later = today + Days::new(14);
    let (a, b) = tokio::join!(sweep_once(&ctx.store, later), sweep_once(&ctx.store, later));
    assert_eq!(a.unwrap().orders_overdue + b.unwrap().orders_overdue, 1);
    assert_eq!(ctx.outbox_of::<OrderOverdue>().await.len(), 2);

    // Signing: a user of the provider; after the agreed day it is recorded late.
    let sign = |id: &str| format!("/v1/orders/{id}/sign");
    assert_problem(
        &call(&app, "POST", &sign(&emergency_id), &other, None).await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &call(&app, "POST", &sign(&emergency_id), &sefton, None).await,
        403,
        "forbidden",
        None,
    );
    let (s, signed) = call(&app, "POST", &sign(&emergency_id), &provider, None).await;
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
    let s: Vec<OrderSigned> = ctx.outbox_of().await;
    assert!(s[0].late);
    assert_problem(
        &call(&app, "POST", &sign(&emergency_id), &provider, None).await,
        409,
        "order-not-issued",
        None,
    );
    assert_problem(
        &call(
            &app,
            "PUT",
            &timescale(&emergency_id),
            &sefton,
            Some(json!({"due_by": today.to_string(), "agreed_with": "manager"})),
        )
        .await,
        409,
        "order-not-issued",
        None,
    );

    // Declining: a user of the provider, with a reason; the provider's words stay here.
    let decline = |id: &str| format!("/v1/orders/{id}/decline");
    assert_problem(
        &call(
            &app,
            "POST",
            &decline(&normal_id),
            &provider,
            Some(json!({"reason": "other"})),
        )
        .await,
        422,
        "validation",
        Some(("/detail", "required")),
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &decline(&normal_id),
            &provider,
            Some(json!({"reason": "busy"})),
        )
        .await,
        422,
        "validation",
        Some(("/reason", "one_of")),
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &decline(&normal_id),
            &other,
            Some(json!({"reason": "no_vacancy"})),
        )
        .await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &decline(&normal_id),
            &sefton,
            Some(json!({"reason": "no_vacancy"})),
        )
        .await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &decline(&emergency_id),
            &provider,
            Some(json!({"reason": "no_vacancy"})),
        )
        .await,
        409,
        "order-not-issued",
        None,
    );
    let words = "the last bed went to another child yesterday";
    let (s, declined) = call(
        &app,
        "POST",
        &decline(&normal_id),
        &provider,
        Some(json!({"reason": "no_vacancy", "detail": words})),
    )
    .await;
    assert_eq!(s, 200, "{declined}");
    assert_eq!(declined["status"], "declined");
    assert_eq!(declined["declined"]["reason"], "no_vacancy");
    assert_eq!(declined["declined"]["detail"], words);
    assert_eq!(declined["declined"]["declined_by"], "pat");
    let d: Vec<OrderDeclined> = ctx.outbox_of().await;
    assert_eq!(
        (d[0].order_id.to_string(), d[0].reason.as_str()),
        (normal_id.clone(), "no_vacancy")
    );
    let raw = ctx.outbox().await;
    assert!(
        raw.iter().all(|e| !e.payload.to_string().contains(words)),
        "the provider's words stay in the service"
    );
    assert_problem(
        &call(&app, "POST", &sign(&normal_id), &provider, None).await,
        409,
        "order-not-issued",
        None,
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &decline(&normal_id),
            &provider,
            Some(json!({"reason": "no_vacancy"})),
        )
        .await,
        409,
        "order-not-issued",
        None,
    );
    // A declined order is no longer overdue.
    let (_, list) = call(&app, "GET", "/v1/orders?overdue=true", &sefton, None).await;
    assert_eq!(list, json!([]));

    // Variations of a signed order: the commissioner records what, why, from when; the
    // order itself stays as signed.
    let variations = |id: &str| format!("/v1/orders/{id}/variations");
    let change = json!({"what": "weekly rate £2,149.00 → £2,249.00 (waking night staff)",
                        "why": "needs assessed at the 28-day review", "effective_from": "2027-01-15"});
    assert_problem(
        &call(
            &app,
            "POST",
            &variations(&normal_id),
            &sefton,
            Some(change.clone()),
        )
        .await,
        409,
        "order-not-signed",
        None,
    );
    for (token, status, slug) in [
        (&provider, 403, "forbidden"),
        (&sefton_sw, 403, "forbidden"),
        (&wirral, 404, "not-found"),
    ] {
        assert_problem(
            &call(
                &app,
                "POST",
                &variations(&emergency_id),
                token,
                Some(change.clone()),
            )
            .await,
            status,
            slug,
            None,
        );
    }
    assert_problem(
        &call(
            &app,
            "POST",
            &variations(&emergency_id),
            &sefton,
            Some(json!({"what": "x", "why": "", "effective_from": "2027-01-15"})),
        )
        .await,
        422,
        "validation",
        Some(("/why", "required")),
    );
    let (s, v1) = call(
        &app,
        "POST",
        &variations(&emergency_id),
        &sefton,
        Some(change),
    )
    .await;
    assert_eq!(s, 201, "{v1}");
    assert_eq!(
        (v1["seq"].as_i64(), v1["recorded_by"].as_str()),
        (Some(1), Some("cathy"))
    );
    let (s, v2) = call(
        &app,
        "POST",
        &variations(&emergency_id),
        &sefton,
        Some(
            json!({"what": "start date recorded as the night of arrival", "why": "emergency move",
                    "effective_from": started.to_string()}),
        ),
    )
    .await;
    assert_eq!((s, v2["seq"].as_i64()), (201, Some(2)));
    let (s, list) = call(&app, "GET", &variations(&emergency_id), &provider, None).await;
    assert_eq!(s, 200);
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["effective_from"], "2027-01-15");
    assert_eq!(
        call(&app, "GET", &variations(&emergency_id), &other, None)
            .await
            .0,
        404
    );
    let (_, after) = call(
        &app,
        "GET",
        &format!("/v1/orders/{emergency_id}"),
        &sefton,
        None,
    )
    .await;
    assert_eq!(
        (
            after["weekly_rate_pence"].as_i64(),
            after["status"].as_str()
        ),
        (Some(214_900), Some("signed"))
    );
}

on_both!(
    orders,
    orders_are_signed_declined_timed_and_varied_on_sqlite,
    orders_are_signed_declined_timed_and_varied_on_postgres
);

async fn placements(url: &str) {
    let ctx = start(url).await;
    let app = ctx.app().await;
    let sefton = ctx.token_as("cathy", SEFTON, Role::Commissioner);
    let sefton_sw = ctx.token_as("sam", SEFTON, Role::SocialWorker);
    let sefton_fin = ctx.token(SEFTON, Role::Finance);
    let wirral = ctx.token(WIRRAL, Role::Commissioner);
    let halton = ctx.token(HALTON, Role::Commissioner);
    let provider = ctx.token_as("pat", PROVIDER, Role::Provider);
    let other = ctx.token(OTHER_PROVIDER, Role::Provider);
    let today = today();

    // An emergency order is placed before it is signed; a normal one is not.
    let started = today - Days::new(2);
    let emergency = issue(&ctx, &award(SEFTON, true, started)).await;
    let normal = issue(&ctx, &award(SEFTON, false, today + Days::new(7))).await;
    let place = |body: Value| call(&app, "POST", "/v1/placements", &sefton, Some(body));
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
    for (token, status, slug) in [
        (&sefton_sw, 403, "forbidden"),
        (&provider, 403, "forbidden"),
        (&wirral, 404, "not-found"),
        (&other, 404, "not-found"),
    ] {
        assert_problem(
            &call(
                &app,
                "POST",
                "/v1/placements",
                token,
                Some(json!({"order_id": emergency["id"]})),
            )
            .await,
            status,
            slug,
            None,
        );
    }
    let home = Uuid::now_v7();
    let (s, p) = place(json!({"order_id": emergency["id"], "home_id": home,
                              "home_latitude": 53.48, "home_longitude": -3.02}))
    .await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(
        (
            p["status"].as_str(),
            p["start_date"].as_str(),
            p["order_id"].as_str()
        ),
        (
            Some("active"),
            Some(started.to_string().as_str()),
            emergency["id"].as_str()
        )
    );
    assert_eq!(p["home_id"], home.to_string());
    assert_eq!(
        (
            p["weekly_rate_pence"].as_i64(),
            p["extras_weekly_pence"].as_i64()
        ),
        (Some(214_900), Some(0))
    );
    let placement_id = p["id"].as_str().unwrap().to_owned();
    assert_problem(
        &place(json!({"order_id": emergency["id"]})).await,
        409,
        "already-placed",
        None,
    );
    let events: Vec<PlacementStarted> = ctx.outbox_of().await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        (
            events[0].order_id.map(|o| o.to_string()),
            events[0].start_date
        ),
        (emergency["id"].as_str().map(str::to_owned), started)
    );
    assert!(events[0].block_contract_id.is_none() && events[0].bed.is_none());
    // The order is still awaiting its signature; the provider cannot decline it now.
    let (_, o) = call(
        &app,
        "GET",
        &format!("/v1/orders/{}", emergency["id"].as_str().unwrap()),
        &sefton,
        None,
    )
    .await;
    assert_eq!(o["status"], "issued");
    assert_problem(
        &call(
            &app,
            "POST",
            &format!("/v1/orders/{}/decline", emergency["id"].as_str().unwrap()),
            &provider,
            Some(json!({"reason": "cannot_meet_needs"})),
        )
        .await,
        409,
        "placement-active",
        None,
    );

    // Who sees the placement, and the lists.
    let path = format!("/v1/placements/{placement_id}");
    for (token, status) in [
        (&sefton_fin, 200),
        (&provider, 200),
        (&wirral, 404),
        (&other, 404),
    ] {
        assert_eq!(call(&app, "GET", &path, token, None).await.0, status);
    }
    let (_, mine) = call(&app, "GET", "/v1/placements?status=active", &provider, None).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let (_, none) = call(&app, "GET", "/v1/placements", &wirral, None).await;
    assert_eq!(none, json!([]));
    assert_problem(
        &call(&app, "GET", "/v1/placements?status=gone", &sefton, None).await,
        422,
        "validation",
        None,
    );

    // Ending: a commissioner or social worker of the council, once, not before it began.
    let end = format!("{path}/end");
    let body = json!({"end_date": (today + Days::new(30)).to_string(), "reason": "breakdown",
                      "note": "allegation against a staff member; moved the same night"});
    for (token, status, slug) in [
        (&sefton_fin, 403, "forbidden"),
        (&provider, 403, "forbidden"),
        (&wirral, 404, "not-found"),
        (&other, 404, "not-found"),
    ] {
        assert_problem(
            &call(&app, "POST", &end, token, Some(body.clone())).await,
            status,
            slug,
            None,
        );
    }
    assert_problem(
        &call(
            &app,
            "POST",
            &end,
            &sefton_sw,
            Some(json!({"end_date": (started - Days::new(1)).to_string(), "reason": "breakdown"})),
        )
        .await,
        422,
        "validation",
        Some(("/end_date", "min")),
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &end,
            &sefton_sw,
            Some(json!({"end_date": today.to_string(), "reason": "fell_out"})),
        )
        .await,
        422,
        "validation",
        Some(("/reason", "one_of")),
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &end,
            &sefton_sw,
            Some(json!({"end_date": today.to_string(), "reason": "other"})),
        )
        .await,
        422,
        "validation",
        Some(("/note", "required")),
    );
    let (s, ended) = call(&app, "POST", &end, &sefton_sw, Some(body.clone())).await;
    assert_eq!(s, 200, "{ended}");
    assert_eq!(ended["status"], "ended");
    assert_eq!(ended["ended"]["reason"], "breakdown");
    assert_eq!(ended["ended"]["ended_by"], "sam");
    assert_eq!(
        ended["ended"]["end_date"],
        (today + Days::new(30)).to_string()
    );
    assert_problem(
        &call(&app, "POST", &end, &sefton, Some(body)).await,
        409,
        "placement-ended",
        None,
    );
    let e: Vec<PlacementEnded> = ctx.outbox_of().await;
    assert_eq!(e.len(), 1);
    assert_eq!(
        (
            e[0].placement_id.to_string(),
            e[0].reason.as_str(),
            e[0].end_date
        ),
        (placement_id.clone(), "breakdown", today + Days::new(30))
    );
    assert!(
        ctx.outbox()
            .await
            .iter()
            .all(|env| !env.payload.to_string().contains("allegation")),
        "the note stays in the service"
    );
    // The order stays in force: the provider still signs it (late or not, it is recorded).
    let (s, o) = call(
        &app,
        "POST",
        &format!("/v1/orders/{}/sign", emergency["id"].as_str().unwrap()),
        &provider,
        None,
    )
    .await;
    assert_eq!((s, o["status"].as_str()), (200, Some("signed")));

    // A block bed: Sefton lets a block contract for AIM and places a child in bed 1 at the
    // block rate; ending the placement empties the bed.
    let (s, block) = call(
        &app,
        "POST",
        "/v1/contracts/blocks",
        &sefton,
        Some(json!({"partnership": "AIM", "provider_id": PROVIDER, "description": "male adolescents",
                    "beds": 2, "block_weekly_rate_pence": 198_800, "spot_weekly_rate_pence": 214_900,
                    "start_date": today.to_string(), "term_years": 3, "extension_options": 2})),
    )
    .await;
    assert_eq!(s, 201, "{block}");
    let block_id = block["id"].as_str().unwrap().to_owned();
    let referral = referral_in(&ctx, SEFTON, "AIM").await;
    let bed = |bed: u16| {
        json!({"block_contract_id": block_id, "bed": bed, "referral_id": referral,
                                "start_date": today.to_string(), "home_latitude": 53.48, "home_longitude": -3.02})
    };
    assert_problem(
        &place(json!({"block_contract_id": block_id, "bed": 1})).await,
        422,
        "validation",
        Some(("/referral_id", "required")),
    );
    // Wirral, a partner in AIM, may use the bed only once it is offered; Halton, outside
    // AIM, does not see the contract at all.
    assert_problem(
        &call(&app, "POST", "/v1/placements", &wirral, Some(bed(1))).await,
        409,
        "bed-not-offered",
        None,
    );
    assert_problem(
        &call(&app, "POST", "/v1/placements", &halton, Some(bed(1))).await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &place(
            json!({"block_contract_id": Uuid::now_v7(), "bed": 1, "referral_id": referral,
                      "start_date": today.to_string()}),
        )
        .await,
        404,
        "not-found",
        None,
    );
    let (s, in_bed) = place(bed(1)).await;
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
    assert_problem(&place(bed(1)).await, 409, "bed-occupied", None);
    let started: Vec<PlacementStarted> = ctx.outbox_of().await;
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
    let (s, out) = call(
        &app,
        "POST",
        &format!("/v1/placements/{}/end", in_bed["id"].as_str().unwrap()),
        &sefton,
        Some(json!({"end_date": (today + Days::new(10)).to_string(), "reason": "step_down"})),
    )
    .await;
    assert_eq!(s, 200, "{out}");
    let e: Vec<PlacementEnded> = ctx.outbox_of().await;
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
    next["referral_id"] = json!(referral_in(&ctx, SEFTON, "AIM").await);
    assert_eq!(place(next).await.0, 201);
}

on_both!(
    placements,
    placements_start_and_end_on_sqlite,
    placements_start_and_end_on_postgres
);

/// A block-bed placement needs a real referral of the placing council, in the contract's
/// partnership, that can be placed; the service knows referrals from the referral and
/// competition services' events, whatever order they arrive in.
async fn block_beds_need_a_real_referral(url: &str) {
    let ctx = start(url).await;
    let app = ctx.app().await;
    let sefton = ctx.token_as("cathy", SEFTON, Role::Commissioner);
    let today = today();
    let (s, block) = call(
        &app,
        "POST",
        "/v1/contracts/blocks",
        &sefton,
        Some(
            json!({"partnership": "AIM", "provider_id": PROVIDER, "beds": 3,
                    "block_weekly_rate_pence": 198_800, "spot_weekly_rate_pence": 214_900,
                    "start_date": today.to_string(), "term_years": 3}),
        ),
    )
    .await;
    assert_eq!(s, 201, "{block}");
    let place = |referral: Uuid, bed: u16| {
        let body = json!({"block_contract_id": block["id"], "bed": bed, "referral_id": referral,
                          "start_date": today.to_string()});
        let (app, sefton) = (&app, &sefton);
        async move { call(app, "POST", "/v1/placements", sefton, Some(body)).await }
    };

    // A made-up id, and another council's referral: not visible, 404.
    assert_problem(&place(Uuid::now_v7(), 1).await, 404, "not-found", None);
    let wirrals = referral_in(&ctx, WIRRAL, "AIM").await;
    assert_problem(&place(wirrals, 1).await, 404, "not-found", None);
    // Sefton's child referred in the LCR PPA cannot take an AIM block bed.
    let lcr = referral_in(&ctx, SEFTON, "LCR-PPA").await;
    assert_problem(
        &place(lcr, 1).await,
        422,
        "validation",
        Some(("/referral_id", "partnership")),
    );
    // Withdrawn: the withdrawal may even arrive before the submission; it holds.
    let withdrawn = submitted(SEFTON);
    ctx.publish_envelope(&Envelope::new(
        "referral",
        "AIM",
        &ReferralWithdrawn {
            referral_id: withdrawn.referral_id,
            council: SEFTON.into(),
            reason: "plan_changed".into(),
        },
    ))
    .await;
    ctx.publish_envelope(&Envelope::new("referral", "AIM", &withdrawn))
        .await;
    assert_problem(
        &place(withdrawn.referral_id, 1).await,
        422,
        "validation",
        Some(("/referral_id", "placeable")),
    );
    // Closed by the council (its placement over): nothing more is placed under it.
    let closed_referral = referral_in(&ctx, SEFTON, "AIM").await;
    ctx.publish_envelope(&Envelope::new(
        "referral",
        "AIM",
        &ReferralClosed {
            referral_id: closed_referral,
            council: SEFTON.into(),
        },
    ))
    .await;
    assert_problem(
        &place(closed_referral, 1).await,
        422,
        "validation",
        Some(("/referral_id", "placeable")),
    );
    // In a competition still open: not placeable until it is closed; a close arriving late
    // (older than the reopening) changes nothing.
    let competing = referral_in(&ctx, SEFTON, "AIM").await;
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
    ctx.publish_envelope(&Envelope::new("competition", "AIM", &opened))
        .await;
    assert_problem(
        &place(competing, 1).await,
        422,
        "validation",
        Some(("/referral_id", "placeable")),
    );
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
    ctx.publish_envelope(&late).await;
    assert_problem(
        &place(competing, 1).await,
        422,
        "validation",
        Some(("/referral_id", "placeable")),
    );
    ctx.publish_envelope(&Envelope::new("competition", "AIM", &closed))
        .await;
    assert_eq!(place(competing, 1).await.0, 201);
    // Placed: the same referral cannot take a second bed while the placement goes on.
    assert_problem(
        &place(competing, 2).await,
        422,
        "validation",
        Some(("/referral_id", "placeable")),
    );
    // A submitted referral on any route is placed; nothing was left half-written by the
    // refusals (one placement each, and only the two placed).
    let spot = referral_in(&ctx, SEFTON, "AIM").await;
    assert_eq!(place(spot, 2).await.0, 201);
    let started: Vec<PlacementStarted> = ctx.outbox_of().await;
    assert_eq!(
        started.iter().map(|p| p.referral_id).collect::<Vec<_>>(),
        vec![competing, spot]
    );
}

on_both!(
    block_beds_need_a_real_referral,
    block_beds_need_a_real_referral_on_sqlite,
    block_beds_need_a_real_referral_on_postgres
);

/// A signed order placed `started` days ago; returns the placement's id.
async fn placed(ctx: &ServiceCtx, start_date: NaiveDate) -> String {
    let app = ctx.app().await;
    let order = issue(ctx, &award(SEFTON, false, start_date)).await;
    let id = order["id"].as_str().unwrap();
    let provider = ctx.token(PROVIDER, Role::Provider);
    let (s, _) = call(
        &app,
        "POST",
        &format!("/v1/orders/{id}/sign"),
        &provider,
        None,
    )
    .await;
    assert_eq!(s, 200);
    let sefton = ctx.token(SEFTON, Role::Commissioner);
    let (s, p) = call(
        &app,
        "POST",
        "/v1/placements",
        &sefton,
        Some(json!({"order_id": id})),
    )
    .await;
    assert_eq!(s, 201, "{p}");
    p["id"].as_str().unwrap().to_owned()
}

const CONTACT: &str =
    "Family time with mum every Saturday at the contact centre; calls with his sister";

async fn ipas(url: &str) {
    let ctx = start(url).await;
    let app = ctx.app().await;
    let sefton = ctx.token_as("cathy", SEFTON, Role::Commissioner);
    let sw = ctx.token_as("sam", SEFTON, Role::SocialWorker);
    let sefton_fin = ctx.token(SEFTON, Role::Finance);
    let wirral_sw = ctx.token(WIRRAL, Role::SocialWorker);
    let provider = ctx.token_as("pat", PROVIDER, Role::Provider);
    let other = ctx.token(OTHER_PROVIDER, Role::Provider);
    let today = today();
    let start = today - Days::new(100);
    let id = placed(&ctx, start).await;
    let ipa = format!("/v1/placements/{id}/ipa");
    let versions = format!("{ipa}/versions");
    let version = |v: u32, action: &str| format!("{ipa}/versions/{v}/{action}");

    assert_problem(
        &call(&app, "GET", &ipa, &sefton, None).await,
        404,
        "not-found",
        None,
    );

    // The council drafts the first version.
    let v1 = json!({"contact_arrangements": CONTACT});
    for (token, status, slug) in [
        (&provider, 403, "forbidden"),
        (&sefton_fin, 403, "forbidden"),
        (&wirral_sw, 404, "not-found"),
        (&other, 404, "not-found"),
    ] {
        assert_problem(
            &call(&app, "POST", &versions, token, Some(v1.clone())).await,
            status,
            slug,
            None,
        );
    }
    assert_problem(
        &call(&app, "POST", &versions, &sw, Some(json!({"extras": []}))).await,
        422,
        "validation",
        Some(("/contact_arrangements", "required")),
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &versions,
            &sw,
            Some(json!({"contact_arrangements": CONTACT, "effective_from": (start - Days::new(1)).to_string()})),
        )
        .await,
        422,
        "validation",
        Some(("/effective_from", "min")),
    );
    let (s, drafted) = call(&app, "POST", &versions, &sw, Some(v1.clone())).await;
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
        &call(&app, "POST", &versions, &sefton, Some(v1.clone())).await,
        409,
        "ipa-version-pending",
        None,
    );

    // The provider signs, then the child's social worker approves.
    assert_problem(
        &call(&app, "POST", &version(1, "approve"), &sw, None).await,
        409,
        "ipa-not-signed",
        None,
    );
    assert_problem(
        &call(&app, "POST", &version(1, "sign"), &sefton, None).await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &call(&app, "POST", &version(1, "sign"), &other, None).await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &call(&app, "POST", &version(9, "sign"), &provider, None).await,
        404,
        "not-found",
        None,
    );
    let (s, signed) = call(&app, "POST", &version(1, "sign"), &provider, None).await;
    assert_eq!(s, 200, "{signed}");
    assert_eq!(
        (
            signed["versions"][0]["status"].as_str(),
            signed["versions"][0]["provider_signed_by"].as_str()
        ),
        (Some("awaiting_approval"), Some("pat"))
    );
    assert_problem(
        &call(&app, "POST", &version(1, "sign"), &provider, None).await,
        409,
        "ipa-already-signed",
        None,
    );
    // Approving as anyone but a social worker of the child's council.
    for (token, status, slug) in [
        (&sefton, 403, "forbidden"),
        (&sefton_fin, 403, "forbidden"),
        (&provider, 403, "forbidden"),
        (&wirral_sw, 404, "not-found"),
        (&other, 404, "not-found"),
    ] {
        assert_problem(
            &call(&app, "POST", &version(1, "approve"), token, None).await,
            status,
            slug,
            None,
        );
    }
    let (s, approved) = call(&app, "POST", &version(1, "approve"), &sw, None).await;
    assert_eq!(s, 200, "{approved}");
    let first_review = start.checked_add_months(chrono::Months::new(3)).unwrap();
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
        &call(&app, "POST", &version(1, "approve"), &sw, None).await,
        409,
        "ipa-already-approved",
        None,
    );
    let ok: Vec<IpaApproved> = ctx.outbox_of().await;
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
        ctx.outbox_of::<PlacementRateChanged>().await.is_empty(),
        "the first version kept the order's rate: nothing for finance"
    );

    // The review is overdue: listed, and raised once, as overdue (never first as merely due).
    let (_, due) = call(&app, "GET", "/v1/ipa-reviews", &sw, None).await;
    assert_eq!(due.as_array().unwrap().len(), 1, "{due}");
    assert_eq!(
        (due[0]["placement_id"].as_str(), due[0]["overdue"].as_bool()),
        (Some(id.as_str()), Some(true))
    );
    let (_, mine) = call(&app, "GET", "/v1/ipa-reviews?overdue=true", &provider, None).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let (_, none) = call(&app, "GET", "/v1/ipa-reviews?overdue=false", &sw, None).await;
    assert_eq!(none, json!([]));
    let (_, none) = call(&app, "GET", "/v1/ipa-reviews", &wirral_sw, None).await;
    assert_eq!(none, json!([]));
    let (a, b) = tokio::join!(sweep_once(&ctx.store, today), sweep_once(&ctx.store, today));
    assert_eq!(a.unwrap().reviews_due + b.unwrap().reviews_due, 1);
    assert_eq!(sweep_once(&ctx.store, today).await.unwrap().reviews_due, 0);
    let raised: Vec<IpaReviewDue> = ctx.outbox_of().await;
    assert_eq!(
        raised
            .iter()
            .map(|r| (r.review_due_on, r.overdue))
            .collect::<Vec<_>>(),
        vec![(first_review, true)]
    );

    // Recording the review sets the next date from the day it was held.
    let reviews = format!("{ipa}/reviews");
    let held = today - Days::new(1);
    assert_problem(
        &call(&app, "POST", &reviews, &sw, Some(json!({"reviewed_on": (today + Days::new(1)).to_string(), "outcome": "continue_as_agreed"}))).await,
        422,
        "validation",
        Some(("/reviewed_on", "max")),
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &reviews,
            &sw,
            Some(json!({"reviewed_on": held.to_string(), "outcome": "fine"})),
        )
        .await,
        422,
        "validation",
        Some(("/outcome", "one_of")),
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &reviews,
            &provider,
            Some(json!({"reviewed_on": held.to_string(), "outcome": "update_ipa"})),
        )
        .await,
        403,
        "forbidden",
        None,
    );
    let (s, reviewed) = call(
        &app,
        "POST",
        &reviews,
        &sw,
        Some(
            json!({"reviewed_on": held.to_string(), "outcome": "update_ipa",
                    "notes": "needs waking night staff after missing episodes"}),
        ),
    )
    .await;
    assert_eq!(s, 201, "{reviewed}");
    let next = held.checked_add_months(chrono::Months::new(3)).unwrap();
    assert_eq!(reviewed["next_review_on"], next.to_string());
    assert_eq!(reviewed["reviews"][0]["recorded_by"], "sam");
    assert_eq!(
        reviewed["reviews"][0]["was_due_on"],
        first_review.to_string()
    );
    assert_eq!(reviewed["review_overdue"], false);
    let (_, none) = call(&app, "GET", "/v1/ipa-reviews", &sw, None).await;
    assert_eq!(none, json!([]));
    assert_eq!(sweep_once(&ctx.store, today).await.unwrap().reviews_due, 0);
    let notice = next - Days::new(14);
    assert_eq!(
        sweep_once(&ctx.store, notice - Days::new(1))
            .await
            .unwrap()
            .reviews_due,
        0
    );
    assert_eq!(sweep_once(&ctx.store, notice).await.unwrap().reviews_due, 1);
    assert_eq!(sweep_once(&ctx.store, notice).await.unwrap().reviews_due, 0);
    assert_eq!(sweep_once(&ctx.store, next).await.unwrap().reviews_due, 0);
    assert_eq!(
        sweep_once(&ctx.store, next + Days::new(1))
            .await
            .unwrap()
            .reviews_due,
        1
    );
    assert_eq!(
        sweep_once(&ctx.store, next + Days::new(2))
            .await
            .unwrap()
            .reviews_due,
        0
    );

    // Needs changed: version 2 raises the rate and adds an extra from a day in the middle.
    let changed_from = today - Days::new(20);
    assert_problem(
        &call(
            &app,
            "POST",
            &versions,
            &sw,
            Some(json!({"contact_arrangements": CONTACT, "weekly_rate_pence": 224_900})),
        )
        .await,
        422,
        "validation",
        Some(("/effective_from", "required")),
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &versions,
            &sw,
            Some(json!({"contact_arrangements": CONTACT, "effective_from": start.to_string()})),
        )
        .await,
        422,
        "validation",
        Some(("/effective_from", "after_current")),
    );
    let (s, v2) = call(
        &app,
        "POST",
        &versions,
        &sw,
        Some(
            json!({"contact_arrangements": CONTACT, "weekly_rate_pence": 224_900,
                    "extras": [{"service": "waking night staff", "weekly_pence": 35_000}],
                    "review_frequency_months": 2, "effective_from": changed_from.to_string(),
                    "change_reason": "missing from home twice at night"}),
        ),
    )
    .await;
    assert_eq!(s, 201, "{v2}");
    assert_eq!(v2["versions"][1]["extras_weekly_pence"], 35_000);
    assert_eq!(
        call(&app, "POST", &version(2, "sign"), &provider, None)
            .await
            .0,
        200
    );
    let (s, v2) = call(&app, "POST", &version(2, "approve"), &sw, None).await;
    assert_eq!(s, 200, "{v2}");
    assert_eq!(
        (
            v2["in_force"].as_i64(),
            v2["versions"][0]["status"].as_str(),
            v2["versions"][1]["status"].as_str()
        ),
        (Some(2), Some("superseded"), Some("approved"))
    );
    let next = changed_from
        .checked_add_months(chrono::Months::new(2))
        .unwrap();
    assert_eq!(v2["next_review_on"], next.to_string());
    let changes: Vec<PlacementRateChanged> = ctx.outbox_of().await;
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
    let (_, p) = call(&app, "GET", &format!("/v1/placements/{id}"), &sefton, None).await;
    assert_eq!(
        (
            p["weekly_rate_pence"].as_i64(),
            p["extras_weekly_pence"].as_i64(),
            p["rate_effective_from"].as_str()
        ),
        (
            Some(224_900),
            Some(35_000),
            Some(changed_from.to_string().as_str())
        )
    );

    // A draft the provider will not sign is withdrawn.
    let (s, _) = call(
        &app,
        "POST",
        &versions,
        &sefton,
        Some(json!({"contact_arrangements": CONTACT, "weekly_rate_pence": 199_000, "effective_from": today.to_string()})),
    )
    .await;
    assert_eq!(s, 201);
    assert_problem(
        &call(&app, "POST", &version(3, "withdraw"), &provider, None).await,
        403,
        "forbidden",
        None,
    );
    let (s, w) = call(&app, "POST", &version(3, "withdraw"), &sefton, None).await;
    assert_eq!(
        (s, w["versions"][2]["status"].as_str()),
        (200, Some("withdrawn"))
    );
    assert_problem(
        &call(&app, "POST", &version(3, "withdraw"), &sefton, None).await,
        409,
        "ipa-not-pending",
        None,
    );
    assert_problem(
        &call(&app, "POST", &version(3, "sign"), &provider, None).await,
        409,
        "ipa-withdrawn",
        None,
    );
    assert_eq!(ctx.outbox_of::<PlacementRateChanged>().await.len(), 1);

    // No contact arrangements or review notes leave the service.
    for env in ctx.outbox().await {
        let text = env.payload.to_string();
        assert!(
            !text.contains("Saturday") && !text.contains("missing"),
            "{text}"
        );
    }

    // An ended placement takes no new version and no review.
    let (s, _) = call(
        &app,
        "POST",
        &format!("/v1/placements/{id}/end"),
        &sw,
        Some(json!({"end_date": today.to_string(), "reason": "turned_18"})),
    )
    .await;
    assert_eq!(s, 200);
    assert_problem(
        &call(
            &app,
            "POST",
            &versions,
            &sw,
            Some(json!({"contact_arrangements": CONTACT, "effective_from": today.to_string()})),
        )
        .await,
        409,
        "placement-ended",
        None,
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &reviews,
            &sw,
            Some(json!({"reviewed_on": today.to_string(), "outcome": "continue_as_agreed"})),
        )
        .await,
        409,
        "placement-ended",
        None,
    );
    assert_eq!(
        sweep_once(&ctx.store, next + Days::new(30))
            .await
            .unwrap()
            .reviews_due,
        0
    );

    // A block bed's IPA keeps the block rate; extras are agreed on top.
    let (s, block) = call(
        &app,
        "POST",
        "/v1/contracts/blocks",
        &sefton,
        Some(
            json!({"partnership": "AIM", "provider_id": PROVIDER, "beds": 1,
                    "block_weekly_rate_pence": 198_800, "spot_weekly_rate_pence": 214_900,
                    "start_date": start.to_string(), "term_years": 3}),
        ),
    )
    .await;
    assert_eq!(s, 201, "{block}");
    let (s, bed) = call(
        &app,
        "POST",
        "/v1/placements",
        &sefton,
        Some(json!({"block_contract_id": block["id"], "bed": 1,
                    "referral_id": referral_in(&ctx, SEFTON, "AIM").await,
                    "start_date": start.to_string()})),
    )
    .await;
    assert_eq!(s, 201, "{bed}");
    let bed_versions = format!(
        "/v1/placements/{}/ipa/versions",
        bed["id"].as_str().unwrap()
    );
    assert_problem(
        &call(
            &app,
            "POST",
            &bed_versions,
            &sw,
            Some(json!({"contact_arrangements": CONTACT, "weekly_rate_pence": 214_900})),
        )
        .await,
        422,
        "validation",
        Some(("/weekly_rate_pence", "block_rate")),
    );
    let (s, v) = call(
        &app,
        "POST",
        &bed_versions,
        &sw,
        Some(json!({"contact_arrangements": CONTACT, "extras": [{"service": "1:1 education support", "weekly_pence": 20_000}]})),
    )
    .await;
    assert_eq!(
        (s, v["versions"][0]["weekly_rate_pence"].as_i64()),
        (201, Some(198_800))
    );
}

on_both!(
    ipas,
    ipas_are_drafted_signed_approved_and_reviewed_on_sqlite,
    ipas_are_drafted_signed_approved_and_reviewed_on_postgres
);

async fn stability(url: &str) {
    let ctx = start(url).await;
    let app = ctx.app().await;
    let nottingham = ctx.token(NOTTINGHAM, Role::Commissioner);
    let provider = ctx.token(PROVIDER, Role::Provider);
    let d = |m: u32, day: u32| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    const SHEFFIELD: (f64, f64) = (53.381, -1.470); // about 33 miles from Nottingham
    const DERBY: (f64, f64) = (52.922, -1.477); // about 14 miles
    // A placement of a Nottingham child under a signed D2N2 order.
    let place = |child: Uuid, start: NaiveDate, home: Option<(f64, f64)>| {
        let (ctx, app, nottingham, provider) = (&ctx, &app, &nottingham, &provider);
        async move {
            let mut a = award(NOTTINGHAM, false, start);
            a.referral_id = child;
            let order = issue_in(ctx, "D2N2", &a).await;
            let id = order["id"].as_str().unwrap();
            let (s, _) = call(
                app,
                "POST",
                &format!("/v1/orders/{id}/sign"),
                provider,
                None,
            )
            .await;
            assert_eq!(s, 200);
            let mut body = json!({"order_id": id});
            if let Some((lat, lon)) = home {
                body["home_latitude"] = json!(lat);
                body["home_longitude"] = json!(lon);
            }
            let (s, p) = call(app, "POST", "/v1/placements", nottingham, Some(body)).await;
            assert_eq!(s, 201, "{p}");
            p["id"].as_str().unwrap().to_owned()
        }
    };
    let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let first = place(a, d(4, 10), Some(SHEFFIELD)).await;
    let (s, _) = call(
        &app,
        "POST",
        &format!("/v1/placements/{first}/end"),
        &nottingham,
        Some(json!({"end_date": "2026-06-30", "reason": "breakdown"})),
    )
    .await;
    assert_eq!(s, 200);
    place(a, d(7, 1), Some(DERBY)).await;
    place(b, d(5, 1), Some(SHEFFIELD)).await;
    place(c, d(8, 2), None).await;

    let (s, f) = call(&app, "GET", "/v1/placement-stability", &nottingham, None).await;
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
    let (_, july) = call(
        &app,
        "GET",
        "/v1/placement-stability?from=2026-07-01",
        &nottingham,
        None,
    )
    .await;
    assert_eq!(
        (july["placements"].as_i64(), july["breakdowns"].as_i64()),
        (Some(3), Some(0))
    );

    // Only the council's own staff; a partner council's is 404, a provider 403.
    let finance = ctx.token(NOTTINGHAM, Role::Finance);
    assert_eq!(
        call(&app, "GET", "/v1/placement-stability", &finance, None)
            .await
            .0,
        200
    );
    assert_problem(
        &call(
            &app,
            "GET",
            &format!("/v1/placement-stability?council={NOTTINGHAM}"),
            &ctx.token(DERBY_CITY, Role::Commissioner),
            None,
        )
        .await,
        404,
        "not-found",
        None,
    );
    assert_problem(
        &call(&app, "GET", "/v1/placement-stability", &provider, None).await,
        403,
        "forbidden",
        None,
    );
    assert_problem(
        &call(
            &app,
            "GET",
            "/v1/placement-stability?from=2026-07-01&to=2026-06-01",
            &nottingham,
            None,
        )
        .await,
        422,
        "validation",
        None,
    );
    // Another council's figures are its own: Sefton has none.
    let (_, sefton) = call(
        &app,
        "GET",
        "/v1/placement-stability",
        &ctx.token(SEFTON, Role::SocialWorker),
        None,
    )
    .await;
    assert_eq!(
        (sefton["children"].as_i64(), sefton["local"].clone()),
        (Some(0), json!([]))
    );
}

on_both!(
    stability,
    stability_figures_per_council_on_sqlite,
    stability_figures_per_council_on_postgres
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
    let ctx = start(url).await;
    let app = ctx.app().await;
    let sefton = ctx.token(SEFTON, Role::Commissioner);
    let sw = ctx.token(SEFTON, Role::SocialWorker);
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
            &call(&app, "POST", "/v1/contracts/blocks", &sefton, Some(block)).await,
            422,
            "validation",
            Some((field, "range")),
        );
    }
    let (_, blocks) = call(&app, "GET", "/v1/contracts/blocks", &sefton, None).await;
    assert_eq!(blocks.as_array().map(Vec::len), Some(0), "{blocks}");

    let id = placed(&ctx, today() - Days::new(10)).await;
    let versions = format!("/v1/placements/{id}/ipa/versions");
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
            &call(&app, "POST", &versions, &sw, Some(body)).await,
            422,
            "validation",
            Some((field, "range")),
        );
    }
    let (s, v) = call(
        &app,
        "POST",
        &versions,
        &sw,
        Some(
            json!({"contact_arrangements": CONTACT, "weekly_rate_pence": max,
                    "extras": [extra(max - 1), extra(1)]}),
        ),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["versions"].as_array().map(Vec::len), Some(1), "{v}");
    assert!(ctx.outbox_of::<PlacementRateChanged>().await.is_empty());
}

on_both!(
    weekly_money_bounds,
    weekly_money_bounds_on_sqlite,
    weekly_money_bounds_on_postgres
);
