//! Platform pieces every service shares: configuration, telemetry, authentication,
//! problem+json errors, health and metrics endpoints, the database layer (PostgreSQL and
//! SQLite from one code base), money and the financial calendar, and the reference
//! directory of councils and partnerships.

// No function over 80 lines (clippy.toml) without a reason written beside it
// (`#[expect(clippy::too_many_lines, reason = "…")]`); a unit test may tell a longer story.
#![warn(clippy::too_many_lines)]
#![cfg_attr(test, allow(clippy::too_many_lines))]

pub mod auth;
pub mod calendar;
pub mod config;
pub mod db;
pub mod directory;
pub mod etag;
pub mod http;
pub mod http_trace;
pub mod idempotency;
pub mod metrics;
pub mod money;
pub mod openapi;
pub mod page;
pub mod problem;
pub mod sql;
pub mod telemetry;

pub use auth::{Authenticator, Principal, Role};
pub use config::Settings;
pub use db::{Backend, Database, DbConnection};
pub use money::Pence;
pub use problem::{FieldError, Problem};
pub use sql::{Code, Json};

/// Installs rustls' ring crypto provider once for the process (reqwest is built without a
/// provider of its own). Safe to call many times.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
