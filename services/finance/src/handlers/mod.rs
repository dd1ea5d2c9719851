//! Event consumers of the finance service: every money-bearing contract event is kept as a
//! fact and the source it belongs to is recomputed (see [`commitments`]).
//!
//! Refused (retried, then dead-lettered, nothing written): a council, lead council or bed
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

pub mod commitments;

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime, Utc};
use hub_bus::{Events, Store, Subscription};
use hub_events::{
    BedFilled, BedVoid, BlockContractExtended, BlockContractLet, Envelope, Event, PlacementEnded,
    PlacementRateChanged, PlacementStarted, ServiceContractExtended, ServiceContractLet,
    ServiceContractTerminated, ServiceContractVaried,
};
use hub_platform::{
    Pence,
    db::{DbConnection, DbError},
    directory,
};

use crate::domain::budget::MAX_LINE_PENCE;

use crate::store::facts::{
    self, BedEventRow, BlockContractRow, BlockExtensionRow, ExtensionRow, PlacementEndRow,
    PlacementRow, RateChangeRow, ServiceContractRow, TerminationRow, VariationRow,
};

pub fn subscription() -> Subscription {
    Subscription::new(
        crate::NAME,
        "commitments",
        &[
            PlacementStarted::TYPE,
            PlacementRateChanged::TYPE,
            PlacementEnded::TYPE,
            BlockContractLet::TYPE,
            BlockContractExtended::TYPE,
            BedFilled::TYPE,
            BedVoid::TYPE,
            ServiceContractLet::TYPE,
            ServiceContractExtended::TYPE,
            ServiceContractVaried::TYPE,
            ServiceContractTerminated::TYPE,
        ],
    )
}

pub async fn subscribe(store: &Store, transport: &dyn hub_bus::Transport) -> anyhow::Result<()> {
    let sub = subscription();
    transport
        .subscribe(sub.clone(), store.handler(&sub, handle))
        .await?;
    Ok(())
}

fn handle(conn: &mut DbConnection, env: &Envelope, _events: &mut Events) -> Result<(), DbError> {
    fn decode<E: Event + serde::de::DeserializeOwned>(env: &Envelope) -> Result<E, DbError> {
        Ok(env.decode().map_err(anyhow::Error::from)?)
    }
    let now = Utc::now().naive_utc();
    match env.event_type.as_str() {
        PlacementStarted::TYPE => placement_started(conn, env, decode(env)?, now),
        PlacementRateChanged::TYPE => rate_changed(conn, env, decode(env)?, now),
        PlacementEnded::TYPE => placement_ended(conn, env, decode(env)?, now),
        BlockContractLet::TYPE => block_let(conn, env, decode(env)?, now),
        BlockContractExtended::TYPE => block_extended(conn, env, decode(env)?, now),
        BedFilled::TYPE => bed_filled(conn, env, decode(env)?, now),
        BedVoid::TYPE => bed_void(conn, env, decode(env)?, now),
        ServiceContractLet::TYPE => service_let(conn, env, decode(env)?, now),
        ServiceContractExtended::TYPE => service_extended(conn, env, decode(env)?, now),
        ServiceContractVaried::TYPE => service_varied(conn, env, decode(env)?, now),
        ServiceContractTerminated::TYPE => service_terminated(conn, env, decode(env)?, now),
        _ => Ok(()),
    }
}

fn refuse(message: String) -> DbError {
    anyhow::anyhow!(message).into()
}

/// What a fact is about: the source whose ledger lines it changes (a bed's are its block
/// contract's). Displayed as refusals name it, e.g. `service contract <id>`.
#[derive(Clone, Copy)]
enum Subject<'a> {
    /// A placement, with the council the fact names (it must be the placement's).
    Placement {
        id: &'a str,
        council: &'a str,
    },
    Block(&'a str),
    Bed(Bed<'a>),
    Service(&'a str),
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
            Subject::Placement { id, .. } => commitments::recompute_placement(conn, id, cause),
            Subject::Block(id) | Subject::Bed(Bed { block: id, .. }) => {
                commitments::recompute_block(conn, id, cause)
            }
            Subject::Service(id) => commitments::recompute_service_contract(conn, id, cause),
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
        Err(refuse(format!(
            "{subject}: council {council} is not a member of partnership `{}`",
            env.partnership
        )))
    }
}

/// Money finance can cost: `value` within `min..=max`, else the fact is refused saying so.
fn costable(value: i64, what: &str, min: Pence, max: Pence) -> Result<(), DbError> {
    Pence(value)
        .check_range(what, min, max)
        .map(|_| ())
        .map_err(|e| refuse(format!("{what} {}: finance does not cost it", e.message)))
}

/// A weekly rate or extra: £0.00 to £100,000.00.
fn weekly(value: i64, what: &str) -> Result<(), DbError> {
    costable(value, what, Pence::ZERO, Pence::MAX_WEEKLY)
}

/// A contract's value or added value: £0 to £100bn (the most a budget line may hold).
fn contract_value(value: i64, what: &str) -> Result<(), DbError> {
    costable(value, what, Pence::ZERO, Pence(MAX_LINE_PENCE))
}

/// A contract's term must not end before it starts.
fn term(subject: Subject<'_>, start: NaiveDate, end: NaiveDate) -> Result<(), DbError> {
    if end < start {
        Err(refuse(format!("{subject} ends before it starts")))
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
        Err(refuse(format!(
            "{subject}: the extension does not run past the previous end"
        )))
    } else {
        Ok(())
    }
}

/// A fact about a placement must match the placement's partnership and council.
fn same_placement(
    conn: &mut DbConnection,
    env: &Envelope,
    placement_id: &str,
    council: &str,
) -> Result<Option<PlacementRow>, DbError> {
    let p = facts::placement(conn, placement_id)?;
    if let Some(p) = &p
        && (p.partnership != env.partnership || p.council != council)
    {
        return Err(refuse(format!(
            "placement {placement_id} was started for {} in `{}`, not {council} in `{}`",
            p.council, p.partnership, env.partnership
        )));
    }
    Ok(p)
}

/// The block contract, if it has been let, which must be in the envelope's partnership.
fn same_block(
    conn: &mut DbConnection,
    env: &Envelope,
    id: &str,
) -> Result<Option<BlockContractRow>, DbError> {
    match facts::block_contract(conn, id)? {
        Some(b) if b.partnership != env.partnership => Err(refuse(format!(
            "block contract {id} was let in `{}`, not `{}`",
            b.partnership, env.partnership
        ))),
        other => Ok(other),
    }
}

/// A bed of a block contract (numbered from 1).
#[derive(Clone, Copy)]
struct Bed<'a> {
    block: &'a str,
    number: u16,
}

/// A bed event must name a bed of the block contract (if it has been let) in its partnership.
fn check_bed(conn: &mut DbConnection, env: &Envelope, bed: Bed<'_>) -> Result<(), DbError> {
    let Bed { block, number } = bed;
    if let Some(b) = same_block(conn, env, block)? {
        if number == 0 || i32::from(number) > b.beds {
            return Err(refuse(format!(
                "block contract {block} has beds 1 to {}, not {number}",
                b.beds
            )));
        }
    } else if number == 0 {
        return Err(refuse(format!(
            "block beds are numbered from 1, not {number}"
        )));
    }
    Ok(())
}

/// What a bed is from a day on.
#[derive(Clone, Copy)]
enum BedState<'a> {
    /// Used by a placement of the council's child.
    Filled {
        council: &'a str,
        placement_id: &'a str,
    },
    /// Empty, held for a council (`None`: held as before).
    Void { holder: Option<&'a str> },
}

/// Records a bed's state from a day (`replace` as [`facts::put_bed_event`]); false if what
/// was recorded stands.
fn put_bed(
    conn: &mut DbConnection,
    env: &Envelope,
    bed: Bed<'_>,
    from: NaiveDate,
    state: BedState<'_>,
    replace: bool,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let (state, council, placement_id) = match state {
        BedState::Filled {
            council,
            placement_id,
        } => ("filled", Some(council), Some(placement_id)),
        BedState::Void { holder } => ("void", holder, None),
    };
    facts::put_bed_event(
        conn,
        &BedEventRow {
            block_contract_id: bed.block.to_owned(),
            bed: i32::from(bed.number),
            effective_from: from,
            state: state.to_owned(),
            partnership: env.partnership.clone(),
            council: council.map(str::to_owned),
            placement_id: placement_id.map(str::to_owned),
            created_at: now,
        },
        replace,
    )
}

/// A block placement's end: the bed is void from the next day, held as before (unless a
/// `bed_void` for that day says for whom).
fn put_void_after(
    conn: &mut DbConnection,
    env: &Envelope,
    bed: Bed<'_>,
    end: NaiveDate,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let from = end.succ_opt().expect("dates continue");
    put_bed(
        conn,
        env,
        bed,
        from,
        BedState::Void { holder: None },
        false,
        now,
    )
}

fn placement_started(
    conn: &mut DbConnection,
    env: &Envelope,
    e: PlacementStarted,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let id = e.placement_id.to_string();
    let placement = Subject::Placement {
        id: &id,
        council: &e.council,
    };
    member(env, &e.council, placement)?;
    weekly(e.weekly_rate_pence, "the weekly rate")?;
    weekly(e.extras_weekly_pence, "the weekly extras")?;
    if let Some(b) = e.block_contract_id {
        Subject::Block(&b.to_string()).lock(conn)?;
    }
    placement.lock(conn)?;
    let block = match (e.block_contract_id, e.bed) {
        (Some(b), Some(bed)) => Some((b.to_string(), bed)),
        (None, None) => None,
        _ => {
            return Err(refuse(format!(
                "placement {id} names a block contract without a bed, or a bed without one"
            )));
        }
    };
    let bed = block.as_ref().map(|(block, number)| Bed {
        block,
        number: *number,
    });
    if let Some(bed) = bed {
        check_bed(conn, env, bed)?;
    }
    let inserted = facts::insert_placement(
        conn,
        &PlacementRow {
            placement_id: id.clone(),
            partnership: env.partnership.clone(),
            council: e.council.clone(),
            provider_id: e.provider_id.clone(),
            order_id: e.order_id.map(|o| o.to_string()),
            referral_id: Some(e.referral_id.to_string()),
            block_contract_id: bed.map(|b| b.block.to_owned()),
            bed: bed.map(|b| i32::from(b.number)),
            start_date: e.start_date,
            weekly_rate_pence: e.weekly_rate_pence,
            extras_weekly_pence: e.extras_weekly_pence,
            created_at: now,
        },
    )?;
    if !inserted {
        // The inbox covers redelivery; this covers the same placement announced twice.
        tracing::warn!(placement_id = %id, "placement already recorded; skipped");
        return Ok(());
    }
    // Rate changes or an end may have arrived first: the end must be checked against this
    // placement's council too.
    if let Some(end) = facts::placement_end(conn, &id)?
        && (end.partnership != env.partnership || end.council != e.council)
    {
        return Err(refuse(format!(
            "placement {id} ended for {} in `{}` but started for {} in `{}`",
            end.council, end.partnership, e.council, env.partnership
        )));
    }
    match bed {
        Some(bed) => {
            let filled = BedState::Filled {
                council: &e.council,
                placement_id: &id,
            };
            put_bed(conn, env, bed, e.start_date, filled, true, now)?;
            if let Some(end) = facts::placement_end(conn, &id)? {
                put_void_after(conn, env, bed, end.end_date, now)?;
            }
            Subject::Bed(bed).recompute(conn, env)?;
        }
        None => {
            placement.recompute(conn, env)?;
        }
    }
    Ok(())
}

fn rate_changed(
    conn: &mut DbConnection,
    env: &Envelope,
    e: PlacementRateChanged,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let id = e.placement_id.to_string();
    let placement = Subject::Placement {
        id: &id,
        council: &e.council,
    };
    member(env, &e.council, placement)?;
    weekly(e.weekly_rate_pence, "the weekly rate")?;
    weekly(e.extras_weekly_pence, "the weekly extras")?;
    let row = RateChangeRow {
        placement_id: id.clone(),
        ipa_version: e.ipa_version as i32,
        partnership: env.partnership.clone(),
        council: e.council.clone(),
        effective_from: e.effective_from,
        weekly_rate_pence: e.weekly_rate_pence,
        extras_weekly_pence: e.extras_weekly_pence,
        created_at: now,
    };
    keep(conn, env, placement, |conn| {
        facts::insert_rate_change(conn, &row)
    })
}

fn placement_ended(
    conn: &mut DbConnection,
    env: &Envelope,
    e: PlacementEnded,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let id = e.placement_id.to_string();
    let subject = Subject::Placement {
        id: &id,
        council: &e.council,
    };
    member(env, &e.council, subject)?;
    // A block placement's end changes the block's lines: its lock is taken first, as the
    // start takes it, whether the event names the block or the placement recorded it.
    let recorded_block = facts::placement(conn, &id)?.and_then(|p| p.block_contract_id);
    if let Some(b) = e
        .block_contract_id
        .map(|b| b.to_string())
        .or(recorded_block)
    {
        Subject::Block(&b).lock(conn)?;
    }
    subject.lock(conn)?;
    let placement = same_placement(conn, env, &id, &e.council)?;
    facts::upsert_placement_end(
        conn,
        &PlacementEndRow {
            placement_id: id.clone(),
            partnership: env.partnership.clone(),
            council: e.council.clone(),
            end_date: e.end_date,
            reason: e.reason.clone(),
            created_at: now,
        },
    )?;
    let block = match (e.block_contract_id, e.bed) {
        (Some(b), Some(bed)) => Some((b.to_string(), bed)),
        _ => placement
            .as_ref()
            .and_then(|p| Some((p.block_contract_id.clone()?, u16::try_from(p.bed?).ok()?))),
    };
    match block {
        Some((block, number)) => {
            let bed = Bed {
                block: &block,
                number,
            };
            check_bed(conn, env, bed)?;
            put_void_after(conn, env, bed, e.end_date, now)?;
            Subject::Bed(bed).recompute(conn, env)?;
        }
        None => {
            subject.recompute(conn, env)?;
        }
    }
    Ok(())
}

fn block_let(
    conn: &mut DbConnection,
    env: &Envelope,
    e: BlockContractLet,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let id = e.block_contract_id.to_string();
    let block = Subject::Block(&id);
    member(env, &e.lead_council, block)?;
    weekly(e.block_weekly_rate_pence, "the block weekly rate")?;
    weekly(e.spot_weekly_rate_pence, "the spot weekly rate")?;
    if e.beds == 0 {
        return Err(refuse(format!("block contract {id} has no beds")));
    }
    term(block, e.start_date, e.end_date)?;
    block.lock(conn)?;
    let inserted = facts::insert_block_contract(
        conn,
        &BlockContractRow {
            block_contract_id: id.clone(),
            partnership: env.partnership.clone(),
            lead_council: e.lead_council.clone(),
            provider_id: e.provider_id.clone(),
            beds: i32::from(e.beds),
            block_weekly_rate_pence: e.block_weekly_rate_pence,
            spot_weekly_rate_pence: e.spot_weekly_rate_pence,
            start_date: e.start_date,
            end_date: e.end_date,
            planned_annual_saving_pence: e.planned_annual_saving_pence,
            created_at: now,
        },
    )?;
    if !inserted {
        tracing::warn!(block_contract_id = %id, "block contract already recorded; skipped");
        return Ok(());
    }
    // Bed events that arrived first must be in this partnership and on its beds.
    for b in facts::bed_events_of(conn, &id)? {
        if b.partnership != env.partnership || b.bed < 1 || b.bed > i32::from(e.beds) {
            return Err(refuse(format!(
                "block contract {id}: an earlier event for bed {} in `{}` does not fit it",
                b.bed, b.partnership
            )));
        }
    }
    block.recompute(conn, env)?;
    Ok(())
}

/// An extension option used: the beds are committed to the new end. Kept as a fact if it
/// arrives before the contract, and applied when the contract is recorded.
fn block_extended(
    conn: &mut DbConnection,
    env: &Envelope,
    e: BlockContractExtended,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let id = e.block_contract_id.to_string();
    let block = Subject::Block(&id);
    member(env, &e.lead_council, block)?;
    extends(block, e.previous_end_date, e.new_end_date)?;
    let row = BlockExtensionRow {
        block_contract_id: id.clone(),
        extensions_used: i32::from(e.extensions_used),
        partnership: env.partnership.clone(),
        previous_end_date: e.previous_end_date,
        new_end_date: e.new_end_date,
        created_at: now,
    };
    keep(conn, env, block, |conn| {
        facts::insert_block_extension(conn, &row)
    })
}

/// `contract.bed_filled` and `contract.bed_void`: the council must be a member and the bed
/// the block contract's; the state replaces what was recorded for that bed, day and state.
fn bed_changed(
    conn: &mut DbConnection,
    env: &Envelope,
    bed: Bed<'_>,
    council: &str,
    from: NaiveDate,
    state: BedState<'_>,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    member(env, council, Subject::Bed(bed))?;
    keep(conn, env, Subject::Bed(bed), |conn| {
        put_bed(conn, env, bed, from, state, true, now)
    })
}

fn bed_filled(
    conn: &mut DbConnection,
    env: &Envelope,
    e: BedFilled,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let (block, placement_id) = (e.block_contract_id.to_string(), e.placement_id.to_string());
    let bed = Bed {
        block: &block,
        number: e.bed,
    };
    let filled = BedState::Filled {
        council: &e.council,
        placement_id: &placement_id,
    };
    bed_changed(conn, env, bed, &e.council, e.filled_on, filled, now)
}

fn bed_void(
    conn: &mut DbConnection,
    env: &Envelope,
    e: BedVoid,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let block = e.block_contract_id.to_string();
    let bed = Bed {
        block: &block,
        number: e.bed,
    };
    let void = BedState::Void {
        holder: Some(&e.council),
    };
    bed_changed(conn, env, bed, &e.council, e.void_from, void, now)
}

fn service_let(
    conn: &mut DbConnection,
    env: &Envelope,
    e: ServiceContractLet,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let id = e.contract_id.to_string();
    let contract = Subject::Service(&id);
    member(env, &e.lead_council, contract)?;
    contract_value(e.value_pence, "the contract value")?;
    term(contract, e.start_date, e.end_date)?;
    contract.lock(conn)?;
    if !crate::domain::is_code(&e.budget_line) {
        return Err(refuse(format!(
            "service contract {id}: budget line `{}` is not a code such as commissioned_adoption_support",
            e.budget_line
        )));
    }
    let inserted = facts::insert_service_contract(
        conn,
        &ServiceContractRow {
            contract_id: id.clone(),
            partnership: env.partnership.clone(),
            lead_council: e.lead_council.clone(),
            provider_id: e.provider_id.clone(),
            budget_line: e.budget_line.clone(),
            value_pence: e.value_pence,
            start_date: e.start_date,
            end_date: e.end_date,
            created_at: now,
        },
    )?;
    if !inserted {
        tracing::warn!(contract_id = %id, "service contract already recorded; skipped");
        return Ok(());
    }
    // Facts that arrived first must be in this partnership.
    let earlier = facts::extensions(conn, &id)?
        .into_iter()
        .map(|x| ("an extension", x.partnership))
        .chain(
            facts::variations(conn, &id)?
                .into_iter()
                .map(|v| ("a variation", v.partnership)),
        )
        .chain(facts::termination(conn, &id)?.map(|t| ("a termination", t.partnership)));
    for (fact, partnership) in earlier {
        if partnership != env.partnership {
            return Err(refuse(format!(
                "service contract {id}: {fact} in `{partnership}`"
            )));
        }
    }
    contract.recompute(conn, env)?;
    Ok(())
}

/// A fact about a service contract must be in the contract's partnership (if it was let).
fn same_contract(conn: &mut DbConnection, env: &Envelope, id: &str) -> Result<(), DbError> {
    match facts::service_contract(conn, id)? {
        Some(c) if c.partnership != env.partnership => Err(refuse(format!(
            "service contract {id} was let in `{}`, not `{}`",
            c.partnership, env.partnership
        ))),
        _ => Ok(()),
    }
}

fn service_extended(
    conn: &mut DbConnection,
    env: &Envelope,
    e: ServiceContractExtended,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let id = e.contract_id.to_string();
    let contract = Subject::Service(&id);
    member(env, &e.lead_council, contract)?;
    contract_value(e.added_value_pence, "the added value")?;
    extends(contract, e.previous_end_date, e.new_end_date)?;
    let row = ExtensionRow {
        contract_id: id.clone(),
        extensions_used: i32::from(e.extensions_used),
        partnership: env.partnership.clone(),
        previous_end_date: e.previous_end_date,
        new_end_date: e.new_end_date,
        added_value_pence: e.added_value_pence,
        created_at: now,
    };
    keep(conn, env, contract, |conn| {
        facts::insert_extension(conn, &row)
    })
}

/// A variation of the contract's value, phased by day over `effective_on ..= phased_to` and
/// cut by a termination as the contract's value is. Kept as a fact if it arrives before the
/// contract, and applied when the contract is recorded.
fn service_varied(
    conn: &mut DbConnection,
    env: &Envelope,
    e: ServiceContractVaried,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let id = e.contract_id.to_string();
    let contract = Subject::Service(&id);
    member(env, &e.lead_council, contract)?;
    costable(
        e.value_change_pence,
        "the value change",
        Pence(-MAX_LINE_PENCE),
        Pence(MAX_LINE_PENCE),
    )?;
    if e.phased_to < e.effective_on {
        return Err(refuse(format!(
            "service contract {id}: variation {} is phased to {}, before it takes effect on {}",
            e.variation_id, e.phased_to, e.effective_on
        )));
    }
    let row = VariationRow {
        contract_id: id.clone(),
        variation_id: e.variation_id.to_string(),
        partnership: env.partnership.clone(),
        effective_on: e.effective_on,
        phased_to: e.phased_to,
        value_change_pence: e.value_change_pence,
        created_at: now,
    };
    keep(conn, env, contract, |conn| {
        facts::insert_variation(conn, &row)
    })
}

fn service_terminated(
    conn: &mut DbConnection,
    env: &Envelope,
    e: ServiceContractTerminated,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let id = e.contract_id.to_string();
    let contract = Subject::Service(&id);
    member(env, &e.lead_council, contract)?;
    let row = TerminationRow {
        contract_id: id.clone(),
        partnership: env.partnership.clone(),
        terminated_on: e.terminated_on,
        reason: e.reason.clone(),
        created_at: now,
    };
    keep(conn, env, contract, |conn| {
        facts::insert_termination(conn, &row)
    })
}
