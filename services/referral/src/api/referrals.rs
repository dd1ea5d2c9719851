//! `/v1/referrals` and `/v1/referrals/{id}`: write, list, read and replace a referral.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::Utc;
use hub_platform::{Principal, Problem, http::Json};

use super::views::{ReferralSummary, ReferralView};
use super::{ReferralState, WRITERS, council_command, referral_id};
use crate::app::{commands, reading};
use crate::domain::{Audience, NewReferral, ReferralDocument, Status};

/// Write a referral (and optionally submit it).
#[utoipa::path(post, path = "/v1/referrals", tag = "referral", request_body = NewReferral,
    responses((status = 201, body = ReferralView), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn create(
    state: web::Data<ReferralState>,
    who: Principal,
    body: Json<NewReferral>,
) -> Result<HttpResponse, Problem> {
    who.require_any(WRITERS)?;
    let now = Utc::now().naive_utc();
    let (r, v) = state
        .store
        .write(move |conn, events| commands::create(conn, events, &who, body.0, now))
        .await?;
    tracing::info!(referral_id = %r.id, council = %r.council, status = %r.status, "referral written");
    Ok(HttpResponse::Created().json(ReferralView::of(r, v, Audience::Council)))
}

/// Parses `limit` (1 to 200, default 50).
fn limit_of(query: &HashMap<String, String>) -> Result<i64, Problem> {
    match query.get("limit") {
        None => Ok(50),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=200).contains(n))
            .ok_or_else(|| Problem::invalid("limit", "range", "a whole number from 1 to 200")),
    }
}

/// The council's own referrals, newest first, without their documents.
#[utoipa::path(get, path = "/v1/referrals", tag = "referral",
    params(
        ("status" = Option<String>, Query, description = "Only referrals in this status: draft, submitted, returned, in_competition, awarded, placed, closed or withdrawn"),
        ("limit" = Option<i64>, Query, description = "At most this many (1 to 200, default 50)"),
    ),
    responses((status = 200, body = [ReferralSummary]), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    state: web::Data<ReferralState>,
    who: Principal,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, Problem> {
    if !reading::council_reader(&who) {
        return Err(Problem::forbidden(
            "referrals are listed by their council's commissioners, social workers and admins",
        ));
    }
    let limit = limit_of(&query)?;
    let status = match query.get("status") {
        None => None,
        Some(s) => Some(s.parse::<Status>().map_err(|_| {
            let all: Vec<String> = Status::ALL.iter().map(Status::to_string).collect();
            Problem::invalid("status", "one_of", all.join(", "))
        })?),
    };
    let list = state
        .store
        .db
        .run(move |conn| reading::list(conn, &who, status, limit))
        .await?;
    Ok(HttpResponse::Ok().json(
        list.into_iter()
            .map(ReferralSummary::from)
            .collect::<Vec<_>>(),
    ))
}

/// Parses `version` (a whole number from 1).
fn version_of(query: &HashMap<String, String>) -> Result<Option<i32>, Problem> {
    query
        .get("version")
        .map(|v| {
            v.parse::<i32>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| Problem::invalid("version", "min", "a version number from 1"))
        })
        .transpose()
}

/// Read a referral. The council's own staff see it all, any version. An invited provider sees
/// the redacted view of the version it was invited on (`latest_version` tells it of later
/// ones, which it may read with `?version=N`) until it is awarded, then the full document.
/// Anyone else gets 404. Every read is logged: who, which version, which view, when.
#[utoipa::path(get, path = "/v1/referrals/{id}", tag = "referral",
    params(
        ("id" = String, Path, description = "The referral"),
        ("version" = Option<i32>, Query, description = "A version (default: the latest for the council and the awarded provider, the one invited on for an invited provider)"),
    ),
    responses((status = 200, body = ReferralView), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(
    state: web::Data<ReferralState>,
    who: Principal,
    id: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, Problem> {
    let asked = version_of(&query)?;
    let id = referral_id(&id)?;
    let now = Utc::now().naive_utc();
    let (r, v, audience) = state
        .store
        .write(move |conn, _| reading::read(conn, id, &who, asked, now))
        .await?;
    Ok(HttpResponse::Ok().json(ReferralView::of(r, v, audience)))
}

/// Replace the referral's document. A draft is rewritten in place; after submission every
/// change is a new version (`referral.updated`), and the providers invited are told of it.
/// Sending the current document again changes nothing.
#[utoipa::path(put, path = "/v1/referrals/{id}", tag = "referral", request_body = ReferralDocument,
    responses((status = 200, body = ReferralView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn update(
    state: web::Data<ReferralState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<ReferralDocument>,
) -> Result<HttpResponse, Problem> {
    let (r, v) = council_command(&state, who, &id, move |conn, events, who, id, now| {
        commands::update(conn, events, who, id, body.0, now)
    })
    .await?;
    tracing::info!(referral_id = %r.id, version = v.version, "referral document changed");
    Ok(HttpResponse::Ok().json(ReferralView::of(r, v, Audience::Council)))
}
