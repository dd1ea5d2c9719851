//! Bids and the commissioner's marks on them.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hub_platform::{
    Pence,
    db::{DbConnection, DbError},
    sql::Json,
};

use super::schema::*;
use crate::{
    domain::{Bid, Score, criteria::CriterionName},
    ids::{BidId, CompetitionId, HomeId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = bids)]
struct BidRow {
    id: BidId,
    competition_id: CompetitionId,
    provider_id: String,
    weekly_price_pence: Pence,
    start_date: NaiveDate,
    home_id: Option<HomeId>,
    home_name: Option<String>,
    home_latitude: Option<f64>,
    home_longitude: Option<f64>,
    answers: Json<BTreeMap<String, String>>,
    provider_response_pence: Option<Pence>,
    price_variation_evidence: Option<String>,
    submitted_by: String,
    submitted_at: NaiveDateTime,
}

impl From<BidRow> for Bid {
    fn from(r: BidRow) -> Self {
        Self {
            id: r.id,
            competition_id: r.competition_id,
            provider_id: r.provider_id,
            weekly_price_pence: r.weekly_price_pence,
            start_date: r.start_date,
            home_id: r.home_id,
            home_name: r.home_name,
            home_latitude: r.home_latitude,
            home_longitude: r.home_longitude,
            answers: r.answers.0,
            provider_response_pence: r.provider_response_pence,
            price_variation_evidence: r.price_variation_evidence,
            submitted_by: r.submitted_by,
            submitted_at: r.submitted_at,
        }
    }
}

impl From<&Bid> for BidRow {
    fn from(b: &Bid) -> Self {
        Self {
            id: b.id,
            competition_id: b.competition_id,
            provider_id: b.provider_id.clone(),
            weekly_price_pence: b.weekly_price_pence,
            start_date: b.start_date,
            home_id: b.home_id,
            home_name: b.home_name.clone(),
            home_latitude: b.home_latitude,
            home_longitude: b.home_longitude,
            answers: Json(b.answers.clone()),
            provider_response_pence: b.provider_response_pence,
            price_variation_evidence: b.price_variation_evidence.clone(),
            submitted_by: b.submitted_by.clone(),
            submitted_at: b.submitted_at,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = bid_scores)]
struct ScoreRow {
    bid_id: BidId,
    criterion: CriterionName,
    points: Option<i32>,
    passed: Option<bool>,
    reason: String,
    scored_by: String,
    scored_at: NaiveDateTime,
}

impl From<ScoreRow> for Score {
    fn from(r: ScoreRow) -> Self {
        Self {
            bid_id: r.bid_id,
            criterion: r.criterion,
            points: r.points,
            passed: r.passed,
            reason: r.reason,
            scored_by: r.scored_by,
            scored_at: r.scored_at,
        }
    }
}

impl From<&Score> for ScoreRow {
    fn from(s: &Score) -> Self {
        Self {
            bid_id: s.bid_id,
            criterion: s.criterion,
            points: s.points,
            passed: s.passed,
            reason: s.reason.clone(),
            scored_by: s.scored_by.clone(),
            scored_at: s.scored_at,
        }
    }
}

/// The live bids of a competition, by provider.
pub fn bids_of(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
) -> Result<Vec<Bid>, DbError> {
    Ok(bids::table
        .filter(bids::competition_id.eq(competition_id))
        .order(bids::provider_id)
        .select(BidRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Bid::from)
        .collect())
}

/// A provider's own live bid in a competition (none, or one).
pub fn bids_of_provider(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
    provider_id: &str,
) -> Result<Vec<Bid>, DbError> {
    Ok(bids::table
        .filter(bids::competition_id.eq(competition_id))
        .filter(bids::provider_id.eq(provider_id))
        .select(BidRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Bid::from)
        .collect())
}

/// A page of a competition's live bids, newest first (`id` descending, UUIDv7), after
/// `after`, at most `fetch`: every provider's, or (`Some`) one provider's own.
pub fn bids_page(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
    provider_id: Option<&str>,
    after: Option<&BidId>,
    fetch: i64,
) -> Result<Vec<Bid>, DbError> {
    let mut q = bids::table
        .filter(bids::competition_id.eq(competition_id))
        .into_boxed();
    if let Some(p) = provider_id {
        q = q.filter(bids::provider_id.eq(p.to_owned()));
    }
    if let Some(after) = after {
        q = q.filter(bids::id.lt(after.to_owned()));
    }
    Ok(q.order(bids::id.desc())
        .limit(fetch)
        .select(BidRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Bid::from)
        .collect())
}

/// Stores a new bid.
pub fn insert_bid(conn: &mut DbConnection, bid: &Bid) -> Result<(), DbError> {
    diesel::insert_into(bids::table)
        .values(BidRow::from(bid))
        .execute(conn)?;
    Ok(())
}

/// Every mark on every bid of a competition (one query).
pub fn scores_of(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
) -> Result<Vec<Score>, DbError> {
    let bid_ids = bids::table
        .filter(bids::competition_id.eq(*competition_id))
        .select(bids::id);
    Ok(bid_scores::table
        .filter(bid_scores::bid_id.eq_any(bid_ids))
        .order((bid_scores::bid_id, bid_scores::criterion))
        .select(ScoreRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Score::from)
        .collect())
}

/// Deletes a bid and its marks.
pub fn delete_bid(conn: &mut DbConnection, bid_id: &BidId) -> Result<(), DbError> {
    diesel::delete(bid_scores::table.filter(bid_scores::bid_id.eq(bid_id))).execute(conn)?;
    diesel::delete(bids::table.find(bid_id)).execute(conn)?;
    Ok(())
}

/// Sets (replaces) a mark.
pub fn put_score(conn: &mut DbConnection, score: &Score) -> Result<(), DbError> {
    diesel::delete(bid_scores::table.find((&score.bid_id, &score.criterion))).execute(conn)?;
    diesel::insert_into(bid_scores::table)
        .values(ScoreRow::from(score))
        .execute(conn)?;
    Ok(())
}
