//! Orders: listing and reading them; the provider's signature or refusal; the timescale
//! agreed for an emergency order; variations of a signed order.

use std::collections::HashMap;

use actix_web::{HttpResponse, http::StatusCode, web};
use chrono::{DateTime, NaiveDate, Utc};
use hub_events::{OrderDeclined, OrderSigned};
use hub_platform::{
    Principal, Problem,
    db::{DbConnection, DbError},
    etag::{ETag, IfMatch},
    http::Json,
    idempotency::{Answer, IdempotencyKey},
    page::{Page, PageParams, PageRequest},
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ContractState, command, command_once, path_id, query_code, tagged, today};
use crate::{
    domain::{
        Order, OrderStatus, OrderVariation, SignOrder, listed_for, only_visible,
        orders::{
            DeclineOrder, DeclineReason, NewVariation, Timescale, is_late, is_overdue, not_issued,
        },
    },
    ids::{CompetitionId, FrameworkId, LotId, OrderId, ReferralId, VariationId},
    store::{
        self,
        orders::{self as order_store, OrderFilter},
    },
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/orders", web::get().to(list_orders))
        .route("/v1/orders/{id}", web::get().to(get_order))
        .route("/v1/orders/{id}/sign", web::post().to(sign_order))
        .route("/v1/orders/{id}/decline", web::post().to(decline_order))
        .route(
            "/v1/orders/{id}/timescale",
            web::put().to(agree_order_timescale),
        )
        .route("/v1/orders/{id}/variations", web::post().to(vary_order))
        .route(
            "/v1/orders/{id}/variations",
            web::get().to(list_order_variations),
        );
}

/// The signature timescale agreed for an emergency order, and who recorded it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AgreedOrderTimescale)]
pub struct AgreedTimescale {
    pub agreed_with: String,
    pub recorded_by: Option<String>,
    pub recorded_at: Option<DateTime<Utc>>,
}

/// Why the provider declined.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OrderDecline)]
pub struct Declined {
    pub declined_by: Option<String>,
    pub declined_at: Option<DateTime<Utc>>,
    pub reason: DeclineReason,
    pub detail: Option<String>,
}

/// An order: the call-off under a framework that the council (the purchasing body) issues
/// to the provider a competition or direct award chose, at a weekly rate, from a start date.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub id: OrderId,
    pub status: OrderStatus,
    pub competition_id: CompetitionId,
    pub referral_id: ReferralId,
    /// GSS code of the placing council (the purchasing body).
    pub council: String,
    pub partnership: String,
    pub provider_id: String,
    pub framework_id: FrameworkId,
    pub lot_id: Option<LotId>,
    pub weekly_rate_pence: i64,
    pub start_date: NaiveDate,
    pub issued_at: DateTime<Utc>,
    /// A direct award in an emergency: the placement may start before the signature, which
    /// follows by the timescale the parties agree.
    pub emergency: bool,
    /// The provider signs by this day: `[contract] sign_within_working_days` working days
    /// after issue; for an emergency order the agreed day, or until it is agreed the same
    /// number of working days after the later of issue and start.
    pub due_by: NaiveDate,
    /// The agreed timescale of an emergency order (none while `due_by` is provisional).
    pub timescale: Option<AgreedTimescale>,
    /// Still issued after its due day.
    pub overdue: bool,
    pub signed_by: Option<String>,
    pub signed_at: Option<DateTime<Utc>>,
    /// Signed after its due day (allowed, and recorded).
    pub late: bool,
    pub declined: Option<Declined>,
}

impl OrderView {
    pub fn of(r: &Order, today: NaiveDate) -> Self {
        Self {
            id: r.id,
            status: r.status,
            competition_id: r.competition_id,
            referral_id: r.referral_id,
            council: r.council.clone(),
            partnership: r.partnership.clone(),
            provider_id: r.provider_id.clone(),
            framework_id: r.framework_id,
            lot_id: r.lot_id,
            weekly_rate_pence: r.weekly_rate_pence.0,
            start_date: r.start_date,
            issued_at: r.issued_at.and_utc(),
            emergency: r.emergency,
            due_by: r.due_by,
            timescale: r.timescale_agreed_with.as_ref().map(|w| AgreedTimescale {
                agreed_with: w.clone(),
                recorded_by: r.timescale_recorded_by.clone(),
                recorded_at: r.timescale_recorded_at.map(|t| t.and_utc()),
            }),
            overdue: is_overdue(r.status, r.due_by, today),
            signed_by: r.signed_by.clone(),
            signed_at: r.signed_at.map(|t| t.and_utc()),
            late: r.late,
            declined: r.decline_reason.map(|reason| Declined {
                declined_by: r.declined_by.clone(),
                declined_at: r.declined_at.map(|t| t.and_utc()),
                reason,
                detail: r.decline_detail.clone(),
            }),
        }
    }
}

/// A change to a signed order, recorded on its own (the order itself never changes).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OrderVariationView)]
pub struct VariationView {
    pub id: VariationId,
    pub order_id: OrderId,
    /// 1, 2, … in the order they were recorded.
    pub seq: i32,
    pub what: String,
    pub why: String,
    pub effective_from: NaiveDate,
    pub recorded_by: String,
    pub recorded_by_org: String,
    pub recorded_at: DateTime<Utc>,
}

impl From<&OrderVariation> for VariationView {
    fn from(r: &OrderVariation) -> Self {
        Self {
            id: r.id,
            order_id: r.order_id,
            seq: r.seq,
            what: r.what.clone(),
            why: r.why.clone(),
            effective_from: r.effective_from,
            recorded_by: r.recorded_by.clone(),
            recorded_by_org: r.recorded_by_org.clone(),
            recorded_at: r.recorded_at.and_utc(),
        }
    }
}

/// The order as its view, with its revision as the `ETag`.
fn order_answer(order: &Order) -> HttpResponse {
    tagged(
        StatusCode::OK,
        order.revision,
        &OrderView::of(order, today()),
    )
}

/// The order if `who` is a user of the provider it was awarded to (404 if `who` may not see
/// it, 403 for the council's staff).
fn for_provider(conn: &mut DbConnection, who: &Principal, id: OrderId) -> Result<Order, DbError> {
    let o = order_store::visible(conn, who, id)?;
    o.provider_acts(who)?;
    Ok(o)
}

/// The order if `who` is a commissioner of its council (404 if `who` may not see it, 403
/// for the provider and the council's other staff).
pub(super) fn for_commissioner(
    conn: &mut DbConnection,
    who: &Principal,
    id: OrderId,
) -> Result<Order, DbError> {
    let o = order_store::visible(conn, who, id)?;
    o.commissioner_acts(who)?;
    Ok(o)
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OrderQuery {
    /// Only the order called off by this competition.
    pub competition_id: Option<String>,
    /// Only orders for this referral.
    pub referral_id: Option<String>,
    /// `issued`, `signed` or `declined`.
    pub status: Option<String>,
    /// `true`: only orders still issued after their due day (the council chases these).
    pub overdue: Option<bool>,
    /// The page's size (`PageParams`).
    #[param(ignore)]
    pub limit: Option<String>,
    /// The page's cursor (`PageParams`).
    #[param(ignore)]
    pub cursor: Option<String>,
}

/// Orders the caller may see: its council's, or those awarded to its provider (newest
/// first, by id). `?overdue=true` lists those not signed by their due day.
#[utoipa::path(operation_id = "listOrders", get, path = "/v1/orders", tag = "contract", params(OrderQuery, PageParams),
    responses((status = 200, body = Page<OrderView>), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_orders(
    state: web::Data<ContractState>,
    who: Principal,
    query: web::Query<OrderQuery>,
    paging: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, Problem> {
    let query = query.into_inner();
    let page = PageRequest::from_query(&paging)?;
    let after: Option<OrderId> = page.after()?;
    let status: Option<OrderStatus> = query_code(
        query.status.as_deref(),
        "status",
        "issued, signed or declined",
    )?;
    let today = today();
    let orders = state
        .store
        .db
        .run(move |conn| {
            let (council, provider_id) = listed_for(&who);
            let filter = OrderFilter {
                competition_id: query.competition_id,
                referral_id: query.referral_id,
                status,
                overdue_on: (query.overdue == Some(true)).then_some(today),
                council,
                provider_id,
            };
            let rows = order_store::list(conn, filter, after, page.fetch())?;
            // Paged before the last word on each row, so no row is skipped by the cursor.
            let mut listed = page.page(rows, |o| o.id);
            listed.items = only_visible(&who, listed.items);
            Ok(listed)
        })
        .await?;
    Ok(HttpResponse::Ok().json(orders.map(|r| OrderView::of(&r, today))))
}

/// Read an order: its council's staff and the provider it was awarded to; anyone else 404.
#[utoipa::path(operation_id = "getOrder", get, path = "/v1/orders/{id}", tag = "contract",
    params(("id" = String, Path, description = "The order's id")),
    responses((status = 200, body = OrderView, headers(("ETag" = String, description = "The order's revision"))),
        (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_order(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id: OrderId = path_id(&id, "order")?;
    let order = state
        .store
        .db
        .run(move |conn| order_store::visible(conn, &who, id))
        .await?;
    Ok(order_answer(&order))
}

/// Sign an issued order (a user of the provider it was awarded to). No body, or `{}`.
/// A signature after the due day is accepted and recorded `late`. The order is immutable
/// from then on; changes are variations.
#[utoipa::path(operation_id = "signOrder", post, path = "/v1/orders/{id}/sign", tag = "contract",
    params(("id" = String, Path, description = "The order's id")),
    request_body(content = SignOrder, description = "Optional: no body, or an empty object"),
    responses((status = 200, body = OrderView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "`/problems/order-not-issued`"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn sign_order(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    hub_platform::http::optional_body::<SignOrder>(&body)?;
    let id: OrderId = path_id(&id, "order")?;
    let find = move |conn: &mut DbConnection, who: &Principal| for_provider(conn, who, id);
    let order = command(&state, who, find, |conn, mut order, who, events| {
        let signed = order.status.sign()?;
        let now = Utc::now().naive_utc();
        let late = is_late(order.due_by, now.date());
        if !order_store::sign_order(conn, order.id, &who.sub, now, late)? {
            return Err(not_issued("no longer issued").into());
        }
        order.status = signed;
        order.signed_by = Some(who.sub.clone());
        order.signed_at = Some(now);
        order.late = late;
        order.revision += 1;
        events.emit(
            &order.partnership,
            &OrderSigned {
                order_id: order.id.into(),
                provider_id: order.provider_id.clone(),
                council: order.council.clone(),
                signed_by: who.sub.clone(),
                late,
            },
        );
        Ok(order)
    })
    .await?;
    tracing::info!(order_id = %order.id, provider_id = %order.provider_id, late = order.late, "order signed");
    Ok(order_answer(&order))
}

/// Decline an issued order, with a reason (a user of the provider it was awarded to).
/// Refused while a placement made under the (emergency) order is going on.
#[utoipa::path(operation_id = "declineOrder", post, path = "/v1/orders/{id}/decline", tag = "contract", request_body = DeclineOrder,
    params(("id" = String, Path, description = "The order's id")),
    responses((status = 200, body = OrderView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`/problems/order-not-issued` or `/problems/placement-active`"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn decline_order(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<DeclineOrder>,
) -> Result<HttpResponse, Problem> {
    let input = body.0;
    let id: OrderId = path_id(&id, "order")?;
    let find = move |conn: &mut DbConnection, who: &Principal| for_provider(conn, who, id);
    let order = command(&state, who, find, move |conn, o, who, events| {
        o.status.decline()?;
        if store::placement_for_order(conn, o.id)?.is_some_and(|p| p.status.is_active()) {
            return Err(Problem::conflict(
                "placement-active",
                "the child is placed under this order; the placement ends first",
            )
            .into());
        }
        let reason = input.reason;
        let detail = input
            .detail
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty());
        let now = Utc::now().naive_utc();
        if !order_store::decline_order(conn, o.id, &who.sub, now, reason, detail)? {
            return Err(not_issued("no longer issued").into());
        }
        events.emit(
            &o.partnership,
            &OrderDeclined {
                order_id: o.id.into(),
                provider_id: o.provider_id.clone(),
                council: o.council.clone(),
                reason: reason.to_string(),
            },
        );
        Ok(store::find_order(conn, o.id)?.expect("just declined"))
    })
    .await?;
    tracing::info!(order_id = %order.id, provider_id = %order.provider_id, reason = order.decline_reason.map(tracing::field::display), "order declined");
    Ok(order_answer(&order))
}

/// Record the signature timescale agreed with the provider for an emergency order (a
/// commissioner of its council), while the order is still issued. `due_by` replaces the
/// provisional day; it may already have passed (an agreement recorded afterwards).
#[utoipa::path(operation_id = "replaceOrderTimescale", put, path = "/v1/orders/{id}/timescale", tag = "contract", request_body = Timescale,
    params(("id" = String, Path, description = "The order's id"),
        ("If-Match" = String, Header, description = "The order's `ETag` as last read: 412 when it has changed since, 428 without it, `*` overwrites")),
    responses((status = 200, body = OrderView, headers(("ETag" = String, description = "The order's revision"))),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`/problems/order-not-issued` or `/problems/not-an-emergency-order`"),
        (status = 412, body = Problem, description = "the order changed since it was read"),
        (status = 428, body = Problem, description = "no `If-Match`"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn agree_order_timescale(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
    if_match: IfMatch,
    body: Json<Timescale>,
) -> Result<HttpResponse, Problem> {
    let input = body.0;
    let id: OrderId = path_id(&id, "order")?;
    let find = move |conn: &mut DbConnection, who: &Principal| for_commissioner(conn, who, id);
    let order = command(&state, who, find, move |conn, o, who, _| {
        if_match.check(ETag(o.revision), "order")?;
        o.agree_timescale()?;
        if let Some(e) = input.due_by_error(o.issued_at.date()) {
            return Err(Problem::validation(vec![e]).into());
        }
        let now = Utc::now().naive_utc();
        let agreed_with = input.agreed_with.trim();
        let (due_by, by) = (input.due_by, &who.sub);
        if !order_store::set_timescale(conn, o.id, o.revision, due_by, agreed_with, by, now)? {
            // Changed since this transaction read it: signed or declined, or edited.
            let now_is = store::find_order(conn, o.id)?.expect("orders are never deleted");
            return Err(match now_is.status {
                OrderStatus::Issued => Problem::precondition_failed("order"),
                _ => not_issued("no longer issued"),
            }
            .into());
        }
        Ok(store::find_order(conn, o.id)?.expect("just updated"))
    })
    .await?;
    tracing::info!(order_id = %order.id, due_by = %order.due_by, "emergency order timescale agreed");
    Ok(order_answer(&order))
}

/// Record a variation of a signed order (a commissioner of its council): what changed, why,
/// from when. The order itself is never edited.
#[utoipa::path(operation_id = "createOrderVariation", post, path = "/v1/orders/{id}/variations", tag = "contract", request_body = NewVariation,
    params(("id" = String, Path, description = "The order's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and request within 24 hours get the first answer back, with no second variation")),
    responses((status = 201, body = VariationView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "`/problems/order-not-signed`"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn vary_order(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
    key: IdempotencyKey,
    body: Json<NewVariation>,
) -> Result<Answer, Problem> {
    let input = body.0;
    let id: OrderId = path_id(&id, "order")?;
    let find = move |conn: &mut DbConnection, who: &Principal| for_commissioner(conn, who, id);
    command_once(&state, who, key, find, move |conn, o, who, _| {
        o.status.vary()?;
        let variation = OrderVariation {
            id: VariationId::new(),
            order_id: o.id,
            seq: 0,
            what: input.what.trim().to_owned(),
            why: input.why.trim().to_owned(),
            effective_from: input.effective_from,
            recorded_by: who.sub.clone(),
            recorded_by_org: who.org.clone(),
            recorded_at: Utc::now().naive_utc(),
        };
        let variation = order_store::add_variation(conn, variation)?;
        tracing::info!(order_id = %variation.order_id, seq = variation.seq, "order variation recorded");
        Ok(Answer::created(&VariationView::from(&variation))
            .at(format!("/v1/orders/{}/variations", variation.order_id)))
    })
    .await
}

/// The variations of an order, oldest first (by `seq`; whoever may see the order).
#[utoipa::path(operation_id = "listOrderVariations", get, path = "/v1/orders/{id}/variations", tag = "contract",
    params(("id" = String, Path, description = "The order's id"), PageParams),
    responses((status = 200, body = Page<VariationView>), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_order_variations(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
    paging: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, Problem> {
    let id: OrderId = path_id(&id, "order")?;
    let page = PageRequest::from_query(&paging)?;
    let after: Option<i32> = page.after()?;
    let variations = state
        .store
        .db
        .run(move |conn| {
            let o = order_store::visible(conn, &who, id)?;
            let rows = order_store::variations(conn, o.id, after, page.fetch())?;
            Ok(page.page(rows, |v| v.seq))
        })
        .await?;
    Ok(HttpResponse::Ok().json(variations.map(|v| VariationView::from(&v))))
}
