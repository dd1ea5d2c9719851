//! Scoring, evaluation and award; closing, reopening and re-routing a competition; direct
//! awards in an emergency and their review.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use hub_bus::Events;
use hub_events::{BiddingClosed, CompetitionAwarded};
use hub_platform::{
    DbConnection, FieldError, Pence, Principal, Problem, db::DbError, directory::distance_miles,
    http::Json, sql,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    CompetitionState,
    competitions::{CompetitionView, change_competition, commissioned, require_bidding_open, view},
    optional_body,
};
use crate::{
    app::competitions::{self as calloff_app, Closing, Opening, REFERRAL_WITHDRAWN},
    domain::{
        Award,
        calloff::{
            self, Close, CloseBidding, DirectAward, Open, Reroute, Review, ReviewDecision,
            ScoreMark, Status, default_review_date,
        },
        criteria::{CriterionName, Mode},
        evaluation::{self, BidInput, Evaluation, Marks},
    },
    ids::{CompetitionId, ReferralId},
    store::{self, BidRow, CompetitionRow, DirectAwardRow, ScoreRow, now, schema::*},
};

/// Evaluates a competition's live bids on its criteria (three queries, whatever the number
/// of bids).
pub fn evaluation_of(
    conn: &mut DbConnection,
    c: &CompetitionRow,
) -> Result<(Evaluation, Vec<BidRow>), DbError> {
    let criteria = c.criteria();
    let bids = store::bids_of(conn, &c.id)?;
    let marks: Marks = store::scores_of(conn, &c.id)?
        .into_iter()
        .map(|s| ((s.bid_id.to_string(), s.criterion), s.mark()))
        .collect();
    let requirement = c.requirement();
    let inputs: Vec<BidInput> = bids
        .iter()
        .map(|b| BidInput {
            bid_id: b.id.to_string(),
            provider_id: b.provider_id.clone(),
            weekly_price_pence: b.weekly_price_pence.0,
            provider_response_pence: b.provider_response_pence.map(|p| p.0),
            distance_miles: match (&requirement, b.home_latitude, b.home_longitude) {
                (Some(r), Some(lat), Some(lon)) => {
                    Some(distance_miles(lat, lon, r.area_latitude, r.area_longitude))
                }
                _ => None,
            },
            submitted_at: b.submitted_at,
        })
        .collect();
    Ok((
        evaluation::evaluate(&criteria, c.max_distance_miles(), &inputs, &marks),
        bids,
    ))
}

/// Mark one criterion of one bid (a commissioner of the council): points 0..=weight on a
/// scored criterion, or pass/fail on a gate, with a short reason. Price and location are
/// scored automatically; their gates may be marked to override the automatic result.
#[utoipa::path(put, path = "/v1/competitions/{id}/bids/{bid_id}/scores/{criterion}", tag = "competition", request_body = ScoreMark,
    responses((status = 200, body = ScoreRow), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn score(
    state: web::Data<CompetitionState>,
    who: Principal,
    path: web::Path<(String, String, String)>,
    body: Json<ScoreMark>,
) -> Result<HttpResponse, Problem> {
    let (id, bid_id, criterion) = path.into_inner();
    let input = body.0;
    let row = state
        .store
        .write(move |conn, _| {
            let c = commissioned(conn, &who, &id)?;
            c.status.require(&[Status::Open], "scoring")?;
            let bid = store::bids_of(conn, &c.id)?
                .into_iter()
                .find(|b| b.id.to_string() == bid_id)
                .ok_or_else(|| Problem::not_found("bid"))?;
            let name = criterion.parse::<CriterionName>().map_err(|_| {
                Problem::invalid("criterion", "one_of", "not a criterion of the list")
            })?;
            let cr = c
                .criteria()
                .into_iter()
                .find(|x| x.criterion == name)
                .ok_or_else(|| {
                    Problem::invalid(
                        "criterion",
                        "not_in_competition",
                        "not a criterion of this competition",
                    )
                })?;
            let mut errors = Vec::new();
            match cr.mode {
                Mode::Scored if name.is_automatic() => errors.push(FieldError::new(
                    "criterion",
                    "automatic",
                    format!("{name} is scored automatically"),
                )),
                Mode::Scored => match input.score {
                    None => errors.push(FieldError::new(
                        "/score",
                        "required",
                        "a scored criterion takes points",
                    )),
                    Some(s) if s > cr.weight => errors.push(FieldError::new(
                        "/score",
                        "max",
                        format!("0 to {} points", cr.weight),
                    )),
                    Some(_) => {}
                },
                Mode::PassFail if input.passed.is_none() => errors.push(FieldError::new(
                    "/passed",
                    "required",
                    "a pass/fail criterion takes `passed`",
                )),
                Mode::PassFail => {}
            }
            if !errors.is_empty() {
                return Err(Problem::validation(errors).into());
            }
            let row = ScoreRow {
                bid_id: bid.id,
                criterion: name,
                points: input.score.map(|s| s as i32),
                passed: input.passed,
                reason: input.reason.trim().to_owned(),
                scored_by: who.sub.clone(),
                scored_at: now(),
            };
            store::put_score(conn, &row)?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(row))
}

/// Rank the bids (a commissioner of the council): gates first, then weighted totals.
#[utoipa::path(post, path = "/v1/competitions/{id}/evaluate", tag = "competition",
    responses((status = 200, body = Evaluation), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn evaluate(
    state: web::Data<CompetitionState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    let ev = state
        .store
        .db
        .run(move |conn| {
            let c = commissioned(conn, &who, &id)?;
            Ok(evaluation_of(conn, &c)?.0)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ev))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AwardView {
    #[serde(flatten)]
    pub competition: CompetitionRow,
    pub evaluation: Evaluation,
}

/// Award the best-value bid (a commissioner of the council). Naming a bid checks that it is
/// the best value (409 `/problems/not-best-value` otherwise). Every unsuccessful provider
/// is told its scores beside the winner's and why.
#[utoipa::path(post, path = "/v1/competitions/{id}/award", tag = "competition", request_body = Award,
    responses((status = 200, body = AwardView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn award(
    state: web::Data<CompetitionState>,
    who: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let input: Award = optional_body(&body)?;
    let id = id.into_inner();
    let view = state
        .store
        .write(move |conn, events| {
            let mut c = commissioned(conn, &who, &id)?;
            let awarded = c.status.award()?;
            require_answers_or_deadline(conn, &c, "an award")?;
            let (ev, bids) = evaluation_of(conn, &c)?;
            let (bid, total) = winner(&ev, &bids, input.bid_id.map(|b| b.to_string()))?;
            c.status = awarded;
            c.awarded_provider = Some(bid.provider_id.clone());
            c.awarded_bid = Some(bid.id);
            c.awarded_by = Some(who.sub.clone());
            c.awarded_rate_pence = Some(bid.weekly_price_pence);
            c.awarded_start_date = Some(bid.start_date);
            c.awarded_at = Some(now());
            store::record_award(conn, &c)?;
            let event = awarded_event(conn, &c, &bid, &bids, &ev, &who)?;
            events.emit(&c.partnership, &event);
            store::log(
                conn,
                &c.id,
                "awarded",
                None,
                serde_json::json!({ "bid_id": bid.id, "provider_id": bid.provider_id, "total": total }),
                &who.sub,
                &who.org,
            )?;
            Ok(AwardView {
                competition: c,
                evaluation: ev,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The bid to award and its total: the best value, once every mark is made. A bid the
/// commissioner names must be a bid of this competition (422) and the best value (409).
fn winner(
    ev: &Evaluation,
    bids: &[BidRow],
    named: Option<String>,
) -> Result<(BidRow, u32), DbError> {
    if let Some(n) = &named
        && !bids.iter().any(|b| b.id.to_string() == *n)
    {
        return Err(
            Problem::invalid("/bid_id", "exists", "no such bid in this competition").into(),
        );
    }
    require_decided(ev)?;
    let Some(winner) = ev.winning_bid() else {
        return Err(Problem::conflict(
            "no-acceptable-bid",
            "no bid passed every pass/fail criterion: close the competition with a reason, then reopen or re-route it",
        )
        .into());
    };
    if let Some(n) = &named
        && *n != winner.bid_id
    {
        let rank = ev
            .bid(n)
            .and_then(|b| b.rank)
            .map(|r| format!("ranked {r}"))
            .unwrap_or_else(|| "not acceptable".to_owned());
        return Err(Problem::conflict(
            "not-best-value",
            format!(
                "bid {n} is {rank}; the best value is bid {} of {}",
                winner.bid_id, winner.provider_id
            ),
        )
        .into());
    }
    let bid = bids
        .iter()
        .find(|b| b.id.to_string() == winner.bid_id)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("winning bid vanished"))?;
    Ok((bid, winner.total))
}

/// `competition.awarded` for the award of `bid`: the unsuccessful providers are told their
/// outcomes beside the winner's (named as admitted to the lot).
fn awarded_event(
    conn: &mut DbConnection,
    c: &CompetitionRow,
    bid: &BidRow,
    bids: &[BidRow],
    ev: &Evaluation,
    who: &Principal,
) -> Result<CompetitionAwarded, DbError> {
    let winner_name = store::admission(conn, &c.lot_id, &bid.provider_id)?.map(|a| a.provider_name);
    Ok(CompetitionAwarded {
        competition_id: c.id.into(),
        referral_id: c.referral_id.into(),
        council: c.council.clone(),
        framework_id: c.framework_id.into(),
        lot_id: c.lot_id.into(),
        provider_id: bid.provider_id.clone(),
        bid_id: Some(bid.id.into()),
        weekly_rate_pence: bid.weekly_price_pence.0,
        start_date: bid.start_date,
        unsuccessful: bids
            .iter()
            .filter(|b| b.id != bid.id)
            .map(|b| b.provider_id.clone())
            .collect(),
        awarded_by: who.sub.clone(),
        direct: false,
        outcomes: evaluation::outcomes(ev, winner_name.as_deref()),
    })
}

/// Close a competition without an award, with a reason (a commissioner of the council):
/// typically when no bid is acceptable. The invited providers are told.
#[utoipa::path(post, path = "/v1/competitions/{id}/close", tag = "competition", request_body = Close,
    responses((status = 200, body = CompetitionView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn close(
    state: web::Data<CompetitionState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<Close>,
) -> Result<HttpResponse, Problem> {
    let input = body.0;
    change_competition(&state, who, id.into_inner(), move |conn, events, who, c| {
        c.status.close()?;
        if c.status == Status::Open {
            require_answers_or_deadline(conn, c, "closing without an award")?;
        }
        calloff_app::close(
            conn,
            events,
            c,
            Closing {
                reason: input.code(),
                detail: input.detail().as_deref(),
                provider_message: input.provider_message().as_deref(),
                actor: &who.sub,
                org: &who.org,
            },
        )
    })
    .await
}

/// 409 `/problems/bidding-open` while `c` is open to bids that have not all come in: before
/// its deadline, bidding not closed early, and some invited provider has neither bid nor
/// declined (they were promised the whole window). Names who is still awaited.
fn require_answers_or_deadline(
    conn: &mut DbConnection,
    c: &CompetitionRow,
    doing: &str,
) -> Result<(), DbError> {
    let invited = store::invited(conn, &c.id)?;
    let bids = store::bids_of(conn, &c.id)?;
    let declines = store::declines_of(conn, &c.id)?;
    let answered: Vec<&str> = bids
        .iter()
        .map(|b| b.provider_id.as_str())
        .chain(declines.iter().map(|d| d.provider_id.as_str()))
        .collect();
    let waiting = calloff::still_waiting_for(
        Utc::now().naive_utc(),
        c.deadline,
        c.bidding_closed_at,
        &invited,
        &answered,
    );
    if waiting.is_empty() {
        return Ok(());
    }
    Err(Problem::conflict(
        "bidding-open",
        format!(
            "bids are open until {} UTC and {} of the invited providers ({}) have neither bid nor declined: {doing} waits for the deadline, for them to answer, or for bidding to be closed early with a reason (POST /v1/competitions/{}/close-bidding)",
            c.deadline,
            waiting.len(),
            waiting.join(", "),
            c.id
        ),
    )
    .into())
}

/// 409 `/problems/evaluation-incomplete` unless every gate is decided and every acceptable
/// bid is scored on every criterion; names each bid's provider and what is undecided, with
/// an error per mark still to make (`/bids/{bid_id}/scores/{criterion}`, rule `undecided`).
fn require_decided(ev: &Evaluation) -> Result<(), DbError> {
    let undecided = ev.undecided();
    if undecided.is_empty() {
        return Ok(());
    }
    let detail = undecided
        .iter()
        .map(|(b, cs)| {
            let names: Vec<String> = cs.iter().map(ToString::to_string).collect();
            format!("{}: {}", b.provider_id, names.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let errors = undecided
        .iter()
        .flat_map(|(b, cs)| {
            cs.iter().map(|c| {
                FieldError::new(
                    format!("/bids/{}/scores/{c}", b.bid_id),
                    "undecided",
                    format!("{c} of the bid of {} is not yet decided", b.provider_id),
                )
            })
        })
        .collect();
    Err(Problem::conflict(
        "evaluation-incomplete",
        format!("criteria are undecided: {detail}; decide every gate and score every acceptable bid before the award"),
    )
    .with_errors(errors)
    .into())
}

/// Close bidding before the deadline (a commissioner of the council), with a reason code
/// every invited provider is told (`competition.bidding_closed`) and an optional note that
/// stays in the council's history. The award (or a close without one) may then be made.
#[utoipa::path(post, path = "/v1/competitions/{id}/close-bidding", tag = "competition", request_body = CloseBidding,
    responses((status = 200, body = CompetitionView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn close_bidding(
    state: web::Data<CompetitionState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<CloseBidding>,
) -> Result<HttpResponse, Problem> {
    let input = body.0;
    change_competition(&state, who, id.into_inner(), move |conn, events, who, c| {
        require_bidding_open(c, "closing bidding")?;
        let at = Utc::now();
        let reason = input.reason;
        diesel::update(competitions::table.find(&c.id))
            .set((
                competitions::bidding_closed_at.eq(Some(at.naive_utc())),
                competitions::bidding_closed_reason.eq(Some(reason)),
            ))
            .execute(conn)?;
        let invited = store::invited(conn, &c.id)?;
        events.emit(
            &c.partnership,
            &BiddingClosed {
                competition_id: c.id.into(),
                referral_id: c.referral_id.into(),
                council: c.council.clone(),
                reason: reason.to_string(),
                deadline: c.deadline.and_utc(),
                closed_at: at,
                invited,
            },
        );
        store::log(
            conn,
            &c.id,
            "bidding_closed",
            input
                .note
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty()),
            serde_json::json!({ "reason": reason, "deadline": c.deadline }),
            &who.sub,
            &who.org,
        )
    })
    .await
}

/// 409 `/problems/referral-withdrawn` for a competition closed because its referral was
/// withdrawn: there is nothing left to `do_what`.
fn not_withdrawn(c: &CompetitionRow, do_what: &str) -> Result<(), DbError> {
    if c.closed_reason.as_deref() == Some(REFERRAL_WITHDRAWN) {
        return Err(Problem::conflict(
            "referral-withdrawn",
            format!("the referral was withdrawn: there is nothing to {do_what}"),
        )
        .into());
    }
    Ok(())
}

/// Reopen a closed competition with a new deadline (a commissioner of the council). The
/// earlier bids are set aside (kept in the history) and the same providers are invited
/// again.
#[utoipa::path(post, path = "/v1/competitions/{id}/reopen", tag = "competition", request_body = Open,
    responses((status = 200, body = CompetitionView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn reopen(
    state: web::Data<CompetitionState>,
    who: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let input = super::open_input(&body)?;
    change_competition(&state, who, id.into_inner(), move |conn, events, who, c| {
        c.status.reopen()?;
        not_withdrawn(c, "compete for")?;
        let lot = store::lot(conn, &c.lot_id)?.ok_or_else(|| Problem::not_found("lot"))?;
        let earlier = store::bids_of(conn, &c.id)?;
        for b in &earlier {
            store::delete_bid(conn, &b.id)?;
        }
        // A new round: everyone invited is asked again, including those who declined.
        store::delete_declines(conn, &c.id, None)?;
        store::log(
            conn,
            &c.id,
            "bids_set_aside",
            c.closed_reason.as_deref(),
            serde_json::to_value(&earlier).map_err(anyhow::Error::from)?,
            &who.sub,
            &who.org,
        )?;
        let mut invited = store::invited(conn, &c.id)?;
        if invited.is_empty() {
            invited = store::admitted_providers(conn, &c.lot_id)?;
        }
        let reason = input
            .reason
            .clone()
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| "reopened with a new deadline".to_owned());
        calloff_app::open(
            conn,
            events,
            c,
            &lot,
            Opening {
                invited,
                deadline: input.deadline,
                actor: &who.sub,
                org: &who.org,
                action: "reopened",
                reason: Some(&reason),
            },
        )
    })
    .await
}

/// Re-route a closed competition to a direct award (a commissioner of the council).
#[utoipa::path(post, path = "/v1/competitions/{id}/reroute", tag = "competition", request_body = Reroute,
    responses((status = 200, body = CompetitionView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn reroute(
    state: web::Data<CompetitionState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<Reroute>,
) -> Result<HttpResponse, Problem> {
    let input = body.0;
    change_competition(&state, who, id.into_inner(), move |conn, _, who, c| {
        let rerouted = c.status.reroute()?;
        not_withdrawn(c, "award")?;
        diesel::update(competitions::table.find(&c.id))
            .set((
                competitions::status.eq(rerouted),
                competitions::route.eq("direct_award"),
            ))
            .execute(conn)?;
        store::log(
            conn,
            &c.id,
            "rerouted",
            Some(input.reason.trim()),
            serde_json::json!({ "from": c.route, "to": input.route }),
            &who.sub,
            &who.org,
        )
    })
    .await
}

/// 422 unless a direct award on `c` holds: its review date ahead of `today`, the referral
/// (if named) the competition's own, the provider admitted to the lot.
fn direct_award_allowed(
    conn: &mut DbConnection,
    c: &CompetitionRow,
    input: &DirectAward,
    today: NaiveDate,
) -> Result<(), DbError> {
    if let Some(e) = input.review_date_error(today) {
        return Err(Problem::validation(vec![e]).into());
    }
    if let Some(r) = input.referral_id
        && ReferralId::from(r) != c.referral_id
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
    c: &CompetitionRow,
    input: &DirectAward,
) -> Result<(), DbError> {
    let awarded = c.status.award_directly()?;
    let today = Utc::now().date_naive();
    direct_award_allowed(conn, c, input, today)?;
    let review_date = input
        .review_date
        .unwrap_or_else(|| default_review_date(today));
    let at = now();
    let row = DirectAwardRow {
        competition_id: c.id,
        provider_id: input.provider_id.clone(),
        weekly_rate_pence: Pence(input.weekly_rate_pence),
        start_date: input.start_date,
        justification: input.justification.trim().to_owned(),
        review_date,
        awarded_by: who.sub.clone(),
        awarded_at: at,
    };
    diesel::insert_into(direct_awards::table)
        .values(&row)
        .execute(conn)?;
    diesel::update(competitions::table.find(&c.id))
        .set((
            competitions::status.eq(awarded),
            competitions::route.eq("direct_award"),
            competitions::direct.eq(true),
            competitions::awarded_provider.eq(Some(&row.provider_id)),
            competitions::awarded_by.eq(Some(&who.sub)),
            competitions::awarded_rate_pence.eq(Some(row.weekly_rate_pence)),
            competitions::awarded_start_date.eq(Some(row.start_date)),
            competitions::awarded_at.eq(Some(at)),
            competitions::review_date.eq(Some(review_date)),
        ))
        .execute(conn)?;
    events.emit(
        &c.partnership,
        &CompetitionAwarded {
            competition_id: c.id.into(),
            referral_id: c.referral_id.into(),
            council: c.council.clone(),
            framework_id: c.framework_id.into(),
            lot_id: c.lot_id.into(),
            provider_id: row.provider_id.clone(),
            bid_id: None,
            weekly_rate_pence: row.weekly_rate_pence.0,
            start_date: row.start_date,
            unsuccessful: Vec::new(),
            awarded_by: who.sub.clone(),
            direct: true,
            outcomes: Vec::new(),
        },
    );
    store::log(
        conn,
        &c.id,
        "direct_award",
        Some(&row.justification),
        serde_json::json!({ "provider_id": row.provider_id, "weekly_rate_pence": row.weekly_rate_pence, "review_date": review_date }),
        &who.sub,
        &who.org,
    )?;
    Ok(())
}

/// Award a draft or re-routed competition directly, in an emergency (a commissioner of the
/// council): the provider, the weekly rate, the start date and a justification; the award
/// is reviewed on its review date (default 28 days on).
#[utoipa::path(post, path = "/v1/competitions/{id}/direct-award", tag = "competition", request_body = DirectAward,
    responses((status = 200, body = CompetitionView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn direct_award(
    state: web::Data<CompetitionState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<DirectAward>,
) -> Result<HttpResponse, Problem> {
    let input = body.0;
    change_competition(&state, who, id.into_inner(), move |conn, events, who, c| {
        make_direct_award(conn, events, who, c, &input)
    })
    .await
}

/// Direct award for a referral routed `direct_award` (a commissioner of its council).
#[utoipa::path(post, path = "/v1/competitions/direct-awards", tag = "competition", request_body = DirectAward,
    responses((status = 201, body = CompetitionView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn direct_award_for_referral(
    state: web::Data<CompetitionState>,
    who: Principal,
    body: Json<DirectAward>,
) -> Result<HttpResponse, Problem> {
    let input = body.0;
    let Some(referral_id) = input.referral_id else {
        return Err(Problem::invalid(
            "/referral_id",
            "required",
            "name the referral to award",
        ));
    };
    let view = state
        .store
        .write(move |conn, events| {
            let mine: Vec<CompetitionRow> =
                store::competitions_of_referral(conn, &referral_id.into())?
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
            let c = commissioned(conn, &who, &c.id.to_string())?;
            make_direct_award(conn, events, &who, &c, &input)?;
            view(conn, &who, &c.id)
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewOutcome {
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
#[utoipa::path(post, path = "/v1/competitions/{id}/review", tag = "competition", request_body = Review,
    responses((status = 200, body = ReviewOutcome), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
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
            review_pending(&c)?;
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
            Ok(ReviewOutcome {
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

/// 409 unless `c` is a direct award with its review still to do.
fn review_pending(c: &CompetitionRow) -> Result<(), Problem> {
    if !(c.direct && c.status == Status::Awarded) {
        return Err(Problem::conflict(
            "not-a-direct-award",
            "only a direct award is reviewed",
        ));
    }
    if c.review_date.is_none() {
        return Err(Problem::conflict(
            "review-done",
            "the award has no review pending",
        ));
    }
    Ok(())
}

/// The review keeps the direct award, until the next review if one is set.
fn keep_award(
    conn: &mut DbConnection,
    c: &CompetitionRow,
    input: &Review,
    reason: &str,
    who: &Principal,
) -> Result<(), DbError> {
    diesel::update(competitions::table.find(&c.id))
        .set(competitions::review_date.eq(input.next_review_date))
        .execute(conn)?;
    store::log(
        conn,
        &c.id,
        "review_kept",
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
    c: &CompetitionRow,
    input: &Review,
    reason: &str,
    who: &Principal,
) -> Result<CompetitionId, DbError> {
    let lot = store::lot(conn, &c.lot_id)?.ok_or_else(|| Problem::not_found("lot"))?;
    let mut new = CompetitionRow {
        id: CompetitionId::new(),
        status: Status::Draft,
        awarded_provider: None,
        awarded_bid: None,
        awarded_by: None,
        created_at: now(),
        route: "mini_competition".into(),
        criteria: sql::Json(lot.criteria()),
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
        ..c.clone()
    };
    diesel::insert_into(competitions::table)
        .values(&new)
        .execute(conn)?;
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
            action: "opened",
            reason: Some(&format!(
                "the review of direct award {} reopened the requirement to competition: {reason}",
                c.id
            )),
        },
    )?;
    diesel::update(competitions::table.find(&c.id))
        .set(competitions::review_date.eq(None::<chrono::NaiveDate>))
        .execute(conn)?;
    store::log(
        conn,
        &c.id,
        "review_reopened",
        Some(reason),
        serde_json::json!({ "reopened_as": new.id }),
        &who.sub,
        &who.org,
    )?;
    Ok(new.id)
}
