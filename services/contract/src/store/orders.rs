//! Orders and their variations.

use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use hub_bus::Events;
use hub_events::OrderOverdue;
use hub_platform::{
    Pence, Principal,
    db::{DbConnection, DbError},
};

use crate::schema::{order_variations, orders};
use crate::{
    domain::{Order, OrderStatus, OrderVariation, if_visible, orders::DeclineReason},
    ids::{CompetitionId, FrameworkId, LotId, OrderId, ReferralId, VariationId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = orders)]
struct OrderRow {
    id: OrderId,
    competition_id: CompetitionId,
    referral_id: ReferralId,
    council: String,
    partnership: String,
    provider_id: String,
    framework_id: FrameworkId,
    weekly_rate_pence: Pence,
    start_date: NaiveDate,
    status: OrderStatus,
    issued_at: NaiveDateTime,
    due_by: NaiveDate,
    signed_by: Option<String>,
    signed_at: Option<NaiveDateTime>,
    lot_id: Option<LotId>,
    emergency: bool,
    timescale_agreed_with: Option<String>,
    timescale_recorded_by: Option<String>,
    timescale_recorded_at: Option<NaiveDateTime>,
    late: bool,
    declined_by: Option<String>,
    declined_at: Option<NaiveDateTime>,
    decline_reason: Option<DeclineReason>,
    decline_detail: Option<String>,
    overdue_raised_at: Option<NaiveDateTime>,
    revision: i64,
}

impl From<OrderRow> for Order {
    fn from(r: OrderRow) -> Self {
        Self {
            id: r.id,
            competition_id: r.competition_id,
            referral_id: r.referral_id,
            council: r.council,
            partnership: r.partnership,
            provider_id: r.provider_id,
            framework_id: r.framework_id,
            weekly_rate_pence: r.weekly_rate_pence,
            start_date: r.start_date,
            status: r.status,
            issued_at: r.issued_at,
            due_by: r.due_by,
            signed_by: r.signed_by,
            signed_at: r.signed_at,
            lot_id: r.lot_id,
            emergency: r.emergency,
            timescale_agreed_with: r.timescale_agreed_with,
            timescale_recorded_by: r.timescale_recorded_by,
            timescale_recorded_at: r.timescale_recorded_at,
            late: r.late,
            declined_by: r.declined_by,
            declined_at: r.declined_at,
            decline_reason: r.decline_reason,
            decline_detail: r.decline_detail,
            overdue_raised_at: r.overdue_raised_at,
            revision: r.revision,
        }
    }
}

impl From<&Order> for OrderRow {
    fn from(o: &Order) -> Self {
        let o = o.clone();
        Self {
            id: o.id,
            competition_id: o.competition_id,
            referral_id: o.referral_id,
            council: o.council,
            partnership: o.partnership,
            provider_id: o.provider_id,
            framework_id: o.framework_id,
            weekly_rate_pence: o.weekly_rate_pence,
            start_date: o.start_date,
            status: o.status,
            issued_at: o.issued_at,
            due_by: o.due_by,
            signed_by: o.signed_by,
            signed_at: o.signed_at,
            lot_id: o.lot_id,
            emergency: o.emergency,
            timescale_agreed_with: o.timescale_agreed_with,
            timescale_recorded_by: o.timescale_recorded_by,
            timescale_recorded_at: o.timescale_recorded_at,
            late: o.late,
            declined_by: o.declined_by,
            declined_at: o.declined_at,
            decline_reason: o.decline_reason,
            decline_detail: o.decline_detail,
            overdue_raised_at: o.overdue_raised_at,
            revision: o.revision,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = order_variations)]
struct VariationRow {
    id: VariationId,
    order_id: OrderId,
    seq: i32,
    what: String,
    why: String,
    effective_from: NaiveDate,
    recorded_by: String,
    recorded_by_org: String,
    recorded_at: NaiveDateTime,
}

impl From<VariationRow> for OrderVariation {
    fn from(r: VariationRow) -> Self {
        Self {
            id: r.id,
            order_id: r.order_id,
            seq: r.seq,
            what: r.what,
            why: r.why,
            effective_from: r.effective_from,
            recorded_by: r.recorded_by,
            recorded_by_org: r.recorded_by_org,
            recorded_at: r.recorded_at,
        }
    }
}

impl From<&OrderVariation> for VariationRow {
    fn from(v: &OrderVariation) -> Self {
        let v = v.clone();
        Self {
            id: v.id,
            order_id: v.order_id,
            seq: v.seq,
            what: v.what,
            why: v.why,
            effective_from: v.effective_from,
            recorded_by: v.recorded_by,
            recorded_by_org: v.recorded_by_org,
            recorded_at: v.recorded_at,
        }
    }
}

pub fn find_order(conn: &mut DbConnection, id: OrderId) -> Result<Option<Order>, DbError> {
    Ok(orders::table
        .find(id)
        .select(OrderRow::as_select())
        .first(conn)
        .optional()?
        .map(Order::from))
}

/// The order if `who` may see it; 404 otherwise.
pub fn visible(conn: &mut DbConnection, who: &Principal, id: OrderId) -> Result<Order, DbError> {
    Ok(if_visible(who, find_order(conn, id)?)?)
}

/// The order issued for a competition's award, if there is one.
pub fn order_for_competition(
    conn: &mut DbConnection,
    competition_id: CompetitionId,
) -> Result<Option<Order>, DbError> {
    Ok(orders::table
        .filter(orders::competition_id.eq(competition_id))
        .select(OrderRow::as_select())
        .first(conn)
        .optional()?
        .map(Order::from))
}

pub fn insert(conn: &mut DbConnection, order: &Order) -> Result<(), DbError> {
    diesel::insert_into(orders::table)
        .values(OrderRow::from(order))
        .execute(conn)?;
    Ok(())
}

/// Which orders a list asks for (each filter only when set). The ids are the query's text:
/// one that is no stored id matches nothing.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter<'a> {
    pub competition_id: Option<String>,
    pub referral_id: Option<String>,
    pub status: Option<OrderStatus>,
    /// Only orders still issued after their due day, as of this day.
    pub overdue_on: Option<NaiveDate>,
    pub council: Option<&'a str>,
    pub provider_id: Option<&'a str>,
}

/// The orders `filter` asks for, newest first (by id: UUIDv7 ids sort by creation), after
/// the order `after` (a page's key), at most `limit` of them.
pub fn list(
    conn: &mut DbConnection,
    filter: OrderFilter<'_>,
    after: Option<OrderId>,
    limit: i64,
) -> Result<Vec<Order>, DbError> {
    let mut q = orders::table.into_boxed();
    if let Some(after) = after {
        q = q.filter(orders::id.lt(after));
    }
    if let Some(c) = filter.competition_id {
        q = q.filter(orders::competition_id.eq(c));
    }
    if let Some(r) = filter.referral_id {
        q = q.filter(orders::referral_id.eq(r));
    }
    if let Some(s) = filter.status {
        q = q.filter(orders::status.eq(s));
    }
    if let Some(today) = filter.overdue_on {
        q = q
            .filter(orders::status.eq(OrderStatus::Issued))
            .filter(orders::due_by.lt(today));
    }
    if let Some(c) = filter.council {
        q = q.filter(orders::council.eq(c.to_owned()));
    }
    if let Some(p) = filter.provider_id {
        q = q.filter(orders::provider_id.eq(p.to_owned()));
    }
    Ok(q.order(orders::id.desc())
        .limit(limit)
        .select(OrderRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Order::from)
        .collect())
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
        orders::revision.eq(orders::revision + 1),
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
        orders::revision.eq(orders::revision + 1),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Records the timescale agreed for an issued order still at `revision` (compare-and-set:
/// false, changing nothing, if it moved on or is no longer issued). A new day not yet
/// passed clears the overdue mark, so the order is raised again if that day passes too.
pub fn set_timescale(
    conn: &mut DbConnection,
    id: OrderId,
    revision: i64,
    due_by: NaiveDate,
    agreed_with: &str,
    by: &str,
    at: NaiveDateTime,
) -> Result<bool, DbError> {
    let target = orders::table
        .find(id)
        .filter(orders::status.eq(OrderStatus::Issued))
        .filter(orders::revision.eq(revision));
    let n = diesel::update(target)
        .set((
            orders::revision.eq(revision + 1),
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

/// Adds a variation to an order, numbered after the last one (its `seq` is set here).
pub fn add_variation(
    conn: &mut DbConnection,
    mut variation: OrderVariation,
) -> Result<OrderVariation, DbError> {
    let last: Option<i32> = order_variations::table
        .filter(order_variations::order_id.eq(&variation.order_id))
        .select(diesel::dsl::max(order_variations::seq))
        .first(conn)?;
    variation.seq = last.unwrap_or(0) + 1;
    diesel::insert_into(order_variations::table)
        .values(VariationRow::from(&variation))
        .execute(conn)?;
    Ok(variation)
}

/// The variations of an order, oldest first (by `seq`), after `after_seq` (a page's key),
/// at most `limit` of them.
pub fn variations(
    conn: &mut DbConnection,
    order_id: OrderId,
    after_seq: Option<i32>,
    limit: i64,
) -> Result<Vec<OrderVariation>, DbError> {
    Ok(order_variations::table
        .filter(order_variations::order_id.eq(order_id))
        .filter(order_variations::seq.gt(after_seq.unwrap_or(0)))
        .order(order_variations::seq.asc())
        .limit(limit)
        .select(VariationRow::as_select())
        .load(conn)?
        .into_iter()
        .map(OrderVariation::from)
        .collect())
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
