//! Bids and the commissioner's marks on them.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hub_platform::{
    Pence,
    db::{DbConnection, DbError},
    sql::Json,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::*;
use crate::{
    domain::{criteria::CriterionName, evaluation::Mark},
    ids::{BidId, CompetitionId, HomeId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = bids)]
pub struct BidRow {
    pub id: BidId,
    pub competition_id: CompetitionId,
    pub provider_id: String,
    #[schema(value_type = i64)]
    pub weekly_price_pence: Pence,
    pub start_date: NaiveDate,
    pub home_id: Option<HomeId>,
    pub home_name: Option<String>,
    #[serde(skip)]
    pub home_latitude: Option<f64>,
    #[serde(skip)]
    pub home_longitude: Option<f64>,
    #[serde(skip)]
    pub answers: Json<BTreeMap<String, String>>,
    /// The Provider Response rate at the competition's need level when the bid was made.
    #[schema(value_type = Option<i64>)]
    pub provider_response_pence: Option<Pence>,
    pub price_variation_evidence: Option<String>,
    pub submitted_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub submitted_at: NaiveDateTime,
}

impl BidRow {
    pub fn answers(&self) -> BTreeMap<String, String> {
        self.answers.0.clone()
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = bid_scores)]
pub struct ScoreRow {
    pub bid_id: BidId,
    pub criterion: CriterionName,
    pub points: Option<i32>,
    pub passed: Option<bool>,
    pub reason: String,
    pub scored_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub scored_at: NaiveDateTime,
}

impl ScoreRow {
    pub fn mark(&self) -> Mark {
        Mark {
            points: self.points.map(|p| p.max(0) as u32),
            passed: self.passed,
            reason: self.reason.clone(),
        }
    }
}

pub fn bids_of(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
) -> Result<Vec<BidRow>, DbError> {
    Ok(bids::table
        .filter(bids::competition_id.eq(competition_id))
        .order(bids::provider_id)
        .select(BidRow::as_select())
        .load(conn)?)
}

/// Every mark on every bid of a competition (one query).
pub fn scores_of(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
) -> Result<Vec<ScoreRow>, DbError> {
    let bid_ids = bids::table
        .filter(bids::competition_id.eq(*competition_id))
        .select(bids::id);
    Ok(bid_scores::table
        .filter(bid_scores::bid_id.eq_any(bid_ids))
        .order((bid_scores::bid_id, bid_scores::criterion))
        .select(ScoreRow::as_select())
        .load(conn)?)
}

/// Deletes a bid and its marks.
pub fn delete_bid(conn: &mut DbConnection, bid_id: &BidId) -> Result<(), DbError> {
    diesel::delete(bid_scores::table.filter(bid_scores::bid_id.eq(bid_id))).execute(conn)?;
    diesel::delete(bids::table.find(bid_id)).execute(conn)?;
    Ok(())
}

/// Sets (replaces) a mark.
pub fn put_score(conn: &mut DbConnection, row: &ScoreRow) -> Result<(), DbError> {
    diesel::delete(bid_scores::table.find((&row.bid_id, &row.criterion))).execute(conn)?;
    diesel::insert_into(bid_scores::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}
