//! Opening and closing competitions: what both the API (a commissioner confirms a draft,
//! reopens, closes, re-routes, reviews a direct award) and the event handlers (a submitted
//! referral opens a mini-competition, a withdrawn one closes it) do. Each runs inside the
//! caller's transaction and emits through its `Events`, so the outbox stays exactly-once.

use chrono::{DateTime, NaiveDate, Utc};
use hub_bus::Events;
use hub_events::{CompetitionCloseReason, CompetitionClosed, CompetitionOpened};
use hub_platform::db::{DbConnection, DbError};

use crate::{
    domain::{
        self, Competition, Lot,
        calloff::{LogAction, Status},
        preselection::Candidate,
    },
    ids::{HomeId, LotId},
    store,
};

/// How a competition is opened (or reopened).
pub struct Opening<'a> {
    pub invited: Vec<String>,
    /// Default: by urgency from now.
    pub deadline: Option<DateTime<Utc>>,
    pub actor: &'a str,
    pub org: &'a str,
    /// What the log records: `opened`, `reopened`.
    pub action: LogAction,
    pub reason: Option<&'a str>,
}

/// Opens `row` (already stored): invites `invited`, sets the deadline, tells the providers
/// (competition.opened) and logs who did it.
pub fn open(
    conn: &mut DbConnection,
    events: &mut Events,
    row: &mut Competition,
    lot: &Lot,
    o: Opening<'_>,
) -> Result<(), DbError> {
    let now = Utc::now();
    let urgency = row.urgency;
    let deadline = o.deadline.unwrap_or_else(|| domain::deadline(now, urgency));
    row.status = Status::Open;
    row.deadline = deadline.naive_utc();
    row.opened_at = Some(now.naive_utc());
    row.opened_by = Some(o.actor.to_owned());
    row.closed_reason = None;
    row.bidding_closed_at = None;
    row.bidding_closed_reason = None;
    store::save_opening(conn, row)?;
    let already = store::invited(conn, &row.id)?;
    let new: Vec<String> = o
        .invited
        .iter()
        .filter(|p| !already.contains(p))
        .cloned()
        .collect();
    store::invite(conn, &row.id, &new)?;
    let requirement = row.requirement.as_ref();
    events.emit(
        &row.partnership,
        &CompetitionOpened {
            competition_id: row.id.into(),
            referral_id: row.referral_id.into(),
            referral_version: row.referral_version.max(0) as u32,
            council: row.council.clone(),
            framework_id: row.framework_id.into(),
            lot_id: row.lot_id.into(),
            lot_name: lot.name.clone(),
            urgency,
            deadline,
            invited: o.invited.clone(),
            summary: requirement
                .map(domain::summary)
                .unwrap_or_else(|| format!("{} placement", lot.placement_type.replace('_', " "))),
            referral_path: format!("/v1/referrals/{}", row.referral_id),
        },
    );
    store::log(
        conn,
        &row.id,
        o.action,
        o.reason,
        serde_json::json!({ "invited": o.invited, "deadline": deadline }),
        o.actor,
        o.org,
    )?;
    Ok(())
}

/// Why and how a competition closes without an award: the code providers are told, the
/// commissioner's own words (kept in the history only) and any words written for providers.
pub struct Closing<'a> {
    pub reason: CompetitionCloseReason,
    pub detail: Option<&'a str>,
    pub provider_message: Option<&'a str>,
    pub actor: &'a str,
    pub org: &'a str,
}

/// Closes `c` without an award, tells the invited providers (competition.closed: the code and
/// the words written for them) and logs it with the commissioner's own words.
pub fn close(
    conn: &mut DbConnection,
    events: &mut Events,
    c: &Competition,
    how: Closing<'_>,
) -> Result<(), DbError> {
    let code = how.reason.code();
    store::save_closed(conn, &c.id, how.reason)?;
    let invited = store::invited(conn, &c.id)?;
    events.emit(
        &c.partnership,
        &CompetitionClosed {
            competition_id: c.id.into(),
            referral_id: c.referral_id.into(),
            council: c.council.clone(),
            reason: how.reason,
            provider_message: how.provider_message.map(str::to_owned),
            invited,
        },
    );
    let said = match how.detail {
        Some(d) => format!("{code}: {d}"),
        None => code.to_owned(),
    };
    store::log(
        conn,
        &c.id,
        LogAction::Closed,
        Some(&said),
        serde_json::json!({
            "from": c.status,
            "reason": code,
            "provider_message": how.provider_message,
        }),
        how.actor,
        how.org,
    )?;
    Ok(())
}

/// The providers of a lot with their homes, each marked with whether it has a live vacancy
/// on `today`: what preselection judges (three queries, whatever the number of providers).
pub fn candidates(
    conn: &mut DbConnection,
    lot_id: &LotId,
    today: NaiveDate,
) -> Result<Vec<Candidate>, DbError> {
    let admitted = store::admitted(conn, lot_id)?;
    let homes = store::homes_in_lot(conn, lot_id)?;
    let vacant: std::collections::HashSet<HomeId> = store::live_vacancies(conn, lot_id, today)?
        .into_iter()
        .map(|v| v.home_id)
        .collect();
    Ok(admitted
        .into_iter()
        .map(|a| Candidate {
            homes: homes
                .iter()
                .filter(|h| h.provider_id == a.provider_id)
                .map(|h| h.facts(vacant.contains(&h.id)))
                .collect(),
            provider_id: a.provider_id,
            name: a.provider_name,
        })
        .collect())
}
