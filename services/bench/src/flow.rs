//! `hub bench`: drives the thin flow's first half against a platform it starts itself, and
//! reports throughput, latency and memory next to the machine's own limits.
//!
//! * **Platform.** Real child processes of this executable: distributed = five
//!   `hub serve <service>` on free ports, each with a fresh PostgreSQL database
//!   (`hub_bench_<service>`, dropped before and after) and RabbitMQ (exchange
//!   `hub-bench.events`, queues `hub-bench.*`, durable and reused across runs, purged at
//!   start); embedded = one `hub serve` on SQLite in a temporary directory and the
//!   in-process bus. Logs go to files in that directory (kept and named if the run fails).
//!   The children are killed when the bench ends, fails or is interrupted.
//! * **Set-up** over REST, like `hub seed`: a framework in the LCR PPA (let by Halton) with
//!   one residential lot and `--providers` providers, each registering a webhook for
//!   `competition.invited` that points at a receiver in this process. The receiver notes when
//!   each invitation arrives and checks every Standard Webhooks signature.
//! * **Load.** Open loop: Sefton submits referrals (route mini-competition) at the scheduled
//!   times whatever the answers, each request its own task. A referral's latency runs from the
//!   start of its POST to the arrival of the last of its invitations.
//! * **Baselines**, in the same run: the raw commit rate of a referral-sized insert with the
//!   services' pool size (PostgreSQL; SQLite in embedded mode, with the platform's pragmas and
//!   write lock) and the raw confirmed-publish rate of RabbitMQ (distributed mode).
//! * **Memory and CPU:** each service's RSS idle (2 s after ready) and at its peak, and the
//!   CPU each process (and PostgreSQL, RabbitMQ, the bench itself) used during each run.
//! * **Statements** (`--count-statements`, distributed): each service talks to PostgreSQL
//!   through a proxy in the bench that counts statements and round trips ([`pgcount`]), a
//!   measure of the work a referral costs that does not depend on how busy the machine is.
//! * **Two builds** compare under the same conditions with `--platform-exe`: the platform is
//!   started from another `hub` executable while this one drives and measures it.
//! * **Scenarios:** `thin-flow` (above) or `competition` ([`competitions`], issue 3: a
//!   competition of 50 providers and 20 bids, the time to notify all 50 and the evaluation's).

mod competitions;
mod pgcount;

use std::{
    collections::HashMap,
    fmt::Write as _,
    fs::File,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc, Barrier, Mutex, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use anyhow::Context as _;
use diesel::{
    RunQueryDsl,
    connection::SimpleConnection,
    sql_types::{Integer, Text, Timestamp},
};
use futures::{StreamExt, stream::FuturesUnordered};
use hdrhistogram::Histogram;
use hub_platform::{Authenticator, Database, Role, Settings, directory};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use hub_core::seed::{self, FrameworkSpec};

/// RabbitMQ names of the bench topology (durable, reused across runs).
const EXCHANGE: &str = "hub-bench.events";
const QUEUE_PREFIX: &str = "hub-bench";
/// PostgreSQL database names: `hub_bench_<service>` and the baseline's.
const DB_PREFIX: &str = "hub_bench_";
const BASELINE_DB: &str = "hub_bench_baseline";
/// Targets from the issue.
const TARGET_THROUGHPUT: f64 = 100.0;
const TARGET_P99_RATE: f64 = 50.0;
const TARGET_P99_MS: f64 = 150.0;
const TARGET_IDLE_RSS_KB: u64 = 40 * 1024;
/// A run keeps up when its completions come at least this fraction of the offered rate.
const KEEP_UP: f64 = 0.99;
/// How long PostgreSQL backends may hold back their statistics (idle flush interval, 10 s).
const STATS_FLUSH: Duration = Duration::from_secs(11);
/// Kernel clock ticks a second in /proc (USER_HZ, 100 on Linux).
const CLK_TCK: f64 = 100.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Five `hub serve <service>` processes on PostgreSQL and RabbitMQ.
    Distributed,
    /// One `hub serve` process on SQLite and the in-process bus.
    Embedded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// Referrals at fixed rates, each inviting `--providers` providers (issue 2).
    ThinFlow,
    /// Competitions of `--competition-providers` providers and `--bids` bids, one after the
    /// other: time to notify every provider, and the evaluation's time (issue 3).
    Competition,
}

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// How the platform runs.
    #[arg(long, value_enum, default_value_t = Mode::Distributed)]
    pub mode: Mode,
    /// What to measure.
    #[arg(long, value_enum, default_value_t = Scenario::ThinFlow)]
    pub scenario: Scenario,
    /// Competition scenario: providers admitted to the lot (each invited).
    #[arg(long, default_value_t = 50)]
    pub competition_providers: usize,
    /// Competition scenario: bids per competition.
    #[arg(long, default_value_t = 20)]
    pub bids: usize,
    /// Competition scenario: competitions run one after the other.
    #[arg(long, default_value_t = 10)]
    pub competitions: usize,
    /// Competition scenario: evaluate calls timed per competition.
    #[arg(long, default_value_t = 20)]
    pub evaluations: usize,
    /// Start the platform from this `hub` executable instead of this one (compare two
    /// builds under the same conditions; this one drives and measures).
    #[arg(long)]
    pub platform_exe: Option<PathBuf>,
    /// Count each service's PostgreSQL statements and round trips through a proxy in the
    /// bench (distributed mode; adds a loopback hop to every query).
    #[arg(long)]
    pub count_statements: bool,
    /// Referrals measured at each rate.
    #[arg(long, default_value_t = 1000)]
    pub referrals: usize,
    /// Offered load in referrals a second (open loop: requests leave on schedule whatever
    /// the answers).
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// Several rates, run one after the other against the same platform (instead of
    /// --rate), e.g. 50,100,200.
    #[arg(long, value_delimiter = ',')]
    pub rates: Vec<f64>,
    /// Providers admitted to the lot, each invited to every referral.
    #[arg(long, default_value_t = 10)]
    pub providers: usize,
    /// Referrals sent first and not measured.
    #[arg(long, default_value_t = 20)]
    pub warmup: usize,
    /// Connections per service (default: database.pool_size).
    #[arg(long)]
    pub pool_size: Option<u32>,
    /// Seconds each baseline runs (0 skips them).
    #[arg(long, default_value_t = 3.0)]
    pub baseline_secs: f64,
    /// How long to wait for a run's last webhooks.
    #[arg(long, default_value_t = 30)]
    pub drain_secs: u64,
    /// PostgreSQL server (distributed mode; databases hub_bench_* are created and dropped).
    /// A query string is kept on every database URL (no TLS on the loopback by default).
    #[arg(
        long,
        default_value = "postgres://postgres@127.0.0.1:5432?sslmode=disable"
    )]
    pub postgres: String,
    /// RabbitMQ (distributed mode).
    #[arg(long, default_value = "amqp://guest:guest@127.0.0.1:5672/%2f")]
    pub amqp: String,
    /// Print a machine-readable summary (JSON) after the table.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: BenchArgs, settings: Settings) -> anyhow::Result<()> {
    anyhow::ensure!(args.referrals > 0, "--referrals must be at least 1");
    anyhow::ensure!(args.providers > 0, "--providers must be at least 1");
    anyhow::ensure!(
        args.bids <= args.competition_providers && args.competition_providers > 0,
        "--bids must be at most --competition-providers (only invited providers bid)"
    );
    anyhow::ensure!(
        !args.count_statements || args.mode == Mode::Distributed,
        "--count-statements counts PostgreSQL statements: distributed mode only"
    );
    let rates = if args.rates.is_empty() {
        vec![args.rate]
    } else {
        args.rates.clone()
    };
    anyhow::ensure!(
        rates.iter().all(|r| r.is_finite() && *r > 0.0),
        "rates must be positive"
    );
    hub_platform::install_crypto_provider();
    tokio::select! {
        r = bench(&args, &rates, settings) => {
            let report = r?;
            print!("{}", report.table());
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
            Ok(())
        }
        _ = tokio::signal::ctrl_c() => anyhow::bail!("interrupted; the platform was stopped"),
    }
}

/// Services apart refuse the development secret: a platform a bench starts gets one of
/// the run's own unless one is configured.
pub(crate) fn secret_of_the_run(settings: &mut Settings) {
    if settings.uses_development_secret() {
        settings.auth.hs256_secret = format!(
            "bench-{}-{}",
            uuid::Uuid::now_v7().simple(),
            uuid::Uuid::now_v7().simple()
        );
    }
}

async fn bench(args: &BenchArgs, rates: &[f64], mut settings: Settings) -> anyhow::Result<Report> {
    // Passed to the platform's processes with the rest of their settings.
    secret_of_the_run(&mut settings);
    let pool_size = args.pool_size.unwrap_or(settings.database.pool_size);
    let auth = Authenticator::new(&settings.auth);
    let receiver = Receiver::start()?;
    let dir = std::env::temp_dir().join(format!("hub-bench-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating the work directory {}", dir.display()))?;
    let mut platform = Platform::start(args, pool_size, &settings, dir).await?;
    eprintln!(
        "hub bench: platform up ({}); logs in {}",
        platform.summary(),
        platform.dir.display()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    for p in &mut platform.procs {
        p.idle_rss_kb = proc_status_kb(p.pid, "VmRSS");
        p.idle_anon_kb = proc_status_kb(p.pid, "RssAnon");
    }

    let baselines = if args.baseline_secs > 0.0 {
        eprintln!(
            "hub bench: measuring baselines ({} s each)",
            args.baseline_secs
        );
        measure_baselines(args, pool_size, &platform.dir).await?
    } else {
        Vec::new()
    };

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let (mut runs, mut competition) = (Vec::new(), None);
    if args.scenario == Scenario::Competition {
        competition = Some(run_competitions(args, &client, &mut platform, &auth, &receiver).await?);
    } else {
        runs = run_rates(args, rates, &client, &mut platform, &auth, &receiver).await?;
    }
    let services = memory(&platform);
    let signatures = receiver.signatures();
    receiver.stop().await;
    platform.finish();
    Ok(Report {
        mode: args.mode,
        cpus: std::thread::available_parallelism().map_or(0, usize::from),
        pool_size,
        providers: args.providers,
        referrals_per_run: args.referrals,
        warmup: args.warmup,
        baselines,
        runs,
        competition,
        services,
        signatures,
    })
}

/// The competition scenario: a lot set up, one competition to warm up, then
/// `--competitions` timed, and the evaluation timed in this process.
async fn run_competitions(
    args: &BenchArgs,
    client: &reqwest::Client,
    platform: &mut Platform,
    auth: &Authenticator,
    receiver: &Receiver,
) -> anyhow::Result<competitions::CompetitionReport> {
    let drain = Duration::from_secs(args.drain_secs);
    eprintln!(
        "hub bench: setting up a lot of {} providers ({} with homes)",
        args.competition_providers, args.bids
    );
    let setup = competitions::set_up(
        client,
        platform,
        auth,
        receiver,
        args.competition_providers,
        args.bids,
    )
    .await?;
    if args.warmup > 0 {
        eprintln!("hub bench: warm-up, one competition");
        competitions::run(client, platform, auth, receiver, &setup, 1, 1, drain).await?;
    }
    let cpu_before = CpuSnapshot::take(platform);
    let statements_before = platform.statements();
    let mut report = competitions::run(
        client,
        platform,
        auth,
        receiver,
        &setup,
        args.competitions,
        args.evaluations,
        drain,
    )
    .await?;
    let cpu = CpuSnapshot::take(platform).since(&cpu_before);
    report.cpu = cpu.groups;
    report.machine_cpu_busy_pct = cpu.machine_busy_pct;
    report.statements_per_competition = per_referral(
        &statements_before,
        &platform.statements(),
        args.competitions,
    );
    eprintln!(
        "hub bench: timing the evaluation of {} bids in process",
        args.bids
    );
    let bids = args.bids;
    report.evaluate_fn_us =
        Some(tokio::task::spawn_blocking(move || competitions::time_evaluation(bids)).await?);
    platform.check_alive()?;
    Ok(report)
}

/// The thin flow: the lot set up, the warm-up, then each rate in turn.
async fn run_rates(
    args: &BenchArgs,
    rates: &[f64],
    client: &reqwest::Client,
    platform: &mut Platform,
    auth: &Authenticator,
    receiver: &Receiver,
) -> anyhow::Result<Vec<RunReport>> {
    let target = set_up(client, platform, auth, receiver, args.providers).await?;

    if args.warmup > 0 {
        eprintln!("hub bench: warm-up, {} referrals", args.warmup);
        let sent = fire(client, &target, args.warmup, rates[0].min(50.0)).await;
        let ids: Vec<String> = sent.iter().filter_map(|s| s.id.clone()).collect();
        receiver
            .wait_for(&ids, args.providers, Duration::from_secs(args.drain_secs))
            .await;
    }

    let distributed = args.mode == Mode::Distributed;
    let mut commits_before = if distributed {
        tokio::time::sleep(STATS_FLUSH).await;
        Some(pg_commits(&args.postgres).await?)
    } else {
        None
    };
    let mut runs = Vec::new();
    for &rate in rates {
        let run = run_rate(
            args,
            rate,
            client,
            platform,
            receiver,
            &target,
            &mut commits_before,
        )
        .await?;
        runs.push(run);
        platform.check_alive()?;
    }
    Ok(runs)
}

/// `--referrals` referrals at `rate`, waited for; PostgreSQL's commits since
/// `commits_before` (distributed), which become the next run's.
async fn run_rate(
    args: &BenchArgs,
    rate: f64,
    client: &reqwest::Client,
    platform: &Platform,
    receiver: &Receiver,
    target: &Target,
    commits_before: &mut Option<HashMap<String, i64>>,
) -> anyhow::Result<RunReport> {
    eprintln!(
        "hub bench: {} referrals at {rate}/s ({} providers each)",
        args.referrals, args.providers
    );
    let cpu_before = CpuSnapshot::take(platform);
    let statements_before = platform.statements();
    let by_sql_before = platform.statements_by_sql();
    let sent = fire(client, target, args.referrals, rate).await;
    let ids: Vec<String> = sent.iter().filter_map(|s| s.id.clone()).collect();
    receiver
        .wait_for(&ids, args.providers, Duration::from_secs(args.drain_secs))
        .await;
    let cpu = CpuSnapshot::take(platform).since(&cpu_before);
    let mut run = RunReport::new(rate, &sent, receiver, args.providers, cpu);
    run.statements_per_referral =
        per_referral(&statements_before, &platform.statements(), sent.len());
    run.top_statements = top_statements(
        &by_sql_before,
        &platform.statements_by_sql(),
        sent.len(),
        12,
    );
    if let Some(before) = commits_before.as_ref() {
        // Let every backend report its statistics for this run.
        tokio::time::sleep(STATS_FLUSH).await;
        let after = pg_commits(&args.postgres).await?;
        run.transactions_per_referral = hub_core::SERVICES
            .iter()
            .map(|s| {
                let delta =
                    after.get(*s).copied().unwrap_or(0) - before.get(*s).copied().unwrap_or(0);
                ((*s).to_owned(), delta as f64 / sent.len() as f64)
            })
            .collect();
        *commits_before = Some(after);
    }
    eprintln!(
        "hub bench:   → {:.1} referrals/s end to end, p99 {:.1} ms, {} webhooks missing",
        run.throughput_e2e, run.latency_ms.p99, run.webhooks_missing
    );
    Ok(run)
}

/// Each process's memory: idle (measured after start) and its peak so far.
fn memory(platform: &Platform) -> Vec<ServiceMemory> {
    platform
        .procs
        .iter()
        .map(|p| ServiceMemory {
            service: p.service.clone(),
            idle_rss_mb: p.idle_rss_kb.map(kb_to_mb),
            idle_private_mb: p.idle_anon_kb.map(kb_to_mb),
            peak_rss_mb: proc_status_kb(p.pid, "VmHWM").map(kb_to_mb),
            idle_target_met: p.idle_rss_kb.map(|kb| kb < TARGET_IDLE_RSS_KB),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The platform: child processes of this executable.

struct Proc {
    service: String,
    url: String,
    pid: u32,
    child: Child,
    log: PathBuf,
    idle_rss_kb: Option<u64>,
    idle_anon_kb: Option<u64>,
}

/// The started platform. Dropping it kills the children and drops the bench databases; the
/// work directory (logs) is removed only after a run that finished.
struct Platform {
    mode: Mode,
    procs: Vec<Proc>,
    /// Statement-counting proxies by service (`--count-statements`).
    proxies: Vec<(String, pgcount::Proxy)>,
    databases: Vec<String>,
    dir: PathBuf,
    finished: bool,
    /// Released after the databases are dropped (fields drop after `Drop::drop`).
    _lock: Option<BenchLock>,
}

/// A PostgreSQL advisory lock held while a distributed bench runs: two benches against one
/// server would share, and drop, each other's databases and queues.
struct BenchLock {
    _conn: diesel::PgConnection,
}

const BENCH_LOCK_KEY: i64 = 4_821_700_117;

async fn lock_bench(server: &str) -> anyhow::Result<BenchLock> {
    #[derive(diesel::QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    let url = pg_url(server, "postgres");
    tokio::task::spawn_blocking(move || {
        use diesel::Connection;
        let mut conn = diesel::PgConnection::establish(&url)
            .with_context(|| format!("connecting to PostgreSQL at {url}"))?;
        let got: Locked = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
            .bind::<diesel::sql_types::BigInt, _>(BENCH_LOCK_KEY)
            .get_result(&mut conn)?;
        anyhow::ensure!(
            got.locked,
            "another hub bench is running against this PostgreSQL server (the runs would \
             share the hub_bench_* databases and queues); wait for it to finish"
        );
        Ok(BenchLock { _conn: conn })
    })
    .await?
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Platform {
    async fn start(
        args: &BenchArgs,
        pool_size: u32,
        settings: &Settings,
        dir: PathBuf,
    ) -> anyhow::Result<Self> {
        let mut platform = Platform {
            mode: args.mode,
            procs: Vec::new(),
            proxies: Vec::new(),
            databases: Vec::new(),
            dir,
            finished: false,
            _lock: None,
        };
        let exe = match &args.platform_exe {
            Some(exe) => exe.clone(),
            None => std::env::current_exe().context("locating the hub executable")?,
        };
        let common: Vec<(String, String)> = [
            ("HUB__TELEMETRY__LOG_FILTER", "warn".to_owned()),
            ("HUB__DATABASE__POOL_SIZE", pool_size.to_string()),
            (
                "HUB__AUTH__HS256_SECRET",
                settings.auth.hs256_secret.clone(),
            ),
            // The bench's webhook receiver is plain http on 127.0.0.1.
            ("HUB__WEBHOOKS__ALLOW_HTTP_LOOPBACK", "true".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        match args.mode {
            Mode::Distributed => {
                platform
                    .start_distributed(args, settings, &exe, common)
                    .await?
            }
            Mode::Embedded => {
                let port = free_port()?;
                let mut env = common;
                env.extend(
                    [
                        ("HUB__SERVER__PORT", port.to_string()),
                        (
                            "HUB__DATABASE__URL",
                            format!("sqlite://{}", platform.dir.join("data").display()),
                        ),
                        ("HUB__BUS__URL", "memory://".to_owned()),
                    ]
                    .map(|(k, v)| (k.to_owned(), v)),
                );
                platform.spawn(&exe, None, port, &env)?;
            }
        }
        platform.wait_ready(Duration::from_secs(60)).await?;
        Ok(platform)
    }

    /// One process per service on fresh `hub_bench_*` databases and bench queues (counted
    /// through a statement-counting proxy each, if asked), under the bench's lock.
    async fn start_distributed(
        &mut self,
        args: &BenchArgs,
        settings: &Settings,
        exe: &Path,
        common: Vec<(String, String)>,
    ) -> anyhow::Result<()> {
        self._lock = Some(lock_bench(&args.postgres).await?);
        let template = pg_url(&args.postgres, &format!("{DB_PREFIX}{{service}}"));
        self.databases = hub_core::SERVICES
            .iter()
            .map(|s| template.replace("{service}", s))
            .collect();
        let dbs = self.databases.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            for db in &dbs {
                hub_platform::db::drop_postgres_database(db)
                    .with_context(|| format!("dropping {db}"))?;
            }
            Ok(())
        })
        .await??;
        purge_bench_queues(&args.amqp, settings.bus.retry_delays_ms.len()).await?;
        let ports: Vec<u16> = hub_core::SERVICES
            .iter()
            .map(|_| free_port())
            .collect::<anyhow::Result<_>>()?;
        let referral_url = format!("http://127.0.0.1:{}", ports[0]);
        for (service, port) in hub_core::SERVICES.iter().zip(&ports) {
            let mut env = common.clone();
            let database_url = if args.count_statements {
                let (via, upstream) = via_proxy(&args.postgres)?;
                let proxy = pgcount::start(upstream).await?;
                let via = via.replace("{port}", &proxy.addr.port().to_string());
                self.proxies.push(((*service).to_owned(), proxy));
                pg_url(&via, &format!("{DB_PREFIX}{{service}}"))
            } else {
                template.clone()
            };
            env.extend(
                [
                    ("HUB__DATABASE__URL", database_url),
                    ("HUB__BUS__URL", args.amqp.clone()),
                    ("HUB__BUS__EXCHANGE", EXCHANGE.to_owned()),
                    ("HUB__BUS__QUEUE_PREFIX", QUEUE_PREFIX.to_owned()),
                    ("HUB__SERVER__PUBLIC_URL", referral_url.clone()),
                ]
                .map(|(k, v)| (k.to_owned(), v)),
            );
            for (s, p) in hub_core::SERVICES.iter().zip(&ports) {
                env.push((format!("HUB__PORTS__{}", s.to_uppercase()), p.to_string()));
            }
            self.spawn(exe, Some(service), *port, &env)?;
        }
        Ok(())
    }

    fn spawn(
        &mut self,
        exe: &Path,
        service: Option<&str>,
        port: u16,
        env: &[(String, String)],
    ) -> anyhow::Result<()> {
        let name = service.unwrap_or("hub");
        let log = self.dir.join(format!("{name}.log"));
        let out = File::create(&log)?;
        let mut cmd = Command::new(exe);
        cmd.arg("serve");
        if let Some(s) = service {
            cmd.arg(s);
        }
        cmd.envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {} serve {name}", exe.display()))?;
        self.procs.push(Proc {
            service: name.to_owned(),
            url: format!("http://127.0.0.1:{port}"),
            pid: child.id(),
            child,
            log,
            idle_rss_kb: None,
            idle_anon_kb: None,
        });
        Ok(())
    }

    fn url(&self, service: &str) -> &str {
        self.procs
            .iter()
            .find(|p| p.service == service)
            .or(self.procs.first())
            .map(|p| p.url.as_str())
            .unwrap_or_default()
    }

    fn summary(&self) -> String {
        match self.mode {
            Mode::Distributed => format!(
                "distributed: {} processes on PostgreSQL and RabbitMQ",
                self.procs.len()
            ),
            Mode::Embedded => "embedded: one process on SQLite and the in-process bus".to_owned(),
        }
    }

    async fn wait_ready(&mut self, within: Duration) -> anyhow::Result<()> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let deadline = Instant::now() + within;
        for i in 0..self.procs.len() {
            loop {
                let url = format!("{}/health/ready", self.procs[i].url);
                if let Ok(r) = client.get(&url).send().await
                    && r.status().is_success()
                {
                    break;
                }
                self.check_alive()?;
                anyhow::ensure!(
                    Instant::now() < deadline,
                    "{} was not ready within {within:?}; its log ({}):\n{}",
                    self.procs[i].service,
                    self.procs[i].log.display(),
                    log_tail(&self.procs[i].log)
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(())
    }

    /// Fails if a child has exited, with the end of its log.
    fn check_alive(&mut self) -> anyhow::Result<()> {
        for p in &mut self.procs {
            if let Some(status) = p.child.try_wait()? {
                anyhow::bail!(
                    "{} exited ({status}); its log ({}):\n{}",
                    p.service,
                    p.log.display(),
                    log_tail(&p.log)
                );
            }
        }
        Ok(())
    }

    /// The run finished: the logs can go with the rest.
    fn finish(mut self) {
        self.finished = true;
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        for p in &mut self.procs {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
        for db in &self.databases {
            if let Err(e) = hub_platform::db::drop_postgres_database(db) {
                eprintln!("hub bench: could not drop {db}: {e:#}");
            }
        }
        // Logs are kept when a run failed after a child had started.
        if self.finished || self.procs.is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("hub bench: logs kept in {}", self.dir.display());
        }
    }
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// `server` with its port replaced by `{port}` (to be filled with a proxy's), and the
/// `host:port` it names.
fn via_proxy(server: &str) -> anyhow::Result<(String, String)> {
    let mut url =
        reqwest::Url::parse(server).with_context(|| format!("--postgres {server} is not a URL"))?;
    let upstream = format!(
        "{}:{}",
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(5432)
    );
    url.set_host(Some("127.0.0.1"))
        .map_err(|e| anyhow::anyhow!("--postgres {server}: {e}"))?;
    url.set_port(Some(1))
        .map_err(|()| anyhow::anyhow!("--postgres {server} takes no port"))?;
    Ok((
        url.to_string()
            .replacen("127.0.0.1:1", "127.0.0.1:{port}", 1),
        upstream,
    ))
}

impl Platform {
    /// Statements and round trips each service has sent PostgreSQL so far (with
    /// `--count-statements`).
    fn statements(&self) -> HashMap<String, pgcount::Counted> {
        self.proxies
            .iter()
            .map(|(s, p)| (s.clone(), p.counts.snapshot()))
            .collect()
    }
}

/// Executions by SQL text of each service so far (with `--count-statements`).
type BySql = HashMap<String, HashMap<String, u64>>;

impl Platform {
    fn statements_by_sql(&self) -> BySql {
        self.proxies
            .iter()
            .map(|(s, p)| (s.clone(), p.counts.by_sql()))
            .collect()
    }
}

/// The statements each service ran most between two snapshots, per referral: (service,
/// executions per referral, SQL), at most `n` per service, most frequent first.
fn top_statements(before: &BySql, after: &BySql, referrals: usize, n: usize) -> Vec<TopStatement> {
    let mut out = Vec::new();
    for service in hub_core::SERVICES {
        let (Some(b), Some(a)) = (before.get(*service), after.get(*service)) else {
            continue;
        };
        let mut rows: Vec<(u64, &String)> = a
            .iter()
            .map(|(sql, count)| (count - b.get(sql).copied().unwrap_or(0), sql))
            .filter(|(d, _)| *d > 0)
            .collect();
        rows.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(y.1)));
        out.extend(rows.into_iter().take(n).map(|(d, sql)| TopStatement {
            service: (*service).to_owned(),
            per_referral: d as f64 / referrals.max(1) as f64,
            sql: truncate(sql, 160).to_owned(),
        }));
    }
    out
}

#[derive(Debug, Clone, Serialize)]
struct TopStatement {
    service: String,
    per_referral: f64,
    sql: String,
}

/// What each service sent PostgreSQL between two snapshots, per referral.
fn per_referral(
    before: &HashMap<String, pgcount::Counted>,
    after: &HashMap<String, pgcount::Counted>,
    referrals: usize,
) -> Vec<StatementsPerReferral> {
    hub_core::SERVICES
        .iter()
        .filter_map(|s| {
            let (b, a) = (before.get(*s)?, after.get(*s)?);
            let n = referrals.max(1) as f64;
            Some(StatementsPerReferral {
                service: (*s).to_owned(),
                statements: (a.statements - b.statements) as f64 / n,
                round_trips: (a.round_trips - b.round_trips) as f64 / n,
                parses: (a.parses - b.parses) as f64 / n,
                connections_opened: a.connections - b.connections,
            })
        })
        .collect()
}

/// The URL of database `db` on the PostgreSQL server `server` (which may carry a query
/// string, e.g. `?sslmode=disable`).
fn pg_url(server: &str, db: &str) -> String {
    let (base, query) = server
        .split_once('?')
        .map_or((server, None), |(b, q)| (b, Some(q)));
    match query {
        Some(q) => format!("{}/{db}?{q}", base.trim_end_matches('/')),
        None => format!("{}/{db}", base.trim_end_matches('/')),
    }
}

/// Transactions committed so far in each bench database (PostgreSQL's statistics, which
/// backends report with a delay of up to [`STATS_FLUSH`]).
async fn pg_commits(server: &str) -> anyhow::Result<HashMap<String, i64>> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        datname: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        xact_commit: i64,
    }
    let url = pg_url(server, "postgres");
    tokio::task::spawn_blocking(move || {
        use diesel::Connection;
        let mut conn = diesel::PgConnection::establish(&url)?;
        let rows: Vec<Row> = diesel::sql_query(format!(
            "SELECT datname::text AS datname, xact_commit FROM pg_stat_database \
             WHERE datname LIKE '{DB_PREFIX}%'"
        ))
        .load(&mut conn)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let service = r.datname.trim_start_matches(DB_PREFIX).to_owned();
                (service, r.xact_commit)
            })
            .collect())
    })
    .await?
}

/// Empties the bench topology's queues, so nothing left by an interrupted run is consumed.
async fn purge_bench_queues(url: &str, retries: usize) -> anyhow::Result<()> {
    use lapin::{Connection, ConnectionProperties, options::QueuePurgeOptions};
    let conn = Connection::connect(
        url,
        ConnectionProperties::default().with_connection_name("hub-bench".into()),
    )
    .await
    .with_context(|| format!("connecting to RabbitMQ at {url}"))?;
    let subscriptions = [
        referral::handlers::subscription(),
        competition::handlers::subscription(),
        contract::handlers::subscription(),
        finance::handlers::subscription(),
        notifications::handlers::subscription(),
    ];
    for s in subscriptions {
        let q = format!("{QUEUE_PREFIX}.{}.{}", s.service, s.name);
        let mut names = vec![q.clone(), format!("{q}.dlq")];
        names.extend((0..retries).map(|n| format!("{q}.retry.{n}")));
        for name in names {
            // A missing queue closes the channel it was named on: one channel each.
            let ch = conn.create_channel().await?;
            let _ = ch
                .queue_purge(name.as_str().into(), QueuePurgeOptions::default())
                .await;
        }
    }
    let _ = conn.close(200, "purged".into()).await;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The webhook receiver.

#[derive(Deserialize)]
struct Hook {
    #[serde(rename = "type")]
    kind: String,
    /// When the event happened (for an invitation: the competition's opening).
    #[serde(default)]
    timestamp: Option<chrono::DateTime<chrono::Utc>>,
    data: HookData,
}

#[derive(Deserialize)]
struct HookData {
    referral_id: String,
}

#[derive(Default)]
struct Received {
    /// Per referral: each provider's first invitation and when it arrived.
    by_referral: Mutex<HashMap<String, Vec<(String, Instant)>>>,
    /// Per referral: seconds from the event (the message's `timestamp`) to each first
    /// invitation's arrival, by the wall clock both share.
    lags: Mutex<HashMap<String, Vec<f64>>>,
    secrets: RwLock<HashMap<String, String>>,
    total: AtomicU64,
    duplicates: AtomicU64,
    verified: AtomicU64,
    invalid: AtomicU64,
    other: AtomicU64,
}

/// Providers' webhook endpoints: `POST /hooks/{provider}` on 127.0.0.1.
struct Receiver {
    url: String,
    state: Arc<Received>,
    handle: actix_web::dev::ServerHandle,
}

async fn hook(req: HttpRequest, body: web::Bytes, state: web::Data<Received>) -> HttpResponse {
    let at = Instant::now();
    let wall = chrono::Utc::now();
    state.total.fetch_add(1, Ordering::Relaxed);
    let provider = req.match_info().get("provider").unwrap_or_default();
    let header = |k: &str| {
        req.headers()
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let secret = state
        .secrets
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(provider)
        .cloned();
    let valid = secret.is_some_and(|secret| {
        notifications::domain::verify(
            &secret,
            header("webhook-id"),
            header("webhook-timestamp").parse().unwrap_or(0),
            &body,
            header("webhook-signature"),
            chrono::Utc::now().timestamp(),
        )
        .is_ok()
    });
    let counter = if valid {
        &state.verified
    } else {
        &state.invalid
    };
    counter.fetch_add(1, Ordering::Relaxed);
    match serde_json::from_slice::<Hook>(&body) {
        Ok(h) if h.kind == notifications::domain::INVITED => {
            let mut map = state.by_referral.lock().unwrap_or_else(|e| e.into_inner());
            let seen = map.entry(h.data.referral_id.clone()).or_default();
            if seen.iter().any(|(p, _)| p == provider) {
                state.duplicates.fetch_add(1, Ordering::Relaxed);
            } else {
                seen.push((provider.to_owned(), at));
                if let Some(event_at) = h.timestamp {
                    let lag = (wall - event_at).num_microseconds().unwrap_or(0) as f64 / 1e6;
                    state
                        .lags
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .entry(h.data.referral_id)
                        .or_default()
                        .push(lag);
                }
            }
        }
        _ => {
            state.other.fetch_add(1, Ordering::Relaxed);
        }
    }
    HttpResponse::NoContent().finish()
}

impl Receiver {
    fn start() -> anyhow::Result<Self> {
        let state = Arc::new(Received::default());
        let data = web::Data::from(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/hooks/{provider}", web::post().to(hook))
        })
        .workers(2)
        .disable_signals()
        .listen(listener)?
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Self { url, state, handle })
    }

    fn endpoint(&self, provider: &str) -> String {
        format!("{}/hooks/{provider}", self.url)
    }

    fn set_secret(&self, provider: &str, secret: &str) {
        self.state
            .secrets
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(provider.to_owned(), secret.to_owned());
    }

    /// Waits until each referral in `ids` has had `providers` invitations, or `within`.
    async fn wait_for(&self, ids: &[String], providers: usize, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            let done = {
                let map = self
                    .state
                    .by_referral
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                ids.iter()
                    .all(|id| map.get(id).is_some_and(|v| v.len() >= providers))
            };
            if done {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// When each provider's invitation for `referral_id` arrived.
    fn arrivals(&self, referral_id: &str) -> Vec<Instant> {
        self.state
            .by_referral
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(referral_id)
            .map(|v| v.iter().map(|(_, at)| *at).collect())
            .unwrap_or_default()
    }

    /// Seconds from the event to each provider's invitation for `referral_id`.
    fn lags_secs(&self, referral_id: &str) -> Vec<f64> {
        self.state
            .lags
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(referral_id)
            .cloned()
            .unwrap_or_default()
    }

    fn signatures(&self) -> Signatures {
        let s = &self.state;
        Signatures {
            webhooks_received: s.total.load(Ordering::Relaxed),
            verified: s.verified.load(Ordering::Relaxed),
            invalid: s.invalid.load(Ordering::Relaxed),
            duplicates: s.duplicates.load(Ordering::Relaxed),
            not_invitations: s.other.load(Ordering::Relaxed),
        }
    }

    async fn stop(self) {
        self.handle.stop(false).await;
    }
}

// ---------------------------------------------------------------------------------------
// Set-up and load.

/// Where and as whom referrals are submitted.
struct Target {
    url: String,
    token: String,
    body: String,
}

async fn set_up(
    client: &reqwest::Client,
    platform: &Platform,
    auth: &Authenticator,
    receiver: &Receiver,
    providers: usize,
) -> anyhow::Result<Target> {
    let ids: Vec<String> = (1..=providers)
        .map(|i| format!("bench-prov-{i:02}"))
        .collect();
    let names: Vec<String> = (1..=providers)
        .map(|i| format!("Bench Children's Homes {i:02}"))
        .collect();
    let spec = FrameworkSpec {
        partnership: "LCR-PPA",
        lead: directory::HALTON,
        name: "hub bench framework",
        kind: "provider_partner_agreement",
        lots: &[("Residential", "residential")],
        admissions: ids
            .iter()
            .zip(&names)
            .map(|(id, name)| (id.as_str(), name.as_str(), 0, 250_000))
            .collect(),
    };
    let (framework_id, lots) =
        seed::create_framework(client, platform.url("competition"), auth, &spec).await?;
    for provider in &ids {
        let token = auth.mint_default(&format!("bench@{provider}"), provider, &[Role::Provider]);
        let created = seed::post_json(
            client,
            format!("{}/v1/webhooks", platform.url("notifications")),
            &token,
            json!({"url": receiver.endpoint(provider), "event_types": [notifications::domain::INVITED]}),
        )
        .await?;
        let secret = created["secret"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no secret in {created}"))?;
        receiver.set_secret(provider, secret);
    }
    let token = auth.mint_default("bench@sefton", directory::SEFTON, &[Role::Commissioner]);
    Ok(Target {
        url: format!("{}/v1/referrals", platform.url("referral")),
        token,
        body: referral_body(&framework_id, &lots[0]).to_string(),
    })
}

/// A mini-competition referral, submitted at once (the shape of the thin-flow test's).
/// (Also what the process tests post.)
pub fn referral_body(framework_id: &str, lot_id: &str) -> Value {
    json!({
        "partnership": "LCR-PPA",
        "framework_id": framework_id,
        "lot_id": lot_id,
        "route": "mini_competition",
        "route_reason": "planned move; the PPA residential lot has suitable homes",
        "submit": true,
        "document": {
            "child": {"name": "Bench Example-Child", "date_of_birth": "2012-05-14", "gender": "male",
                      "ethnicity": "White British", "first_language": "English"},
            "legal_status": "s31 care order",
            "placement_type": "residential",
            "urgency": "planned",
            "needs": ["emotional_behavioural", "risk_missing"],
            "education": {"school": "Example High School", "ehcp": true, "educational_needs": ["SEMH"]},
            "about_me": "Loves football and drawing; needs time to trust new adults.",
            "location": {"postcode_district": "L20", "latitude": 53.46, "longitude": -2.99, "max_distance_miles": 20.0},
            "wanted_start": "2026-12-01",
            "expected_duration_weeks": 52
        }
    })
}

/// One referral sent.
struct Sent {
    posted: Instant,
    answered: Instant,
    id: Option<String>,
    error: Option<String>,
}

/// Sends `n` referrals at `rate` a second, open loop: each leaves at its scheduled time in a
/// task of its own, whatever happened to the ones before.
async fn fire(client: &reqwest::Client, target: &Target, n: usize, rate: f64) -> Vec<Sent> {
    let period = Duration::from_secs_f64(1.0 / rate);
    let url: Arc<str> = target.url.as_str().into();
    let token: Arc<str> = target.token.as_str().into();
    let body: Arc<str> = target.body.as_str().into();
    let start = tokio::time::Instant::now() + Duration::from_millis(20);
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        tokio::time::sleep_until(start + period.mul_f64(i as f64)).await;
        let (client, url, token, body) = (client.clone(), url.clone(), token.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let posted = Instant::now();
            let result = async {
                let res = client
                    .post(&*url)
                    .bearer_auth(&*token)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_string())
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = res.status();
                let text = res.text().await.map_err(|e| e.to_string())?;
                if status != reqwest::StatusCode::CREATED {
                    return Err(format!("HTTP {status}: {}", truncate(&text, 300)));
                }
                serde_json::from_str::<Value>(&text)
                    .ok()
                    .and_then(|v| v["id"].as_str().map(str::to_owned))
                    .ok_or_else(|| format!("no id in {}", truncate(&text, 300)))
            }
            .await;
            let answered = Instant::now();
            match result {
                Ok(id) => Sent {
                    posted,
                    answered,
                    id: Some(id),
                    error: None,
                },
                Err(e) => Sent {
                    posted,
                    answered,
                    id: None,
                    error: Some(e),
                },
            }
        }));
    }
    let mut sent = Vec::with_capacity(n);
    for t in tasks {
        match t.await {
            Ok(s) => sent.push(s),
            Err(e) => sent.push(Sent {
                posted: Instant::now(),
                answered: Instant::now(),
                id: None,
                error: Some(format!("request task failed: {e}")),
            }),
        }
    }
    sent
}

fn truncate(s: &str, max: usize) -> &str {
    s.char_indices().nth(max).map_or(s, |(i, _)| &s[..i])
}

// ---------------------------------------------------------------------------------------
// Results.

#[derive(Debug, Clone, Copy, Default, Serialize)]
struct Percentiles {
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
    mean: f64,
}

/// Milliseconds from a histogram of microseconds.
fn percentiles(h: &Histogram<u64>) -> Percentiles {
    if h.is_empty() {
        return Percentiles::default();
    }
    let ms = |us: u64| us as f64 / 1000.0;
    Percentiles {
        p50: ms(h.value_at_quantile(0.50)),
        p95: ms(h.value_at_quantile(0.95)),
        p99: ms(h.value_at_quantile(0.99)),
        max: ms(h.max()),
        mean: h.mean() / 1000.0,
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

#[derive(Debug, Clone, Serialize)]
struct RunReport {
    offered_rate: f64,
    referrals: usize,
    /// Requests sent a second (from the first POST to the last).
    achieved_request_rate: f64,
    /// Referrals whose every provider was notified.
    completed: usize,
    /// completed / (last webhook − first POST).
    throughput_e2e: f64,
    /// (completed − 1) / (last completion − first completion): the rate the platform
    /// finished referrals at, without the first referral's latency in the window.
    completion_rate: f64,
    /// POST start → last of the referral's webhooks.
    latency_ms: Percentiles,
    /// Median latency of the first and of the last tenth of the referrals (a backlog
    /// that builds up shows as growth).
    latency_first_tenth_p50_ms: f64,
    latency_last_tenth_p50_ms: f64,
    post_ms: Percentiles,
    http_errors: usize,
    first_http_error: Option<String>,
    webhooks_expected: usize,
    webhooks_missing: usize,
    keeps_up: bool,
    cpu: Vec<CpuUse>,
    /// Processes outside the bench that used CPU meanwhile (a disturbed run).
    other_processes_cpu: Vec<CpuUse>,
    machine_cpu_busy_pct: f64,
    /// PostgreSQL transactions committed per referral in each service's database, as
    /// counted by the server (pool check-out pings and idle polling included).
    transactions_per_referral: Vec<(String, f64)>,
    /// Statements and round trips per referral by service (`--count-statements`; idle
    /// polling included).
    statements_per_referral: Vec<StatementsPerReferral>,
    /// The statements each service ran most, per referral (`--count-statements`).
    top_statements: Vec<TopStatement>,
}

#[derive(Debug, Clone, Serialize)]
struct StatementsPerReferral {
    service: String,
    statements: f64,
    round_trips: f64,
    /// Statements the server parsed and planned (not run from a prepared statement).
    parses: f64,
    connections_opened: u64,
}

impl RunReport {
    fn new(
        rate: f64,
        sent: &[Sent],
        receiver: &Receiver,
        providers: usize,
        cpu: CpuDuring,
    ) -> Self {
        let first_post = sent.iter().map(|s| s.posted).min();
        let last_post = sent.iter().map(|s| s.posted).max();
        let achieved_request_rate = match (first_post, last_post) {
            (Some(a), Some(b)) if b > a => (sent.len() - 1) as f64 / (b - a).as_secs_f64(),
            _ => 0.0,
        };
        let mut latency = histogram();
        let mut post = histogram();
        let mut received = 0;
        // (POST start, last webhook) of each referral fully notified, in sending order.
        let mut done: Vec<(Instant, Instant)> = Vec::new();
        for s in sent {
            post.saturating_record((s.answered - s.posted).as_micros() as u64);
            let Some(id) = &s.id else { continue };
            let arrivals = receiver.arrivals(id);
            received += arrivals.len().min(providers);
            if arrivals.len() >= providers
                && let Some(last) = arrivals.iter().max()
            {
                latency
                    .saturating_record(last.saturating_duration_since(s.posted).as_micros() as u64);
                done.push((s.posted, *last));
            }
        }
        let completed = done.len();
        let last_webhook = done.iter().map(|d| d.1).max();
        let first_completion = done.iter().map(|d| d.1).min();
        let throughput_e2e = match (first_post, last_webhook) {
            (Some(a), Some(b)) if b > a => completed as f64 / (b - a).as_secs_f64(),
            _ => 0.0,
        };
        let completion_rate = match (first_completion, last_webhook) {
            (Some(a), Some(b)) if b > a => (completed - 1) as f64 / (b - a).as_secs_f64(),
            _ => 0.0,
        };
        let tenth = (completed / 10).max(1);
        let median_of = |part: &[(Instant, Instant)]| {
            let mut v: Vec<f64> = part
                .iter()
                .map(|(p, l)| l.saturating_duration_since(*p).as_secs_f64() * 1000.0)
                .collect();
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or_default()
        };
        let errors: Vec<&Sent> = sent.iter().filter(|s| s.error.is_some()).collect();
        let webhooks_expected = sent.len() * providers;
        Self {
            offered_rate: rate,
            referrals: sent.len(),
            achieved_request_rate,
            completed,
            throughput_e2e,
            completion_rate,
            latency_ms: percentiles(&latency),
            latency_first_tenth_p50_ms: median_of(&done[..tenth.min(completed)]),
            latency_last_tenth_p50_ms: median_of(&done[completed.saturating_sub(tenth)..]),
            post_ms: percentiles(&post),
            http_errors: errors.len(),
            first_http_error: errors.first().and_then(|s| s.error.clone()),
            webhooks_expected,
            webhooks_missing: webhooks_expected - received,
            keeps_up: completed == sent.len() && completion_rate >= KEEP_UP * rate,
            cpu: cpu.groups,
            other_processes_cpu: cpu.others,
            machine_cpu_busy_pct: cpu.machine_busy_pct,
            transactions_per_referral: Vec::new(),
            statements_per_referral: Vec::new(),
            top_statements: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
struct Baseline {
    name: String,
    what: String,
    per_second: f64,
    /// Latency of one commit / one confirm.
    latency_ms: Percentiles,
}

#[derive(Debug, Clone, Serialize)]
struct ServiceMemory {
    service: String,
    idle_rss_mb: Option<f64>,
    /// The anonymous (private) part of the idle RSS; the rest is the executable's and the
    /// libraries' pages, shared by every process of the platform.
    idle_private_mb: Option<f64>,
    peak_rss_mb: Option<f64>,
    idle_target_met: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
struct Signatures {
    webhooks_received: u64,
    verified: u64,
    invalid: u64,
    duplicates: u64,
    not_invitations: u64,
}

#[derive(Debug, Clone, Serialize)]
struct Report {
    mode: Mode,
    cpus: usize,
    pool_size: u32,
    providers: usize,
    referrals_per_run: usize,
    warmup: usize,
    baselines: Vec<Baseline>,
    runs: Vec<RunReport>,
    competition: Option<competitions::CompetitionReport>,
    services: Vec<ServiceMemory>,
    signatures: Signatures,
}

fn kb_to_mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

impl Report {
    /// Commits each referral costs across the databases, and confirmed publishes (see
    /// README, Performance).
    fn commits_per_referral(&self) -> usize {
        9 + self.providers
    }

    fn baseline(&self, name: &str) -> Option<&Baseline> {
        self.baselines.iter().find(|b| b.name == name)
    }

    /// The results for a person: the set-up and baselines, the load's figures (or the
    /// competitions'), memory, the webhooks' signatures and the targets.
    fn table(&self) -> String {
        let mut o = String::new();
        self.write_header(&mut o);
        if let Some(c) = &self.competition {
            o.push_str(&c.table());
        } else {
            self.write_load(&mut o);
            self.write_cpu(&mut o);
            self.write_cost(&mut o);
        }
        self.write_memory(&mut o);
        self.write_targets(&mut o);
        o
    }

    fn write_header(&self, o: &mut String) {
        let mode = match self.mode {
            Mode::Distributed => "distributed (5 processes, PostgreSQL + RabbitMQ)",
            Mode::Embedded => "embedded (1 process, SQLite + in-process bus)",
        };
        let what = match &self.competition {
            Some(c) => format!(
                "competitions of {} providers and {} bids, {} after one warm-up",
                c.providers, c.bids, c.competitions
            ),
            None => format!(
                "{} providers invited per referral; {} referrals per rate after {} warm-up",
                self.providers, self.referrals_per_run, self.warmup
            ),
        };
        let _ = writeln!(
            o,
            "\nhub bench: {mode}; {} CPUs; pool size {}; {what}",
            self.cpus, self.pool_size
        );
        if !self.baselines.is_empty() {
            let _ = writeln!(o, "\nBaselines (same machine, same run)");
            for b in &self.baselines {
                let _ = writeln!(
                    o,
                    "  {:<54} {:>9.0}/s   (each: p50 {:.2} ms, p99 {:.2} ms)",
                    b.what, b.per_second, b.latency_ms.p50, b.latency_ms.p99
                );
            }
        }
    }

    /// Each rate's throughput and latency, and what went wrong at it.
    fn write_load(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "\nLoad: POST /v1/referrals → {} × competition.invited webhooks (latency = POST start → last webhook)",
            self.providers
        );
        let _ = writeln!(
            o,
            "  {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>6} {:>8} {:>5}",
            "offered",
            "sent/s",
            "e2e/s",
            "done/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
            "POST p50",
            "POST p99",
            "errors",
            "missing",
            "keeps"
        );
        for r in &self.runs {
            let _ = writeln!(
                o,
                "  {:>7.0} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>9.1} {:>9.1} {:>6} {:>8} {:>5}",
                r.offered_rate,
                r.achieved_request_rate,
                r.throughput_e2e,
                r.completion_rate,
                r.latency_ms.p50,
                r.latency_ms.p95,
                r.latency_ms.p99,
                r.latency_ms.max,
                r.post_ms.p50,
                r.post_ms.p99,
                r.http_errors,
                r.webhooks_missing,
                if r.keeps_up { "yes" } else { "NO" }
            );
        }
        let _ = writeln!(
            o,
            "  (e2e/s = referrals fully notified / (last webhook − first POST); done/s = rate of \
             completions; keeps = all notified and done/s ≥ {:.0}% of offered)",
            KEEP_UP * 100.0
        );
        for r in &self.runs {
            if let Some(e) = &r.first_http_error {
                let _ = writeln!(o, "  at {:.0}/s, first HTTP error: {e}", r.offered_rate);
            }
            if r.latency_last_tenth_p50_ms > 2.0 * r.latency_first_tenth_p50_ms + 50.0 {
                let _ = writeln!(
                    o,
                    "  at {:.0}/s a backlog built up: median latency {:.0} ms in the first tenth, {:.0} ms in the last",
                    r.offered_rate, r.latency_first_tenth_p50_ms, r.latency_last_tenth_p50_ms
                );
            }
        }
    }

    fn write_cpu(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "\nCPU during each run (% of one core; the machine has {} cores)",
            self.cpus
        );
        for r in &self.runs {
            let parts: Vec<String> = r
                .cpu
                .iter()
                .map(|c| format!("{} {:.0}%", c.name, c.pct_of_core))
                .collect();
            let accounted: f64 = r
                .cpu
                .iter()
                .chain(&r.other_processes_cpu)
                .map(|c| c.pct_of_core)
                .sum();
            let rest = (r.machine_cpu_busy_pct * self.cpus as f64 - accounted).max(0.0);
            let others: Vec<String> = r
                .other_processes_cpu
                .iter()
                .take(4)
                .map(|c| format!("{} {:.0}%", c.name, c.pct_of_core))
                .collect();
            let others_total: f64 = r.other_processes_cpu.iter().map(|c| c.pct_of_core).sum();
            let _ = writeln!(
                o,
                "  {:>5.0}/s: machine {:.0}% busy; {}; kernel and exited processes {rest:.0}%{}",
                r.offered_rate,
                r.machine_cpu_busy_pct,
                parts.join(", "),
                if others.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; other processes {}{}",
                        others.join(", "),
                        if others_total >= 10.0 {
                            " (the run was disturbed)"
                        } else {
                            ""
                        }
                    )
                }
            );
        }
    }

    /// Each referral's cost by design and as counted, against the raw baselines.
    fn write_cost(&self, o: &mut String) {
        let commits = self.commits_per_referral();
        let _ = writeln!(
            o,
            "\nCost per referral against the machine's limits\n  by design: {commits} commits \
             (referral 4, competition 3, notifications 2 + {p}), 2 confirmed publishes{}, \
             consumed 3 times; 1 POST in, {p} webhooks out",
            if self.mode == Mode::Embedded {
                " (in-process)"
            } else {
                ""
            },
            p = self.providers
        );
        for r in &self.runs {
            self.write_statements(o, r);
            self.write_limits(o, r, commits);
        }
    }

    /// The transactions and statements PostgreSQL counted per referral at a rate.
    fn write_statements(&self, o: &mut String, r: &RunReport) {
        let measured = r.transactions();
        if !r.transactions_per_referral.is_empty() {
            let parts: Vec<String> = r
                .transactions_per_referral
                .iter()
                .filter(|(_, n)| *n >= 0.05)
                .map(|(s, n)| format!("{s} {n:.1}"))
                .collect();
            let _ = writeln!(
                o,
                "  at {:>4.0}/s PostgreSQL counted {measured:.1} transactions per referral ({}; \
                 pool check-out pings and polling included)",
                r.offered_rate,
                parts.join(", ")
            );
        }
        if !r.statements_per_referral.is_empty() {
            let total = |f: fn(&StatementsPerReferral) -> f64| {
                r.statements_per_referral.iter().map(f).sum::<f64>()
            };
            let parts: Vec<String> = r
                .statements_per_referral
                .iter()
                .map(|s| {
                    format!(
                        "{} {:.1}/{:.1}/{:.1}",
                        s.service, s.statements, s.round_trips, s.parses
                    )
                })
                .collect();
            let _ = writeln!(
                o,
                "  at {:>4.0}/s the services sent {:.1} statements in {:.1} round trips per \
                 referral, {:.1} of them parsed and planned ({}; statements/round trips/parsed; \
                 polling included)",
                r.offered_rate,
                total(|s| s.statements),
                total(|s| s.round_trips),
                total(|s| s.parses),
                parts.join(", ")
            );
            for t in &r.top_statements {
                let _ = writeln!(
                    o,
                    "      {:<13} {:>5.2}  {}",
                    t.service, t.per_referral, t.sql
                );
            }
        }
    }

    /// A rate's transactions, commits and publishes as a share of the raw baselines.
    fn write_limits(&self, o: &mut String, r: &RunReport, commits: usize) {
        let rate = r.completion_rate;
        let measured = r.transactions();
        let per_referral = if measured > 0.0 {
            measured
        } else {
            commits as f64
        };
        let mut parts = Vec::new();
        for (name, per_ref, label) in [
            ("postgres", per_referral, "transactions"),
            ("sqlite", commits as f64, "commits"),
            ("rabbitmq", 2.0, "publishes"),
        ] {
            if let Some(b) = self.baseline(name)
                && b.per_second > 0.0
            {
                parts.push(format!(
                    "{:.0} {label}/s = {:.0}% of raw {}",
                    rate * per_ref,
                    100.0 * rate * per_ref / b.per_second,
                    b.name
                ));
            }
        }
        if !parts.is_empty() {
            let _ = writeln!(
                o,
                "  at {:>4.0}/s: {rate:.1} referrals/s done = {}",
                r.offered_rate,
                parts.join("; ")
            );
        }
    }

    /// Memory per service and the webhooks' signatures.
    fn write_memory(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "\nMemory (MB)           idle RSS  (private)   peak RSS   idle < {} MB",
            TARGET_IDLE_RSS_KB / 1024
        );
        for s in &self.services {
            let _ = writeln!(
                o,
                "  {:<18} {:>9} {:>10} {:>10}   {}",
                s.service,
                s.idle_rss_mb.map_or("?".into(), |v| format!("{v:.1}")),
                s.idle_private_mb
                    .map_or("?".into(), |v| format!("({v:.1})")),
                s.peak_rss_mb.map_or("?".into(), |v| format!("{v:.1}")),
                if self.mode == Mode::Embedded {
                    "(all five services)"
                } else {
                    s.idle_target_met.map_or("?", met)
                }
            );
        }

        let sig = &self.signatures;
        let _ = writeln!(
            o,
            "\nWebhooks: {} received, {} signatures valid, {} invalid, {} duplicates, {} not invitations",
            sig.webhooks_received, sig.verified, sig.invalid, sig.duplicates, sig.not_invitations
        );
    }

    fn write_targets(&self, o: &mut String) {
        let _ = writeln!(o, "\nTargets");
        if self.mode == Mode::Distributed && self.competition.is_none() {
            let best = self
                .runs
                .iter()
                .filter(|r| r.keeps_up)
                .map(|r| r.offered_rate)
                .fold(None, |a: Option<f64>, b| Some(a.map_or(b, |a| a.max(b))));
            let tried = self
                .runs
                .iter()
                .any(|r| r.offered_rate >= TARGET_THROUGHPUT);
            let _ = writeln!(
                o,
                "  sustained ≥ {TARGET_THROUGHPUT:.0} referrals/s end to end: {}",
                match (tried, best) {
                    (false, _) => format!("not measured (run a rate ≥ {TARGET_THROUGHPUT:.0})"),
                    (true, Some(b)) if b >= TARGET_THROUGHPUT =>
                        format!("met (keeps up at {b:.0}/s offered)"),
                    (true, b) => format!(
                        "MISSED (highest rate kept up with: {})",
                        b.map_or("none".into(), |b| format!("{b:.0}/s"))
                    ),
                }
            );
            match self
                .runs
                .iter()
                .find(|r| (r.offered_rate - TARGET_P99_RATE).abs() < 0.5)
            {
                Some(r) => {
                    let _ = writeln!(
                        o,
                        "  p99 POST → last webhook ≤ {TARGET_P99_MS:.0} ms at {TARGET_P99_RATE:.0}/s: {} ({:.1} ms)",
                        met(r.latency_ms.p99 <= TARGET_P99_MS && r.completed == r.referrals),
                        r.latency_ms.p99
                    );
                }
                None => {
                    let _ = writeln!(
                        o,
                        "  p99 POST → last webhook ≤ {TARGET_P99_MS:.0} ms at {TARGET_P99_RATE:.0}/s: not measured (run --rates 50,…)"
                    );
                }
            }
        }
        let idle_ok = self
            .services
            .iter()
            .all(|s| s.idle_target_met.unwrap_or(false));
        if self.mode == Mode::Embedded {
            // One process hosts the five services: a service's own RSS is not separable, so
            // the per-service target is judged by the distributed run.
            let _ = writeln!(
                o,
                "  each service idle under {} MB RSS: judged in distributed mode (here one process \
                 holds all five: {} MB idle)",
                TARGET_IDLE_RSS_KB / 1024,
                self.services
                    .iter()
                    .filter_map(|s| s.idle_rss_mb)
                    .map(|v| format!("{v:.1}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        } else {
            let _ = writeln!(
                o,
                "  each service idle under {} MB RSS: {}",
                TARGET_IDLE_RSS_KB / 1024,
                met(idle_ok)
            );
        }
    }
}

impl RunReport {
    /// The transactions PostgreSQL counted per referral (0 when not counted).
    fn transactions(&self) -> f64 {
        self.transactions_per_referral.iter().map(|(_, n)| n).sum()
    }
}

// ---------------------------------------------------------------------------------------
// /proc: memory and CPU.

/// A `kB` field of /proc/<pid>/status (VmRSS, VmHWM).
fn proc_status_kb(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// utime + stime of a process, in clock ticks.
fn proc_cpu_ticks(pid: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// (busy, total) ticks of the whole machine.
fn machine_ticks() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

#[derive(Debug, Clone, Serialize)]
struct CpuUse {
    name: String,
    pct_of_core: f64,
}

/// CPU ticks of every process: the platform's (by service), PostgreSQL's and RabbitMQ's (in
/// distributed mode), this one's, and the others' (by command name), which show whether
/// something else on the machine disturbed a run.
struct CpuSnapshot {
    at: Instant,
    /// pid → (group name, ticks); groups of other processes are named `other:<comm>`.
    ticks: HashMap<String, (String, u64)>,
    machine: Option<(u64, u64)>,
}

/// CPU used during a run, in % of one core.
struct CpuDuring {
    groups: Vec<CpuUse>,
    /// The busiest processes outside the bench (2 % of a core or more).
    others: Vec<CpuUse>,
    machine_busy_pct: f64,
}

impl CpuSnapshot {
    fn take(platform: &Platform) -> Self {
        let own = std::process::id().to_string();
        let mut ticks = HashMap::new();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Self {
                at: Instant::now(),
                ticks,
                machine: None,
            };
        };
        for e in entries.flatten() {
            let pid = e.file_name().to_string_lossy().into_owned();
            if !pid.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let Some(t) = proc_cpu_ticks(&pid) else {
                continue;
            };
            let service = platform
                .procs
                .iter()
                .find(|p| p.pid.to_string() == pid)
                .map(|p| p.service.clone());
            let group = if let Some(service) = service {
                service
            } else if pid == own {
                "bench".to_owned()
            } else {
                let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                match (comm.trim(), platform.mode) {
                    ("postgres", Mode::Distributed) => "postgresql".to_owned(),
                    ("beam.smp", Mode::Distributed) => "rabbitmq".to_owned(),
                    // Kernel workers rename themselves after their current job.
                    (other, _) if other.starts_with("kworker") => "other:kworker".to_owned(),
                    (other, _) => format!("other:{other}"),
                }
            };
            ticks.insert(pid, (group, t));
        }
        Self {
            at: Instant::now(),
            ticks,
            machine: machine_ticks(),
        }
    }

    /// CPU used per group since `before`, and how busy the machine was.
    fn since(&self, before: &CpuSnapshot) -> CpuDuring {
        let secs = (self.at - before.at).as_secs_f64().max(1e-3);
        let mut groups: Vec<(String, u64)> = Vec::new();
        for (pid, (group, t)) in &self.ticks {
            // By pid only: a kernel worker's name changes with the work it does.
            let used = t.saturating_sub(before.ticks.get(pid).map_or(0, |(_, t)| *t));
            match groups.iter_mut().find(|(g, _)| g == group) {
                Some((_, sum)) => *sum += used,
                None => groups.push((group.clone(), used)),
            }
        }
        let order = |g: &str| {
            hub_core::SERVICES
                .iter()
                .position(|s| *s == g)
                .unwrap_or(match g {
                    "hub" => 0,
                    "postgresql" => 10,
                    "rabbitmq" => 11,
                    _ => 12,
                })
        };
        groups.sort_by_key(|(g, _)| order(g));
        let pct = |t: u64| 100.0 * t as f64 / CLK_TCK / secs;
        let (other, ours): (Vec<_>, Vec<_>) = groups
            .into_iter()
            .partition(|(g, _)| g.starts_with("other:"));
        let mut others: Vec<CpuUse> = other
            .into_iter()
            .map(|(g, t)| CpuUse {
                name: g.trim_start_matches("other:").to_owned(),
                pct_of_core: pct(t),
            })
            .filter(|c| c.pct_of_core >= 2.0)
            .collect();
        others.sort_by(|a, b| b.pct_of_core.total_cmp(&a.pct_of_core));
        let machine_busy_pct = match (before.machine, self.machine) {
            (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => {
                100.0 * (b1 - b0) as f64 / (t1 - t0) as f64
            }
            _ => 0.0,
        };
        CpuDuring {
            groups: ours
                .into_iter()
                .map(|(name, t)| CpuUse {
                    name,
                    pct_of_core: pct(t),
                })
                .collect(),
            others,
            machine_busy_pct,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Baselines.

async fn measure_baselines(
    args: &BenchArgs,
    pool_size: u32,
    dir: &Path,
) -> anyhow::Result<Vec<Baseline>> {
    let secs = Duration::from_secs_f64(args.baseline_secs);
    let mut out = Vec::new();
    match args.mode {
        Mode::Distributed => {
            let url = pg_url(&args.postgres, BASELINE_DB);
            let dropped = url.clone();
            tokio::task::spawn_blocking(move || hub_platform::db::drop_postgres_database(&dropped))
                .await??;
            let result = commit_baseline(&url, "postgres", pool_size, secs).await;
            let dropped = url.clone();
            let _ = tokio::task::spawn_blocking(move || {
                hub_platform::db::drop_postgres_database(&dropped)
            })
            .await;
            out.push(result.context("PostgreSQL baseline")?);
            out.push(
                publish_baseline(&args.amqp, secs)
                    .await
                    .context("RabbitMQ baseline")?,
            );
        }
        Mode::Embedded => {
            let url = format!("sqlite://{}", dir.join("baseline").display());
            out.push(
                commit_baseline(&url, "sqlite", pool_size, secs)
                    .await
                    .context("SQLite baseline")?,
            );
        }
    }
    Ok(out)
}

/// About 2 KB of JSON: a referral version's document.
fn document_2kb() -> String {
    let mut doc = referral_body("00000000-0000-0000-0000-000000000000", "x")["document"].clone();
    doc["about_me"] = Value::String(String::new());
    let pad = 2048usize.saturating_sub(doc.to_string().len());
    doc["about_me"] = Value::String("x".repeat(pad));
    doc.to_string()
}

/// Commits/s of single-row inserts shaped like `referral_versions`, one transaction each,
/// from `workers` threads through the platform's own [`Database`] (so SQLite gets the same
/// pragmas and in-process write lock as the services).
async fn commit_baseline(
    url: &str,
    name: &str,
    workers: u32,
    run_for: Duration,
) -> anyhow::Result<Baseline> {
    let db = Database::connect(url, "baseline", workers).await?;
    let backend = db.backend();
    let (n, elapsed, h) = tokio::task::spawn_blocking(move || {
        db.get()?.batch_execute(
            "CREATE TABLE IF NOT EXISTS bench_versions (id TEXT PRIMARY KEY, version INTEGER NOT NULL, \
             document TEXT NOT NULL, created_by TEXT NOT NULL, created_at TIMESTAMP NOT NULL, \
             updated_at TIMESTAMP NOT NULL)",
        )?;
        let document = document_2kb();
        commit_for(&db, workers, run_for, &document)
    })
    .await??;
    let what = match backend {
        hub_platform::Backend::Postgres => {
            format!("PostgreSQL commits ({workers} connections, 2 KB row, 1 row/tx)")
        }
        hub_platform::Backend::Sqlite => {
            format!("SQLite commits ({workers} threads, WAL, 2 KB row, 1 row/tx)")
        }
    };
    Ok(Baseline {
        name: name.to_owned(),
        what,
        per_second: n as f64 / elapsed.as_secs_f64(),
        latency_ms: percentiles(&h),
    })
}

/// One `bench_versions` row in a transaction of its own.
fn insert_version(db: &Database, document: &str) -> Result<(), hub_platform::db::DbError> {
    let now = chrono::Utc::now().naive_utc();
    let document = document.to_owned();
    db.transaction_blocking(move |c| {
        diesel::sql_query(
            "INSERT INTO bench_versions (id, version, document, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind::<Text, _>(uuid::Uuid::now_v7().to_string())
        .bind::<Integer, _>(1)
        .bind::<Text, _>(document)
        .bind::<Text, _>("bench")
        .bind::<Timestamp, _>(now)
        .bind::<Timestamp, _>(now)
        .execute(c)?;
        Ok(())
    })
}

/// Inserts from `workers` threads for `run_for`, all starting together once each has its
/// connection: the commits, the time taken and their latencies.
fn commit_for(
    db: &Database,
    workers: u32,
    run_for: Duration,
    document: &str,
) -> anyhow::Result<(u64, Duration, Histogram<u64>)> {
    let barrier = Barrier::new(workers as usize + 1);
    let (start, results) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| -> anyhow::Result<(u64, Histogram<u64>)> {
                    // Open this worker's connection before the clock starts.
                    let warm = insert_version(db, document);
                    barrier.wait();
                    warm?;
                    let deadline = Instant::now() + run_for;
                    let mut h = histogram();
                    let mut n = 0;
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        insert_version(db, document)?;
                        h.saturating_record(t.elapsed().as_micros() as u64);
                        n += 1;
                    }
                    Ok((n, h))
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let results: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().expect("baseline worker panicked"))
            .collect();
        (start, results)
    });
    let elapsed = start.elapsed();
    let mut all = histogram();
    let mut n = 0;
    for r in results {
        let (count, h) = r?;
        n += count;
        all.add(&h).expect("same bounds");
    }
    Ok((n, elapsed, all))
}

/// Confirmed publishes/s of 1 KB persistent messages to a quorum queue (as the platform's),
/// [`IN_FLIGHT`] confirms in flight on one channel; the exchange and queue are deleted
/// afterwards.
async fn publish_baseline(url: &str, run_for: Duration) -> anyhow::Result<Baseline> {
    use lapin::{
        Connection, ConnectionProperties,
        options::{ConfirmSelectOptions, ExchangeDeleteOptions, QueueDeleteOptions},
    };
    let conn = Connection::connect(
        url,
        ConnectionProperties::default().with_connection_name("hub-bench-baseline".into()),
    )
    .await
    .with_context(|| format!("connecting to RabbitMQ at {url}"))?;
    let ch = conn.create_channel().await?;
    ch.confirm_select(ConfirmSelectOptions::default()).await?;
    let name = format!("hub-bench.baseline.{}", uuid::Uuid::now_v7().simple());
    declare_baseline_queue(&ch, &name).await?;
    let measured = publish_for(&ch, &name, run_for).await;
    let _ = ch
        .queue_delete(name.as_str().into(), QueueDeleteOptions::default())
        .await;
    let _ = ch
        .exchange_delete(name.as_str().into(), ExchangeDeleteOptions::default())
        .await;
    let _ = conn.close(200, "done".into()).await;
    let (acked, elapsed, h) = measured?;
    Ok(Baseline {
        name: "rabbitmq".to_owned(),
        what: format!(
            "RabbitMQ confirmed publishes (1 KB persistent, quorum queue, {IN_FLIGHT} in flight)"
        ),
        per_second: acked as f64 / elapsed.as_secs_f64(),
        latency_ms: percentiles(&h),
    })
}

/// Confirms the publish baseline keeps waiting for at once.
const IN_FLIGHT: usize = 64;

/// A durable topic exchange and a quorum queue bound to it, both called `name`.
async fn declare_baseline_queue(ch: &lapin::Channel, name: &str) -> anyhow::Result<()> {
    use lapin::{
        ExchangeKind,
        options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions},
        types::{AMQPValue, FieldTable},
    };
    ch.exchange_declare(
        name.into(),
        ExchangeKind::Topic,
        ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await?;
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    ch.queue_declare(name.into(), QueueDeclareOptions::durable(), args)
        .await?;
    ch.queue_bind(
        name.into(),
        name.into(),
        "bench.#".into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await?;
    Ok(())
}

/// Publishes 1 KB persistent messages to exchange `name` for `run_for`: the confirmed
/// ones, the time taken and each confirm's latency.
async fn publish_for(
    ch: &lapin::Channel,
    name: &str,
    run_for: Duration,
) -> anyhow::Result<(u64, Duration, Histogram<u64>)> {
    use lapin::{BasicProperties, Confirmation, options::BasicPublishOptions};
    let payload = vec![b'x'; 1024];
    let props = BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(2);
    let mut in_flight = FuturesUnordered::new();
    let mut h = histogram();
    let (mut acked, mut nacked) = (0u64, 0u64);
    let start = Instant::now();
    let deadline = start + run_for;
    loop {
        while in_flight.len() < IN_FLIGHT && Instant::now() < deadline {
            let t = Instant::now();
            let confirm = ch
                .basic_publish(
                    name.into(),
                    "bench.baseline".into(),
                    BasicPublishOptions::default(),
                    &payload,
                    props.clone(),
                )
                .await?;
            in_flight.push(async move { (t, confirm.await) });
        }
        let Some((t, confirmation)) = in_flight.next().await else {
            break;
        };
        match confirmation? {
            Confirmation::Ack(_) => acked += 1,
            _ => nacked += 1,
        }
        h.saturating_record(t.elapsed().as_micros() as u64);
    }
    anyhow::ensure!(nacked == 0, "the broker refused {nacked} messages");
    Ok((acked, start.elapsed(), h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_proc_fields() {
        let pid = std::process::id();
        assert!(proc_status_kb(pid, "VmRSS").is_some_and(|kb| kb > 0));
        assert!(proc_cpu_ticks("self").is_some());
        let (busy, total) = machine_ticks().expect("/proc/stat");
        assert!(busy <= total);
    }

    #[test]
    fn percentiles_are_in_milliseconds() {
        let mut h = histogram();
        for us in 1..=1000u64 {
            h.record(us * 1000).unwrap();
        }
        let p = percentiles(&h);
        assert!((p.p50 - 500.0).abs() < 1.0, "{p:?}");
        assert!((p.p99 - 990.0).abs() < 1.0, "{p:?}");
        assert!((p.max - 1000.0).abs() < 1.0, "{p:?}");
    }

    #[test]
    fn the_baseline_document_is_about_2_kb() {
        let len = document_2kb().len();
        assert!((2040..2060).contains(&len), "{len}");
    }
}
