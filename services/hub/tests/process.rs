//! The real binary (`hub`, as built for these tests) started as a platform team would start
//! it: environment variables, signals, exit codes and what arrives where.

mod common;

use std::{collections::HashMap, process::Command, time::Duration};

use common::{Hub, assert_refused};

use hub_testkit::{Backend, Receiver, TestDb, eventually};
use opentelemetry_proto::tonic::{
    collector::trace::v1::ExportTraceServiceRequest,
    common::v1::{AnyValue, any_value::Value},
    trace::v1::span::SpanKind,
};
use prost::Message as _;

/// One span as it reached the collector.
#[derive(Debug, Clone)]
struct Exported {
    /// The exporting process's `service.name`.
    service: String,
    name: String,
    kind: SpanKind,
    trace_id: String,
    span_id: String,
    /// Empty for a root span.
    parent: String,
    attributes: HashMap<String, String>,
}

/// The spans in OTLP/HTTP protobuf export requests.
fn exported_spans(bodies: &[Vec<u8>]) -> Vec<Exported> {
    let text = |v: &Option<AnyValue>| match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::IntValue(i)) => i.to_string(),
        other => format!("{other:?}"),
    };
    let mut spans = Vec::new();
    for body in bodies {
        let req = ExportTraceServiceRequest::decode(body.as_slice()).expect("an OTLP export");
        for rs in req.resource_spans {
            let service = rs
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|a| a.key == "service.name")
                .map(|a| text(&a.value))
                .unwrap_or_default();
            for s in rs.scope_spans.into_iter().flat_map(|ss| ss.spans) {
                spans.push(Exported {
                    service: service.clone(),
                    kind: SpanKind::try_from(s.kind).unwrap_or(SpanKind::Unspecified),
                    trace_id: hex(&s.trace_id),
                    span_id: hex(&s.span_id),
                    parent: hex(&s.parent_span_id),
                    attributes: s
                        .attributes
                        .iter()
                        .map(|a| (a.key.clone(), text(&a.value)))
                        .collect(),
                    name: s.name,
                });
            }
        }
    }
    spans
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every span the collector has received so far.
fn spans_at(collector: &Receiver) -> Vec<Exported> {
    let bodies: Vec<Vec<u8>> = collector
        .requests("/v1/traces")
        .into_iter()
        .map(|r| r.body)
        .collect();
    exported_spans(&bodies)
}

/// Whether `span` descends from `ancestor` within `spans`.
fn descends(spans: &[Exported], span: &Exported, ancestor: &Exported) -> bool {
    let mut parent = span.parent.clone();
    while !parent.is_empty() {
        if parent == ancestor.span_id {
            return true;
        }
        parent = spans
            .iter()
            .find(|s| s.span_id == parent)
            .map(|s| s.parent.clone())
            .unwrap_or_default();
    }
    false
}

/// Where the platform under test answers, and how its processes name themselves.
struct Platform<'a> {
    referral: &'a str,
    competition: &'a str,
    notifications: &'a str,
    /// The `service.name` of the process running a service.
    service_name: fn(&str) -> String,
    auth: std::sync::Arc<hub_platform::Authenticator>,
}

/// The spans one referral's trace must hold, in causal order: (service, span name, kind, an
/// attribute and its value that pick it out among the trace's spans).
const FOLLOWED: [(&str, &str, SpanKind, (&str, &str)); 6] = [
    (
        "referral",
        "POST /v1/referrals",
        SpanKind::Server,
        ("http.response.status_code", "201"),
    ),
    (
        "referral",
        "publish referral.submitted",
        SpanKind::Producer,
        ("messaging.operation.type", "send"),
    ),
    (
        "competition",
        "process referral.submitted",
        SpanKind::Consumer,
        ("messaging.consumer.group.name", "competition.referrals"),
    ),
    (
        "competition",
        "publish competition.opened",
        SpanKind::Producer,
        ("messaging.operation.type", "send"),
    ),
    (
        "notifications",
        "process competition.opened",
        SpanKind::Consumer,
        (
            "messaging.consumer.group.name",
            "notifications.provider-events",
        ),
    ),
    (
        "notifications",
        "POST",
        SpanKind::Client,
        ("webhook.event_type", "competition.invited"),
    ),
];

/// A provider registers a webhook, then a council submits a referral under a trace of the
/// test's own (`traceparent` sent): one trace follows it from the referral service's HTTP
/// server span through the relay's publish, the competition service's handling, its publish
/// of `competition.opened` and the notifications service's handling to the webhook attempt,
/// each a descendant of the one before, in the process that runs its service; the webhook
/// carries the trace. Returns those spans, in that order.
async fn follow_a_referral(
    p: &Platform<'_>,
    collector: &Receiver,
    hooks: &Receiver,
) -> Vec<Exported> {
    use hub_platform::Role;
    let seeded = hub::seed::seed(p.competition, &p.auth).await.expect("seed");
    let client = reqwest::Client::new();
    let provider = p
        .auth
        .mint_default("p", hub::seed::DEMO_PROVIDERS[0].0, &[Role::Provider]);
    let res = client
        .post(format!("{}/v1/webhooks", p.notifications))
        .bearer_auth(&provider)
        .json(
            &serde_json::json!({"url": hooks.url("hook"), "event_types": ["competition.invited"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let trace_id = hex(uuid::Uuid::now_v7().as_bytes());
    let sefton = p
        .auth
        .mint_default("sw", "E08000014", &[Role::Commissioner]);
    let body = hub_bench::referral_body(&seeded.framework_id, &seeded.residential_lot);
    // Services apart: 422 until the referral service's replica has the seeded framework.
    eventually("the referral accepted", Duration::from_secs(30), || {
        let req = client
            .post(format!("{}/v1/referrals", p.referral))
            .bearer_auth(&sefton)
            .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
            .json(&body)
            .send();
        async move { (req.await.ok()?.status() == 201).then_some(()) }
    })
    .await;
    let invited = hooks.wait("hook", "competition.invited", 1).await;
    let traceparent = invited[0]
        .headers
        .get("traceparent")
        .cloned()
        .unwrap_or_default();
    assert!(
        traceparent.contains(&trace_id),
        "the webhook's traceparent {traceparent:?}"
    );
    let (found, all) = eventually(
        "the referral's spans at the collector",
        Duration::from_secs(30),
        || {
            let all: Vec<Exported> = spans_at(collector)
                .into_iter()
                .filter(|s| s.trace_id == trace_id)
                .collect();
            let found: Vec<Exported> = FOLLOWED
                .iter()
                .filter_map(|(_, name, _, (k, v))| {
                    all.iter()
                        .find(|s| s.name == *name && s.attributes.get(*k).is_some_and(|a| a == v))
                        .cloned()
                })
                .collect();
            async move { (found.len() == FOLLOWED.len()).then_some((found, all)) }
        },
    )
    .await;
    for (i, ((service, name, kind, _), span)) in FOLLOWED.iter().zip(&found).enumerate() {
        assert_eq!(span.kind, *kind, "{name}: {span:?}");
        assert_eq!(span.service, (p.service_name)(service), "{name}: {span:?}");
        if i > 0 {
            let before = &found[i - 1];
            assert!(
                descends(&all, span, before),
                "{name} descends from {}: {all:#?}",
                before.name
            );
        }
    }
    let server = &found[0];
    assert_eq!(
        server.parent, "00f067aa0ba902b7",
        "the caller's span: {server:?}"
    );
    for (k, v) in [
        ("http.request.method", "POST"),
        ("http.route", "/v1/referrals"),
        ("url.path", "/v1/referrals"),
    ] {
        assert_eq!(
            server.attributes.get(k).map(String::as_str),
            Some(v),
            "{k}: {server:?}"
        );
    }
    for deprecated in ["http.method", "http.status_code", "http.target"] {
        assert!(
            !server.attributes.contains_key(deprecated),
            "{deprecated}: {server:?}"
        );
    }
    found
}

/// The process's log: every line JSON, no ERROR; one access line per server span the process
/// exported (same `span_id`), and the referral's with its trace id, method, route and status.
/// Waits for the spans and the lines to match (exports are batched).
async fn assert_logs(hub: &Hub, service_name: &str, collector: &Receiver, server: &Exported) {
    eventually(
        "one access line per server span",
        Duration::from_secs(20),
        || {
            let mut spans: Vec<String> = spans_at(collector)
                .into_iter()
                .filter(|s| s.service == service_name && s.kind == SpanKind::Server)
                .map(|s| s.span_id)
                .collect();
            spans.sort();
            let mut lines: Vec<String> = hub
                .json_log()
                .iter()
                .filter(|l| l["target"] == "hub::access")
                .map(|l| l["span_id"].as_str().unwrap_or_default().to_owned())
                .collect();
            lines.sort();
            async move { (!spans.is_empty() && spans == lines).then_some(()) }
        },
    )
    .await;
    let log = hub.json_log();
    let line = log
        .iter()
        .find(|l| l["target"] == "hub::access" && l["span_id"] == server.span_id.as_str())
        .expect("the referral's access line");
    assert_eq!(line["trace_id"], server.trace_id.as_str(), "{line}");
    assert_eq!(
        (&line["method"], &line["route"], &line["status"]),
        (&"POST".into(), &"/v1/referrals".into(), &201.into()),
        "{line}"
    );
    assert!(line["duration_ms"].as_f64().is_some(), "{line}");
    let errors: Vec<_> = log.iter().filter(|l| l["level"] == "ERROR").collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// Issue 11: with `OTEL_EXPORTER_OTLP_ENDPOINT` set the binary used to panic at start ("No
/// rustls crypto provider is configured", exit 101). Embedded, it starts and exports over
/// OTLP/HTTP one trace that follows a referral from its HTTP request to the webhook it
/// causes, spans named and attributed per the OpenTelemetry conventions; its log is JSON
/// throughout, with an access line per request carrying the trace and span ids, and no ERROR
/// (fresh starts once logged "database is locked" from the pool).
#[tokio::test]
async fn serve_exports_one_trace_per_referral_over_otlp_http() {
    hub_platform::install_crypto_provider();
    let collector = Receiver::accepting().await;
    let hooks = Receiver::accepting().await;
    let db = TestDb::new(Backend::Sqlite, "hub-process");
    let hub = Hub::serve(
        &db,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.base.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("HUB__WEBHOOKS__ALLOW_HTTP_LOOPBACK", "true"),
        ],
    );
    let settings = hub_platform::Settings::load_with(&[]).unwrap();
    let platform = Platform {
        referral: &hub.url,
        competition: &hub.url,
        notifications: &hub.url,
        service_name: |_| "hub".to_owned(),
        auth: hub_platform::Authenticator::new(&settings.auth),
    };
    let spans = follow_a_referral(&platform, &collector, &hooks).await;
    assert_logs(&hub, "hub", &collector, &spans[0]).await;
}

/// The services apart (`hub serve <service>`: five processes, a PostgreSQL database each,
/// RabbitMQ with an exchange and queues of their own), each exporting to the test's collector:
/// one trace follows a referral across the referral, competition and notifications processes.
/// The databases, queues and exchange are removed afterwards.
#[tokio::test]
async fn distributed_services_export_one_trace_per_referral() {
    hub_platform::install_crypto_provider();
    let collector = Receiver::accepting().await;
    let hooks = Receiver::accepting().await;
    let apart = Apart::start(&collector);
    let platform = Platform {
        referral: apart.url("referral"),
        competition: apart.url("competition"),
        notifications: apart.url("notifications"),
        service_name: |s| format!("hub-{s}"),
        auth: hub_platform::Authenticator::new(&apart.settings().auth),
    };
    let spans = follow_a_referral(&platform, &collector, &hooks).await;
    assert_logs(&apart.hubs[0], "hub-referral", &collector, &spans[0]).await;
    apart.stop().await;
}

const AMQP: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
const SECRET: &str = "process-tests-distributed-secret-0123456789";

/// The five services as separate `hub serve <service>` processes.
struct Apart {
    hubs: Vec<Hub>,
    /// `database.url`: a template (`{service}`), one new database per service.
    database: String,
    /// `bus.exchange` and `bus.queue_prefix`, new for the run.
    exchange: String,
}

impl Apart {
    fn start(collector: &Receiver) -> Self {
        let run = uuid::Uuid::now_v7().simple().to_string();
        let run = &run[run.len() - 12..];
        let mut apart = Apart {
            hubs: Vec::new(),
            database: format!(
                "postgres://postgres@127.0.0.1:5432/hubtrace_{run}_{{service}}?sslmode=disable"
            ),
            exchange: format!("hubtrace.{run}"),
        };
        let ports: Vec<String> = hub::SERVICES
            .iter()
            .map(|_| {
                let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                l.local_addr().unwrap().port().to_string()
            })
            .collect();
        let public = format!("http://127.0.0.1:{}", ports[0]);
        let env = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.base.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("HUB__WEBHOOKS__ALLOW_HTTP_LOOPBACK", "true"),
            ("HUB__BUS__URL", AMQP),
            ("HUB__BUS__EXCHANGE", &apart.exchange),
            ("HUB__BUS__QUEUE_PREFIX", &apart.exchange),
            ("HUB__AUTH__HS256_SECRET", SECRET),
            ("HUB__SERVER__PUBLIC_URL", &public),
            ("HUB__DATABASE__POOL_SIZE", "4"),
        ];
        let mut hubs = Vec::new();
        for (service, port) in hub::SERVICES.iter().zip(&ports) {
            hubs.push(Hub::start(
                &["serve", service, "--port", port],
                &apart.database,
                &env,
            ));
        }
        apart.hubs = hubs;
        apart
    }

    fn url(&self, service: &str) -> &str {
        let i = hub::SERVICES
            .iter()
            .position(|s| *s == service)
            .expect("a service");
        &self.hubs[i].url
    }

    fn settings(&self) -> hub_platform::Settings {
        hub_platform::Settings::load_with(&[
            ("database.url", self.database.as_str()),
            ("bus.url", AMQP),
            ("bus.exchange", self.exchange.as_str()),
            ("bus.queue_prefix", self.exchange.as_str()),
            ("auth.hs256_secret", SECRET),
        ])
        .unwrap()
    }

    /// Stops the processes, then removes their queues and exchange (declared again by the
    /// services run in this process, which know every subscription); the databases go when
    /// it is dropped.
    async fn stop(mut self) {
        self.hubs.clear();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let platform = hub::start(self.settings(), hub::SERVICES, listener)
            .await
            .expect("the services start here to clean up");
        platform.transport.teardown().await.expect("queues deleted");
        platform.stop().await;
    }
}

/// The processes are killed and the databases dropped, whatever happened.
impl Drop for Apart {
    fn drop(&mut self) {
        self.hubs.clear();
        for s in hub::SERVICES {
            let url = self.database.replace("{service}", s);
            if let Err(e) = hub_platform::db::drop_postgres_database(&url) {
                eprintln!("clean-up: could not drop {url}: {e:#}");
            }
        }
    }
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
    let body = hub_bench::referral_body(&seeded.framework_id, &seeded.residential_lot).to_string();
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
        assert_eq!(
            got["items"].as_array().map(Vec::len),
            Some(1),
            "{id}: {got}"
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
        .json(&hub_bench::referral_body(
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
        db.url(),
        &["serve", "referral", "--port", "0"],
        &[anywhere, secret],
        &["server.public_url", "gateway"],
    );
    for bad in ["http://0.0.0.0:8081", "hub.example.org", "not a url"] {
        assert_refused(
            db.url(),
            &["serve", "referral", "--port", "0"],
            &[anywhere, secret, ("HUB__SERVER__PUBLIC_URL", bad)],
            &["server.public_url"],
        );
    }
    // Embedded on every interface with nothing set: also refused.
    assert_refused(
        db.url(),
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
        assert_refused(db.url(), &["serve", "--port", "0"], &[env], says);
    }
}

/// Issue 11 item 7: the development secret (config/default.toml's) is refused at start
/// where others can reach the listener, or when services run apart.
#[test]
fn the_development_secret_is_refused_beyond_the_loopback() {
    let db = TestDb::new(Backend::Sqlite, "hub-process");
    let public = ("HUB__SERVER__PUBLIC_URL", "https://hub.example.org");
    assert_refused(
        db.url(),
        &["serve", "--port", "0"],
        &[("HUB__SERVER__HOST", "0.0.0.0"), public],
        &["auth.hs256_secret", "development secret", "0.0.0.0"],
    );
    assert_refused(
        db.url(),
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
