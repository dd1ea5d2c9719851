//! Service contracts let by a lead commissioner for all partners, and their history.
//!
//! Every change of state is a conditional UPDATE on the status (and, for extensions and
//! alerts, on the end date and the counters), so two commissioners acting at once, or two
//! replicas sweeping at once, cannot both win.

use crate::schema::*;
use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use hub_bus::Events;
use hub_events::{
    ServiceContractExpiring, ServiceContractExtended, ServiceContractLet,
    ServiceContractTerminated, ServiceContractVaried,
};
use hub_platform::{
    FieldError, Pence, Principal, Problem,
    db::{DbConnection, DbError},
    page::{Page, PageRequest},
    sql::Json,
};

use crate::{
    domain::{
        HistoryEntry, ServiceContract, if_visible, only_visible,
        service_contracts::{
            self as rules, AgreementStatus, BondStatus, HistoryKind, Pensions, Status, Tranche,
            not_in,
        },
    },
    ids::{HistoryId, ServiceContractId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = service_contracts)]
struct ServiceContractRow {
    id: ServiceContractId,
    partnership: String,
    lead_council: String,
    provider_id: String,
    title: String,
    services: Json<Vec<String>>,
    value_pence: Pence,
    start_date: NaiveDate,
    end_date: NaiveDate,
    original_end_date: NaiveDate,
    budget_line: String,
    extensions_allowed: i32,
    extensions_used: i32,
    extension_months: i32,
    alert_months: Json<Vec<u16>>,
    alerted_months: Option<i32>,
    tupe_lgps: bool,
    admission_agreement: AgreementStatus,
    admission_agreement_signed_on: Option<NaiveDate>,
    bond: BondStatus,
    bond_amount_pence: Option<Pence>,
    status: Status,
    went_live_by: Option<String>,
    went_live_at: Option<NaiveDateTime>,
    terminated_on: Option<NaiveDate>,
    termination_reason: Option<String>,
    created_by: String,
    created_at: NaiveDateTime,
    revision: i64,
}

impl From<ServiceContractRow> for ServiceContract {
    fn from(r: ServiceContractRow) -> Self {
        Self {
            id: r.id,
            partnership: r.partnership,
            lead_council: r.lead_council,
            provider_id: r.provider_id,
            title: r.title,
            services: r.services.0,
            value_pence: r.value_pence,
            start_date: r.start_date,
            end_date: r.end_date,
            original_end_date: r.original_end_date,
            budget_line: r.budget_line,
            extensions_allowed: r.extensions_allowed,
            extensions_used: r.extensions_used,
            extension_months: r.extension_months,
            alert_months: r.alert_months.0,
            alerted_months: r.alerted_months,
            tupe_lgps: r.tupe_lgps,
            admission_agreement: r.admission_agreement,
            admission_agreement_signed_on: r.admission_agreement_signed_on,
            bond: r.bond,
            bond_amount_pence: r.bond_amount_pence,
            status: r.status,
            went_live_by: r.went_live_by,
            went_live_at: r.went_live_at,
            terminated_on: r.terminated_on,
            termination_reason: r.termination_reason,
            created_by: r.created_by,
            created_at: r.created_at,
            revision: r.revision,
        }
    }
}

impl From<&ServiceContract> for ServiceContractRow {
    fn from(c: &ServiceContract) -> Self {
        let c = c.clone();
        Self {
            id: c.id,
            partnership: c.partnership,
            lead_council: c.lead_council,
            provider_id: c.provider_id,
            title: c.title,
            services: Json(c.services),
            value_pence: c.value_pence,
            start_date: c.start_date,
            end_date: c.end_date,
            original_end_date: c.original_end_date,
            budget_line: c.budget_line,
            extensions_allowed: c.extensions_allowed,
            extensions_used: c.extensions_used,
            extension_months: c.extension_months,
            alert_months: Json(c.alert_months),
            alerted_months: c.alerted_months,
            tupe_lgps: c.tupe_lgps,
            admission_agreement: c.admission_agreement,
            admission_agreement_signed_on: c.admission_agreement_signed_on,
            bond: c.bond,
            bond_amount_pence: c.bond_amount_pence,
            status: c.status,
            went_live_by: c.went_live_by,
            went_live_at: c.went_live_at,
            terminated_on: c.terminated_on,
            termination_reason: c.termination_reason,
            created_by: c.created_by,
            created_at: c.created_at,
            revision: c.revision,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = service_contract_history)]
struct HistoryRow {
    id: HistoryId,
    contract_id: ServiceContractId,
    kind: HistoryKind,
    effective_on: Option<NaiveDate>,
    reason: Option<String>,
    detail: Json<serde_json::Value>,
    actor: String,
    org: String,
    at: NaiveDateTime,
    value_change_pence: Option<Pence>,
    phased_to: Option<NaiveDate>,
}

impl From<HistoryRow> for HistoryEntry {
    fn from(r: HistoryRow) -> Self {
        Self {
            id: r.id,
            contract_id: r.contract_id,
            kind: r.kind,
            effective_on: r.effective_on,
            reason: r.reason,
            detail: r.detail.0,
            actor: r.actor,
            org: r.org,
            at: r.at,
            value_change_pence: r.value_change_pence,
            phased_to: r.phased_to,
        }
    }
}

impl From<&HistoryEntry> for HistoryRow {
    fn from(h: &HistoryEntry) -> Self {
        let h = h.clone();
        Self {
            id: h.id,
            contract_id: h.contract_id,
            kind: h.kind,
            effective_on: h.effective_on,
            reason: h.reason,
            detail: Json(h.detail),
            actor: h.actor,
            org: h.org,
            at: h.at,
            value_change_pence: h.value_change_pence,
            phased_to: h.phased_to,
        }
    }
}

pub fn find(
    conn: &mut DbConnection,
    id: ServiceContractId,
) -> Result<Option<ServiceContract>, DbError> {
    Ok(service_contracts::table
        .find(id)
        .select(ServiceContractRow::as_select())
        .first(conn)
        .optional()?
        .map(ServiceContract::from))
}

/// The contract if `who` may see it, else 404.
pub fn visible(
    conn: &mut DbConnection,
    who: &Principal,
    id: ServiceContractId,
) -> Result<ServiceContract, DbError> {
    Ok(if_visible(who, find(conn, id)?)?)
}

/// The contract for its lead commissioner to change: 404 if unseen, 403 for anyone else who
/// sees it. The row is locked for the rest of the transaction (a write to it) and read again,
/// so changes to one contract run one after another, each seeing those committed before it
/// (a reduction is checked against every earlier variation's change).
pub fn managed(
    conn: &mut DbConnection,
    who: &Principal,
    id: ServiceContractId,
) -> Result<ServiceContract, DbError> {
    let c = visible(conn, who, id)?;
    rules::may_manage(who, &c.lead_council).map_err(Problem::forbidden)?;
    diesel::update(service_contracts::table.find(c.id))
        .set(service_contracts::status.eq(service_contracts::status))
        .execute(conn)?;
    Ok(find(conn, c.id)?.ok_or_else(|| Problem::not_found("service contract"))?)
}

/// The service contracts `who` may see, newest first (by id: UUIDv7 ids sort by creation), after
/// the key in `page`'s cursor. The visibility rule has the last word on each row
/// ([`only_visible`]) after the page is cut, so the cursor skips none.
pub fn list_visible(
    conn: &mut DbConnection,
    who: &Principal,
    page: &PageRequest,
) -> Result<Page<ServiceContract>, DbError> {
    let (partnerships, provider) = rules::listed_for(who);
    let mut q = service_contracts::table.into_boxed();
    if let Some(after) = page.after::<ServiceContractId>()? {
        q = q.filter(service_contracts::id.lt(after));
    }
    if let Some(codes) = partnerships {
        q = q.filter(service_contracts::partnership.eq_any(codes));
    }
    if let Some(p) = provider {
        q = q.filter(service_contracts::provider_id.eq(p));
    }
    let rows: Vec<ServiceContractRow> = q
        .order(service_contracts::id.desc())
        .limit(page.fetch())
        .select(ServiceContractRow::as_select())
        .load(conn)?;
    let rows = rows.into_iter().map(ServiceContract::from).collect();
    let mut listed = page.page(rows, |c: &ServiceContract| c.id);
    listed.items = only_visible(who, listed.items);
    Ok(listed)
}

pub fn history(
    conn: &mut DbConnection,
    id: ServiceContractId,
) -> Result<Vec<HistoryEntry>, DbError> {
    Ok(service_contract_history::table
        .filter(service_contract_history::contract_id.eq(id))
        .order((service_contract_history::at, service_contract_history::id))
        .select(HistoryRow::as_select())
        .load(conn)?
        .into_iter()
        .map(HistoryEntry::from)
        .collect())
}

/// The value a live contract's history phases by day: going live, each extension and each
/// variation of it while live, oldest first.
pub fn phasing(conn: &mut DbConnection, id: ServiceContractId) -> Result<Vec<Tranche>, DbError> {
    let rows: Vec<(Option<NaiveDate>, Option<NaiveDate>, Option<i64>)> =
        service_contract_history::table
            .filter(service_contract_history::contract_id.eq(id))
            .filter(service_contract_history::phased_to.is_not_null())
            .order((service_contract_history::at, service_contract_history::id))
            .select((
                service_contract_history::effective_on,
                service_contract_history::phased_to,
                service_contract_history::value_change_pence,
            ))
            .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(from, to, value)| {
            Some(Tranche {
                from: from?,
                to: to?,
                value_pence: value?,
            })
        })
        .collect())
}

/// A history entry of what happened to a contract, by whom, now, with no value change.
fn entry(
    contract_id: ServiceContractId,
    kind: HistoryKind,
    effective_on: Option<NaiveDate>,
    reason: Option<&str>,
    detail: serde_json::Value,
    who: &Principal,
) -> HistoryEntry {
    HistoryEntry {
        id: HistoryId::new(),
        contract_id,
        kind,
        effective_on,
        reason: reason.map(str::to_owned),
        detail,
        actor: who.sub.clone(),
        org: who.org.clone(),
        at: Utc::now().naive_utc(),
        value_change_pence: None,
        phased_to: None,
    }
}

fn record(conn: &mut DbConnection, entry: &HistoryEntry) -> Result<(), DbError> {
    diesel::insert_into(service_contract_history::table)
        .values(HistoryRow::from(entry))
        .execute(conn)?;
    Ok(())
}

/// Records what happened to a contract, by whom.
pub fn log(
    conn: &mut DbConnection,
    contract_id: ServiceContractId,
    kind: HistoryKind,
    effective_on: Option<NaiveDate>,
    reason: Option<&str>,
    detail: serde_json::Value,
    who: &Principal,
) -> Result<(), DbError> {
    record(
        conn,
        &entry(contract_id, kind, effective_on, reason, detail, who),
    )
}

pub fn insert(conn: &mut DbConnection, contract: &ServiceContract) -> Result<(), DbError> {
    diesel::insert_into(service_contracts::table)
        .values(ServiceContractRow::from(contract))
        .execute(conn)?;
    Ok(())
}

/// Raises the contract's revision (its `ETag`) after a change: run on the row
/// [`managed`] locked, so no other change comes between the read and the raise.
pub fn raise_revision(conn: &mut DbConnection, id: ServiceContractId) -> Result<(), DbError> {
    diesel::update(service_contracts::table.find(id))
        .set(service_contracts::revision.eq(service_contracts::revision + 1))
        .execute(conn)?;
    Ok(())
}

/// Records the pension arrangements (draft or live contracts with TUPE staff with LGPS rights).
pub fn set_pensions(
    conn: &mut DbConnection,
    c: &ServiceContract,
    p: &Pensions,
) -> Result<(), DbError> {
    let n = diesel::update(
        service_contracts::table
            .find(c.id)
            .filter(service_contracts::status.ne(Status::Terminated)),
    )
    .set((
        service_contracts::admission_agreement.eq(p.agreement),
        service_contracts::admission_agreement_signed_on.eq(p.signed_on),
        service_contracts::bond.eq(p.bond),
        service_contracts::bond_amount_pence.eq(p.bond_amount),
    ))
    .execute(conn)?;
    if n != 1 {
        return Err(not_in(Status::Live, c.status).into());
    }
    Ok(())
}

/// Puts a draft contract in force (emits `contract.service_contract_let`). 409
/// `/problems/lgps-admission-required` while the admission agreement or bond is missing.
pub fn go_live(
    conn: &mut DbConnection,
    c: &ServiceContract,
    who: &Principal,
    events: &mut Events,
) -> Result<(), DbError> {
    let live = c.status.go_live()?;
    let gaps = rules::pension_gaps(c.tupe_lgps, c.admission_agreement, c.bond);
    if !gaps.is_empty() {
        return Err(Problem::conflict(
            "lgps-admission-required",
            "staff transfer under TUPE with LGPS pension rights: the provider's admission \
             agreement must be signed and its bond in place before the contract goes live",
        )
        .with_errors(gaps)
        .into());
    }
    let now = Utc::now().naive_utc();
    // The pension state is part of the condition: a change meanwhile makes this fail.
    let n = diesel::update(
        service_contracts::table
            .find(c.id)
            .filter(service_contracts::status.eq(Status::Draft))
            .filter(service_contracts::admission_agreement.eq(c.admission_agreement))
            .filter(service_contracts::bond.eq(c.bond)),
    )
    .set((
        service_contracts::status.eq(live),
        service_contracts::went_live_by.eq(Some(&who.sub)),
        service_contracts::went_live_at.eq(Some(now)),
    ))
    .execute(conn)?;
    if n != 1 {
        return Err(not_in(Status::Draft, c.status).into());
    }
    events.emit(
        &c.partnership,
        &ServiceContractLet {
            contract_id: c.id.into(),
            lead_council: c.lead_council.clone(),
            provider_id: c.provider_id.clone(),
            services: c.services.clone(),
            value_pence: c.value_pence.0,
            start_date: c.start_date,
            end_date: c.end_date,
            budget_line: c.budget_line.clone(),
            extensions_allowed: c.extensions_allowed as u16,
        },
    );
    record(
        conn,
        &HistoryEntry {
            value_change_pence: Some(c.value_pence),
            phased_to: Some(c.end_date),
            ..entry(
                c.id,
                HistoryKind::Live,
                Some(c.start_date),
                None,
                serde_json::json!({ "value_pence": c.value_pence, "end_date": c.end_date }),
                who,
            )
        },
    )
}

/// Uses an extension option of a live contract (emits `contract.service_contract_extended`);
/// 409 `/problems/no-extensions-left` when none is left. Expiry alerts start again for the
/// new end date.
pub fn extend(
    conn: &mut DbConnection,
    c: &ServiceContract,
    added_value: i64,
    reason: Option<&str>,
    who: &Principal,
    events: &mut Events,
) -> Result<NaiveDate, DbError> {
    c.status.extend()?;
    let none_left = || {
        Problem::conflict(
            "no-extensions-left",
            format!(
                "the {} extension option(s) of this service contract are used: procure anew",
                c.extensions_allowed
            ),
        )
    };
    if c.extensions_left() == 0 {
        return Err(none_left().into());
    }
    let value = rules::value_after(c.value_pence.0, added_value, "/added_value_pence")
        .map_err(|e| Problem::validation(vec![e]))?;
    let new_end = rules::extended_end(c.end_date, c.extension_months as u16);
    let n = diesel::update(
        service_contracts::table
            .find(c.id)
            .filter(service_contracts::status.eq(Status::Live))
            .filter(service_contracts::extensions_used.eq(c.extensions_used))
            .filter(service_contracts::end_date.eq(c.end_date)),
    )
    .set((
        service_contracts::extensions_used.eq(c.extensions_used + 1),
        service_contracts::end_date.eq(new_end),
        service_contracts::value_pence.eq(value),
        service_contracts::alerted_months.eq(None::<i32>),
    ))
    .execute(conn)?;
    if n != 1 {
        return Err(none_left().into());
    }
    let left = c.extensions_left() - 1;
    events.emit(
        &c.partnership,
        &ServiceContractExtended {
            contract_id: c.id.into(),
            lead_council: c.lead_council.clone(),
            provider_id: c.provider_id.clone(),
            previous_end_date: c.end_date,
            new_end_date: new_end,
            added_value_pence: added_value,
            extensions_used: (c.extensions_used + 1) as u16,
            extensions_left: left,
        },
    );
    record(
        conn,
        &HistoryEntry {
            value_change_pence: Some(Pence(added_value)),
            phased_to: Some(new_end),
            ..entry(
                c.id,
                HistoryKind::Extension,
                Some(c.end_date.succ_opt().unwrap_or(c.end_date)),
                reason,
                serde_json::json!({
                    "previous_end_date": c.end_date, "new_end_date": new_end,
                    "added_value_pence": added_value, "extensions_left": left,
                }),
                who,
            )
        },
    )?;
    Ok(new_end)
}

#[derive(AsChangeset)]
#[diesel(table_name = service_contracts)]
struct Variation {
    services: Option<Json<Vec<String>>>,
    value_pence: Option<Pence>,
}

/// Records a variation; a new list of services replaces the old one. A value change is added
/// to the contract's value: on a live contract it is phased by day from `effective_on` to the
/// end date the contract has now and emits `contract.service_contract_varied`; on a draft it
/// changes the value the let will carry (see [`value_after_variation`]).
pub fn vary(
    conn: &mut DbConnection,
    c: &ServiceContract,
    v: &rules::NewVariation,
    who: &Principal,
    events: &mut Events,
) -> Result<(), DbError> {
    c.status.vary()?;
    c.within_term("/effective_on", v.effective_on)?;
    let mut detail = serde_json::json!({ "description": v.description.trim() });
    let mut change = Variation {
        services: None,
        value_pence: None,
    };
    if let Some(services) = &v.services {
        change.services = Some(Json(services.clone()));
        detail["services_before"] = serde_json::json!(c.services);
        detail["services_after"] = serde_json::json!(services);
    }
    if let Some(delta) = v.value_change_pence {
        let after = value_after_variation(conn, c, v.effective_on, delta)?;
        change.value_pence = Some(Pence(after));
        detail["value_before_pence"] = serde_json::json!(c.value_pence);
        detail["value_after_pence"] = serde_json::json!(after);
    }
    if change.services.is_some() || change.value_pence.is_some() {
        let n = diesel::update(
            service_contracts::table
                .find(c.id)
                .filter(service_contracts::status.eq(c.status)),
        )
        .set(&change)
        .execute(conn)?;
        if n != 1 {
            return Err(not_in(Status::Live, c.status).into());
        }
    }
    let live = c.is(Status::Live);
    let phased_to = (live && v.value_change_pence.is_some()).then_some(c.end_date);
    let row = HistoryEntry {
        value_change_pence: v.value_change_pence.map(Pence),
        phased_to,
        ..entry(
            c.id,
            HistoryKind::Variation,
            Some(v.effective_on),
            Some(v.reason.trim()),
            detail,
            who,
        )
    };
    record(conn, &row)?;
    if let (Some(delta), Some(phased_to)) = (v.value_change_pence, phased_to) {
        events.emit(
            &c.partnership,
            &ServiceContractVaried {
                contract_id: c.id.into(),
                lead_council: c.lead_council.clone(),
                provider_id: c.provider_id.clone(),
                variation_id: row.id.into(),
                effective_on: v.effective_on,
                phased_to,
                value_change_pence: delta,
                services: v.services.clone(),
            },
        );
    }
    Ok(())
}

/// The contract's value after a variation changes it by `delta` from `from`. A reduction may
/// take at most what is left to phase from `from` (409 `/problems/reduction-exceeds-remaining`)
/// and, on a live contract, may not make any day cost less than nothing.
fn value_after_variation(
    conn: &mut DbConnection,
    c: &ServiceContract,
    from: NaiveDate,
    delta: i64,
) -> Result<i64, DbError> {
    let live = c.is(Status::Live);
    // A draft's value is phased over its whole term once it is let; a live contract's
    // as its history says.
    let tranches = if live {
        phasing(conn, c.id)?
    } else {
        vec![Tranche {
            from: c.start_date,
            to: c.end_date,
            value_pence: c.value_pence.0,
        }]
    };
    let left = rules::left_to_phase(&tranches, from);
    if i128::from(delta) + i128::from(left) < 0 {
        return Err(exceeds_remaining(
            format!(
                "a reduction of {} is more than the {} left to phase from {from}",
                Pence(delta.saturating_neg()),
                Pence(left),
            ),
            format!("at least -{left}: {left} pence are left to phase from {from}"),
        )
        .into());
    }
    // Spread evenly, a reduction may also not take any day below nothing (days of a
    // cheaper extension cost less than its daily share).
    let spread = Tranche {
        from,
        to: c.end_date,
        value_pence: delta,
    };
    if live && let Some(day) = rules::first_negative_day(&tranches, &spread) {
        return Err(exceeds_remaining(
            format!(
                "a reduction of {} spread by day from {from} to {} takes more than the contract \
                 costs on {day}",
                Pence(delta.saturating_neg()),
                c.end_date
            ),
            format!("the reduction would make {day} cost less than nothing"),
        )
        .into());
    }
    Ok(
        rules::value_after(c.value_pence.0, delta, "/value_change_pence")
            .map_err(|e| Problem::validation(vec![e]))?,
    )
}

/// 409 `/problems/reduction-exceeds-remaining`, naming `/value_change_pence`.
fn exceeds_remaining(detail: String, why: String) -> Problem {
    Problem::conflict("reduction-exceeds-remaining", detail).with_errors(vec![FieldError::new(
        "/value_change_pence",
        "within_remaining",
        why,
    )])
}

/// Terminates a live contract early (emits `contract.service_contract_terminated`).
pub fn terminate(
    conn: &mut DbConnection,
    c: &ServiceContract,
    t: &rules::Termination,
    who: &Principal,
    events: &mut Events,
) -> Result<(), DbError> {
    let terminated = c.status.terminate()?;
    c.within_term("/terminated_on", t.terminated_on)?;
    let reason = t.reason.trim();
    let n = diesel::update(
        service_contracts::table
            .find(c.id)
            .filter(service_contracts::status.eq(Status::Live)),
    )
    .set((
        service_contracts::status.eq(terminated),
        service_contracts::terminated_on.eq(Some(t.terminated_on)),
        service_contracts::termination_reason.eq(Some(reason)),
    ))
    .execute(conn)?;
    if n != 1 {
        return Err(not_in(Status::Live, c.status).into());
    }
    events.emit(
        &c.partnership,
        &ServiceContractTerminated {
            contract_id: c.id.into(),
            lead_council: c.lead_council.clone(),
            provider_id: c.provider_id.clone(),
            terminated_on: t.terminated_on,
            reason: reason.to_owned(),
        },
    );
    log(
        conn,
        c.id,
        HistoryKind::Termination,
        Some(t.terminated_on),
        Some(reason),
        serde_json::json!({ "notice_given_on": t.notice_given_on, "end_date_was": c.end_date }),
        who,
    )
}

/// Raises `contract.service_contract_expiring` for each live contract that has reached one
/// of its alert lead times by `today` (once per lead time: the contract is marked in the
/// same conditional UPDATE that claims the alert).
pub fn sweep(
    conn: &mut DbConnection,
    today: NaiveDate,
    events: &mut Events,
) -> Result<usize, DbError> {
    let live: Vec<ServiceContract> = service_contracts::table
        .filter(service_contracts::status.eq(Status::Live))
        .filter(service_contracts::end_date.ge(today))
        .order(service_contracts::id)
        .select(ServiceContractRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ServiceContract::from)
        .collect();
    let mut raised = 0;
    for c in live {
        let already = c.alerted_months.map(|m| m as u16);
        let Some(months) = rules::alert_due(c.end_date, &c.alerts_longest_first(), already, today)
        else {
            continue;
        };
        let m = months as i32;
        let n = diesel::update(
            service_contracts::table
                .find(c.id)
                .filter(service_contracts::status.eq(Status::Live))
                .filter(service_contracts::end_date.eq(c.end_date))
                .filter(
                    service_contracts::alerted_months
                        .is_null()
                        .or(service_contracts::alerted_months.gt(m)),
                ),
        )
        .set(service_contracts::alerted_months.eq(Some(m)))
        .execute(conn)?;
        if n != 1 {
            continue;
        }
        events.emit(
            &c.partnership,
            &ServiceContractExpiring {
                contract_id: c.id.into(),
                lead_council: c.lead_council.clone(),
                provider_id: c.provider_id.clone(),
                end_date: c.end_date,
                months_before: months,
                extensions_left: c.extensions_left(),
            },
        );
        tracing::info!(contract_id = %c.id, end_date = %c.end_date, months_before = months, "service contract expiring");
        raised += 1;
    }
    Ok(raised)
}
