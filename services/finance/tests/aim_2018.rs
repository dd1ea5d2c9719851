//! Adoption in Merseyside, 2018/19, as its hosting authority (Liverpool) monitors it: the
//! pooled budget drawn from the four partners by fixed percentages that do not divide
//! evenly; placements starting and ending mid-period with a mid-month rate change; a service
//! contract phased over the year; a partner's CSV of payments uploaded twice and counted
//! once; a closed period with a late adjustment; and the monitoring report as at the end of
//! September (P6), every figure checked to the penny, parts adding up to the whole, and every
//! figure traced to the ledger lines and payments behind it. SQLite and PostgreSQL.
//!
//! The expected figures are worked out in the comments.

mod common;

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use common::{aim, d, pick, start};
use hub_events::{PlacementEnded, PlacementRateChanged, PlacementStarted, ServiceContractLet};
use hub_platform::Role;
use hub_platform::directory::{KNOWSLEY, LIVERPOOL, SEFTON, WIRRAL};
use hub_testkit::{assert_problem, on_both};
use serde_json::{Value, json};
use uuid::Uuid;

const MEMBERS: [&str; 4] = [LIVERPOOL, KNOWSLEY, SEFTON, WIRRAL];

/// The report as at the end of September, and its drill-down, for AIM's 2018/19.
const P6: &str = "partnership=AIM&year=2018&period=6";

const FIGURES: [&str; 6] = [
    "budget_pence",
    "actual_to_date_pence",
    "accrued_pence",
    "committed_rest_of_year_pence",
    "forecast_outturn_pence",
    "variance_pence",
];

async fn flow(url: &str) {
    let app = start(url).await;
    let finance = app.finance();
    let host = app.user_as("fin-lpool", LIVERPOOL, Role::Finance);
    let sefton = app.user_as("fin-sefton", SEFTON, Role::Finance);
    let wirral = app.user_as("fin-wirral", WIRRAL, Role::Finance);

    // The budget: £1,100,000.07 in four lines. Shares that do not make 100% are refused.
    let body = |shares: [i64; 4]| {
        json!({
            "partnership": "AIM", "year": 2018,
            "lines": [
                {"budget_line": "staffing", "amount_pence": 60_000_000},
                {"budget_line": "inter_agency_fees", "amount_pence": 15_000_007},
                {"budget_line": "commissioned_adoption_support", "amount_pence": 10_000_000},
                {"budget_line": "placements", "amount_pence": 25_000_000}
            ],
            "costing_model": {"method": "fixed_percentages", "shares_bp": {
                LIVERPOOL: shares[0], KNOWSLEY: shares[1], SEFTON: shares[2], WIRRAL: shares[3]}},
            "risk_share": {"pool_pence": 100_000,
                           "share": {"method": "blend", "contribution_bp": 5_000, "usage_bp": 5_000}},
            "reason": "agreed by the AIM Governance board"
        })
    };
    let got = finance
        .set_budget(&host, &body([3733, 1867, 2150, 2200]))
        .await;
    assert_problem(
        &got,
        422,
        "validation",
        Some(("/costing_model/shares_bp", "sum")),
    );
    let (status, budget) = finance
        .set_budget(&host, &body([3733, 1867, 2150, 2250]))
        .await;
    assert_eq!(status, 201, "{budget}");
    let budget_id = budget["id"].as_str().unwrap().to_owned();
    // 110,000,007 × 37.33% = 41,063,002.6131, × 18.67% = 20,537,001.3069, × 21.5% =
    // 23,650,001.505, × 22.5% = 24,750,001.575: floors 110,000,005, the two pennies left to
    // the largest remainders (Liverpool .6131, Wirral .575).
    let contributions: Vec<i64> = budget["version"]["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["amount_pence"].as_i64().unwrap())
        .collect();
    assert_eq!(
        contributions,
        vec![41_063_003, 20_537_001, 23_650_001, 24_750_002]
    );
    assert_eq!(contributions.iter().sum::<i64>(), 110_000_007);

    // Sefton's child from 10 May at £2,149 + £100 extras a week; IPA v2 from 15 June at
    // £1,988; last night 20 August. Wirral's child from 17 September at £1,500, still placed.
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    aim(
        &app,
        &PlacementStarted {
            placement_id: a,
            order_id: Some(Uuid::now_v7()),
            referral_id: Uuid::now_v7(),
            council: SEFTON.into(),
            provider_id: "prov-foster-a".into(),
            weekly_rate_pence: 214_900,
            extras_weekly_pence: 10_000,
            start_date: d(2018, 5, 10),
            block_contract_id: None,
            bed: None,
        },
    )
    .await;
    aim(
        &app,
        &PlacementRateChanged {
            placement_id: a,
            council: SEFTON.into(),
            provider_id: "prov-foster-a".into(),
            weekly_rate_pence: 198_800,
            extras_weekly_pence: 0,
            effective_from: d(2018, 6, 15),
            ipa_version: 2,
            block_contract_id: None,
        },
    )
    .await;
    aim(
        &app,
        &PlacementEnded {
            placement_id: a,
            council: SEFTON.into(),
            provider_id: "prov-foster-a".into(),
            end_date: d(2018, 8, 20),
            reason: "adoption".into(),
            block_contract_id: None,
            bed: None,
        },
    )
    .await;
    aim(
        &app,
        &PlacementStarted {
            placement_id: b,
            order_id: Some(Uuid::now_v7()),
            referral_id: Uuid::now_v7(),
            council: WIRRAL.into(),
            provider_id: "prov-foster-b".into(),
            weekly_rate_pence: 150_000,
            extras_weekly_pence: 0,
            start_date: d(2018, 9, 17),
            block_contract_id: None,
            bed: None,
        },
    )
    .await;
    // Sefton lets adoption support for all four: £100,000.01 over the year (27,397p a day,
    // the first 96 days a penny more).
    let service = Uuid::now_v7();
    aim(
        &app,
        &ServiceContractLet {
            contract_id: service,
            lead_council: SEFTON.into(),
            provider_id: "prov-after-adoption".into(),
            services: vec![
                "access_to_records".into(),
                "birth_parent_counselling".into(),
                "letterbox".into(),
            ],
            value_pence: 10_000_001,
            start_date: d(2018, 4, 1),
            end_date: d(2019, 3, 31),
            budget_line: "commissioned_adoption_support".into(),
            extensions_allowed: 0,
        },
    )
    .await;

    // Payments. Liverpool records staffing (and a Knowsley inter-agency fee) as JSON.
    let post_json = |period: i64, payments: Value| json!({"partnership": "AIM", "year": 2018, "period": period, "payments": payments});
    for (period, payments) in [
        (
            1,
            json!([
            {"payment_reference": "LIV-S-01", "paid_on": "2018-04-30", "budget_line": "staffing", "amount_pence": 5_000_000},
            {"payment_reference": "KNO-F-01", "paid_on": "2018-04-20", "budget_line": "inter_agency_fees",
             "amount_pence": 2_700_000, "council": KNOWSLEY}]),
        ),
        (
            2,
            json!([{"payment_reference": "LIV-S-02", "paid_on": "2018-05-31", "budget_line": "staffing", "amount_pence": 5_000_000}]),
        ),
        (
            4,
            json!([
            {"payment_reference": "LIV-S-04", "paid_on": "2018-07-31", "budget_line": "staffing", "amount_pence": 5_000_000},
            {"payment_reference": "SEF-PL-07", "paid_on": "2018-07-31", "budget_line": "placements",
             "amount_pence": 880_400, "council": SEFTON, "contract_id": a.to_string()}]),
        ),
    ] {
        let (status, up) = finance
            .upload_payments(&host, &post_json(period, payments))
            .await;
        assert_eq!(status, 201, "{up}");
    }
    // Sefton's CSV for P3: May's placement invoice, an inter-agency fee, April's support.
    let p3 = "partnership=AIM&year=2018&period=3";
    let file = "payment_reference,paid_on,budget_line,amount,contract_id\n\
                SEF-PL-05,2018-06-05,placements,7068.29,PLACEMENT\n\
                SEF-F-01,2018-06-20,inter_agency_fees,\"27,000.00\",\n\
                SEF-CAS-04,2018-06-28,commissioned_adoption_support,8219.40,SERVICE\n"
        .replace("PLACEMENT", &a.to_string())
        .replace("SERVICE", &service.to_string());
    // A bad amount and an unknown budget line: refused, nothing applied.
    let bad = file
        .replace("8219.40", "8219.4O")
        .replace("inter_agency_fees", "interagency");
    let got = finance.upload_csv(&sefton, p3, &bad).await;
    assert_problem(
        &got,
        422,
        "validation",
        Some(("/rows/3/budget_line", "one_of")),
    );
    assert_problem(&got, 422, "validation", Some(("/rows/4/amount", "format")));
    let (status, first) = finance.upload_csv(&sefton, p3, &file).await;
    assert_eq!(
        (status, first["applied_pence"].as_i64()),
        (201, Some(706_829 + 2_700_000 + 821_940)),
        "{first}"
    );
    let (status, again) = finance.upload_csv(&sefton, p3, &file).await;
    assert_eq!(
        (status, again["duplicate"].as_bool()),
        (200, Some(true)),
        "{again}"
    );

    // P1–P3 close. Wirral's late fee for P3 is refused as it stands, then posted to P4.
    for p in 1..=3 {
        let (status, _) = finance.close_period(&host, &budget_id, p).await;
        assert_eq!(status, 200);
    }
    let late = "payment_reference,paid_on,budget_line,amount\nWIR-F-01,2018-06-29,inter_agency_fees,27000\n";
    let got = finance.upload_csv(&wirral, p3, late).await;
    assert_problem(&got, 409, "period-closed", None);
    let (status, adjusted) = finance
        .upload_csv(&wirral, &format!("{p3}&adjust=true"), late)
        .await;
    assert_eq!(
        (status, adjusted["posted_period"].as_i64()),
        (201, Some(4)),
        "{adjusted}"
    );

    // The report as at the end of September.
    let (status, r) = finance.monitoring(&host, P6).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        (r["as_at"].as_str(), r["budget_version"].as_i64()),
        (Some("2018-09-30"), Some(1))
    );
    let lines: Vec<(String, Vec<i64>)> = r["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["budget_line"].as_str().unwrap().to_owned(),
                pick(l, &FIGURES),
            )
        })
        .collect();
    // Lines in name order. Staffing: three payments of £50,000. Fees: Knowsley's, Sefton's and Wirral's late one.
    // Support: April's £8,219.40 paid; October–March committed 849,307 × 4 + 821,910 +
    // 767,116 = 4,986,254. Placements: 706,829 + 880,400 paid; Wirral's child October–March
    // 664,286 × 4 + 642,857 + 600,000 = 3,900,001 committed (Sefton's ended in August).
    // Accrued (issue 10 rule 12; these were in no figure before): support's April–September
    // lines 5,013,747 less the 821,940 paid = 4,191,807; placements: Sefton's child's
    // 3,059,429 less 1,587,229 paid = 1,472,200, and Wirral's child's September 300,000
    // unpaid: 1,772,200. The forecast is then each line's cost for the year (or what was
    // paid where more was paid than the ledger holds: the fees and staffing have no lines).
    assert_eq!(
        lines,
        vec![
            (
                "commissioned_adoption_support".into(),
                vec![10_000_000, 821_940, 4_191_807, 4_986_254, 10_000_001, 1]
            ),
            (
                "inter_agency_fees".into(),
                vec![15_000_007, 8_100_000, 0, 0, 8_100_000, -6_900_007]
            ),
            (
                "placements".into(),
                vec![
                    25_000_000,
                    1_587_229,
                    1_772_200,
                    3_900_001,
                    7_259_430,
                    -17_740_570
                ]
            ),
            (
                "staffing".into(),
                vec![60_000_000, 15_000_000, 0, 0, 15_000_000, -45_000_000]
            ),
        ]
    );
    let totals = pick(&r["totals"], &FIGURES);
    assert_eq!(
        totals,
        vec![
            110_000_007,
            25_509_169,
            5_964_007,
            8_886_255,
            40_359_431,
            -69_640_576
        ]
    );
    for (i, total) in totals.iter().enumerate() {
        assert_eq!(
            lines.iter().map(|l| l.1[i]).sum::<i64>(),
            *total,
            "{}",
            FIGURES[i]
        );
    }
    // The underspend goes back half by contribution, half by usage (the pool is for
    // overspends): 69,640,576 = 34,820,288 × 2. By contribution: 12,998,413 / 6,500,948 /
    // 7,486,362 / 7,834,565. By own children's costs (Sefton's 3,059,429, Wirral's
    // 4,200,001): 14,674,733 / 20,145,555.
    let partners: Vec<Vec<i64>> = r["partners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            pick(
                p,
                &[
                    "contribution_pence",
                    "own_children_costs_pence",
                    "variance_share_pence",
                ],
            )
        })
        .collect();
    assert_eq!(
        partners,
        vec![
            vec![41_063_003, 0, -12_998_413],
            vec![20_537_001, 0, -6_500_948],
            vec![23_650_001, 3_059_429, -7_486_362 - 14_674_733],
            vec![24_750_002, 4_200_001, -7_834_565 - 20_145_555],
        ]
    );
    assert_eq!(partners.iter().map(|p| p[2]).sum::<i64>(), -69_640_576);
    let sharing = &r["risk_share"];
    assert_eq!(
        pick(
            sharing,
            &[
                "variance_pence",
                "from_pool_pence",
                "shared_pence",
                "unmet_pence"
            ]
        ),
        vec![-69_640_576, 0, -69_640_576, 0]
    );
    let sefton_steps = sharing["partners"][2]["steps"].as_array().unwrap();
    assert_eq!(sefton_steps.len(), 2);
    assert_eq!(
        (
            sefton_steps[1]["part"].as_str(),
            sefton_steps[1]["split_pence"].as_i64(),
            sefton_steps[1]["amount_pence"].as_i64()
        ),
        (Some("usage"), Some(-34_820_288), Some(-14_674_733))
    );
    // The host sees every partner's detail and the partnership's own: actual, accrued,
    // committed, forecast; they add up to the totals. The support contract Sefton let for all
    // of AIM is AIM's (its committed October–March), not Sefton's; Sefton's payment of its
    // invoices stays Sefton's actual and is counted against AIM's cost in the accrued figure.
    let detail: Vec<(String, Vec<i64>)> = r["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["council"].as_str().unwrap().to_owned(),
                pick(&d["totals"], &FIGURES[1..5]),
            )
        })
        .collect();
    assert_eq!(
        detail,
        vec![
            (LIVERPOOL.into(), vec![15_000_000, 0, 0, 15_000_000]),
            (KNOWSLEY.into(), vec![2_700_000, 0, 0, 2_700_000]),
            (SEFTON.into(), vec![5_109_169, 1_472_200, 0, 6_581_369]),
            (
                WIRRAL.into(),
                vec![2_700_000, 300_000, 3_900_001, 6_900_001]
            ),
            ("AIM".into(), vec![0, 4_191_807, 4_986_254, 9_178_061]),
        ]
    );
    // Drilling into the partnership's own detail gives the report's figures: its accrued is
    // matched against what Sefton paid on the support line beyond its own cost there.
    for (measure, value) in [("accrued", 4_191_807), ("forecast", 9_178_061)] {
        let (status, drill) = finance
            .drill(&host, &format!("{P6}&council=AIM&measure={measure}"))
            .await;
        assert_eq!(status, 200, "{drill}");
        assert_eq!(
            drill["total_pence"].as_i64(),
            Some(value),
            "{measure}: {drill}"
        );
    }
    for i in 0..4 {
        assert_eq!(
            detail.iter().map(|d| d.1[i]).sum::<i64>(),
            totals[i + 1],
            "{}",
            FIGURES[i + 1]
        );
    }
    // Each partner's detail line sets its spend beside its share of the line's budget (the
    // line split by contribution), not beside 0 (issue 10 rule 13): the shares add up to
    // each line's budget, a partner's to its contribution within a few pence, and the
    // variance is against the share.
    for (i, (name, figures)) in lines.iter().enumerate() {
        let shares: Vec<i64> = r["detail"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let l = &d["lines"][i];
                assert_eq!(l["budget_line"], name.as_str());
                let f = pick(l, &FIGURES);
                assert_eq!(f[5], f[4] - f[0], "{name}: variance against the share");
                f[0]
            })
            .collect();
        assert_eq!(shares.iter().sum::<i64>(), figures[0], "{name}");
    }
    for (d, p) in r["detail"].as_array().unwrap().iter().zip(&partners) {
        let budget = d["totals"]["budget_pence"].as_i64().unwrap();
        assert!((budget - p[0]).abs() <= 4, "{budget} against {}", p[0]);
    }
    // Sefton's placements: 23,650,001 / 110,000,007 of £250,000.00.
    assert_eq!(
        pick(&r["detail"][2]["lines"][2], &FIGURES),
        vec![
            5_375_000,
            1_587_229,
            1_472_200,
            0,
            3_059_429,
            3_059_429 - 5_375_000
        ]
    );
    // The trend, P1 to P6: paid in the period, paid to date, accrued, committed after,
    // forecast, variance.
    let trend: Vec<Vec<i64>> = r["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            pick(
                t,
                &[
                    "period",
                    "actual_in_period_pence",
                    "actual_to_date_pence",
                    "accrued_pence",
                    "committed_rest_of_year_pence",
                    "forecast_outturn_pence",
                    "variance_pence",
                ],
            )
        })
        .collect();
    for t in &trend {
        assert_eq!(t[5], t[2] + t[3] + t[4], "P{}: forecast", t[0]);
    }
    // April's support (821,940) is incurred in P1 and paid in P3; from P4 every cost of the
    // year is paid, accrued or committed, so the forecast stands at the year's cost.
    assert_eq!(
        trend,
        vec![
            vec![
                1,
                7_700_000,
                7_700_000,
                821_940,
                16_437_491,
                24_959_431,
                -85_040_576
            ],
            vec![
                2,
                5_000_000,
                12_700_000,
                2_378_107,
                14_881_324,
                29_959_431,
                -80_040_576
            ],
            vec![
                3,
                4_228_769,
                16_928_769,
                2_575_478,
                13_155_184,
                32_659_431,
                -77_340_576
            ],
            vec![
                4,
                8_580_400,
                25_509_169,
                3_424_790,
                11_425_472,
                40_359_431,
                -69_640_576
            ],
            vec![
                5,
                0,
                25_509_169,
                4_842_097,
                10_008_165,
                40_359_431,
                -69_640_576
            ],
            vec![
                6,
                0,
                25_509_169,
                5_964_007,
                8_886_255,
                40_359_431,
                -69_640_576
            ],
        ]
    );

    // Every figure traces to the lines and payments behind it: the actual and the committed
    // are their sum; the accrued is the sum of the accruals by line and council (cost to
    // date less paid to date, never below zero); the forecast is all three.
    for (name, figures) in &lines {
        for (measure, value) in [
            ("actual", figures[1]),
            ("accrued", figures[2]),
            ("committed", figures[3]),
            ("forecast", figures[4]),
        ] {
            let (status, drill) = finance
                .drill(&host, &format!("{P6}&budget_line={name}&measure={measure}"))
                .await;
            assert_eq!(status, 200, "{drill}");
            let sum: i64 = drill["commitment_lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["amount_pence"].as_i64().unwrap())
                .chain(
                    drill["payments"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| p["amount_pence"].as_i64().unwrap()),
                )
                .sum();
            let accruals = drill["accruals"].as_array().unwrap();
            let accrued: i64 = accruals
                .iter()
                .map(|a| {
                    let v = pick(
                        a,
                        &["cost_to_date_pence", "paid_to_date_pence", "accrued_pence"],
                    );
                    assert_eq!(v[2], (v[0] - v[1]).max(0), "{a}");
                    v[2]
                })
                .sum();
            let behind = match measure {
                "accrued" => accrued,
                "forecast" => figures[1] + accrued + figures[3],
                _ => sum,
            };
            assert_eq!(
                (behind, drill["total_pence"].as_i64().unwrap()),
                (value, value),
                "{name} {measure}"
            );
        }
    }
    let (_, fees) = finance
        .drill(
            &host,
            &format!("{P6}&budget_line=inter_agency_fees&measure=actual"),
        )
        .await;
    let late_fee = fees["payments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["payment_reference"] == "WIR-F-01")
        .unwrap();
    assert_eq!(
        (
            late_fee["period"].as_i64(),
            late_fee["adjusts_period"].as_i64()
        ),
        (Some(4), Some(3))
    );
    let (_, usage) = finance
        .drill(
            &host,
            &format!("{P6}&measure=own_children_costs&council={WIRRAL}"),
        )
        .await;
    assert_eq!(usage["total_pence"], 4_200_001, "{usage}");
    assert!(
        usage["commitment_lines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["source_id"] == b.to_string())
    );

    // A partner sees the consolidated figures and its own detail only, and cannot drill into
    // another partner's.
    let (_, mine) = finance.monitoring(&sefton, P6).await;
    assert_eq!(pick(&mine["totals"], &FIGURES), totals);
    assert_eq!(mine["partners"].as_array().unwrap().len(), 4);
    assert_eq!(mine["detail"].as_array().unwrap().len(), 2);
    assert_eq!(mine["detail"][0]["council"], SEFTON);
    assert_eq!(mine["detail"][1]["council"], "AIM");
    let got = finance
        .drill(&sefton, &format!("{P6}&measure=committed&council={WIRRAL}"))
        .await;
    assert_problem(&got, 404, "not-found", None);
    let (_, own) = finance
        .drill(&sefton, &format!("{P6}&measure=forecast"))
        .await;
    assert_eq!(
        (own["council"].as_str(), own["total_pence"].as_i64()),
        (Some(SEFTON), Some(6_581_369))
    );
    assert!(
        own["commitment_lines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["council"] == SEFTON)
    );
    assert!(
        own["payments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["council"] == SEFTON)
    );

    // CSV: the budget lines view, pounds to the penny.
    let (status, _) = finance.monitoring(&host, &format!("{P6}&format=pdf")).await;
    assert_eq!(status, 422);
    let res = finance.export(&host, &format!("{P6}&format=csv")).await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-type").unwrap().starts_with("text/csv"));
    let text = String::from_utf8(res.body).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(
        rows[0],
        "budget_line,budget,actual_to_date,accrued,committed_rest_of_year,forecast_outturn,variance"
    );
    assert_eq!(
        rows[1],
        "commissioned_adoption_support,100000.00,8219.40,41918.07,49862.54,100000.01,0.01"
    );
    assert_eq!(
        rows[5],
        "total,1100000.07,255091.69,59640.07,88862.55,403594.31,-696405.76"
    );
    // The detail view carries the JSON's columns: each partner's share of the line's budget
    // and its variance against it.
    let res = finance
        .export(&host, &format!("{P6}&format=csv&view=detail"))
        .await;
    let text = String::from_utf8(res.body).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(
        rows[0],
        "council,budget_line,budget,actual_to_date,accrued,committed_rest_of_year,forecast_outturn,variance"
    );
    assert_eq!(
        rows[13],
        format!("{SEFTON},placements,53750.00,15872.29,14722.00,0.00,30594.29,-23155.71")
    );

    // XLSX: a real workbook, a sheet per view, numbers as numbers in pounds.
    let res = finance.export_xlsx(&host, P6).await;
    assert_eq!(res.status, 200);
    let bytes = res.body;
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("an XLSX workbook");
    assert_eq!(
        book.sheet_names(),
        vec![
            "Report",
            "Budget lines",
            "Partners",
            "Detail",
            "Trend",
            "Block savings"
        ]
    );
    let sheet = book.worksheet_range("Budget lines").unwrap();
    assert_eq!(
        sheet.get_value((0, 0)),
        Some(&Data::String("budget_line".into()))
    );
    assert_eq!(
        sheet.get_value((3, 0)),
        Some(&Data::String("placements".into()))
    );
    for (col, pence) in [
        (1, 25_000_000i64),
        (2, 1_587_229),
        (3, 1_772_200),
        (4, 3_900_001),
        (5, 7_259_430),
        (6, -17_740_570),
    ] {
        match sheet.get_value((3, col)) {
            Some(Data::Float(f)) => assert_eq!((f * 100.0).round() as i64, pence, "column {col}"),
            other => panic!("column {col}: {other:?}"),
        }
    }
    let partners_sheet = book.worksheet_range("Partners").unwrap();
    match partners_sheet.get_value((4, 4)) {
        Some(Data::Float(f)) => assert_eq!((f * 100.0).round() as i64, -7_834_565 - 20_145_555),
        other => panic!("{other:?}"),
    }
    // The Detail sheet: the same columns as the JSON and the CSV.
    let detail_sheet = book.worksheet_range("Detail").unwrap();
    let headers: Vec<String> = (0..8)
        .map(|c| match detail_sheet.get_value((0, c)) {
            Some(Data::String(s)) => s.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        headers.join(","),
        "council,budget_line,budget,actual_to_date,accrued,committed_rest_of_year,forecast_outturn,variance"
    );
    match detail_sheet.get_value((13, 2)) {
        Some(Data::Float(f)) => assert_eq!((f * 100.0).round() as i64, 5_375_000),
        other => panic!("{other:?}"),
    }
    assert_eq!(MEMBERS.len(), 4);
}

on_both!(flow, aim_2018_19_on_sqlite, aim_2018_19_on_postgres);
