//! Layered configuration: `config/default.toml` (compiled in), then an optional file named by
//! `HUB_CONFIG`, then `HUB__SECTION__KEY` environment variables.
//!
//! Checked at load, before anything starts, so a mistake stops the process with one line
//! naming the key instead of being ignored: every key must be one `config/default.toml`
//! has (so every setting has a default there, and a misspelt one, e.g. `HUB__SERVR__PORT`,
//! is refused with the variable named); values must have their type; URLs must parse with a
//! scheme the platform speaks; enumerations (`telemetry.log_format`) must be one of theirs;
//! the log filter must parse.

use serde::Deserialize;

/// The repository's `config/default.toml`, compiled into the binary so a fresh machine
/// needs no files besides it.
pub const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");

/// Keys whose values are lists (comma-separated in the environment and in overrides).
const LIST_KEYS: &[&str] = &["bus.retry_delays_ms"];

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub ports: Ports,
    pub database: DatabaseSettings,
    pub bus: BusSettings,
    pub auth: AuthSettings,
    pub telemetry: TelemetrySettings,
    pub webhooks: WebhookSettings,
    pub contract: ContractSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub public_url: String,
    /// On SIGTERM or SIGINT: how long requests in flight have to finish, and then the
    /// outbox relays to publish what they hold, before the process exits anyway.
    pub shutdown_grace_secs: u64,
    /// A request's headers, and then its body, must arrive within this many milliseconds
    /// each (else 408).
    pub request_timeout_ms: u64,
    /// The largest JSON body taken (else 413).
    pub max_json_bytes: usize,
    /// The largest other body (CSV/XLSX uploads) taken (else 413).
    pub max_upload_bytes: usize,
    /// How long one `/health/ready` check (database, bus, outbox) may take before it counts
    /// as down. The checks run concurrently: keep orchestrators' probe timeouts above this.
    pub ready_check_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Ports {
    pub referral: u16,
    pub competition: u16,
    pub contract: u16,
    pub finance: u16,
    pub notifications: u16,
}

impl Ports {
    pub fn of(&self, service: &str) -> Option<u16> {
        Some(match service {
            "referral" => self.referral,
            "competition" => self.competition,
            "contract" => self.contract,
            "finance" => self.finance,
            "notifications" => self.notifications,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_size: u32,
    /// True: a service creates its database if missing and runs its migrations at start.
    /// False (Kubernetes, where `hub migrate` runs as a Job): it neither creates nor
    /// migrates, and refuses to start while its schema is behind, after waiting up to
    /// `schema_wait_secs` for the migrations to be applied.
    pub migrate_at_start: bool,
    /// With `migrate_at_start` false: how long a starting service waits for its database to
    /// exist and its migrations to be applied before it refuses to start.
    pub schema_wait_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BusSettings {
    pub url: String,
    pub exchange: String,
    pub queue_prefix: String,
    pub prefetch: u16,
    pub retry_delays_ms: Vec<u64>,
    pub relay_poll_ms: u64,
    /// `/health/ready` reports the event path down while an event has waited in the outbox
    /// longer than this unpublished.
    #[serde(default = "default_outbox_ready_max_age_ms")]
    pub outbox_ready_max_age_ms: u64,
}

fn default_outbox_ready_max_age_ms() -> u64 {
    30_000
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    pub hs256_secret: String,
    pub jwks_url: String,
    /// With `jwks_url` set, HS256 tokens are refused unless this is true.
    pub allow_hs256_with_jwks: bool,
    pub issuer: String,
    pub audience: String,
    pub token_ttl_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TelemetrySettings {
    pub log_format: String,
    pub log_filter: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WebhookSettings {
    pub timeout_ms: u64,
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
    pub give_up_after_hours: u64,
    pub concurrency: usize,
    /// Development only: plain http to a loopback address is allowed too.
    pub allow_http_loopback: bool,
}

/// The contract service's clocks: how often it looks for what has fallen due.
#[derive(Debug, Clone, Deserialize)]
pub struct ContractSettings {
    /// Seconds between sweeps for overdue orders, IPA reviews due, void beds to offer and
    /// service contracts reaching an expiry alert (each raised once).
    pub sweep_interval_secs: u64,
    /// Working days a provider has to sign a normal (not emergency) order.
    pub sign_within_working_days: u32,
}

impl Settings {
    /// Defaults, the optional `HUB_CONFIG` file, then the environment.
    pub fn load() -> anyhow::Result<Self> {
        Self::load_with(&[])
    }

    /// As [`Settings::load`], with explicit overrides on top (dotted keys, e.g.
    /// `("bus.url", "memory://")`). Tests use this instead of touching the environment.
    pub fn load_with(overrides: &[(&str, &str)]) -> anyhow::Result<Self> {
        use config::{Config, Environment, File, FileFormat};
        let mut builder =
            Config::builder().add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml));
        if let Ok(path) = std::env::var("HUB_CONFIG") {
            builder = builder.add_source(File::with_name(&path));
        }
        builder = builder.add_source(
            Environment::with_prefix("HUB")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key(LIST_KEYS[0]),
        );
        for (key, value) in overrides {
            builder = if LIST_KEYS.contains(key) {
                let items: Vec<String> = value
                    .split(',')
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty())
                    .collect();
                builder.set_override(*key, items)?
            } else {
                builder.set_override(*key, *value)?
            };
        }
        let built = builder.build()?;
        refuse_unknown_keys(&built)?;
        let settings: Settings = built.try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            matches!(self.telemetry.log_format.as_str(), "json" | "pretty"),
            "telemetry.log_format must be json or pretty (got {:?})",
            self.telemetry.log_format
        );
        tracing_subscriber::EnvFilter::try_new(&self.telemetry.log_filter).map_err(|e| {
            anyhow::anyhow!(
                "telemetry.log_filter {:?} is not a filter: {e}",
                self.telemetry.log_filter
            )
        })?;
        check_url(
            "database.url",
            &self.database.url,
            &["sqlite", "postgres", "postgresql"],
        )?;
        check_url("bus.url", &self.bus.url, &["memory", "amqp", "amqps"])?;
        if !self.auth.jwks_url.is_empty() {
            check_url("auth.jwks_url", &self.auth.jwks_url, &["https", "http"])?;
        }
        if !self.server.public_url.trim().is_empty() {
            check_public_url(self.server.public_url.trim())?;
        }
        anyhow::ensure!(
            self.database.pool_size > 0,
            "database.pool_size must be at least 1"
        );
        anyhow::ensure!(
            self.auth.hs256_secret.len() >= 32,
            "auth.hs256_secret must be at least 32 bytes (HUB__AUTH__HS256_SECRET)"
        );
        anyhow::ensure!(
            !self.bus.exchange.is_empty(),
            "bus.exchange must not be empty"
        );
        Ok(())
    }

    /// The base URL links to this deployment are made from: `server.public_url` once
    /// [`Settings::resolve_public_url`] has filled it in (the server does so at start);
    /// before that, or in a service's tests, `http://host:port` from the settings.
    pub fn public_url(&self) -> String {
        if self.server.public_url.is_empty() {
            format!("http://{}:{}", self.server.host, self.server.port)
        } else {
            self.server.public_url.trim_end_matches('/').to_owned()
        }
    }

    /// The base of every link the platform sends (`referral_url`, `order_url`, …), once the
    /// listener is bound at `listened`: `server.public_url` when set; otherwise, when every
    /// service runs in this process, the address and port actually listened on.
    ///
    /// Refused, naming the key: a value that is not an absolute http(s) URL with a host a
    /// provider could reach (0.0.0.0 and :: are not addresses one can connect to); nothing
    /// set when services run apart (`distributed`: links to referrals and orders go through
    /// the gateway, whose address only the deployment knows); nothing set while listening on
    /// every interface (the listened address says nothing about how providers reach it).
    pub fn resolve_public_url(
        &self,
        listened: std::net::SocketAddr,
        distributed: bool,
    ) -> anyhow::Result<String> {
        let set = self.server.public_url.trim();
        if !set.is_empty() {
            check_public_url(set)?;
            return Ok(set.trim_end_matches('/').to_owned());
        }
        anyhow::ensure!(
            !distributed,
            "server.public_url must be set when services run apart: the gateway's address \
             (e.g. https://hub.example.org), which begins every link sent to providers"
        );
        anyhow::ensure!(
            !listened.ip().is_unspecified(),
            "server.public_url must be set when listening on {}: links sent to providers need \
             an address they can reach",
            listened.ip()
        );
        Ok(format!("http://{listened}"))
    }
}

/// The HS256 secret `config/default.toml` ships with: public, so for development only.
fn development_secret() -> String {
    config::Config::builder()
        .add_source(config::File::from_str(
            DEFAULT_TOML,
            config::FileFormat::Toml,
        ))
        .build()
        .and_then(|c| c.get_string("auth.hs256_secret"))
        .expect("config/default.toml has auth.hs256_secret")
}

/// Every key set must be one of `config/default.toml`'s; the first line names those that are
/// not, with the environment variable that set each where one did.
fn refuse_unknown_keys(built: &config::Config) -> anyhow::Result<()> {
    use config::{Config, File, FileFormat};
    let keys = |c: &Config| -> anyhow::Result<Vec<String>> {
        let mut out = Vec::new();
        leaf_keys(
            "",
            &c.clone().try_deserialize::<serde_json::Value>()?,
            &mut out,
        );
        Ok(out)
    };
    let known = keys(
        &Config::builder()
            .add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml))
            .build()?,
    )?;
    let unknown: Vec<String> = keys(built)?
        .into_iter()
        .filter(|k| !known.contains(k))
        .map(|key| {
            let var = format!("HUB__{}", key.to_uppercase().replace('.', "__"));
            match std::env::vars().find(|(name, _)| name.eq_ignore_ascii_case(&var)) {
                Some((name, _)) => format!("{key} (from {name})"),
                None => key,
            }
        })
        .collect();
    anyhow::ensure!(
        unknown.is_empty(),
        "unknown configuration key {}: every key is one of config/default.toml's",
        unknown.join(", ")
    );
    Ok(())
}

/// The dotted paths of the leaves (values that are not tables) of `value`.
fn leaf_keys(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaf_keys(&path, v, out);
            }
        }
        _ => out.push(prefix.to_owned()),
    }
}

/// `value` parses as a URL with one of `schemes`.
fn check_url(key: &str, value: &str, schemes: &[&str]) -> anyhow::Result<()> {
    let url = url::Url::parse(value)
        .map_err(|e| anyhow::anyhow!("{key} {value:?} is not a URL ({e})"))?;
    anyhow::ensure!(
        schemes.contains(&url.scheme()),
        "{key} {value:?} must begin with {}",
        schemes
            .iter()
            .map(|s| format!("{s}://"))
            .collect::<Vec<_>>()
            .join(" or ")
    );
    Ok(())
}

impl Settings {
    /// Whether `auth.hs256_secret` is still the development secret `config/default.toml`
    /// ships with (anyone can read it, so anyone could mint tokens with it).
    pub fn uses_development_secret(&self) -> bool {
        self.auth.hs256_secret == development_secret()
    }

    /// Refuses the development secret where someone else could reach the listener: when
    /// listening on anything but a loopback address, or when services run apart
    /// (`distributed`, i.e. a deployment). Embedded on 127.0.0.1 it stays allowed, so
    /// `hub serve` works on a laptop with nothing set.
    pub fn check_secret(
        &self,
        listened: std::net::SocketAddr,
        distributed: bool,
    ) -> anyhow::Result<()> {
        if !self.uses_development_secret() {
            return Ok(());
        }
        anyhow::ensure!(
            listened.ip().is_loopback() && !distributed,
            "auth.hs256_secret is the development secret, refused when {}: set \
             HUB__AUTH__HS256_SECRET to a secret of your own (at least 32 bytes, e.g. \
             `openssl rand -hex 32`)",
            if distributed {
                "services run apart".to_owned()
            } else {
                format!("listening on {}", listened.ip())
            }
        );
        Ok(())
    }
}

/// A usable link base: http or https, a host that is not 0.0.0.0 or ::, no query or fragment.
fn check_public_url(value: &str) -> anyhow::Result<()> {
    let bad = |why: &str| anyhow::anyhow!("server.public_url {value:?} {why}");
    let url = url::Url::parse(value).map_err(|e| bad(&format!("is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must begin with https:// or http://"));
    }
    let unspecified = match url.host() {
        None => return Err(bad("has no host")),
        Some(url::Host::Ipv4(ip)) => ip.is_unspecified(),
        Some(url::Host::Ipv6(ip)) => ip.is_unspecified(),
        Some(url::Host::Domain(_)) => false,
    };
    if unspecified {
        return Err(bad(
            "names no address one can connect to (0.0.0.0 or ::): use the gateway's address",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_embedded_mode() {
        let s = Settings::load_with(&[]).unwrap();
        assert_eq!(s.server.port, 8080);
        assert_eq!(s.bus.url, "memory://");
        assert!(s.database.url.starts_with("sqlite://"));
        assert_eq!(s.ports.of("finance"), Some(8084));
        assert_eq!(s.ports.of("nope"), None);
    }

    #[test]
    fn overrides_win_and_short_secrets_are_refused() {
        let s = Settings::load_with(&[
            ("bus.url", "amqp://x"),
            ("database.pool_size", "3"),
            ("bus.retry_delays_ms", "50, 200"),
        ])
        .unwrap();
        assert_eq!(s.bus.url, "amqp://x");
        assert_eq!(s.bus.retry_delays_ms, vec![50, 200]);
        assert_eq!(s.database.pool_size, 3);
        let err = Settings::load_with(&[("auth.hs256_secret", "short")]).unwrap_err();
        assert!(err.to_string().contains("hs256_secret"), "{err}");
    }

    #[test]
    fn unknown_keys_bad_urls_and_enumerations_are_refused_naming_the_key() {
        for (key, value, says) in [
            ("servr.port", "8080", "unknown configuration key servr.port"),
            (
                "server.prot",
                "8080",
                "unknown configuration key server.prot",
            ),
            (
                "auth.jwks_url",
                "not-a-url",
                "auth.jwks_url \"not-a-url\" is not a URL",
            ),
            ("auth.jwks_url", "ftp://idp.example/keys", "auth.jwks_url"),
            ("server.public_url", "not a url", "server.public_url"),
            (
                "telemetry.log_format",
                "xml",
                "telemetry.log_format must be json or pretty",
            ),
            ("telemetry.log_filter", "info,[", "telemetry.log_filter"),
            ("database.url", "mysql://db/hub", "database.url"),
            ("bus.url", "kafka://broker", "bus.url"),
            ("server.port", "eighty", "server.port"),
        ] {
            let err = Settings::load_with(&[(key, value)]).unwrap_err();
            let err = format!("{err:#}");
            assert!(err.contains(says), "{key}={value}: {err}");
        }
        // What is right passes.
        Settings::load_with(&[
            (
                "auth.jwks_url",
                "https://idp.example.org/.well-known/jwks.json",
            ),
            ("server.public_url", "https://hub.example.org"),
            ("telemetry.log_format", "pretty"),
            ("telemetry.log_filter", "info,hub_bus=debug"),
            ("database.url", "postgres://postgres@db:5432/hub_{service}"),
            ("bus.url", "amqp://guest:guest@rabbitmq:5672/%2f"),
        ])
        .unwrap();
    }

    #[test]
    fn the_development_secret_is_refused_beyond_the_loopback_and_when_distributed() {
        let dev = Settings::load_with(&[]).unwrap();
        assert!(dev.uses_development_secret());
        let at = |a: &str| a.parse::<std::net::SocketAddr>().unwrap();
        dev.check_secret(at("127.0.0.1:8080"), false).unwrap();
        dev.check_secret(at("[::1]:8080"), false).unwrap();
        for (listened, distributed, says) in [
            ("0.0.0.0:8080", false, "listening on 0.0.0.0"),
            ("10.1.2.3:8080", false, "listening on 10.1.2.3"),
            ("127.0.0.1:8081", true, "services run apart"),
        ] {
            let err = dev
                .check_secret(at(listened), distributed)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("auth.hs256_secret") && err.contains(says),
                "{listened}: {err}"
            );
        }
        let own = Settings::load_with(&[("auth.hs256_secret", &"k".repeat(32))]).unwrap();
        assert!(!own.uses_development_secret());
        own.check_secret(at("0.0.0.0:8081"), true).unwrap();
    }

    fn resolved(public_url: &str, listened: &str, distributed: bool) -> Result<String, String> {
        // A set value is checked as the settings load, and again (for settings built in
        // code) as the link base is resolved.
        Settings::load_with(&[("server.public_url", public_url)])
            .and_then(|s| s.resolve_public_url(listened.parse().unwrap(), distributed))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn links_follow_the_listened_address_unless_public_url_is_set() {
        // The port actually listened on (e.g. `--port 0`), not the configured one.
        assert_eq!(
            resolved("", "127.0.0.1:41234", false).unwrap(),
            "http://127.0.0.1:41234"
        );
        assert_eq!(
            resolved("https://hub.example.org/", "0.0.0.0:8080", true).unwrap(),
            "https://hub.example.org"
        );
        assert_eq!(
            resolved("http://gateway:8080", "0.0.0.0:8081", true).unwrap(),
            "http://gateway:8080"
        );
        for (value, listened, distributed, says) in [
            ("", "0.0.0.0:8080", false, "listening on 0.0.0.0"),
            ("", "[::]:8080", false, "listening on ::"),
            ("", "127.0.0.1:8081", true, "services run apart"),
            ("http://0.0.0.0:8081", "0.0.0.0:8081", true, "0.0.0.0 or ::"),
            ("http://[::]:8081", "0.0.0.0:8081", true, "0.0.0.0 or ::"),
            ("hub.example.org", "127.0.0.1:8080", false, "is not a URL"),
            ("not a url", "127.0.0.1:8080", false, "is not a URL"),
            ("ftp://hub.example.org", "127.0.0.1:8080", false, "https://"),
            (
                "https://hub.example.org/?a=1",
                "127.0.0.1:8080",
                false,
                "query",
            ),
        ] {
            let err = resolved(value, listened, distributed).unwrap_err();
            assert!(
                err.contains("server.public_url") && err.contains(says),
                "{value:?} on {listened}: {err}"
            );
        }
    }
}
