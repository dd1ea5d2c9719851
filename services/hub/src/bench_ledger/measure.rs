//! Timing the monitoring report the way finance staff get it (over HTTP from the running
//! service), the plain SQL aggregate over the same rows, and checking they agree.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use diesel::{
    PgConnection, QueryableByName, RunQueryDsl,
    sql_types::{BigInt, Integer, Text},
};
use finance::store::{budgets, reports};
use hub_platform::Database;
use serde::Serialize;
use serde_json::Value;

/// Milliseconds at the 50th and 99th percentiles (nearest rank) and the slowest.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Percentiles {
    pub n: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Percentiles {
    pub fn of(samples: &[Duration]) -> Self {
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        let rank = |q: f64| {
            if ms.is_empty() {
                0.0
            } else {
                ms[((q * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1]
            }
        };
        Self {
            n: ms.len(),
            p50_ms: rank(0.50),
            p99_ms: rank(0.99),
            max_ms: ms.last().copied().unwrap_or(0.0),
        }
    }
}

/// Actual to date and committed for the rest of the year, by partnership and budget line
/// (lines with neither left out).
pub type Totals = BTreeMap<(String, String), (i64, i64)>;

/// One report's figures by line, from its JSON.
pub fn report_totals(report: &Value) -> anyhow::Result<Totals> {
    let partnership = report["partnership"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("the report names no partnership: {report}"))?;
    let mut out = Totals::new();
    for l in report["lines"].as_array().into_iter().flatten() {
        let (actual, committed) = (
            l["actual_to_date_pence"].as_i64().unwrap_or(0),
            l["committed_rest_of_year_pence"].as_i64().unwrap_or(0),
        );
        if actual != 0 || committed != 0 {
            let line = l["budget_line"].as_str().unwrap_or_default().to_owned();
            out.insert((partnership.to_owned(), line), (actual, committed));
        }
    }
    Ok(out)
}

/// `GET /v1/monitoring` for a partnership's year as at a period, as its hosting authority's
/// finance staff.
pub async fn report(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    partnership: &str,
    year: i32,
    period: i32,
) -> anyhow::Result<(Duration, Value)> {
    let started = Instant::now();
    let r = client
        .get(format!(
            "{url}/v1/monitoring?partnership={partnership}&year={year}&period={period}"
        ))
        .bearer_auth(token)
        .send()
        .await?;
    let status = r.status();
    let body = r.bytes().await?;
    let took = started.elapsed();
    anyhow::ensure!(
        status.is_success(),
        "GET /v1/monitoring {partnership} {year} P{period}: {status} {}",
        String::from_utf8_lossy(&body)
    );
    Ok((took, serde_json::from_slice(&body)?))
}

#[derive(QueryableByName)]
struct PlainRow {
    #[diesel(sql_type = Text)]
    partnership: String,
    #[diesel(sql_type = Text)]
    budget_line: String,
    #[diesel(sql_type = BigInt)]
    actual: i64,
    #[diesel(sql_type = BigInt)]
    committed: i64,
}

/// The plain aggregate: payments counted in periods up to `period` and ledger lines of the
/// periods after it, summed by partnership and budget line, in one statement over the same
/// rows the report reads. One partnership's, or (`None`) every partnership's.
pub fn plain_aggregate(
    conn: &mut PgConnection,
    partnership: Option<&str>,
    year: i32,
    period: i32,
) -> anyhow::Result<Totals> {
    let rows: Vec<PlainRow> = match partnership {
        Some(p) => diesel::sql_query(
            "SELECT partnership, budget_line, CAST(SUM(actual) AS BIGINT) AS actual, \
                    CAST(SUM(committed) AS BIGINT) AS committed \
             FROM (SELECT partnership, budget_line, 0 AS actual, amount_pence AS committed \
                   FROM commitment_lines WHERE partnership = $1 AND year = $2 AND period > $3 \
                   UNION ALL \
                   SELECT partnership, budget_line, amount_pence, 0 \
                   FROM payments WHERE partnership = $1 AND year = $2 AND period <= $3) x \
             GROUP BY partnership, budget_line",
        )
        .bind::<Text, _>(p)
        .bind::<Integer, _>(year)
        .bind::<Integer, _>(period)
        .load(conn)?,
        None => diesel::sql_query(
            "SELECT partnership, budget_line, CAST(SUM(actual) AS BIGINT) AS actual, \
                    CAST(SUM(committed) AS BIGINT) AS committed \
             FROM (SELECT partnership, budget_line, 0 AS actual, amount_pence AS committed \
                   FROM commitment_lines WHERE year = $1 AND period > $2 \
                   UNION ALL \
                   SELECT partnership, budget_line, amount_pence, 0 \
                   FROM payments WHERE year = $1 AND period <= $2) x \
             GROUP BY partnership, budget_line",
        )
        .bind::<Integer, _>(year)
        .bind::<Integer, _>(period)
        .load(conn)?,
    };
    Ok(rows
        .into_iter()
        .filter(|r| r.actual != 0 || r.committed != 0)
        .map(|r| ((r.partnership, r.budget_line), (r.actual, r.committed)))
        .collect())
}

/// Times `f` `runs` times after `warmup` untimed runs; the last result.
pub fn time<T>(
    warmup: usize,
    runs: usize,
    mut f: impl FnMut() -> anyhow::Result<T>,
) -> anyhow::Result<(Vec<Duration>, T)> {
    let mut last = None;
    for _ in 0..warmup {
        last = Some(f()?);
    }
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let v = f()?;
        samples.push(started.elapsed());
        last = Some(v);
    }
    Ok((
        samples,
        last.ok_or_else(|| anyhow::anyhow!("nothing was run"))?,
    ))
}

/// Where one report's time goes in the database: each read `monitoring::build` makes, run
/// through finance's own store functions on the service's pool, p50 of `runs`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Breakdown {
    /// The budget and the version in force in each period to the one asked for, as the
    /// report reads them (`versions_in_force`: three statements whatever the periods).
    pub budget_ms: f64,
    pub commitment_sums_ms: f64,
    pub commitment_sum_rows: usize,
    pub payment_sums_ms: f64,
    pub payment_sum_rows: usize,
    pub block_days_ms: f64,
}

pub async fn breakdown(
    db: &Database,
    partnership: &'static str,
    year: i32,
    period: i32,
    runs: usize,
) -> anyhow::Result<Breakdown> {
    let db = db.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = db.get()?;
        let conn = &mut *conn;
        let p50 = |s: &[Duration]| Percentiles::of(s).p50_ms;
        let (s, _) = time(2, runs, || {
            let b = budgets::budget_for(conn, partnership, year)?
                .ok_or_else(|| anyhow::anyhow!("no budget"))?;
            budgets::versions_in_force(conn, &b.id, period)?;
            Ok(())
        })?;
        let budget_ms = p50(&s);
        let (s, c) = time(2, runs, || {
            Ok(reports::commitment_sums(conn, partnership, year)?)
        })?;
        let commitment_sums_ms = p50(&s);
        let (s, p) = time(2, runs, || {
            Ok(reports::payment_sums(conn, partnership, year)?)
        })?;
        let payment_sums_ms = p50(&s);
        let (s, _) = time(2, runs, || {
            Ok(reports::block_days(conn, partnership, year, period)?)
        })?;
        Ok(Breakdown {
            budget_ms,
            commitment_sums_ms,
            commitment_sum_rows: c.len(),
            payment_sums_ms,
            payment_sum_rows: p.len(),
            block_days_ms: p50(&s),
        })
    })
    .await?
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of a statement, as text.
pub fn explain(conn: &mut PgConnection, sql: &str) -> anyhow::Result<String> {
    #[derive(QueryableByName)]
    struct Plan {
        #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
        line: String,
    }
    let plan: Vec<Plan> =
        diesel::sql_query(format!("EXPLAIN (ANALYZE, BUFFERS) {sql}")).load(conn)?;
    Ok(plan
        .into_iter()
        .map(|p| p.line)
        .collect::<Vec<_>>()
        .join("\n"))
}

/// The load averages (1, 5, 15 minutes) from /proc/loadavg, as `uptime` shows them.
pub fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut it = text.split_whitespace().map(|v| v.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}
