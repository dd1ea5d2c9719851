//! What both the HTTP api and the event handlers do to the ledger: recomputing a source's
//! commitment lines from its facts and opening a partnership's ledger through a year.
//!
//! Rules: `api` and `handlers` call in here and never import each other; nothing here
//! imports `api` or `handlers`. Functions take the caller's transaction (`&mut
//! DbConnection`) and return `DbError` by the error policy of `hub_platform::db`.

pub mod actuals;
pub mod commitments;
