//! Orders: listing and reading them, and the provider's signature.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use hub_events::OrderSigned;
use hub_platform::{Principal, Problem, Role, http::parse_json};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ContractState, stored_uuid};
use crate::{
    domain::{OrderStatus, SignOrder, may_see},
    store::{self, OrderRow, schema::*},
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/orders", web::get().to(list_orders))
        .route("/v1/orders/{id}", web::get().to(get_order))
        .route("/v1/orders/{id}/sign", web::post().to(sign_order));
}

/// An order: what the council offers the awarded provider, at what weekly rate, from when.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub id: String,
    /// `issued` or `signed`.
    pub status: String,
    pub competition_id: String,
    pub referral_id: String,
    /// GSS code of the placing council.
    pub council: String,
    pub partnership: String,
    pub provider_id: String,
    pub framework_id: String,
    pub weekly_rate_pence: i64,
    pub start_date: NaiveDate,
    pub issued_at: DateTime<Utc>,
    /// The provider signs by this day (five working days after issue).
    pub due_by: NaiveDate,
    pub signed_by: Option<String>,
    pub signed_at: Option<DateTime<Utc>>,
}

impl From<&OrderRow> for OrderView {
    fn from(r: &OrderRow) -> Self {
        Self {
            id: r.id.clone(),
            status: r.status.clone(),
            competition_id: r.competition_id.clone(),
            referral_id: r.referral_id.clone(),
            council: r.council.clone(),
            partnership: r.partnership.clone(),
            provider_id: r.provider_id.clone(),
            framework_id: r.framework_id.clone(),
            weekly_rate_pence: r.weekly_rate_pence,
            start_date: r.start_date,
            issued_at: r.issued_at.and_utc(),
            due_by: r.due_by,
            signed_by: r.signed_by.clone(),
            signed_at: r.signed_at.map(|t| t.and_utc()),
        }
    }
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct OrderQuery {
    /// Only the order called off by this competition.
    pub competition_id: Option<String>,
    /// `issued`, `signed` or `declined`.
    pub status: Option<String>,
}

/// Orders the caller may see: its council's, or those awarded to its provider (newest first).
#[utoipa::path(get, path = "/v1/orders", tag = "contract", params(OrderQuery),
    responses((status = 200, body = [OrderView]), (status = 401, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_orders(
    state: web::Data<ContractState>,
    who: Principal,
    query: web::Query<OrderQuery>,
) -> Result<HttpResponse, Problem> {
    let query = query.into_inner();
    let rows: Vec<OrderRow> = state
        .store
        .db
        .run(move |conn| {
            let mut q = orders::table.into_boxed();
            if let Some(c) = query.competition_id {
                q = q.filter(orders::competition_id.eq(c));
            }
            if let Some(s) = query.status {
                q = q.filter(orders::status.eq(s));
            }
            q = if who.is_provider() {
                q.filter(orders::provider_id.eq(who.org.clone()))
            } else {
                q.filter(orders::council.eq(who.org.clone()))
            };
            let rows: Vec<OrderRow> = q
                .order(orders::issued_at.desc())
                .limit(500)
                .select(OrderRow::as_select())
                .load(conn)?;
            Ok(rows
                .into_iter()
                .filter(|o| may_see(&who, &o.council, &o.provider_id))
                .collect())
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(OrderView::from).collect::<Vec<_>>()))
}

/// Read an order: its council's staff and the provider it was awarded to; anyone else 404.
#[utoipa::path(get, path = "/v1/orders/{id}", tag = "contract",
    params(("id" = String, Path, description = "The order's id")),
    responses((status = 200, body = OrderView), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_order(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    let row = state
        .store
        .db
        .run(move |conn| {
            Ok(store::find_order(conn, &id)?
                .filter(|o| may_see(&who, &o.council, &o.provider_id))
                .ok_or_else(|| Problem::not_found("order"))?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(OrderView::from(&row)))
}

/// Sign an issued order (the provider it was awarded to). No body, or `{}`.
/// The order is immutable from then on.
#[utoipa::path(post, path = "/v1/orders/{id}/sign", tag = "contract",
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
    who.require_any(&[Role::Provider])?;
    if !body.iter().all(u8::is_ascii_whitespace) {
        parse_json::<SignOrder>(&body)?;
    }
    let id = id.into_inner();
    let row = state
        .store
        .write(move |conn, events| {
            let mut row = store::find_order(conn, &id)?
                .filter(|o| o.provider_id == who.org)
                .ok_or_else(|| Problem::not_found("order"))?;
            let not_issued = |status: &str| {
                Problem::conflict("order-not-issued", format!("the order is {status}"))
            };
            if row.status != OrderStatus::Issued.code() {
                return Err(not_issued(&row.status).into());
            }
            let now = Utc::now().naive_utc();
            if !store::sign_order(conn, &row.id, &who.sub, now)? {
                return Err(not_issued("no longer issued").into());
            }
            row.status = OrderStatus::Signed.code().to_owned();
            row.signed_by = Some(who.sub.clone());
            row.signed_at = Some(now);
            events.emit(
                &row.partnership,
                &OrderSigned {
                    order_id: stored_uuid(&row.id)?,
                    provider_id: row.provider_id.clone(),
                    council: row.council.clone(),
                    signed_by: who.sub.clone(),
                    late: now.date() > row.due_by,
                },
            );
            Ok(row)
        })
        .await?;
    tracing::info!(order_id = %row.id, provider_id = %row.provider_id, "order signed");
    Ok(HttpResponse::Ok().json(OrderView::from(&row)))
}
