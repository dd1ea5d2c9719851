//! Direct awards in an emergency and their review.

use actix_web::{HttpResponse, http::StatusCode, web};
use chrono::{DateTime, NaiveDate, Utc};
use hub_bus::Events;
use hub_events::CompetitionAwarded;
use hub_platform::{
    DbConnection, Pence, Principal, Problem,
    db::DbError,
    http::Json,
    idempotency::{Answer, IdempotencyKey},
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    CompetitionState, IDEMPOTENCY_KEY_DOC,
    competitions::{CompetitionView, commissioned, view},
};
use crate::{
    app::competitions::{self as calloff_app, Opening},
    domain::{
        Competition, DirectAwardTerms, Route,
        calloff::{DirectAward, LogAction, Review, ReviewDecision, Status, default_review_date},
    },
    ids::CompetitionId,
    store::{self, now},
};

/// 422 unless a direct award on `c` holds: its review date ahead of `today`, the referral
/// (if named) the competition's own, the provider admitted to the lot.
fn direct_award_allowed(
    conn: &mut DbConnection,
    c: &Competition,
    input: &DirectAward,
    today: NaiveDate,
) -> Result<(), DbError> {
    if let Some(e) = input.review_date_error(today) {
        return Err(Problem::validation(vec![e]).into());
    }
    if let Some(r) = input.referral_id
        && r != c.referral_id
    {
        return Err(Problem::invalid(
            "/referral_id",
            "matches",
            "not the referral of this competition",
        )
        .into());
    }
    if store::admission(conn, &c.lot_id, &input.provider_id)?.is_none() {
        return Err(Problem::invalid(
            "/provider_id",
            "admitted",
            "the provider is not admitted to the competition's lot",
        )
        .into());
    }
    Ok(())
}

/// Makes a direct award on `c` (checked to allow one) and tells everyone concerned.
fn make_direct_award(
    conn: &mut DbConnection,
    events: &mut Events,
    who: &Principal,
    c: &mut Competition,
    input: &DirectAward,
) -> Result<(), DbError> {
    let awarded = c.status.award_directly()?;
    let today = Utc::now().date_naive();
    direct_award_allowed(conn, c, input, today)?;
    let review_date = input
        .review_date
        .unwrap_or_else(|| default_review_date(today));
    let at = now();
    let terms = DirectAwardTerms {
        competition_id: c.id,
        provider_id: input.provider_id.clone(),
        weekly_rate_pence: Pence(input.weekly_rate_pence),
        start_date: input.start_date,
        justification: input.justification.trim().to_owned(),
        review_date,
        awarded_by: who.sub.clone(),
        awarded_at: at,
    };
    store::insert_direct_award(conn, &terms)?;
    c.status = awarded;
    c.route = Route::DirectAward;
    c.direct = true;
    c.awarded_provider = Some(terms.provider_id.clone());
    c.awarded_by = Some(who.sub.clone());
    c.awarded_rate_pence = Some(terms.weekly_rate_pence);
    c.awarded_start_date = Some(terms.start_date);
    c.awarded_at = Some(at);
    c.review_date = Some(review_date);
    store::record_award(conn, c)?;
    events.emit(
        &c.partnership,
        &CompetitionAwarded {
            competition_id: c.id.into(),
            referral_id: c.referral_id.into(),
            council: c.council.clone(),
            framework_id: c.framework_id.into(),
            lot_id: c.lot_id.into(),
            provider_id: terms.provider_id.clone(),
            bid_id: None,
            weekly_rate_pence: terms.weekly_rate_pence.0,
            start_date: terms.start_date,
            unsuccessful: Vec::new(),
            awarded_by: who.sub.clone(),
            direct: true,
            outcomes: Vec::new(),
        },
    );
    store::log(
        conn,
        &c.id,
        LogAction::DirectAward,
        Some(&terms.justification),
        serde_json::json!({ "provider_id": terms.provider_id, "weekly_rate_pence": terms.weekly_rate_pence, "review_date": review_date }),
        &who.sub,
        &who.org,
    )?;
    Ok(())
}

/// Award a draft or re-routed competition directly, in an emergency (a commissioner of the
/// council): the provider, the weekly rate, the start date and a justification; the award
/// is reviewed on its review date (default 28 days on).
#[utoipa::path(post, path = "/v1/competitions/{id}/direct-award", tag = "competition", operation_id = "createDirectAward",
    request_body = DirectAward,
    params(("Idempotency-Key" = Option<String>, Header, description = IDEMPOTENCY_KEY_DOC)),
    responses((status = 200, body = CompetitionView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn direct_award(
    state: web::Data<CompetitionState>,
    who: Principal,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: Json<DirectAward>,
) -> Result<Answer, Problem> {
    let input = body.0;
    let id = id.into_inner();
    let org = who.org.clone();
    Ok(state
        .store
        .write_once(&org, &key, move |conn, events| {
            let mut c = commissioned(conn, &who, &id)?;
            make_direct_award(conn, events, &who, &mut c, &input)?;
            Ok(Answer::new(StatusCode::OK, &view(conn, &who, &c.id)?))
        })
        .await?)
}

/// Direct award for a referral routed `direct_award` (a commissioner of its council).
#[utoipa::path(post, path = "/v1/competitions/direct-awards", tag = "competition", operation_id = "createReferralDirectAward",
    request_body = DirectAward,
    params(("Idempotency-Key" = Option<String>, Header, description = IDEMPOTENCY_KEY_DOC)),
    responses((status = 201, body = CompetitionView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn direct_award_for_referral(
    state: web::Data<CompetitionState>,
    who: Principal,
    key: IdempotencyKey,
    body: Json<DirectAward>,
) -> Result<Answer, Problem> {
    let input = body.0;
    let Some(referral_id) = input.referral_id else {
        return Err(Problem::invalid(
            "/referral_id",
            "required",
            "name the referral to award",
        ));
    };
    let org = who.org.clone();
    Ok(state
        .store
        .write_once(&org, &key, move |conn, events| {
            let mine: Vec<Competition> = store::competitions_of_referral(conn, &referral_id)?
                .into_iter()
                .filter(|c| !who.is_provider() && c.council == who.org)
                .collect();
            if mine.is_empty() {
                return Err(Problem::not_found("referral").into());
            }
            let c = mine
                .iter()
                .rev()
                .find(|c| c.status.allows_direct_award())
                .or(mine.last())
                .cloned()
                .expect("not empty");
            let mut c = commissioned(conn, &who, &c.id.to_string())?;
            make_direct_award(conn, events, &who, &mut c, &input)?;
            let at = format!("/v1/competitions/{}", c.id);
            Ok(Answer::created(&view(conn, &who, &c.id)?).at(at))
        })
        .await?)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DirectAwardReviewOutcome {
    pub decision: ReviewDecision,
    /// The reviewed direct award.
    pub competition: CompetitionView,
    /// Reopen: the new mini-competition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reopened_as: Option<CompetitionView>,
}

/// Review a direct award (a commissioner of the council): keep it (optionally until a
/// next review) or reopen the requirement to a mini-competition of every provider of the
/// lot. The order stays in place until the new competition is awarded.
#[utoipa::path(post, path = "/v1/competitions/{id}/review", tag = "competition", operation_id = "reviewDirectAward", request_body = Review,
    responses((status = 200, body = DirectAwardReviewOutcome), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn review(
    state: web::Data<CompetitionState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<Review>,
) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    let input = body.0;
    review_dates_ahead(&input, Utc::now())?;
    let outcome = state
        .store
        .write(move |conn, events| {
            let c = commissioned(conn, &who, &id)?;
            c.require_review_pending()?;
            let reason = input.reason.trim().to_owned();
            let reopened = match input.decision {
                ReviewDecision::Keep => {
                    keep_award(conn, &c, &input, &reason, &who)?;
                    None
                }
                ReviewDecision::Reopen => {
                    Some(reopen_requirement(conn, events, &c, &input, &reason, &who)?)
                }
            };
            Ok(DirectAwardReviewOutcome {
                decision: input.decision,
                competition: view(conn, &who, &c.id)?,
                reopened_as: reopened.map(|n| view(conn, &who, &n)).transpose()?,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(outcome))
}

/// 422 unless a review's new deadline and next review date are ahead of `now`.
fn review_dates_ahead(input: &Review, now_utc: DateTime<Utc>) -> Result<(), Problem> {
    if let Some(d) = input.deadline.filter(|d| *d <= now_utc) {
        return Err(Problem::invalid(
            "/deadline",
            "future",
            format!("{d} has passed"),
        ));
    }
    if let Some(d) = input
        .next_review_date
        .filter(|d| *d <= now_utc.date_naive())
    {
        return Err(Problem::invalid(
            "/next_review_date",
            "future",
            format!("{d} is not after today"),
        ));
    }
    Ok(())
}

/// The review keeps the direct award, until the next review if one is set.
fn keep_award(
    conn: &mut DbConnection,
    c: &Competition,
    input: &Review,
    reason: &str,
    who: &Principal,
) -> Result<(), DbError> {
    store::save_review_date(conn, &c.id, input.next_review_date)?;
    store::log(
        conn,
        &c.id,
        LogAction::ReviewKept,
        Some(reason),
        serde_json::json!({ "next_review_date": input.next_review_date }),
        &who.sub,
        &who.org,
    )
}

/// The review reopens the requirement as a new mini-competition of every provider of the
/// lot (`reopened_from` links it); the direct award's order stays until that is awarded.
fn reopen_requirement(
    conn: &mut DbConnection,
    events: &mut Events,
    c: &Competition,
    input: &Review,
    reason: &str,
    who: &Principal,
) -> Result<CompetitionId, DbError> {
    let lot = store::lot(conn, &c.lot_id)?.ok_or_else(|| Problem::not_found("lot"))?;
    let mut new = Competition {
        id: CompetitionId::new(),
        status: Status::Draft,
        awarded_provider: None,
        awarded_bid: None,
        awarded_by: None,
        created_at: now(),
        route: Route::MiniCompetition,
        criteria: lot.criteria(),
        preselection: None,
        left_out: None,
        opened_at: None,
        opened_by: None,
        closed_reason: None,
        direct: false,
        awarded_rate_pence: None,
        awarded_start_date: None,
        awarded_at: None,
        review_date: None,
        reopened_from: Some(c.id),
        bidding_closed_at: None,
        bidding_closed_reason: None,
        revision: 1,
        ..c.clone()
    };
    store::insert_competition(conn, &new)?;
    let invited = store::admitted_providers(conn, &c.lot_id)?;
    calloff_app::open(
        conn,
        events,
        &mut new,
        &lot,
        Opening {
            invited,
            deadline: input.deadline,
            actor: &who.sub,
            org: &who.org,
            action: LogAction::Opened,
            reason: Some(&format!(
                "the review of direct award {} reopened the requirement to competition: {reason}",
                c.id
            )),
        },
    )?;
    store::save_review_date(conn, &c.id, None)?;
    store::log(
        conn,
        &c.id,
        LogAction::ReviewReopened,
        Some(reason),
        serde_json::json!({ "reopened_as": new.id }),
        &who.sub,
        &who.org,
    )?;
    Ok(new.id)
}
