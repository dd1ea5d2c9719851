//! Tables and queries of the competition service.

pub mod schema {
    diesel::table! {
        frameworks (id) {
            id -> Text,
            partnership -> Text,
            name -> Text,
            kind -> Text,
            lead_commissioner -> Text,
            start_date -> Date,
            end_date -> Date,
            created_by -> Text,
            created_at -> Timestamp,
        }
    }
    diesel::table! {
        lots (id) {
            id -> Text,
            framework_id -> Text,
            name -> Text,
            placement_type -> Text,
        }
    }
    diesel::table! {
        admissions (lot_id, provider_id) {
            lot_id -> Text,
            provider_id -> Text,
            provider_name -> Text,
            weekly_price_pence -> BigInt,
            admitted_by -> Text,
            admitted_at -> Timestamp,
        }
    }
    diesel::table! {
        competitions (id) {
            id -> Text,
            referral_id -> Text,
            referral_version -> Integer,
            council -> Text,
            partnership -> Text,
            framework_id -> Text,
            lot_id -> Text,
            status -> Text,
            urgency -> Text,
            deadline -> Timestamp,
            awarded_provider -> Nullable<Text>,
            awarded_bid -> Nullable<Text>,
            awarded_by -> Nullable<Text>,
            created_at -> Timestamp,
        }
    }
    diesel::table! {
        competition_invitations (competition_id, provider_id) {
            competition_id -> Text,
            provider_id -> Text,
        }
    }
    diesel::table! {
        bids (id) {
            id -> Text,
            competition_id -> Text,
            provider_id -> Text,
            weekly_price_pence -> BigInt,
            start_date -> Date,
            submitted_by -> Text,
            submitted_at -> Timestamp,
        }
    }
    diesel::allow_tables_to_appear_in_same_query!(
        frameworks,
        lots,
        admissions,
        competitions,
        competition_invitations,
        bids
    );
}

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hub_platform::db::{DbConnection, DbError};
use schema::*;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = frameworks)]
pub struct FrameworkRow {
    pub id: String,
    pub partnership: String,
    pub name: String,
    pub kind: String,
    pub lead_commissioner: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = lots)]
pub struct LotRow {
    pub id: String,
    pub framework_id: String,
    pub name: String,
    pub placement_type: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = admissions)]
pub struct AdmissionRow {
    pub lot_id: String,
    pub provider_id: String,
    pub provider_name: String,
    pub weekly_price_pence: i64,
    pub admitted_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub admitted_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = competitions)]
pub struct CompetitionRow {
    pub id: String,
    pub referral_id: String,
    pub referral_version: i32,
    pub council: String,
    pub partnership: String,
    pub framework_id: String,
    pub lot_id: String,
    pub status: String,
    pub urgency: String,
    #[schema(value_type = String, format = DateTime)]
    pub deadline: NaiveDateTime,
    pub awarded_provider: Option<String>,
    pub awarded_bid: Option<String>,
    pub awarded_by: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = bids)]
pub struct BidRow {
    pub id: String,
    pub competition_id: String,
    pub provider_id: String,
    pub weekly_price_pence: i64,
    pub start_date: NaiveDate,
    pub submitted_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub submitted_at: NaiveDateTime,
}

pub fn framework(conn: &mut DbConnection, id: &str) -> Result<Option<FrameworkRow>, DbError> {
    Ok(frameworks::table
        .find(id)
        .select(FrameworkRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn lots_of(conn: &mut DbConnection, framework_id: &str) -> Result<Vec<LotRow>, DbError> {
    Ok(lots::table
        .filter(lots::framework_id.eq(framework_id))
        .order(lots::id)
        .select(LotRow::as_select())
        .load(conn)?)
}

pub fn lot(conn: &mut DbConnection, id: &str) -> Result<Option<LotRow>, DbError> {
    Ok(lots::table
        .find(id)
        .select(LotRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn admitted(conn: &mut DbConnection, lot_id: &str) -> Result<Vec<AdmissionRow>, DbError> {
    Ok(admissions::table
        .filter(admissions::lot_id.eq(lot_id))
        .order(admissions::provider_id)
        .select(AdmissionRow::as_select())
        .load(conn)?)
}

pub fn competition(conn: &mut DbConnection, id: &str) -> Result<Option<CompetitionRow>, DbError> {
    Ok(competitions::table
        .find(id)
        .select(CompetitionRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn invited(conn: &mut DbConnection, competition_id: &str) -> Result<Vec<String>, DbError> {
    Ok(competition_invitations::table
        .filter(competition_invitations::competition_id.eq(competition_id))
        .order(competition_invitations::provider_id)
        .select(competition_invitations::provider_id)
        .load(conn)?)
}

pub fn bids_of(conn: &mut DbConnection, competition_id: &str) -> Result<Vec<BidRow>, DbError> {
    Ok(bids::table
        .filter(bids::competition_id.eq(competition_id))
        .order(bids::provider_id)
        .select(BidRow::as_select())
        .load(conn)?)
}
