//! Facts about block contracts: the letting, extensions used, and each bed's state from a
//! day on (filled by a placement, or void and held for a council).

use chrono::NaiveDate;
use hub_bus::Events;
use hub_events::{BedFilled, BedVoid, BlockContractExtended, BlockContractLet, Envelope};
use hub_platform::{
    Pence,
    db::{DbConnection, DbError},
};

use super::{Subject, extends, keep, member, term, weekly};
use crate::{
    domain::{
        facts::{BedRecord, BlockContract, BlockExtension},
        ledger::BedStatus,
    },
    ids::{BlockContractId, PlacementId},
    store::facts,
};

/// The block contract, if it has been let, which must be in the envelope's partnership.
pub(super) fn same_block(
    conn: &mut DbConnection,
    env: &Envelope,
    id: BlockContractId,
) -> Result<Option<BlockContract>, DbError> {
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
pub(super) struct Bed {
    pub(super) block: BlockContractId,
    pub(super) number: u16,
}

/// A bed event must name a bed of the block contract (if it has been let) in its partnership.
pub(super) fn check_bed(conn: &mut DbConnection, env: &Envelope, bed: Bed) -> Result<(), DbError> {
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
        placement_id: PlacementId,
    },
    /// Empty, held for a council (`None`: held as before).
    Void { holder: Option<&'a str> },
}

/// Records a bed's state from a day (`replace` as [`facts::put_bed_event`]); false if what
/// was recorded stands.
pub(super) fn put_bed(
    conn: &mut DbConnection,
    env: &Envelope,
    bed: Bed,
    from: NaiveDate,
    state: BedState<'_>,
    replace: bool,
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
        BedRecord {
            block_contract_id: bed.block,
            bed: i32::from(bed.number),
            effective_from: from,
            state,
            partnership: env.partnership.clone(),
            council: council.map(str::to_owned),
            placement_id,
        },
        replace,
    )
}

/// A block placement's end: the bed is void from the next day, held as before (unless a
/// `bed_void` for that day says for whom).
pub(super) fn put_void_after(
    conn: &mut DbConnection,
    env: &Envelope,
    bed: Bed,
    end: NaiveDate,
) -> Result<bool, DbError> {
    let from = end.succ_opt().expect("dates continue");
    put_bed(conn, env, bed, from, BedState::Void { holder: None }, false)
}

pub(super) fn block_let(
    conn: &mut DbConnection,
    env: &Envelope,
    e: BlockContractLet,
    _events: &mut Events,
) -> Result<(), DbError> {
    let id = BlockContractId(e.block_contract_id);
    let block = Subject::Block(id);
    member(env, &e.lead_council, block)?;
    let (block_rate, spot_rate) = (
        Pence(e.block_weekly_rate_pence),
        Pence(e.spot_weekly_rate_pence),
    );
    weekly(block_rate, "the block weekly rate")?;
    weekly(spot_rate, "the spot weekly rate")?;
    if e.beds == 0 {
        return Err(DbError::refused(format!("block contract {id} has no beds")));
    }
    term(block, e.start_date, e.end_date)?;
    block.lock(conn)?;
    let inserted = facts::insert_block_contract(
        conn,
        BlockContract {
            block_contract_id: id,
            partnership: env.partnership.clone(),
            lead_council: e.lead_council.clone(),
            provider_id: e.provider_id.clone(),
            beds: i32::from(e.beds),
            block_weekly_rate_pence: block_rate,
            spot_weekly_rate_pence: spot_rate,
            start_date: e.start_date,
            end_date: e.end_date,
            planned_annual_saving_pence: Pence(e.planned_annual_saving_pence),
        },
    )?;
    if !inserted {
        tracing::warn!(block_contract_id = %id, "block contract already recorded; skipped");
        return Ok(());
    }
    // Bed events that arrived first must be in this partnership and on its beds.
    for b in facts::bed_events_of(conn, id)? {
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
    let id = BlockContractId(e.block_contract_id);
    let block = Subject::Block(id);
    member(env, &e.lead_council, block)?;
    extends(block, e.previous_end_date, e.new_end_date)?;
    let fact = BlockExtension {
        block_contract_id: id,
        extensions_used: i32::from(e.extensions_used),
        partnership: env.partnership.clone(),
        previous_end_date: e.previous_end_date,
        new_end_date: e.new_end_date,
    };
    keep(conn, env, block, |conn| {
        facts::insert_block_extension(conn, fact)
    })
}

/// `contract.bed_filled` and `contract.bed_void`: the council must be a member and the bed
/// the block contract's; the state replaces what was recorded for that bed, day and state.
pub(super) fn bed_changed(
    conn: &mut DbConnection,
    env: &Envelope,
    bed: Bed,
    council: &str,
    from: NaiveDate,
    state: BedState<'_>,
) -> Result<(), DbError> {
    member(env, council, Subject::Bed(bed))?;
    keep(conn, env, Subject::Bed(bed), |conn| {
        put_bed(conn, env, bed, from, state, true)
    })
}

pub(super) fn bed_filled(
    conn: &mut DbConnection,
    env: &Envelope,
    e: BedFilled,
    _events: &mut Events,
) -> Result<(), DbError> {
    let bed = Bed {
        block: BlockContractId(e.block_contract_id),
        number: e.bed,
    };
    let filled = BedState::Filled {
        council: &e.council,
        placement_id: PlacementId(e.placement_id),
    };
    bed_changed(conn, env, bed, &e.council, e.filled_on, filled)
}

pub(super) fn bed_void(
    conn: &mut DbConnection,
    env: &Envelope,
    e: BedVoid,
    _events: &mut Events,
) -> Result<(), DbError> {
    let bed = Bed {
        block: BlockContractId(e.block_contract_id),
        number: e.bed,
    };
    let void = BedState::Void {
        holder: Some(&e.council),
    };
    bed_changed(conn, env, bed, &e.council, e.void_from, void)
}
