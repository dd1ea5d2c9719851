//! Orders and their variations.

use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use hub_bus::Events;
use hub_events::OrderOverdue;
use hub_platform::{
    Pence, Principal,
    db::{DbConnection, DbError},
};

use super::Visible;
use crate::schema::{order_variations, orders};
use crate::{
    domain::{OrderStatus, may_see, orders::DeclineReason},
    ids::{CompetitionId, FrameworkId, LotId, OrderId, ReferralId, VariationId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = orders)]
pub struct OrderRow {
    pub id: OrderId,
    pub competition_id: CompetitionId,
    pub referral_id: ReferralId,
    pub council: String,
    pub partnership: String,
    pub provider_id: String,
    pub framework_id: FrameworkId,
    pub weekly_rate_pence: Pence,
    pub start_date: NaiveDate,
    pub status: OrderStatus,
    pub issued_at: NaiveDateTime,
    pub due_by: NaiveDate,
    pub signed_by: Option<String>,
    pub signed_at: Option<NaiveDateTime>,
    pub lot_id: Option<LotId>,
    pub emergency: bool,
    pub timescale_agreed_with: Option<String>,
    pub timescale_recorded_by: Option<String>,
    pub timescale_recorded_at: Option<NaiveDateTime>,
    pub late: bool,
    pub declined_by: Option<String>,
    pub declined_at: Option<NaiveDateTime>,
    pub decline_reason: Option<DeclineReason>,
    pub decline_detail: Option<String>,
    pub overdue_raised_at: Option<NaiveDateTime>,
}

impl Visible for OrderRow {
    const WHAT: &'static str = "order";

    fn visible_to(&self, who: &Principal) -> bool {
        may_see(who, &self.council, &self.provider_id)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = order_variations)]
pub struct VariationRow {
    pub id: VariationId,
    pub order_id: OrderId,
    pub seq: i32,
    pub what: String,
    pub why: String,
    pub effective_from: NaiveDate,
    pub recorded_by: String,
    pub recorded_by_org: String,
    pub recorded_at: NaiveDateTime,
}

pub fn find_order(conn: &mut DbConnection, id: OrderId) -> Result<Option<OrderRow>, DbError> {
    Ok(orders::table
        .find(id)
        .select(OrderRow::as_select())
        .first(conn)
        .optional()?)
}

/// The order issued for a competition's award, if there is one.
pub fn order_for_competition(
    conn: &mut DbConnection,
    competition_id: CompetitionId,
) -> Result<Option<OrderRow>, DbError> {
    Ok(orders::table
        .filter(orders::competition_id.eq(competition_id))
        .select(OrderRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn insert(conn: &mut DbConnection, row: &OrderRow) -> Result<(), DbError> {
    diesel::insert_into(orders::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Signs an issued order (`late` when after its due day). Returns false (and changes
/// nothing) unless the order is still `issued`: the status check is in the UPDATE itself,
/// so two signers, or a signer and a decliner, cannot both win.
pub fn sign_order(
    conn: &mut DbConnection,
    id: OrderId,
    by: &str,
    at: NaiveDateTime,
    late: bool,
) -> Result<bool, DbError> {
    let n = diesel::update(
        orders::table
            .find(id)
            .filter(orders::status.eq(OrderStatus::Issued)),
    )
    .set((
        orders::status.eq(OrderStatus::Signed),
        orders::signed_by.eq(Some(by)),
        orders::signed_at.eq(Some(at)),
        orders::late.eq(late),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Declines an issued order; false unless it was still `issued` (as [`sign_order`]).
pub fn decline_order(
    conn: &mut DbConnection,
    id: OrderId,
    by: &str,
    at: NaiveDateTime,
    reason: DeclineReason,
    detail: Option<&str>,
) -> Result<bool, DbError> {
    let n = diesel::update(
        orders::table
            .find(id)
            .filter(orders::status.eq(OrderStatus::Issued)),
    )
    .set((
        orders::status.eq(OrderStatus::Declined),
        orders::declined_by.eq(Some(by)),
        orders::declined_at.eq(Some(at)),
        orders::decline_reason.eq(Some(reason)),
        orders::decline_detail.eq(detail),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Records the timescale agreed for an issued order. A new day not yet passed clears the
/// overdue mark, so the order is raised again if that day passes too.
pub fn set_timescale(
    conn: &mut DbConnection,
    id: OrderId,
    due_by: NaiveDate,
    agreed_with: &str,
    by: &str,
    at: NaiveDateTime,
) -> Result<bool, DbError> {
    let target = orders::table
        .find(id)
        .filter(orders::status.eq(OrderStatus::Issued));
    let n = diesel::update(target)
        .set((
            orders::due_by.eq(due_by),
            orders::timescale_agreed_with.eq(Some(agreed_with)),
            orders::timescale_recorded_by.eq(Some(by)),
            orders::timescale_recorded_at.eq(Some(at)),
        ))
        .execute(conn)?;
    if n == 1 && due_by >= at.date() {
        diesel::update(orders::table.find(id))
            .set(orders::overdue_raised_at.eq(None::<NaiveDateTime>))
            .execute(conn)?;
    }
    Ok(n == 1)
}

/// Adds a variation to an order, numbered after the last one.
pub fn add_variation(
    conn: &mut DbConnection,
    mut row: VariationRow,
) -> Result<VariationRow, DbError> {
    let last: Option<i32> = order_variations::table
        .filter(order_variations::order_id.eq(&row.order_id))
        .select(diesel::dsl::max(order_variations::seq))
        .first(conn)?;
    row.seq = last.unwrap_or(0) + 1;
    diesel::insert_into(order_variations::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

pub fn variations(
    conn: &mut DbConnection,
    order_id: OrderId,
) -> Result<Vec<VariationRow>, DbError> {
    Ok(order_variations::table
        .filter(order_variations::order_id.eq(order_id))
        .order(order_variations::seq.asc())
        .select(VariationRow::as_select())
        .load(conn)?)
}

/// Raises `contract.order_overdue` for issued orders past their `due_by`, once per order:
/// each is marked in the same statement that checks it is not yet marked, so replicas
/// sweeping at once raise it once.
pub fn sweep_overdue_orders(
    conn: &mut DbConnection,
    today: NaiveDate,
    events: &mut Events,
) -> Result<usize, DbError> {
    let due: Vec<OrderRow> = orders::table
        .filter(orders::status.eq(OrderStatus::Issued))
        .filter(orders::due_by.lt(today))
        .filter(orders::overdue_raised_at.is_null())
        .order(orders::due_by.asc())
        .limit(500)
        .select(OrderRow::as_select())
        .load(conn)?;
    let now = Utc::now().naive_utc();
    let mut raised = 0;
    for o in due {
        let n = diesel::update(
            orders::table
                .find(o.id)
                .filter(orders::status.eq(OrderStatus::Issued))
                .filter(orders::due_by.lt(today))
                .filter(orders::overdue_raised_at.is_null()),
        )
        .set(orders::overdue_raised_at.eq(Some(now)))
        .execute(conn)?;
        if n == 1 {
            events.emit(
                &o.partnership,
                &OrderOverdue {
                    order_id: o.id.into(),
                    provider_id: o.provider_id.clone(),
                    council: o.council.clone(),
                    due_by: o.due_by,
                },
            );
            raised += 1;
        }
    }
    Ok(raised)
}
