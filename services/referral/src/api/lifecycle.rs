//! `/v1/referrals/{id}/{submit,withdraw,route,close}`: the council moves its referral on.

use actix_web::{HttpResponse, web};
use hub_platform::{Principal, Problem, etag::IfMatch, http::Json};

use super::views::ReferralView;
use super::{IF_MATCH_DOC, ReferralState, council_command, council_shown};
use crate::app::commands;
use crate::domain::{Closing, Rerouting, Withdrawal};

/// Submit a draft referral.
#[utoipa::path(post, path = "/v1/referrals/{id}/submit", tag = "referral", operation_id = "submitReferral",
    responses((status = 200, body = ReferralView, headers(("ETag" = String, description = "The referral's revision"))), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn submit(
    state: web::Data<ReferralState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let shown = council_command(&state, who, &id, move |conn, events, who, id, now| {
        commands::submit(conn, events, who, id, now)
    })
    .await?;
    Ok(council_shown(shown))
}

/// Withdraw a referral, at any point before the child is placed (`referral.withdrawn`, with
/// the reason's code; the council's own words stay here).
#[utoipa::path(post, path = "/v1/referrals/{id}/withdraw", tag = "referral", operation_id = "withdrawReferral",
    request_body = Withdrawal,
    responses((status = 200, body = ReferralView, headers(("ETag" = String, description = "The referral's revision"))), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`/problems/referral-placed` once the child is placed; `/problems/referral-withdrawn` if already withdrawn"),
        (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn withdraw(
    state: web::Data<ReferralState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<Withdrawal>,
) -> Result<HttpResponse, Problem> {
    let shown = council_command(&state, who, &id, move |conn, events, who, id, now| {
        commands::withdraw(conn, events, who, id, body.0, now)
    })
    .await?;
    tracing::info!(referral_id = %shown.0.id, "referral withdrawn");
    Ok(council_shown(shown))
}

/// Change the route (the options appraisal), saying why. A draft is changed in place. A
/// submitted referral — never routed yet, or back from a competition that closed without an
/// award — gets a new version with the new route and reason, announced as `referral.updated`
/// and submitted again (`referral.submitted` with the new version and route), so the
/// competition service routes it afresh. While a competition is open, or once awarded, the
/// route cannot change here (409). `If-Match` must name the referral's revision (its `ETag`).
#[utoipa::path(post, path = "/v1/referrals/{id}/route", tag = "referral", operation_id = "rerouteReferral",
    request_body = Rerouting,
    params(("If-Match" = String, Header, description = IF_MATCH_DOC)),
    responses((status = 200, body = ReferralView, headers(("ETag" = String, description = "The referral's revision after the change"))),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem),
        (status = 422, body = Problem), (status = 428, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn reroute(
    state: web::Data<ReferralState>,
    who: Principal,
    if_match: IfMatch,
    id: web::Path<String>,
    body: Json<Rerouting>,
) -> Result<HttpResponse, Problem> {
    let shown = council_command(&state, who, &id, move |conn, events, who, id, now| {
        commands::reroute(conn, events, who, id, body.0, &if_match, now)
    })
    .await?;
    let (r, v) = &shown;
    tracing::info!(referral_id = %r.id, route = %r.route, version = v.version, "referral re-routed");
    Ok(council_shown(shown))
}

/// Close a placed referral (for instance when the placement ends): `referral.closed` (the
/// reason stays here), so nothing more is placed under it.
#[utoipa::path(post, path = "/v1/referrals/{id}/close", tag = "referral", operation_id = "closeReferral",
    request_body = Closing,
    responses((status = 200, body = ReferralView, headers(("ETag" = String, description = "The referral's revision"))), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn close(
    state: web::Data<ReferralState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<Closing>,
) -> Result<HttpResponse, Problem> {
    let reason = body.0.reason.trim().to_owned();
    let shown = council_command(&state, who, &id, move |conn, events, who, id, now| {
        commands::close(conn, events, who, id, reason, now)
    })
    .await?;
    Ok(council_shown(shown))
}
