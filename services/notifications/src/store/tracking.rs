//! Competitions as learnt from the competition service's events, their invitees, and who
//! hears of a referral's new versions.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{Integer, Nullable, Text, Timestamp},
};
use hub_events::Envelope;
use hub_platform::db::{DbConnection, DbError, rows_per_statement, values_rows};

use super::schema::*;
use crate::{
    domain::{CompetitionInfo, CompetitionState, ReferralAudience},
    ids::{CompetitionId, LotId, ReferralId},
};

/// A competition as learnt from the competition service's events.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tracked_competitions)]
pub struct TrackedRow {
    pub competition_id: CompetitionId,
    pub referral_id: ReferralId,
    pub council: String,
    pub lot_id: Option<LotId>,
    pub lot_name: Option<String>,
    pub referral_version: Option<i32>,
    pub status: CompetitionState,
    pub awarded_provider: Option<String>,
    pub opened_at: NaiveDateTime,
    /// When the event that set `status` happened.
    pub status_at: NaiveDateTime,
}

impl TrackedRow {
    /// What an event about a competition says of it: its `status` as of the event, nothing
    /// else known (the caller fills in what the event adds); first heard of now.
    pub fn heard(
        env: &Envelope,
        competition_id: uuid::Uuid,
        referral_id: uuid::Uuid,
        council: &str,
        status: CompetitionState,
    ) -> Self {
        Self {
            competition_id: competition_id.into(),
            referral_id: referral_id.into(),
            council: council.to_owned(),
            lot_id: None,
            lot_name: None,
            referral_version: None,
            status,
            awarded_provider: None,
            opened_at: Utc::now().naive_utc(),
            status_at: env.occurred_at.naive_utc(),
        }
    }

    /// The competition as the messages name it.
    pub fn info(&self) -> CompetitionInfo {
        CompetitionInfo {
            competition_id: self.competition_id.into(),
            lot_id: self.lot_id.map(Into::into),
            lot_name: self.lot_name.clone(),
            referral_version: self.referral_version.and_then(|v| u32::try_from(v).ok()),
        }
    }

    /// Its lot, when known whole (id and name).
    pub fn lot(&self) -> Option<(uuid::Uuid, String)> {
        Some((self.lot_id?.into(), self.lot_name.clone()?))
    }
}

pub fn tracked(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
) -> Result<Option<TrackedRow>, DbError> {
    Ok(tracked_competitions::table
        .find(competition_id)
        .select(TrackedRow::as_select())
        .first(conn)
        .optional()?)
}

/// Applies what an event says about a competition (`row`, with the event's time in
/// `status_at`): records it if new; otherwise takes its state (and winner, and the referral
/// version it opened on) if the event is not older than the one that set the current state,
/// and fills in the lot if it was not known. Adds `invited` to its invitees either way.
pub fn track(conn: &mut DbConnection, row: &TrackedRow, invited: &[String]) -> Result<(), DbError> {
    // Usually a new competition: one statement inserts it; a known one is left as it is.
    let inserted = diesel::sql_query(
        "INSERT INTO tracked_competitions (competition_id, referral_id, council, lot_id, lot_name, \
         referral_version, status, awarded_provider, opened_at, status_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
    )
    .bind::<Text, _>(row.competition_id)
    .bind::<Text, _>(row.referral_id)
    .bind::<Text, _>(&row.council)
    .bind::<Nullable<Text>, _>(row.lot_id)
    .bind::<Nullable<Text>, _>(&row.lot_name)
    .bind::<Nullable<Integer>, _>(row.referral_version)
    .bind::<Text, _>(row.status)
    .bind::<Nullable<Text>, _>(&row.awarded_provider)
    .bind::<Timestamp, _>(row.opened_at)
    .bind::<Timestamp, _>(row.status_at)
    .execute(conn)?;
    if inserted == 0
        && let Some(known) = tracked(conn, &row.competition_id)?
    {
        let target = tracked_competitions::table.find(&row.competition_id);
        if row.status_at >= known.status_at {
            diesel::update(target)
                .set((
                    tracked_competitions::status.eq(row.status),
                    tracked_competitions::awarded_provider.eq(&row.awarded_provider),
                    tracked_competitions::status_at.eq(row.status_at),
                    tracked_competitions::referral_version
                        .eq(row.referral_version.or(known.referral_version)),
                ))
                .execute(conn)?;
        }
        if known.lot_name.is_none() && row.lot_name.is_some() {
            diesel::update(target)
                .set((
                    tracked_competitions::lot_id.eq(&row.lot_id),
                    tracked_competitions::lot_name.eq(&row.lot_name),
                ))
                .execute(conn)?;
        }
    }
    let invited: Vec<&String> = invited
        .iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for chunk in invited.chunks(rows_per_statement(2)) {
        let mut q = diesel::sql_query(format!(
            "INSERT INTO competition_invitees (competition_id, provider_id) VALUES {} \
             ON CONFLICT DO NOTHING",
            values_rows(1, chunk.len(), 2)
        ))
        .into_boxed();
        for provider in chunk {
            q = q
                .bind::<Text, _>(row.competition_id)
                .bind::<Text, _>((*provider).clone());
        }
        q.execute(conn)?;
    }
    Ok(())
}

/// Who hears of a referral's new versions, each with the competition it is in: the invited
/// providers of its open competitions and the winner of an awarded one (the latest
/// competition wins if a provider is in several). In provider order.
pub fn referral_audience(
    conn: &mut DbConnection,
    referral_id: &ReferralId,
) -> Result<Vec<(String, TrackedRow)>, DbError> {
    let competitions: Vec<TrackedRow> = tracked_competitions::table
        .filter(tracked_competitions::referral_id.eq(referral_id))
        .order((
            tracked_competitions::opened_at.asc(),
            tracked_competitions::competition_id.asc(),
        ))
        .select(TrackedRow::as_select())
        .load(conn)?;
    let mut audience: BTreeMap<String, TrackedRow> = BTreeMap::new();
    for c in competitions {
        let providers: Vec<String> = match c.status.referral_audience() {
            ReferralAudience::Invited => competition_invitees::table
                .filter(competition_invitees::competition_id.eq(&c.competition_id))
                .select(competition_invitees::provider_id)
                .load(conn)?,
            ReferralAudience::Winner => c.awarded_provider.iter().cloned().collect(),
            ReferralAudience::Nobody => Vec::new(),
        };
        for p in providers {
            audience.insert(p, c.clone());
        }
    }
    Ok(audience.into_iter().collect())
}
