//! Placements: starting one under a signed order, reading it.

use actix_web::{HttpResponse, http::header, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    prelude::*,
    result::{DatabaseErrorKind, Error as DieselError},
};
use hub_events::PlacementStarted;
use hub_platform::{Principal, Problem, Role, http::Json};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{ContractState, stored_uuid};
use crate::{
    domain::{NewPlacement, OrderStatus, PlacementStatus, may_see},
    store::{self, PlacementRow, schema::*},
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/placements", web::post().to(create_placement))
        .route("/v1/placements/{id}", web::get().to(get_placement));
}

/// A placement: a child living with a provider under a signed order.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlacementView {
    pub id: String,
    pub order_id: String,
    pub referral_id: String,
    pub council: String,
    pub partnership: String,
    pub provider_id: String,
    pub weekly_rate_pence: i64,
    pub start_date: NaiveDate,
    /// `active`.
    pub status: String,
    pub created_by: String,
    pub created_by_org: String,
    pub created_at: DateTime<Utc>,
}

impl From<&PlacementRow> for PlacementView {
    fn from(r: &PlacementRow) -> Self {
        Self {
            id: r.id.clone(),
            order_id: r.order_id.clone(),
            referral_id: r.referral_id.clone(),
            council: r.council.clone(),
            partnership: r.partnership.clone(),
            provider_id: r.provider_id.clone(),
            weekly_rate_pence: r.weekly_rate_pence,
            start_date: r.start_date,
            status: r.status.clone(),
            created_by: r.created_by.clone(),
            created_by_org: r.created_by_org.clone(),
            created_at: r.created_at.and_utc(),
        }
    }
}

/// Start the placement a signed order provides for (a commissioner of the order's council).
#[utoipa::path(post, path = "/v1/placements", tag = "contract", request_body = NewPlacement,
    responses((status = 201, body = PlacementView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`/problems/order-not-signed` or `/problems/already-placed`"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_placement(
    state: web::Data<ContractState>,
    who: Principal,
    body: Json<NewPlacement>,
) -> Result<HttpResponse, Problem> {
    who.require_any(&[Role::Commissioner])?;
    let input = body.0;
    let row = state
        .store
        .write(move |conn, events| {
            let order = store::find_order(conn, &input.order_id.to_string())?
                .filter(|o| o.council == who.org)
                .ok_or_else(|| Problem::not_found("order"))?;
            if order.status != OrderStatus::Signed.code() {
                return Err(Problem::conflict(
                    "order-not-signed",
                    format!("the order is {}", order.status),
                )
                .into());
            }
            let already =
                || Problem::conflict("already-placed", "the order already has a placement");
            if store::placement_for_order(conn, &order.id)?.is_some() {
                return Err(already().into());
            }
            let row = PlacementRow {
                id: Uuid::now_v7().to_string(),
                order_id: order.id.clone(),
                referral_id: order.referral_id.clone(),
                council: order.council.clone(),
                partnership: order.partnership.clone(),
                provider_id: order.provider_id.clone(),
                weekly_rate_pence: order.weekly_rate_pence,
                start_date: input.start_date.unwrap_or(order.start_date),
                status: PlacementStatus::Active.code().to_owned(),
                created_by: who.sub.clone(),
                created_by_org: who.org.clone(),
                created_at: Utc::now().naive_utc(),
            };
            // Two commissioners racing on PostgreSQL: the unique order_id settles it.
            match diesel::insert_into(placements::table)
                .values(&row)
                .execute(conn)
            {
                Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                    return Err(already().into());
                }
                other => other?,
            };
            events.emit(
                &row.partnership,
                &PlacementStarted {
                    placement_id: stored_uuid(&row.id)?,
                    order_id: Some(stored_uuid(&row.order_id)?),
                    referral_id: stored_uuid(&row.referral_id)?,
                    council: row.council.clone(),
                    provider_id: row.provider_id.clone(),
                    weekly_rate_pence: row.weekly_rate_pence,
                    extras_weekly_pence: 0,
                    start_date: row.start_date,
                    block_contract_id: None,
                    bed: None,
                },
            );
            Ok(row)
        })
        .await?;
    tracing::info!(placement_id = %row.id, order_id = %row.order_id, council = %row.council, "placement started");
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/placements/{}", row.id)))
        .json(PlacementView::from(&row)))
}

/// Read a placement: the same people who may see its order.
#[utoipa::path(get, path = "/v1/placements/{id}", tag = "contract",
    params(("id" = String, Path, description = "The placement's id")),
    responses((status = 200, body = PlacementView), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_placement(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    let row = state
        .store
        .db
        .run(move |conn| {
            let placement =
                store::find_placement(conn, &id)?.ok_or_else(|| Problem::not_found("placement"))?;
            let order = store::find_order(conn, &placement.order_id)?
                .ok_or_else(|| Problem::not_found("placement"))?;
            if !may_see(&who, &order.council, &order.provider_id) {
                return Err(Problem::not_found("placement").into());
            }
            Ok(placement)
        })
        .await?;
    Ok(HttpResponse::Ok().json(PlacementView::from(&row)))
}
