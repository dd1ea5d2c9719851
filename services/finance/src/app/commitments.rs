//! Recomputing a source's commitment lines from its facts. Each function loads everything
//! recorded about one source, costs it with [`crate::domain::ledger`] and replaces the
//! source's lines in open periods, so the result depends only on the facts, not on the order
//! or number of times they arrived. A closed period's lines are never replaced: what the
//! facts now cost there differs from what was posted is posted as adjustments in the first
//! open period after it, tagged with the fact that caused the recompute
//! ([`ledger::settle`]). A source whose founding fact (the placement's start, the contract's
//! letting) has not arrived yet has no lines; its other facts wait for it.

use std::collections::BTreeSet;

use hub_platform::db::{DbConnection, DbError};

use crate::{
    domain::{
        ledger::{
            self, BedChange, BedEvent, BedStatus, BlockTerms, CostLine, PLACEMENTS_LINE, Posted,
            RateStep, SourceKind, Tranche,
        },
        lines::CommitmentLine,
    },
    ids::{BlockContractId, ContractId, LineId, PlacementId, ServiceContractId, SourceId},
    store::{self, facts, periods},
};

/// What made a source be recomputed: the event (type and id), tagged on any adjustment it
/// posts to a closed period.
#[derive(Debug, Clone, Copy)]
pub struct Cause<'a> {
    pub event_type: &'a str,
    pub event_id: &'a str,
}

/// Who a source's lines are filed under and what they are charged to.
pub(crate) struct Source<'a> {
    pub(crate) kind: SourceKind,
    pub(crate) id: SourceId,
    pub(crate) partnership: &'a str,
    pub(crate) budget_line: &'a str,
    pub(crate) contract_id: Option<ContractId>,
    pub(crate) provider_id: &'a str,
}

/// The ledger lines posted for a source's costed lines (the bulk load posts the same).
pub(crate) fn lines(
    source: &Source<'_>,
    lines: Vec<Posted>,
    cause: Cause<'_>,
) -> Vec<CommitmentLine> {
    let now = store::now();
    lines
        .into_iter()
        .map(|Posted { line: l, adjusts }| CommitmentLine {
            id: LineId::new(),
            partnership: source.partnership.to_owned(),
            council: l.council,
            attribution: l.attribution,
            budget_line: source.budget_line.to_owned(),
            source_kind: source.kind,
            source_id: source.id,
            contract_id: source.contract_id,
            bed: l.bed.map(i32::from),
            provider_id: source.provider_id.to_owned(),
            year: l.year.0,
            period: l.period as i32,
            from_date: l.from,
            to_date: l.to,
            days: l.days as i32,
            weekly_rate_pence: l.weekly,
            extras_weekly_pence: l.extras,
            amount_pence: l.amount,
            created_at: now,
            adjusts_year: adjusts.map(|a| a.0.0),
            adjusts_period: adjusts.map(|a| a.1 as i32),
            cause_event_type: adjusts.map(|_| cause.event_type.to_owned()),
            cause_event_id: adjusts.map(|_| cause.event_id.to_owned()),
        })
        .collect()
}

/// Posts a source's recomputed `lines`: settled against what is posted and the partnership's
/// closed periods, so closed periods keep their lines and get adjustments instead.
fn replace(
    conn: &mut DbConnection,
    source: &Source<'_>,
    computed: Vec<CostLine>,
    cause: Cause<'_>,
) -> Result<usize, DbError> {
    let old = store::source_lines(conn, source.kind, source.id)?;
    let closed = periods::closed_all(conn, source.partnership)?;
    let before: Vec<Posted> = old.iter().map(CommitmentLine::posted).collect();
    let settled = ledger::settle(&before, computed, &closed);
    let kept: BTreeSet<LineId> = settled.kept.iter().map(|&i| old[i].id).collect();
    let adjustments = settled.lines.iter().filter(|l| l.adjusts.is_some()).count();
    let new = lines(source, settled.lines, cause);
    store::replace_lines(conn, source.kind, source.id, &old, &kept, &new)?;
    let total: i64 = new.iter().map(|r| r.amount_pence.0).sum();
    tracing::info!(
        source_kind = %source.kind,
        source_id = %source.id,
        partnership = source.partnership,
        lines = new.len(),
        adjustments,
        posted_pence = total,
        "commitment recomputed"
    );
    Ok(new.len())
}

/// [`placement`] of the placement a stored id names (one that is no UUID names none: nothing
/// to recompute), for callers holding the id as text.
pub fn recompute_placement(
    conn: &mut DbConnection,
    placement_id: &str,
    cause: Cause<'_>,
) -> Result<usize, DbError> {
    match placement_id.parse() {
        Ok(id) => placement(conn, id, cause),
        Err(_) => Ok(0),
    }
}

/// [`block`] of the block contract a stored id names (as [`recompute_placement`]).
pub fn recompute_block(
    conn: &mut DbConnection,
    block_contract_id: &str,
    cause: Cause<'_>,
) -> Result<usize, DbError> {
    match block_contract_id.parse() {
        Ok(id) => block(conn, id, cause),
        Err(_) => Ok(0),
    }
}

/// [`service_contract`] of the service contract a stored id names (as
/// [`recompute_placement`]).
pub fn recompute_service_contract(
    conn: &mut DbConnection,
    contract_id: &str,
    cause: Cause<'_>,
) -> Result<usize, DbError> {
    match contract_id.parse() {
        Ok(id) => service_contract(conn, id, cause),
        Err(_) => Ok(0),
    }
}

/// Recomputes a placement under an order: its rate steps to its end, or with no end to its
/// [`ledger::horizon`]. A placement
/// in a block bed has no lines of its own (the block contract carries the cost).
pub fn placement(
    conn: &mut DbConnection,
    placement_id: PlacementId,
    cause: Cause<'_>,
) -> Result<usize, DbError> {
    let Some(p) = facts::placement(conn, placement_id)? else {
        return Ok(0);
    };
    let source = Source {
        kind: SourceKind::Placement,
        id: p.placement_id.into(),
        partnership: &p.partnership,
        budget_line: PLACEMENTS_LINE,
        contract_id: p.order_id.map(ContractId::from),
        provider_id: &p.provider_id,
    };
    if p.block_contract_id.is_some() {
        return replace(conn, &source, Vec::new(), cause);
    }
    let changes: Vec<RateStep> = facts::rate_changes(conn, placement_id)?
        .into_iter()
        .map(|c| RateStep {
            from: c.effective_from,
            version: c.ipa_version as u32,
            weekly: c.weekly_rate_pence,
            extras: c.extras_weekly_pence,
        })
        .collect();
    let end = facts::placement_end(conn, placement_id)?.map(|e| e.end_date);
    let horizon = ledger::horizon(p.start_date, store::through_year(conn, &p.partnership)?);
    let lines = ledger::placement_lines(
        &p.council,
        RateStep {
            from: p.start_date,
            version: 0,
            weekly: p.weekly_rate_pence,
            extras: p.extras_weekly_pence,
        },
        &changes,
        end,
        horizon,
    );
    replace(conn, &source, lines, cause)
}

/// Recomputes a block contract: every bed over the term, to whose it is.
pub fn block(
    conn: &mut DbConnection,
    block_contract_id: BlockContractId,
    cause: Cause<'_>,
) -> Result<usize, DbError> {
    let Some(b) = facts::block_contract(conn, block_contract_id)? else {
        return Ok(0);
    };
    let events: Vec<BedEvent> = facts::bed_events_of(conn, block_contract_id)?
        .into_iter()
        .filter_map(|e| {
            let bed = u16::try_from(e.bed).ok()?;
            let change = match e.state {
                BedStatus::Filled => BedChange::Filled {
                    council: e.council?,
                },
                BedStatus::Void => BedChange::Void { holder: e.council },
            };
            Some(BedEvent {
                bed,
                from: e.effective_from,
                change,
            })
        })
        .collect();
    // Extension options used run the term on (the latest end wins, whatever order they came in).
    let end = facts::block_extensions(conn, block_contract_id)?
        .iter()
        .map(|x| x.new_end_date)
        .fold(b.end_date, std::cmp::max);
    let lines = ledger::block_lines(
        &BlockTerms {
            partnership: b.partnership.clone(),
            beds: u16::try_from(b.beds).unwrap_or(0),
            weekly: b.block_weekly_rate_pence,
            start: b.start_date,
            end,
        },
        &events,
    );
    let source = Source {
        kind: SourceKind::BlockBed,
        id: b.block_contract_id.into(),
        partnership: &b.partnership,
        budget_line: PLACEMENTS_LINE,
        contract_id: Some(b.block_contract_id.into()),
        provider_id: &b.provider_id,
    };
    replace(conn, &source, lines, cause)
}

/// Recomputes a service contract: its value over its term, each extension's over the
/// extension, each variation's change from its effective date to the end it was phased to,
/// to a termination.
pub fn service_contract(
    conn: &mut DbConnection,
    contract_id: ServiceContractId,
    cause: Cause<'_>,
) -> Result<usize, DbError> {
    let Some(c) = facts::service_contract(conn, contract_id)? else {
        return Ok(0);
    };
    let mut tranches = vec![Tranche {
        from: c.start_date,
        to: c.end_date,
        value: c.value_pence,
    }];
    for x in facts::extensions(conn, contract_id)? {
        tranches.push(Tranche {
            from: x.previous_end_date.succ_opt().expect("dates continue"),
            to: x.new_end_date,
            value: x.added_value_pence,
        });
    }
    for v in facts::variations(conn, contract_id)? {
        tranches.push(Tranche {
            from: v.effective_on,
            to: v.phased_to,
            value: v.value_change_pence,
        });
    }
    let terminated = facts::termination(conn, contract_id)?.map(|t| t.terminated_on);
    let lines = ledger::service_contract_lines(&c.partnership, &tranches, terminated);
    let source = Source {
        kind: SourceKind::ServiceContract,
        id: c.contract_id.into(),
        partnership: &c.partnership,
        budget_line: &c.budget_line,
        contract_id: Some(c.contract_id.into()),
        provider_id: &c.provider_id,
    };
    replace(conn, &source, lines, cause)
}

/// Opens the ledger of a partnership through `year`: every open-ended placement is committed
/// to that year's end. Returns how many placements were recomputed. (Nothing in a closed
/// period moves: the years opened are later than any the placements were committed to.)
pub fn open_through(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
) -> Result<usize, DbError> {
    let opened = format!("{partnership}/{year}");
    let cause = Cause {
        event_type: "ledger_opened",
        event_id: &opened,
    };
    if !store::open_ledger_through(conn, partnership, year)? {
        return Ok(0);
    }
    let ids = facts::open_placement_ids(conn, partnership)?;
    for &id in &ids {
        facts::lock_source(conn, "placement", id)?;
        placement(conn, id, cause)?;
    }
    Ok(ids.len())
}
