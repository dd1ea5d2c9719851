//! Money finance cannot cost is refused, never wrapped (issue 10 rule 16): a fact whose
//! weekly rate or extra is beyond £100,000.00, or whose contract value is beyond £100bn, is
//! dead-lettered with the reason and leaves no ledger line; the same facts within the bounds
//! are costed. SQLite and PostgreSQL.

mod common;

use common::{d, dead_letters, finance, start, support};
use hub_events::{
    BlockContractLet, Event, PlacementRateChanged, PlacementStarted, ServiceContractLet,
    ServiceContractVaried,
};
use hub_platform::Pence;
use hub_platform::directory::{LIVERPOOL, SEFTON};
use hub_testkit::{TestApp, on_both};
use uuid::Uuid;

/// A Sefton placement with provider 1 from 1 April 2018 at `weekly` and `extras` a week.
fn started(weekly: i64, extras: i64) -> PlacementStarted {
    PlacementStarted {
        extras_weekly_pence: extras,
        ..common::placement(SEFTON, "prov-1", weekly, d(2018, 4, 1))
    }
}

/// Support for 2018/19 worth `value`, let with provider 2.
fn service(value: i64) -> ServiceContractLet {
    ServiceContractLet {
        provider_id: "prov-2".into(),
        ..support(value, d(2018, 4, 1), d(2019, 3, 31))
    }
}

/// Publishes the facts beyond the bounds: i64::MAX a week (the ledger held negative lines),
/// extras past the bound, a block spot rate past it, a contract value of i64::MAX and a
/// variation of i64::MIN. Answers the placement at the bounds, not yet published, whose rate
/// change was among them.
async fn beyond_the_bounds(app: &TestApp) -> PlacementStarted {
    let max = Pence::MAX_WEEKLY.0;
    let kept = started(max, max);
    let aim = |e: &dyn erased::Fact| e.envelope();
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
        app.publish_envelope(&e).await;
    }
    kept
}

async fn money_beyond_the_bounds_is_dead_lettered(url: &str) {
    let app = start(url).await;
    beyond_the_bounds(&app).await;
    let dead = dead_letters(&app).await;
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
}

on_both!(
    money_beyond_the_bounds_is_dead_lettered,
    money_finance_cannot_cost_is_refused_on_sqlite,
    money_finance_cannot_cost_is_refused_on_postgres
);

/// At the bounds: costed, and every line is a real cost (none negative).
async fn money_at_the_bounds_is_costed(url: &str) {
    let app = start(url).await;
    let kept = beyond_the_bounds(&app).await;
    common::aim(&app, &kept).await;
    common::aim(&app, &service(10_000_000_000_000)).await;
    assert_eq!(dead_letters(&app).await.len(), 6);
    let (status, body) = app
        .finance()
        .ledger(&finance(&app, LIVERPOOL), "partnership=AIM&year=2018")
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

on_both!(
    money_at_the_bounds_is_costed,
    money_at_the_bounds_is_costed_on_sqlite,
    money_at_the_bounds_is_costed_on_postgres
);

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
