//! `/v1/referrals/{id}/versions`: the versions a caller may know of, without their content.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use hub_platform::{
    Principal, Problem,
    page::{Page, PageParams, PageRequest},
};

use super::views::ReferralVersionSummary;
use super::{ReferralState, referral_id};
use crate::app::reading;

/// The versions of a referral, oldest first, a page at a time: numbers, dates and who wrote
/// them, no content. The council's staff see every version (with the author and the route
/// of each); an invited provider sees the one it was invited on and later ones; the awarded
/// provider sees them all.
#[utoipa::path(get, path = "/v1/referrals/{id}/versions", tag = "referral", operation_id = "listReferralVersions",
    params(("id" = String, Path, description = "The referral"), PageParams),
    responses((status = 200, body = Page<ReferralVersionSummary>), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn versions(
    state: web::Data<ReferralState>,
    who: Principal,
    id: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, Problem> {
    let page = PageRequest::from_query(&query)?;
    let (after, fetch): (Option<i32>, _) = (page.after()?, page.fetch());
    let id = referral_id(&id)?;
    let (rows, council) = state
        .store
        .db
        .run(move |conn| reading::versions(conn, id, &who, after, fetch))
        .await?;
    Ok(HttpResponse::Ok().json(
        page.page(rows, |v| v.version)
            .map(|v| ReferralVersionSummary::of(v, council)),
    ))
}
