//! HTTP handlers of the referral service.
//!
//! Who may do what:
//! * the council's own commissioners and social workers (and its admins, for reading) write,
//!   change, route, withdraw, close, list and read its referrals in full, and see who read
//!   which version when;
//! * a provider invited to bid reads the redacted view of the version it was invited on (and
//!   of later versions, with `?version=N`), and lists those versions; once awarded it reads
//!   every version in full;
//! * anyone else gets 404 for a referral id, so ids do not leak; a caller without the role
//!   for an action gets 403 whatever the id.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use hub_bus::Store;
use hub_events::{ReferralClosed, ReferralSubmitted, ReferralUpdated, ReferralWithdrawn};
use hub_platform::{DbConnection, Principal, Problem, Role, db::DbError, directory, http::Json};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::domain::{
    self, Change, Closing, Conflict, NewReferral, RedactedDocument, ReferralDocument, Rerouting,
    Status, VersionKind, Withdrawal, WithdrawalReason,
};
use crate::store::{self, HistoryRow, ReadRow, ReferralRow, Transition, VersionRow, schema::*};

pub struct ReferralState {
    pub store: Store,
}

#[derive(OpenApi)]
#[openapi(
    paths(create, list, get, update, submit, withdraw, reroute, close, versions, reads, history),
    components(schemas(WithdrawalReason, VersionKind)),
    tags((name = "referral", description = "The shared referral document: the child's profile, needs and \
        route, its versions, and who may read which. Lifecycle: draft → submitted → in_competition → awarded → \
        placed → closed, or withdrawn at any point before placement. A closed competition puts the referral back \
        to submitted, to be re-routed; one the competition service cannot route comes back as returned, with a \
        reason code, to be re-routed (another framework or lot) or withdrawn."))
)]
pub struct ReferralApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/referrals", web::post().to(create))
        .route("/v1/referrals", web::get().to(list))
        .route("/v1/referrals/{id}", web::get().to(get))
        .route("/v1/referrals/{id}", web::put().to(update))
        .route("/v1/referrals/{id}/submit", web::post().to(submit))
        .route("/v1/referrals/{id}/withdraw", web::post().to(withdraw))
        .route("/v1/referrals/{id}/route", web::post().to(reroute))
        .route("/v1/referrals/{id}/close", web::post().to(close))
        .route("/v1/referrals/{id}/versions", web::get().to(versions))
        .route("/v1/referrals/{id}/reads", web::get().to(reads))
        .route("/v1/referrals/{id}/history", web::get().to(history));
}

/// The roles of a council's placement team, who write referrals.
const WRITERS: &[Role] = &[Role::Commissioner, Role::SocialWorker];
/// The council roles that read and list referrals.
const COUNCIL_READERS: &[Role] = &[Role::Commissioner, Role::SocialWorker, Role::Admin];

fn council_reader(who: &Principal) -> bool {
    !who.is_provider() && COUNCIL_READERS.iter().any(|r| who.has(*r))
}

fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

fn conflict(c: Conflict) -> DbError {
    Problem::conflict(c.slug, c.detail).into()
}

fn status_of(row: &ReferralRow) -> Result<Status, DbError> {
    Status::parse(&row.status)
        .ok_or_else(|| DbError::Other(anyhow::anyhow!("stored status `{}`", row.status)))
}

/// The caller's council's referral `id`, or 404.
fn own(conn: &mut DbConnection, id: &str, who: &Principal) -> Result<ReferralRow, DbError> {
    Ok(store::find(conn, id)?
        .filter(|r| r.council == who.org)
        .ok_or_else(|| Problem::not_found("referral"))?)
}

fn parse_doc(v: &VersionRow) -> Result<ReferralDocument, DbError> {
    serde_json::from_str(&v.document)
        .map_err(|e| DbError::Other(anyhow::anyhow!("stored document: {e}")))
}

fn code_of<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A referral as its council sees it, or as a provider sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralView {
    pub id: String,
    pub status: String,
    /// The version shown.
    pub version: i32,
    /// The newest version: a provider shown the version it was invited on learns here that
    /// there is a later one (read it with `?version=N`).
    pub latest_version: i32,
    pub council: String,
    pub partnership: String,
    pub framework_id: String,
    pub lot_id: String,
    pub route: String,
    /// Why this route (the options appraisal). The council's staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_reason: Option<String>,
    /// Why the status last changed (a withdrawal, a closed competition). The council's staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    pub urgency: String,
    /// `full` or `redacted`.
    pub view: String,
    /// When the version shown was written.
    pub version_created_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<ReferralDocument>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redacted: Option<RedactedDocument>,
}

/// Who is looking, which decides what a view holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// The council's own staff: everything.
    Council,
    /// The awarded provider: the full document, not the council's reasoning.
    Awarded,
    /// An invited provider: the redacted document.
    Invited,
}

fn view(row: &ReferralRow, version: &VersionRow, who: Audience) -> Result<ReferralView, DbError> {
    let doc = parse_doc(version)?;
    let full = who != Audience::Invited;
    let council = who == Audience::Council;
    Ok(ReferralView {
        id: row.id.clone(),
        status: row.status.clone(),
        version: version.version,
        latest_version: row.version,
        council: row.council.clone(),
        partnership: row.partnership.clone(),
        framework_id: row.framework_id.clone(),
        lot_id: row.lot_id.clone(),
        route: row.route.clone(),
        route_reason: council.then(|| row.route_reason.clone()),
        status_reason: row.status_reason.clone().filter(|_| council),
        urgency: row.urgency.clone(),
        view: if full { "full" } else { "redacted" }.to_owned(),
        version_created_at: utc(version.created_at),
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
        redacted: (!full).then(|| doc.redacted()),
        document: full.then_some(doc),
    })
}

/// A referral in a list: no document, so no child's personal data (reading that is a logged
/// `GET` of the referral).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralSummary {
    pub id: String,
    pub status: String,
    pub version: i32,
    pub partnership: String,
    pub framework_id: String,
    pub lot_id: String,
    pub route: String,
    pub urgency: String,
    pub awarded_provider: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&ReferralRow> for ReferralSummary {
    fn from(r: &ReferralRow) -> Self {
        Self {
            id: r.id.clone(),
            status: r.status.clone(),
            version: r.version,
            partnership: r.partnership.clone(),
            framework_id: r.framework_id.clone(),
            lot_id: r.lot_id.clone(),
            route: r.route.clone(),
            urgency: r.urgency.clone(),
            awarded_provider: r.awarded_provider.clone(),
            created_by: r.created_by.clone(),
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        }
    }
}

/// One version of a referral, without its content.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionSummary {
    pub version: i32,
    pub created_at: DateTime<Utc>,
    /// The organisation that wrote it.
    pub created_by_org: String,
    /// The user who wrote it (the council's staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    pub kind: VersionKind,
    /// The route in force from this version (the council's staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// Why that route (the council's staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_reason: Option<String>,
}

fn version_summary(v: &VersionRow, council: bool) -> VersionSummary {
    VersionSummary {
        version: v.version,
        created_at: utc(v.created_at),
        created_by_org: v.created_by_org.clone(),
        created_by: council.then(|| v.created_by.clone()),
        kind: match v.kind.as_str() {
            "document" => VersionKind::Document,
            "route" => VersionKind::Route,
            _ => VersionKind::Created,
        },
        route: council.then(|| v.route.clone()),
        route_reason: council.then(|| v.route_reason.clone()),
    }
}

/// Coordinates rounded to 0.01°: an area, not an address.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn parse_uuid(s: &str) -> Result<Uuid, DbError> {
    Uuid::parse_str(s).map_err(|e| DbError::Other(anyhow::anyhow!("stored id: {e}")))
}

fn submitted_event(
    row: &ReferralRow,
    doc: &ReferralDocument,
    by: &str,
) -> Result<ReferralSubmitted, DbError> {
    Ok(ReferralSubmitted {
        referral_id: parse_uuid(&row.id)?,
        version: row.version as u32,
        council: row.council.clone(),
        framework_id: parse_uuid(&row.framework_id)?,
        lot_id: parse_uuid(&row.lot_id)?,
        route: row.route.clone(),
        placement_type: doc.placement_type.code().to_owned(),
        urgency: doc.urgency,
        age_band: doc.age_band(),
        age_years: hub_events::age_in_years(doc.child.date_of_birth, doc.wanted_start),
        gender: doc.child.gender.clone(),
        needs: doc.needs.clone(),
        educational_needs: doc
            .education
            .as_ref()
            .map(|e| e.educational_needs.clone())
            .unwrap_or_default(),
        ehcp: doc.education.as_ref().is_some_and(|e| e.ehcp),
        wanted_start: doc.wanted_start,
        area_district: doc.location.postcode_district.clone(),
        area_latitude: round2(doc.location.latitude),
        area_longitude: round2(doc.location.longitude),
        max_distance_miles: doc.location.max_distance_miles,
        submitted_by: by.to_owned(),
    })
}

fn updated_event(row: &ReferralRow, doc: &ReferralDocument) -> Result<ReferralUpdated, DbError> {
    Ok(ReferralUpdated {
        referral_id: parse_uuid(&row.id)?,
        version: row.version as u32,
        council: row.council.clone(),
        urgency: doc.urgency,
        needs: doc.needs.clone(),
    })
}

/// Records a transition made by the caller.
fn record_by(
    conn: &mut DbConnection,
    row: &ReferralRow,
    who: &Principal,
    action: &str,
    from: Status,
    detail: Option<String>,
) -> Result<(), DbError> {
    store::record(
        conn,
        &row.id,
        row.updated_at,
        Transition {
            action,
            from: from.code(),
            to: &row.status,
            version: row.version,
            actor: &who.sub,
            actor_org: &who.org,
            detail,
        },
    )
}

/// 422 naming `/framework_id` or `/lot_id` if the referral would go nowhere, as far as the
/// replica of the competition service's frameworks can tell ([`domain::routing_errors`]).
fn check_routing(conn: &mut DbConnection, row: &ReferralRow) -> Result<(), DbError> {
    if !domain::Route::parse(&row.route).is_some_and(domain::Route::competed) {
        return Ok(());
    }
    let known = store::known_framework(conn, &row.framework_id)?;
    let errors =
        domain::routing_errors(known.as_ref(), &row.partnership, &row.council, &row.lot_id);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::validation(errors).into())
    }
}

/// Writes the referral row's mutable columns.
fn save(conn: &mut DbConnection, row: &ReferralRow) -> Result<(), DbError> {
    diesel::update(referrals::table.find(&row.id))
        .set((
            referrals::status.eq(&row.status),
            referrals::version.eq(row.version),
            referrals::framework_id.eq(&row.framework_id),
            referrals::lot_id.eq(&row.lot_id),
            referrals::route.eq(&row.route),
            referrals::route_reason.eq(&row.route_reason),
            referrals::urgency.eq(&row.urgency),
            referrals::status_reason.eq(&row.status_reason),
            referrals::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

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
    let input = body.0;
    let partnership = directory::partnership(&input.partnership).expect("validated");
    if !partnership.has_member(&who.org) {
        return Err(Problem::invalid(
            "/partnership",
            "member",
            format!(
                "your organisation {} is not a member of {}",
                who.org, partnership.code
            ),
        ));
    }
    let now = Utc::now().naive_utc();
    let status = if input.submit {
        Status::Submitted
    } else {
        Status::Draft
    };
    let row = ReferralRow {
        id: Uuid::now_v7().to_string(),
        council: who.org.clone(),
        partnership: partnership.code.to_owned(),
        framework_id: input.framework_id.to_string(),
        lot_id: input.lot_id.to_string(),
        status: status.code().to_owned(),
        version: 1,
        route: input.route.code().to_owned(),
        route_reason: input.route_reason.trim().to_owned(),
        urgency: code_of(&input.document.urgency),
        awarded_provider: None,
        created_by: who.sub.clone(),
        created_at: now,
        updated_at: now,
        status_reason: None,
        competition_id: None,
        competition_at: None,
    };
    let version = VersionRow {
        referral_id: row.id.clone(),
        version: 1,
        document: serde_json::to_string(&input.document).map_err(anyhow::Error::from)?,
        created_by: who.sub.clone(),
        created_by_org: who.org.clone(),
        created_at: now,
        route: row.route.clone(),
        route_reason: row.route_reason.clone(),
        kind: VersionKind::Created.code().to_owned(),
    };
    let doc = input.document;
    let (r, v) = (row.clone(), version.clone());
    state
        .store
        .write(move |conn, events| {
            check_routing(conn, &r)?;
            diesel::insert_into(referrals::table)
                .values(&r)
                .execute(conn)?;
            diesel::insert_into(referral_versions::table)
                .values(&v)
                .execute(conn)?;
            let mut as_written = r.clone();
            as_written.status = Status::Draft.code().to_owned();
            record_by(conn, &as_written, &who, "created", Status::Draft, None)?;
            if r.status == Status::Submitted.code() {
                record_by(conn, &r, &who, "submitted", Status::Draft, None)?;
                events.emit(&r.partnership, &submitted_event(&r, &doc, &who.sub)?);
            }
            Ok(())
        })
        .await?;
    tracing::info!(referral_id = %row.id, council = %row.council, status = %row.status, "referral written");
    Ok(HttpResponse::Created().json(view(&row, &version, Audience::Council)?))
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
    if !council_reader(&who) {
        return Err(Problem::forbidden(
            "referrals are listed by their council's commissioners, social workers and admins",
        ));
    }
    let limit = limit_of(&query)?;
    let status = match query.get("status") {
        None => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            let all: Vec<&str> = Status::ALL.iter().map(|s| s.code()).collect();
            Problem::invalid("status", "one_of", all.join(", "))
        })?),
    };
    let rows = state
        .store
        .db
        .run(move |conn| store::of_council(conn, &who.org, status.map(Status::code), limit))
        .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(ReferralSummary::from).collect::<Vec<_>>()))
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
    let id = id.into_inner();
    let shown = state
        .store
        .write(move |conn, _| {
            let not_found = || Problem::not_found("referral");
            let row = store::find(conn, &id)?.ok_or_else(not_found)?;
            let (audience, default, invited) = if row.council == who.org && council_reader(&who) {
                (Audience::Council, row.version, None)
            } else if who.is_provider() {
                if row.awarded_provider.as_deref() == Some(who.org.as_str()) {
                    (Audience::Awarded, row.version, None)
                } else {
                    let v = store::invitation(conn, &row.id, &who.org)?.ok_or_else(not_found)?;
                    (Audience::Invited, v, Some(v))
                }
            } else {
                return Err(not_found().into());
            };
            let version = asked.unwrap_or(default);
            let readable =
                audience != Audience::Invited || domain::provider_may_read(version, invited, false);
            if version > row.version || !readable {
                return Err(Problem::not_found("referral version").into());
            }
            let v = store::version(conn, &row.id, version)?;
            let shown = view(&row, &v, audience)?;
            diesel::insert_into(referral_reads::table)
                .values(&ReadRow {
                    id: Uuid::now_v7().to_string(),
                    referral_id: row.id.clone(),
                    version,
                    reader_sub: who.sub.clone(),
                    reader_org: who.org.clone(),
                    view: shown.view.clone(),
                    read_at: Utc::now().naive_utc(),
                })
                .execute(conn)?;
            Ok(shown)
        })
        .await?;
    Ok(HttpResponse::Ok().json(shown))
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
    who.require_any(WRITERS)?;
    let doc = body.0;
    let id = id.into_inner();
    let shown = state
        .store
        .write(move |conn, events| {
            let mut row = own(conn, &id, &who)?;
            let status = status_of(&row)?;
            let change = status.edit().map_err(conflict)?;
            let current = store::version(conn, &row.id, row.version)?;
            if parse_doc(&current)? == doc {
                return view(&row, &current, Audience::Council);
            }
            let now = Utc::now().naive_utc();
            let text = serde_json::to_string(&doc).map_err(anyhow::Error::from)?;
            row.urgency = code_of(&doc.urgency);
            row.updated_at = now;
            let version = match change {
                Change::InPlace => {
                    diesel::update(referral_versions::table.find((&row.id, row.version)))
                        .set((
                            referral_versions::document.eq(&text),
                            referral_versions::created_by.eq(&who.sub),
                            referral_versions::created_by_org.eq(&who.org),
                            referral_versions::created_at.eq(now),
                        ))
                        .execute(conn)?;
                    save(conn, &row)?;
                    store::version(conn, &row.id, row.version)?
                }
                Change::NewVersion => {
                    row.version += 1;
                    let v = VersionRow {
                        referral_id: row.id.clone(),
                        version: row.version,
                        document: text,
                        created_by: who.sub.clone(),
                        created_by_org: who.org.clone(),
                        created_at: now,
                        route: row.route.clone(),
                        route_reason: row.route_reason.clone(),
                        kind: VersionKind::Document.code().to_owned(),
                    };
                    diesel::insert_into(referral_versions::table)
                        .values(&v)
                        .execute(conn)?;
                    save(conn, &row)?;
                    record_by(conn, &row, &who, "updated", status, None)?;
                    events.emit(&row.partnership, &updated_event(&row, &doc)?);
                    v
                }
            };
            view(&row, &version, Audience::Council)
        })
        .await?;
    tracing::info!(referral_id = %shown.id, version = shown.version, "referral document changed");
    Ok(HttpResponse::Ok().json(shown))
}

/// Submit a draft referral.
#[utoipa::path(post, path = "/v1/referrals/{id}/submit", tag = "referral",
    responses((status = 200, body = ReferralView), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn submit(
    state: web::Data<ReferralState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    who.require_any(WRITERS)?;
    let id = id.into_inner();
    let shown = state
        .store
        .write(move |conn, events| {
            let mut row = own(conn, &id, &who)?;
            if row.status != Status::Draft.code() {
                return Err(Problem::conflict(
                    "referral-not-draft",
                    format!("the referral is {}", row.status),
                )
                .into());
            }
            check_routing(conn, &row)?;
            let version = store::version(conn, &row.id, row.version)?;
            let doc = parse_doc(&version)?;
            row.status = Status::Submitted.code().to_owned();
            row.updated_at = Utc::now().naive_utc();
            save(conn, &row)?;
            record_by(conn, &row, &who, "submitted", Status::Draft, None)?;
            events.emit(&row.partnership, &submitted_event(&row, &doc, &who.sub)?);
            view(&row, &version, Audience::Council)
        })
        .await?;
    Ok(HttpResponse::Ok().json(shown))
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
    who.require_any(WRITERS)?;
    let input = body.0;
    let id = id.into_inner();
    let shown = state
        .store
        .write(move |conn, events| {
            let mut row = own(conn, &id, &who)?;
            let from = status_of(&row)?;
            let to = from.withdraw().map_err(conflict)?;
            row.status = to.code().to_owned();
            row.status_reason = Some(input.describe());
            row.updated_at = Utc::now().naive_utc();
            save(conn, &row)?;
            record_by(
                conn,
                &row,
                &who,
                "withdrawn",
                from,
                row.status_reason.clone(),
            )?;
            if from != Status::Draft {
                events.emit(
                    &row.partnership,
                    &ReferralWithdrawn {
                        referral_id: parse_uuid(&row.id)?,
                        council: row.council.clone(),
                        reason: input.reason.code().to_owned(),
                    },
                );
            }
            let v = store::version(conn, &row.id, row.version)?;
            view(&row, &v, Audience::Council)
        })
        .await?;
    tracing::info!(referral_id = %shown.id, "referral withdrawn");
    Ok(HttpResponse::Ok().json(shown))
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
    who.require_any(WRITERS)?;
    let input = body.0;
    let id = id.into_inner();
    let shown = state
        .store
        .write(move |conn, events| {
            let mut row = own(conn, &id, &who)?;
            let status = status_of(&row)?;
            let change = status.reroute().map_err(conflict)?;
            let current = store::version(conn, &row.id, row.version)?;
            let now = Utc::now().naive_utc();
            let from_route = row.route.clone();
            row.route = input.route.code().to_owned();
            row.route_reason = input.reason.trim().to_owned();
            if let Some(f) = input.framework_id {
                row.framework_id = f.to_string();
            }
            if let Some(l) = input.lot_id {
                row.lot_id = l.to_string();
            }
            check_routing(conn, &row)?;
            row.status = status.rerouted().code().to_owned();
            row.updated_at = now;
            let detail = Some(format!(
                "{from_route} → {}: {}",
                row.route, row.route_reason
            ));
            let version = match change {
                Change::InPlace => {
                    diesel::update(referral_versions::table.find((&row.id, row.version)))
                        .set((
                            referral_versions::route.eq(&row.route),
                            referral_versions::route_reason.eq(&row.route_reason),
                        ))
                        .execute(conn)?;
                    save(conn, &row)?;
                    record_by(conn, &row, &who, "rerouted", status, detail)?;
                    store::version(conn, &row.id, row.version)?
                }
                Change::NewVersion => {
                    let doc = parse_doc(&current)?;
                    row.version += 1;
                    let v = VersionRow {
                        referral_id: row.id.clone(),
                        version: row.version,
                        document: current.document.clone(),
                        created_by: who.sub.clone(),
                        created_by_org: who.org.clone(),
                        created_at: now,
                        route: row.route.clone(),
                        route_reason: row.route_reason.clone(),
                        kind: VersionKind::Route.code().to_owned(),
                    };
                    diesel::insert_into(referral_versions::table)
                        .values(&v)
                        .execute(conn)?;
                    row.status_reason = None;
                    save(conn, &row)?;
                    record_by(conn, &row, &who, "resubmitted", status, detail)?;
                    events.emit(&row.partnership, &updated_event(&row, &doc)?);
                    events.emit(&row.partnership, &submitted_event(&row, &doc, &who.sub)?);
                    v
                }
            };
            view(&row, &version, Audience::Council)
        })
        .await?;
    tracing::info!(referral_id = %shown.id, route = %shown.route, version = shown.version, "referral re-routed");
    Ok(HttpResponse::Ok().json(shown))
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
    who.require_any(WRITERS)?;
    let reason = body.0.reason.trim().to_owned();
    let id = id.into_inner();
    let shown = state
        .store
        .write(move |conn, events| {
            let mut row = own(conn, &id, &who)?;
            let from = status_of(&row)?;
            row.status = from.close().map_err(conflict)?.code().to_owned();
            events.emit(
                &row.partnership,
                &ReferralClosed {
                    referral_id: parse_uuid(&row.id)?,
                    council: row.council.clone(),
                },
            );
            row.status_reason = Some(reason);
            row.updated_at = Utc::now().naive_utc();
            save(conn, &row)?;
            record_by(conn, &row, &who, "closed", from, row.status_reason.clone())?;
            let v = store::version(conn, &row.id, row.version)?;
            view(&row, &v, Audience::Council)
        })
        .await?;
    Ok(HttpResponse::Ok().json(shown))
}

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
    let id = id.into_inner();
    let list = state
        .store
        .db
        .run(move |conn| {
            let not_found = || Problem::not_found("referral");
            let row = store::find(conn, &id)?.ok_or_else(not_found)?;
            let (council, from) = if row.council == who.org && council_reader(&who) {
                (true, 1)
            } else if who.is_provider() {
                if row.awarded_provider.as_deref() == Some(who.org.as_str()) {
                    (false, 1)
                } else {
                    let invited =
                        store::invitation(conn, &row.id, &who.org)?.ok_or_else(not_found)?;
                    (false, invited)
                }
            } else {
                return Err(not_found().into());
            };
            Ok(store::versions(conn, &row.id, from)?
                .iter()
                .map(|v| version_summary(v, council))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Who read which version of a referral, in which view, when (the council's own staff only).
#[utoipa::path(get, path = "/v1/referrals/{id}/reads", tag = "referral",
    responses((status = 200, body = [ReadRow]), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn reads(
    state: web::Data<ReferralState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    let rows = state
        .store
        .db
        .run(move |conn| {
            let row = store::find(conn, &id)?
                .filter(|r| r.council == who.org && council_reader(&who))
                .ok_or_else(|| Problem::not_found("referral"))?;
            Ok(referral_reads::table
                .filter(referral_reads::referral_id.eq(&row.id))
                .order((referral_reads::read_at.asc(), referral_reads::id.asc()))
                .select(ReadRow::as_select())
                .load(conn)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// Every transition of a referral: who, when, from which status to which, on which version,
/// and why (the council's own staff only).
#[utoipa::path(get, path = "/v1/referrals/{id}/history", tag = "referral",
    responses((status = 200, body = [HistoryRow]), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn history(
    state: web::Data<ReferralState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    let rows = state
        .store
        .db
        .run(move |conn| {
            let row = store::find(conn, &id)?
                .filter(|r| r.council == who.org && council_reader(&who))
                .ok_or_else(|| Problem::not_found("referral"))?;
            store::history(conn, &row.id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}
