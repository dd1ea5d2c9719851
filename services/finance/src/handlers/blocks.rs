//! Facts about block contracts: the letting, extensions used, and each bed's state from a
//! day on (filled by a placement, or void and held for a council).

use chrono::{NaiveDate, NaiveDateTime, Utc};
use hub_bus::Events;
use hub_events::{BedFilled, BedVoid, BlockContractExtended, BlockContractLet, Envelope};
use hub_platform::db::{DbConnection, DbError};

use super::{Subject, extends, keep, member, term, weekly};
use crate::domain::ledger::BedStatus;
use crate::store::facts::{self, BedEventRow, BlockContractRow, BlockExtensionRow};

/// The block contract, if it has been let, which must be in the envelope's partnership.
pub(super) fn same_block(
    conn: &mut DbConnection,
    env: &Envelope,
    id: &str,
) -> Result<Option<BlockContractRow>, DbError> {
    match facts::block_contract(conn, id)? {
        Some(b) if b.partnership != env.partnership => Err(DbError::refused(format!(
            "block contract {id} was let in `{}`, not `{}`",
            b.partnership, env.partnership
        ))),
        other => Ok(other),
    }
}

/// A bed of a block contract (numbered from 1).
#[derive(Clone, Copy)]
pub(super) struct Bed<'a> {
    pub(super) block: &'a str,
    pub(super) number: u16,
}

/// A bed event must name a bed of the block contract (if it has been let) in its partnership.
pub(super) fn check_bed(
    conn: &mut DbConnection,
    env: &Envelope,
    bed: Bed<'_>,
) -> Result<(), DbError> {
    let Bed { block, number } = bed;
    if let Some(b) = same_block(conn, env, block)? {
        if number == 0 || i32::from(number) > b.beds {
            return Err(DbError::refused(format!(
                "block contract {block} has beds 1 to {}, not {number}",
                b.beds
            )));
        }
    } else if number == 0 {
        return Err(DbError::refused(format!(
            "block beds are numbered from 1, not {number}"
        )));
    }
    Ok(())
}

/// What a bed is from a day on.
#[derive(Clone, Copy)]
pub(super) enum BedState<'a> {
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
pub(super) fn put_bed(
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
        } => (BedStatus::Filled, Some(council), Some(placement_id)),
        BedState::Void { holder } => (BedStatus::Void, holder, None),
    };
    facts::put_bed_event(
        conn,
        &BedEventRow {
            block_contract_id: bed.block.to_owned(),
            bed: i32::from(bed.number),
            effective_from: from,
            state,
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
pub(super) fn put_void_after(
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

pub(super) fn block_let(
    conn: &mut DbConnection,
    env: &Envelope,
    e: BlockContractLet,
    _events: &mut Events,
) -> Result<(), DbError> {
    let now = Utc::now().naive_utc();
    let id = e.block_contract_id.to_string();
    let block = Subject::Block(&id);
    member(env, &e.lead_council, block)?;
    weekly(e.block_weekly_rate_pence, "the block weekly rate")?;
    weekly(e.spot_weekly_rate_pence, "the spot weekly rate")?;
    if e.beds == 0 {
        return Err(DbError::refused(format!("block contract {id} has no beds")));
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
            return Err(DbError::refused(format!(
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
pub(super) fn block_extended(
    conn: &mut DbConnection,
    env: &Envelope,
    e: BlockContractExtended,
    _events: &mut Events,
) -> Result<(), DbError> {
    let now = Utc::now().naive_utc();
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
pub(super) fn bed_changed(
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

pub(super) fn bed_filled(
    conn: &mut DbConnection,
    env: &Envelope,
    e: BedFilled,
    _events: &mut Events,
) -> Result<(), DbError> {
    let now = Utc::now().naive_utc();
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

pub(super) fn bed_void(
    conn: &mut DbConnection,
    env: &Envelope,
    e: BedVoid,
    _events: &mut Events,
) -> Result<(), DbError> {
    let now = Utc::now().naive_utc();
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
