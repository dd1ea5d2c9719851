//! `hub migrate` and `database.migrate_at_start = false`, as Kubernetes runs them (issue 11
//! point 6): a Job migrates, the services only check. The real binary against real
//! PostgreSQL.

mod common;

use std::time::Duration;

use common::{Hub, assert_refused, run_to_end as run};

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
        let service =
            s.spawn(|| Hub::start_within(&args, db.url(), &waiting, Duration::from_secs(90)));
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
    assert_eq!(ready(&started.url).await, 200);
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
    let hub = Hub::start(
        &["serve", "--port", "0"],
        db.url(),
        &[("HUB__DATABASE__MIGRATE_AT_START", "false")],
    );
    assert_eq!(ready(&hub.url).await, 200);
}
