//! Mini-competitions: what the council and invited providers see, preselection and
//! criteria of a draft, confirming it, and bids.

use std::collections::{BTreeMap, HashMap};

use actix_web::{HttpResponse, http::StatusCode, web};
use chrono::Utc;
use hub_bus::Events;
use hub_events::BidSubmitted;
use hub_platform::{
    DbConnection, FieldError, Pence, Principal, Problem, Role,
    db::DbError,
    etag::{ETag, IfMatch},
    http::Json,
    idempotency::{Answer, IdempotencyKey},
    page::{Page, PageParams, PageRequest},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    CompetitionState, IDEMPOTENCY_KEY_DOC, IF_MATCH_DOC, path_id, tagged,
    views::{BidView, CompetitionSummary, DeclineView, DirectAwardView, LogView},
};
use crate::ids::{BidId, CompetitionId, HomeId, LogEntryId};
use crate::{
    app::competitions::{self as calloff_app, Opening},
    domain::{
        Bid, Competition, Home, InvitationDecline, NewBid,
        calloff::{Decline, LogAction, Open, Status, Terms},
        criteria::Criterion,
        needs_variation_evidence,
        preselection::{Invitee, LeftOut, Preselection, PreselectionUpdate, preselect},
    },
    store::{self, Lister, now},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct CompetitionView {
    #[serde(flatten)]
    pub competition: CompetitionSummary,
    pub criteria: Vec<Criterion>,
    /// The providers invited (the council sees all; a provider sees only itself).
    pub invited: Vec<String>,
    /// Bids (the council sees all; a provider sees only its own).
    pub bids: Vec<BidView>,
    /// Invited providers that declined to bid, and why (the council sees all; a provider
    /// only its own).
    pub declined: Vec<DeclineView>,
    /// The council's view: the preselection tests and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preselection: Option<Preselection>,
    /// The council's view of a draft: who would be invited now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_invite: Option<Vec<Invitee>>,
    /// The council's view: who is (draft) or was (opened) left out, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_out: Option<Vec<LeftOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_award: Option<DirectAwardView>,
    /// The council's view: what happened and who did it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<LogView>>,
    /// Sent as the `ETag` header, not in the body.
    #[serde(skip)]
    pub revision: i64,
}

/// A competition as its reader may see it: the competition, the invited providers and the
/// bids.
pub struct Visible {
    pub competition: Competition,
    pub invited: Vec<String>,
    pub bids: Vec<Bid>,
}

/// What the caller may see of a competition, or 404: the council whose child it is sees it
/// all; an invited provider sees itself and its own bid; anyone else gets 404.
pub fn visible(
    conn: &mut DbConnection,
    who: &Principal,
    id: &CompetitionId,
) -> Result<Visible, DbError> {
    let (competition, invited, own) = readable(conn, who, id)?;
    Ok(match own {
        Some(org) => Visible {
            bids: store::bids_of_provider(conn, id, &org)?,
            invited: vec![org],
            competition,
        },
        None => Visible {
            bids: store::bids_of(conn, id)?,
            invited,
            competition,
        },
    })
}

/// The competition `who` may read, the providers invited to it, and whose bids `who` sees:
/// `None` for the council whose child it is (every bid), the provider's own organisation for
/// an invited provider; 404 for anyone else.
fn readable(
    conn: &mut DbConnection,
    who: &Principal,
    id: &CompetitionId,
) -> Result<(Competition, Vec<String>, Option<String>), DbError> {
    let competition =
        store::competition(conn, id)?.ok_or_else(|| Problem::not_found("competition"))?;
    let invited = store::invited(conn, id)?;
    if who.is_provider() && invited.contains(&who.org) {
        Ok((competition, invited, Some(who.org.clone())))
    } else if !who.is_provider() && competition.council == who.org {
        Ok((competition, invited, None))
    } else {
        Err(Problem::not_found("competition").into())
    }
}

/// A competition's live bids, newest first: its council sees every bid, an invited provider
/// its own.
#[utoipa::path(get, path = "/v1/competitions/{id}/bids", tag = "competition", operation_id = "listCompetitionBids",
    params(PageParams),
    responses((status = 200, body = Page<BidView>), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_bids(
    state: web::Data<CompetitionState>,
    who: Principal,
    id: web::Path<String>,
    paging: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, Problem> {
    let page = PageRequest::from_query(&paging)?;
    let after: Option<BidId> = page.after()?;
    let id = id.into_inner();
    let listed = state
        .store
        .db
        .run(move |conn| {
            let (c, _, own) = readable(conn, &who, &path_id(&id, "competition")?)?;
            let rows = store::bids_page(conn, &c.id, own.as_deref(), after.as_ref(), page.fetch())?;
            Ok(page.page(rows, |b| b.id).map(BidView::from))
        })
        .await?;
    Ok(HttpResponse::Ok().json(listed))
}

/// A competition's history, oldest first: what happened and who did it (its council's
/// users; an invited provider gets 403, the history being the council's record).
#[utoipa::path(get, path = "/v1/competitions/{id}/history", tag = "competition", operation_id = "listCompetitionHistory",
    params(PageParams),
    responses((status = 200, body = Page<LogView>), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_history(
    state: web::Data<CompetitionState>,
    who: Principal,
    id: web::Path<String>,
    paging: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, Problem> {
    let page = PageRequest::from_query(&paging)?;
    let after: Option<LogEntryId> = page.after()?;
    let id = id.into_inner();
    let listed = state
        .store
        .db
        .run(move |conn| {
            let (c, _, own) = readable(conn, &who, &path_id(&id, "competition")?)?;
            if own.is_some() {
                return Err(
                    Problem::forbidden("a competition's history is its council's record").into(),
                );
            }
            let rows = store::log_page(conn, &c.id, after.as_ref(), page.fetch())?;
            Ok(page.page(rows, |l| l.id).map(LogView::from))
        })
        .await?;
    Ok(HttpResponse::Ok().json(listed))
}

/// The council's competition for one of its commissioners: 404 for anyone who may not see
/// it, 403 for the council's other roles.
pub fn commissioned(
    conn: &mut DbConnection,
    who: &Principal,
    id: &str,
) -> Result<Competition, DbError> {
    let c = store::competition(conn, &path_id(id, "competition")?)?
        .filter(|c| !who.is_provider() && c.council == who.org)
        .ok_or_else(|| Problem::not_found("competition"))?;
    who.require_any(&[Role::Commissioner])?;
    Ok(c)
}

/// The full view for `who` (as `visible` allows), with the council's extras.
pub fn view(
    conn: &mut DbConnection,
    who: &Principal,
    id: &CompetitionId,
) -> Result<CompetitionView, DbError> {
    let v = visible(conn, who, id)?;
    let c = v.competition;
    let declined = store::declines_of(conn, &c.id)?
        .into_iter()
        .filter(|d| v.invited.contains(&d.provider_id))
        .map(DeclineView::from)
        .collect();
    let mut out = CompetitionView {
        competition: CompetitionSummary::from(&c),
        criteria: c.criteria.clone(),
        invited: v.invited,
        bids: v.bids.into_iter().map(BidView::from).collect(),
        declined,
        preselection: None,
        would_invite: None,
        left_out: None,
        direct_award: None,
        history: None,
        revision: c.revision,
    };
    if who.is_provider() {
        return Ok(out);
    }
    out.preselection = c.preselection.clone();
    if c.status == Status::Draft {
        if let (Some(p), Some(r)) = (&c.preselection, &c.requirement) {
            let candidates = calloff_app::candidates(conn, &c.lot_id, Utc::now().date_naive())?;
            let res = preselect(p, r, &candidates);
            out.would_invite = Some(res.would_invite);
            out.left_out = Some(res.left_out);
        }
    } else if c.left_out.is_some() {
        out.left_out = c.left_out;
    }
    out.direct_award = store::direct_award(conn, &c.id)?.map(DirectAwardView::from);
    out.history = Some(
        store::log_of(conn, &c.id)?
            .into_iter()
            .map(LogView::from)
            .collect(),
    );
    Ok(out)
}

/// Changes competition `id` for one of its council's commissioners (404 or 403 as
/// [`commissioned`]): `change` runs in one write transaction with the competition, and the
/// answer is 200 with the competition as the commissioner then sees it.
pub async fn change_competition<F>(
    state: &CompetitionState,
    who: Principal,
    id: String,
    change: F,
) -> Result<HttpResponse, Problem>
where
    F: FnOnce(&mut DbConnection, &mut Events, &Principal, &mut Competition) -> Result<(), DbError>
        + Send
        + 'static,
{
    let view = state
        .store
        .write(move |conn, events| {
            let mut c = commissioned(conn, &who, &id)?;
            change(conn, events, &who, &mut c)?;
            view(conn, &who, &c.id)
        })
        .await?;
    Ok(tagged(StatusCode::OK, view.revision, &view))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CompetitionQuery {
    pub referral_id: Option<String>,
}

/// Competitions the caller may see, newest first: its council's, or those its provider was
/// invited to.
#[utoipa::path(get, path = "/v1/competitions", tag = "competition", operation_id = "listCompetitions",
    params(CompetitionQuery, PageParams),
    responses((status = 200, body = Page<CompetitionSummary>), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_competitions(
    state: web::Data<CompetitionState>,
    who: Principal,
    query: web::Query<CompetitionQuery>,
    paging: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, Problem> {
    let referral = query.into_inner().referral_id;
    let page = PageRequest::from_query(&paging)?;
    let after: Option<CompetitionId> = page.after()?;
    let listed = state
        .store
        .db
        .run(move |conn| {
            let lister = if who.is_provider() {
                Lister::Provider(&who.org)
            } else {
                Lister::Council(&who.org)
            };
            let rows = store::competitions_listed(
                conn,
                lister,
                referral.as_deref(),
                after.as_ref(),
                page.fetch(),
            )?;
            Ok(page
                .page(rows, |c| c.id)
                .map(|c| CompetitionSummary::from(&c)))
        })
        .await?;
    Ok(HttpResponse::Ok().json(listed))
}

/// A competition, as the council or an invited provider may see it. For a draft the council
/// sees who would be invited and why each other provider would be left out.
#[utoipa::path(get, path = "/v1/competitions/{id}", tag = "competition", operation_id = "getCompetition",
    responses((status = 200, body = CompetitionView, headers(("ETag" = String, description = "The competition's revision"))), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_competition(
    state: web::Data<CompetitionState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    let view = state
        .store
        .db
        .run(move |conn| view(conn, &who, &path_id(&id, "competition")?))
        .await?;
    Ok(tagged(StatusCode::OK, view.revision, &view))
}

/// Change a draft's preselection tests (a commissioner of the council), saying why.
/// `If-Match` must name the competition's current revision (ADR 0004).
#[utoipa::path(put, path = "/v1/competitions/{id}/preselection", tag = "competition", operation_id = "replaceCompetitionPreselection",
    request_body = PreselectionUpdate,
    params(("If-Match" = String, Header, description = IF_MATCH_DOC)),
    responses((status = 200, body = CompetitionView, headers(("ETag" = String, description = "The competition's new revision"))), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)),
    security(("bearer" = [])))]
pub async fn set_preselection(
    state: web::Data<CompetitionState>,
    who: Principal,
    if_match: IfMatch,
    id: web::Path<String>,
    body: Json<PreselectionUpdate>,
) -> Result<HttpResponse, Problem> {
    let input = body.0;
    change_competition(&state, who, id.into_inner(), move |conn, _, who, c| {
        if_match.check(ETag(c.revision), "competition")?;
        c.status
            .require(&[Status::Draft], "changing the preselection")?;
        let current = c.preselection.as_ref().ok_or_else(|| {
            Problem::conflict("competition-state", "this competition has no preselection")
        })?;
        let p = input.apply(current, &who.sub);
        c.preselection = Some(p.clone());
        store::save_preselection(conn, c)?;
        store::log(
            conn,
            &c.id,
            LogAction::PreselectionChanged,
            Some(&p.reason),
            serde_json::to_value(&p).map_err(anyhow::Error::from)?,
            &who.sub,
            &who.org,
        )
    })
    .await
}

/// Set the criteria (and the need level bids are priced at) of a draft, or of an open
/// competition before any bid (a commissioner of the council). Scored weights sum to 100.
/// `If-Match` must name the competition's current revision (ADR 0004).
#[utoipa::path(put, path = "/v1/competitions/{id}/criteria", tag = "competition", operation_id = "replaceCompetitionCriteria",
    request_body = Terms,
    params(("If-Match" = String, Header, description = IF_MATCH_DOC)),
    responses((status = 200, body = CompetitionView, headers(("ETag" = String, description = "The competition's new revision"))), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)),
    security(("bearer" = [])))]
pub async fn set_criteria(
    state: web::Data<CompetitionState>,
    who: Principal,
    if_match: IfMatch,
    id: web::Path<String>,
    body: Json<Terms>,
) -> Result<HttpResponse, Problem> {
    let input = body.0;
    change_competition(&state, who, id.into_inner(), move |conn, _, who, c| {
        if_match.check(ETag(c.revision), "competition")?;
        c.status
            .require(&[Status::Draft, Status::Open], "changing the criteria")?;
        if c.status == Status::Open && !store::bids_of(conn, &c.id)?.is_empty() {
            return Err(Problem::conflict(
                "bids-received",
                "bids have been made against the current criteria",
            )
            .into());
        }
        let need_level = input.need_level.unwrap_or(c.need_level.clone());
        c.criteria = input.criteria.clone();
        c.need_level = need_level.clone();
        store::save_terms(conn, c)?;
        store::log(
            conn,
            &c.id,
            LogAction::CriteriaChanged,
            None,
            serde_json::json!({ "criteria": input.criteria, "need_level": need_level }),
            &who.sub,
            &who.org,
        )
    })
    .await
}

/// Confirm a draft (a commissioner of the council): the providers its preselection passes
/// are invited and told, and who was left out, and why, is recorded.
#[utoipa::path(post, path = "/v1/competitions/{id}/open", tag = "competition", operation_id = "openCompetition", request_body = Open,
    responses((status = 200, body = CompetitionView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn open_competition(
    state: web::Data<CompetitionState>,
    who: Principal,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let input = super::open_input(&body)?;
    change_competition(&state, who, id.into_inner(), move |conn, events, who, c| {
        c.status.open()?;
        let lot = store::lot(conn, &c.lot_id)?.ok_or_else(|| Problem::not_found("lot"))?;
        let candidates = calloff_app::candidates(conn, &c.lot_id, Utc::now().date_naive())?;
        let (invited, left_out, why): (Vec<String>, _, _) = match (&c.preselection, &c.requirement)
        {
            (Some(p), Some(r)) => {
                let res = preselect(p, r, &candidates);
                (
                    res.would_invite
                        .into_iter()
                        .map(|i| i.provider_id)
                        .collect(),
                    res.left_out,
                    p.reason.clone(),
                )
            }
            _ => (
                candidates.into_iter().map(|c| c.provider_id).collect(),
                Vec::new(),
                "every provider admitted to the lot".to_owned(),
            ),
        };
        if invited.is_empty() {
            return Err(Problem::conflict(
                "nobody-to-invite",
                "the preselection leaves no provider to invite: change its tests, or re-route",
            )
            .into());
        }
        c.left_out = Some(left_out);
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
                action: LogAction::Opened,
                reason: Some(&why),
            },
        )
    })
    .await
}

/// The problem a bid above the provider's own Provider Response rate gets without evidence
/// for the variation: 422 `/problems/price-above-provider-response`, naming
/// `/weekly_price_pence` with the rule `provider_response`.
pub fn price_above_provider_response(price: i64, rate: Option<i64>, level: &str) -> Problem {
    let message = match rate {
        Some(rate) => format!(
            "{} a week is above your Provider Response rate of {} for {level} needs",
            Pence(price),
            Pence(rate)
        ),
        None => format!("your Provider Response has no rate for {level} needs"),
    };
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "price-above-provider-response",
        "The price is above the Provider Response rate",
    )
    .with_detail(format!(
        "{message}: give price_variation_evidence to explain the variation"
    ))
    .with_errors(vec![FieldError::new(
        "/weekly_price_pence",
        "provider_response",
        message,
    )])
}

/// Bid (an invited provider, before the deadline; a resubmission replaces the live bid).
/// A price above the provider's Provider Response rate for the competition's need level
/// needs `price_variation_evidence`.
#[utoipa::path(post, path = "/v1/competitions/{id}/bids", tag = "competition", operation_id = "createBid",
    request_body = NewBid,
    params(("Idempotency-Key" = Option<String>, Header, description = IDEMPOTENCY_KEY_DOC)),
    responses((status = 201, body = BidView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn bid(
    state: web::Data<CompetitionState>,
    who: Principal,
    key: IdempotencyKey,
    id: web::Path<String>,
    body: Json<NewBid>,
) -> Result<Answer, Problem> {
    who.require_any(&[Role::Provider])?;
    let id = id.into_inner();
    let input = body.0;
    let org = who.org.clone();
    Ok(state
        .store
        .write_once(&org, &key, move |conn, events| {
            let v = visible(conn, &who, &path_id(&id, "competition")?)?;
            let c = v.competition;
            c.require_bidding_open(now(), "bidding")?;
            answers_on_criteria(&c, &input)?;
            let rate = store::admission(conn, &c.lot_id, &who.org)?
                .and_then(|a| a.prices.get(&c.need_level).map(|p| p.0));
            let evidence = input.evidence().map(str::to_owned);
            if needs_variation_evidence(input.weekly_price_pence, rate) && evidence.is_none() {
                return Err(price_above_provider_response(
                    input.weekly_price_pence,
                    rate,
                    &c.need_level,
                )
                .into());
            }
            let home = match input.home_id {
                Some(h) => Some(own_home(conn, &who, &c, &h)?),
                None => None,
            };
            for old in &v.bids {
                store::delete_bid(conn, &old.id)?;
            }
            let bid = new_bid(&c, &who, &input, home.as_ref(), rate, evidence);
            store::insert_bid(conn, &bid)?;
            // A bid after a decline is the provider changing its mind: the bid stands.
            store::delete_declines(conn, &c.id, Some(&who.org))?;
            events.emit(
                &c.partnership,
                &BidSubmitted {
                    competition_id: c.id.into(),
                    bid_id: bid.id.into(),
                    provider_id: who.org.clone(),
                    council: c.council.clone(),
                },
            );
            Ok(Answer::created(&BidView::from(bid)))
        })
        .await?)
}

/// The bid `who` makes on `c` as `input` says, offering `home`, held to the Provider
/// Response `rate` with the `evidence` for a variation from it.
fn new_bid(
    c: &Competition,
    who: &Principal,
    input: &NewBid,
    home: Option<&Home>,
    rate: Option<i64>,
    evidence: Option<String>,
) -> Bid {
    Bid {
        id: BidId::new(),
        competition_id: c.id,
        provider_id: who.org.clone(),
        weekly_price_pence: Pence(input.weekly_price_pence),
        start_date: input.start_date,
        home_id: home.map(|h| h.id),
        home_name: home.map(|h| h.name.clone()),
        home_latitude: home.map(|h| h.latitude),
        home_longitude: home.map(|h| h.longitude),
        answers: input
            .answers
            .iter()
            .map(|(k, a)| (k.to_string(), a.clone()))
            .collect::<BTreeMap<String, String>>(),
        provider_response_pence: rate.map(Pence),
        price_variation_evidence: evidence,
        submitted_by: who.sub.clone(),
        submitted_at: now(),
    }
}

/// 422 naming each answer to a criterion the competition does not have.
fn answers_on_criteria(c: &Competition, input: &NewBid) -> Result<(), Problem> {
    let errors: Vec<FieldError> = input
        .answers
        .keys()
        .filter(|k| !c.criteria.iter().any(|c| c.criterion == **k))
        .map(|k| {
            FieldError::new(
                format!("/answers/{k}"),
                "criterion",
                "not a criterion of this competition",
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::validation(errors))
    }
}

/// The bidder's own home or carers in the competition's lot, or 422 on `/home_id`.
fn own_home(
    conn: &mut DbConnection,
    who: &Principal,
    c: &Competition,
    id: &HomeId,
) -> Result<Home, DbError> {
    Ok(store::home(conn, id)?
        .filter(|h| h.provider_id == who.org && h.lot_id == c.lot_id)
        .ok_or_else(|| {
            Problem::invalid(
                "/home_id",
                "exists",
                "not one of your homes or carers in this lot",
            )
        })?)
}

/// Decline an invitation (an invited provider, while bidding is open), with a reason code
/// and, optionally, a note for the commissioner. A live bid of the provider is withdrawn
/// (kept in the history); bidding again before the deadline replaces the decline.
#[utoipa::path(post, path = "/v1/competitions/{id}/decline", tag = "competition", operation_id = "declineCompetition", request_body = Decline,
    responses((status = 200, body = CompetitionView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn decline(
    state: web::Data<CompetitionState>,
    who: Principal,
    id: web::Path<String>,
    body: Json<Decline>,
) -> Result<HttpResponse, Problem> {
    who.require_any(&[Role::Provider])?;
    let id = id.into_inner();
    let input = body.0;
    let view = state
        .store
        .write(move |conn, _| {
            let v = visible(conn, &who, &path_id(&id, "competition")?)?;
            let c = v.competition;
            c.require_bidding_open(now(), "declining")?;
            for old in &v.bids {
                store::delete_bid(conn, &old.id)?;
            }
            let decline = InvitationDecline {
                competition_id: c.id,
                provider_id: who.org.clone(),
                reason: input.reason,
                note: input
                    .note
                    .as_deref()
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned),
                declined_by: who.sub.clone(),
                declined_at: now(),
            };
            store::put_decline(conn, &decline)?;
            store::log(
                conn,
                &c.id,
                LogAction::Declined,
                decline.note.as_deref(),
                serde_json::json!({ "provider_id": decline.provider_id, "reason": decline.reason, "bid_withdrawn": v.bids.first().map(|b| &b.id) }),
                &who.sub,
                &who.org,
            )?;
            view(conn, &who, &c.id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
