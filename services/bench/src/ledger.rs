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

use std::fmt::Write as _;

use anyhow::Context as _;
use diesel::{Connection, PgConnection, RunQueryDsl, connection::SimpleConnection};
use hub_platform::{Settings, calendar::FinancialYear, db::DbConnection};
use serde::Serialize;

pub use load::Counts;
pub use measure::{Breakdown, Percentiles, Totals};

use load::Sums;
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

#[derive(Debug, Clone, Default, Serialize)]
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

    /// The results for a person: what was built, each measure against its target, where
    /// one report's time goes and whether the figures agree.
    pub fn table(&self) -> String {
        let mut s = String::new();
        self.write_build(&mut s);
        self.write_measures(&mut s);
        self.write_reads(&mut s);
        self.write_figures(&mut s);
        s
    }

    fn write_build(&self, s: &mut String) {
        let load = |l: Option<[f64; 3]>| {
            l.map_or("?".into(), |l| {
                format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2])
            })
        };
        let (b, r) = (&self.build, &self.rows);
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
             {} payments, {} ledger totals, {} payment totals",
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
            r.ledger_totals,
            r.payment_totals
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
    }

    /// Each measure's percentiles against its target, then the ratios.
    fn write_measures(&self, s: &mut String) {
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
        let (p, n) = (self.period, self.report.runs);
        let report = format!(
            "report {} {label} P{p} over HTTP ({n} requests)",
            self.partnership
        );
        let report_ok = verdict(self.report.p99_ms <= TARGET_REPORT_P99_MS);
        line(report, &self.report, "p99 ≤ 50 ms", report_ok);
        let plain = format!(
            "  plain aggregate, the same rows ({} ledger lines in the year)",
            self.partnership_lines
        );
        line(plain, &self.plain, "", "");
        let headline = "  headline figures alone (not equivalent: see the README)";
        line(headline.into(), &self.headline, "", "");
        let (ps, n) = (self.partnerships, self.rollup.runs);
        let rollup = format!("roll-up {label} P{p}: {ps} reports one after another ({n} runs)");
        let rollup_ok = verdict(self.rollup.max_ms <= TARGET_ROLLUP_MS);
        line(rollup, &self.rollup, "≤ 2 s", rollup_ok);
        let all = "  plain aggregate, all partnerships";
        line(all.into(), &self.plain_rollup, "", "");
        for (what, ratio) in [
            ("ratio report / plain (p50)", self.report_ratio()),
            ("ratio roll-up / plain (p50)", self.rollup_ratio()),
        ] {
            let _ = writeln!(
                s,
                "{what:<58} {:>9}  {:<14} {}",
                format!("{ratio:.2}×"),
                "≤ 1.5×",
                verdict(ratio <= TARGET_RATIO)
            );
        }
    }

    fn write_reads(&self, s: &mut String) {
        let d = &self.breakdown;
        let reads = d.budget_ms + d.commitment_sums_ms + d.payment_sums_ms + d.block_days_ms;
        let _ = writeln!(
            s,
            "\none report's reads (finance's own functions, p50): budget and its version for each of \
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
    }

    fn write_figures(&self, s: &mut String) {
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
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
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

impl DropDatabase {
    /// Drops the database at `url` if it exists, and again when the guard is dropped.
    async fn fresh(url: &str, keep: bool) -> anyhow::Result<Self> {
        let u = url.to_owned();
        tokio::task::spawn_blocking(move || hub_platform::db::drop_postgres_database(&u))
            .await?
            .context("dropping the bench database before the run")?;
        Ok(Self {
            url: url.to_owned(),
            keep,
        })
    }
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

impl LedgerArgs {
    /// Refuses arguments that build nothing to measure; the year reported.
    fn check(&self) -> anyhow::Result<i32> {
        anyhow::ensure!(self.placements > 0, "--placements must be at least 1");
        anyhow::ensure!(
            self.partnerships > 0 && self.councils >= self.partnerships,
            "every partnership needs a council: --councils at least --partnerships"
        );
        anyhow::ensure!(self.years > 0, "--years must be at least 1");
        anyhow::ensure!((1..=12).contains(&self.period), "--period is 1 to 12");
        let year = self.year();
        anyhow::ensure!(
            (self.first_year..self.first_year + self.years).contains(&year),
            "--year must be one of the years built"
        );
        anyhow::ensure!(
            self.requests > 0 && self.rollups > 0,
            "--requests and --rollups must be at least 1"
        );
        Ok(year)
    }

    fn last_year(&self) -> i32 {
        self.first_year + self.years - 1
    }
}

/// Builds the national ledger, times the reports and the plain aggregates, and compares.
pub async fn bench(args: &LedgerArgs, settings: Settings) -> anyhow::Result<LedgerReport> {
    let year = args.check()?;
    let load_before_build = measure::load_average();
    let build_started = Instant::now();
    let nation = Arc::new(National::new(args.partnerships, args.councils));
    nation.register()?;
    let url = pg_url(&args.postgres, &args.database);
    let _drop = DropDatabase::fresh(&url, args.keep).await?;
    let platform = start_finance(args, settings, &url).await?;
    let (built, mut build) = build(args, &nation, &platform, &url).await?;
    build.total_s = secs(build_started.elapsed());
    eprintln!(
        "hub bench ledger: built in {:.1} s ({} commitment lines); timing",
        build.total_s, built.counts.commitment_lines
    );
    let load_before_timing = measure::load_average();
    let target = (0..args.partnerships)
        .max_by_key(|p| built.sums.lines[built.sums.year_index(*p, year)])
        .expect("a partnership");
    let (code, period) = (nation.code(target), args.period);
    let reports = measure::time_reports(args, &nation, &platform, target, year).await?;
    let plain = measure::time_plain(args, &url, code, year).await?;
    let store = finance_store(&platform)?;
    let runs = args.requests.clamp(5, 50);
    let breakdown = measure::breakdown(&store.db, code, year, period, runs).await?;
    let load_after = measure::load_average();
    let (compared, mismatches) = measure::compare(&reports, &plain);
    platform.stop().await;
    Ok(LedgerReport {
        partnerships: args.partnerships,
        councils: args.councils,
        placements: args.placements,
        years: format!(
            "{} to {}",
            FinancialYear(args.first_year).label(),
            FinancialYear(args.last_year()).label()
        ),
        database: args.database.clone(),
        cpus: std::thread::available_parallelism().map_or(0, usize::from),
        build,
        rows: built.counts,
        load_before_build,
        load_before_timing,
        load_after,
        sql_run: args.sql.clone(),
        year,
        period,
        partnership: code.to_owned(),
        partnership_lines: built.sums.lines[built.sums.year_index(target, year)],
        report: reports.report.into(),
        plain: plain.single.into(),
        headline: plain.headline.into(),
        rollup: reports.rollup.into(),
        plain_rollup: plain.all.into(),
        breakdown,
        compared,
        mismatches,
        plans: plain.plans,
    })
}

/// Starts the finance service in this process on the bench database, as a service on its
/// own is started (`hub serve finance`): it needs a link base and a secret.
async fn start_finance(
    args: &LedgerArgs,
    mut settings: Settings,
    url: &str,
) -> anyhow::Result<hub_core::Platform> {
    settings.database.url = url.to_owned();
    settings.bus.url = "memory://".into();
    let listener = TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    settings.server.public_url = format!("http://{}", listener.local_addr()?);
    crate::flow::secret_of_the_run(&mut settings);
    let platform = hub_core::start(settings, &["finance"], listener)
        .await
        .context("starting the finance service")?;
    eprintln!(
        "hub bench ledger: finance on {}, database {}",
        platform.url, args.database
    );
    Ok(platform)
}

fn finance_store(platform: &hub_core::Platform) -> anyhow::Result<&hub_bus::Store> {
    platform
        .store("finance")
        .ok_or_else(|| anyhow::anyhow!("finance is not running"))
}

/// What the build leaves for the timing: the rows written and the first pass's sums.
struct Built {
    counts: Counts,
    sums: Sums,
}

/// Generates the nation's facts, sums their lines, sets the budgets over HTTP and plans the
/// payments, then has finance load it all; the times of each step (but the total).
async fn build(
    args: &LedgerArgs,
    nation: &Arc<National>,
    platform: &hub_core::Platform,
    url: &str,
) -> anyhow::Result<(Built, BuildTimes)> {
    let started = Instant::now();
    let (n, a) = (nation.clone(), args.clone());
    let mut ledger = tokio::task::spawn_blocking(move || {
        let facts = national::facts(&n, a.placements, a.first_year, a.years, a.seed);
        load::ledger(&n, facts)
    })
    .await?;
    let facts_s = secs(started.elapsed());
    let started = Instant::now();
    let (n, a) = (nation.clone(), args.clone());
    let (ledger_back, sums) = tokio::task::spawn_blocking(move || {
        let sums = load::sums(&n, &ledger, a.first_year, a.years);
        (ledger, sums)
    })
    .await?;
    ledger = ledger_back;
    let costing_s = secs(started.elapsed());
    let plans = load::plan_budgets(nation, &sums, &mut Rng::new(args.seed ^ 0x5EED));
    let started = Instant::now();
    let bar = load::bar(
        (args.partnerships * args.years as usize) as u64,
        "budgets (POST /v1/budgets)",
        args.quiet,
    );
    let budgets =
        load::set_budgets(&platform.url, &platform.auth, nation, &sums, &plans, &bar).await?;
    bar.finish();
    let budgets_s = secs(started.elapsed());
    let started = Instant::now();
    let mut rng = Rng::new(args.seed ^ 0xCA5E);
    ledger.uploads = load::uploads(nation, &sums, &plans, args.payments_per_period, &mut rng);
    let uploads_s = secs(started.elapsed());
    let (loaded, mut times) = load_ledger(args, url, ledger).await?;
    times.facts_s = facts_s;
    times.costing_s = costing_s;
    times.budgets_s = budgets_s;
    times.payments_s += uploads_s;
    let counts = Counts::new(nation, budgets, &loaded);
    Ok((Built { counts, sums }, times))
}

/// Finance's bulk load of `ledger` (off the runtime), then `--sql` and `ANALYZE` again.
/// The budgets opened every ledger through the last year: open placements run to its end.
async fn load_ledger(
    args: &LedgerArgs,
    url: &str,
    ledger: finance::bulk::Ledger,
) -> anyhow::Result<(finance::bulk::Counts, BuildTimes)> {
    let (a, url) = (args.clone(), url.to_owned());
    tokio::task::spawn_blocking(move || {
        let mut conn = DbConnection::Pg(PgConnection::establish(&url)?);
        let sources = ledger.placements.len() + ledger.blocks.len() + ledger.services.len();
        let bar = load::bar(sources as u64, "commitment lines (COPY)", a.quiet);
        let (counts, times) =
            finance::bulk::load(&mut conn, &ledger, a.last_year(), &mut |n| bar.inc(n))?;
        bar.finish();
        for sql in &a.sql {
            eprintln!("hub bench ledger: running {sql}");
            conn.batch_execute(sql)
                .with_context(|| format!("running --sql {sql}"))?;
        }
        if !a.sql.is_empty() {
            conn.batch_execute("ANALYZE")?;
        }
        let build = BuildTimes {
            copy_facts_s: secs(times.facts),
            copy_lines_s: secs(times.lines),
            payments_s: secs(times.payments),
            totals_s: secs(times.totals),
            analyze_s: secs(times.analyze),
            ..BuildTimes::default()
        };
        Ok((counts, build))
    })
    .await?
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
