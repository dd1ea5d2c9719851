//! Timing the monitoring report the way finance staff get it (over HTTP from the running
//! service), the plain SQL aggregate over the same rows, and checking they agree.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use diesel::{
    Connection, PgConnection, QueryableByName, RunQueryDsl,
    sql_types::{BigInt, Integer, Text},
};
use finance::api::monitoring::{Read, read_alone};
use hub_platform::{Database, Role};
use serde::Serialize;
use serde_json::Value;

use super::{LedgerArgs, national::National};

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

/// The report's figures that rest on the ledger and the payments, by partnership and figure:
/// each budget line's (`line <name>`) and each partner's line (`detail <council> <name>`)
/// actual to date, accrued and committed for the rest of the year; each partner's own
/// children's costs for the year (`own children <council>`, as (cost, 0, 0)); and the
/// trend's actual to date, accrued and committed as at the end of each period so far
/// (`trend P<n>`). Figures that are (0, 0, 0) are left out.
pub type Totals = BTreeMap<(String, String), (i64, i64, i64)>;

fn put(out: &mut Totals, partnership: &str, figure: String, v: (i64, i64, i64)) {
    if v != (0, 0, 0) {
        out.insert((partnership.to_owned(), figure), v);
    }
}

/// One report's figures, from its JSON.
pub fn report_totals(report: &Value) -> anyhow::Result<Totals> {
    let partnership = report["partnership"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("the report names no partnership: {report}"))?;
    let pair = |v: &Value| {
        (
            v["actual_to_date_pence"].as_i64().unwrap_or(0),
            v["accrued_pence"].as_i64().unwrap_or(0),
            v["committed_rest_of_year_pence"].as_i64().unwrap_or(0),
        )
    };
    let name = |v: &Value, key: &str| v[key].as_str().unwrap_or_default().to_owned();
    let mut out = Totals::new();
    for l in report["lines"].as_array().into_iter().flatten() {
        put(
            &mut out,
            partnership,
            format!("line {}", name(l, "budget_line")),
            pair(l),
        );
    }
    for d in report["detail"].as_array().into_iter().flatten() {
        let council = name(d, "council");
        for l in d["lines"].as_array().into_iter().flatten() {
            put(
                &mut out,
                partnership,
                format!("detail {council} {}", name(l, "budget_line")),
                pair(l),
            );
        }
    }
    for p in report["partners"].as_array().into_iter().flatten() {
        put(
            &mut out,
            partnership,
            format!("own children {}", name(p, "council")),
            (p["own_children_costs_pence"].as_i64().unwrap_or(0), 0, 0),
        );
    }
    for t in report["trend"].as_array().into_iter().flatten() {
        let period = t["period"].as_i64().unwrap_or(0);
        put(&mut out, partnership, format!("trend P{period}"), pair(t));
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
pub struct PlainRow {
    #[diesel(sql_type = Text)]
    partnership: String,
    #[diesel(sql_type = Integer)]
    period: i32,
    #[diesel(sql_type = Text)]
    budget_line: String,
    #[diesel(sql_type = Text)]
    council: String,
    /// `payment`, or the ledger line's attribution.
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = BigInt)]
    amount: i64,
}

/// The plain aggregate equivalent to the report: what the report's figures are computed
/// from, taken from the raw rows in one statement — the year's ledger lines summed by
/// period, budget line, council and attribution, and the payments counted in periods up to
/// `period` summed by period, budget line and council. One partnership's, or (`None`) every
/// partnership's. [`derive`] turns the rows into the report's figures.
pub fn plain_aggregate(
    conn: &mut PgConnection,
    partnership: Option<&str>,
    year: i32,
    period: i32,
) -> anyhow::Result<Vec<PlainRow>> {
    Ok(diesel::sql_query(PLAIN_AGGREGATE)
        .bind::<Integer, _>(year)
        .bind::<Integer, _>(period)
        .bind::<Text, _>(partnership.unwrap_or_default())
        .load(conn)?)
}

/// The plain aggregate's statement: `$1` the year, `$2` the period, `$3` the partnership or
/// '' for all.
pub const PLAIN_AGGREGATE: &str = "SELECT partnership, period, budget_line, council, attribution AS kind, \
                CAST(SUM(amount_pence) AS BIGINT) AS amount FROM commitment_lines \
         WHERE year = $1 AND ($3 = '' OR partnership = $3) \
         GROUP BY partnership, period, budget_line, council, attribution \
         UNION ALL \
         SELECT partnership, period, budget_line, council, 'payment', \
                CAST(SUM(amount_pence) AS BIGINT) FROM payments \
         WHERE year = $1 AND period <= $2 AND ($3 = '' OR partnership = $3) \
         GROUP BY partnership, period, budget_line, council";

/// Only the report's two headline figures by budget line — payments to the period and ledger
/// lines after it — in one statement; at P12 it reads no ledger line at all. Timed beside
/// the equivalent aggregate to show what the report's other figures cost.
pub fn headline_aggregate(
    conn: &mut PgConnection,
    partnership: &str,
    year: i32,
    period: i32,
) -> anyhow::Result<usize> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        #[allow(dead_code)]
        amount: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT CAST(SUM(amount_pence) AS BIGINT) AS amount \
         FROM (SELECT budget_line, amount_pence FROM commitment_lines \
               WHERE partnership = $1 AND year = $2 AND period > $3 \
               UNION ALL \
               SELECT budget_line, amount_pence FROM payments \
               WHERE partnership = $1 AND year = $2 AND period <= $3) x \
         GROUP BY budget_line",
    )
    .bind::<Text, _>(partnership)
    .bind::<Integer, _>(year)
    .bind::<Integer, _>(period)
    .load(conn)?;
    Ok(rows.len())
}

/// The report's figures (see [`Totals`]) from the plain aggregate's rows. The accrued is
/// worked out here on its own terms, not through finance's code: for each partnership,
/// budget line and council, the lines of periods 1..=k less the payments counted in them,
/// never below zero, as at k = the period (lines and detail) and each period so far (trend);
/// the partnership's own lines (under its code) less what partners paid on the line beyond
/// their own cost there.
pub fn derive(rows: &[PlainRow], period: i32) -> Totals {
    let mut sums: BTreeMap<(String, String), (i64, i64, i64)> = BTreeMap::new();
    let mut add = |partnership: &str, figure: String, v: (i64, i64, i64)| {
        let e = sums.entry((partnership.to_owned(), figure)).or_default();
        e.0 += v.0;
        e.1 += v.1;
        e.2 += v.2;
    };
    // By (partnership, line, council): ledger cost less payments in each period 1..=12.
    let mut unpaid: BTreeMap<(&str, &str, &str), [i64; 13]> = BTreeMap::new();
    for r in rows {
        let p = r.partnership.as_str();
        let by_period = unpaid
            .entry((p, r.budget_line.as_str(), r.council.as_str()))
            .or_insert([0; 13]);
        if r.kind == "payment" {
            by_period[r.period as usize] -= r.amount;
            let v = (r.amount, 0, 0);
            add(p, format!("line {}", r.budget_line), v);
            add(p, format!("detail {} {}", r.council, r.budget_line), v);
            for k in r.period..=period {
                add(p, format!("trend P{k}"), v);
            }
        } else {
            by_period[r.period as usize] += r.amount;
            if r.period > period {
                let v = (0, 0, r.amount);
                add(p, format!("line {}", r.budget_line), v);
                add(p, format!("detail {} {}", r.council, r.budget_line), v);
            }
            for k in 1..r.period.min(period + 1) {
                add(p, format!("trend P{k}"), (0, 0, r.amount));
            }
            if r.kind == "child" {
                add(p, format!("own children {}", r.council), (r.amount, 0, 0));
            }
        }
    }
    // Cumulative: cost less paid to the end of each period.
    for by_period in unpaid.values_mut() {
        for k in 1..13 {
            by_period[k] += by_period[k - 1];
        }
    }
    // What a partner paid on a line beyond its own cost there counts against the
    // partnership's own cost on that line (its pooled contracts), as at each period.
    let mut beyond: BTreeMap<(&str, &str), [i64; 13]> = BTreeMap::new();
    for ((p, line, council), by_period) in &unpaid {
        if council != p {
            let b = beyond.entry((p, line)).or_insert([0; 13]);
            for k in 0..13 {
                b[k] += (-by_period[k]).max(0);
            }
        }
    }
    for ((p, line, council), by_period) in unpaid {
        for k in 1..=period {
            let mut to_date = by_period[k as usize];
            if council == p {
                to_date -= beyond.get(&(p, line)).map_or(0, |b| b[k as usize]);
            }
            let v = (0, to_date.max(0), 0);
            add(p, format!("trend P{k}"), v);
            if k == period {
                add(p, format!("line {line}"), v);
                add(p, format!("detail {council} {line}"), v);
            }
        }
    }
    let mut out = Totals::new();
    for ((p, figure), v) in sums {
        put(&mut out, &p, figure, v);
    }
    out
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

/// The report and the roll-up as timed over HTTP, with the figures they gave.
pub struct Reports {
    pub report: Percentiles,
    /// The last timed report's figures.
    pub report_totals: Totals,
    pub rollup: Percentiles,
    /// The last roll-up's figures, every partnership's.
    pub rollup_totals: Totals,
}

/// Times partnership `target`'s report (`--requests` after `--warmup`) and the roll-up of
/// every partnership's report (`--rollups`, after one untimed), as each hosting authority's
/// finance staff.
pub async fn time_reports(
    args: &LedgerArgs,
    nation: &National,
    platform: &hub_core::Platform,
    target: usize,
    year: i32,
) -> anyhow::Result<Reports> {
    let tokens: Vec<String> = (0..args.partnerships)
        .map(|p| {
            platform.auth.mint(
                "bench-finance",
                nation.host(p),
                &[Role::Finance],
                Duration::from_secs(3600),
            )
        })
        .collect();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let get = |p: usize| {
        report(
            &client,
            &platform.url,
            &tokens[p],
            nation.code(p),
            year,
            args.period,
        )
    };
    let mut samples = Vec::with_capacity(args.requests);
    let mut last = Value::Null;
    for i in 0..args.warmup + args.requests {
        let (took, body) = get(target).await?;
        if i >= args.warmup {
            samples.push(took);
        }
        last = body;
    }
    let mut rollup_samples = Vec::with_capacity(args.rollups);
    let mut rollup_totals = Totals::new();
    for run in 0..args.rollups + 1 {
        let started = Instant::now();
        let mut bodies = Vec::with_capacity(args.partnerships);
        for p in 0..args.partnerships {
            bodies.push(get(p).await?.1);
        }
        // The first run warms up.
        if run > 0 {
            rollup_samples.push(started.elapsed());
        }
        rollup_totals.clear();
        for b in &bodies {
            rollup_totals.extend(report_totals(b)?);
        }
    }
    Ok(Reports {
        report: Percentiles::of(&samples),
        report_totals: report_totals(&last)?,
        rollup: Percentiles::of(&rollup_samples),
        rollup_totals,
    })
}

/// The plain aggregates as timed in SQL, with the figures derived from them.
pub struct Plain {
    /// Partnership `code`'s, and the headline figures alone.
    pub single: Percentiles,
    pub headline: Percentiles,
    /// Every partnership's.
    pub all: Percentiles,
    pub totals: Totals,
    pub all_totals: Totals,
    /// `--explain`: the plans of both.
    pub plans: Vec<String>,
}

/// Times the plain aggregate for partnership `code` and the headline figures alone
/// (`--requests` after `--warmup`), and for every partnership (`--rollups` after one).
pub async fn time_plain(
    args: &LedgerArgs,
    url: &str,
    code: &'static str,
    year: i32,
) -> anyhow::Result<Plain> {
    let (url, a) = (url.to_owned(), args.clone());
    let period = a.period;
    tokio::task::spawn_blocking(move || {
        let mut conn = PgConnection::establish(&url)?;
        let (s, single) = time(a.warmup, a.requests, || {
            plain_aggregate(&mut conn, Some(code), year, period)
        })?;
        let (h, _) = time(a.warmup, a.requests, || {
            headline_aggregate(&mut conn, code, year, period)
        })?;
        let (r, all) = time(1, a.rollups, || {
            plain_aggregate(&mut conn, None, year, period)
        })?;
        let mut plans = Vec::new();
        if a.explain {
            for (what, p) in [
                ("plan: plain aggregate, one partnership", code),
                ("plan: plain aggregate, all partnerships", ""),
            ] {
                let sql = PLAIN_AGGREGATE
                    .replace("$1", &year.to_string())
                    .replace("$2", &period.to_string())
                    .replace("$3", &format!("'{p}'"));
                plans.push(format!("{what}:\n{}", explain(&mut conn, &sql)?));
            }
        }
        Ok(Plain {
            single: Percentiles::of(&s),
            headline: Percentiles::of(&h),
            all: Percentiles::of(&r),
            totals: derive(&single, period),
            all_totals: derive(&all, period),
            plans,
        })
    })
    .await?
}

/// The reports' figures against the aggregate's, one partnership's and then all: how many
/// were compared and each that differs.
pub fn compare(reports: &Reports, plain: &Plain) -> (usize, Vec<String>) {
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for (got, want) in [
        (&reports.report_totals, &plain.totals),
        (&reports.rollup_totals, &plain.all_totals),
    ] {
        let keys: std::collections::BTreeSet<_> = got.keys().chain(want.keys()).collect();
        for k in keys {
            compared += 1;
            let (g, w) = (got.get(k), want.get(k));
            if g != w {
                mismatches.push(format!(
                    "{} {}: report {:?}, plain aggregate {:?}",
                    k.0, k.1, g, w
                ));
            }
        }
    }
    (compared, mismatches)
}

/// Where one report's time goes in the database: each read the report makes, run alone
/// through finance's own function for it ([`read_alone`]) on the service's pool, p50 of
/// `runs`.
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
        let mut read = |what: Read| -> anyhow::Result<(f64, usize)> {
            let (s, rows) = time(2, runs, || {
                read_alone(conn, what, partnership, year, period)
            })?;
            Ok((Percentiles::of(&s).p50_ms, rows))
        };
        let (budget_ms, _) = read(Read::Budget)?;
        let (commitment_sums_ms, commitment_sum_rows) = read(Read::CommitmentSums)?;
        let (payment_sums_ms, payment_sum_rows) = read(Read::PaymentSums)?;
        let (block_days_ms, _) = read(Read::BlockDays)?;
        Ok(Breakdown {
            budget_ms,
            commitment_sums_ms,
            commitment_sum_rows,
            payment_sums_ms,
            payment_sum_rows,
            block_days_ms,
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
