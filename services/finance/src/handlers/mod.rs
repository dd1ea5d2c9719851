//! Event consumers of the finance service: every money-bearing contract event is kept as a
//! fact and the source it belongs to is recomputed (see [`commitments`]).
//!
//! Refused (`DbError::refused`: dead-lettered at once with the reason, nothing written; the
//! event can never apply, so it does not wait through the retries): a council, lead council or bed
//! holder that is not a member of the envelope's partnership; money finance cannot cost (a
//! weekly rate or extra outside £0.00–£100,000.00, `Pence::MAX_WEEKLY`; a contract value or
//! added value outside £0–£100bn, a variation beyond £100bn either way: every ledger line and
//! sum derived from them then fits in pence, so nothing wraps); a
//! term that ends before it starts; a block placement without its bed, or a bed the block
//! contract does not have; a fact about a placement or contract filed under another
//! partnership or council than the one it was started or let in; a service contract's
//! variation phased to a day before it takes effect. Facts that arrive before their placement
//! or contract (a rate change, an end, a bed event, an extension, a variation, a termination)
//! are kept and take effect when it arrives: no retry is needed for order.
//!
//! Seams: this module registers the handlers and holds the checks every fact goes through
//! ([`Subject`], [`member`], the money bounds); `placements`, `blocks` and `services` keep
//! the facts of each kind of source; `crate::app::commitments` recomputes the lines.

mod blocks;
mod placements;
mod services;

use std::fmt;

use chrono::NaiveDate;
use hub_bus::{Handlers, Store, Subscription};
use hub_events::{
    BedFilled, BedVoid, BlockContractExtended, BlockContractLet, Envelope, PlacementEnded,
    PlacementRateChanged, PlacementStarted, ServiceContractExtended, ServiceContractLet,
    ServiceContractTerminated, ServiceContractVaried,
};
use hub_platform::{
    Pence,
    db::{DbConnection, DbError},
    directory,
};

use self::{
    blocks::{Bed, bed_filled, bed_void, block_extended, block_let, check_bed, same_block},
    placements::{placement_ended, placement_started, rate_changed, same_placement},
    services::{same_contract, service_extended, service_let, service_terminated, service_varied},
};
use crate::{
    app::commitments,
    domain::budget::MAX_LINE_PENCE,
    ids::{BlockContractId, PlacementId, ServiceContractId},
    store::facts,
};

/// The consumers of contract events: the table of contents of what finance takes in.
pub fn handlers() -> Handlers {
    Handlers::new(crate::NAME, "commitments")
        .on::<PlacementStarted>(placement_started)
        .on::<PlacementRateChanged>(rate_changed)
        .on::<PlacementEnded>(placement_ended)
        .on::<BlockContractLet>(block_let)
        .on::<BlockContractExtended>(block_extended)
        .on::<BedFilled>(bed_filled)
        .on::<BedVoid>(bed_void)
        .on::<ServiceContractLet>(service_let)
        .on::<ServiceContractExtended>(service_extended)
        .on::<ServiceContractVaried>(service_varied)
        .on::<ServiceContractTerminated>(service_terminated)
}

/// The durable subscription the handlers are bound to (its queue's routing keys).
pub fn subscription() -> Subscription {
    handlers().subscription()
}

pub async fn subscribe(store: &Store, transport: &dyn hub_bus::Transport) -> anyhow::Result<()> {
    handlers().subscribe(store, transport).await
}

/// What a fact is about: the source whose ledger lines it changes (a bed's are its block
/// contract's). Displayed as refusals name it, e.g. `service contract <id>`.
#[derive(Clone, Copy)]
enum Subject<'a> {
    /// A placement, with the council the fact names (it must be the placement's).
    Placement {
        id: PlacementId,
        council: &'a str,
    },
    Block(BlockContractId),
    Bed(Bed),
    Service(ServiceContractId),
}

impl fmt::Display for Subject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Placement { id, .. } => write!(f, "placement {id}"),
            Subject::Block(id) => write!(f, "block contract {id}"),
            Subject::Bed(bed) => write!(f, "block contract {} bed {}", bed.block, bed.number),
            Subject::Service(id) => write!(f, "service contract {id}"),
        }
    }
}

impl Subject<'_> {
    /// Takes the source's lock for the rest of the transaction.
    fn lock(self, conn: &mut DbConnection) -> Result<(), DbError> {
        match self {
            Subject::Placement { id, .. } => facts::lock_source(conn, "placement", id),
            Subject::Block(id) | Subject::Bed(Bed { block: id, .. }) => {
                facts::lock_source(conn, "block", id)
            }
            Subject::Service(id) => facts::lock_source(conn, "service", id),
        }
    }

    /// Refuses a fact that does not fit its source, if the source has arrived.
    fn check(self, conn: &mut DbConnection, env: &Envelope) -> Result<(), DbError> {
        match self {
            Subject::Placement { id, council } => same_placement(conn, env, id, council).map(drop),
            Subject::Block(id) => same_block(conn, env, id).map(drop),
            Subject::Bed(bed) => check_bed(conn, env, bed),
            Subject::Service(id) => same_contract(conn, env, id),
        }
    }

    /// Recomputes the source's ledger lines from its facts, `env` being the fact that moved it.
    fn recompute(self, conn: &mut DbConnection, env: &Envelope) -> Result<usize, DbError> {
        caused_by(env, |cause| match self {
            Subject::Placement { id, .. } => commitments::placement(conn, id, cause),
            Subject::Block(id) | Subject::Bed(Bed { block: id, .. }) => {
                commitments::block(conn, id, cause)
            }
            Subject::Service(id) => commitments::service_contract(conn, id, cause),
        })
    }
}

/// Runs `f` with the event as the cause an adjustment to a closed period is tagged with.
fn caused_by<T>(env: &Envelope, f: impl FnOnce(commitments::Cause<'_>) -> T) -> T {
    let id = env.id.to_string();
    f(commitments::Cause {
        event_type: &env.event_type,
        event_id: &id,
    })
}

/// Keeps a fact that is not its source's first (a rate change, an extension, a bed event, a
/// variation, a termination): under the source's lock, checked against the source if it has
/// arrived, stored by `store` (false if it was recorded already) and, if new, the source's
/// lines recomputed.
fn keep(
    conn: &mut DbConnection,
    env: &Envelope,
    subject: Subject<'_>,
    store: impl FnOnce(&mut DbConnection) -> Result<bool, DbError>,
) -> Result<(), DbError> {
    subject.lock(conn)?;
    subject.check(conn, env)?;
    if store(conn)? {
        subject.recompute(conn, env)?;
    }
    Ok(())
}

/// Ledger lines are shown to the partnership named in the envelope: refuse rather than file
/// a council's money under a partnership it is not in.
fn member(env: &Envelope, council: &str, subject: Subject<'_>) -> Result<(), DbError> {
    if directory::partnership(&env.partnership).is_some_and(|p| p.has_member(council)) {
        Ok(())
    } else {
        Err(DbError::refused(format!(
            "{subject}: council {council} is not a member of partnership `{}`",
            env.partnership
        )))
    }
}

/// Money finance can cost: `value` within `min..=max`, else the fact is refused saying so.
fn costable(value: Pence, what: &str, min: Pence, max: Pence) -> Result<(), DbError> {
    value
        .check_range(what, min, max)
        .map(|_| ())
        .map_err(|e| DbError::refused(format!("{what} {}: finance does not cost it", e.message)))
}

/// A weekly rate or extra: £0.00 to £100,000.00.
fn weekly(value: Pence, what: &str) -> Result<(), DbError> {
    costable(value, what, Pence::ZERO, Pence::MAX_WEEKLY)
}

/// A contract's value or added value: £0 to £100bn (the most a budget line may hold).
fn contract_value(value: Pence, what: &str) -> Result<(), DbError> {
    costable(value, what, Pence::ZERO, Pence(MAX_LINE_PENCE))
}

/// A contract's term must not end before it starts.
fn term(subject: Subject<'_>, start: NaiveDate, end: NaiveDate) -> Result<(), DbError> {
    if end < start {
        Err(DbError::refused(format!("{subject} ends before it starts")))
    } else {
        Ok(())
    }
}

/// An extension must run past the end it extends.
fn extends(
    subject: Subject<'_>,
    previous_end: NaiveDate,
    new_end: NaiveDate,
) -> Result<(), DbError> {
    if new_end <= previous_end {
        Err(DbError::refused(format!(
            "{subject}: the extension does not run past the previous end"
        )))
    } else {
        Ok(())
    }
}
