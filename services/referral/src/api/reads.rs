//! `/v1/referrals/{id}/reads`: the log of who read which version, for the council's staff.

use actix_web::{HttpResponse, web};
use hub_platform::{Principal, Problem};

use super::views::ReadRecord;
use super::{ReferralState, referral_id};
use crate::app::reading;

/// Who read which version of a referral, in which view, when (the council's own staff only).
#[utoipa::path(get, path = "/v1/referrals/{id}/reads", tag = "referral",
    responses((status = 200, body = [ReadRecord]), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn reads(
    state: web::Data<ReferralState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = referral_id(&id)?;
    let reads = state
        .store
        .db
        .run(move |conn| reading::reads(conn, id, &who))
        .await?;
    Ok(HttpResponse::Ok().json(reads.into_iter().map(ReadRecord::from).collect::<Vec<_>>()))
}
