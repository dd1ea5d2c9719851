//! `hub bench ledger` (issue 5): the finance ledger at national scale, and how fast the
//! monitoring report reads it.
//!
//! * **The nation** ([`national`]): `--councils` (150) councils in `--partnerships` (30)
//!   partnerships, added to the directory of this process; `--placements` (100,000)
//!   placements spread over `--years` (5) financial years from `--first-year`, with rate
//!   changes (each April's uplift, some reviews) and ends (none for those still running at
//!   the end of the last year); per partnership and year a block contract of four beds filled
//!   and void in turn, and two service contracts (some extended, some terminated).
//! * **The build** ([`load`]) in a fresh PostgreSQL database (`--database`, dropped before
//!   and, unless `--keep`, after): the finance service is started in this process
//!   ([`hub_core::start`], so it runs its own migrations and sees the added partnerships); every
//!   budget is set through `POST /v1/budgets` by the hosting authority (which opens each
//!   partnership's ledger through the year); each source's commitment lines are costed by
//!   [`finance::domain::ledger`] exactly as the service's handlers cost them and loaded with
//!   `COPY`, with the facts and a year of payments per period (`COPY`); finance's per-period
//!   totals are rebuilt from the lines where its schema has them; then `ANALYZE`.
//! * **Measured**, on the running service over HTTP as finance staff get it: the monitoring
//!   report of the busiest partnership for `--year` as at `--period`, `--requests` times after
//!   `--warmup` (p50, p99); the year roll-up for all partnerships — there is no roll-up
//!   endpoint, so it is every partnership's report for the year, one after the other, timed
//!   whole `--rollups` times. In the same run, the equivalent plain SQL aggregate over the
//!   same rows — what the report is computed from, taken from the raw rows in one statement:
//!   the year's ledger lines by period, budget line, council and attribution, and the
//!   payments to the period by period, budget line and council — for one partnership and for
//!   all, and the ratios. Every ledger- and payment-based figure of every partnership's
//!   report (each line's and each partner's line's actual and committed, each partner's own
//!   children's costs, the trend) must equal the one derived from the aggregate. Where the report's database
//!   time goes: each read it makes, through finance's own store functions.
//! * `--sql` runs statements after the load (e.g. a proposed index) before timing, so their
//!   effect is measured in the same run; `--explain` prints the aggregate's plans.

mod load;
mod measure;
pub mod national;

use std::{
    net::TcpListener,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use diesel::{Connection, PgConnection, RunQueryDsl, connection::SimpleConnection};
use hub_platform::{Role, Settings, calendar::FinancialYear};
use serde::Serialize;

pub use load::Counts;
pub use measure::{Breakdown, Percentiles, Totals};

use national::{National, Rng};

/// Targets from the issue.
const TARGET_REPORT_P99_MS: f64 = 50.0;
const TARGET_ROLLUP_MS: f64 = 2_000.0;
const TARGET_RATIO: f64 = 1.5;

#[derive(Debug, Clone, clap::Args)]
pub struct LedgerArgs {
    /// Placements over the years (scale down for a quick run, e.g. 10000).
    #[arg(long, default_value_t = 100_000)]
    pub placements: usize,
    #[arg(long, default_value_t = 30)]
    pub partnerships: usize,
    /// Councils, shared out over the partnerships in turn.
    #[arg(long, default_value_t = 150)]
    pub councils: usize,
    /// Financial years of placements, budgets and payments.
    #[arg(long, default_value_t = 5)]
    pub years: i32,
    /// The first of them (2021 = 2021/22).
    #[arg(long, default_value_t = 2021)]
    pub first_year: i32,
    /// The year reported (default: the middle one).
    #[arg(long)]
    pub year: Option<i32>,
    /// Reported as at the end of this period (1 = April … 12 = March).
    #[arg(long, default_value_t = 6)]
    pub period: i32,
    /// Report requests timed.
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
    /// Requests (and aggregates) run first and not timed.
    #[arg(long, default_value_t = 20)]
    pub warmup: usize,
    /// Roll-ups timed (each: every partnership's report for the year).
    #[arg(long, default_value_t = 5)]
    pub rollups: usize,
    /// Payments a member council makes for placements each period.
    #[arg(long, default_value_t = 8)]
    pub payments_per_period: usize,
    /// Seed of the synthetic data.
    #[arg(long, default_value_t = 2021)]
    pub seed: u64,
    /// SQL run after the load and before timing, e.g. a proposed index (repeatable).
    #[arg(long)]
    pub sql: Vec<String>,
    /// Print the plain aggregates' query plans (EXPLAIN ANALYZE).
    #[arg(long)]
    pub explain: bool,
    /// PostgreSQL server.
    #[arg(
        long,
        default_value = "postgres://postgres@127.0.0.1:5432?sslmode=disable"
    )]
    pub postgres: String,
    /// The database built (dropped first if it exists).
    #[arg(long, default_value = "hub_bench_ledger")]
    pub database: String,
    /// Keep the database after the run (to query it).
    #[arg(long)]
    pub keep: bool,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
    /// Print a machine-readable summary (JSON) after the table.
    #[arg(long)]
    pub json: bool,
}

impl LedgerArgs {
    /// The arguments' defaults with `placements` placements, for tests and scripts.
    pub fn with_placements(placements: usize) -> Self {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            args: LedgerArgs,
        }
        let mut args = Cli::parse_from(["ledger"]).args;
        args.placements = placements;
        args
    }

    fn year(&self) -> i32 {
        self.year.unwrap_or(self.first_year + (self.years - 1) / 2)
    }
}

pub async fn run(args: LedgerArgs, settings: Settings) -> anyhow::Result<()> {
    tokio::select! {
        r = bench(&args, settings) => {
            let report = r?;
            print!("{}", report.table());
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
            Ok(())
        }
        _ = tokio::signal::ctrl_c() => anyhow::bail!("interrupted"),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildTimes {
    pub facts_s: f64,
    pub costing_s: f64,
    pub budgets_s: f64,
    pub copy_facts_s: f64,
    pub copy_lines_s: f64,
    pub payments_s: f64,
    pub totals_s: f64,
    pub analyze_s: f64,
    pub total_s: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub runs: usize,
}

impl From<Percentiles> for Measured {
    fn from(p: Percentiles) -> Self {
        Self {
            p50_ms: p.p50_ms,
            p99_ms: p.p99_ms,
            max_ms: p.max_ms,
            runs: p.n,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LedgerReport {
    pub partnerships: usize,
    pub councils: usize,
    pub placements: usize,
    pub years: String,
    pub database: String,
    pub cpus: usize,
    pub build: BuildTimes,
    pub rows: Counts,
    /// Load averages (1, 5, 15 min) before the build, before timing and after.
    pub load_before_build: Option<[f64; 3]>,
    pub load_before_timing: Option<[f64; 3]>,
    pub load_after: Option<[f64; 3]>,
    pub sql_run: Vec<String>,
    pub year: i32,
    pub period: i32,
    /// The partnership whose report was timed (the most lines in the year).
    pub partnership: String,
    pub partnership_lines: u64,
    pub report: Measured,
    pub plain: Measured,
    /// The headline figures alone (not the report's equivalent): payments to the period and
    /// ledger lines after it, by line.
    pub headline: Measured,
    pub rollup: Measured,
    pub plain_rollup: Measured,
    pub breakdown: Breakdown,
    /// Figures compared (see [`Totals`]) and those that differ.
    pub compared: usize,
    pub mismatches: Vec<String>,
    pub plans: Vec<String>,
}

impl LedgerReport {
    pub fn report_ratio(&self) -> f64 {
        self.report.p50_ms / self.plain.p50_ms.max(1e-9)
    }

    pub fn rollup_ratio(&self) -> f64 {
        self.rollup.p50_ms / self.plain_rollup.p50_ms.max(1e-9)
    }

    pub fn table(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let load = |l: Option<[f64; 3]>| {
            l.map_or("?".into(), |l| {
                format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2])
            })
        };
        let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
        let b = &self.build;
        let r = &self.rows;
        let _ = writeln!(
            s,
            "\nhub bench ledger: {} partnerships, {} councils, {} placements, {} ({} CPUs)",
            self.partnerships, self.councils, self.placements, self.years, self.cpus
        );
        let _ = writeln!(
            s,
            "build {:.1} s: facts {:.1} s, costing {:.1} s, {} budgets over HTTP {:.1} s, COPY facts {:.1} s, \
             COPY lines {:.1} s, payments {:.1} s, totals {:.1} s, ANALYZE {:.1} s",
            b.total_s,
            b.facts_s,
            b.costing_s,
            r.budgets,
            b.budgets_s,
            b.copy_facts_s,
            b.copy_lines_s,
            b.payments_s,
            b.totals_s,
            b.analyze_s
        );
        let _ = writeln!(
            s,
            "rows: {} placements, {} rate changes, {} ends, {} block contracts ({} bed events), \
             {} service contracts ({} extended, {} terminated), {} commitment lines, {} uploads, \
             {} payments{}",
            r.placements,
            r.rate_changes,
            r.placement_ends,
            r.block_contracts,
            r.bed_events,
            r.service_contracts,
            r.extensions,
            r.terminations,
            r.commitment_lines,
            r.uploads,
            r.payments,
            [("ledger", r.ledger_totals), ("payment", r.payment_totals)]
                .iter()
                .filter_map(|(what, n)| n.map(|n| format!(", {n} {what} totals")))
                .collect::<String>()
        );
        let _ = writeln!(
            s,
            "load average (1/5/15 min): before the build {}, before timing {}, after {}",
            load(self.load_before_build),
            load(self.load_before_timing),
            load(self.load_after)
        );
        for sql in &self.sql_run {
            let _ = writeln!(s, "ran before timing: {sql}");
        }
        let label = FinancialYear(self.year).label();
        let _ = writeln!(
            s,
            "\n{:<58} {:>9} {:>9} {:>9}  {:<14} result",
            "measure", "p50", "p99", "max", "target"
        );
        let ms = |v: f64| format!("{v:.1} ms");
        let mut line = |name: String, m: &Measured, target: &str, result: &str| {
            let _ = writeln!(
                s,
                "{name:<58} {:>9} {:>9} {:>9}  {target:<14} {result}",
                ms(m.p50_ms),
                ms(m.p99_ms),
                ms(m.max_ms)
            );
        };
        line(
            format!(
                "report {} {label} P{} over HTTP ({} requests)",
                self.partnership, self.period, self.report.runs
            ),
            &self.report,
            "p99 ≤ 50 ms",
            verdict(self.report.p99_ms <= TARGET_REPORT_P99_MS),
        );
        line(
            format!(
                "  plain aggregate, the same rows ({} ledger lines in the year)",
                self.partnership_lines
            ),
            &self.plain,
            "",
            "",
        );
        line(
            "  headline figures alone (not equivalent: see the README)".into(),
            &self.headline,
            "",
            "",
        );
        line(
            format!(
                "roll-up {label} P{}: {} reports one after another ({} runs)",
                self.period, self.partnerships, self.rollup.runs
            ),
            &self.rollup,
            "≤ 2 s",
            verdict(self.rollup.max_ms <= TARGET_ROLLUP_MS),
        );
        line(
            "  plain aggregate, all partnerships".into(),
            &self.plain_rollup,
            "",
            "",
        );
        let _ = writeln!(
            s,
            "{:<58} {:>9}  {:<14} {}",
            "ratio report / plain (p50)",
            format!("{:.2}×", self.report_ratio()),
            "≤ 1.5×",
            verdict(self.report_ratio() <= TARGET_RATIO)
        );
        let _ = writeln!(
            s,
            "{:<58} {:>9}  {:<14} {}",
            "ratio roll-up / plain (p50)",
            format!("{:.2}×", self.rollup_ratio()),
            "≤ 1.5×",
            verdict(self.rollup_ratio() <= TARGET_RATIO)
        );
        let d = &self.breakdown;
        let reads = d.budget_ms + d.commitment_sums_ms + d.payment_sums_ms + d.block_days_ms;
        let _ = writeln!(
            s,
            "\none report's reads (finance's store functions, p50): budget and its version for each of \
             P1–P{} {:.2} ms, commitment sums {:.2} ms \
             ({} rows), payment sums {:.2} ms ({} rows), block days {:.2} ms; the rest of the \
             report's p50 (HTTP, auth, the figures, JSON): {:.2} ms",
            self.period,
            d.budget_ms,
            d.commitment_sums_ms,
            d.commitment_sum_rows,
            d.payment_sums_ms,
            d.payment_sum_rows,
            d.block_days_ms,
            self.report.p50_ms - reads
        );
        if self.mismatches.is_empty() {
            let _ = writeln!(
                s,
                "figures: the reports equal the plain aggregate ({} figures: lines', partners' lines' and trend's actual, accrued and committed, own children's costs)",
                self.compared
            );
        } else {
            let _ = writeln!(
                s,
                "figures: {} of {} DIFFER from the plain aggregate:",
                self.mismatches.len(),
                self.compared
            );
            for m in self.mismatches.iter().take(20) {
                let _ = writeln!(s, "  {m}");
            }
        }
        for p in &self.plans {
            let _ = writeln!(s, "\n{p}");
        }
        s
    }
}

/// The database named `db` on the server `server` (which may carry a query string).
fn pg_url(server: &str, db: &str) -> String {
    let (base, query) = server
        .split_once('?')
        .map_or((server, None), |(b, q)| (b, Some(q)));
    match query {
        Some(q) => format!("{}/{db}?{q}", base.trim_end_matches('/')),
        None => format!("{}/{db}", base.trim_end_matches('/')),
    }
}

/// Drops the bench database when the run ends, unless it is to be kept.
struct DropDatabase {
    url: String,
    keep: bool,
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("hub bench ledger: kept {}", self.url);
        } else if let Err(e) = hub_platform::db::drop_postgres_database(&self.url) {
            eprintln!("hub bench ledger: could not drop {}: {e:#}", self.url);
        }
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Builds the national ledger, times the reports and the plain aggregates, and compares.
pub async fn bench(args: &LedgerArgs, mut settings: Settings) -> anyhow::Result<LedgerReport> {
    anyhow::ensure!(args.placements > 0, "--placements must be at least 1");
    anyhow::ensure!(
        args.partnerships > 0 && args.councils >= args.partnerships,
        "every partnership needs a council: --councils at least --partnerships"
    );
    anyhow::ensure!(args.years > 0, "--years must be at least 1");
    anyhow::ensure!((1..=12).contains(&args.period), "--period is 1 to 12");
    let year = args.year();
    anyhow::ensure!(
        (args.first_year..args.first_year + args.years).contains(&year),
        "--year must be one of the years built"
    );
    anyhow::ensure!(
        args.requests > 0 && args.rollups > 0,
        "--requests and --rollups must be at least 1"
    );
    let load_before_build = measure::load_average();
    let build_started = Instant::now();

    let nation = Arc::new(National::new(args.partnerships, args.councils));
    nation.register()?;
    let url = pg_url(&args.postgres, &args.database);
    {
        let url = url.clone();
        tokio::task::spawn_blocking(move || hub_platform::db::drop_postgres_database(&url))
            .await?
            .context("dropping the bench database before the run")?;
    }
    let _drop = DropDatabase {
        url: url.clone(),
        keep: args.keep,
    };
    settings.database.url = url.clone();
    settings.bus.url = "memory://".into();
    let listener = TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    // One service on its own, as when services run apart: it needs a link base and a secret.
    settings.server.public_url = format!("http://{}", listener.local_addr()?);
    crate::flow::secret_of_the_run(&mut settings);
    let platform = hub_core::start(settings, &["finance"], listener)
        .await
        .context("starting the finance service")?;
    let service = platform.url.clone();
    eprintln!(
        "hub bench ledger: finance on {service}, database {}",
        args.database
    );

    let started = Instant::now();
    let facts = {
        let (n, a) = (nation.clone(), args.clone());
        Arc::new(
            tokio::task::spawn_blocking(move || {
                national::facts(&n, a.placements, a.first_year, a.years, a.seed)
            })
            .await?,
        )
    };
    let facts_s = secs(started.elapsed());
    let last_year = facts.last_year();

    let started = Instant::now();
    let sums = {
        let (n, f) = (nation.clone(), facts.clone());
        Arc::new(tokio::task::spawn_blocking(move || load::sums(&n, &f, last_year)).await?)
    };
    let costing_s = secs(started.elapsed());

    let mut rng = Rng::new(args.seed ^ 0x5EED);
    let plans = load::plan_budgets(&nation, &facts, &sums, &mut rng);
    let started = Instant::now();
    let bar = load::bar(
        (args.partnerships * args.years as usize) as u64,
        "budgets (POST /v1/budgets)",
        args.quiet,
    );
    let budgets = load::set_budgets(
        &service,
        &platform.auth,
        &nation,
        &facts,
        &sums,
        &plans,
        &bar,
    )
    .await?;
    bar.finish();
    let budgets_s = secs(started.elapsed());
    // The budgets opened every ledger through the last year: open placements run to its end.
    let store = platform
        .store("finance")
        .ok_or_else(|| anyhow::anyhow!("finance is not running"))?;
    let codes: Vec<&'static str> = (0..args.partnerships).map(|p| nation.code(p)).collect();
    let through: Vec<Option<i32>> = store
        .db
        .run(move |conn| {
            codes
                .iter()
                .map(|c| finance::store::through_year(conn, c))
                .collect()
        })
        .await?;
    anyhow::ensure!(
        through.iter().all(|t| *t == Some(last_year)),
        "the budgets should have opened every ledger through {last_year}: {through:?}"
    );

    // The bulk load, off the runtime.
    let (n, f, s, a) = (nation.clone(), facts.clone(), sums.clone(), args.clone());
    let load_url = url.clone();
    let (counts, times) =
        tokio::task::spawn_blocking(move || -> anyhow::Result<(Counts, [f64; 5])> {
            let mut conn = PgConnection::establish(&load_url)?;
            let mut counts = Counts {
                partnerships: a.partnerships,
                councils: a.councils,
                budgets,
                ..Counts::default()
            };
            let t = Instant::now();
            load::copy_facts(&mut conn, &n, &f, &mut counts)?;
            let copy_facts_s = secs(t.elapsed());
            let t = Instant::now();
            let bar = load::bar(
                (f.placements.len() + f.blocks.len() + f.services.len()) as u64,
                "commitment lines (COPY)",
                a.quiet,
            );
            counts.commitment_lines = load::copy_lines(&mut conn, &n, &f, last_year, &bar)?;
            bar.finish();
            let copy_lines_s = secs(t.elapsed());
            let t = Instant::now();
            let mut rng = Rng::new(a.seed ^ 0xCA5E);
            (counts.uploads, counts.payments) = load::copy_payments(
                &mut conn,
                &n,
                &f,
                &s,
                &plans,
                a.payments_per_period,
                &mut rng,
            )?;
            let payments_s = secs(t.elapsed());
            let t = Instant::now();
            load::rebuild_totals(&mut conn, &mut counts)?;
            let totals_s = secs(t.elapsed());
            let t = Instant::now();
            conn.batch_execute("ANALYZE")?;
            let analyze_s = secs(t.elapsed());
            for sql in &a.sql {
                eprintln!("hub bench ledger: running {sql}");
                conn.batch_execute(sql)
                    .with_context(|| format!("running --sql {sql}"))?;
            }
            if !a.sql.is_empty() {
                conn.batch_execute("ANALYZE")?;
            }
            Ok((
                counts,
                [copy_facts_s, copy_lines_s, payments_s, totals_s, analyze_s],
            ))
        })
        .await??;
    let build = BuildTimes {
        facts_s,
        costing_s,
        budgets_s,
        copy_facts_s: times[0],
        copy_lines_s: times[1],
        payments_s: times[2],
        totals_s: times[3],
        analyze_s: times[4],
        total_s: secs(build_started.elapsed()),
    };
    eprintln!(
        "hub bench ledger: built in {:.1} s ({} commitment lines); timing",
        build.total_s, counts.commitment_lines
    );

    // Timing.
    let load_before_timing = measure::load_average();
    let target = (0..args.partnerships)
        .max_by_key(|p| sums.lines[sums.year_index(*p, year)])
        .expect("a partnership");
    let code = nation.code(target);
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
    let period = args.period;
    let mut samples = Vec::with_capacity(args.requests);
    let mut last = serde_json::Value::Null;
    for i in 0..args.warmup + args.requests {
        let (took, body) =
            measure::report(&client, &service, &tokens[target], code, year, period).await?;
        if i >= args.warmup {
            samples.push(took);
        }
        last = body;
    }
    let report = Percentiles::of(&samples);
    let mut report_totals = measure::report_totals(&last)?;

    let mut rollup_samples = Vec::with_capacity(args.rollups);
    let mut rollup_totals = Totals::new();
    for run in 0..args.rollups + 1 {
        let started = Instant::now();
        let mut bodies = Vec::with_capacity(args.partnerships);
        for (p, token) in tokens.iter().enumerate() {
            let (_, body) =
                measure::report(&client, &service, token, nation.code(p), year, period).await?;
            bodies.push(body);
        }
        // The first run warms up.
        if run > 0 {
            rollup_samples.push(started.elapsed());
        }
        rollup_totals.clear();
        for b in &bodies {
            rollup_totals.extend(measure::report_totals(b)?);
        }
    }
    let rollup = Percentiles::of(&rollup_samples);

    let (plain, headline, plain_rollup, plain_totals, plain_rollup_totals, plans) = {
        let (url, a) = (url.clone(), args.clone());
        tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let mut conn = PgConnection::establish(&url)?;
            let (s, single) = measure::time(a.warmup, a.requests, || {
                measure::plain_aggregate(&mut conn, Some(code), year, period)
            })?;
            let (h, _) = measure::time(a.warmup, a.requests, || {
                measure::headline_aggregate(&mut conn, code, year, period)
            })?;
            let (r, all) = measure::time(1, a.rollups, || {
                measure::plain_aggregate(&mut conn, None, year, period)
            })?;
            let mut plans = Vec::new();
            if a.explain {
                for (what, p) in [
                    ("plan: plain aggregate, one partnership", code),
                    ("plan: plain aggregate, all partnerships", ""),
                ] {
                    let sql = measure::PLAIN_AGGREGATE
                        .replace("$1", &year.to_string())
                        .replace("$2", &period.to_string())
                        .replace("$3", &format!("'{p}'"));
                    plans.push(format!("{what}:\n{}", measure::explain(&mut conn, &sql)?));
                }
            }
            Ok((
                Percentiles::of(&s),
                Percentiles::of(&h),
                Percentiles::of(&r),
                measure::derive(&single, period),
                measure::derive(&all, period),
                plans,
            ))
        })
        .await??
    };

    let breakdown =
        measure::breakdown(&store.db, code, year, period, args.requests.clamp(5, 50)).await?;
    let load_after = measure::load_average();

    // The report's figures against the aggregate's: one partnership, then all.
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for (got, want) in [
        (&mut report_totals, &plain_totals),
        (&mut rollup_totals, &plain_rollup_totals),
    ] {
        let keys: std::collections::BTreeSet<_> = got.keys().chain(want.keys()).cloned().collect();
        for k in keys {
            compared += 1;
            let (g, w) = (got.get(&k), want.get(&k));
            if g != w {
                mismatches.push(format!(
                    "{} {}: report {:?}, plain aggregate {:?}",
                    k.0, k.1, g, w
                ));
            }
        }
    }

    platform.stop().await;
    Ok(LedgerReport {
        partnerships: args.partnerships,
        councils: args.councils,
        placements: args.placements,
        years: format!(
            "{} to {}",
            FinancialYear(args.first_year).label(),
            FinancialYear(last_year).label()
        ),
        database: args.database.clone(),
        cpus: std::thread::available_parallelism().map_or(0, usize::from),
        build,
        rows: counts,
        load_before_build,
        load_before_timing,
        load_after,
        sql_run: args.sql.clone(),
        year,
        period,
        partnership: code.to_owned(),
        partnership_lines: sums.lines[sums.year_index(target, year)],
        report: report.into(),
        plain: plain.into(),
        headline: headline.into(),
        rollup: rollup.into(),
        plain_rollup: plain_rollup.into(),
        breakdown,
        compared,
        mismatches,
        plans,
    })
}

/// Runs `sql` on the bench database (tests inspect a kept database with it).
pub fn query_count(url: &str, sql: &str) -> anyhow::Result<i64> {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = PgConnection::establish(url)?;
    let n: N = diesel::sql_query(sql).get_result(&mut conn)?;
    Ok(n.n)
}
