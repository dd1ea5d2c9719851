//! Tables and queries of the competition service, one file per aggregate: `frameworks`
//! (lots, rounds, admissions), `homes`, `vacancies`, `competitions` (invitations, declines,
//! direct awards, history), `bids` (marks), `offered_beds`.
//!
//! Rows hold domain types (typed ids, codes, `Pence`, `Json<T>` for the lists and maps a row
//! keeps whole), so nothing outside reads a stored string; a stored value its type cannot
//! read is an error (a 500 alert, see `hub_platform::db::DbError`), never a fallback. Each
//! query takes the connection of the caller's transaction and returns rows or `DbError`.

pub mod bids;
pub mod competitions;
pub mod frameworks;
pub mod homes;
pub mod offered_beds;
pub mod vacancies;

/// The generated tables (`crate::schema`), under the name the store's modules use.
pub use crate::schema;

use chrono::{NaiveDateTime, Utc};

pub use self::{bids::*, competitions::*, frameworks::*, homes::*, vacancies::*};

pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}
