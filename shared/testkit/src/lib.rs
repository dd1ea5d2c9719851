//! The services' test harness (a dev-dependency only).
//!
//! * [`TestDb`]: a database of its own per test — SQLite in a temporary directory, or a fresh
//!   PostgreSQL database from [`hub_platform::db::test_postgres_url`] — removed when dropped,
//!   also when the test panics.
//! * [`ServiceCtx`]: a service started with its `start(store, transport, settings)` over a
//!   migrated database and the in-process bus; mints tokens, publishes events as another
//!   service would, reads the service's outbox and runs SQL.
//! * [`TestApp`] and [`User`]: a started service behind a test client, and who calls it;
//!   each service's typed client in [`clients`] (`app.competitions().award(&sefton, …)`).
//! * [`call`] / [`call_request`]: one request to the actix test service, answered as
//!   `(status, JSON body)`; [`assert_problem`]: a problem's status, type and first error.
//! * [`Receiver`]: an HTTP receiver on 127.0.0.1 that records what it gets (webhooks).
//! * [`on_both!`]: a scenario `async fn(url: &str)` as two tests, on SQLite and on PostgreSQL;
//!   [`isolated`]: a scenario in a runtime of its own, stopped before its database is dropped.
//!
//! PostgreSQL is the local server (`postgres://postgres@127.0.0.1:5432`) unless
//! `HUB_TEST_POSTGRES` names another (a URL template with `{service}`); the tests that need it
//! fail, never skip, without it.

// No function over 80 lines (clippy.toml) without a reason written beside it
// (`#[expect(clippy::too_many_lines, reason = "…")]`); a unit test may tell a longer story.
#![warn(clippy::too_many_lines)]
#![cfg_attr(test, allow(clippy::too_many_lines))]

mod client;
pub mod clients;
pub mod conformance;
mod db;
mod http;
mod receiver;
mod service;

pub use client::{RawReply, Reply, TestApp, User};
pub use db::{TestDb, isolated, migrated_store};
pub use http::{assert_problem, call, call_request};
pub use hub_platform::Backend;
pub use receiver::{Received, Receiver, eventually};
pub use service::{Builder, PARTNERSHIP, ServiceCtx, Start};

/// Defines two `#[actix_web::test]` tests running the scenario `async fn(url: &str)`: one on
/// SQLite, one on PostgreSQL, each on a [`TestDb`] of its own named after the calling package.
///
/// ```ignore
/// hub_testkit::on_both!(lifecycle, lifecycle_on_sqlite, lifecycle_on_postgres);
/// ```
#[macro_export]
macro_rules! on_both {
    ($scenario:ident, $sqlite:ident, $postgres:ident) => {
        #[::actix_web::test]
        async fn $sqlite() {
            let db = $crate::TestDb::new($crate::Backend::Sqlite, env!("CARGO_PKG_NAME"));
            $scenario(db.url()).await;
        }

        #[::actix_web::test]
        async fn $postgres() {
            let db = $crate::TestDb::new($crate::Backend::Postgres, env!("CARGO_PKG_NAME"));
            $scenario(db.url()).await;
        }
    };
}
