//! Competitions: the row and its status, the invited providers, their declines, a direct
//! award's terms and the history of who did what.

use crate::domain::Route;
use crate::domain::calloff::LogAction;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::{prelude::*, sql_types::Text};
use hub_events::{CompetitionCloseReason, ReferralSubmitted, Urgency};
use hub_platform::{
    Pence,
    db::{DbConnection, DbError, rows_per_statement, values_rows},
    sql::{Code, Json},
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{now, schema::*};
use crate::{
    domain::{
        calloff::{CloseBiddingReason, DeclineReason, Status},
        criteria::Criterion,
        preselection::{LeftOut, Preselection},
    },
    ids::{BidId, CompetitionId, FrameworkId, LogEntryId, LotId, ReferralId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = competitions)]
pub struct CompetitionRow {
    pub id: CompetitionId,
    pub referral_id: ReferralId,
    pub referral_version: i32,
    pub council: String,
    pub partnership: String,
    pub framework_id: FrameworkId,
    pub lot_id: LotId,
    pub status: Status,
    #[schema(value_type = String)]
    pub urgency: Code<Urgency>,
    #[schema(value_type = String, format = DateTime)]
    pub deadline: NaiveDateTime,
    pub awarded_provider: Option<String>,
    pub awarded_bid: Option<BidId>,
    pub awarded_by: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    /// `mini_competition`, `preselected_mini_competition` or `direct_award`.
    pub route: Route,
    /// The need level whose Provider Response rates bids are held to.
    pub need_level: String,
    #[serde(skip)]
    pub criteria: Json<Vec<Criterion>>,
    #[serde(skip)]
    pub requirement: Option<Json<ReferralSubmitted>>,
    #[serde(skip)]
    pub preselection: Option<Json<Preselection>>,
    #[serde(skip)]
    pub left_out: Option<Json<Vec<LeftOut>>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub opened_at: Option<NaiveDateTime>,
    pub opened_by: Option<String>,
    #[schema(value_type = Option<String>)]
    pub closed_reason: Option<Code<CompetitionCloseReason>>,
    /// Awarded directly (an emergency), not by mini-competition.
    pub direct: bool,
    #[schema(value_type = Option<i64>)]
    pub awarded_rate_pence: Option<Pence>,
    pub awarded_start_date: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub awarded_at: Option<NaiveDateTime>,
    /// A direct award's next review.
    pub review_date: Option<NaiveDate>,
    /// The competition (or direct award) this one reopened.
    pub reopened_from: Option<CompetitionId>,
    /// When the commissioner closed bidding before the deadline, if they did…
    #[schema(value_type = Option<String>, format = DateTime)]
    pub bidding_closed_at: Option<NaiveDateTime>,
    /// …and the reason code the invited providers were told.
    pub bidding_closed_reason: Option<CloseBiddingReason>,
}

impl CompetitionRow {
    pub fn criteria(&self) -> Vec<Criterion> {
        self.criteria.0.clone()
    }

    /// The referral.submitted payload it was opened from (codes and bands only).
    pub fn requirement(&self) -> Option<&ReferralSubmitted> {
        self.requirement.as_deref()
    }

    pub fn preselection(&self) -> Option<&Preselection> {
        self.preselection.as_deref()
    }

    pub fn left_out(&self) -> Vec<LeftOut> {
        self.left_out
            .as_ref()
            .map(|l| l.0.clone())
            .unwrap_or_default()
    }

    /// The child's maximum distance: the preselection's if set, else the referral's.
    pub fn max_distance_miles(&self) -> f64 {
        if let Some(p) = self.preselection() {
            return p.max_distance_miles;
        }
        self.requirement().map_or(0.0, |r| r.max_distance_miles)
    }
}

/// An invited provider's decline (the council sees them all; a provider its own).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = invitation_declines)]
pub struct DeclineRow {
    #[serde(skip)]
    pub competition_id: CompetitionId,
    pub provider_id: String,
    pub reason: DeclineReason,
    pub note: Option<String>,
    pub declined_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub declined_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = direct_awards)]
pub struct DirectAwardRow {
    pub competition_id: CompetitionId,
    pub provider_id: String,
    #[schema(value_type = i64)]
    pub weekly_rate_pence: Pence,
    pub start_date: NaiveDate,
    pub justification: String,
    pub review_date: NaiveDate,
    pub awarded_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub awarded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = competition_log)]
pub struct LogRow {
    pub id: LogEntryId,
    pub competition_id: CompetitionId,
    /// `opened`, `preselection_changed`, `criteria_changed`, `closed`, `reopened`,
    /// `rerouted`, `awarded`, `direct_award`, `review_kept`, `review_reopened`.
    pub action: LogAction,
    pub reason: Option<String>,
    #[serde(skip)]
    pub detail: Json<serde_json::Value>,
    pub actor: String,
    pub org: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: NaiveDateTime,
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

pub fn log_of(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
) -> Result<Vec<LogRow>, DbError> {
    Ok(competition_log::table
        .filter(competition_log::competition_id.eq(competition_id))
        .order(competition_log::id)
        .select(LogRow::as_select())
        .load(conn)?)
}

pub fn competition(
    conn: &mut DbConnection,
    id: &CompetitionId,
) -> Result<Option<CompetitionRow>, DbError> {
    Ok(competitions::table
        .find(id)
        .select(CompetitionRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn competitions_of_referral(
    conn: &mut DbConnection,
    referral_id: &ReferralId,
) -> Result<Vec<CompetitionRow>, DbError> {
    Ok(competitions::table
        .filter(competitions::referral_id.eq(referral_id))
        .order(competitions::created_at)
        .select(CompetitionRow::as_select())
        .load(conn)?)
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
) -> Result<Vec<DeclineRow>, DbError> {
    Ok(invitation_declines::table
        .filter(invitation_declines::competition_id.eq(competition_id))
        .order(invitation_declines::provider_id)
        .select(DeclineRow::as_select())
        .load(conn)?)
}

/// Records (or replaces) a provider's decline.
pub fn put_decline(conn: &mut DbConnection, row: &DeclineRow) -> Result<(), DbError> {
    delete_declines(conn, &row.competition_id, Some(&row.provider_id))?;
    diesel::insert_into(invitation_declines::table)
        .values(row)
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
) -> Result<Option<DirectAwardRow>, DbError> {
    Ok(direct_awards::table
        .find(competition_id)
        .select(DirectAwardRow::as_select())
        .first(conn)
        .optional()?)
}

/// Stores the award `c` carries (its status and the awarded bid's terms).
pub fn record_award(conn: &mut DbConnection, c: &CompetitionRow) -> Result<(), DbError> {
    diesel::update(competitions::table.find(&c.id))
        .set((
            competitions::status.eq(c.status),
            competitions::awarded_provider.eq(&c.awarded_provider),
            competitions::awarded_bid.eq(&c.awarded_bid),
            competitions::awarded_by.eq(&c.awarded_by),
            competitions::awarded_rate_pence.eq(c.awarded_rate_pence),
            competitions::awarded_start_date.eq(c.awarded_start_date),
            competitions::awarded_at.eq(c.awarded_at),
        ))
        .execute(conn)?;
    Ok(())
}
