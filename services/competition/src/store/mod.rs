//! Tables and queries of the competition service, one file per aggregate: `frameworks`
//! (lots, rounds, admissions), `homes`, `vacancies`, `competitions` (invitations, declines,
//! direct awards, history), `bids` (marks), `offered_beds`.
//!
//! Rows hold domain types (typed ids, codes, `Pence`, `Json<T>` for the lists and maps a row
//! keeps whole) and stay private to their file: every query takes and returns the domain's
//! types (`crate::domain`), each row converting to and from its own with one `From` each
//! way. A stored value its type cannot read is an error (a 500 alert, see
//! `hub_platform::db::DbError`), never a fallback. Each query takes the connection of the
//! caller's transaction and returns domain values or `DbError`.

mod bids;
mod competitions;
mod frameworks;
mod homes;
pub mod offered_beds;
mod vacancies;

/// The generated tables (`crate::schema`), under the name the store's modules use.
use crate::schema;

use chrono::{NaiveDateTime, Utc};
use hub_platform::{Problem, db::DbError};

pub use self::{bids::*, competitions::*, frameworks::*, homes::*, vacancies::*};

pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// The end of a compare-and-set write (`UPDATE … WHERE id = ? AND revision = ?`): one row
/// updated raises `revision`; none means another write changed `what` since it was read
/// in this transaction, a 412 (ADR 0004).
fn set_once(updated: usize, revision: &mut i64, what: &str) -> Result<(), DbError> {
    if updated == 0 {
        return Err(Problem::precondition_failed(what).into());
    }
    *revision += 1;
    Ok(())
}
