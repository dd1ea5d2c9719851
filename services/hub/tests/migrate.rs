//! `hub migrate` and `database.migrate_at_start = false`, as Kubernetes runs them (issue 11
//! point 6): a Job migrates, the services only check. The real binary against real
//! PostgreSQL.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

use hub_platform::Database;
use hub_testkit::{Backend, TestDb};

/// What a distributed service in Kubernetes is given (besides its database URL).
const APART: &[(&str, &str)] = &[
    ("HUB__DATABASE__MIGRATE_AT_START", "false"),
    ("HUB__SERVER__PUBLIC_URL", "http://127.0.0.1:8080"),
    (
        "HUB__AUTH__HS256_SECRET",
        "a-test-secret-of-at-least-thirty-two-bytes",
    ),
    ("HUB__BUS__URL", "memory://"),
];

fn hub(url: &str, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hub"));
    cmd.args(args)
        .env("HUB__DATABASE__URL", url)
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .envs(env.iter().copied());
    cmd
}

/// Runs `hub <args>` to its end (at most 60 s): exit code, stdout, stderr.
fn run(url: &str, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut child = hub(url, args, env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hub");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("try_wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("hub {args:?} is still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    (out.status.code(), text(out.stdout), text(out.stderr))
}

/// Asserts `hub <args>` exits 1 with one line on stderr holding each of `says`.
fn assert_refused(url: &str, args: &[&str], env: &[(&str, &str)], says: &[&str]) {
    let (code, _, stderr) = run(url, args, env);
    assert_eq!(code, Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one clear line, got: {stderr}");
    for s in says {
        assert!(lines[0].contains(s), "{:?} lacks {s:?}", lines[0]);
    }
}

/// A `hub serve …` process; killed when dropped.
struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `hub <args>` and waits up to `within` for it to say where it listens: the process
/// and its URL, or everything it wrote if it did not.
fn serve(url: &str, args: &[&str], env: &[(&str, &str)], within: Duration) -> (Serving, String) {
    let mut child = hub(url, args, env)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hub");
    let lines = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = std::time::Instant::now() + within;
    let mut said = Vec::new();
    while let Ok(line) =
        rx.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
    {
        // The JSON log's `listening` line, with the address in `url`.
        if let Ok(json) = serde_json::from_str::<serde_json::Value>(&line)
            && json["message"] == "listening"
        {
            let at = json["url"].as_str().unwrap_or_default().to_owned();
            return (Serving(child), at);
        }
        said.push(line);
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("hub {args:?} did not start:\n{}", said.join("\n"));
}

async fn ready(base: &str) -> u16 {
    hub_platform::install_crypto_provider();
    reqwest::get(format!("{base}/health/ready"))
        .await
        .expect("ready")
        .status()
        .as_u16()
}

/// With `database.migrate_at_start` false, a service creates nothing: with no database it
/// refuses to start, naming the command to run, and leaves no database behind. Given time
/// (`database.schema_wait_secs`), it waits while `hub migrate` (the Kubernetes Job) creates
/// and migrates the database, then starts and is ready.
#[tokio::test]
async fn a_service_that_does_not_migrate_waits_for_hub_migrate() {
    let db = TestDb::new(Backend::Postgres, "hub_migrate");
    let args = ["serve", "referral", "--port", "0"];
    let no_wait = [APART, &[("HUB__DATABASE__SCHEMA_WAIT_SECS", "0")]].concat();
    assert_refused(
        db.url(),
        &args,
        &no_wait,
        &["hub migrate referral", "does not exist"],
    );
    assert!(
        Database::connect_existing(db.url(), "referral", 1)
            .await
            .is_err(),
        "the service created its database"
    );

    let waiting = [APART, &[("HUB__DATABASE__SCHEMA_WAIT_SECS", "60")]].concat();
    let (started, migrated) = std::thread::scope(|s| {
        let service = s.spawn(|| serve(db.url(), &args, &waiting, Duration::from_secs(90)));
        std::thread::sleep(Duration::from_secs(2));
        assert!(
            !service.is_finished(),
            "started before its database existed"
        );
        let migrated = run(db.url(), &["migrate", "referral"], &[]);
        (service.join().expect("serve"), migrated)
    });
    assert_eq!(migrated.0, Some(0), "{}", migrated.2);
    assert!(
        migrated.1.starts_with("referral: migrated"),
        "{}",
        migrated.1
    );
    let (_service, base) = started;
    assert_eq!(ready(&base).await, 200);
}

/// A service whose schema is behind (a migration of this build not applied: a new release
/// before its Job ran) refuses to start with one line naming the migration and the command.
#[tokio::test]
async fn a_service_refuses_to_start_on_a_schema_behind() {
    use diesel::connection::SimpleConnection as _;

    let db = TestDb::new(Backend::Postgres, "hub_migrate");
    let (code, _, stderr) = run(db.url(), &["migrate", "referral"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let version = Database::connect_existing(db.url(), "referral", 1)
        .await
        .unwrap()
        .run(|c| {
            #[derive(diesel::QueryableByName)]
            struct Newest {
                #[diesel(sql_type = diesel::sql_types::Text)]
                version: String,
            }
            let newest: Newest = diesel::RunQueryDsl::get_result(
                diesel::sql_query("SELECT max(version) AS version FROM __diesel_schema_migrations"),
                c,
            )?;
            c.batch_execute(&format!(
                "DELETE FROM __diesel_schema_migrations WHERE version = '{}'",
                newest.version
            ))?;
            Ok(newest.version)
        })
        .await
        .unwrap();
    // diesel records 2026-12-04-100000_x as version 20261204100000.
    let v = &version;
    let migration = format!("{}-{}-{}-{}_", &v[..4], &v[4..6], &v[6..8], &v[8..]);
    let no_wait = [APART, &[("HUB__DATABASE__SCHEMA_WAIT_SECS", "0")]].concat();
    assert_refused(
        db.url(),
        &["serve", "referral", "--port", "0"],
        &no_wait,
        &[
            "hub migrate referral",
            "is behind: 1 migration(s) not applied",
            &migration,
        ],
    );
}

/// `hub migrate --all` migrates every service's database (here the embedded SQLite files),
/// after which the whole platform starts without migrating anything itself.
#[tokio::test]
async fn hub_migrate_all_then_a_platform_that_does_not_migrate_starts() {
    let db = TestDb::new(Backend::Sqlite, "hub-migrate");
    let (code, stdout, stderr) = run(db.url(), &["migrate", "--all"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    for service in hub::SERVICES {
        assert!(
            stdout.contains(&format!("{service}: migrated")),
            "{service}: {stdout}"
        );
    }
    let (_hub, base) = serve(
        db.url(),
        &["serve", "--port", "0"],
        &[("HUB__DATABASE__MIGRATE_AT_START", "false")],
        Duration::from_secs(60),
    );
    assert_eq!(ready(&base).await, 200);
}
