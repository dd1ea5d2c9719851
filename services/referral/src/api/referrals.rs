//! `/v1/referrals` and `/v1/referrals/{id}`: write, list, read and replace a referral.

use std::collections::HashMap;

use actix_web::{HttpResponse, http::StatusCode, web};
use chrono::Utc;
use hub_platform::{
    Principal, Problem,
    etag::IfMatch,
    http::Json,
    idempotency::{Answer, IdempotencyKey},
    page::{Page, PageParams, PageRequest},
};

use super::views::{ReferralSummary, ReferralView};
use super::{
    IDEMPOTENCY_KEY_DOC, IF_MATCH_DOC, ReferralState, WRITERS, council_command, council_shown,
    referral_id, shown,
};
use crate::app::{commands, reading};
use crate::domain::{Audience, NewReferral, ReferralDocument, ReferralStatus};
use crate::ids::ReferralId;

/// Write a referral (and optionally submit it). With an `Idempotency-Key`, a retry of the
/// same request gets the first answer again and writes nothing more.
#[utoipa::path(post, path = "/v1/referrals", tag = "referral", operation_id = "createReferral",
    request_body = NewReferral,
    params(("Idempotency-Key" = Option<String>, Header, description = IDEMPOTENCY_KEY_DOC)),
    responses((status = 201, body = ReferralView, headers(("Location" = String, description = "The referral"))),
        (status = 422, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn create(
    state: web::Data<ReferralState>,
    who: Principal,
    key: IdempotencyKey,
    body: Json<NewReferral>,
) -> Result<Answer, Problem> {
    who.require_any(WRITERS)?;
    let now = Utc::now().naive_utc();
    let org = who.org.clone();
    let answer = state
        .store
        .write_once(&org, &key, move |conn, events| {
            let (r, v) = commands::create(conn, events, &who, body.0, now)?;
            tracing::info!(referral_id = %r.id, council = %r.council, status = %r.status, "referral written");
            let at = format!("/v1/referrals/{}", r.id);
            Ok(Answer::created(&ReferralView::of(r, v, Audience::Council)).at(at))
        })
        .await?;
    Ok(answer)
}

/// Parses `status`, if given.
fn status_of(query: &HashMap<String, String>) -> Result<Option<ReferralStatus>, Problem> {
    query
        .get("status")
        .map(|s| {
            s.parse::<ReferralStatus>().map_err(|_| {
                let all: Vec<String> = ReferralStatus::ALL
                    .iter()
                    .map(ReferralStatus::to_string)
                    .collect();
                Problem::invalid("status", "one_of", all.join(", "))
            })
        })
        .transpose()
}

/// The council's own referrals, newest first, without their documents, a page at a time
/// (the filter applies to every page).
#[utoipa::path(get, path = "/v1/referrals", tag = "referral", operation_id = "listReferrals",
    params(
        ("status" = Option<ReferralStatus>, Query, description = "Only referrals in this status: draft, submitted, returned, in_competition, awarded, placed, closed or withdrawn"),
        PageParams,
    ),
    responses((status = 200, body = Page<ReferralSummary>), (status = 403, body = Problem), (status = 422, body = Problem)),
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
    let page = PageRequest::from_query(&query)?;
    let status = status_of(&query)?;
    let (after, fetch): (Option<ReferralId>, _) = (page.after()?, page.fetch());
    let rows = state
        .store
        .db
        .run(move |conn| reading::list(conn, &who, status, after, fetch))
        .await?;
    Ok(HttpResponse::Ok().json(page.page(rows, |r| r.id).map(ReferralSummary::from)))
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
    operation_id = "getReferral",
    params(
        ("id" = String, Path, description = "The referral"),
        ("version" = Option<i32>, Query, description = "A version (default: the latest for the council and the awarded provider, the one invited on for an invited provider)"),
    ),
    responses((status = 200, body = ReferralView, headers(("ETag" = String, description = "The referral's revision, for an edit's If-Match"))),
        (status = 404, body = Problem), (status = 422, body = Problem)),
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
    Ok(shown(StatusCode::OK, r, v, audience))
}

/// Replace the referral's document. A draft is rewritten in place; after submission every
/// change is a new version (`referral.updated`), and the providers invited are told of it.
/// Sending the current document again changes nothing. `If-Match` must name the referral's
/// revision (its `ETag`), so that an edit based on an old read cannot overwrite a newer one.
#[utoipa::path(put, path = "/v1/referrals/{id}", tag = "referral", operation_id = "replaceReferral",
    request_body = ReferralDocument,
    params(
        ("id" = String, Path, description = "The referral"),
        ("If-Match" = String, Header, description = IF_MATCH_DOC),
    ),
    responses((status = 200, body = ReferralView, headers(("ETag" = String, description = "The referral's revision after the edit"))),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem),
        (status = 422, body = Problem), (status = 428, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn update(
    state: web::Data<ReferralState>,
    who: Principal,
    if_match: IfMatch,
    id: web::Path<String>,
    body: Json<ReferralDocument>,
) -> Result<HttpResponse, Problem> {
    let shown = council_command(&state, who, &id, move |conn, events, who, id, now| {
        commands::update(conn, events, who, id, body.0, &if_match, now)
    })
    .await?;
    tracing::info!(referral_id = %shown.0.id, version = shown.1.version, "referral document changed");
    Ok(council_shown(shown))
}
