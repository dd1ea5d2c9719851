//! `hub seed`'s demo data, loaded through the services' REST APIs as the command loads it:
//! the LCR PPA framework, and Adoption in Merseyside's pooled budget for this financial year
//! with a live adoption support contract whose cost reaches the AIM ledger and the monitoring
//! report. Embedded and distributed.

use chrono::Utc;
use hub_acceptance::{Client, TestPlatform};
use hub_platform::{
    Role,
    calendar::{FinancialYear, period_of},
    directory::{KNOWSLEY, LIVERPOOL, SEFTON, WIRRAL},
};
use serde_json::Value;

async fn seeded(p: &TestPlatform) {
    let http = Client::default();
    let lcr = hub::seed::seed(&p.urls.competition, &p.auth)
        .await
        .expect("LCR PPA seed");
    assert!(!lcr.framework_id.is_empty() && !lcr.foster_lot.is_empty());
    let aim = hub::seed::seed_aim(&p.urls.finance, &p.urls.contract, &p.auth)
        .await
        .expect("AIM seed");
    let today = Utc::now().date_naive();
    let year = FinancialYear::containing(today);
    assert_eq!(aim.year, year.0);

    // The budget, drawn by fixed percentages that do not divide it evenly: 37.33 %, 18.67 %,
    // 21.5 % and 22.5 % of £1,100,000.07, the two pennies left over to the largest remainders.
    let finance = p.token(LIVERPOOL, &[Role::Finance]);
    let budget = http
        .get(
            &format!("{}/v1/budgets/{}", p.urls.finance, aim.budget_id),
            Some(&finance),
        )
        .await;
    assert_eq!(budget.status, 200, "{:?}", budget.body);
    let contributions: Vec<(String, i64)> = budget.body["version"]["contributions"]
        .as_array()
        .expect("contributions")
        .iter()
        .map(|c| {
            (
                c["council"].as_str().unwrap_or_default().to_owned(),
                c["amount_pence"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        contributions,
        vec![
            (LIVERPOOL.to_owned(), 41_063_003),
            (KNOWSLEY.to_owned(), 20_537_001),
            (SEFTON.to_owned(), 23_650_001),
            (WIRRAL.to_owned(), 24_750_002),
        ]
    );

    // The adoption support contract runs the whole year, so its lines cover every day of it,
    // on the commissioned adoption support line, tagged with the contract.
    let ledger = http
        .get_until(
            &format!(
                "{}/v1/ledger?partnership=AIM&year={}",
                p.urls.finance, year.0
            ),
            &finance,
            20,
            |r| r.body["committed_pence"].as_i64().unwrap_or(0) > 0,
        )
        .await;
    let lines = ledger.body["lines"].as_array().expect("lines");
    let days: i64 = lines.iter().map(|l| l["days"].as_i64().unwrap_or(0)).sum();
    assert_eq!(
        days,
        (year.end() - year.start()).num_days() + 1,
        "{lines:?}"
    );
    assert!(lines.iter().all(|l| {
        l["source_kind"] == "service_contract"
            && l["contract_id"] == aim.service_contract_id.as_str()
            && l["budget_line"] == "commissioned_adoption_support"
            && l["amount_pence"].as_i64().is_some_and(|a| a > 0)
    }));
    let committed = ledger.body["committed_pence"].as_i64().unwrap();
    assert!(committed < 24_000_000, "a year of a two-year contract");

    // The monitoring report as at this period: the budget in full, and the contract's cost
    // for the periods after it committed on its line.
    let period = period_of(today) as i32;
    let report = http
        .get(
            &format!(
                "{}/v1/monitoring?partnership=AIM&year={}&period={period}",
                p.urls.finance, year.0
            ),
            Some(&finance),
        )
        .await;
    assert_eq!(report.status, 200, "{:?}", report.body);
    assert_eq!(report.body["totals"]["budget_pence"], 110_000_007);
    let line = |name: &str| -> Value {
        report.body["lines"]
            .as_array()
            .and_then(|ls| ls.iter().find(|l| l["budget_line"] == name).cloned())
            .unwrap_or_else(|| panic!("no {name} line in {:?}", report.body))
    };
    let after: i64 = lines
        .iter()
        .filter(|l| l["period"].as_i64().unwrap_or(0) > i64::from(period))
        .map(|l| l["amount_pence"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(
        line("commissioned_adoption_support")["committed_rest_of_year_pence"],
        after
    );
    assert_eq!(line("staffing")["budget_pence"], 60_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_demo_seed_embedded() {
    let p = TestPlatform::embedded().await;
    seeded(&p).await;
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_demo_seed_distributed() {
    let p = TestPlatform::distributed().await;
    seeded(&p).await;
    p.stop().await;
}
