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
