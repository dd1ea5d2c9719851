//! Placements: starting one under an order (an emergency order may not be signed yet) or in
//! a block contract's bed; reading and listing them; ending one.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use hub_bus::Events;
use hub_events::{PlacementEnded, PlacementStarted};
use hub_platform::{
    Pence, Principal, Problem, Role,
    db::{DbConnection, DbError},
    http::Json,
    idempotency::{Answer, IdempotencyKey},
    page::{Page, PageParams, PageRequest},
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ContractState, command, path_id, query_code};
use crate::{
    domain::{
        NewPlacement, Placement, PlacementStatus, listed_for, only_visible,
        placements::{EndPlacement, EndReason, placement_ended},
    },
    ids::{BlockContractId, HomeId, OrderId, PlacementId, ReferralId},
    store::{
        self, blocks,
        placements::{self as placement_store, PlacementFilter},
        referral_facts,
    },
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/placements", web::post().to(create_placement))
        .route("/v1/placements", web::get().to(list_placements))
        .route("/v1/placements/{id}", web::get().to(get_placement))
        .route("/v1/placements/{id}/end", web::post().to(end_placement));
}

/// How a placement ended.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PlacementEnding)]
pub struct Ending {
    /// The child's last night.
    pub end_date: NaiveDate,
    pub reason: EndReason,
    pub note: Option<String>,
    pub ended_by: Option<String>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// A placement: a child living in a provider's home (or with its carers) under an order, or
/// in a bed of a block contract.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlacementView {
    pub id: PlacementId,
    /// The order it is made under (none for a block bed).
    pub order_id: Option<OrderId>,
    pub block_contract_id: Option<BlockContractId>,
    pub bed: Option<i32>,
    pub referral_id: ReferralId,
    /// The council whose child it is.
    pub council: String,
    pub partnership: String,
    pub provider_id: String,
    pub home_id: Option<HomeId>,
    pub home_latitude: Option<f64>,
    pub home_longitude: Option<f64>,
    /// The core weekly fee now agreed (the order's or the block's, then the latest approved
    /// IPA version's).
    pub weekly_rate_pence: i64,
    /// The weekly cost of the additional services in the latest approved IPA version.
    pub extras_weekly_pence: i64,
    /// From when the rate and extras apply.
    pub rate_effective_from: NaiveDate,
    pub start_date: NaiveDate,
    pub status: PlacementStatus,
    pub ended: Option<Ending>,
    pub created_by: String,
    pub created_by_org: String,
    pub created_at: DateTime<Utc>,
}

impl From<&Placement> for PlacementView {
    fn from(r: &Placement) -> Self {
        Self {
            id: r.id,
            order_id: r.order_id,
            block_contract_id: r.block_contract_id,
            bed: r.bed,
            referral_id: r.referral_id,
            council: r.council.clone(),
            partnership: r.partnership.clone(),
            provider_id: r.provider_id.clone(),
            home_id: r.home_id,
            home_latitude: r.home_latitude,
            home_longitude: r.home_longitude,
            weekly_rate_pence: r.weekly_rate_pence.0,
            extras_weekly_pence: r.extras_weekly_pence.0,
            rate_effective_from: r.rate_effective_from.unwrap_or(r.start_date),
            start_date: r.start_date,
            status: r.status,
            // Ended together: `store::placements::end_placement` sets both.
            ended: r
                .end_date
                .zip(r.end_reason)
                .map(|(end_date, reason)| Ending {
                    end_date,
                    reason,
                    note: r.end_note.clone(),
                    ended_by: r.ended_by.clone(),
                    ended_at: r.ended_at.map(|t| t.and_utc()),
                }),
            created_by: r.created_by.clone(),
            created_by_org: r.created_by_org.clone(),
            created_at: r.created_at.and_utc(),
        }
    }
}

/// Commissioners and social workers (of the child's council): they end a placement and draft
/// or withdraw the versions of its IPA.
pub const COMMISSIONER_OR_SOCIAL_WORKER: &[Role] = &[Role::Commissioner, Role::SocialWorker];

/// The placement if `who` is of its council's staff with one of `roles` (404 if `who` may
/// not see it, 403 for its provider and the council's other staff).
pub fn for_council_role(
    conn: &mut DbConnection,
    who: &Principal,
    id: PlacementId,
    roles: &[Role],
) -> Result<Placement, DbError> {
    let p = placement_store::visible(conn, who, id)?;
    p.council_acts(who, roles)?;
    Ok(p)
}

/// The placement while it goes on, if `who` is of its council's staff with one of `roles`
/// (as [`for_council_role`]); 409 `/problems/placement-ended` once it has ended.
pub fn active_for_council_role(
    conn: &mut DbConnection,
    who: &Principal,
    id: PlacementId,
    roles: &[Role],
) -> Result<Placement, DbError> {
    let p = for_council_role(conn, who, id, roles)?;
    p.status.active()?;
    Ok(p)
}

/// A placement `who` starts for `referral_id`: the caller fills in what the order or the
/// block bed says (the partnership, the provider, the rate, the start).
fn started(who: &Principal, referral_id: ReferralId, input: &NewPlacement) -> Placement {
    Placement {
        id: PlacementId::new(),
        order_id: None,
        referral_id,
        council: who.org.clone(),
        partnership: String::new(),
        provider_id: String::new(),
        weekly_rate_pence: Pence::ZERO,
        start_date: NaiveDate::MIN,
        status: PlacementStatus::Active,
        created_by: who.sub.clone(),
        created_by_org: who.org.clone(),
        created_at: Utc::now().naive_utc(),
        extras_weekly_pence: Pence::ZERO,
        rate_effective_from: None,
        block_contract_id: None,
        bed: None,
        home_id: input.home_id.map(HomeId),
        home_latitude: input.home_latitude,
        home_longitude: input.home_longitude,
        end_date: None,
        end_reason: None,
        end_note: None,
        ended_by: None,
        ended_at: None,
    }
}

fn already() -> Problem {
    Problem::conflict("already-placed", "the order already has a placement")
}

/// A placement under an order: signed, or an emergency order whose signature follows.
fn under_order(
    conn: &mut DbConnection,
    who: &Principal,
    order_id: OrderId,
    input: &NewPlacement,
) -> Result<Placement, DbError> {
    let order = super::orders::for_commissioner(conn, who, order_id)?;
    order.place()?;
    if store::placement_for_order(conn, order.id)?.is_some() {
        return Err(already().into());
    }
    Ok(Placement {
        order_id: Some(order.id),
        council: order.council.clone(),
        partnership: order.partnership.clone(),
        provider_id: order.provider_id.clone(),
        weekly_rate_pence: order.weekly_rate_pence,
        start_date: input.start_date.unwrap_or(order.start_date),
        ..started(who, order.referral_id, input)
    })
}

/// A placement in a block contract's bed, which the block contract admits the child to.
fn in_block_bed(
    conn: &mut DbConnection,
    who: &Principal,
    block_contract_id: BlockContractId,
    bed: u16,
    input: &NewPlacement,
    events: &mut Events,
) -> Result<Placement, DbError> {
    if who.is_provider() || !who.has(Role::Commissioner) {
        return Err(Problem::forbidden("a commissioner of the child's council").into());
    }
    let (Some(referral_id), Some(start_date)) = (input.referral_id, input.start_date) else {
        unreachable!("validated: a block bed names the referral and the start date");
    };
    let (contract_id, referral_id) = (block_contract_id, ReferralId(referral_id));
    let admission = blocks::admit_to_bed(conn, &who.org, contract_id, bed, start_date)?;
    // A real referral of the placing council, in the contract's partnership, placeable now.
    referral_facts::check_block_bed(conn, referral_id, &who.org, &admission.partnership)?;
    let placement = Placement {
        partnership: admission.partnership,
        provider_id: admission.provider_id,
        weekly_rate_pence: Pence(admission.weekly_rate_pence),
        start_date,
        block_contract_id: Some(contract_id),
        bed: Some(i32::from(bed)),
        ..started(who, referral_id, input)
    };
    placement_store::insert(conn, &placement)?;
    blocks::bed_filled(
        conn,
        contract_id,
        bed,
        placement.id,
        &placement.council,
        start_date,
        events,
    )?;
    Ok(placement)
}

/// Start a placement (a commissioner of the child's council): under a signed order, or an
/// emergency (direct-award) order before its signature, which then follows within the
/// agreed time; or in a bed of a block contract held for or offered to the council, at the
/// block rate, for a referral of the council known to this service, in the contract's
/// partnership and placeable (404 for an unknown or another council's referral; 422 naming
/// `/referral_id` otherwise). Records the home (and its position, for the stability figures).
#[utoipa::path(operation_id = "createPlacement", post, path = "/v1/placements", tag = "contract", request_body = NewPlacement,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and request within 24 hours get the first answer back, with no second placement")),
    responses((status = 201, body = PlacementView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`/problems/order-not-signed`, `/problems/already-placed`, `/problems/bed-occupied`"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_placement(
    state: web::Data<ContractState>,
    who: Principal,
    key: IdempotencyKey,
    body: Json<NewPlacement>,
) -> Result<Answer, Problem> {
    let input = body.0;
    let org = who.org.clone();
    Ok(state
        .store
        .write_once(&org, &key, move |conn, events| {
            let placement = match (input.order_id, input.block_contract_id, input.bed) {
                (Some(order_id), _, _) => {
                    let placement = under_order(conn, &who, OrderId(order_id), &input)?;
                    // Two commissioners racing on PostgreSQL: the unique order_id settles it.
                    match placement_store::insert(conn, &placement) {
                        Err(DbError::Diesel(DieselError::DatabaseError(
                            DatabaseErrorKind::UniqueViolation,
                            _,
                        ))) => return Err(already().into()),
                        other => other?,
                    };
                    placement
                }
                (None, Some(contract), Some(bed)) => {
                    in_block_bed(conn, &who, BlockContractId(contract), bed, &input, events)?
                }
                _ => unreachable!("validated: an order or a block bed"),
            };
            events.emit(
                &placement.partnership,
                &PlacementStarted {
                    placement_id: placement.id.into(),
                    order_id: placement.order_id.map(Into::into),
                    referral_id: placement.referral_id.into(),
                    council: placement.council.clone(),
                    provider_id: placement.provider_id.clone(),
                    weekly_rate_pence: placement.weekly_rate_pence.0,
                    extras_weekly_pence: placement.extras_weekly_pence.0,
                    start_date: placement.start_date,
                    block_contract_id: placement.block_contract_id.map(Into::into),
                    bed: placement.block_bed().map(|(_, b)| b),
                },
            );
            tracing::info!(placement_id = %placement.id, order_id = placement.order_id.map(tracing::field::display), block_contract_id = placement.block_contract_id.map(tracing::field::display), council = %placement.council, "placement started");
            Ok(Answer::created(&PlacementView::from(&placement))
                .at(format!("/v1/placements/{}", placement.id)))
        })
        .await?)
}

/// Read a placement: its council's staff and its provider; anyone else 404.
#[utoipa::path(operation_id = "getPlacement", get, path = "/v1/placements/{id}", tag = "contract",
    params(("id" = String, Path, description = "The placement's id")),
    responses((status = 200, body = PlacementView), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_placement(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id: PlacementId = path_id(&id, "placement")?;
    let placement = state
        .store
        .db
        .run(move |conn| placement_store::visible(conn, &who, id))
        .await?;
    Ok(HttpResponse::Ok().json(PlacementView::from(&placement)))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PlacementQuery {
    /// Only this child's placements.
    pub referral_id: Option<String>,
    /// `active` or `ended`.
    pub status: Option<String>,
    /// The page's size (`PageParams`).
    #[param(ignore)]
    pub limit: Option<String>,
    /// The page's cursor (`PageParams`).
    #[param(ignore)]
    pub cursor: Option<String>,
}

/// Placements the caller may see: its council's children's, or those with its provider
/// (newest first, by id).
#[utoipa::path(operation_id = "listPlacements", get, path = "/v1/placements", tag = "contract", params(PlacementQuery, PageParams),
    responses((status = 200, body = Page<PlacementView>), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_placements(
    state: web::Data<ContractState>,
    who: Principal,
    query: web::Query<PlacementQuery>,
    paging: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, Problem> {
    let query = query.into_inner();
    let status: Option<PlacementStatus> =
        query_code(query.status.as_deref(), "status", "active or ended")?;
    let page = PageRequest::from_query(&paging)?;
    let after: Option<PlacementId> = page.after()?;
    let placements = state
        .store
        .db
        .run(move |conn| {
            let (council, provider_id) = listed_for(&who);
            let filter = PlacementFilter {
                council,
                provider_id,
                referral_id: query.referral_id,
                status,
            };
            let rows = placement_store::list(conn, filter, after, page.fetch())?;
            // Paged before the last word on each row, so no row is skipped by the cursor.
            let mut listed = page.page(rows, |p| p.id);
            listed.items = only_visible(&who, listed.items);
            Ok(listed)
        })
        .await?;
    Ok(HttpResponse::Ok().json(placements.map(|p| PlacementView::from(&p))))
}

/// End a placement (a commissioner or social worker of the child's council): the child's
/// last night and why. A block bed is emptied; the order and the block contract stay in
/// force. Ending it again is refused.
#[utoipa::path(operation_id = "endPlacement", post, path = "/v1/placements/{id}/end", tag = "contract", request_body = EndPlacement,
    params(("id" = String, Path, description = "The placement's id")),
    responses((status = 200, body = PlacementView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "`/problems/placement-ended`"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn end_placement(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<EndPlacement>,
) -> Result<HttpResponse, Problem> {
    let input = body.0;
    let id: PlacementId = path_id(&id, "placement")?;
    let find = move |conn: &mut DbConnection, who: &Principal| {
        active_for_council_role(conn, who, id, COMMISSIONER_OR_SOCIAL_WORKER)
    };
    let placement = command(&state, who, find, move |conn, p, who, events| {
        if let Some(e) = input.end_date_error(p.start_date) {
            return Err(Problem::validation(vec![e]).into());
        }
        let reason = input.reason;
        let note = input
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        let now = Utc::now().naive_utc();
        let (end_date, by) = (input.end_date, who.sub.as_str());
        if !placement_store::end_placement(conn, p.id, end_date, reason, note, by, now)? {
            return Err(placement_ended().into());
        }
        if let Some((contract, bed)) = p.block_bed() {
            blocks::bed_emptied(conn, contract, bed, p.id, end_date, events)?;
        }
        events.emit(
            &p.partnership,
            &PlacementEnded {
                placement_id: p.id.into(),
                council: p.council.clone(),
                provider_id: p.provider_id.clone(),
                end_date,
                reason: reason.to_string(),
                block_contract_id: p.block_contract_id.map(Into::into),
                bed: p.block_bed().map(|(_, b)| b),
            },
        );
        Ok(store::find_placement(conn, p.id)?.expect("just ended"))
    })
    .await?;
    tracing::info!(placement_id = %placement.id, reason = placement.end_reason.map(tracing::field::display), "placement ended");
    Ok(HttpResponse::Ok().json(PlacementView::from(&placement)))
}
