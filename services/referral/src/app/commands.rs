//! What the council's placement team does to its referrals. Each function runs in the
//! caller's write transaction, checks the step with the domain's transitions (409), keeps
//! the referral and its versions, records the transition and emits what the partnership's
//! other services hear; it returns the referral and the version to show.

use chrono::NaiveDateTime;
use hub_bus::Events;
use hub_platform::{
    DbConnection, Principal, Problem,
    db::DbError,
    directory,
    etag::{ETag, IfMatch},
};

use super::{not_found, record_by};
use crate::domain::{
    self, Change, NewReferral, Referral, ReferralAction, ReferralDocument, ReferralStatus,
    Rerouting, Version, VersionKind, Withdrawal,
};
use crate::ids::ReferralId;
use crate::store;

/// What a command leaves: the referral and the version to show.
pub type Shown = (Referral, Version);

/// The caller's council's referral `id`, or 404.
fn own(conn: &mut DbConnection, id: ReferralId, who: &Principal) -> Result<Referral, DbError> {
    Ok(store::find(conn, id)?
        .filter(|r| r.council == who.org)
        .ok_or_else(not_found)?)
}

/// The referral as it is now, with its newest version.
fn shown(conn: &mut DbConnection, r: Referral) -> Result<Shown, DbError> {
    let v = store::version(conn, r.id, r.version)?;
    Ok((r, v))
}

/// 422 naming `/framework_id` or `/lot_id` if the referral would go nowhere, as far as the
/// replica of the competition service's frameworks can tell ([`domain::routing_errors`]).
fn check_routing(conn: &mut DbConnection, r: &Referral) -> Result<(), DbError> {
    if !r.route.competed() {
        return Ok(());
    }
    let known = store::known_framework(conn, r.framework_id)?;
    let errors = domain::routing_errors(known.as_ref(), &r.partnership, &r.council, r.lot_id);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::validation(errors).into())
    }
}

/// A new version of `r`'s document by the caller.
fn new_version(
    r: &Referral,
    document: ReferralDocument,
    who: &Principal,
    now: NaiveDateTime,
    kind: VersionKind,
) -> Version {
    Version {
        referral_id: r.id,
        version: r.version,
        document,
        created_by: who.sub.clone(),
        created_by_org: who.org.clone(),
        created_at: now,
        route: r.route,
        route_reason: r.route_reason.clone(),
        kind,
    }
}

/// Writes a referral for the caller's council (a member of the partnership), submitted at
/// once if asked.
pub fn create(
    conn: &mut DbConnection,
    events: &mut Events,
    who: &Principal,
    input: NewReferral,
    now: NaiveDateTime,
) -> Result<Shown, DbError> {
    let partnership = directory::partnership(&input.partnership).expect("validated");
    if !partnership.has_member(&who.org) {
        return Err(Problem::invalid(
            "/partnership",
            "member",
            format!(
                "your organisation {} is not a member of {}",
                who.org, partnership.code
            ),
        )
        .into());
    }
    let draft = Referral {
        id: ReferralId::new(),
        council: who.org.clone(),
        partnership: partnership.code.to_owned(),
        framework_id: input.framework_id,
        lot_id: input.lot_id,
        status: ReferralStatus::Draft,
        version: 1,
        route: input.route,
        route_reason: input.route_reason.trim().to_owned(),
        urgency: input.document.urgency,
        awarded_provider: None,
        created_by: who.sub.clone(),
        created_at: now,
        updated_at: now,
        status_reason: None,
        competition_id: None,
        competition_at: None,
        revision: 1,
    };
    let first = new_version(&draft, input.document, who, now, VersionKind::Created);
    let mut r = draft.clone();
    if input.submit {
        r.submit(now)?;
    }
    check_routing(conn, &r)?;
    store::insert(conn, &r, &first)?;
    record_by(
        conn,
        &draft,
        who,
        ReferralAction::Created,
        ReferralStatus::Draft,
        None,
    )?;
    if input.submit {
        record_by(
            conn,
            &r,
            who,
            ReferralAction::Submitted,
            ReferralStatus::Draft,
            None,
        )?;
        events.emit(&r.partnership, &r.submitted(&first.document, &who.sub));
    }
    Ok((r, first))
}

/// Submits a draft.
pub fn submit(
    conn: &mut DbConnection,
    events: &mut Events,
    who: &Principal,
    id: ReferralId,
    now: NaiveDateTime,
) -> Result<Shown, DbError> {
    let mut r = own(conn, id, who)?;
    let from = r.submit(now)?;
    check_routing(conn, &r)?;
    let (mut r, v) = shown(conn, r)?;
    store::save(conn, &mut r)?;
    record_by(conn, &r, who, ReferralAction::Submitted, from, None)?;
    events.emit(&r.partnership, &r.submitted(&v.document, &who.sub));
    Ok((r, v))
}

/// Replaces the document: a draft's in place, a submitted referral's as a new version
/// (`referral.updated`). The same document again changes nothing. Either way `if_match` must
/// name the referral's revision (412 otherwise, 428 without).
pub fn update(
    conn: &mut DbConnection,
    events: &mut Events,
    who: &Principal,
    id: ReferralId,
    doc: ReferralDocument,
    if_match: &IfMatch,
    now: NaiveDateTime,
) -> Result<Shown, DbError> {
    let mut r = own(conn, id, who)?;
    let change = r.status.edit()?;
    if_match.check(ETag(r.revision), "referral")?;
    let current = store::version(conn, r.id, r.version)?;
    if current.document == doc {
        return Ok((r, current));
    }
    r.urgency = doc.urgency;
    r.updated_at = now;
    match change {
        Change::InPlace => {
            let kind = current.kind;
            store::replace_version(conn, &new_version(&r, doc, who, now, kind))?;
            store::save(conn, &mut r)?;
            shown(conn, r)
        }
        Change::NewVersion => {
            r.version += 1;
            let v = new_version(&r, doc, who, now, VersionKind::Document);
            store::add_version(conn, &v)?;
            store::save(conn, &mut r)?;
            record_by(conn, &r, who, ReferralAction::Updated, r.status, None)?;
            events.emit(&r.partnership, &r.updated(&v.document));
            Ok((r, v))
        }
    }
}

/// Changes the route (the options appraisal): a draft's in place; a submitted or returned
/// referral's as a new version, announced (`referral.updated`) and submitted again
/// (`referral.submitted`) for the competition service to route afresh. Either way `if_match`
/// must name the referral's revision (412 otherwise, 428 without).
pub fn reroute(
    conn: &mut DbConnection,
    events: &mut Events,
    who: &Principal,
    id: ReferralId,
    to: Rerouting,
    if_match: &IfMatch,
    now: NaiveDateTime,
) -> Result<Shown, DbError> {
    let mut r = own(conn, id, who)?;
    let (change, from, detail) = r.reroute(&to, now)?;
    if_match.check(ETag(r.revision), "referral")?;
    let current = store::version(conn, r.id, r.version)?;
    check_routing(conn, &r)?;
    match change {
        Change::InPlace => {
            store::replace_version(
                conn,
                &Version {
                    route: r.route,
                    route_reason: r.route_reason.clone(),
                    ..current
                },
            )?;
            store::save(conn, &mut r)?;
            record_by(conn, &r, who, ReferralAction::Rerouted, from, Some(detail))?;
            shown(conn, r)
        }
        Change::NewVersion => {
            r.version += 1;
            let v = new_version(&r, current.document, who, now, VersionKind::Route);
            store::add_version(conn, &v)?;
            r.status_reason = None;
            store::save(conn, &mut r)?;
            record_by(
                conn,
                &r,
                who,
                ReferralAction::Resubmitted,
                from,
                Some(detail),
            )?;
            events.emit(&r.partnership, &r.updated(&v.document));
            events.emit(&r.partnership, &r.submitted(&v.document, &who.sub));
            Ok((r, v))
        }
    }
}

/// Withdraws a referral before placement; `referral.withdrawn` (the reason's code) unless it
/// was a draft nobody else knew of.
pub fn withdraw(
    conn: &mut DbConnection,
    events: &mut Events,
    who: &Principal,
    id: ReferralId,
    why: Withdrawal,
    now: NaiveDateTime,
) -> Result<Shown, DbError> {
    let mut r = own(conn, id, who)?;
    let from = r.withdraw(&why, now)?;
    store::save(conn, &mut r)?;
    record_by(
        conn,
        &r,
        who,
        ReferralAction::Withdrawn,
        from,
        r.status_reason.clone(),
    )?;
    if from != ReferralStatus::Draft {
        events.emit(&r.partnership, &r.withdrawn(&why));
    }
    shown(conn, r)
}

/// Closes a placed referral (`referral.closed`; the reason stays here).
pub fn close(
    conn: &mut DbConnection,
    events: &mut Events,
    who: &Principal,
    id: ReferralId,
    reason: String,
    now: NaiveDateTime,
) -> Result<Shown, DbError> {
    let mut r = own(conn, id, who)?;
    let from = r.close(reason, now)?;
    events.emit(&r.partnership, &r.closed());
    store::save(conn, &mut r)?;
    record_by(
        conn,
        &r,
        who,
        ReferralAction::Closed,
        from,
        r.status_reason.clone(),
    )?;
    shown(conn, r)
}
