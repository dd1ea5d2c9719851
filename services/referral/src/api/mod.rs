//! HTTP handlers of the referral service.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use diesel::prelude::*;
use hub_bus::Store;
use hub_events::ReferralSubmitted;
use hub_platform::{Principal, Problem, Role, directory, http::Json};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::{
    domain::{NewReferral, RedactedDocument, ReferralDocument, Status},
    store::{self, ReadRow, ReferralRow, VersionRow, schema::*},
};

pub struct ReferralState {
    pub store: Store,
}

#[derive(OpenApi)]
#[openapi(paths(create, get, submit, reads), tags((name = "referral", description = "The shared referral document")))]
pub struct ReferralApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/referrals", web::post().to(create))
        .route("/v1/referrals/{id}", web::get().to(get))
        .route("/v1/referrals/{id}/submit", web::post().to(submit))
        .route("/v1/referrals/{id}/reads", web::get().to(reads));
}

/// A referral as its council sees it, or as a provider sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralView {
    pub id: String,
    pub status: String,
    pub version: i32,
    pub council: String,
    pub partnership: String,
    pub framework_id: String,
    pub lot_id: String,
    pub route: String,
    pub route_reason: String,
    pub urgency: String,
    /// `full` or `redacted`.
    pub view: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<ReferralDocument>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redacted: Option<RedactedDocument>,
}

fn view(row: &ReferralRow, version: &VersionRow, full: bool) -> Result<ReferralView, Problem> {
    let doc: ReferralDocument = serde_json::from_str(&version.document)
        .map_err(|e| Problem::from(anyhow::anyhow!("stored document: {e}")))?;
    Ok(ReferralView {
        id: row.id.clone(),
        status: row.status.clone(),
        version: version.version,
        council: row.council.clone(),
        partnership: row.partnership.clone(),
        framework_id: row.framework_id.clone(),
        lot_id: row.lot_id.clone(),
        route: row.route.clone(),
        route_reason: row.route_reason.clone(),
        urgency: row.urgency.clone(),
        view: if full { "full" } else { "redacted" }.to_owned(),
        redacted: (!full).then(|| doc.redacted()),
        document: full.then_some(doc),
    })
}

/// Coordinates rounded to 0.01°: an area, not an address.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn submitted_event(
    row: &ReferralRow,
    doc: &ReferralDocument,
    by: &str,
) -> Result<ReferralSubmitted, Problem> {
    let parse =
        |s: &str| Uuid::parse_str(s).map_err(|e| Problem::from(anyhow::anyhow!("stored id: {e}")));
    Ok(ReferralSubmitted {
        referral_id: parse(&row.id)?,
        version: row.version as u32,
        council: row.council.clone(),
        framework_id: parse(&row.framework_id)?,
        lot_id: parse(&row.lot_id)?,
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

/// Write a referral (and optionally submit it).
#[utoipa::path(post, path = "/v1/referrals", tag = "referral", request_body = NewReferral,
    responses((status = 201, body = ReferralView), (status = 422, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn create(
    state: web::Data<ReferralState>,
    who: Principal,
    body: Json<NewReferral>,
) -> Result<HttpResponse, Problem> {
    who.require_any(&[Role::Commissioner, Role::SocialWorker])?;
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
        route_reason: input.route_reason.clone(),
        urgency: serde_json::to_value(input.document.urgency)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        awarded_provider: None,
        created_by: who.sub.clone(),
        created_at: now,
        updated_at: now,
    };
    let version = VersionRow {
        referral_id: row.id.clone(),
        version: 1,
        document: serde_json::to_string(&input.document).map_err(anyhow::Error::from)?,
        created_by: who.sub.clone(),
        created_by_org: who.org.clone(),
        created_at: now,
    };
    let event = if input.submit {
        Some(submitted_event(&row, &input.document, &who.sub)?)
    } else {
        None
    };
    let (r, v) = (row.clone(), version.clone());
    state
        .store
        .write(move |conn, events| {
            diesel::insert_into(referrals::table)
                .values(&r)
                .execute(conn)?;
            diesel::insert_into(referral_versions::table)
                .values(&v)
                .execute(conn)?;
            if let Some(e) = &event {
                events.emit(&r.partnership, e);
            }
            Ok(())
        })
        .await?;
    tracing::info!(referral_id = %row.id, council = %row.council, status = %row.status, "referral written");
    Ok(HttpResponse::Created().json(view(&row, &version, true)?))
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
    who.require_any(&[Role::Commissioner, Role::SocialWorker])?;
    let id = id.into_inner();
    let (row, version) = state
        .store
        .write(move |conn, events| {
            let mut row = store::find(conn, &id)?
                .filter(|r| r.council == who.org)
                .ok_or_else(|| Problem::not_found("referral"))?;
            if row.status != Status::Draft.code() {
                return Err(Problem::conflict(
                    "referral-not-draft",
                    format!("the referral is {}", row.status),
                )
                .into());
            }
            let version = store::version(conn, &row.id, row.version)?;
            let doc: ReferralDocument =
                serde_json::from_str(&version.document).map_err(anyhow::Error::from)?;
            let now = Utc::now().naive_utc();
            store::set_status(conn, &row.id, Status::Submitted.code(), now)?;
            row.status = Status::Submitted.code().to_owned();
            events.emit(&row.partnership, &submitted_event(&row, &doc, &who.sub)?);
            Ok((row, version))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view(&row, &version, true)?))
}

/// Read a referral. The council's own staff see it all; an invited provider sees the
/// redacted view of the version it was invited on until it is awarded; anyone else gets 404.
/// Every read is logged.
#[utoipa::path(get, path = "/v1/referrals/{id}", tag = "referral",
    responses((status = 200, body = ReferralView), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(
    state: web::Data<ReferralState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    let result = state
        .store
        .write(move |conn, _| {
            let row = store::find(conn, &id)?.ok_or_else(|| Problem::not_found("referral"))?;
            let own_council = row.council == who.org
                && (who.has(Role::Commissioner)
                    || who.has(Role::SocialWorker)
                    || who.has(Role::Admin));
            let (version, full) = if own_council {
                (row.version, true)
            } else if who.is_provider() {
                let invited = store::invitation(conn, &row.id, &who.org)?
                    .ok_or_else(|| Problem::not_found("referral"))?;
                if row.awarded_provider.as_deref() == Some(who.org.as_str()) {
                    (row.version, true)
                } else {
                    (invited, false)
                }
            } else {
                return Err(Problem::not_found("referral").into());
            };
            let v = store::version(conn, &row.id, version)?;
            diesel::insert_into(referral_reads::table)
                .values(&ReadRow {
                    id: Uuid::now_v7().to_string(),
                    referral_id: row.id.clone(),
                    version,
                    reader_sub: who.sub.clone(),
                    reader_org: who.org.clone(),
                    view: if full { "full" } else { "redacted" }.to_owned(),
                    read_at: Utc::now().naive_utc(),
                })
                .execute(conn)?;
            Ok((row, v, full))
        })
        .await?;
    let (row, v, full) = result;
    Ok(HttpResponse::Ok().json(view(&row, &v, full)?))
}

/// Who read which version of a referral, when (the council's own staff only).
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
                .filter(|r| r.council == who.org && !who.is_provider())
                .ok_or_else(|| Problem::not_found("referral"))?;
            Ok(referral_reads::table
                .filter(referral_reads::referral_id.eq(&row.id))
                .order(referral_reads::read_at.asc())
                .select(ReadRow::as_select())
                .load(conn)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}
