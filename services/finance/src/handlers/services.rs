//! Facts about service contracts: the letting, extensions, variations of value, a
//! termination.

use hub_bus::Events;
use hub_events::{
    Envelope, ServiceContractExtended, ServiceContractLet, ServiceContractTerminated,
    ServiceContractVaried,
};
use hub_platform::Pence;
use hub_platform::db::{DbConnection, DbError};

use super::{Subject, contract_value, costable, extends, keep, member, term};
use crate::{
    domain::{
        budget::MAX_LINE_PENCE,
        facts::{ServiceContract, ServiceExtension, Termination, Variation},
    },
    ids::ServiceContractId,
    store::facts,
};

pub(super) fn service_let(
    conn: &mut DbConnection,
    env: &Envelope,
    e: ServiceContractLet,
    _events: &mut Events,
) -> Result<(), DbError> {
    let id = ServiceContractId(e.contract_id);
    let contract = Subject::Service(id);
    member(env, &e.lead_council, contract)?;
    contract_value(Pence(e.value_pence), "the contract value")?;
    term(contract, e.start_date, e.end_date)?;
    contract.lock(conn)?;
    if !crate::domain::is_code(&e.budget_line) {
        return Err(DbError::refused(format!(
            "service contract {id}: budget line `{}` is not a code such as commissioned_adoption_support",
            e.budget_line
        )));
    }
    let inserted = facts::insert_service_contract(
        conn,
        ServiceContract {
            contract_id: id,
            partnership: env.partnership.clone(),
            lead_council: e.lead_council.clone(),
            provider_id: e.provider_id.clone(),
            budget_line: e.budget_line.clone(),
            value_pence: Pence(e.value_pence),
            start_date: e.start_date,
            end_date: e.end_date,
        },
    )?;
    if !inserted {
        tracing::warn!(contract_id = %id, "service contract already recorded; skipped");
        return Ok(());
    }
    // Facts that arrived first must be in this partnership.
    let earlier = facts::extensions(conn, id)?
        .into_iter()
        .map(|x| ("an extension", x.partnership))
        .chain(
            facts::variations(conn, id)?
                .into_iter()
                .map(|v| ("a variation", v.partnership)),
        )
        .chain(facts::termination(conn, id)?.map(|t| ("a termination", t.partnership)));
    for (fact, partnership) in earlier {
        if partnership != env.partnership {
            return Err(DbError::refused(format!(
                "service contract {id}: {fact} in `{partnership}`"
            )));
        }
    }
    contract.recompute(conn, env)?;
    Ok(())
}

/// A fact about a service contract must be in the contract's partnership (if it was let).
pub(super) fn same_contract(
    conn: &mut DbConnection,
    env: &Envelope,
    id: ServiceContractId,
) -> Result<(), DbError> {
    match facts::service_contract(conn, id)? {
        Some(c) if c.partnership != env.partnership => Err(DbError::refused(format!(
            "service contract {id} was let in `{}`, not `{}`",
            c.partnership, env.partnership
        ))),
        _ => Ok(()),
    }
}

pub(super) fn service_extended(
    conn: &mut DbConnection,
    env: &Envelope,
    e: ServiceContractExtended,
    _events: &mut Events,
) -> Result<(), DbError> {
    let id = ServiceContractId(e.contract_id);
    let contract = Subject::Service(id);
    member(env, &e.lead_council, contract)?;
    let added = Pence(e.added_value_pence);
    contract_value(added, "the added value")?;
    extends(contract, e.previous_end_date, e.new_end_date)?;
    let fact = ServiceExtension {
        contract_id: id,
        extensions_used: i32::from(e.extensions_used),
        partnership: env.partnership.clone(),
        previous_end_date: e.previous_end_date,
        new_end_date: e.new_end_date,
        added_value_pence: added,
    };
    keep(conn, env, contract, |conn| {
        facts::insert_extension(conn, fact)
    })
}

/// A variation of the contract's value, phased by day over `effective_on ..= phased_to` and
/// cut by a termination as the contract's value is. Kept as a fact if it arrives before the
/// contract, and applied when the contract is recorded.
pub(super) fn service_varied(
    conn: &mut DbConnection,
    env: &Envelope,
    e: ServiceContractVaried,
    _events: &mut Events,
) -> Result<(), DbError> {
    let id = ServiceContractId(e.contract_id);
    let contract = Subject::Service(id);
    member(env, &e.lead_council, contract)?;
    let change = Pence(e.value_change_pence);
    costable(
        change,
        "the value change",
        Pence(-MAX_LINE_PENCE),
        Pence(MAX_LINE_PENCE),
    )?;
    if e.phased_to < e.effective_on {
        return Err(DbError::refused(format!(
            "service contract {id}: variation {} is phased to {}, before it takes effect on {}",
            e.variation_id, e.phased_to, e.effective_on
        )));
    }
    let fact = Variation {
        contract_id: id,
        variation_id: e.variation_id.into(),
        partnership: env.partnership.clone(),
        effective_on: e.effective_on,
        phased_to: e.phased_to,
        value_change_pence: change,
    };
    keep(conn, env, contract, |conn| {
        facts::insert_variation(conn, fact)
    })
}

pub(super) fn service_terminated(
    conn: &mut DbConnection,
    env: &Envelope,
    e: ServiceContractTerminated,
    _events: &mut Events,
) -> Result<(), DbError> {
    let id = ServiceContractId(e.contract_id);
    let contract = Subject::Service(id);
    member(env, &e.lead_council, contract)?;
    let fact = Termination {
        contract_id: id,
        partnership: env.partnership.clone(),
        terminated_on: e.terminated_on,
        reason: e.reason.clone(),
    };
    keep(conn, env, contract, |conn| {
        facts::insert_termination(conn, fact)
    })
}
