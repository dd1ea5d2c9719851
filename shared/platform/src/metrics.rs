//! What `/metrics` shows of a running platform (Prometheus text).
//!
//! Each platform (one `hub serve`, or each of the platforms a test runs in one process) has a
//! [`Metrics`] of its own: a registry, never the process-wide default one, so that two
//! platforms in one process never count into each other's series. Each part owns its metric
//! families and hands them to that registry when the platform starts: the database pools
//! ([`crate::Database::pool_metrics`]), the bus's transport, the webhook worker (through
//! [`crate::http::Mounted::metrics`]) and the outbox gauges.
//!
//! Names follow the Prometheus conventions (units in the name, `_total` for counters); label
//! values are codes (service, subscription, event type, outcome, state), never ids or free
//! text. The README's "What /metrics shows" lists them all.

use actix_web_prom::{ActixMetricsConfiguration, LabelsConfiguration, PrometheusMetricsBuilder};
use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
    core::{Collector, Desc},
    proto::MetricFamily,
};

/// Buckets of HTTP request durations, in seconds.
const HTTP_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Buckets of the time spent waiting for a pooled database connection, in seconds (a check-out
/// normally takes microseconds; the pool gives up after 10 s).
const POOL_WAIT_BUCKETS: &[f64] = &[
    0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Prometheus metrics of one platform: its registry, the HTTP middleware that counts requests
/// into it, and the process's resident memory.
#[derive(Clone)]
pub struct Metrics {
    pub registry: Registry,
    http: actix_web_prom::PrometheusMetrics,
    rss: IntGauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new().expect("the platform's metrics are well-formed and registered once")
    }
}

impl Metrics {
    /// A registry of its own with the HTTP request metrics (`http_requests_total` and
    /// `http_request_duration_seconds` by `method`, `route` and `status`, the route being the
    /// matched pattern, `/v1/referrals/{id}`, or `unmatched`) and the resident memory.
    pub fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        let http = PrometheusMetricsBuilder::new("")
            .registry(registry.clone())
            .buckets(HTTP_BUCKETS)
            .mask_unmatched_patterns("unmatched")
            .metrics_configuration(
                ActixMetricsConfiguration::default()
                    .http_requests_total_name("http_requests_total")
                    .http_requests_duration_seconds_name("http_request_duration_seconds")
                    .labels(LabelsConfiguration::default().endpoint("route")),
            )
            .build()
            .map_err(|e| prometheus::Error::Msg(e.to_string()))?;
        let rss = IntGauge::new(
            "process_resident_memory_bytes",
            "Resident memory size in bytes",
        )?;
        registry.register(Box::new(rss.clone()))?;
        Ok(Self {
            registry,
            http,
            rss,
        })
    }

    /// The middleware that counts every request (wrap the app with it).
    pub fn http_middleware(&self) -> actix_web_prom::PrometheusMetrics {
        self.http.clone()
    }

    /// `hub_build_info{service, version, commit} 1`, one series per service run.
    pub fn build_info(
        &self,
        version: &str,
        commit: &str,
        services: &[&str],
    ) -> prometheus::Result<()> {
        let info = IntGaugeVec::new(
            Opts::new(
                "hub_build_info",
                "The build running (always 1): its version and git commit, by service",
            ),
            &["service", "version", "commit"],
        )?;
        for service in services {
            info.with_label_values(&[service, version, commit]).set(1);
        }
        self.registry.register(Box::new(info))
    }

    pub fn render(&self) -> String {
        if let Some(rss) = resident_memory_bytes() {
            self.rss.set(rss as i64);
        }
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("text encoding");
        String::from_utf8(buf).expect("prometheus text is UTF-8")
    }
}

/// This process's resident set size (Linux).
pub fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The waits of one database pool, fed by the pool's own check-out events: how long each
/// check-out waited for a connection, and the check-outs that gave up (`connection_timeout`).
#[derive(Clone)]
pub(crate) struct PoolWaits {
    wait: Histogram,
    timeouts: IntCounter,
}

impl std::fmt::Debug for PoolWaits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PoolWaits")
    }
}

impl PoolWaits {
    pub(crate) fn new(service: &str) -> prometheus::Result<Self> {
        Ok(Self {
            wait: Histogram::with_opts(
                HistogramOpts::new(
                    "db_client_connection_wait_time_seconds",
                    "Time spent waiting for a pooled database connection",
                )
                .const_label("service", service)
                .buckets(POOL_WAIT_BUCKETS.to_vec()),
            )?,
            timeouts: IntCounter::with_opts(
                Opts::new(
                    "db_client_connection_timeouts_total",
                    "Waits for a pooled database connection that timed out",
                )
                .const_label("service", service),
            )?,
        })
    }
}

impl diesel::r2d2::HandleEvent for PoolWaits {
    fn handle_checkout(&self, event: diesel::r2d2::event::CheckoutEvent) {
        self.wait.observe(event.duration().as_secs_f64());
    }

    fn handle_timeout(&self, _event: diesel::r2d2::event::TimeoutEvent) {
        self.timeouts.inc();
    }
}

/// Reads a pool's connections and idle connections (r2d2's `State`).
pub(crate) type PoolState = Box<dyn Fn() -> (u32, u32) + Send + Sync>;

/// One database pool on `/metrics`: connections in use and idle (read from the pool at each
/// scrape), its maximum, and its waits.
pub(crate) struct PoolCollector {
    waits: PoolWaits,
    connections: IntGaugeVec,
    max: IntGauge,
    state: PoolState,
}

impl PoolCollector {
    pub(crate) fn new(
        service: &str,
        waits: PoolWaits,
        max: u32,
        state: PoolState,
    ) -> prometheus::Result<Self> {
        let connections = IntGaugeVec::new(
            Opts::new(
                "db_client_connection_count",
                "Pooled database connections, by state (used: lent out; idle: waiting)",
            )
            .const_label("service", service),
            &["state"],
        )?;
        let max_gauge = IntGauge::with_opts(
            Opts::new(
                "db_client_connection_max",
                "The most connections the pool opens",
            )
            .const_label("service", service),
        )?;
        max_gauge.set(i64::from(max));
        Ok(Self {
            waits,
            connections,
            max: max_gauge,
            state,
        })
    }
}

impl Collector for PoolCollector {
    fn desc(&self) -> Vec<&Desc> {
        let mut descs = self.connections.desc();
        descs.extend(self.max.desc());
        descs.extend(self.waits.wait.desc());
        descs.extend(self.waits.timeouts.desc());
        descs
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let (connections, idle) = (self.state)();
        let used = connections.saturating_sub(idle);
        self.connections
            .with_label_values(&["used"])
            .set(i64::from(used));
        self.connections
            .with_label_values(&["idle"])
            .set(i64::from(idle));
        let mut families = self.connections.collect();
        families.extend(self.max.collect());
        families.extend(self.waits.wait.collect());
        families.extend(self.waits.timeouts.collect());
        families
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two platforms' registries are apart: what one counts the other does not show.
    #[test]
    fn each_platform_has_a_registry_of_its_own() {
        let (a, b) = (Metrics::default(), Metrics::default());
        a.build_info("1.2.3", "abc", &["referral"]).unwrap();
        assert!(
            a.render().contains(
                "hub_build_info{commit=\"abc\",service=\"referral\",version=\"1.2.3\"} 1"
            )
        );
        assert!(!b.render().contains("hub_build_info"));
    }
}
