//! Tables and queries of the notifications service. Rows hold typed values (ids, statuses,
//! JSON) through the storage edge ([`hub_platform::sql`]); a value that cannot be read back
//! is an unreadable row (a 500 and an alert), never a default. One module per seam:
//! [`endpoints`], [`deliveries`] (queueing and the log), [`claims`] (the delivery worker's
//! leases and outcomes) and [`tracking`] (competitions learnt from events).

/// The generated tables (`crate::schema`), under the name the store's modules use.
pub use crate::schema;

pub mod claims;
pub mod deliveries;
pub mod endpoints;
pub mod tracking;

pub use claims::*;
pub use deliveries::*;
pub use endpoints::*;
pub use tracking::*;

/// Now, in the unix milliseconds the delivery columns hold.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
