//! The ledger from every money-bearing contract event, published on the in-process bus as the
//! contract service would (some twice, some out of order), read through `GET /v1/ledger`.
//! Runs on SQLite and PostgreSQL.

mod common;

use chrono::NaiveDate;
use common::{aim_twice, d, dead_letter_types, finance, start, support};
use diesel::{QueryableByName, RunQueryDsl, sql_types::Text};
use hub_events::{
    BedFilled, BedVoid, BlockContractExtended, BlockContractLet, Event, PlacementEnded,
    PlacementRateChanged, PlacementStarted, ServiceContractExtended, ServiceContractLet,
    ServiceContractTerminated, ServiceContractVaried,
};
use hub_platform::calendar::days_by_period;
use hub_platform::directory::{KNOWSLEY, LIVERPOOL, NOTTINGHAM, SEFTON, WIRRAL};
use hub_testkit::{TestApp, on_both};
use serde_json::Value;
use uuid::Uuid;

/// `(source_kind, council, attribution, bed, period, from, to, days, amount)` of each line.
type Brief = (
    String,
    String,
    String,
    Option<i64>,
    i64,
    String,
    String,
    i64,
    i64,
);

fn brief(lines: &[Value], kind: &str) -> Vec<Brief> {
    lines
        .iter()
        .filter(|l| l["source_kind"] == kind)
        .map(|l| {
            (
                l["source_kind"].as_str().unwrap().to_owned(),
                l["council"].as_str().unwrap().to_owned(),
                l["attribution"].as_str().unwrap().to_owned(),
                l["bed"].as_i64(),
                l["period"].as_i64().unwrap(),
                l["from_date"].as_str().unwrap().to_owned(),
                l["to_date"].as_str().unwrap().to_owned(),
                l["days"].as_i64().unwrap(),
                l["amount_pence"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn line(
    kind: &str,
    council: &str,
    attribution: &str,
    bed: Option<i64>,
    period: i64,
    from: &str,
    to: &str,
    days: i64,
    amount: i64,
) -> Brief {
    (
        kind.into(),
        council.into(),
        attribution.into(),
        bed,
        period,
        from.into(),
        to.into(),
        days,
        amount,
    )
}

/// `(period, amount)` of each line of `source`.
fn by_source(lines: &[Value], source: Uuid) -> Vec<(i64, i64)> {
    lines
        .iter()
        .filter(|l| l["source_id"] == source.to_string())
        .map(|l| {
            (
                l["period"].as_i64().unwrap(),
                l["amount_pence"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// AIM's ledger for `year`, as Liverpool's finance staff read it.
async fn ledger(app: &TestApp, year: i32) -> (u16, Value) {
    app.finance()
        .ledger(
            &finance(app, LIVERPOOL),
            &format!("partnership=AIM&year={year}"),
        )
        .await
}

/// AIM's ledger for 2018/19, which must answer.
async fn ledger_2018(app: &TestApp) -> Value {
    let (status, body) = ledger(app, 2018).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The facts of 2018/19 the ledger is built from.
struct Facts {
    /// Sefton's child's placement (`p1`), under an order.
    started: PlacementStarted,
    /// Family Care's block contract, and the Wirral child first in its bed 1.
    block: Uuid,
    wirral_child: Uuid,
    /// The service contract for all partners, and the one terminated early.
    service: Uuid,
    short: Uuid,
}

/// A placement under an order whose rate change arrives before its start: £2,149 a week and
/// £100 extras from 10 May 2018, £1,988 and no extras from 15 June (IPA v2), not yet ended.
/// Delivered twice, then re-announced in a new envelope.
async fn placement_changed_before_it_started(app: &TestApp) -> PlacementStarted {
    let started = PlacementStarted {
        extras_weekly_pence: 10_000,
        ..common::placement(SEFTON, "prov-care-assist", 214_900, d(2018, 5, 10))
    };
    aim_twice(
        app,
        &PlacementRateChanged {
            placement_id: started.placement_id,
            council: SEFTON.into(),
            provider_id: "prov-care-assist".into(),
            weekly_rate_pence: 198_800,
            extras_weekly_pence: 0,
            effective_from: d(2018, 6, 15),
            ipa_version: 2,
            block_contract_id: None,
        },
    )
    .await;
    aim_twice(app, &started).await;
    // Re-announced in a new envelope: recorded once.
    common::aim(app, &started).await;
    started
}

/// Every fact, in the order they arrive: the placement (read while open, then ended on 20
/// August), the block, the service contracts, and the refusals.
async fn contracts(app: &TestApp) -> Facts {
    let started = placement_changed_before_it_started(app).await;
    ledger(app, 2018).await;
    aim_twice(
        app,
        &PlacementEnded {
            placement_id: started.placement_id,
            council: SEFTON.into(),
            provider_id: "prov-care-assist".into(),
            end_date: d(2018, 8, 20),
            reason: "step_down".into(),
            block_contract_id: None,
            bed: None,
        },
    )
    .await;
    let (block, wirral_child) = family_care_block(app).await;
    let (service, short) = service_contracts(app).await;
    refusals(app, &started, block).await;
    Facts {
        started,
        block,
        wirral_child,
        service,
        short,
    }
}

/// Family Care Group's block: 2 beds at £2,809 a week, 1 April – 30 June 2018, let by
/// Sefton. Bed 1: a Wirral child from 11 April (last night 20 May), then void held for
/// Knowsley, then a Knowsley child from 1 June. Bed 2: empty throughout, Sefton's. Answers
/// the block and the Wirral child's placement.
async fn family_care_block(app: &TestApp) -> (Uuid, Uuid) {
    let block = Uuid::now_v7();
    // The bed is filled before the contract is known: kept, applied when it is let.
    let wirral_child = PlacementStarted {
        order_id: None,
        block_contract_id: Some(block),
        bed: Some(1),
        ..common::placement(WIRRAL, "prov-family-care", 280_900, d(2018, 4, 11))
    };
    aim_twice(app, &wirral_child).await;
    aim_twice(
        app,
        &BlockContractLet {
            block_contract_id: block,
            lead_council: SEFTON.into(),
            provider_id: "prov-family-care".into(),
            beds: 2,
            block_weekly_rate_pence: 280_900,
            spot_weekly_rate_pence: 317_065,
            start_date: d(2018, 4, 1),
            end_date: d(2018, 6, 30),
            planned_annual_saving_pence: 3_761_160,
        },
    )
    .await;
    aim_twice(
        app,
        &BedVoid {
            block_contract_id: block,
            bed: 1,
            council: KNOWSLEY.into(),
            provider_id: "prov-family-care".into(),
            void_from: d(2018, 5, 21),
        },
    )
    .await;
    // The placement's end arrives after the bed_void: the void stays Knowsley's.
    aim_twice(
        app,
        &PlacementEnded {
            placement_id: wirral_child.placement_id,
            council: WIRRAL.into(),
            provider_id: "prov-family-care".into(),
            end_date: d(2018, 5, 20),
            reason: "return_home".into(),
            block_contract_id: Some(block),
            bed: Some(1),
        },
    )
    .await;
    aim_twice(
        app,
        &BedFilled {
            block_contract_id: block,
            bed: 1,
            placement_id: Uuid::now_v7(),
            council: KNOWSLEY.into(),
            provider_id: "prov-family-care".into(),
            filled_on: d(2018, 6, 1),
        },
    )
    .await;
    (block, wirral_child.placement_id)
}

/// A service contract for all partners over 2018/19, extended by April 2019 (the extension
/// first), and one terminated early. Answers both.
async fn service_contracts(app: &TestApp) -> (Uuid, Uuid) {
    let (service, short) = (Uuid::now_v7(), Uuid::now_v7());
    aim_twice(
        app,
        &ServiceContractExtended {
            contract_id: service,
            lead_council: SEFTON.into(),
            provider_id: "prov-after-adoption".into(),
            previous_end_date: d(2019, 3, 31),
            new_end_date: d(2019, 4, 30),
            added_value_pence: 3_001,
            extensions_used: 1,
            extensions_left: 1,
        },
    )
    .await;
    for (id, value) in [(service, 10_000_001), (short, 365_000)] {
        let let_ = ServiceContractLet {
            contract_id: id,
            services: vec!["access_to_records".into(), "letterbox".into()],
            extensions_allowed: 2,
            ..support(value, d(2018, 4, 1), d(2019, 3, 31))
        };
        aim_twice(app, &let_).await;
    }
    aim_twice(
        app,
        &ServiceContractTerminated {
            contract_id: short,
            lead_council: SEFTON.into(),
            provider_id: "prov-after-adoption".into(),
            terminated_on: d(2018, 5, 15),
            reason: "provider withdrew".into(),
        },
    )
    .await;
    (service, short)
}

/// Refused, each dead-lettered with nothing written: a rate change naming another council
/// than the placement's; a bed the block does not have; a block let by a council outside
/// AIM; a negative rate.
async fn refusals(app: &TestApp, started: &PlacementStarted, block: Uuid) {
    common::aim(
        app,
        &PlacementRateChanged {
            placement_id: started.placement_id,
            council: WIRRAL.into(),
            provider_id: "prov-care-assist".into(),
            weekly_rate_pence: 1,
            extras_weekly_pence: 0,
            effective_from: d(2018, 7, 1),
            ipa_version: 3,
            block_contract_id: None,
        },
    )
    .await;
    common::aim(
        app,
        &BedFilled {
            block_contract_id: block,
            bed: 3,
            placement_id: Uuid::now_v7(),
            council: WIRRAL.into(),
            provider_id: "prov-family-care".into(),
            filled_on: d(2018, 6, 1),
        },
    )
    .await;
    common::aim(
        app,
        &BlockContractLet {
            block_contract_id: Uuid::now_v7(),
            lead_council: NOTTINGHAM.into(),
            provider_id: "prov-x".into(),
            beds: 1,
            block_weekly_rate_pence: 1,
            spot_weekly_rate_pence: 1,
            start_date: d(2018, 4, 1),
            end_date: d(2018, 6, 30),
            planned_annual_saving_pence: 0,
        },
    )
    .await;
    common::aim(
        app,
        &PlacementStarted {
            weekly_rate_pence: -1,
            placement_id: Uuid::now_v7(),
            ..started.clone()
        },
    )
    .await;
}

/// Open-ended, the placement is committed to 31 March 2019 at the changed rate (£284 a day
/// from 15 June).
async fn an_open_placement_is_committed_to_the_year_end(url: &str) {
    let app = start(url).await;
    placement_changed_before_it_started(&app).await;
    let (_, open) = ledger(&app, 2018).await;
    let open_lines = open["lines"].as_array().unwrap();
    assert_eq!(open_lines.len(), 12, "{open}");
    assert_eq!(
        open["committed_pence"],
        706_829 + 449_800 + 28_400 * 290,
        "{open}"
    );
}

on_both!(
    an_open_placement_is_committed_to_the_year_end,
    an_open_placement_is_committed_to_the_year_end_on_sqlite,
    an_open_placement_is_committed_to_the_year_end_on_postgres
);

async fn refused_facts_are_dead_lettered(url: &str) {
    let app = start(url).await;
    contracts(&app).await;
    assert_eq!(
        dead_letter_types(&app).await,
        vec![
            PlacementRateChanged::TYPE,
            BedFilled::TYPE,
            BlockContractLet::TYPE,
            PlacementStarted::TYPE
        ]
    );
}

on_both!(
    refused_facts_are_dead_lettered,
    refused_contract_facts_are_dead_lettered_on_sqlite,
    refused_contract_facts_are_dead_lettered_on_postgres
);

/// The placement's lines: by period, split at the rate change, to its last night.
async fn a_placement_is_phased_by_period_and_rate(url: &str) {
    let app = start(url).await;
    let facts = contracts(&app).await;
    let body = ledger_2018(&app).await;
    let lines = body["lines"].as_array().unwrap();
    let pl = |c, a, b, p, f, t, days, amt| line("placement", c, a, b, p, f, t, days, amt);
    #[rustfmt::skip]
    let expected = vec![
        pl(SEFTON, "child", None, 2, "2018-05-10", "2018-05-31", 22, 706_829),
        pl(SEFTON, "child", None, 3, "2018-06-01", "2018-06-14", 14, 449_800),
        pl(SEFTON, "child", None, 3, "2018-06-15", "2018-06-30", 16, 454_400),
        pl(SEFTON, "child", None, 4, "2018-07-01", "2018-07-31", 31, 880_400),
        pl(SEFTON, "child", None, 5, "2018-08-01", "2018-08-20", 20, 568_000),
    ];
    assert_eq!(brief(lines, "placement"), expected);
    let (p1, order) = (facts.started.placement_id, facts.started.order_id.unwrap());
    for l in lines.iter().filter(|l| l["source_kind"] == "placement") {
        assert_eq!(l["source_id"], p1.to_string());
        assert_eq!(l["contract_id"], order.to_string());
        assert_eq!(l["budget_line"], "placements");
    }
}

on_both!(
    a_placement_is_phased_by_period_and_rate,
    a_placement_is_phased_by_period_and_rate_on_sqlite,
    a_placement_is_phased_by_period_and_rate_on_postgres
);

/// A block's beds: the occupant's while filled, the council holding a void's, the
/// partnership's when empty.
async fn a_blocks_beds_are_phased_by_who_holds_them(url: &str) {
    let app = start(url).await;
    let Facts {
        block,
        wirral_child,
        ..
    } = contracts(&app).await;
    let body = ledger_2018(&app).await;
    let lines = body["lines"].as_array().unwrap();
    // Lines sort by period first, so bed 1 and bed 2 interleave by period.
    let bl = |c, a, b, p, f, t, days, amt| line("block_bed", c, a, Some(b), p, f, t, days, amt);
    let mut blocks = brief(lines, "block_bed");
    blocks.sort_by(|x, y| (x.3, &x.5).cmp(&(y.3, &y.5)));
    #[rustfmt::skip]
    let expected = vec![
        bl("AIM", "void", 1, 1, "2018-04-01", "2018-04-10", 10, 401_286),
        bl(WIRRAL, "child", 1, 1, "2018-04-11", "2018-04-30", 20, 802_571),
        bl(WIRRAL, "child", 1, 2, "2018-05-01", "2018-05-20", 20, 802_571),
        bl(KNOWSLEY, "void", 1, 2, "2018-05-21", "2018-05-31", 11, 441_414),
        bl(KNOWSLEY, "child", 1, 3, "2018-06-01", "2018-06-30", 30, 1_203_857),
        bl("AIM", "void", 2, 1, "2018-04-01", "2018-04-30", 30, 1_203_857),
        bl("AIM", "void", 2, 2, "2018-05-01", "2018-05-31", 31, 1_243_986),
        bl("AIM", "void", 2, 3, "2018-06-01", "2018-06-30", 30, 1_203_857),
    ];
    assert_eq!(blocks, expected);
    for l in lines.iter().filter(|l| l["source_kind"] == "block_bed") {
        assert_eq!(
            (l["source_id"].as_str(), l["contract_id"].as_str()),
            (
                Some(block.to_string().as_str()),
                Some(block.to_string().as_str())
            )
        );
        assert_eq!(l["weekly_rate_pence"], 280_900);
    }
    // The block placement has no lines of its own.
    assert!(
        lines
            .iter()
            .all(|l| l["source_id"] != wirral_child.to_string())
    );
}

on_both!(
    a_blocks_beds_are_phased_by_who_holds_them,
    a_blocks_beds_are_phased_by_who_holds_them_on_sqlite,
    a_blocks_beds_are_phased_by_who_holds_them_on_postgres
);

/// The service contract: 10,000,001p over 365 days is 27,397p a day with the first 96 days a
/// penny more; the short one £10 a day to 15 May; both the partnership's, pooled.
async fn service_contracts_are_phased_by_day(url: &str) {
    let app = start(url).await;
    let Facts { service, short, .. } = contracts(&app).await;
    let body = ledger_2018(&app).await;
    let lines = body["lines"].as_array().unwrap();
    let services = by_source(lines, service);
    assert_eq!(services.len(), 12);
    assert_eq!(services[0], (1, 30 * 27_398));
    assert_eq!(services[3], (4, 5 * 27_398 + 26 * 27_397));
    assert_eq!(services.iter().map(|s| s.1).sum::<i64>(), 10_000_001);
    assert_eq!(by_source(lines, short), vec![(1, 30_000), (2, 15_000)]);
    for l in lines
        .iter()
        .filter(|l| l["source_kind"] == "service_contract")
    {
        assert_eq!(
            (
                l["council"].as_str(),
                l["attribution"].as_str(),
                l["budget_line"].as_str()
            ),
            (
                Some("AIM"),
                Some("pooled"),
                Some("commissioned_adoption_support")
            )
        );
    }
}

on_both!(
    service_contracts_are_phased_by_day,
    service_contracts_are_phased_by_day_on_sqlite,
    service_contracts_are_phased_by_day_on_postgres
);

/// Totals by period add up to the committed total, which is every line; the extension is
/// phased over April 2019.
async fn the_totals_add_up_and_the_extension_runs_on(url: &str) {
    let app = start(url).await;
    contracts(&app).await;
    let body = ledger_2018(&app).await;
    let by_period: i64 = common::items(&body, "by_period")
        .iter()
        .map(|p| p["amount_pence"].as_i64().unwrap())
        .sum();
    let expected = (706_829 + 449_800 + 454_400 + 880_400 + 568_000)
        + (401_286 + 802_571 + 802_571 + 441_414 + 1_203_857)
        + (1_203_857 + 1_243_986 + 1_203_857)
        + 10_000_001
        + 45_000;
    assert_eq!(
        (by_period, body["committed_pence"].as_i64()),
        (expected, Some(expected))
    );
    let (_, next) = ledger(&app, 2019).await;
    assert_eq!(next["committed_pence"], 3_001, "{next}");
    assert_eq!(next["lines"][0]["from_date"], "2019-04-01");
    assert_eq!(next["lines"][0]["to_date"], "2019-04-30");
}

on_both!(
    the_totals_add_up_and_the_extension_runs_on,
    contract_events_become_the_ledger_on_sqlite,
    contract_events_become_the_ledger_on_postgres
);

/// The totals the monitoring report reads moved with every recompute: they are the lines
/// summed, key by key.
async fn the_ledger_totals_are_the_lines_summed(url: &str) {
    #[derive(QueryableByName, Debug, PartialEq)]
    struct Sum {
        #[diesel(sql_type = Text)]
        k: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        amount: i64,
    }
    let app = start(url).await;
    contracts(&app).await;
    ledger_2018(&app).await;
    ledger(&app, 2019).await;
    let sums = |sql: String| {
        app.store
            .db
            .run(move |c| Ok(diesel::sql_query(sql).load::<Sum>(c)?))
    };
    let key = "partnership || '/' || CAST(year AS TEXT) || '/' || CAST(period AS TEXT) || '/' \
               || budget_line || '/' || council || '/' || attribution";
    let from_lines = sums(format!(
        "SELECT {key} AS k, CAST(SUM(amount_pence) AS BIGINT) AS amount FROM commitment_lines \
         GROUP BY {key} ORDER BY 1"
    ))
    .await
    .unwrap();
    let from_totals = sums(format!(
        "SELECT {key} AS k, amount_pence AS amount FROM ledger_totals WHERE amount_pence <> 0 ORDER BY 1"
    ))
    .await
    .unwrap();
    // 24 keys: each period's placements, block beds and support, by council and attribution.
    assert_eq!(from_lines.len(), 24, "{from_lines:?}");
    assert_eq!(from_lines, from_totals);
}

on_both!(
    the_ledger_totals_are_the_lines_summed,
    the_ledger_totals_are_the_lines_summed_on_sqlite,
    the_ledger_totals_are_the_lines_summed_on_postgres
);

/// Extension `n` of a one-bed Care Assist block let by Sefton, from `previous` to `new`.
fn extended(block: Uuid, n: u16, previous: NaiveDate, new: NaiveDate) -> BlockContractExtended {
    BlockContractExtended {
        block_contract_id: block,
        lead_council: SEFTON.into(),
        provider_id: "prov-care-assist".into(),
        previous_end_date: previous,
        new_end_date: new,
        extensions_used: n,
        extensions_left: 2u16.saturating_sub(n),
    }
}

/// A block for April 2018 extended twice, to June: the second extension arrives first, then
/// the contract, then the first extension. Answers the block.
async fn extended_block(app: &TestApp) -> Uuid {
    let block = Uuid::now_v7();
    aim_twice(app, &extended(block, 2, d(2018, 5, 31), d(2018, 6, 30))).await;
    aim_twice(
        app,
        &BlockContractLet {
            block_contract_id: block,
            lead_council: SEFTON.into(),
            provider_id: "prov-care-assist".into(),
            beds: 1,
            block_weekly_rate_pence: 198_800,
            spot_weekly_rate_pence: 214_900,
            start_date: d(2018, 4, 1),
            end_date: d(2018, 4, 30),
            planned_annual_saving_pence: 837_200,
        },
    )
    .await;
    aim_twice(app, &extended(block, 1, d(2018, 4, 30), d(2018, 5, 31))).await;
    block
}

/// A block contract's extension runs its beds' commitments on to the new end, whether it
/// arrives before or after the contract, once however often it is delivered.
async fn block_extension(url: &str) {
    let app = start(url).await;
    extended_block(&app).await;
    assert!(dead_letter_types(&app).await.is_empty());
    let body = ledger_2018(&app).await;
    let bed = |p, f, t, days, amt| line("block_bed", "AIM", "void", Some(1), p, f, t, days, amt);
    // £1,988 a week: April 30 days 8,520.00; May 31 days 8,804.00; June 30 days 8,520.00.
    assert_eq!(
        brief(body["lines"].as_array().unwrap(), "block_bed"),
        vec![
            bed(1, "2018-04-01", "2018-04-30", 30, 852_000),
            bed(2, "2018-05-01", "2018-05-31", 31, 880_400),
            bed(3, "2018-06-01", "2018-06-30", 30, 852_000),
        ]
    );
}

on_both!(
    block_extension,
    a_block_extension_runs_the_beds_on_sqlite,
    a_block_extension_runs_the_beds_on_postgres
);

/// An extension for a block contract let in another partnership is refused.
async fn an_extension_from_another_partnership_is_refused(url: &str) {
    let app = start(url).await;
    let block = extended_block(&app).await;
    ledger_2018(&app).await;
    common::publish(
        &app,
        "LCR-PPA",
        &extended(block, 3, d(2018, 6, 30), d(2018, 7, 31)),
    )
    .await;
    assert_eq!(
        dead_letter_types(&app).await,
        vec![BlockContractExtended::TYPE]
    );
}

on_both!(
    an_extension_from_another_partnership_is_refused,
    an_extension_from_another_partnership_is_refused_on_sqlite,
    an_extension_from_another_partnership_is_refused_on_postgres
);

/// `(year, period, from, to, days, amount)` of a line.
type Phased = (i64, i64, String, String, i64, i64);

/// The lines of service contract `id` in the ledgers read, sorted, each checked to be tagged
/// as the contract's lines are.
fn phased(ledgers: &[Value], id: Uuid) -> Vec<Phased> {
    let mut out: Vec<Phased> = ledgers
        .iter()
        .flat_map(|l| l["lines"].as_array().unwrap().iter())
        .filter(|l| l["source_id"] == id.to_string())
        .map(|l| {
            assert_eq!(
                (
                    l["source_kind"].as_str(),
                    l["contract_id"].as_str(),
                    l["council"].as_str(),
                    l["attribution"].as_str(),
                    l["budget_line"].as_str(),
                    l["provider_id"].as_str()
                ),
                (
                    Some("service_contract"),
                    Some(id.to_string().as_str()),
                    Some("AIM"),
                    Some("pooled"),
                    Some("commissioned_adoption_support"),
                    Some("prov-after-adoption")
                ),
                "{l}"
            );
            (
                l["year"].as_i64().unwrap(),
                l["period"].as_i64().unwrap(),
                l["from_date"].as_str().unwrap().to_owned(),
                l["to_date"].as_str().unwrap().to_owned(),
                l["days"].as_i64().unwrap(),
                l["amount_pence"].as_i64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// A tranche's lines from `from` to `last`, each period's amount given by `amount(i, days)`.
fn tranche(from: NaiveDate, last: NaiveDate, amount: impl Fn(usize, i64) -> i64) -> Vec<Phased> {
    let mut day = from;
    days_by_period(from, last)
        .into_iter()
        .enumerate()
        .map(|(i, (year, period, days))| {
            let to = day + chrono::Days::new(days as u64 - 1);
            let line = (
                i64::from(year.0),
                i64::from(period),
                day.to_string(),
                to.to_string(),
                days,
                amount(i, days),
            );
            day = to + chrono::Days::new(1);
            line
        })
        .collect()
}

/// A service contract of £239,768 over 1 April 2018 – 31 March 2020 (731 days at 32,800p) and
/// a variation of +£12,000.00 from 15 October 2018 to its end (534 days: 2,247p a day, the
/// first 102 days a penny more), to `last`.
fn varied_lines(last: NaiveDate) -> Vec<Phased> {
    let mut lines = tranche(d(2018, 4, 1), last, |_, days| days * 32_800);
    lines.extend(tranche(d(2018, 10, 15), last, |i, days| {
        // 15 October – 24 January at 2,248p; 25 January on at 2,247p.
        [17 * 2_248, 30 * 2_248, 31 * 2_248, 24 * 2_248 + 7 * 2_247]
            .get(i)
            .copied()
            .unwrap_or(days * 2_247)
    }));
    lines.sort();
    lines
}

/// £239,768 of birth-parent counselling over 1 April 2018 – 31 March 2020.
fn let_(id: Uuid) -> ServiceContractLet {
    ServiceContractLet {
        contract_id: id,
        services: vec!["birth_parent_counselling".into()],
        ..support(23_976_800, d(2018, 4, 1), d(2020, 3, 31))
    }
}

/// +£12,000.00 from 15 October 2018, phased to 31 March 2020.
fn varied(id: Uuid) -> ServiceContractVaried {
    ServiceContractVaried {
        contract_id: id,
        lead_council: SEFTON.into(),
        provider_id: "prov-after-adoption".into(),
        variation_id: Uuid::now_v7(),
        effective_on: d(2018, 10, 15),
        phased_to: d(2020, 3, 31),
        value_change_pence: 1_200_000,
        services: None,
    }
}

/// Brought in-house on 15 November 2019.
fn terminated(id: Uuid) -> ServiceContractTerminated {
    ServiceContractTerminated {
        contract_id: id,
        lead_council: SEFTON.into(),
        provider_id: "prov-after-adoption".into(),
        terminated_on: d(2019, 11, 15),
        reason: "brought in-house".into(),
    }
}

/// AIM's ledgers for 2018/19 and 2019/20, each of which must answer.
async fn ledgers(app: &TestApp) -> Vec<Value> {
    let mut out = Vec::new();
    for year in [2018, 2019] {
        let (status, body) = ledger(app, year).await;
        assert_eq!(status, 200, "{body}");
        out.push(body);
    }
    out
}

/// Every order the let (0), the variation (1) and the termination (2) can arrive in.
const ORDERS: [[usize; 3]; 6] = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
];

/// A contract let and varied, not terminated (read), then one terminated for each order of
/// arrival, each event delivered twice. Answers the whole contract, its variation, and the
/// terminated contracts in the order of [`ORDERS`].
async fn varied_contracts(app: &TestApp) -> (Uuid, ServiceContractVaried, Vec<Uuid>) {
    let whole = Uuid::now_v7();
    let variation = varied(whole);
    aim_twice(app, &let_(whole)).await;
    aim_twice(app, &variation).await;
    ledgers(app).await;
    let mut contracts = Vec::new();
    for order in ORDERS {
        let id = Uuid::now_v7();
        let variation = varied(id);
        for event in order {
            match event {
                0 => aim_twice(app, &let_(id)).await,
                1 => aim_twice(app, &variation).await,
                _ => aim_twice(app, &terminated(id)).await,
            }
        }
        contracts.push(id);
    }
    (whole, variation, contracts)
}

/// Not terminated: the variation's periods add up to the change exactly.
async fn service_variation(url: &str) {
    let app = start(url).await;
    let whole = Uuid::now_v7();
    aim_twice(&app, &let_(whole)).await;
    aim_twice(&app, &varied(whole)).await;
    let lines = phased(&ledgers(&app).await, whole);
    assert_eq!(lines, varied_lines(d(2020, 3, 31)));
    assert_eq!(
        lines.iter().map(|l| l.5).sum::<i64>(),
        23_976_800 + 1_200_000
    );
}

on_both!(
    service_variation,
    a_service_contract_variation_is_phased_by_day_on_sqlite,
    a_service_contract_variation_is_phased_by_day_on_postgres
);

/// Terminated on 15 November 2019, the events in every order: the same lines each time,
/// November 2019 has 15 days of each, nothing after.
async fn a_terminated_variation_is_cut_whatever_the_order(url: &str) {
    let app = start(url).await;
    let (_, _, contracts) = varied_contracts(&app).await;
    assert!(dead_letter_types(&app).await.is_empty());
    let read = ledgers(&app).await;
    let expected = varied_lines(d(2019, 11, 15));
    assert_eq!(expected.len(), 20 + 14);
    assert!(expected.contains(&(
        2019,
        8,
        "2019-11-01".into(),
        "2019-11-15".into(),
        15,
        15 * 2_247
    )));
    for (id, order) in contracts.iter().zip(ORDERS) {
        let lines = phased(&read, *id);
        assert_eq!(lines, expected, "arrival order {order:?}");
        // 594 days of the contract's value; the change less 137 days (16 November – 31 March).
        assert_eq!(
            lines.iter().map(|l| l.5).sum::<i64>(),
            594 * 32_800 + 1_200_000 - 137 * 2_247
        );
    }
}

on_both!(
    a_terminated_variation_is_cut_whatever_the_order,
    a_terminated_variation_is_cut_whatever_the_order_on_sqlite,
    a_terminated_variation_is_cut_whatever_the_order_on_postgres
);

/// Refused, dead-lettered with nothing written: a variation of a contract let in AIM sent in
/// another partnership; one phased to a day before it takes effect.
async fn a_variation_out_of_place_is_refused(url: &str) {
    let app = start(url).await;
    let (whole, variation, _) = varied_contracts(&app).await;
    ledgers(&app).await;
    let elsewhere = ServiceContractVaried {
        variation_id: Uuid::now_v7(),
        ..variation.clone()
    };
    common::publish(&app, "LCR-PPA", &elsewhere).await;
    let backwards = ServiceContractVaried {
        variation_id: Uuid::now_v7(),
        phased_to: d(2018, 10, 14),
        ..variation
    };
    common::aim(&app, &backwards).await;
    assert_eq!(
        dead_letter_types(&app).await,
        vec![ServiceContractVaried::TYPE, ServiceContractVaried::TYPE]
    );
    assert_eq!(
        phased(&ledgers(&app).await, whole),
        varied_lines(d(2020, 3, 31))
    );
}

on_both!(
    a_variation_out_of_place_is_refused,
    a_variation_out_of_place_is_refused_on_sqlite,
    a_variation_out_of_place_is_refused_on_postgres
);

/// A stored attribution no code knows is a fault to see, not a line to guess at: reading it
/// is a 500 (an alert), where the lines were once read with a fallback to `child`.
async fn unreadable_attribution(url: &str) {
    let app = start(url).await;
    let placement = common::placement(SEFTON, "prov-care-assist", 70_000, d(2018, 5, 10));
    aim_twice(&app, &placement).await;
    let (status, _) = ledger(&app, 2018).await;
    assert_eq!(status, 200);
    app.store
        .db
        .run(|c| {
            Ok(
                diesel::sql_query("UPDATE commitment_lines SET attribution = 'children'")
                    .execute(c)?,
            )
        })
        .await
        .unwrap();
    let (status, body) = ledger(&app, 2018).await;
    assert_eq!(status, 500, "{body}");
}

on_both!(
    unreadable_attribution,
    a_stored_attribution_no_code_knows_is_a_500_on_sqlite,
    a_stored_attribution_no_code_knows_is_a_500_on_postgres
);
