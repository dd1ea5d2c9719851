//! Competitions: the row and its status, the invited providers, their declines, a direct
//! award's terms and the history of who did what.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::{prelude::*, sql_types::Text};
use hub_events::{CompetitionCloseReason, ReferralSubmitted, Urgency};
use hub_platform::{
    Pence,
    db::{DbConnection, DbError, rows_per_statement, values_rows},
    sql::{Code, Json},
};

use super::{now, schema::*, set_once};
use crate::{
    domain::{
        Competition, DirectAwardTerms, InvitationDecline, LogEntry, Route,
        calloff::{CloseBiddingReason, DeclineReason, LogAction, Status},
        criteria::Criterion,
        preselection::{LeftOut, Preselection},
    },
    ids::{BidId, CompetitionId, FrameworkId, LogEntryId, LotId, ReferralId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = competitions)]
struct CompetitionRow {
    id: CompetitionId,
    referral_id: ReferralId,
    referral_version: i32,
    council: String,
    partnership: String,
    framework_id: FrameworkId,
    lot_id: LotId,
    status: Status,
    urgency: Code<Urgency>,
    deadline: NaiveDateTime,
    awarded_provider: Option<String>,
    awarded_bid: Option<BidId>,
    awarded_by: Option<String>,
    created_at: NaiveDateTime,
    route: Route,
    need_level: String,
    criteria: Json<Vec<Criterion>>,
    requirement: Option<Json<ReferralSubmitted>>,
    preselection: Option<Json<Preselection>>,
    left_out: Option<Json<Vec<LeftOut>>>,
    opened_at: Option<NaiveDateTime>,
    opened_by: Option<String>,
    closed_reason: Option<Code<CompetitionCloseReason>>,
    direct: bool,
    awarded_rate_pence: Option<Pence>,
    awarded_start_date: Option<NaiveDate>,
    awarded_at: Option<NaiveDateTime>,
    review_date: Option<NaiveDate>,
    reopened_from: Option<CompetitionId>,
    bidding_closed_at: Option<NaiveDateTime>,
    bidding_closed_reason: Option<CloseBiddingReason>,
    revision: i64,
}

impl From<CompetitionRow> for Competition {
    fn from(r: CompetitionRow) -> Self {
        Self {
            id: r.id,
            referral_id: r.referral_id,
            referral_version: r.referral_version,
            council: r.council,
            partnership: r.partnership,
            framework_id: r.framework_id,
            lot_id: r.lot_id,
            status: r.status,
            urgency: r.urgency.0,
            deadline: r.deadline,
            awarded_provider: r.awarded_provider,
            awarded_bid: r.awarded_bid,
            awarded_by: r.awarded_by,
            created_at: r.created_at,
            route: r.route,
            need_level: r.need_level,
            criteria: r.criteria.0,
            requirement: r.requirement.map(|j| j.0),
            preselection: r.preselection.map(|j| j.0),
            left_out: r.left_out.map(|j| j.0),
            opened_at: r.opened_at,
            opened_by: r.opened_by,
            closed_reason: r.closed_reason.map(|c| c.0),
            direct: r.direct,
            awarded_rate_pence: r.awarded_rate_pence,
            awarded_start_date: r.awarded_start_date,
            awarded_at: r.awarded_at,
            review_date: r.review_date,
            reopened_from: r.reopened_from,
            bidding_closed_at: r.bidding_closed_at,
            bidding_closed_reason: r.bidding_closed_reason,
            revision: r.revision,
        }
    }
}

impl From<&Competition> for CompetitionRow {
    fn from(c: &Competition) -> Self {
        Self {
            id: c.id,
            referral_id: c.referral_id,
            referral_version: c.referral_version,
            council: c.council.clone(),
            partnership: c.partnership.clone(),
            framework_id: c.framework_id,
            lot_id: c.lot_id,
            status: c.status,
            urgency: Code(c.urgency),
            deadline: c.deadline,
            awarded_provider: c.awarded_provider.clone(),
            awarded_bid: c.awarded_bid,
            awarded_by: c.awarded_by.clone(),
            created_at: c.created_at,
            route: c.route,
            need_level: c.need_level.clone(),
            criteria: Json(c.criteria.clone()),
            requirement: c.requirement.clone().map(Json),
            preselection: c.preselection.clone().map(Json),
            left_out: c.left_out.clone().map(Json),
            opened_at: c.opened_at,
            opened_by: c.opened_by.clone(),
            closed_reason: c.closed_reason.map(Code),
            direct: c.direct,
            awarded_rate_pence: c.awarded_rate_pence,
            awarded_start_date: c.awarded_start_date,
            awarded_at: c.awarded_at,
            review_date: c.review_date,
            reopened_from: c.reopened_from,
            bidding_closed_at: c.bidding_closed_at,
            bidding_closed_reason: c.bidding_closed_reason,
            revision: c.revision,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invitation_declines)]
struct DeclineRow {
    competition_id: CompetitionId,
    provider_id: String,
    reason: DeclineReason,
    note: Option<String>,
    declined_by: String,
    declined_at: NaiveDateTime,
}

impl From<DeclineRow> for InvitationDecline {
    fn from(r: DeclineRow) -> Self {
        Self {
            competition_id: r.competition_id,
            provider_id: r.provider_id,
            reason: r.reason,
            note: r.note,
            declined_by: r.declined_by,
            declined_at: r.declined_at,
        }
    }
}

impl From<&InvitationDecline> for DeclineRow {
    fn from(d: &InvitationDecline) -> Self {
        Self {
            competition_id: d.competition_id,
            provider_id: d.provider_id.clone(),
            reason: d.reason,
            note: d.note.clone(),
            declined_by: d.declined_by.clone(),
            declined_at: d.declined_at,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = direct_awards)]
struct DirectAwardRow {
    competition_id: CompetitionId,
    provider_id: String,
    weekly_rate_pence: Pence,
    start_date: NaiveDate,
    justification: String,
    review_date: NaiveDate,
    awarded_by: String,
    awarded_at: NaiveDateTime,
}

impl From<DirectAwardRow> for DirectAwardTerms {
    fn from(r: DirectAwardRow) -> Self {
        Self {
            competition_id: r.competition_id,
            provider_id: r.provider_id,
            weekly_rate_pence: r.weekly_rate_pence,
            start_date: r.start_date,
            justification: r.justification,
            review_date: r.review_date,
            awarded_by: r.awarded_by,
            awarded_at: r.awarded_at,
        }
    }
}

impl From<&DirectAwardTerms> for DirectAwardRow {
    fn from(d: &DirectAwardTerms) -> Self {
        Self {
            competition_id: d.competition_id,
            provider_id: d.provider_id.clone(),
            weekly_rate_pence: d.weekly_rate_pence,
            start_date: d.start_date,
            justification: d.justification.clone(),
            review_date: d.review_date,
            awarded_by: d.awarded_by.clone(),
            awarded_at: d.awarded_at,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = competition_log)]
struct LogRow {
    id: LogEntryId,
    competition_id: CompetitionId,
    action: LogAction,
    reason: Option<String>,
    detail: Json<serde_json::Value>,
    actor: String,
    org: String,
    at: NaiveDateTime,
}

impl From<LogRow> for LogEntry {
    fn from(r: LogRow) -> Self {
        Self {
            id: r.id,
            competition_id: r.competition_id,
            action: r.action,
            reason: r.reason,
            detail: r.detail.0,
            actor: r.actor,
            org: r.org,
            at: r.at,
        }
    }
}

/// Records what happened to a competition and who did it.
pub fn log(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
    action: LogAction,
    reason: Option<&str>,
    detail: serde_json::Value,
    actor: &str,
    org: &str,
) -> Result<(), DbError> {
    diesel::insert_into(competition_log::table)
        .values(&LogRow {
            id: LogEntryId::new(),
            competition_id: *competition_id,
            action,
            reason: reason.map(str::to_owned),
            detail: Json(detail),
            actor: actor.to_owned(),
            org: org.to_owned(),
            at: now(),
        })
        .execute(conn)?;
    Ok(())
}

/// A page of a competition's history, oldest first (`id` ascending, UUIDv7), after `after`,
/// at most `fetch`.
pub fn log_page(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
    after: Option<&LogEntryId>,
    fetch: i64,
) -> Result<Vec<LogEntry>, DbError> {
    let mut q = competition_log::table
        .filter(competition_log::competition_id.eq(competition_id))
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(competition_log::id.gt(after.to_owned()));
    }
    Ok(q.order(competition_log::id)
        .limit(fetch)
        .select(LogRow::as_select())
        .load(conn)?
        .into_iter()
        .map(LogEntry::from)
        .collect())
}

pub fn log_of(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
) -> Result<Vec<LogEntry>, DbError> {
    Ok(competition_log::table
        .filter(competition_log::competition_id.eq(competition_id))
        .order(competition_log::id)
        .select(LogRow::as_select())
        .load(conn)?
        .into_iter()
        .map(LogEntry::from)
        .collect())
}

pub fn competition(
    conn: &mut DbConnection,
    id: &CompetitionId,
) -> Result<Option<Competition>, DbError> {
    Ok(competitions::table
        .find(id)
        .select(CompetitionRow::as_select())
        .first(conn)
        .optional()?
        .map(Competition::from))
}

pub fn competitions_of_referral(
    conn: &mut DbConnection,
    referral_id: &ReferralId,
) -> Result<Vec<Competition>, DbError> {
    Ok(competitions::table
        .filter(competitions::referral_id.eq(referral_id))
        .order(competitions::created_at)
        .select(CompetitionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Competition::from)
        .collect())
}

/// Who lists competitions: a council (its own) or a provider (those it was invited to).
pub enum Lister<'a> {
    Council(&'a str),
    Provider(&'a str),
}

/// A page of the competitions `who` may list, newest first (`id` descending: UUIDv7 ids
/// sort by creation), after `after`, at most `fetch`; of the referral `referral_id` names if
/// one is given (as given: a text that names no referral lists nothing).
pub fn competitions_listed(
    conn: &mut DbConnection,
    who: Lister<'_>,
    referral_id: Option<&str>,
    after: Option<&CompetitionId>,
    fetch: i64,
) -> Result<Vec<Competition>, DbError> {
    let mut q = competitions::table.into_boxed();
    if let Some(r) = referral_id {
        q = q.filter(competitions::referral_id.eq(r.to_owned()));
    }
    match who {
        Lister::Provider(org) => {
            let mine = competition_invitations::table
                .filter(competition_invitations::provider_id.eq(org.to_owned()))
                .select(competition_invitations::competition_id);
            q = q.filter(competitions::id.eq_any(mine));
        }
        Lister::Council(org) => q = q.filter(competitions::council.eq(org.to_owned())),
    }
    if let Some(after) = after {
        q = q.filter(competitions::id.lt(after.to_owned()));
    }
    Ok(q.order(competitions::id.desc())
        .limit(fetch)
        .select(CompetitionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Competition::from)
        .collect())
}

/// Stores a new competition (not yet open: `save_opening` opens it).
pub fn insert_competition(conn: &mut DbConnection, c: &Competition) -> Result<(), DbError> {
    diesel::insert_into(competitions::table)
        .values(CompetitionRow::from(c))
        .execute(conn)?;
    Ok(())
}

/// Stores the opening `c` carries: its status, deadline, who opened it and when, who was
/// left out, its route; a close, its reason and an early close of bidding are cleared.
pub fn save_opening(conn: &mut DbConnection, c: &Competition) -> Result<(), DbError> {
    let row = CompetitionRow::from(c);
    diesel::update(competitions::table.find(&c.id))
        .set((
            competitions::status.eq(row.status),
            competitions::bidding_closed_at.eq(row.bidding_closed_at),
            competitions::bidding_closed_reason.eq(row.bidding_closed_reason),
            competitions::deadline.eq(row.deadline),
            competitions::opened_at.eq(row.opened_at),
            competitions::opened_by.eq(&row.opened_by),
            competitions::closed_reason.eq(row.closed_reason),
            competitions::left_out.eq(&row.left_out),
            competitions::route.eq(row.route),
            raised(),
        ))
        .execute(conn)?;
    Ok(())
}

/// Stores that competition `id` closed without an award, and why.
pub fn save_closed(
    conn: &mut DbConnection,
    id: &CompetitionId,
    reason: CompetitionCloseReason,
) -> Result<(), DbError> {
    diesel::update(competitions::table.find(id))
        .set((
            competitions::status.eq(Status::Closed),
            competitions::closed_reason.eq(Some(Code(reason))),
            raised(),
        ))
        .execute(conn)?;
    Ok(())
}

/// Stores the status and route `c` carries (a re-route).
pub fn save_route(conn: &mut DbConnection, c: &Competition) -> Result<(), DbError> {
    diesel::update(competitions::table.find(&c.id))
        .set((
            competitions::status.eq(c.status),
            competitions::route.eq(c.route),
            raised(),
        ))
        .execute(conn)?;
    Ok(())
}

/// The revision raised by one: every change of a competition's row makes a new ETag.
fn raised() -> diesel::dsl::Eq<competitions::revision, diesel::dsl::Add<competitions::revision, i64>>
{
    competitions::revision.eq(competitions::revision + 1)
}

/// Stores the preselection `c` carries, if the competition is still at `c.revision` (412
/// otherwise: compare-and-set), and raises `c.revision`.
pub fn save_preselection(conn: &mut DbConnection, c: &mut Competition) -> Result<(), DbError> {
    let updated = diesel::update(
        competitions::table
            .find(&c.id)
            .filter(competitions::revision.eq(c.revision)),
    )
    .set((
        competitions::preselection.eq(c.preselection.clone().map(Json)),
        raised(),
    ))
    .execute(conn)?;
    set_once(updated, &mut c.revision, "competition")
}

/// Stores the terms `c` carries (its criteria and the need level bids are priced at), if the
/// competition is still at `c.revision` (412 otherwise), and raises `c.revision`.
pub fn save_terms(conn: &mut DbConnection, c: &mut Competition) -> Result<(), DbError> {
    let updated = diesel::update(
        competitions::table
            .find(&c.id)
            .filter(competitions::revision.eq(c.revision)),
    )
    .set((
        competitions::criteria.eq(Json(c.criteria.clone())),
        competitions::need_level.eq(&c.need_level),
        raised(),
    ))
    .execute(conn)?;
    set_once(updated, &mut c.revision, "competition")
}

/// Stores the early close of bidding `c` carries (when, and the reason code).
pub fn save_bidding_closed(conn: &mut DbConnection, c: &Competition) -> Result<(), DbError> {
    diesel::update(competitions::table.find(&c.id))
        .set((
            competitions::bidding_closed_at.eq(c.bidding_closed_at),
            competitions::bidding_closed_reason.eq(c.bidding_closed_reason),
            raised(),
        ))
        .execute(conn)?;
    Ok(())
}

/// Stores a direct award's next review date (`None`: no review pending).
pub fn save_review_date(
    conn: &mut DbConnection,
    id: &CompetitionId,
    review_date: Option<NaiveDate>,
) -> Result<(), DbError> {
    diesel::update(competitions::table.find(id))
        .set((competitions::review_date.eq(review_date), raised()))
        .execute(conn)?;
    Ok(())
}

pub fn invited(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
) -> Result<Vec<String>, DbError> {
    Ok(competition_invitations::table
        .filter(competition_invitations::competition_id.eq(competition_id))
        .order(competition_invitations::provider_id)
        .select(competition_invitations::provider_id)
        .load(conn)?)
}

pub fn invite(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
    providers: &[String],
) -> Result<(), DbError> {
    // One statement for all of them (the MultiConnection has no batch `values(&vec)`).
    for chunk in providers.chunks(rows_per_statement(2)) {
        let mut q = diesel::sql_query(format!(
            "INSERT INTO competition_invitations (competition_id, provider_id) VALUES {}",
            values_rows(1, chunk.len(), 2)
        ))
        .into_boxed();
        for p in chunk {
            q = q
                .bind::<Text, _>(*competition_id)
                .bind::<Text, _>(p.clone());
        }
        q.execute(conn)?;
    }
    Ok(())
}

/// The declines of a competition, by provider.
pub fn declines_of(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
) -> Result<Vec<InvitationDecline>, DbError> {
    Ok(invitation_declines::table
        .filter(invitation_declines::competition_id.eq(competition_id))
        .order(invitation_declines::provider_id)
        .select(DeclineRow::as_select())
        .load(conn)?
        .into_iter()
        .map(InvitationDecline::from)
        .collect())
}

/// Records (or replaces) a provider's decline.
pub fn put_decline(conn: &mut DbConnection, d: &InvitationDecline) -> Result<(), DbError> {
    delete_declines(conn, &d.competition_id, Some(&d.provider_id))?;
    diesel::insert_into(invitation_declines::table)
        .values(DeclineRow::from(d))
        .execute(conn)?;
    Ok(())
}

/// Deletes the declines of a competition: one provider's, or (`None`) everyone's.
pub fn delete_declines(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
    provider_id: Option<&str>,
) -> Result<(), DbError> {
    let mut q = diesel::delete(invitation_declines::table)
        .filter(invitation_declines::competition_id.eq(competition_id))
        .into_boxed();
    if let Some(p) = provider_id {
        q = q.filter(invitation_declines::provider_id.eq(p));
    }
    q.execute(conn)?;
    Ok(())
}

pub fn direct_award(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
) -> Result<Option<DirectAwardTerms>, DbError> {
    Ok(direct_awards::table
        .find(competition_id)
        .select(DirectAwardRow::as_select())
        .first(conn)
        .optional()?
        .map(DirectAwardTerms::from))
}

/// Stores a direct award's terms.
pub fn insert_direct_award(conn: &mut DbConnection, d: &DirectAwardTerms) -> Result<(), DbError> {
    diesel::insert_into(direct_awards::table)
        .values(DirectAwardRow::from(d))
        .execute(conn)?;
    Ok(())
}

/// Stores the award `c` carries: its status and route, whether it was direct, the awarded
/// bid's (or direct award's) terms, and a direct award's review date.
pub fn record_award(conn: &mut DbConnection, c: &Competition) -> Result<(), DbError> {
    diesel::update(competitions::table.find(&c.id))
        .set((
            competitions::status.eq(c.status),
            competitions::route.eq(c.route),
            competitions::direct.eq(c.direct),
            competitions::awarded_provider.eq(&c.awarded_provider),
            competitions::awarded_bid.eq(&c.awarded_bid),
            competitions::awarded_by.eq(&c.awarded_by),
            competitions::awarded_rate_pence.eq(c.awarded_rate_pence),
            competitions::awarded_start_date.eq(c.awarded_start_date),
            competitions::awarded_at.eq(c.awarded_at),
            competitions::review_date.eq(c.review_date),
            raised(),
        ))
        .execute(conn)?;
    Ok(())
}
