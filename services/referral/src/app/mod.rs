//! The application layer: what the HTTP API and the event handlers do to referrals, each as
//! one function run inside the caller's transaction (`Store::write` or `Store::handle`).
//!
//! Rules:
//! * `api` and `handlers` call in here and never each other; this layer calls `store` and
//!   `domain`, and returns domain types (the `api` builds responses from them);
//! * a status changes through the domain's transitions, and every change is recorded in the
//!   referral's history with who caused it ([`record`]);
//! * errors follow the policy on `DbError`: a broken rule is a `Problem` (404, 409, 422).
//!
//! * [`commands`]: the council writes, submits, changes, re-routes, withdraws and closes;
//! * [`reading`]: who reads which version in which view, and every read logged;
//! * [`progress`]: what the competition and contract services' events do to a referral.

pub mod commands;
pub mod progress;
pub mod reading;

use chrono::NaiveDateTime;
use hub_platform::{Principal, Problem, db::DbError};

use crate::domain::{Referral, ReferralAction, ReferralStatus, Transition};
use crate::store;
use hub_platform::DbConnection;

/// Records a transition of `r` (to its current status and version) caused by `actor`.
fn record(
    conn: &mut DbConnection,
    r: &Referral,
    at: NaiveDateTime,
    action: ReferralAction,
    from: ReferralStatus,
    actor: &str,
    detail: Option<String>,
) -> Result<(), DbError> {
    store::record(
        conn,
        r.id,
        at,
        Transition {
            action,
            from,
            to: r.status,
            version: r.version,
            actor: actor.to_owned(),
            actor_org: r.council.clone(),
            detail,
        },
    )
}

/// Records a transition of `r` made by the caller, at the referral's `updated_at`.
fn record_by(
    conn: &mut DbConnection,
    r: &Referral,
    who: &Principal,
    action: ReferralAction,
    from: ReferralStatus,
    detail: Option<String>,
) -> Result<(), DbError> {
    store::record(
        conn,
        r.id,
        r.updated_at,
        Transition {
            action,
            from,
            to: r.status,
            version: r.version,
            actor: who.sub.clone(),
            actor_org: who.org.clone(),
            detail,
        },
    )
}

fn not_found() -> Problem {
    Problem::not_found("referral")
}
