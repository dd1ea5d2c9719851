//! The ledger from every money-bearing contract event, published on the in-process bus as the
//! contract service would (some twice, some out of order), read through `GET /v1/ledger`.
//! Runs on SQLite and PostgreSQL.

use chrono::NaiveDate;
use diesel::{QueryableByName, RunQueryDsl, sql_types::Text};
use hub_events::{
    BedFilled, BedVoid, BlockContractExtended, BlockContractLet, Envelope, Event, PlacementEnded,
    PlacementRateChanged, PlacementStarted, ServiceContractExtended, ServiceContractLet,
    ServiceContractTerminated, ServiceContractVaried,
};
use hub_platform::directory::{KNOWSLEY, LIVERPOOL, NOTTINGHAM, SEFTON, WIRRAL};
use hub_platform::{Role, calendar::days_by_period, db::Migrations};
use hub_testkit::{ServiceCtx, call, on_both};
use serde_json::Value;
use uuid::Uuid;

static SETS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &finance::MIGRATIONS];

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Publishes `event` in AIM twice over (the same envelope redelivered).
async fn aim<E: Event>(ctx: &ServiceCtx, event: &E) {
    let env = Envelope::new("contract", "AIM", event);
    ctx.publish_envelope(&env).await;
    ctx.publish_envelope(&env).await;
}

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

async fn dead_letters(ctx: &ServiceCtx) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Dead {
        #[diesel(sql_type = Text)]
        event_type: String,
    }
    ctx.store
        .db
        .run(|c| {
            Ok(
                diesel::sql_query("SELECT event_type FROM dead_letters ORDER BY dead_ms, id")
                    .load::<Dead>(c)?,
            )
        })
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.event_type)
        .collect()
}

async fn flow(url: &str) {
    let ctx = ServiceCtx::start(url, finance::NAME, &SETS, finance::start).await;
    let app = ctx.app().await;
    let liverpool = ctx.token(LIVERPOOL, Role::Finance);
    let ledger = |year: i32| format!("/v1/ledger?partnership=AIM&year={year}");

    // A placement under an order whose rate change arrives before its start: £2,149 a week
    // + £100 extras from 10 May 2018, £1,988 and no extras from 15 June (IPA v2), last
    // night 20 August.
    let (p1, order) = (Uuid::now_v7(), Uuid::now_v7());
    aim(
        &ctx,
        &PlacementRateChanged {
            placement_id: p1,
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
    let started = PlacementStarted {
        placement_id: p1,
        order_id: Some(order),
        referral_id: Uuid::now_v7(),
        council: SEFTON.into(),
        provider_id: "prov-care-assist".into(),
        weekly_rate_pence: 214_900,
        extras_weekly_pence: 10_000,
        start_date: d(2018, 5, 10),
        block_contract_id: None,
        bed: None,
    };
    aim(&ctx, &started).await;
    // Re-announced in a new envelope: recorded once.
    ctx.publish_envelope(&Envelope::new("contract", "AIM", &started))
        .await;
    let (_, open) = call(&app, "GET", &ledger(2018), &liverpool, None).await;
    // Open-ended: committed to 31 March 2019 at the changed rate (£284 a day from 15 June).
    let open_lines = open["lines"].as_array().unwrap();
    assert_eq!(open_lines.len(), 12, "{open}");
    assert_eq!(
        open["committed_pence"],
        706_829 + 449_800 + 28_400 * 290,
        "{open}"
    );
    aim(
        &ctx,
        &PlacementEnded {
            placement_id: p1,
            council: SEFTON.into(),
            provider_id: "prov-care-assist".into(),
            end_date: d(2018, 8, 20),
            reason: "step_down".into(),
            block_contract_id: None,
            bed: None,
        },
    )
    .await;

    // Family Care Group's block: 2 beds at £2,809 a week, 1 April – 30 June 2018, let by
    // Sefton. Bed 1: a Wirral child from 11 April (last night 20 May), then void held for
    // Knowsley, then a Knowsley child from 1 June. Bed 2: empty throughout, Sefton's.
    let block = Uuid::now_v7();
    let wirral_child = Uuid::now_v7();
    // The bed is filled before the contract is known: kept, applied when it is let.
    aim(
        &ctx,
        &PlacementStarted {
            placement_id: wirral_child,
            order_id: None,
            referral_id: Uuid::now_v7(),
            council: WIRRAL.into(),
            provider_id: "prov-family-care".into(),
            weekly_rate_pence: 280_900,
            extras_weekly_pence: 0,
            start_date: d(2018, 4, 11),
            block_contract_id: Some(block),
            bed: Some(1),
        },
    )
    .await;
    aim(
        &ctx,
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
    aim(
        &ctx,
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
    aim(
        &ctx,
        &PlacementEnded {
            placement_id: wirral_child,
            council: WIRRAL.into(),
            provider_id: "prov-family-care".into(),
            end_date: d(2018, 5, 20),
            reason: "return_home".into(),
            block_contract_id: Some(block),
            bed: Some(1),
        },
    )
    .await;
    aim(
        &ctx,
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

    // A service contract for all partners over 2018/19, extended by April 2019, and one
    // terminated early.
    let (service, short) = (Uuid::now_v7(), Uuid::now_v7());
    aim(
        &ctx,
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
        aim(
            &ctx,
            &ServiceContractLet {
                contract_id: id,
                lead_council: SEFTON.into(),
                provider_id: "prov-after-adoption".into(),
                services: vec!["access_to_records".into(), "letterbox".into()],
                value_pence: value,
                start_date: d(2018, 4, 1),
                end_date: d(2019, 3, 31),
                budget_line: "commissioned_adoption_support".into(),
                extensions_allowed: 2,
            },
        )
        .await;
    }
    aim(
        &ctx,
        &ServiceContractTerminated {
            contract_id: short,
            lead_council: SEFTON.into(),
            provider_id: "prov-after-adoption".into(),
            terminated_on: d(2018, 5, 15),
            reason: "provider withdrew".into(),
        },
    )
    .await;

    // Refused, each dead-lettered with nothing written: a rate change naming another
    // council than the placement's; a bed the block does not have; a block let by a council
    // outside AIM; a negative rate.
    ctx.publish_envelope(&Envelope::new(
        "contract",
        "AIM",
        &PlacementRateChanged {
            placement_id: p1,
            council: WIRRAL.into(),
            provider_id: "prov-care-assist".into(),
            weekly_rate_pence: 1,
            extras_weekly_pence: 0,
            effective_from: d(2018, 7, 1),
            ipa_version: 3,
            block_contract_id: None,
        },
    ))
    .await;
    ctx.publish_envelope(&Envelope::new(
        "contract",
        "AIM",
        &BedFilled {
            block_contract_id: block,
            bed: 3,
            placement_id: Uuid::now_v7(),
            council: WIRRAL.into(),
            provider_id: "prov-family-care".into(),
            filled_on: d(2018, 6, 1),
        },
    ))
    .await;
    ctx.publish_envelope(&Envelope::new(
        "contract",
        "AIM",
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
    ))
    .await;
    ctx.publish_envelope(&Envelope::new(
        "contract",
        "AIM",
        &PlacementStarted {
            weekly_rate_pence: -1,
            placement_id: Uuid::now_v7(),
            ..started.clone()
        },
    ))
    .await;
    assert_eq!(
        dead_letters(&ctx).await,
        vec![
            PlacementRateChanged::TYPE,
            BedFilled::TYPE,
            BlockContractLet::TYPE,
            PlacementStarted::TYPE
        ]
    );

    let (status, body) = call(&app, "GET", &ledger(2018), &liverpool, None).await;
    assert_eq!(status, 200, "{body}");
    let lines = body["lines"].as_array().unwrap();
    let pl = |c, a, b, p, f, t, days, amt| line("placement", c, a, b, p, f, t, days, amt);
    assert_eq!(
        brief(lines, "placement"),
        vec![
            pl(
                SEFTON,
                "child",
                None,
                2,
                "2018-05-10",
                "2018-05-31",
                22,
                706_829
            ),
            pl(
                SEFTON,
                "child",
                None,
                3,
                "2018-06-01",
                "2018-06-14",
                14,
                449_800
            ),
            pl(
                SEFTON,
                "child",
                None,
                3,
                "2018-06-15",
                "2018-06-30",
                16,
                454_400
            ),
            pl(
                SEFTON,
                "child",
                None,
                4,
                "2018-07-01",
                "2018-07-31",
                31,
                880_400
            ),
            pl(
                SEFTON,
                "child",
                None,
                5,
                "2018-08-01",
                "2018-08-20",
                20,
                568_000
            ),
        ]
    );
    for l in lines.iter().filter(|l| l["source_kind"] == "placement") {
        assert_eq!(l["source_id"], p1.to_string());
        assert_eq!(l["contract_id"], order.to_string());
        assert_eq!(l["budget_line"], "placements");
    }
    // Lines sort by period first, so bed 1 and bed 2 interleave by period.
    let bl = |c, a, b, p, f, t, days, amt| line("block_bed", c, a, Some(b), p, f, t, days, amt);
    let mut blocks = brief(lines, "block_bed");
    blocks.sort_by(|x, y| (x.3, &x.5).cmp(&(y.3, &y.5)));
    assert_eq!(
        blocks,
        vec![
            bl("AIM", "void", 1, 1, "2018-04-01", "2018-04-10", 10, 401_286),
            bl(
                WIRRAL,
                "child",
                1,
                1,
                "2018-04-11",
                "2018-04-30",
                20,
                802_571
            ),
            bl(
                WIRRAL,
                "child",
                1,
                2,
                "2018-05-01",
                "2018-05-20",
                20,
                802_571
            ),
            bl(
                KNOWSLEY,
                "void",
                1,
                2,
                "2018-05-21",
                "2018-05-31",
                11,
                441_414
            ),
            bl(
                KNOWSLEY,
                "child",
                1,
                3,
                "2018-06-01",
                "2018-06-30",
                30,
                1_203_857
            ),
            bl(
                "AIM",
                "void",
                2,
                1,
                "2018-04-01",
                "2018-04-30",
                30,
                1_203_857
            ),
            bl(
                "AIM",
                "void",
                2,
                2,
                "2018-05-01",
                "2018-05-31",
                31,
                1_243_986
            ),
            bl(
                "AIM",
                "void",
                2,
                3,
                "2018-06-01",
                "2018-06-30",
                30,
                1_203_857
            ),
        ]
    );
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
    // The service contract: 10,000,001p over 365 days is 27,397p a day with the first 96
    // days a penny more; the short one £10 a day to 15 May.
    let services: Vec<(i64, i64)> = lines
        .iter()
        .filter(|l| l["source_id"] == service.to_string())
        .map(|l| {
            (
                l["period"].as_i64().unwrap(),
                l["amount_pence"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(services.len(), 12);
    assert_eq!(services[0], (1, 30 * 27_398));
    assert_eq!(services[3], (4, 5 * 27_398 + 26 * 27_397));
    assert_eq!(services.iter().map(|s| s.1).sum::<i64>(), 10_000_001);
    let short_lines: Vec<(i64, i64)> = lines
        .iter()
        .filter(|l| l["source_id"] == short.to_string())
        .map(|l| {
            (
                l["period"].as_i64().unwrap(),
                l["amount_pence"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(short_lines, vec![(1, 30_000), (2, 15_000)]);
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
    // Totals by period add up to the committed total, which is every line.
    let by_period: i64 = body["by_period"]
        .as_array()
        .unwrap()
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
    // The extension is phased over April 2019.
    let (_, next) = call(&app, "GET", &ledger(2019), &liverpool, None).await;
    assert_eq!(next["committed_pence"], 3_001, "{next}");
    assert_eq!(next["lines"][0]["from_date"], "2019-04-01");
    assert_eq!(next["lines"][0]["to_date"], "2019-04-30");

    // The totals the monitoring report reads moved with every recompute: they are the
    // lines summed, key by key.
    #[derive(QueryableByName, Debug, PartialEq)]
    struct Sum {
        #[diesel(sql_type = Text)]
        k: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        amount: i64,
    }
    let sums = |sql: String| {
        ctx.store
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
    flow,
    contract_events_become_the_ledger_on_sqlite,
    contract_events_become_the_ledger_on_postgres
);

/// A block contract's extension runs its beds' commitments on to the new end, whether it
/// arrives before or after the contract, once however often it is delivered.
async fn block_extension(url: &str) {
    let ctx = ServiceCtx::start(url, finance::NAME, &SETS, finance::start).await;
    let app = ctx.app().await;
    let liverpool = ctx.token(LIVERPOOL, Role::Finance);
    let block = Uuid::now_v7();
    let extended = |n: u16, previous: NaiveDate, new: NaiveDate| BlockContractExtended {
        block_contract_id: block,
        lead_council: SEFTON.into(),
        provider_id: "prov-care-assist".into(),
        previous_end_date: previous,
        new_end_date: new,
        extensions_used: n,
        extensions_left: 2u16.saturating_sub(n),
    };
    // The second extension arrives first, then the contract, then the first extension.
    aim(&ctx, &extended(2, d(2018, 5, 31), d(2018, 6, 30))).await;
    aim(
        &ctx,
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
    aim(&ctx, &extended(1, d(2018, 4, 30), d(2018, 5, 31))).await;
    assert!(dead_letters(&ctx).await.is_empty());

    let (status, body) = call(
        &app,
        "GET",
        "/v1/ledger?partnership=AIM&year=2018",
        &liverpool,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
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

    // An extension for a block contract let in another partnership is refused.
    ctx.publish_envelope(&Envelope::new(
        "contract",
        "LCR-PPA",
        &extended(3, d(2018, 6, 30), d(2018, 7, 31)),
    ))
    .await;
    assert_eq!(dead_letters(&ctx).await, vec![BlockContractExtended::TYPE]);
}

on_both!(
    block_extension,
    a_block_extension_runs_the_beds_on_sqlite,
    a_block_extension_runs_the_beds_on_postgres
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

/// A variation of a service contract's value is phased by day from mid-month to the end
/// date it was phased to, to the penny, cut by a termination; the lines are the same
/// whatever order the let, the variation and the termination arrive in, each delivered twice.
async fn service_variation(url: &str) {
    let ctx = ServiceCtx::start(url, finance::NAME, &SETS, finance::start).await;
    let app = ctx.app().await;
    let liverpool = ctx.token(LIVERPOOL, Role::Finance);
    let let_ = |id| ServiceContractLet {
        contract_id: id,
        lead_council: SEFTON.into(),
        provider_id: "prov-after-adoption".into(),
        services: vec!["birth_parent_counselling".into()],
        value_pence: 23_976_800,
        start_date: d(2018, 4, 1),
        end_date: d(2020, 3, 31),
        budget_line: "commissioned_adoption_support".into(),
        extensions_allowed: 0,
    };
    let varied = |id| ServiceContractVaried {
        contract_id: id,
        lead_council: SEFTON.into(),
        provider_id: "prov-after-adoption".into(),
        variation_id: Uuid::now_v7(),
        effective_on: d(2018, 10, 15),
        phased_to: d(2020, 3, 31),
        value_change_pence: 1_200_000,
        services: None,
    };
    let terminated = |id| ServiceContractTerminated {
        contract_id: id,
        lead_council: SEFTON.into(),
        provider_id: "prov-after-adoption".into(),
        terminated_on: d(2019, 11, 15),
        reason: "brought in-house".into(),
    };
    let ledgers = || async {
        let mut out = Vec::new();
        for year in [2018, 2019] {
            let (status, body) = call(
                &app,
                "GET",
                &format!("/v1/ledger?partnership=AIM&year={year}"),
                &liverpool,
                None,
            )
            .await;
            assert_eq!(status, 200, "{body}");
            out.push(body);
        }
        out
    };

    // Not terminated: the variation's periods add up to the change exactly.
    let whole = Uuid::now_v7();
    let variation = varied(whole);
    aim(&ctx, &let_(whole)).await;
    aim(&ctx, &variation).await;
    let lines = phased(&ledgers().await, whole);
    assert_eq!(lines, varied_lines(d(2020, 3, 31)));
    assert_eq!(
        lines.iter().map(|l| l.5).sum::<i64>(),
        23_976_800 + 1_200_000
    );

    // Terminated on 15 November 2019, the events in every order: the same lines each time,
    // November 2019 has 15 days of each, nothing after.
    let orders: [[usize; 3]; 6] = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    let mut contracts = Vec::new();
    for order in orders {
        let id = Uuid::now_v7();
        let variation = varied(id);
        for event in order {
            match event {
                0 => aim(&ctx, &let_(id)).await,
                1 => aim(&ctx, &variation).await,
                _ => aim(&ctx, &terminated(id)).await,
            }
        }
        contracts.push(id);
    }
    assert!(dead_letters(&ctx).await.is_empty());
    let read = ledgers().await;
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
    for (id, order) in contracts.iter().zip(orders) {
        let lines = phased(&read, *id);
        assert_eq!(lines, expected, "arrival order {order:?}");
        // 594 days of the contract's value; the change less 137 days (16 November – 31 March).
        assert_eq!(
            lines.iter().map(|l| l.5).sum::<i64>(),
            594 * 32_800 + 1_200_000 - 137 * 2_247
        );
    }

    // Refused, dead-lettered with nothing written: a variation of a contract let in AIM sent
    // in another partnership; one phased to a day before it takes effect.
    ctx.publish_envelope(&Envelope::new(
        "contract",
        "LCR-PPA",
        &ServiceContractVaried {
            variation_id: Uuid::now_v7(),
            ..variation.clone()
        },
    ))
    .await;
    ctx.publish_envelope(&Envelope::new(
        "contract",
        "AIM",
        &ServiceContractVaried {
            variation_id: Uuid::now_v7(),
            phased_to: d(2018, 10, 14),
            ..variation
        },
    ))
    .await;
    assert_eq!(
        dead_letters(&ctx).await,
        vec![ServiceContractVaried::TYPE, ServiceContractVaried::TYPE]
    );
    assert_eq!(
        phased(&ledgers().await, whole),
        varied_lines(d(2020, 3, 31))
    );
}

on_both!(
    service_variation,
    a_service_contract_variation_is_phased_by_day_on_sqlite,
    a_service_contract_variation_is_phased_by_day_on_postgres
);

/// A stored attribution no code knows is a fault to see, not a line to guess at: reading it
/// is a 500 (an alert), where the lines were once read with a fallback to `child`.
async fn unreadable_attribution(url: &str) {
    let ctx = ServiceCtx::start(url, finance::NAME, &SETS, finance::start).await;
    let app = ctx.app().await;
    let liverpool = ctx.token(LIVERPOOL, Role::Finance);
    let ledger = "/v1/ledger?partnership=AIM&year=2018";
    aim(
        &ctx,
        &PlacementStarted {
            placement_id: Uuid::now_v7(),
            order_id: Some(Uuid::now_v7()),
            referral_id: Uuid::now_v7(),
            council: SEFTON.into(),
            provider_id: "prov-care-assist".into(),
            weekly_rate_pence: 70_000,
            extras_weekly_pence: 0,
            start_date: d(2018, 5, 10),
            block_contract_id: None,
            bed: None,
        },
    )
    .await;
    let (status, _) = call(&app, "GET", ledger, &liverpool, None).await;
    assert_eq!(status, 200);
    ctx.store
        .db
        .run(|c| {
            Ok(
                diesel::sql_query("UPDATE commitment_lines SET attribution = 'children'")
                    .execute(c)?,
            )
        })
        .await
        .unwrap();
    let (status, body) = call(&app, "GET", ledger, &liverpool, None).await;
    assert_eq!(status, 500, "{body}");
}

on_both!(
    unreadable_attribution,
    a_stored_attribution_no_code_knows_is_a_500_on_sqlite,
    a_stored_attribution_no_code_knows_is_a_500_on_postgres
);
