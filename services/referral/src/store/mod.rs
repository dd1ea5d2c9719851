//! Tables and queries of the referral service.

pub mod schema {
    diesel::table! {
        referrals (id) {
            id -> Text,
            council -> Text,
            partnership -> Text,
            framework_id -> Text,
            lot_id -> Text,
            status -> Text,
            version -> Integer,
            route -> Text,
            route_reason -> Text,
            urgency -> Text,
            awarded_provider -> Nullable<Text>,
            created_by -> Text,
            created_at -> Timestamp,
            updated_at -> Timestamp,
        }
    }
    diesel::table! {
        referral_versions (referral_id, version) {
            referral_id -> Text,
            version -> Integer,
            document -> Text,
            created_by -> Text,
            created_by_org -> Text,
            created_at -> Timestamp,
        }
    }
    diesel::table! {
        referral_invitations (referral_id, provider_id) {
            referral_id -> Text,
            provider_id -> Text,
            competition_id -> Text,
            version -> Integer,
            invited_at -> Timestamp,
        }
    }
    diesel::table! {
        referral_reads (id) {
            id -> Text,
            referral_id -> Text,
            version -> Integer,
            reader_sub -> Text,
            reader_org -> Text,
            view -> Text,
            read_at -> Timestamp,
        }
    }
    diesel::joinable!(referral_versions -> referrals (referral_id));
    diesel::allow_tables_to_appear_in_same_query!(
        referrals,
        referral_versions,
        referral_invitations,
        referral_reads
    );
}

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hub_platform::db::{DbConnection, DbError};
use schema::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = referrals)]
pub struct ReferralRow {
    pub id: String,
    pub council: String,
    pub partnership: String,
    pub framework_id: String,
    pub lot_id: String,
    pub status: String,
    pub version: i32,
    pub route: String,
    pub route_reason: String,
    pub urgency: String,
    pub awarded_provider: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = referral_versions)]
pub struct VersionRow {
    pub referral_id: String,
    pub version: i32,
    pub document: String,
    pub created_by: String,
    pub created_by_org: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = referral_reads)]
pub struct ReadRow {
    pub id: String,
    pub referral_id: String,
    pub version: i32,
    pub reader_sub: String,
    pub reader_org: String,
    pub view: String,
    #[schema(value_type = String, format = DateTime)]
    pub read_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<ReferralRow>, DbError> {
    Ok(referrals::table
        .find(id)
        .select(ReferralRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn version(conn: &mut DbConnection, id: &str, version: i32) -> Result<VersionRow, DbError> {
    Ok(referral_versions::table
        .find((id, version))
        .select(VersionRow::as_select())
        .first(conn)?)
}

/// The version a provider was invited on, if it was invited.
pub fn invitation(
    conn: &mut DbConnection,
    id: &str,
    provider: &str,
) -> Result<Option<i32>, DbError> {
    Ok(referral_invitations::table
        .find((id, provider))
        .select(referral_invitations::version)
        .first(conn)
        .optional()?)
}

pub fn set_status(
    conn: &mut DbConnection,
    id: &str,
    status: &str,
    now: NaiveDateTime,
) -> Result<usize, DbError> {
    Ok(diesel::update(referrals::table.find(id))
        .set((referrals::status.eq(status), referrals::updated_at.eq(now)))
        .execute(conn)?)
}
