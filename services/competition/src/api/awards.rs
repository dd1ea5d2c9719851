//! Scoring, evaluation and the award of the best-value bid.

use actix_web::{HttpResponse, web};
use hub_events::CompetitionAwarded;
use hub_platform::{
    DbConnection, FieldError, Principal, Problem, db::DbError, directory::distance_miles,
    http::Json,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    CompetitionState,
    competitions::commissioned,
    optional_body, path_id,
    views::{CompetitionSummary, ScoreView},
};
use crate::{
    domain::{
        Award, Bid, Competition, Score,
        calloff::{LogAction, ScoreMark, Status},
        criteria::{CriterionName, Mode},
        evaluation::{self, BidInput, Evaluation, Marks},
    },
    ids::BidId,
    store::{self, now},
};

/// Evaluates a competition's live bids on its criteria (three queries, whatever the number
/// of bids).
pub fn evaluation_of(
    conn: &mut DbConnection,
    c: &Competition,
) -> Result<(Evaluation, Vec<Bid>), DbError> {
    let bids = store::bids_of(conn, &c.id)?;
    let marks: Marks = store::scores_of(conn, &c.id)?
        .into_iter()
        .map(|s| ((s.bid_id.to_string(), s.criterion), s.mark()))
        .collect();
    let requirement = c.requirement.as_ref();
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
        evaluation::evaluate(&c.criteria, c.max_distance_miles(), &inputs, &marks),
        bids,
    ))
}

/// Mark one criterion of one bid (a commissioner of the council): points 0..=weight on a
/// scored criterion, or pass/fail on a gate, with a short reason. Price and location are
/// scored automatically; their gates may be marked to override the automatic result.
#[utoipa::path(put, path = "/v1/competitions/{id}/bids/{bid_id}/scores/{criterion}", tag = "competition", operation_id = "replaceBidScore", request_body = ScoreMark,
    responses((status = 200, body = ScoreView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn score(
    state: web::Data<CompetitionState>,
    who: Principal,
    path: web::Path<(String, String, String)>,
    body: Json<ScoreMark>,
) -> Result<HttpResponse, Problem> {
    let (id, bid_id, criterion) = path.into_inner();
    let input = body.0;
    let view = state
        .store
        .write(move |conn, _| {
            let c = commissioned(conn, &who, &id)?;
            c.status.require(&[Status::Open], "scoring")?;
            let bid_id: BidId = path_id(&bid_id, "bid")?;
            let bid = store::bids_of(conn, &c.id)?
                .into_iter()
                .find(|b| b.id == bid_id)
                .ok_or_else(|| Problem::not_found("bid"))?;
            let name = criterion.parse::<CriterionName>().map_err(|_| {
                Problem::invalid("criterion", "one_of", "not a criterion of the list")
            })?;
            let cr = c
                .criteria
                .iter()
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
            let score = Score {
                bid_id: bid.id,
                criterion: name,
                points: input.score.map(|s| s as i32),
                passed: input.passed,
                reason: input.reason.trim().to_owned(),
                scored_by: who.sub.clone(),
                scored_at: now(),
            };
            store::put_score(conn, &score)?;
            Ok(ScoreView::from(score))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Rank the bids (a commissioner of the council): gates first, then weighted totals.
#[utoipa::path(post, path = "/v1/competitions/{id}/evaluate", tag = "competition", operation_id = "evaluateCompetition",
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
    pub competition: CompetitionSummary,
    pub evaluation: Evaluation,
}

/// Award the best-value bid (a commissioner of the council). Naming a bid checks that it is
/// the best value (409 `/problems/not-best-value` otherwise). Every unsuccessful provider
/// is told its scores beside the winner's and why.
#[utoipa::path(post, path = "/v1/competitions/{id}/award", tag = "competition", operation_id = "awardCompetition", request_body = Award,
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
                LogAction::Awarded,
                None,
                serde_json::json!({ "bid_id": bid.id, "provider_id": bid.provider_id, "total": total }),
                &who.sub,
                &who.org,
            )?;
            Ok(AwardView {
                competition: CompetitionSummary::from(&c),
                evaluation: ev,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The bid to award and its total: the best value, once every mark is made. A bid the
/// commissioner names must be a bid of this competition (422) and the best value (409).
fn winner(ev: &Evaluation, bids: &[Bid], named: Option<String>) -> Result<(Bid, u32), DbError> {
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
    c: &Competition,
    bid: &Bid,
    bids: &[Bid],
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

/// 409 `/problems/bidding-open` while `c` is open to bids that have not all come in (see
/// [`Competition::require_answers_or_deadline`]): who was invited, and who answered.
pub(super) fn require_answers_or_deadline(
    conn: &mut DbConnection,
    c: &Competition,
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
    Ok(c.require_answers_or_deadline(now(), &invited, &answered, doing)?)
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
