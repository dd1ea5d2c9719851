//! The real binary (`hub`, as built for these tests) started as a platform team would start
//! it: environment variables, signals, exit codes and what arrives where.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use hub_testkit::{Backend, Receiver, TestDb, eventually};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;

/// A `hub` process; killed when dropped.
struct Hub {
    child: Child,
    /// `http://127.0.0.1:<port>` as the binary printed it.
    url: String,
    /// Every line the process wrote to stderr so far.
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Hub {
    /// `hub serve --port 0` on a fresh SQLite directory, with `env` on top; waits until it
    /// says where it listens.
    fn serve(db: &TestDb, env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hub"));
        cmd.args(["serve", "--port", "0"])
            .env("HUB__DATABASE__URL", db.url())
            .env("HUB__TELEMETRY__LOG_FILTER", "info")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start hub");
        let stderr: Arc<Mutex<Vec<String>>> = Arc::default();
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = BufReader::new(child.stderr.take().unwrap());
        let log = stderr.clone();
        std::thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("Commissioning Hub listening on ") {
                    let _ = tx.send(url.split(' ').next().unwrap_or_default().to_owned());
                }
                log.lock().unwrap().push(line);
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().expect("wait");
                panic!(
                    "hub did not start ({status}):\n{}",
                    stderr.lock().unwrap().join("\n")
                );
            }
        };
        Self { child, url, stderr }
    }

    fn log(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The span names in OTLP/HTTP protobuf export requests.
fn exported_spans(bodies: &[Vec<u8>]) -> Vec<(String, String)> {
    let mut spans = Vec::new();
    for body in bodies {
        let req = ExportTraceServiceRequest::decode(body.as_slice()).expect("an OTLP export");
        for rs in req.resource_spans {
            let service = rs
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|a| a.key == "service.name")
                .and_then(|a| a.value.as_ref())
                .map(|v| format!("{:?}", v.value))
                .unwrap_or_default();
            for ss in rs.scope_spans {
                for s in ss.spans {
                    spans.push((service.clone(), s.name));
                }
            }
        }
    }
    spans
}

/// Issue 11: with `OTEL_EXPORTER_OTLP_ENDPOINT` set the binary used to panic at start ("No
/// rustls crypto provider is configured", exit 101). It starts, and the spans of a request
/// reach the collector over OTLP/HTTP.
#[tokio::test]
async fn serve_exports_spans_over_otlp_http() {
    hub_platform::install_crypto_provider();
    let collector = Receiver::accepting().await;
    let db = TestDb::new(Backend::Sqlite, "hub-process");
    let hub = Hub::serve(
        &db,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.base.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );
    let res = reqwest::get(format!("{}/health/ready", hub.url))
        .await
        .expect("ready");
    assert_eq!(res.status(), 200, "{}", hub.log());
    let spans = eventually("spans at the collector", Duration::from_secs(20), || {
        let got = collector.requests("/v1/traces");
        async move {
            let bodies: Vec<Vec<u8>> = got.into_iter().map(|r| r.body).collect();
            let spans = exported_spans(&bodies);
            (!spans.is_empty()).then_some(spans)
        }
    })
    .await;
    assert!(
        spans.iter().all(|(service, _)| service.contains("\"hub\"")),
        "{spans:?}"
    );
}

impl Hub {
    /// Sends `signal` (e.g. `-TERM`) to the process.
    fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill {signal}");
    }

    /// Waits up to `timeout` for the process to exit; its status.
    fn exit_within(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "still running after {timeout:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Issue 11 item 2: SIGTERM with 16 requests in flight (each has sent its head and half its
/// body when the signal arrives). Every one is answered 201, the process exits 0 once the
/// relays have published what the outboxes held, and after a restart every referral is there
/// and every one opened its competition: nothing accepted was lost.
#[tokio::test]
async fn sigterm_answers_the_requests_in_flight_and_loses_nothing() {
    use hub_platform::{Authenticator, Role, Settings};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    hub_platform::install_crypto_provider();
    let db = TestDb::new(Backend::Sqlite, "hub-process");
    let mut hub = Hub::serve(&db, &[]);
    let settings = Settings::load_with(&[("database.url", db.url())]).unwrap();
    let auth = Authenticator::new(&settings.auth);
    let seeded = hub::seed::seed(&hub.url, &auth).await.expect("seed");
    let token = auth.mint_default("sw", "E08000014", &[Role::Commissioner]);
    let body = hub::bench::referral_body(&seeded.framework_id, &seeded.residential_lot).to_string();
    let addr = hub.url.strip_prefix("http://").unwrap().to_owned();
    let head = format!(
        "POST /v1/referrals HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let (first, rest) = body.split_at(body.len() / 2);
    let mut in_flight = Vec::new();
    for _ in 0..16 {
        let mut sock = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        sock.write_all(head.as_bytes()).await.unwrap();
        sock.write_all(first.as_bytes()).await.unwrap();
        in_flight.push(sock);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    hub.signal("-TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        tokio::net::TcpStream::connect(&addr).await.is_err(),
        "a stopping server accepts no new connections"
    );
    let mut ids = Vec::new();
    for mut sock in in_flight {
        sock.write_all(rest.as_bytes()).await.unwrap();
        let mut answer = String::new();
        sock.read_to_string(&mut answer).await.expect("an answer");
        assert!(
            answer.starts_with("HTTP/1.1 201"),
            "{answer}\n{}",
            hub.log()
        );
        let json: serde_json::Value =
            serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        ids.push(json["id"].as_str().unwrap().to_owned());
    }
    let status = hub.exit_within(Duration::from_secs(30));
    assert_eq!(status.code(), Some(0), "{}", hub.log());
    assert!(hub.log().contains("SIGTERM"), "{}", hub.log());
    for service in hub::SERVICES {
        let store = hub_bus::Store::new(
            hub::open_database(&settings, service).await.unwrap(),
            service,
        );
        let pending = hub_bus::relay::pending(&store).await.unwrap();
        assert_eq!(
            pending, 0,
            "{service}'s outbox holds {pending} unpublished rows"
        );
    }

    let hub = Hub::serve(&db, &[]);
    let client = reqwest::Client::new();
    for id in &ids {
        let got: serde_json::Value = client
            .get(format!("{}/v1/competitions?referral_id={id}", hub.url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(got.as_array().map(Vec::len), Some(1), "{id}: {got}");
    }
}

/// Runs `hub <args>` with `env` to its end (at most 30 s); its exit code and stderr.
fn run_to_end(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hub"))
        .args(args)
        .env("HUB__DATABASE__URL", db.url())
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hub");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("try_wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("hub {args:?} is still running after 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts that `hub <args>` with `env` refuses to start: exit 1 and one line on stderr that
/// contains every one of `says`.
fn assert_refused(db: &TestDb, args: &[&str], env: &[(&str, &str)], says: &[&str]) {
    let (code, stderr) = run_to_end(db, args, env);
    assert_eq!(code, Some(1), "{args:?} {env:?}: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one clear line, got: {stderr}");
    for s in says {
        assert!(
            lines[0].contains(s),
            "{args:?} {env:?}: {:?} lacks {s:?}",
            lines[0]
        );
    }
}

/// Issue 11 item 3: links sent to providers begin with the address and port actually
/// listened on (here `--port 0`, so never the configured 8080) when `server.public_url` is
/// not set.
#[tokio::test]
async fn links_begin_with_the_address_listened_on() {
    use hub_platform::{Authenticator, Role, Settings};

    hub_platform::install_crypto_provider();
    let hooks = Receiver::accepting().await;
    let db = TestDb::new(Backend::Sqlite, "hub-process");
    let hub = Hub::serve(&db, &[("HUB__WEBHOOKS__ALLOW_HTTP_LOOPBACK", "true")]);
    let auth = Authenticator::new(&Settings::load_with(&[]).unwrap().auth);
    let seeded = hub::seed::seed(&hub.url, &auth).await.expect("seed");
    let client = reqwest::Client::new();
    let provider = auth.mint_default("p", hub::seed::DEMO_PROVIDERS[0].0, &[Role::Provider]);
    let res = client
        .post(format!("{}/v1/webhooks", hub.url))
        .bearer_auth(&provider)
        .json(
            &serde_json::json!({"url": hooks.url("hook"), "event_types": ["competition.invited"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let sefton = auth.mint_default("sw", "E08000014", &[Role::Commissioner]);
    let res = client
        .post(format!("{}/v1/referrals", hub.url))
        .bearer_auth(&sefton)
        .json(&hub::bench::referral_body(
            &seeded.framework_id,
            &seeded.residential_lot,
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let invited = hooks.wait("hook", "competition.invited", 1).await;
    let link = invited[0].json()["data"]["referral_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        link.starts_with(&format!("{}/v1/referrals/", hub.url)),
        "{link} (listening on {})",
        hub.url
    );
}

/// Issue 11 item 3: a link base nobody can reach is refused at start, naming the key.
#[test]
fn an_unusable_public_url_is_refused_at_start() {
    let db = TestDb::new(Backend::Sqlite, "hub-process");
    let anywhere = ("HUB__SERVER__HOST", "0.0.0.0");
    let secret = (
        "HUB__AUTH__HS256_SECRET",
        "a-deployment-secret-of-at-least-32-bytes",
    );
    // Services apart, on every interface, nothing set: links would say http://0.0.0.0:8081.
    assert_refused(
        &db,
        &["serve", "referral", "--port", "0"],
        &[anywhere, secret],
        &["server.public_url", "gateway"],
    );
    for bad in ["http://0.0.0.0:8081", "hub.example.org", "not a url"] {
        assert_refused(
            &db,
            &["serve", "referral", "--port", "0"],
            &[anywhere, secret, ("HUB__SERVER__PUBLIC_URL", bad)],
            &["server.public_url"],
        );
    }
    // Embedded on every interface with nothing set: also refused.
    assert_refused(
        &db,
        &["serve", "--port", "0"],
        &[anywhere, secret],
        &["server.public_url", "0.0.0.0"],
    );
}

/// Issue 11 item 4: misspelt or invalid configuration stops the binary at start with exit 1
/// and one line naming the key (and the environment variable that set it).
#[test]
fn misspelt_or_invalid_config_is_refused_at_start_naming_the_key() {
    let db = TestDb::new(Backend::Sqlite, "hub-process");
    for (env, says) in [
        (
            ("HUB__SERVR__PORT", "9999"),
            &["unknown configuration key servr.port", "HUB__SERVR__PORT"][..],
        ),
        (
            ("HUB__AUTH__JWKS_URL", "not-a-url"),
            &["auth.jwks_url", "not a URL"],
        ),
        (
            ("HUB__SERVER__PUBLIC_URL", "not a url"),
            &["server.public_url"],
        ),
        (
            ("HUB__TELEMETRY__LOG_FORMAT", "xml"),
            &["telemetry.log_format", "json or pretty"],
        ),
        (("HUB__SERVER__PORT", "eighty"), &["server.port"]),
    ] {
        assert_refused(&db, &["serve", "--port", "0"], &[env], says);
    }
}

/// Issue 11 item 7: the development secret (config/default.toml's) is refused at start
/// where others can reach the listener, or when services run apart.
#[test]
fn the_development_secret_is_refused_beyond_the_loopback() {
    let db = TestDb::new(Backend::Sqlite, "hub-process");
    let public = ("HUB__SERVER__PUBLIC_URL", "https://hub.example.org");
    assert_refused(
        &db,
        &["serve", "--port", "0"],
        &[("HUB__SERVER__HOST", "0.0.0.0"), public],
        &["auth.hs256_secret", "development secret", "0.0.0.0"],
    );
    assert_refused(
        &db,
        &["serve", "referral", "--port", "0"],
        &[public],
        &["auth.hs256_secret", "services run apart"],
    );
}

/// Sends `parts` over one connection (each after the one before), then reads the answer
/// until the server closes or `within` passes; the answer and how long it took after the
/// last part.
async fn exchange(addr: &str, parts: &[&[u8]], within: Duration) -> (String, Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = tokio::net::TcpStream::connect(addr).await.expect("connect");
    for part in parts {
        sock.write_all(part).await.expect("send");
    }
    let sent = std::time::Instant::now();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(within, sock.read_to_end(&mut answer)).await;
    (
        String::from_utf8_lossy(&answer).into_owned(),
        sent.elapsed(),
    )
}

/// Issue 11 item 7: a request whose headers or body stop arriving ends with 408 within
/// server.request_timeout_ms; a body over its limit gets 413 application/problem+json naming
/// the limit, whether declared (Content-Length) or streamed (chunked).
#[tokio::test]
async fn stalled_and_oversized_requests_end_with_408_and_413_problems() {
    hub_platform::install_crypto_provider();
    let db = TestDb::new(Backend::Sqlite, "hub-process");
    let hub = Hub::serve(
        &db,
        &[
            ("HUB__SERVER__REQUEST_TIMEOUT_MS", "500"),
            ("HUB__SERVER__MAX_UPLOAD_BYTES", "1000"),
        ],
    );
    let addr = hub.url.strip_prefix("http://").unwrap().to_owned();
    let wait = Duration::from_secs(10);

    // The body stops arriving after 10 of its 100 bytes.
    let head = format!(
        "POST /v1/referrals HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: 100\r\n\r\n"
    );
    let (answer, took) = exchange(&addr, &[head.as_bytes(), b"{\"partner"], wait).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("server.request_timeout_ms"), "{answer}");
    assert!(took < Duration::from_secs(3), "ended after {took:?}");

    // The headers stop arriving.
    let (answer, took) = exchange(
        &addr,
        &[format!("POST /v1/referrals HTTP/1.1\r\nhost: {addr}\r\n").as_bytes()],
        wait,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(took < Duration::from_secs(3), "ended after {took:?}");

    // A 1 MB JSON body (declared): 413, naming the limit, before anything is read.
    let client = reqwest::Client::new();
    let big = format!("{{\"about_me\":\"{}\"}}", "x".repeat(1_000_000));
    let res = client
        .post(format!("{}/v1/referrals", hub.url))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let problem: serde_json::Value = res.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("server.max_json_bytes")),
        "{problem}"
    );

    // An oversized CSV, streamed in chunks with no length declared.
    let head = format!(
        "POST /v1/actuals HTTP/1.1\r\nhost: {addr}\r\ncontent-type: text/csv\r\n\
         transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    let chunk = format!("3e8\r\n{}\r\n", "a".repeat(1000));
    let (answer, _) = exchange(
        &addr,
        &[
            head.as_bytes(),
            chunk.as_bytes(),
            chunk.as_bytes(),
            b"0\r\n\r\n",
        ],
        wait,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("server.max_upload_bytes"), "{answer}");
}
