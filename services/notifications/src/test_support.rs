//! Test set-up: a migrated database per test (SQLite in a temporary directory, or a fresh
//! PostgreSQL database), removed when dropped, and a tiny HTTP receiver on 127.0.0.1:0.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::Utc;
use diesel::RunQueryDsl;
use hub_bus::Store;
use hub_events::{CompetitionOpened, Urgency};
use hub_platform::{Database, Settings, db::Migrations};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};
use uuid::Uuid;

use crate::store::{EndpointRow, schema::webhook_endpoints};

pub const PG_SERVER: &str = "postgres://postgres@127.0.0.1:5432";
static MIGRATION_SETS: &[&Migrations] = &[&hub_bus::MIGRATIONS, &crate::MIGRATIONS];

/// A test's database; removed on drop.
pub struct TestDb {
    pub store: Store,
    sqlite_dir: Option<PathBuf>,
    postgres_url: Option<String>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = self.sqlite_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some(url) = self.postgres_url.take() {
            // Off the runtime: dropping the database is blocking I/O.
            let done =
                std::thread::spawn(move || hub_platform::db::drop_postgres_database(&url)).join();
            if let Ok(Err(e)) = done {
                eprintln!("clean-up: could not drop the test database: {e:#}");
            }
        }
    }
}

pub async fn sqlite() -> TestDb {
    let dir = std::env::temp_dir().join(format!("hub-notifications-{}", Uuid::now_v7()));
    let db = Database::connect(&format!("sqlite://{}", dir.display()), crate::NAME, 4)
        .await
        .expect("SQLite");
    db.migrate(MIGRATION_SETS).await.expect("migrations");
    TestDb {
        store: Store::new(db, crate::NAME),
        sqlite_dir: Some(dir),
        postgres_url: None,
    }
}

pub async fn postgres() -> TestDb {
    let url = format!(
        "{PG_SERVER}/hub_notifications_test_{}",
        Uuid::now_v7().simple()
    );
    let db = Database::connect(&url, crate::NAME, 4)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is not reachable at {PG_SERVER}: {e:#}\nStart it with \
             `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`."
            )
        });
    let db_guard = TestDb {
        store: Store::new(db.clone(), crate::NAME),
        sqlite_dir: None,
        postgres_url: Some(url),
    };
    db.migrate(MIGRATION_SETS).await.expect("migrations");
    db_guard
}

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs `scenario` on a fresh database of `backend` in a runtime of its own, and removes the
/// database only after the runtime (and the delivery worker in it) has stopped, so the worker
/// never waits on a database that is gone.
pub fn run<F, Fut>(backend: Backend, scenario: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let db = rt.block_on(async {
        match backend {
            Backend::Sqlite => sqlite().await,
            Backend::Postgres => postgres().await,
        }
    });
    rt.block_on(scenario(db.store.clone()));
    rt.shutdown_timeout(Duration::from_millis(200));
    drop(db);
}

pub fn opened(invited: &[&str]) -> CompetitionOpened {
    let referral_id = Uuid::now_v7();
    CompetitionOpened {
        competition_id: Uuid::now_v7(),
        referral_id,
        referral_version: 1,
        council: "E08000014".into(),
        framework_id: Uuid::now_v7(),
        lot_id: Uuid::now_v7(),
        lot_name: "Residential".into(),
        urgency: Urgency::Urgent,
        deadline: Utc::now() + chrono::Duration::days(2),
        invited: invited.iter().map(|s| (*s).to_owned()).collect(),
        summary: "residential, 11-15, emotional_behavioural".into(),
        referral_path: format!("/v1/referrals/{referral_id}"),
    }
}

/// Settings with fast retries for tests.
pub fn settings(overrides: &[(&str, &str)]) -> Settings {
    let mut all = vec![
        ("webhooks.initial_backoff_ms", "100"),
        ("webhooks.max_backoff_ms", "1000"),
        ("webhooks.timeout_ms", "3000"),
        ("webhooks.concurrency", "8"),
        ("server.public_url", "https://hub.example"),
    ];
    all.extend_from_slice(overrides);
    Settings::load_with(&all).expect("test settings")
}

/// Registers an endpoint directly in the store; returns its row (with its secret).
pub async fn endpoint(
    store: &Store,
    org: &str,
    url: &str,
    event_types: &[&str],
    enabled: bool,
) -> EndpointRow {
    let now = Utc::now().naive_utc();
    let row = EndpointRow {
        id: Uuid::now_v7().to_string(),
        owner_org: org.to_owned(),
        url: url.to_owned(),
        event_types: serde_json::to_string(event_types).unwrap(),
        description: None,
        secret: crate::domain::new_secret(),
        previous_secret: None,
        previous_secret_until_ms: None,
        enabled,
        disabled_reason: None,
        disabled_at: None,
        created_by: "test".into(),
        created_at: now,
        updated_at: now,
    };
    let r = row.clone();
    store
        .db
        .run(move |c| {
            diesel::insert_into(webhook_endpoints::table)
                .values(&r)
                .execute(c)?;
            Ok(())
        })
        .await
        .expect("inserting an endpoint");
    row
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

/// A minimal HTTP/1.1 server on 127.0.0.1:0 that records every request and answers as
/// `behave(path, nth request to that path)` says: (status, delay before answering).
pub struct Receiver {
    pub base: String,
    pub log: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start<F>(behave: F) -> Self
    where
        F: Fn(&str, usize) -> (u16, Duration) + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let log: Arc<Mutex<Vec<Received>>> = Arc::default();
        let behave = Arc::new(behave);
        let l = log.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    continue;
                };
                let (log, behave) = (l.clone(), behave.clone());
                tokio::spawn(async move {
                    let Some(req) = read_request(&mut sock).await else {
                        return;
                    };
                    let nth = {
                        let mut log = log.lock().unwrap();
                        let nth = log.iter().filter(|r| r.path == req.path).count();
                        log.push(req.clone());
                        nth
                    };
                    let (status, delay) = behave(&req.path, nth);
                    tokio::time::sleep(delay).await;
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    );
                    let _ = sock.write_all(reply.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Self { base, log }
    }

    pub fn requests(&self, path: &str) -> Vec<Received> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }
}

async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let at = Instant::now();
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Received {
        at,
        path,
        headers,
        body,
    })
}

/// Polls `check` until it returns `Some` or `timeout` passes.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
