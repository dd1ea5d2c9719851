//! `/v1/referrals/{id}/reads`: the log of who read which version, for the council's staff.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use hub_platform::{
    Principal, Problem,
    page::{Page, PageParams, PageRequest},
};

use super::views::ReadRecord;
use super::{ReferralState, referral_id};
use crate::app::reading;
use crate::ids::ReadId;

/// Who read which version of a referral, in which view, when (the council's own staff only),
/// oldest first, a page at a time.
#[utoipa::path(get, path = "/v1/referrals/{id}/reads", tag = "referral", operation_id = "listReferralReads",
    params(("id" = String, Path, description = "The referral"), PageParams),
    responses((status = 200, body = Page<ReadRecord>), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn reads(
    state: web::Data<ReferralState>,
    who: Principal,
    id: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, Problem> {
    let page = PageRequest::from_query(&query)?;
    let (after, fetch): (Option<ReadId>, _) = (page.after()?, page.fetch());
    let id = referral_id(&id)?;
    let rows = state
        .store
        .db
        .run(move |conn| reading::reads(conn, id, &who, after, fetch))
        .await?;
    Ok(HttpResponse::Ok().json(page.page(rows, |r| r.id).map(ReadRecord::from)))
}
