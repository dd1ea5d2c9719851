//! The one binary's library (the `hub` crate re-exports it whole): starts services (all in
//! one process, or one per process), migrates their databases, and `hub seed`. The acceptance
//! tests start the platform through [`start`] exactly as `hub serve` does; so does `hub bench
//! ledger` (in `hub_bench`, which builds on this crate and not on `hub`, whose binary
//! depends on it).

// No function over 80 lines (clippy.toml) without a reason written beside it
// (`#[expect(clippy::too_many_lines, reason = "…")]`); a unit test may tell a longer story.
#![warn(clippy::too_many_lines)]
#![cfg_attr(test, allow(clippy::too_many_lines))]

pub mod seed;

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_web::{App, HttpServer, middleware::from_fn, web};
use hub_bus::{BusReadiness, Store, Transport, relay::OutboxReadiness};
use hub_platform::{
    Authenticator, Database, Problem, Settings,
    db::Migrations,
    http::{
        BodyLimits, Fallback, Metrics, Mounted, Ops, ReadinessCheck, guard_bodies,
        openapi_document, ops_routes,
    },
    http_trace::{access_log, server_spans},
};
use tokio::task::JoinHandle;

/// Every service, in the order the embedded server starts them.
pub const SERVICES: &[&str] = &[
    "referral",
    "competition",
    "contract",
    "finance",
    "notifications",
];

static REFERRAL: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &referral::MIGRATIONS];
static COMPETITION: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &competition::MIGRATIONS];
static CONTRACT: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &contract::MIGRATIONS];
static FINANCE: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &finance::MIGRATIONS];
static NOTIFICATIONS: [&Migrations; 2] = [&hub_bus::MIGRATIONS, &notifications::MIGRATIONS];

fn migrations(service: &str) -> anyhow::Result<&'static [&'static Migrations]> {
    Ok(match service {
        "referral" => &REFERRAL,
        "competition" => &COMPETITION,
        "contract" => &CONTRACT,
        "finance" => &FINANCE,
        "notifications" => &NOTIFICATIONS,
        other => anyhow::bail!("no service named {other} (one of: {})", SERVICES.join(", ")),
    })
}

async fn start_service(
    service: &str,
    store: Store,
    transport: Arc<dyn Transport>,
    settings: Arc<Settings>,
) -> anyhow::Result<Mounted> {
    match service {
        "referral" => referral::start(store, transport, settings).await,
        "competition" => competition::start(store, transport, settings).await,
        "contract" => contract::start(store, transport, settings).await,
        "finance" => finance::start(store, transport, settings).await,
        "notifications" => notifications::start(store, transport, settings).await,
        other => anyhow::bail!("no service named {other}"),
    }
}

/// Creates a service's database if missing and runs its migrations (and the bus's): what
/// `hub migrate` does, and a starting service with `database.migrate_at_start`.
pub async fn migrate_database(settings: &Settings, service: &str) -> anyhow::Result<Database> {
    let sets = migrations(service)?;
    let db =
        Database::connect(&settings.database.url, service, settings.database.pool_size).await?;
    db.migrate(sets).await?;
    Ok(db)
}

/// Opens a service's database for it to run on: created and migrated here when
/// `database.migrate_at_start` is true; otherwise never created nor migrated, only checked,
/// waiting up to `database.schema_wait_secs` for `hub migrate` (a Kubernetes Job) to have
/// made it and applied every migration, then refused, naming what is missing.
pub async fn open_database(settings: &Settings, service: &str) -> anyhow::Result<Database> {
    if settings.database.migrate_at_start {
        return migrate_database(settings, service).await;
    }
    let sets = migrations(service)?;
    let deadline =
        tokio::time::Instant::now() + Duration::from_secs(settings.database.schema_wait_secs);
    let mut logged = false;
    loop {
        let behind = match up_to_date(settings, service, sets).await {
            Ok(db) => return Ok(db),
            Err(why) => why,
        };
        if tokio::time::Instant::now() >= deadline {
            return Err(behind.context(format!(
                "{service} cannot start: run `hub migrate {service}` first \
                 (database.migrate_at_start is false)"
            )));
        }
        if !logged {
            tracing::warn!(service, reason = %format!("{behind:#}"), "waiting for `hub migrate`");
            logged = true;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The service's existing database when every migration of `sets` is applied to it.
async fn up_to_date(
    settings: &Settings,
    service: &str,
    sets: &'static [&'static Migrations],
) -> anyhow::Result<Database> {
    let db =
        Database::connect_existing(&settings.database.url, service, settings.database.pool_size)
            .await?;
    let pending = db.pending_migrations(sets).await?;
    anyhow::ensure!(
        pending.is_empty(),
        "the schema of {} is behind: {} migration(s) not applied ({})",
        db.location,
        pending.len(),
        pending.join(", ")
    );
    Ok(db)
}

/// A running platform: one HTTP server with the given services behind it.
pub struct Platform {
    pub url: String,
    pub services: Vec<String>,
    pub stores: Vec<Store>,
    pub transport: Arc<dyn Transport>,
    pub auth: Arc<Authenticator>,
    server: actix_web::dev::ServerHandle,
    server_task: JoinHandle<std::io::Result<()>>,
    relays: Vec<JoinHandle<()>>,
    /// `server.shutdown_grace_secs`.
    grace: std::time::Duration,
}

impl Platform {
    /// The store of one of the services this platform runs.
    pub fn store(&self, service: &str) -> Option<&Store> {
        self.services
            .iter()
            .position(|s| s == service)
            .map(|i| &self.stores[i])
    }

    /// Stops gracefully, within `server.shutdown_grace_secs` (what `hub serve` does on SIGTERM
    /// or SIGINT): the server stops accepting and answers the requests in flight; then the
    /// relays publish what the outboxes hold (until nothing is pending, the outboxes stop
    /// draining for a second, or the grace period is over); then the consumers stop and the
    /// bus connection closes. A message a consumer had not acknowledged is redelivered to
    /// another consumer (or at the next start) and deduplicated by the inbox, and an outbox
    /// row not yet published stays in the outbox, so nothing accepted is lost, only delayed.
    pub async fn stop(self) {
        let deadline = tokio::time::Instant::now() + self.grace;
        self.server.stop(true).await;
        let _ = self.server_task.await;
        drain_outboxes(&self.stores, deadline).await;
        for r in &self.relays {
            r.abort();
        }
        self.transport.shutdown().await;
    }
}

/// Waits until the outboxes hold nothing unpublished, they stop draining for a second, or
/// `deadline` passes.
async fn drain_outboxes(stores: &[Store], deadline: tokio::time::Instant) {
    const STALLED: std::time::Duration = std::time::Duration::from_secs(1);
    let mut last = (i64::MAX, tokio::time::Instant::now());
    while tokio::time::Instant::now() < deadline {
        let mut pending = 0;
        for store in stores {
            pending += hub_bus::relay::pending(store).await.unwrap_or(0);
        }
        if pending == 0 {
            return;
        }
        if pending < last.0 {
            last = (pending, tokio::time::Instant::now());
        } else if last.1.elapsed() >= STALLED {
            tracing::warn!(
                pending,
                "outbox rows left unpublished at shutdown; they are published at the next start"
            );
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// How often the outbox gauges of `/metrics` are refreshed.
const OUTBOX_METRICS_EVERY: Duration = Duration::from_secs(5);

/// Exports each service's outbox backlog on `/metrics` (`outbox_pending_events` and
/// `outbox_oldest_age_seconds`, by service), refreshed every [`OUTBOX_METRICS_EVERY`] by the
/// task returned (one cheap query per service over the outbox's pending index).
fn spawn_outbox_metrics(
    stores: Vec<Store>,
    registry: &prometheus::Registry,
) -> anyhow::Result<JoinHandle<()>> {
    let pending = prometheus::IntGaugeVec::new(
        prometheus::Opts::new("outbox_pending_events", "Events not yet published"),
        &["service"],
    )?;
    let oldest = prometheus::GaugeVec::new(
        prometheus::Opts::new(
            "outbox_oldest_age_seconds",
            "How long the oldest unpublished event has waited (0 when none waits)",
        ),
        &["service"],
    )?;
    registry.register(Box::new(pending.clone()))?;
    registry.register(Box::new(oldest.clone()))?;
    for s in &stores {
        pending.with_label_values(&[&s.service]);
        oldest.with_label_values(&[&s.service]);
    }
    Ok(tokio::spawn(async move {
        let mut tick = tokio::time::interval(OUTBOX_METRICS_EVERY);
        loop {
            tick.tick().await;
            for s in &stores {
                // Left as they were when the database does not answer (readiness says so).
                if let Ok(b) = hub_bus::relay::backlog(s).await {
                    let age_ms = b.oldest_age_ms(chrono::Utc::now().timestamp_millis());
                    pending.with_label_values(&[&s.service]).set(b.pending);
                    oldest
                        .with_label_values(&[&s.service])
                        .set(age_ms as f64 / 1000.0);
                }
            }
        }
    }))
}

/// The services this process runs, started: their stores, what they mount, and the
/// readiness checks of their databases and outboxes.
struct Started {
    stores: Vec<Store>,
    mounted: Vec<Mounted>,
    checks: Vec<Arc<dyn ReadinessCheck>>,
}

/// Opens and migrates each service's database and starts the service (its consumers
/// subscribe); registers each database pool's and each service's own metrics in `metrics`.
async fn start_services(
    settings: &Arc<Settings>,
    services: &[&str],
    transport: &Arc<dyn Transport>,
    metrics: &Metrics,
) -> anyhow::Result<Started> {
    let mut started = Started {
        stores: Vec::new(),
        mounted: Vec::new(),
        checks: Vec::new(),
    };
    for service in services {
        let db = open_database(settings, service).await?;
        metrics.registry.register(db.pool_metrics()?)?;
        started.checks.push(Arc::new(db.clone()));
        let store = Store::new(db, service);
        started.checks.push(Arc::new(OutboxReadiness::new(
            store.clone(),
            Duration::from_millis(settings.bus.outbox_ready_max_age_ms),
        )));
        let mut mounted =
            start_service(service, store.clone(), transport.clone(), settings.clone()).await?;
        for collector in mounted.metrics.drain(..) {
            metrics.registry.register(collector)?;
        }
        started.mounted.push(mounted);
        started.stores.push(store);
    }
    Ok(started)
}

/// The version this binary was built as.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit this binary was built from (see `build.rs`).
pub const GIT_COMMIT: &str = env!("HUB_GIT_COMMIT");

/// Starts `services` in this process behind one HTTP server on `listener`: connects the bus,
/// opens and migrates each service's database, subscribes its consumers, then starts the
/// outbox relays (after every consumer is subscribed, so no event precedes its consumers).
/// Everything it runs counts into one registry of its own, served at `/metrics`.
pub async fn start(
    settings: Settings,
    services: &[&str],
    listener: TcpListener,
) -> anyhow::Result<Platform> {
    hub_platform::install_crypto_provider();
    let mut settings = settings;
    // Refused before anything starts: an unusable link base (links sent to providers begin
    // with it), the development secret where others can reach the listener.
    let (listened, distributed) = (listener.local_addr()?, services.len() < SERVICES.len());
    settings.server.public_url = settings.resolve_public_url(listened, distributed)?;
    settings.check_secret(listened, distributed)?;
    let settings = Arc::new(settings);
    let metrics = Metrics::new()?;
    metrics.build_info(VERSION, GIT_COMMIT, services)?;
    let bus_metrics = hub_bus::BusMetrics::default();
    bus_metrics.register(&metrics.registry)?;
    let transport = hub_bus::connect(&settings.bus, bus_metrics).await?;
    let auth = Authenticator::new(&settings.auth);
    let Started {
        stores,
        mounted,
        checks: service_checks,
    } = start_services(&settings, services, &transport, &metrics).await?;
    let mut checks: Vec<Arc<dyn ReadinessCheck>> = vec![Arc::new(BusReadiness(transport.clone()))];
    checks.extend(service_checks);
    let mut relays: Vec<JoinHandle<()>> = stores
        .iter()
        .map(|s| hub_bus::relay::spawn(s, transport.clone(), &settings.bus))
        .collect();
    let title = if services.len() == 1 {
        format!("Commissioning Hub: {}", services[0])
    } else {
        "Commissioning Hub".to_owned()
    };
    let openapi = openapi_document(&title, mounted.iter().map(|m| m.openapi.clone()).collect());
    let ops = web::Data::new(Ops {
        checks,
        openapi_json: serde_json::to_string(&openapi)?,
        check_timeout: Duration::from_millis(settings.server.ready_check_timeout_ms),
    });
    relays.push(spawn_outbox_metrics(stores.clone(), &metrics.registry)?);
    let addr = listener.local_addr()?;
    let grace = std::time::Duration::from_secs(settings.server.shutdown_grace_secs);
    let server = http_server(&settings, &auth, metrics, ops, mounted, listener)?;
    let handle = server.handle();
    let server_task = tokio::spawn(server);
    let url = format!("http://{addr}");
    tracing::info!(%url, services = %services.join(","), "listening");
    Ok(Platform {
        url,
        services: services.iter().map(|s| (*s).to_owned()).collect(),
        stores,
        transport,
        auth,
        server: handle,
        server_task,
        relays,
        grace,
    })
}

/// The one HTTP server of a platform: the ops routes and every mounted service's, behind
/// the body guard, metrics, access log and server spans; malformed paths and queries are
/// problems.
fn http_server(
    settings: &Settings,
    auth: &Arc<Authenticator>,
    metrics: Metrics,
    ops: web::Data<Ops>,
    mounted: Vec<Mounted>,
    listener: TcpListener,
) -> anyhow::Result<actix_web::dev::Server> {
    let http_metrics = metrics.http_middleware();
    let metrics = web::Data::new(metrics);
    let body_limits = web::Data::new(BodyLimits::from_settings(&settings.server));
    // Extractors take what guard_bodies let through (it has the limits per media type).
    let payload_limit = settings
        .server
        .max_json_bytes
        .max(settings.server.max_upload_bytes);
    let request_timeout = std::time::Duration::from_millis(settings.server.request_timeout_ms);
    let auth_data = web::Data::from(auth.clone());
    let grace = std::time::Duration::from_secs(settings.server.shutdown_grace_secs);
    let fallback = Fallback::of(&mounted);
    let mounted = Arc::new(mounted);
    let server = HttpServer::new(move || {
        let mounted = mounted.clone();
        App::new()
            .app_data(auth_data.clone())
            .app_data(metrics.clone())
            .app_data(ops.clone())
            .app_data(body_limits.clone())
            .app_data(web::PayloadConfig::new(payload_limit))
            .app_data(
                web::PathConfig::default()
                    .error_handler(|e, _| Problem::invalid("path", "format", e.to_string()).into()),
            )
            .app_data(
                web::QueryConfig::default().error_handler(|e, _| {
                    Problem::invalid("query", "format", e.to_string()).into()
                }),
            )
            .wrap(from_fn(guard_bodies))
            .wrap(http_metrics.clone())
            .wrap(from_fn(access_log))
            .wrap(server_spans())
            .configure(ops_routes)
            .configure(move |cfg| {
                for m in mounted.iter() {
                    (m.configure)(cfg);
                }
            })
            .default_service(web::to(fallback.service()))
    })
    .workers(2)
    .client_request_timeout(request_timeout)
    .disable_signals()
    .shutdown_timeout(grace.as_secs())
    .listen(listener)?
    .run();
    Ok(server)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bus's migrations and each service's share one migrations table, keyed by version:
    /// no version may appear twice in a service's sets (two did after parallel work, and
    /// diesel then skipped one of them).
    #[test]
    fn no_two_migrations_of_a_service_share_a_version() {
        for service in SERVICES {
            let sets = migrations(service).unwrap();
            hub_platform::db::check_versions(sets).unwrap_or_else(|e| panic!("{service}: {e}"));
        }
    }
}
