//! Individual Placement Agreements: drafting a version (the council), the provider's
//! signature, the child's social worker's approval (which tells finance when the cost
//! changes), withdrawing a draft; reviews recorded and reviews due.

use std::collections::HashMap;

use actix_web::{HttpResponse, http::StatusCode, web};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use hub_bus::Events;
use hub_events::{IpaApproved, PlacementRateChanged};
use hub_platform::{
    Principal, Problem, Role,
    db::{DbConnection, DbError},
    etag::{ETag, IfMatch},
    http::Json,
    idempotency::{Answer, IdempotencyKey},
    page::{Page, PageParams, PageRequest},
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    ContractState, command, command_once, path_id,
    placements::{COMMISSIONER_OR_SOCIAL_WORKER, active_for_council_role, for_council_role},
    tagged, today,
};
use crate::{
    domain::{
        Ipa, IpaReview, IpaVersion, Placement,
        ipa::{
            Extra, NewIpaVersion, NewReview, ReviewOutcome, VersionStatus, next_review,
            review_is_due, review_is_overdue,
        },
        listed_for, only_visible,
    },
    ids::{IpaId, PlacementId, ReviewId},
    store::{
        ipa::{self, DueFilter},
        placements as placement_store,
    },
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/placements/{id}/ipa", web::get().to(get_ipa))
        .route(
            "/v1/placements/{id}/ipa/versions",
            web::post().to(draft_ipa_version),
        )
        .route(
            "/v1/placements/{id}/ipa/versions/{version}",
            web::put().to(replace_ipa_version),
        )
        .route(
            "/v1/placements/{id}/ipa/versions/{version}/sign",
            web::post().to(sign_ipa_version),
        )
        .route(
            "/v1/placements/{id}/ipa/versions/{version}/approve",
            web::post().to(approve_ipa_version),
        )
        .route(
            "/v1/placements/{id}/ipa/versions/{version}/withdraw",
            web::post().to(withdraw_ipa_version),
        )
        .route(
            "/v1/placements/{id}/ipa/reviews",
            web::post().to(record_ipa_review),
        )
        .route("/v1/ipa-reviews", web::get().to(list_ipa_reviews_due));
}

/// One version of an IPA.
#[derive(Debug, Serialize, ToSchema)]
pub struct IpaVersionView {
    pub version: i32,
    pub status: VersionStatus,
    pub weekly_rate_pence: i64,
    pub extras: Vec<Extra>,
    /// The extras' weekly costs added up.
    pub extras_weekly_pence: i64,
    pub contact_arrangements: String,
    pub review_frequency_months: i32,
    pub effective_from: NaiveDate,
    pub change_reason: Option<String>,
    pub drafted_by: String,
    pub drafted_by_org: String,
    pub drafted_at: DateTime<Utc>,
    pub provider_signed_by: Option<String>,
    pub provider_signed_at: Option<DateTime<Utc>>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub withdrawn_by: Option<String>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

impl From<&IpaVersion> for IpaVersionView {
    fn from(r: &IpaVersion) -> Self {
        Self {
            version: r.version,
            status: r.status,
            weekly_rate_pence: r.weekly_rate_pence.0,
            extras: r.extras.clone(),
            extras_weekly_pence: r.extras_weekly_pence.0,
            contact_arrangements: r.contact_arrangements.clone(),
            review_frequency_months: r.review_frequency_months,
            effective_from: r.effective_from,
            change_reason: r.change_reason.clone(),
            drafted_by: r.drafted_by.clone(),
            drafted_by_org: r.drafted_by_org.clone(),
            drafted_at: r.drafted_at.and_utc(),
            provider_signed_by: r.provider_signed_by.clone(),
            provider_signed_at: r.provider_signed_at.map(|t| t.and_utc()),
            approved_by: r.approved_by.clone(),
            approved_at: r.approved_at.map(|t| t.and_utc()),
            withdrawn_by: r.withdrawn_by.clone(),
            withdrawn_at: r.withdrawn_at.map(|t| t.and_utc()),
        }
    }
}

/// A review held.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = IpaReviewView)]
pub struct ReviewView {
    pub id: ReviewId,
    pub reviewed_on: NaiveDate,
    /// The review date it answered.
    pub was_due_on: Option<NaiveDate>,
    pub outcome: ReviewOutcome,
    pub notes: Option<String>,
    /// The next review date it set.
    pub next_review_on: NaiveDate,
    pub recorded_by: String,
    pub recorded_by_org: String,
    pub recorded_at: DateTime<Utc>,
}

impl From<&IpaReview> for ReviewView {
    fn from(r: &IpaReview) -> Self {
        Self {
            id: r.id,
            reviewed_on: r.reviewed_on,
            was_due_on: r.was_due_on,
            outcome: r.outcome,
            notes: r.notes.clone(),
            next_review_on: r.next_review_on,
            recorded_by: r.recorded_by.clone(),
            recorded_by_org: r.recorded_by_org.clone(),
            recorded_at: r.recorded_at.and_utc(),
        }
    }
}

/// A placement's Individual Placement Agreement: the version in force, every version, the
/// review schedule and the reviews held.
#[derive(Debug, Serialize, ToSchema)]
pub struct IpaView {
    pub id: IpaId,
    pub placement_id: PlacementId,
    pub council: String,
    pub provider_id: String,
    /// The approved version in force, if one has been approved.
    pub in_force: Option<i32>,
    pub versions: Vec<IpaVersionView>,
    pub review_frequency_months: Option<i32>,
    /// Set when a version is approved (its effective day plus the review frequency) and by
    /// each review recorded (the review's day plus the frequency).
    pub next_review_on: Option<NaiveDate>,
    /// The next review falls within the notice period (or has passed).
    pub review_due: bool,
    pub review_overdue: bool,
    pub reviews: Vec<ReviewView>,
    /// Sent as the `ETag` header.
    #[serde(skip)]
    pub revision: i64,
}

fn view(conn: &mut DbConnection, ipa: &Ipa) -> Result<IpaView, DbError> {
    let versions = ipa::versions(conn, ipa.id)?
        .iter()
        .map(IpaVersionView::from)
        .collect();
    let reviews = ipa::reviews(conn, ipa.id)?
        .iter()
        .map(ReviewView::from)
        .collect();
    let today = today();
    Ok(IpaView {
        id: ipa.id,
        placement_id: ipa.placement_id,
        council: ipa.council.clone(),
        provider_id: ipa.provider_id.clone(),
        in_force: ipa.approved_version,
        versions,
        review_frequency_months: ipa.review_frequency_months,
        next_review_on: ipa.next_review_on,
        review_due: ipa.next_review_on.is_some_and(|d| review_is_due(d, today)),
        review_overdue: ipa
            .next_review_on
            .is_some_and(|d| review_is_overdue(d, today)),
        reviews,
        revision: ipa.revision,
    })
}

/// After a command changed the placement's IPA: its revision raised, and the IPA as it then
/// is.
fn changed_ipa(conn: &mut DbConnection, p: &Placement) -> Result<IpaView, DbError> {
    let ipa = ipa::ipa_of(conn, p.id)?.ok_or_else(no_ipa)?;
    ipa::raise_revision(conn, ipa.id, None)?;
    view(
        conn,
        &Ipa {
            revision: ipa.revision + 1,
            ..ipa
        },
    )
}

/// The answer to a command that created part of the placement's IPA (a version, a review).
fn ipa_created(p: &Placement, view: &IpaView) -> Answer {
    Answer::created(view).at(format!("/v1/placements/{}/ipa", p.id))
}

fn no_ipa() -> Problem {
    Problem::not_found("IPA")
}

/// One command on a placement's IPA in one write (see [`command`]): `find` loads the
/// placement for the caller, `act` runs the command; the answer is the IPA as it then is,
/// with its new revision as the `ETag`.
async fn ipa_command(
    state: &ContractState,
    who: Principal,
    find: impl FnOnce(&mut DbConnection, &Principal) -> Result<Placement, DbError> + Send + 'static,
    act: impl FnOnce(&mut DbConnection, &Placement, &Principal, &mut Events) -> Result<(), DbError>
    + Send
    + 'static,
) -> Result<HttpResponse, Problem> {
    let v = command(state, who, find, |conn, p, who, events| {
        act(conn, &p, who, events)?;
        changed_ipa(conn, &p)
    })
    .await?;
    Ok(tagged(StatusCode::OK, v.revision, &v))
}

/// The IPA and one of its versions (404 if either is missing).
fn version_of(
    conn: &mut DbConnection,
    p: &Placement,
    version: i32,
) -> Result<(Ipa, IpaVersion), DbError> {
    let ipa = ipa::ipa_of(conn, p.id)?.ok_or_else(no_ipa)?;
    let v = ipa::versions(conn, ipa.id)?
        .into_iter()
        .find(|v| v.version == version)
        .ok_or_else(|| Problem::not_found("IPA version"))?;
    Ok((ipa, v))
}

/// Read a placement's IPA (whoever may see the placement).
#[utoipa::path(operation_id = "getPlacementIpa", get, path = "/v1/placements/{id}/ipa", tag = "contract",
    params(("id" = String, Path, description = "The placement's id")),
    responses((status = 200, body = IpaView, headers(("ETag" = String, description = "The IPA's revision"))),
        (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_ipa(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id: PlacementId = path_id(&id, "placement")?;
    let v = state
        .store
        .db
        .run(move |conn| {
            let p = placement_store::visible(conn, &who, id)?;
            let ipa = ipa::ipa_of(conn, p.id)?.ok_or_else(no_ipa)?;
            view(conn, &ipa)
        })
        .await?;
    Ok(tagged(StatusCode::OK, v.revision, &v))
}

/// Draft a version of the IPA (a commissioner or social worker of the child's council): the
/// first when the child is placed, a later one when needs change, effective from a date.
/// One version at a time waits for signature and approval.
#[utoipa::path(operation_id = "createIpaVersion", post, path = "/v1/placements/{id}/ipa/versions", tag = "contract", request_body = NewIpaVersion,
    params(("id" = String, Path, description = "The placement's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and request within 24 hours get the first answer back, with no second version")),
    responses((status = 201, body = IpaView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`/problems/placement-ended` or `/problems/ipa-version-pending`"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn draft_ipa_version(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
    key: IdempotencyKey,
    body: Json<NewIpaVersion>,
) -> Result<Answer, Problem> {
    let input = body.0;
    let id: PlacementId = path_id(&id, "placement")?;
    let find = move |conn: &mut DbConnection, who: &Principal| {
        active_for_council_role(conn, who, id, COMMISSIONER_OR_SOCIAL_WORKER)
    };
    command_once(&state, who, key, find, move |conn, p, who, _| {
        let now = Utc::now().naive_utc();
        let ipa = ipa_for(conn, &p, now)?;
        let versions = ipa::versions(conn, ipa.id)?;
        let version = IpaVersion::drafted(who, &p, ipa.id, &versions, &input, now)?;
        ipa::insert_version(conn, &version).map_err(pending_on_race)?;
        tracing::info!(placement_id = %p.id, ipa_id = %ipa.id, version = version.version, "IPA version drafted");
        Ok(ipa_created(&p, &changed_ipa(conn, &p)?))
    })
    .await
}

/// Edit a draft of the IPA in place (a commissioner or social worker of the child's
/// council), while the provider has not signed it: its terms are replaced by the body's,
/// checked as a new version's are. `If-Match` names the IPA's `ETag` as last read.
#[utoipa::path(operation_id = "replaceIpaVersion", put, path = "/v1/placements/{id}/ipa/versions/{version}", tag = "contract",
    request_body = NewIpaVersion,
    params(("id" = String, Path, description = "The placement's id"), ("version" = i32, Path, description = "The IPA version (a draft)"),
        ("If-Match" = String, Header, description = "The IPA's `ETag` as last read: 412 when it has changed since, 428 without it, `*` overwrites")),
    responses((status = 200, body = IpaView, headers(("ETag" = String, description = "The IPA's revision"))),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`/problems/ipa-not-draft` (signed, approved or withdrawn), `/problems/placement-ended`"),
        (status = 412, body = Problem, description = "the IPA changed since it was read"),
        (status = 428, body = Problem, description = "no `If-Match`"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn replace_ipa_version(
    state: web::Data<ContractState>,
    who: Principal,
    path: web::Path<(String, i32)>,
    if_match: IfMatch,
    body: Json<NewIpaVersion>,
) -> Result<HttpResponse, Problem> {
    let input = body.0;
    let (id, version) = path.into_inner();
    let id: PlacementId = path_id(&id, "placement")?;
    let find = move |conn: &mut DbConnection, who: &Principal| {
        active_for_council_role(conn, who, id, COMMISSIONER_OR_SOCIAL_WORKER)
    };
    let v = command(&state, who, find, move |conn, p, who, _| {
        let (ipa, draft) = version_of(conn, &p, version)?;
        if_match.check(ETag(ipa.revision), "IPA")?;
        let not_draft = || {
            Problem::conflict(
                "ipa-not-draft",
                "only a draft the provider has not signed is edited",
            )
        };
        if draft.status != VersionStatus::AwaitingProvider {
            return Err(not_draft().into());
        }
        let others: Vec<IpaVersion> = ipa::versions(conn, ipa.id)?
            .into_iter()
            .filter(|v| v.version != version)
            .collect();
        let now = Utc::now().naive_utc();
        let edited = IpaVersion {
            version,
            ..IpaVersion::drafted(who, &p, ipa.id, &others, &input, now)?
        };
        if !ipa::raise_revision(conn, ipa.id, Some(ipa.revision))? {
            return Err(Problem::precondition_failed("IPA").into());
        }
        if !ipa::replace_draft(conn, &edited)? {
            return Err(not_draft().into());
        }
        tracing::info!(placement_id = %p.id, ipa_id = %ipa.id, version, "IPA draft edited");
        let revision = ipa.revision + 1;
        view(conn, &Ipa { revision, ..ipa })
    })
    .await?;
    Ok(tagged(StatusCode::OK, v.revision, &v))
}

/// The placement's IPA, created with its first draft.
fn ipa_for(conn: &mut DbConnection, p: &Placement, now: NaiveDateTime) -> Result<Ipa, DbError> {
    if let Some(ipa) = ipa::ipa_of(conn, p.id)? {
        return Ok(ipa);
    }
    let created = Ipa {
        id: IpaId::new(),
        placement_id: p.id,
        council: p.council.clone(),
        partnership: p.partnership.clone(),
        provider_id: p.provider_id.clone(),
        approved_version: None,
        review_frequency_months: None,
        next_review_on: None,
        due_raised_for: None,
        overdue_raised_for: None,
        created_at: now,
        revision: 1,
    };
    ipa::create_ipa(conn, &created).map_err(pending_on_race)?;
    Ok(created)
}

/// Two drafts racing: the second finds the first's row.
fn pending_on_race(e: DbError) -> DbError {
    match e {
        DbError::Diesel(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Problem::conflict(
                "ipa-version-pending",
                "another version was drafted at the same time",
            )
            .into()
        }
        other => other,
    }
}

/// Sign a drafted version of the IPA (a user of the placement's provider).
#[utoipa::path(operation_id = "signIpaVersion", post, path = "/v1/placements/{id}/ipa/versions/{version}/sign", tag = "contract",
    params(("id" = String, Path, description = "The placement's id"), ("version" = i32, Path, description = "The IPA version")),
    responses((status = 200, body = IpaView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`/problems/ipa-already-signed`, `/problems/ipa-withdrawn`"),
    ),
    security(("bearer" = [])))]
pub async fn sign_ipa_version(
    state: web::Data<ContractState>,
    who: Principal,
    path: web::Path<(String, i32)>,
) -> Result<HttpResponse, Problem> {
    let (id, version) = path.into_inner();
    let id: PlacementId = path_id(&id, "placement")?;
    let find = move |conn: &mut DbConnection, who: &Principal| {
        let p = placement_store::visible(conn, who, id)?;
        p.provider_acts(who, "signs its IPA")?;
        Ok(p)
    };
    ipa_command(&state, who, find, move |conn, p, who, _| {
        let (ipa, v) = version_of(conn, p, version)?;
        v.status.sign()?;
        let now = Utc::now().naive_utc();
        if !ipa::sign_version(conn, ipa.id, v.version, &who.sub, now)? {
            return Err(Problem::conflict("ipa-already-signed", "signed meanwhile").into());
        }
        Ok(())
    })
    .await
}

/// Approve a signed version of the IPA (a social worker of the child's council). It comes
/// into force from its effective day: `contract.ipa_approved`, and when the weekly rate or
/// extras change, `contract.placement_rate_changed` from that day (finance re-costs from it).
/// The review schedule restarts from the effective day.
#[utoipa::path(operation_id = "approveIpaVersion", post, path = "/v1/placements/{id}/ipa/versions/{version}/approve", tag = "contract",
    params(("id" = String, Path, description = "The placement's id"), ("version" = i32, Path, description = "The IPA version")),
    responses((status = 200, body = IpaView), (status = 401, body = Problem),
        (status = 403, body = Problem, description = "not a social worker of the child's council"),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`/problems/ipa-not-signed`, `/problems/ipa-already-approved`, `/problems/ipa-withdrawn`, `/problems/placement-ended`"),
    ),
    security(("bearer" = [])))]
pub async fn approve_ipa_version(
    state: web::Data<ContractState>,
    who: Principal,
    path: web::Path<(String, i32)>,
) -> Result<HttpResponse, Problem> {
    let (id, version) = path.into_inner();
    let id: PlacementId = path_id(&id, "placement")?;
    let find = move |conn: &mut DbConnection, who: &Principal| {
        for_council_role(conn, who, id, &[Role::SocialWorker])
    };
    ipa_command(&state, who, find, move |conn, p, who, events| {
        let (ipa, v) = version_of(conn, p, version)?;
        v.status.approve()?;
        p.status.active()?;
        let next = next_review(v.effective_from, v.review_frequency_months as u32);
        let now = Utc::now().naive_utc();
        if !ipa::approve_version(conn, &v, p.id, next, &who.sub, now)? {
            return Err(Problem::conflict("ipa-already-approved", "approved meanwhile").into());
        }
        let changed = announce_approval(p, &ipa, &v, next, who, events);
        tracing::info!(placement_id = %p.id, ipa_id = %ipa.id, version = v.version, rate_changed = changed, "IPA version approved");
        Ok(())
    })
    .await
}

/// Emits `contract.ipa_approved` for version `v` of the placement's IPA, and
/// `contract.placement_rate_changed` when its weekly rate or extras differ from what the
/// placement costs now; whether they did.
fn announce_approval(
    p: &Placement,
    ipa: &Ipa,
    v: &IpaVersion,
    next_review_on: NaiveDate,
    who: &Principal,
    events: &mut Events,
) -> bool {
    let placement_id = p.id.into();
    events.emit(
        &p.partnership,
        &IpaApproved {
            placement_id,
            ipa_id: ipa.id.into(),
            version: v.version as u32,
            council: p.council.clone(),
            provider_id: p.provider_id.clone(),
            weekly_rate_pence: v.weekly_rate_pence.0,
            extras_weekly_pence: v.extras_weekly_pence.0,
            effective_from: v.effective_from,
            next_review_on,
            approved_by: who.sub.clone(),
        },
    );
    let changed = v.weekly_rate_pence != p.weekly_rate_pence
        || v.extras_weekly_pence != p.extras_weekly_pence;
    if changed {
        events.emit(
            &p.partnership,
            &PlacementRateChanged {
                placement_id,
                council: p.council.clone(),
                provider_id: p.provider_id.clone(),
                weekly_rate_pence: v.weekly_rate_pence.0,
                extras_weekly_pence: v.extras_weekly_pence.0,
                effective_from: v.effective_from,
                ipa_version: v.version as u32,
                block_contract_id: p.block_contract_id.map(Into::into),
            },
        );
    }
    changed
}

/// Withdraw a version not yet approved (a commissioner or social worker of the child's
/// council), e.g. when the provider will not sign it.
#[utoipa::path(operation_id = "withdrawIpaVersion", post, path = "/v1/placements/{id}/ipa/versions/{version}/withdraw", tag = "contract",
    params(("id" = String, Path, description = "The placement's id"), ("version" = i32, Path, description = "The IPA version")),
    responses((status = 200, body = IpaView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`/problems/ipa-not-pending`"),
    ),
    security(("bearer" = [])))]
pub async fn withdraw_ipa_version(
    state: web::Data<ContractState>,
    who: Principal,
    path: web::Path<(String, i32)>,
) -> Result<HttpResponse, Problem> {
    let (id, version) = path.into_inner();
    let id: PlacementId = path_id(&id, "placement")?;
    let find = move |conn: &mut DbConnection, who: &Principal| {
        for_council_role(conn, who, id, COMMISSIONER_OR_SOCIAL_WORKER)
    };
    ipa_command(&state, who, find, move |conn, p, who, _| {
        let (ipa, v) = version_of(conn, p, version)?;
        let now = Utc::now().naive_utc();
        if !ipa::withdraw_version(conn, ipa.id, v.version, &who.sub, now)? {
            return Err(Problem::conflict(
                "ipa-not-pending",
                format!("the version is {}", v.status),
            )
            .into());
        }
        Ok(())
    })
    .await
}

/// Record a review of the IPA (a social worker or commissioner of the child's council): when
/// it was held and what it concluded. The next review is due the IPA's review frequency
/// after it.
#[utoipa::path(operation_id = "createIpaReview", post, path = "/v1/placements/{id}/ipa/reviews", tag = "contract", request_body = NewReview,
    params(("id" = String, Path, description = "The placement's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and request within 24 hours get the first answer back, with no second review")),
    responses((status = 201, body = IpaView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`/problems/ipa-not-approved` or `/problems/placement-ended`"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn record_ipa_review(
    state: web::Data<ContractState>,
    who: Principal,
    id: web::Path<String>,
    key: IdempotencyKey,
    body: Json<NewReview>,
) -> Result<Answer, Problem> {
    let input = body.0;
    let id: PlacementId = path_id(&id, "placement")?;
    let find = move |conn: &mut DbConnection, who: &Principal| {
        let roles = &[Role::SocialWorker, Role::Commissioner];
        active_for_council_role(conn, who, id, roles)
    };
    command_once(&state, who, key, find, move |conn, p, who, _| {
        let ipa = ipa::ipa_of(conn, p.id)?.ok_or_else(no_ipa)?;
        let months = ipa.review_months()?;
        if let Some(e) = input.reviewed_on_error(p.start_date, today()) {
            return Err(Problem::validation(vec![e]).into());
        }
        let review = IpaReview {
            id: ReviewId::new(),
            ipa_id: ipa.id,
            reviewed_on: input.reviewed_on,
            was_due_on: ipa.next_review_on,
            outcome: input.outcome,
            notes: input
                .notes
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
            next_review_on: next_review(input.reviewed_on, months),
            recorded_by: who.sub.clone(),
            recorded_by_org: who.org.clone(),
            recorded_at: Utc::now().naive_utc(),
        };
        ipa::record_review(conn, &review)?;
        tracing::info!(placement_id = %p.id, ipa_id = %ipa.id, outcome = %review.outcome, next_review_on = %review.next_review_on, "IPA review recorded");
        Ok(ipa_created(&p, &changed_ipa(conn, &p)?))
    })
    .await
}

/// A review due or overdue.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = IpaReviewDue)]
pub struct ReviewDue {
    pub placement_id: PlacementId,
    pub ipa_id: IpaId,
    pub council: String,
    pub provider_id: String,
    pub review_due_on: NaiveDate,
    pub overdue: bool,
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReviewsQuery {
    /// `true`: only reviews past their date; `false`: only those not yet past.
    pub overdue: Option<bool>,
    /// The page's size (`PageParams`).
    #[param(ignore)]
    pub limit: Option<String>,
    /// The page's cursor (`PageParams`).
    #[param(ignore)]
    pub cursor: Option<String>,
}

/// IPA reviews of active placements due within the notice period (14 days) or overdue, for
/// the caller's council (or provider), soonest first (then by the IPA's id).
#[utoipa::path(operation_id = "listIpaReviewsDue", get, path = "/v1/ipa-reviews", tag = "contract", params(ReviewsQuery, PageParams),
    responses((status = 200, body = Page<ReviewDue>), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_ipa_reviews_due(
    state: web::Data<ContractState>,
    who: Principal,
    query: web::Query<ReviewsQuery>,
    paging: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, Problem> {
    let overdue = query.into_inner().overdue;
    let page = PageRequest::from_query(&paging)?;
    let after: Option<(NaiveDate, IpaId)> = page.after()?;
    let today = today();
    let due = state
        .store
        .db
        .run(move |conn| {
            let (council, provider_id) = listed_for(&who);
            let filter = DueFilter {
                council,
                provider_id,
                overdue,
            };
            let rows = ipa::reviews_due(conn, today, filter, after, page.fetch())?;
            // Paged before the last word on each row, so no row is skipped by the cursor.
            let mut listed = page.page(rows, |i| (i.next_review_on, i.id));
            listed.items = only_visible(&who, listed.items);
            Ok(listed)
        })
        .await?;
    Ok(HttpResponse::Ok().json(due.map(|i| {
        // Listed only with a review date (`next_review_on <= horizon`).
        let on = i.next_review_on.unwrap_or(today);
        ReviewDue {
            placement_id: i.placement_id,
            ipa_id: i.id,
            council: i.council,
            provider_id: i.provider_id,
            review_due_on: on,
            overdue: review_is_overdue(on, today),
        }
    })))
}
