//! Support for the acceptance tests: start the platform embedded (one process, SQLite,
//! in-process bus) or distributed (each service on its own port, PostgreSQL with a fresh
//! database per service per test, RabbitMQ with an exchange and queues unique to the run),
//! a webhook receiver that records what providers receive, and small HTTP helpers.

use std::{
    net::TcpListener,
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use hmac::{Hmac, Mac};
use hub::Platform;
use hub_platform::{Authenticator, Role, Settings};
use serde_json::Value;
use sha2::Sha256;

pub const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const AMQP: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// Fails (never skips) when PostgreSQL is down, saying how to start it.
pub fn require_postgres() {
    use diesel::Connection;
    if let Err(e) = diesel::PgConnection::establish(PG_ADMIN) {
        panic!(
            "PostgreSQL is not reachable at 127.0.0.1:5432 ({e}). Start it with \
             `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
        );
    }
}

/// Fails (never skips) when RabbitMQ is down, saying how to start it.
pub async fn require_rabbitmq() {
    if let Err(e) = lapin_probe().await {
        panic!(
            "RabbitMQ is not reachable at 127.0.0.1:5672 ({e}). Start it with `rabbitmq-server -detached`"
        );
    }
}

async fn lapin_probe() -> Result<(), String> {
    tokio::net::TcpStream::connect("127.0.0.1:5672")
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

fn listener() -> TcpListener {
    let l = TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.set_nonblocking(true).expect("non-blocking");
    l
}

/// Installs tracing once per test process (as `hub serve` does), so trace context is
/// generated and carried exactly as in production.
fn init_telemetry() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let settings = Settings::load_with(&[("telemetry.log_filter", "warn")]).expect("settings");
        std::mem::forget(
            hub_platform::telemetry::init("hub-test", &settings.telemetry).expect("telemetry"),
        );
    });
}

/// Where each service answers (all the same URL when embedded).
#[derive(Debug, Clone)]
pub struct Urls {
    pub referral: String,
    pub competition: String,
    pub contract: String,
    pub finance: String,
    pub notifications: String,
}

/// A running platform under test.
pub struct TestPlatform {
    pub urls: Urls,
    pub auth: Arc<Authenticator>,
    pub platforms: Vec<Platform>,
    /// Taken by [`TestPlatform::stop`]; if a test panics first, `Drop` still cleans up.
    cleanup: Option<Cleanup>,
}

enum Cleanup {
    Dir(std::path::PathBuf),
    Postgres(Vec<String>),
}

fn test_settings(extra: &[(&str, &str)]) -> Settings {
    init_telemetry();
    let mut overrides = vec![
        ("bus.retry_delays_ms", "50,200"),
        ("telemetry.log_filter", "warn"),
        // The tests' receivers are plain http on 127.0.0.1: the development setting.
        ("webhooks.allow_http_loopback", "true"),
    ];
    overrides.extend_from_slice(extra);
    Settings::load_with(&overrides).expect("test settings")
}

impl TestPlatform {
    /// Every service in one process on one port, SQLite in a fresh directory, in-process bus.
    pub async fn embedded() -> Self {
        Self::embedded_with(&[]).await
    }

    /// [`TestPlatform::embedded`] with settings overrides (`("contract.sweep_interval_secs", "1")`).
    pub async fn embedded_with(overrides: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!("hub-test-{}", uuid::Uuid::now_v7().simple()));
        let l = listener();
        let url = format!("http://{}", l.local_addr().unwrap());
        let db_url = format!("sqlite://{}", dir.display());
        let mut settings = vec![
            ("database.url", db_url.as_str()),
            ("bus.url", "memory://"),
            ("server.public_url", url.as_str()),
        ];
        settings.extend_from_slice(overrides);
        let settings = test_settings(&settings);
        let platform = hub::start(settings, hub::SERVICES, l)
            .await
            .expect("embedded platform starts");
        let auth = platform.auth.clone();
        let urls = Urls {
            referral: url.clone(),
            competition: url.clone(),
            contract: url.clone(),
            finance: url.clone(),
            notifications: url,
        };
        Self {
            urls,
            auth,
            platforms: vec![platform],
            cleanup: Some(Cleanup::Dir(dir)),
        }
    }

    /// Each service on its own port with its own PostgreSQL database; RabbitMQ with names
    /// unique to this run.
    pub async fn distributed() -> Self {
        Self::distributed_with(&[]).await
    }

    /// [`TestPlatform::distributed`] with settings overrides for every service.
    pub async fn distributed_with(overrides: &[(&str, &str)]) -> Self {
        require_postgres();
        require_rabbitmq().await;
        let run = uuid::Uuid::now_v7().simple().to_string();
        let run = &run[run.len() - 12..];
        // No TLS on the loopback (see README, Performance).
        let db_template =
            format!("postgres://postgres@127.0.0.1:5432/hubt_{run}_{{service}}?sslmode=disable");
        let exchange = format!("hubt.{run}");
        let listeners: Vec<TcpListener> = hub::SERVICES.iter().map(|_| listener()).collect();
        let url_of = |i: usize| format!("http://{}", listeners[i].local_addr().unwrap());
        let urls = Urls {
            referral: url_of(0),
            competition: url_of(1),
            contract: url_of(2),
            finance: url_of(3),
            notifications: url_of(4),
        };
        let mut platforms = Vec::new();
        for (service, l) in hub::SERVICES.iter().zip(listeners) {
            let mut settings = vec![
                ("database.url", db_template.as_str()),
                ("database.pool_size", "4"),
                ("bus.url", AMQP),
                ("bus.exchange", exchange.as_str()),
                ("bus.queue_prefix", exchange.as_str()),
                ("server.public_url", urls.referral.as_str()),
                // Services apart refuse the development secret.
                (
                    "auth.hs256_secret",
                    "acceptance-tests-distributed-secret-0123456789",
                ),
            ];
            settings.extend_from_slice(overrides);
            let settings = test_settings(&settings);
            platforms.push(
                hub::start(settings, &[service], l)
                    .await
                    .unwrap_or_else(|e| panic!("{service} starts: {e:#}")),
            );
        }
        let auth = platforms[0].auth.clone();
        let dbs = hub::SERVICES
            .iter()
            .map(|s| db_template.replace("{service}", s))
            .collect();
        Self {
            urls,
            auth,
            platforms,
            cleanup: Some(Cleanup::Postgres(dbs)),
        }
    }

    pub fn token(&self, org: &str, roles: &[Role]) -> String {
        self.auth.mint_default(&format!("tester@{org}"), org, roles)
    }

    pub fn store(&self, service: &str) -> &hub_bus::Store {
        self.platforms
            .iter()
            .find_map(|p| p.store(service))
            .expect("service runs here")
    }

    /// Stops everything and removes the databases, queues and exchange the test made.
    pub async fn stop(mut self) {
        for p in &self.platforms {
            let _ = p.transport.teardown().await;
        }
        for p in std::mem::take(&mut self.platforms) {
            p.stop().await;
        }
        if let Some(c) = self.cleanup.take() {
            c.run();
        }
    }
}

impl Cleanup {
    fn run(self) {
        match self {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres(urls) => {
                for u in urls {
                    if let Err(e) = hub_platform::db::drop_postgres_database(&u) {
                        eprintln!("could not drop {u}: {e}");
                    }
                }
            }
        }
    }
}

/// A test that panicked before `stop` still leaves no database or directory behind.
impl Drop for TestPlatform {
    fn drop(&mut self) {
        if let Some(c) = self.cleanup.take() {
            c.run();
        }
    }
}

/// One webhook call a provider received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The path's last segment: whose endpoint it was.
    pub owner: String,
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    /// The W3C `traceparent` header ("" if none).
    pub traceparent: String,
    /// Whether a `tracestate` header came (it should not reach providers).
    pub tracestate: bool,
    pub body: Vec<u8>,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("webhook bodies are JSON")
    }

    /// Checks the Standard Webhooks signature independently of the platform's code.
    pub fn signature_valid(&self, secret: &str) -> bool {
        let key = base64::engine::general_purpose::STANDARD
            .decode(secret.trim_start_matches("whsec_"))
            .expect("secret is base64");
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
        mac.update(format!("{}.{}.", self.id, self.timestamp).as_bytes());
        mac.update(&self.body);
        let expected =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        self.signature
            .split(' ')
            .any(|s| s == format!("v1,{expected}"))
    }
}

/// A local HTTP server standing in for providers' webhook endpoints: `POST /hooks/{owner}`.
pub struct WebhookReceiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    handle: actix_web::dev::ServerHandle,
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    store: web::Data<Mutex<Vec<Received>>>,
) -> HttpResponse {
    let h = |k: &str| {
        req.headers()
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    store.lock().unwrap().push(Received {
        owner: req.match_info().get("owner").unwrap_or_default().to_owned(),
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp"),
        signature: h("webhook-signature"),
        traceparent: h("traceparent"),
        tracestate: req.headers().contains_key("tracestate"),
        body: body.to_vec(),
    });
    HttpResponse::NoContent().finish()
}

impl WebhookReceiver {
    pub async fn start() -> Self {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let data = web::Data::from(received.clone());
        let l = listener();
        let url = format!("http://{}", l.local_addr().unwrap());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/hooks/{owner}", web::post().to(receive))
        })
        .workers(1)
        .disable_signals()
        .listen(l)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url,
            received,
            handle,
        }
    }

    pub fn endpoint(&self, owner: &str) -> String {
        format!("{}/hooks/{owner}", self.url)
    }

    pub fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `pred` holds over what was received, or panics after `secs`.
    pub async fn wait_for(
        &self,
        what: &str,
        secs: u64,
        pred: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        eventually(what, secs, || {
            let all = self.all();
            pred(&all).then_some(all)
        })
        .await
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// Polls `f` every 20 ms until it yields, or panics after `secs` seconds.
pub async fn eventually<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {secs}s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A small JSON client.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
}

impl Default for Client {
    fn default() -> Self {
        hub_platform::install_crypto_provider();
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .build()
                .unwrap(),
        }
    }
}

/// The OpenAPI document of the platform (or, distributed, the service) at `url`'s origin,
/// read once per origin.
async fn conformance(
    http: &reqwest::Client,
    url: &reqwest::Url,
) -> std::sync::Arc<hub_testkit::conformance::Conformance> {
    use std::sync::{Arc, Mutex, OnceLock};
    static DOCS: OnceLock<
        Mutex<std::collections::HashMap<String, Arc<hub_testkit::conformance::Conformance>>>,
    > = OnceLock::new();
    let origin = url.origin().ascii_serialization();
    let docs = DOCS.get_or_init(Mutex::default);
    if let Some(c) = docs.lock().unwrap().get(&origin) {
        return c.clone();
    }
    let doc: Value = http
        .get(format!("{origin}/openapi.json"))
        .send()
        .await
        .expect("GET /openapi.json")
        .json()
        .await
        .expect("the OpenAPI document is JSON");
    let checker = Arc::new(hub_testkit::conformance::Conformance::of_document(doc));
    docs.lock().unwrap().insert(origin, checker.clone());
    checker
}

/// Status, content type and JSON body of a response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    /// The `ETag`, on what is edited in place.
    pub etag: Option<String>,
    pub body: Value,
}

impl Client {
    /// The reply to `res`, held to the OpenAPI document of the platform that answered
    /// ([`conformance`]): an answer to a `/v1/` operation that does not conform fails the test.
    async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let request = request.build().expect("a request");
        let method = request.method().to_string();
        let res = self.http.execute(request).await.expect("request sent");
        self.reply(&method, res).await
    }

    async fn reply(&self, method: &str, res: reqwest::Response) -> Reply {
        let url = res.url().clone();
        let status = res.status().as_u16();
        let content_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let etag = res
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = res.bytes().await.unwrap_or_default();
        if url.path().starts_with("/v1/") && !method.is_empty() {
            let checker = conformance(&self.http, &url).await;
            let media_type = content_type
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_owned();
            if let Err(e) = checker.check(&hub_testkit::conformance::Exchange {
                method,
                path: url.path(),
                status,
                media_type: (!media_type.is_empty()).then_some(media_type.as_str()),
                body: &bytes,
            }) {
                panic!("the answer does not conform to the platform's OpenAPI document: {e}");
            }
        }
        let body = serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Reply {
            status,
            content_type,
            etag,
            body,
        }
    }

    pub async fn get(&self, url: &str, token: Option<&str>) -> Reply {
        let mut r = self.http.get(url);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        self.send(r).await
    }

    pub async fn post(&self, url: &str, token: Option<&str>, body: &Value) -> Reply {
        self.post_with(url, token, body, &[]).await
    }

    /// Posts JSON with extra headers (e.g. a W3C `traceparent`).
    pub async fn post_with(
        &self,
        url: &str,
        token: Option<&str>,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut r = self.http.post(url).json(body);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        self.send(r).await
    }

    /// PUTs `body` over what is at `url` as the caller last read it: GETs it for its `ETag`
    /// and sends that as `If-Match` (edits in place need it: ADR 0004).
    pub async fn put_read(&self, read_url: &str, url: &str, token: &str, body: &Value) -> Reply {
        let read = self.get(read_url, Some(token)).await;
        let etag = read
            .etag
            .unwrap_or_else(|| panic!("no ETag on GET {read_url}: {:?}", read.body));
        let r = self
            .http
            .put(url)
            .json(body)
            .bearer_auth(token)
            .header("if-match", etag);
        self.send(r).await
    }

    pub async fn put(&self, url: &str, token: Option<&str>, body: &Value) -> Reply {
        let mut r = self.http.put(url).json(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        self.send(r).await
    }

    /// Posts raw bytes with a content type (for malformed-input tests).
    pub async fn post_raw(
        &self,
        url: &str,
        token: Option<&str>,
        content_type: &str,
        body: &str,
    ) -> Reply {
        let mut r = self
            .http
            .post(url)
            .header("content-type", content_type)
            .body(body.to_owned());
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        self.send(r).await
    }

    /// GETs until `pred` holds on the reply, or panics after `secs`.
    /// Writes and submits, as `token`'s council, a referral in `partnership` on the route
    /// `spot_purchase` (a child to be placed in a block bed); returns its id.
    pub async fn spot_referral(
        &self,
        referral_service: &str,
        token: &str,
        partnership: &str,
        framework_id: &str,
        lot_id: &str,
    ) -> String {
        let body = serde_json::json!({
            "partnership": partnership, "framework_id": framework_id, "lot_id": lot_id,
            "route": "spot_purchase", "route_reason": "a bed of the block contract suits",
            "submit": true,
            "document": {
                "child": {"name": "Alex Example-Child", "date_of_birth": "2011-09-30", "gender": "male"},
                "legal_status": "s31 care order", "placement_type": "residential", "urgency": "planned",
                "needs": ["emotional_behavioural"], "about_me": "Likes football.",
                "location": {"postcode_district": "L20", "latitude": 53.46, "longitude": -2.99, "max_distance_miles": 20.0},
                "wanted_start": "2025-04-01"
            }
        });
        let r = self
            .post(
                &format!("{referral_service}/v1/referrals"),
                Some(token),
                &body,
            )
            .await;
        assert_eq!(r.status, 201, "{r:?}");
        r.body["id"].as_str().unwrap().to_owned()
    }

    /// POSTs `body` until the answer is not 404, for up to `secs` seconds: what it names may
    /// not have reached the service yet (services learn each other's facts from events).
    pub async fn post_until_known(&self, url: &str, token: &str, body: &Value, secs: u64) -> Reply {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let r = self.post(url, Some(token), body).await;
            if r.status != 404 || tokio::time::Instant::now() >= deadline {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn get_until(
        &self,
        url: &str,
        token: &str,
        secs: u64,
        pred: impl Fn(&Reply) -> bool,
    ) -> Reply {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let r = self.get(url, Some(token)).await;
            if pred(&r) {
                return r;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out after {secs}s waiting on GET {url}: last {r:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}
