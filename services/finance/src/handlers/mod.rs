//! Event consumers of the finance service: every money-bearing contract event is kept as a
//! fact and the source it belongs to is recomputed (see [`commitments`]).
//!
//! Refused (retried, then dead-lettered, nothing written): a council, lead council or bed
//! holder that is not a member of the envelope's partnership; a negative rate or value; a
//! term that ends before it starts; a block placement without its bed, or a bed the block
//! contract does not have; a fact about a placement or contract filed under another
//! partnership or council than the one it was started or let in; a service contract's
//! variation phased to a day before it takes effect. Facts that arrive before their placement
//! or contract (a rate change, an end, a bed event, an extension, a variation, a termination)
//! are kept and take effect when it arrives: no retry is needed for order.

pub mod commitments;

use chrono::{NaiveDateTime, Utc};
use hub_bus::{Events, Store, Subscription};
use hub_events::{
    BedFilled, BedVoid, BlockContractExtended, BlockContractLet, Envelope, Event, PlacementEnded,
    PlacementRateChanged, PlacementStarted, ServiceContractExtended, ServiceContractLet,
    ServiceContractTerminated, ServiceContractVaried,
};
use hub_platform::{
    db::{DbConnection, DbError},
    directory,
};

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

/// Ledger lines are shown to the partnership named in the envelope: refuse rather than file
/// a council's money under a partnership it is not in.
fn member(env: &Envelope, council: &str, what: &str) -> Result<(), DbError> {
    if directory::partnership(&env.partnership).is_some_and(|p| p.has_member(council)) {
        Ok(())
    } else {
        Err(refuse(format!(
            "{what}: council {council} is not a member of partnership `{}`",
            env.partnership
        )))
    }
}

fn not_negative(value: i64, what: &str) -> Result<(), DbError> {
    if value < 0 {
        Err(refuse(format!("{what} is negative")))
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

/// A bed event must name a bed of the block contract (if it has been let) in its partnership.
fn check_bed(
    conn: &mut DbConnection,
    env: &Envelope,
    block_contract_id: &str,
    bed: u16,
) -> Result<(), DbError> {
    if let Some(b) = same_block(conn, env, block_contract_id)? {
        if bed == 0 || i32::from(bed) > b.beds {
            return Err(refuse(format!(
                "block contract {block_contract_id} has beds 1 to {}, not {bed}",
                b.beds
            )));
        }
    } else if bed == 0 {
        return Err(refuse(format!("block beds are numbered from 1, not {bed}")));
    }
    Ok(())
}

fn placement_started(
    conn: &mut DbConnection,
    env: &Envelope,
    e: PlacementStarted,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let id = e.placement_id.to_string();
    member(env, &e.council, &format!("placement {id}"))?;
    not_negative(e.weekly_rate_pence, "the weekly rate")?;
    not_negative(e.extras_weekly_pence, "the weekly extras")?;
    if let Some(b) = e.block_contract_id {
        facts::lock_source(conn, "block", &b.to_string())?;
    }
    facts::lock_source(conn, "placement", &id)?;
    let block = match (e.block_contract_id, e.bed) {
        (Some(b), Some(bed)) => Some((b.to_string(), bed)),
        (None, None) => None,
        _ => {
            return Err(refuse(format!(
                "placement {id} names a block contract without a bed, or a bed without one"
            )));
        }
    };
    if let Some((b, bed)) = &block {
        check_bed(conn, env, b, *bed)?;
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
            block_contract_id: block.as_ref().map(|b| b.0.clone()),
            bed: block.as_ref().map(|b| i32::from(b.1)),
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
    match block {
        Some((b, bed)) => {
            put_bed(
                conn,
                env,
                &b,
                bed,
                e.start_date,
                "filled",
                Some(&e.council),
                Some(&id),
                true,
                now,
            )?;
            if let Some(end) = facts::placement_end(conn, &id)? {
                put_void_after(conn, env, &b, bed, end.end_date, now)?;
            }
            commitments::recompute_block(conn, &b)?;
        }
        None => {
            commitments::recompute_placement(conn, &id)?;
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn put_bed(
    conn: &mut DbConnection,
    env: &Envelope,
    block_contract_id: &str,
    bed: u16,
    from: chrono::NaiveDate,
    state: &str,
    council: Option<&str>,
    placement_id: Option<&str>,
    replace: bool,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    facts::put_bed_event(
        conn,
        &BedEventRow {
            block_contract_id: block_contract_id.to_owned(),
            bed: i32::from(bed),
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
    block_contract_id: &str,
    bed: u16,
    end: chrono::NaiveDate,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let from = end.succ_opt().expect("dates continue");
    put_bed(
        conn,
        env,
        block_contract_id,
        bed,
        from,
        "void",
        None,
        None,
        false,
        now,
    )
}

fn rate_changed(
    conn: &mut DbConnection,
    env: &Envelope,
    e: PlacementRateChanged,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let id = e.placement_id.to_string();
    member(env, &e.council, &format!("placement {id}"))?;
    not_negative(e.weekly_rate_pence, "the weekly rate")?;
    not_negative(e.extras_weekly_pence, "the weekly extras")?;
    facts::lock_source(conn, "placement", &id)?;
    same_placement(conn, env, &id, &e.council)?;
    let inserted = facts::insert_rate_change(
        conn,
        &RateChangeRow {
            placement_id: id.clone(),
            ipa_version: e.ipa_version as i32,
            partnership: env.partnership.clone(),
            council: e.council.clone(),
            effective_from: e.effective_from,
            weekly_rate_pence: e.weekly_rate_pence,
            extras_weekly_pence: e.extras_weekly_pence,
            created_at: now,
        },
    )?;
    if inserted {
        commitments::recompute_placement(conn, &id)?;
    }
    Ok(())
}

fn placement_ended(
    conn: &mut DbConnection,
    env: &Envelope,
    e: PlacementEnded,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let id = e.placement_id.to_string();
    member(env, &e.council, &format!("placement {id}"))?;
    // A block placement's end changes the block's lines: its lock is taken first, as the
    // start takes it, whether the event names the block or the placement recorded it.
    let recorded_block = facts::placement(conn, &id)?.and_then(|p| p.block_contract_id);
    if let Some(b) = e
        .block_contract_id
        .map(|b| b.to_string())
        .or(recorded_block)
    {
        facts::lock_source(conn, "block", &b)?;
    }
    facts::lock_source(conn, "placement", &id)?;
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
        Some((b, bed)) => {
            check_bed(conn, env, &b, bed)?;
            put_void_after(conn, env, &b, bed, e.end_date, now)?;
            commitments::recompute_block(conn, &b)?;
        }
        None => {
            commitments::recompute_placement(conn, &id)?;
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
    member(env, &e.lead_council, &format!("block contract {id}"))?;
    not_negative(e.block_weekly_rate_pence, "the block weekly rate")?;
    not_negative(e.spot_weekly_rate_pence, "the spot weekly rate")?;
    if e.beds == 0 {
        return Err(refuse(format!("block contract {id} has no beds")));
    }
    if e.end_date < e.start_date {
        return Err(refuse(format!("block contract {id} ends before it starts")));
    }
    facts::lock_source(conn, "block", &id)?;
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
    commitments::recompute_block(conn, &id)?;
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
    member(env, &e.lead_council, &format!("block contract {id}"))?;
    if e.new_end_date <= e.previous_end_date {
        return Err(refuse(format!(
            "block contract {id}: the extension does not run past the previous end"
        )));
    }
    facts::lock_source(conn, "block", &id)?;
    same_block(conn, env, &id)?;
    let inserted = facts::insert_block_extension(
        conn,
        &BlockExtensionRow {
            block_contract_id: id.clone(),
            extensions_used: i32::from(e.extensions_used),
            partnership: env.partnership.clone(),
            previous_end_date: e.previous_end_date,
            new_end_date: e.new_end_date,
            created_at: now,
        },
    )?;
    if inserted {
        commitments::recompute_block(conn, &id)?;
    }
    Ok(())
}

fn bed_filled(
    conn: &mut DbConnection,
    env: &Envelope,
    e: BedFilled,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let id = e.block_contract_id.to_string();
    member(
        env,
        &e.council,
        &format!("block contract {id} bed {}", e.bed),
    )?;
    facts::lock_source(conn, "block", &id)?;
    check_bed(conn, env, &id, e.bed)?;
    let placement = e.placement_id.to_string();
    put_bed(
        conn,
        env,
        &id,
        e.bed,
        e.filled_on,
        "filled",
        Some(&e.council),
        Some(&placement),
        true,
        now,
    )?;
    commitments::recompute_block(conn, &id)?;
    Ok(())
}

fn bed_void(
    conn: &mut DbConnection,
    env: &Envelope,
    e: BedVoid,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let id = e.block_contract_id.to_string();
    member(
        env,
        &e.council,
        &format!("block contract {id} bed {}", e.bed),
    )?;
    facts::lock_source(conn, "block", &id)?;
    check_bed(conn, env, &id, e.bed)?;
    put_bed(
        conn,
        env,
        &id,
        e.bed,
        e.void_from,
        "void",
        Some(&e.council),
        None,
        true,
        now,
    )?;
    commitments::recompute_block(conn, &id)?;
    Ok(())
}

fn service_let(
    conn: &mut DbConnection,
    env: &Envelope,
    e: ServiceContractLet,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let id = e.contract_id.to_string();
    member(env, &e.lead_council, &format!("service contract {id}"))?;
    not_negative(e.value_pence, "the contract value")?;
    if e.end_date < e.start_date {
        return Err(refuse(format!(
            "service contract {id} ends before it starts"
        )));
    }
    facts::lock_source(conn, "service", &id)?;
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
    for x in facts::extensions(conn, &id)? {
        if x.partnership != env.partnership {
            return Err(refuse(format!(
                "service contract {id}: an extension in `{}`",
                x.partnership
            )));
        }
    }
    for v in facts::variations(conn, &id)? {
        if v.partnership != env.partnership {
            return Err(refuse(format!(
                "service contract {id}: a variation in `{}`",
                v.partnership
            )));
        }
    }
    if let Some(t) = facts::termination(conn, &id)?
        && t.partnership != env.partnership
    {
        return Err(refuse(format!(
            "service contract {id}: a termination in `{}`",
            t.partnership
        )));
    }
    commitments::recompute_service_contract(conn, &id)?;
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
    member(env, &e.lead_council, &format!("service contract {id}"))?;
    not_negative(e.added_value_pence, "the added value")?;
    if e.new_end_date <= e.previous_end_date {
        return Err(refuse(format!(
            "service contract {id}: the extension does not run past the previous end"
        )));
    }
    facts::lock_source(conn, "service", &id)?;
    same_contract(conn, env, &id)?;
    let inserted = facts::insert_extension(
        conn,
        &ExtensionRow {
            contract_id: id.clone(),
            extensions_used: i32::from(e.extensions_used),
            partnership: env.partnership.clone(),
            previous_end_date: e.previous_end_date,
            new_end_date: e.new_end_date,
            added_value_pence: e.added_value_pence,
            created_at: now,
        },
    )?;
    if inserted {
        commitments::recompute_service_contract(conn, &id)?;
    }
    Ok(())
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
    member(env, &e.lead_council, &format!("service contract {id}"))?;
    if e.phased_to < e.effective_on {
        return Err(refuse(format!(
            "service contract {id}: variation {} is phased to {}, before it takes effect on {}",
            e.variation_id, e.phased_to, e.effective_on
        )));
    }
    facts::lock_source(conn, "service", &id)?;
    same_contract(conn, env, &id)?;
    let inserted = facts::insert_variation(
        conn,
        &VariationRow {
            contract_id: id.clone(),
            variation_id: e.variation_id.to_string(),
            partnership: env.partnership.clone(),
            effective_on: e.effective_on,
            phased_to: e.phased_to,
            value_change_pence: e.value_change_pence,
            created_at: now,
        },
    )?;
    if inserted {
        commitments::recompute_service_contract(conn, &id)?;
    }
    Ok(())
}

fn service_terminated(
    conn: &mut DbConnection,
    env: &Envelope,
    e: ServiceContractTerminated,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    let id = e.contract_id.to_string();
    member(env, &e.lead_council, &format!("service contract {id}"))?;
    facts::lock_source(conn, "service", &id)?;
    same_contract(conn, env, &id)?;
    let inserted = facts::insert_termination(
        conn,
        &TerminationRow {
            contract_id: id.clone(),
            partnership: env.partnership.clone(),
            terminated_on: e.terminated_on,
            reason: e.reason.clone(),
            created_at: now,
        },
    )?;
    if inserted {
        commitments::recompute_service_contract(conn, &id)?;
    }
    Ok(())
}
