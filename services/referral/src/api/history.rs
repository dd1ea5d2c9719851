//! `/v1/referrals/{id}/history`: every transition of a referral, for the council's staff.

use actix_web::{HttpResponse, web};
use hub_platform::{Principal, Problem};

use super::views::HistoryRecord;
use super::{ReferralState, referral_id};
use crate::app::reading;

/// Every transition of a referral: who, when, from which status to which, on which version,
/// and why (the council's own staff only).
#[utoipa::path(get, path = "/v1/referrals/{id}/history", tag = "referral",
    responses((status = 200, body = [HistoryRecord]), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn history(
    state: web::Data<ReferralState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = referral_id(&id)?;
    let history = state
        .store
        .db
        .run(move |conn| reading::history(conn, id, &who))
        .await?;
    Ok(HttpResponse::Ok().json(
        history
            .into_iter()
            .map(HistoryRecord::from)
            .collect::<Vec<_>>(),
    ))
}
