//! `hub`: the Commissioning Hub's one binary.

// No function over 80 lines (clippy.toml) without a reason written beside it
// (`#[expect(clippy::too_many_lines, reason = "…")]`); a unit test may tell a longer story.
#![warn(clippy::too_many_lines)]
#![cfg_attr(test, allow(clippy::too_many_lines))]

use std::{net::TcpListener, time::Duration};

use clap::{Parser, Subcommand};
use hub_platform::{Authenticator, Role, Settings};

#[derive(Parser)]
#[command(
    name = "hub",
    version,
    about = "The Commissioning Hub: councils commissioning children's placements together"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every service in one process (embedded: SQLite under ./data, in-process bus, port
    /// 8080), or one service on its own port with the database and bus from config.
    Serve {
        /// referral, competition, contract, finance or notifications; all when omitted.
        service: Option<String>,
        /// Listen on this port instead of the configured one.
        #[arg(long)]
        port: Option<u16>,
    },
    /// Create (if missing) and migrate the databases of one service, or of all (no service,
    /// or --all); exits 0 once every one is up to date. Whatever `database.migrate_at_start`
    /// says: this is how a deployment with it false (Kubernetes: a Job) migrates.
    Migrate {
        /// referral, competition, contract, finance or notifications.
        #[arg(conflicts_with = "all")]
        service: Option<String>,
        /// Every service (the default when no service is named).
        #[arg(long)]
        all: bool,
    },
    /// Print a signed bearer token (HS256, the configured secret).
    Token {
        /// The organisation: a council's GSS code (e.g. E08000014) or a provider's id.
        #[arg(long)]
        org: String,
        /// Roles, comma-separated: commissioner, social_worker, finance, provider, admin.
        #[arg(long, value_delimiter = ',', required = true)]
        role: Vec<Role>,
        /// The user (subject).
        #[arg(long, default_value = "demo-user")]
        sub: String,
        /// Lifetime in seconds (default: auth.token_ttl_seconds).
        #[arg(long)]
        ttl: Option<u64>,
    },
    /// Load the demo partnerships into a running platform: the LCR PPA (two lots, six
    /// providers) and AIM's pooled budget and a live adoption support contract this year.
    Seed {
        /// Base URL of the platform (embedded) or of the competition service.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// The finance service's URL when distributed (default: `--url`).
        #[arg(long)]
        finance_url: Option<String>,
        /// The contract service's URL when distributed (default: `--url`).
        #[arg(long)]
        contract_url: Option<String>,
    },
    /// Measure the thin flow: throughput, latency and memory (see README); `hub bench
    /// ledger`: the finance ledger at national scale.
    Bench(hub_bench::Bench),
}

/// Waits for SIGTERM (what Docker and Kubernetes send) or SIGINT (Ctrl-C); names it.
async fn stop_signal() -> anyhow::Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        })
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await?;
        Ok("Ctrl-C")
    }
}

/// Exits 1 with one line on stderr when anything fails, a refused configuration included, so
/// an operator sees the reason in the first line of the logs: `hub: <what>: <why>` in plain
/// text while logging is not set up yet (configuration refused, or a command other than
/// `serve`), else a log line like any other (JSON by default: level ERROR, message `hub
/// stopped`, `error`), so the stream of a running service holds nothing but its log format.
fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = Settings::load().and_then(|settings| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(run(cli, settings))
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let error = format!("{e:#}").replace('\n', " ");
            if tracing::dispatcher::has_been_set() {
                tracing::error!(error, "hub stopped");
            } else {
                eprintln!("hub: {error}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { service, port } => serve(settings, service.as_deref(), port).await,
        Command::Migrate { service, all: _ } => migrate(&settings, service.as_deref()).await,
        Command::Token {
            org,
            role,
            sub,
            ttl,
        } => {
            let auth = Authenticator::new(&settings.auth);
            let ttl = Duration::from_secs(ttl.unwrap_or(settings.auth.token_ttl_seconds));
            println!("{}", auth.mint(&sub, &org, &role, ttl));
            Ok(())
        }
        Command::Seed {
            url,
            finance_url,
            contract_url,
        } => seed(&settings, &url, finance_url, contract_url).await,
        Command::Bench(bench) => hub_bench::run(bench, settings).await,
    }
}

/// `hub serve [<service>]`: every service (embedded) or one, until a stop signal.
async fn serve(settings: Settings, service: Option<&str>, port: Option<u16>) -> anyhow::Result<()> {
    let name = service.map_or_else(|| "hub".to_owned(), |s| format!("hub-{s}"));
    let telemetry = hub_platform::telemetry::init(&name, &settings.telemetry)?;
    let (services, port): (Vec<&str>, u16) = match service {
        None => (hub::SERVICES.to_vec(), port.unwrap_or(settings.server.port)),
        Some(s) => {
            let known = hub::SERVICES.iter().copied().find(|x| *x == s);
            let (Some(known), Some(p)) = (known, settings.ports.of(s)) else {
                anyhow::bail!(
                    "no service named {s} (one of: {})",
                    hub::SERVICES.join(", ")
                );
            };
            (vec![known], port.unwrap_or(p))
        }
    };
    let listener = TcpListener::bind((settings.server.host.as_str(), port))
        .map_err(|e| anyhow::anyhow!("cannot listen on {}:{port}: {e}", settings.server.host))?;
    listener.set_nonblocking(true)?;
    // Says where it listens in a JSON line of its own (message `listening`, `url`).
    let platform = hub::start(settings, &services, listener).await?;
    let signal = stop_signal().await?;
    tracing::info!(signal, "shutting down");
    platform.stop().await;
    telemetry.shutdown().await;
    Ok(())
}

/// `hub migrate [<service>|--all]`.
async fn migrate(settings: &Settings, service: Option<&str>) -> anyhow::Result<()> {
    let services: Vec<&str> = match service {
        None => hub::SERVICES.to_vec(),
        Some(s) => vec![s],
    };
    for s in services {
        let db = hub::migrate_database(settings, s).await?;
        println!("{s}: migrated ({})", db.location);
    }
    Ok(())
}

/// `hub seed`: the demo framework, providers and AIM's year, as key=value lines on stdout
/// (`eval "$(hub seed)"`), the rest on stderr.
async fn seed(
    settings: &Settings,
    url: &str,
    finance_url: Option<String>,
    contract_url: Option<String>,
) -> anyhow::Result<()> {
    let auth = Authenticator::new(&settings.auth);
    let base = |u: &Option<String>| u.as_deref().unwrap_or(url).trim_end_matches('/').to_owned();
    let seeded = hub::seed::seed(url.trim_end_matches('/'), &auth).await?;
    println!("framework_id={}", seeded.framework_id);
    println!("residential_lot={}", seeded.residential_lot);
    println!("foster_lot={}", seeded.foster_lot);
    let aim = hub::seed::seed_aim(&base(&finance_url), &base(&contract_url), &auth).await?;
    println!("aim_year={}", aim.year);
    println!("aim_budget_id={}", aim.budget_id);
    println!("aim_service_contract_id={}", aim.service_contract_id);
    for (id, name, lot, price) in hub::seed::DEMO_PROVIDERS {
        eprintln!(
            "provider {id} ({name}) lot {} at {}",
            ["residential", "foster care"][*lot],
            hub_platform::Pence(*price)
        );
    }
    Ok(())
}
