//! A database per test, and the runtime that must stop before it goes.

use std::{future::Future, path::PathBuf, time::Duration};

use hub_bus::Store;
use hub_platform::{Backend, Database, db::Migrations};
use uuid::Uuid;

/// A test's own database: its URL names a new SQLite directory under the temporary directory
/// or a new PostgreSQL database; dropping it removes the directory or drops the database.
///
/// Keep it alive for as long as the service runs on it, and declare it before what uses it,
/// so that it is dropped last — also while a failing test unwinds.
pub struct TestDb {
    url: String,
    sqlite_dir: Option<PathBuf>,
}

impl TestDb {
    /// A fresh database for `service` (named `<service>-test-<uuid>` on SQLite,
    /// `<service>_test_<uuid>` on PostgreSQL). Panics, saying how to start PostgreSQL, when
    /// PostgreSQL is asked for and does not answer.
    pub fn new(backend: Backend, service: &str) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("{service}-test-{}", Uuid::now_v7()));
                Self {
                    url: format!("sqlite://{}", dir.display()),
                    sqlite_dir: Some(dir),
                }
            }
            Backend::Postgres => Self {
                url: hub_platform::db::test_postgres_url(&format!("{service}_test")),
                sqlite_dir: None,
            },
        }
    }

    /// The database URL, for `Database::connect` (the database itself is created on connect).
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = self.sqlite_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
            return;
        }
        if let Err(e) = hub_platform::db::drop_postgres_database(&self.url) {
            // A database left behind fails the test, unless the test is failing already.
            if std::thread::panicking() {
                eprintln!("clean-up: could not drop {}: {e:#}", self.url);
            } else {
                panic!("clean-up: could not drop {}: {e:#}", self.url);
            }
        }
    }
}

/// Connects to `url` as `service` (a pool of 4) and runs the migration sets, in order.
pub async fn migrated_store(
    url: &str,
    service: &str,
    migrations: &'static [&'static Migrations],
) -> Store {
    let db = Database::connect(url, service, 4)
        .await
        .unwrap_or_else(|e| panic!("connecting to the test database: {e:#}"));
    db.migrate(migrations)
        .await
        .unwrap_or_else(|e| panic!("migrating the test database: {e:#}"));
    Store::new(db, service)
}

/// Runs `scenario` on a fresh migrated database of `backend` in a multi-threaded runtime of
/// its own, and drops the database only once that runtime (and every worker the service
/// spawned in it) has stopped, so no worker is left waiting on a database that is gone.
pub fn isolated<F, Fut>(
    backend: Backend,
    service: &str,
    migrations: &'static [&'static Migrations],
    scenario: F,
) where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let db = TestDb::new(backend, service);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async { scenario(migrated_store(db.url(), service, migrations).await).await });
    rt.shutdown_timeout(Duration::from_millis(200));
    drop(db);
}
