//! Facts about placements under an order: a start, rate changes (IPA versions), an end. A
//! block placement's facts move its bed, and so its block contract's lines.

use hub_bus::Events;
use hub_events::{Envelope, PlacementEnded, PlacementRateChanged, PlacementStarted};
use hub_platform::{
    Pence,
    db::{DbConnection, DbError},
};

use super::{
    Subject,
    blocks::{Bed, BedState, check_bed, put_bed, put_void_after},
    keep, member, weekly,
};
use crate::{
    domain::facts::{Placement, PlacementEnd, RateChange},
    ids::{BlockContractId, PlacementId},
    store::facts,
};

/// A fact about a placement must match the placement's partnership and council.
pub(super) fn same_placement(
    conn: &mut DbConnection,
    env: &Envelope,
    placement_id: PlacementId,
    council: &str,
) -> Result<Option<Placement>, DbError> {
    let p = facts::placement(conn, placement_id)?;
    if let Some(p) = &p
        && (p.partnership != env.partnership || p.council != council)
    {
        return Err(DbError::refused(format!(
            "placement {placement_id} was started for {} in `{}`, not {council} in `{}`",
            p.council, p.partnership, env.partnership
        )));
    }
    Ok(p)
}

pub(super) fn placement_started(
    conn: &mut DbConnection,
    env: &Envelope,
    e: PlacementStarted,
    _events: &mut Events,
) -> Result<(), DbError> {
    let id = PlacementId(e.placement_id);
    let placement = Subject::Placement {
        id,
        council: &e.council,
    };
    member(env, &e.council, placement)?;
    let (rate, extras) = (Pence(e.weekly_rate_pence), Pence(e.extras_weekly_pence));
    weekly(rate, "the weekly rate")?;
    weekly(extras, "the weekly extras")?;
    if let Some(b) = e.block_contract_id {
        Subject::Block(BlockContractId(b)).lock(conn)?;
    }
    placement.lock(conn)?;
    let bed = match (e.block_contract_id, e.bed) {
        (Some(b), Some(number)) => Some(Bed {
            block: BlockContractId(b),
            number,
        }),
        (None, None) => None,
        _ => {
            return Err(DbError::refused(format!(
                "placement {id} names a block contract without a bed, or a bed without one"
            )));
        }
    };
    if let Some(bed) = bed {
        check_bed(conn, env, bed)?;
    }
    let inserted = facts::insert_placement(
        conn,
        Placement {
            placement_id: id,
            partnership: env.partnership.clone(),
            council: e.council.clone(),
            provider_id: e.provider_id.clone(),
            order_id: e.order_id.map(Into::into),
            referral_id: Some(e.referral_id.into()),
            block_contract_id: bed.map(|b| b.block),
            bed: bed.map(|b| i32::from(b.number)),
            start_date: e.start_date,
            weekly_rate_pence: rate,
            extras_weekly_pence: extras,
        },
    )?;
    if !inserted {
        // The inbox covers redelivery; this covers the same placement announced twice.
        tracing::warn!(placement_id = %id, "placement already recorded; skipped");
        return Ok(());
    }
    // Rate changes or an end may have arrived first: the end must be checked against this
    // placement's council too.
    if let Some(end) = facts::placement_end(conn, id)?
        && (end.partnership != env.partnership || end.council != e.council)
    {
        return Err(DbError::refused(format!(
            "placement {id} ended for {} in `{}` but started for {} in `{}`",
            end.council, end.partnership, e.council, env.partnership
        )));
    }
    match bed {
        Some(bed) => {
            let filled = BedState::Filled {
                council: &e.council,
                placement_id: id,
            };
            put_bed(conn, env, bed, e.start_date, filled, true)?;
            if let Some(end) = facts::placement_end(conn, id)? {
                put_void_after(conn, env, bed, end.end_date)?;
            }
            Subject::Bed(bed).recompute(conn, env)?;
        }
        None => {
            placement.recompute(conn, env)?;
        }
    }
    Ok(())
}

pub(super) fn rate_changed(
    conn: &mut DbConnection,
    env: &Envelope,
    e: PlacementRateChanged,
    _events: &mut Events,
) -> Result<(), DbError> {
    let id = PlacementId(e.placement_id);
    let placement = Subject::Placement {
        id,
        council: &e.council,
    };
    member(env, &e.council, placement)?;
    let (rate, extras) = (Pence(e.weekly_rate_pence), Pence(e.extras_weekly_pence));
    weekly(rate, "the weekly rate")?;
    weekly(extras, "the weekly extras")?;
    let fact = RateChange {
        placement_id: id,
        ipa_version: e.ipa_version as i32,
        partnership: env.partnership.clone(),
        council: e.council.clone(),
        effective_from: e.effective_from,
        weekly_rate_pence: rate,
        extras_weekly_pence: extras,
    };
    keep(conn, env, placement, |conn| {
        facts::insert_rate_change(conn, fact)
    })
}

pub(super) fn placement_ended(
    conn: &mut DbConnection,
    env: &Envelope,
    e: PlacementEnded,
    _events: &mut Events,
) -> Result<(), DbError> {
    let id = PlacementId(e.placement_id);
    let subject = Subject::Placement {
        id,
        council: &e.council,
    };
    member(env, &e.council, subject)?;
    // A block placement's end changes the block's lines: its lock is taken first, as the
    // start takes it, whether the event names the block or the placement recorded it.
    let recorded_block = facts::placement(conn, id)?.and_then(|p| p.block_contract_id);
    if let Some(b) = e.block_contract_id.map(BlockContractId).or(recorded_block) {
        Subject::Block(b).lock(conn)?;
    }
    subject.lock(conn)?;
    let placement = same_placement(conn, env, id, &e.council)?;
    facts::upsert_placement_end(
        conn,
        PlacementEnd {
            placement_id: id,
            partnership: env.partnership.clone(),
            council: e.council.clone(),
            end_date: e.end_date,
            reason: e.reason.clone(),
        },
    )?;
    let block = match (e.block_contract_id, e.bed) {
        (Some(b), Some(bed)) => Some((BlockContractId(b), bed)),
        _ => placement
            .as_ref()
            .and_then(|p| Some((p.block_contract_id?, u16::try_from(p.bed?).ok()?))),
    };
    match block {
        Some((block, number)) => {
            let bed = Bed { block, number };
            check_bed(conn, env, bed)?;
            put_void_after(conn, env, bed, e.end_date)?;
            Subject::Bed(bed).recompute(conn, env)?;
        }
        None => {
            subject.recompute(conn, env)?;
        }
    }
    Ok(())
}
