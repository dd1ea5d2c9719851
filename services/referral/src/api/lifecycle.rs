//! `/v1/referrals/{id}/{submit,withdraw,route,close}`: the council moves its referral on.

use actix_web::{HttpResponse, web};
use hub_platform::{Principal, Problem, http::Json};

use super::views::ReferralView;
use super::{ReferralState, council_command};
use crate::app::commands;
use crate::domain::{Audience, Closing, Rerouting, Withdrawal};

/// Submit a draft referral.
#[utoipa::path(post, path = "/v1/referrals/{id}/submit", tag = "referral",
    responses((status = 200, body = ReferralView), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn submit(
    state: web::Data<ReferralState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let (r, v) = council_command(&state, who, &id, move |conn, events, who, id, now| {
        commands::submit(conn, events, who, id, now)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ReferralView::of(r, v, Audience::Council)))
}

/// Withdraw a referral, at any point before the child is placed (`referral.withdrawn`, with
/// the reason's code; the council's own words stay here).
#[utoipa::path(post, path = "/v1/referrals/{id}/withdraw", tag = "referral", request_body = Withdrawal,
    responses((status = 200, body = ReferralView), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`/problems/referral-placed` once the child is placed; `/problems/referral-withdrawn` if already withdrawn"),
        (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn withdraw(
    state: web::Data<ReferralState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<Withdrawal>,
) -> Result<HttpResponse, Problem> {
    let (r, v) = council_command(&state, who, &id, move |conn, events, who, id, now| {
        commands::withdraw(conn, events, who, id, body.0, now)
    })
    .await?;
    tracing::info!(referral_id = %r.id, "referral withdrawn");
    Ok(HttpResponse::Ok().json(ReferralView::of(r, v, Audience::Council)))
}

/// Change the route (the options appraisal), saying why. A draft is changed in place. A
/// submitted referral — never routed yet, or back from a competition that closed without an
/// award — gets a new version with the new route and reason, announced as `referral.updated`
/// and submitted again (`referral.submitted` with the new version and route), so the
/// competition service routes it afresh. While a competition is open, or once awarded, the
/// route cannot change here (409).
#[utoipa::path(post, path = "/v1/referrals/{id}/route", tag = "referral", request_body = Rerouting,
    responses((status = 200, body = ReferralView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn reroute(
    state: web::Data<ReferralState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<Rerouting>,
) -> Result<HttpResponse, Problem> {
    let (r, v) = council_command(&state, who, &id, move |conn, events, who, id, now| {
        commands::reroute(conn, events, who, id, body.0, now)
    })
    .await?;
    tracing::info!(referral_id = %r.id, route = %r.route, version = v.version, "referral re-routed");
    Ok(HttpResponse::Ok().json(ReferralView::of(r, v, Audience::Council)))
}

/// Close a placed referral (for instance when the placement ends): `referral.closed` (the
/// reason stays here), so nothing more is placed under it.
#[utoipa::path(post, path = "/v1/referrals/{id}/close", tag = "referral", request_body = Closing,
    responses((status = 200, body = ReferralView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn close(
    state: web::Data<ReferralState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<Closing>,
) -> Result<HttpResponse, Problem> {
    let reason = body.0.reason.trim().to_owned();
    let (r, v) = council_command(&state, who, &id, move |conn, events, who, id, now| {
        commands::close(conn, events, who, id, reason, now)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ReferralView::of(r, v, Audience::Council)))
}
