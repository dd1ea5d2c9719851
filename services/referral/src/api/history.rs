//! `/v1/referrals/{id}/history`: every transition of a referral, for the council's staff.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use hub_platform::{
    Principal, Problem,
    page::{Page, PageParams, PageRequest},
};

use super::views::HistoryRecord;
use super::{ReferralState, referral_id};
use crate::app::reading;
use crate::ids::TransitionId;

/// Every transition of a referral, oldest first, a page at a time: who, when, from which
/// status to which, on which version, and why (the council's own staff only).
#[utoipa::path(get, path = "/v1/referrals/{id}/history", tag = "referral", operation_id = "listReferralHistory",
    params(("id" = String, Path, description = "The referral"), PageParams),
    responses((status = 200, body = Page<HistoryRecord>), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn history(
    state: web::Data<ReferralState>,
    who: Principal,
    id: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, Problem> {
    let page = PageRequest::from_query(&query)?;
    let (after, fetch): (Option<TransitionId>, _) = (page.after()?, page.fetch());
    let id = referral_id(&id)?;
    let rows = state
        .store
        .db
        .run(move |conn| reading::history(conn, id, &who, after, fetch))
        .await?;
    Ok(HttpResponse::Ok().json(page.page(rows, |h| h.id).map(HistoryRecord::from)))
}
