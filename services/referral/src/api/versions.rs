//! `/v1/referrals/{id}/versions`: the versions a caller may know of, without their content.

use actix_web::{HttpResponse, web};
use hub_platform::{Principal, Problem};

use super::views::VersionSummary;
use super::{ReferralState, referral_id};
use crate::app::reading;

/// The versions of a referral: numbers, dates and who wrote them, no content. The council's
/// staff see every version (with the author and the route of each); an invited provider sees
/// the one it was invited on and later ones; the awarded provider sees them all.
#[utoipa::path(get, path = "/v1/referrals/{id}/versions", tag = "referral",
    responses((status = 200, body = [VersionSummary]), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn versions(
    state: web::Data<ReferralState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = referral_id(&id)?;
    let (list, council) = state
        .store
        .db
        .run(move |conn| reading::versions(conn, id, &who))
        .await?;
    let list: Vec<VersionSummary> = list
        .into_iter()
        .map(|v| VersionSummary::of(v, council))
        .collect();
    Ok(HttpResponse::Ok().json(list))
}
