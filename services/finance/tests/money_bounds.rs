//! Money finance cannot cost is refused, never wrapped (issue 10 rule 16): a fact whose
//! weekly rate or extra is beyond £100,000.00, or whose contract value is beyond £100bn, is
//! dead-lettered with the reason and leaves no ledger line; the same facts within the bounds
//! are costed. SQLite and PostgreSQL.

use chrono::NaiveDate;
use diesel::{QueryableByName, RunQueryDsl, sql_types::Text};
use hub_events::{
    BlockContractLet, Envelope, Event, PlacementRateChanged, PlacementStarted, ServiceContractLet,
    ServiceContractVaried,
};
use hub_platform::directory::{LIVERPOOL, SEFTON};
use hub_platform::{Pence, Role, db::Migrations};
use hub_testkit::{ServiceCtx, call, on_both};
use uuid::Uuid;

static SETS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &finance::MIGRATIONS];

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// `(event type, error)` of each dead letter, oldest first.
async fn dead_letters(ctx: &ServiceCtx) -> Vec<(String, String)> {
    #[derive(QueryableByName)]
    struct Dead {
        #[diesel(sql_type = Text)]
        event_type: String,
        #[diesel(sql_type = Text)]
        error: String,
    }
    ctx.store
        .db
        .run(|c| {
            Ok(
                diesel::sql_query(
                    "SELECT event_type, error FROM dead_letters ORDER BY dead_ms, id",
                )
                .load::<Dead>(c)?,
            )
        })
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.event_type, d.error))
        .collect()
}

async fn flow(url: &str) {
    let ctx = ServiceCtx::start(url, finance::NAME, &SETS, finance::start).await;
    let app = ctx.app().await;
    let max = Pence::MAX_WEEKLY.0;
    let started = |weekly: i64, extras: i64| PlacementStarted {
        placement_id: Uuid::now_v7(),
        order_id: Some(Uuid::now_v7()),
        referral_id: Uuid::now_v7(),
        council: SEFTON.into(),
        provider_id: "prov-1".into(),
        weekly_rate_pence: weekly,
        extras_weekly_pence: extras,
        start_date: d(2018, 4, 1),
        block_contract_id: None,
        bed: None,
    };
    let service = |value: i64| ServiceContractLet {
        contract_id: Uuid::now_v7(),
        lead_council: SEFTON.into(),
        provider_id: "prov-2".into(),
        services: vec!["letterbox".into()],
        value_pence: value,
        start_date: d(2018, 4, 1),
        end_date: d(2019, 3, 31),
        budget_line: "commissioned_adoption_support".into(),
        extensions_allowed: 0,
    };
    let publish = |e: Envelope| {
        let ctx = &ctx;
        async move { ctx.publish_envelope(&e).await }
    };
    let aim = |e: &dyn erased::Fact| e.envelope();

    // Beyond the bounds: i64::MAX a week (the ledger held negative lines), extras past the
    // bound, a block spot rate past it, a contract value of i64::MAX and a variation of
    // i64::MIN.
    let kept = started(max, max);
    for e in [
        aim(&started(i64::MAX, 0)),
        aim(&started(max, max + 1)),
        aim(&PlacementRateChanged {
            placement_id: kept.placement_id,
            council: SEFTON.into(),
            provider_id: "prov-1".into(),
            weekly_rate_pence: max,
            extras_weekly_pence: i64::MAX,
            effective_from: d(2018, 6, 1),
            ipa_version: 2,
            block_contract_id: None,
        }),
        aim(&BlockContractLet {
            block_contract_id: Uuid::now_v7(),
            lead_council: SEFTON.into(),
            provider_id: "prov-3".into(),
            beds: 2,
            block_weekly_rate_pence: 1,
            spot_weekly_rate_pence: max + 1,
            start_date: d(2018, 4, 1),
            end_date: d(2019, 3, 31),
            planned_annual_saving_pence: 0,
        }),
        aim(&service(i64::MAX)),
        aim(&ServiceContractVaried {
            contract_id: Uuid::now_v7(),
            lead_council: SEFTON.into(),
            provider_id: "prov-2".into(),
            variation_id: Uuid::now_v7(),
            effective_on: d(2018, 10, 1),
            phased_to: d(2019, 3, 31),
            value_change_pence: i64::MIN,
            services: None,
        }),
    ] {
        publish(e).await;
    }
    let dead = dead_letters(&ctx).await;
    assert_eq!(
        dead.iter().map(|d| d.0.as_str()).collect::<Vec<_>>(),
        vec![
            PlacementStarted::TYPE,
            PlacementStarted::TYPE,
            PlacementRateChanged::TYPE,
            BlockContractLet::TYPE,
            ServiceContractLet::TYPE,
            ServiceContractVaried::TYPE,
        ]
    );
    for (what, (_, error)) in [
        "the weekly rate",
        "the weekly extras",
        "the weekly extras",
        "the spot weekly rate",
        "the contract value",
        "the value change",
    ]
    .iter()
    .zip(&dead)
    {
        assert!(
            error.contains(what) && error.contains("finance does not cost it"),
            "{error}"
        );
    }

    // At the bounds: costed, and every line is a real cost (none negative).
    publish(aim(&kept)).await;
    publish(aim(&service(10_000_000_000_000))).await;
    assert_eq!(dead_letters(&ctx).await.len(), 6);
    let (status, body) = call(
        &app,
        "GET",
        "/v1/ledger?partnership=AIM&year=2018",
        &ctx.token(LIVERPOOL, Role::Finance),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let lines = body["lines"].as_array().unwrap();
    assert!(!lines.is_empty());
    assert!(
        lines
            .iter()
            .all(|l| l["amount_pence"].as_i64().unwrap() >= 0),
        "{body}"
    );
    // £200,000.00 a week for April: 30 days = £857,142.86.
    let april: i64 = lines
        .iter()
        .filter(|l| l["source_kind"] == "placement" && l["period"] == 1)
        .map(|l| l["amount_pence"].as_i64().unwrap())
        .sum();
    assert_eq!(april, 85_714_286);
}

/// Envelopes of any event, so one list can hold facts of different types.
mod erased {
    use hub_events::{Envelope, Event};

    pub trait Fact {
        fn envelope(&self) -> Envelope;
    }

    impl<E: Event> Fact for E {
        fn envelope(&self) -> Envelope {
            Envelope::new("contract", "AIM", self)
        }
    }
}

on_both!(
    flow,
    money_finance_cannot_cost_is_refused_on_sqlite,
    money_finance_cannot_cost_is_refused_on_postgres
);
