//! Closing a competition without an award, closing bidding early, reopening and
//! re-routing.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use hub_events::BiddingClosed;
use hub_platform::{Principal, Problem, http::Json};

use super::{
    CompetitionState,
    competitions::{CompetitionView, change_competition},
    views::BidSummary,
};
use crate::{
    app::competitions::{self as calloff_app, Closing, Opening},
    domain::{
        Route,
        calloff::{Close, CloseBidding, LogAction, Open, Reroute, Status},
    },
    store::{self, now},
};

use super::awards::require_answers_or_deadline;

/// Close a competition without an award, with a reason (a commissioner of the council):
/// typically when no bid is acceptable. The invited providers are told.
#[utoipa::path(post, path = "/v1/competitions/{id}/close", tag = "competition", operation_id = "closeCompetition", request_body = Close,
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

/// Close bidding before the deadline (a commissioner of the council), with a reason code
/// every invited provider is told (`competition.bidding_closed`) and an optional note that
/// stays in the council's history. The award (or a close without one) may then be made.
#[utoipa::path(post, path = "/v1/competitions/{id}/close-bidding", tag = "competition", operation_id = "closeCompetitionBidding", request_body = CloseBidding,
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
        c.require_bidding_open(now(), "closing bidding")?;
        let at = Utc::now();
        let reason = input.reason;
        c.bidding_closed_at = Some(at.naive_utc());
        c.bidding_closed_reason = Some(reason);
        store::save_bidding_closed(conn, c)?;
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
            LogAction::BiddingClosed,
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

/// Reopen a closed competition with a new deadline (a commissioner of the council). The
/// earlier bids are set aside (kept in the history) and the same providers are invited
/// again.
#[utoipa::path(post, path = "/v1/competitions/{id}/reopen", tag = "competition", operation_id = "reopenCompetition", request_body = Open,
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
        c.require_not_withdrawn("compete for")?;
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
            LogAction::BidsSetAside,
            c.closed_reason.map(|r| r.code()),
            serde_json::to_value(earlier.iter().map(BidSummary::from).collect::<Vec<_>>())
                .map_err(anyhow::Error::from)?,
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
                action: LogAction::Reopened,
                reason: Some(&reason),
            },
        )
    })
    .await
}

/// Re-route a closed competition to a direct award (a commissioner of the council).
#[utoipa::path(post, path = "/v1/competitions/{id}/reroute", tag = "competition", operation_id = "rerouteCompetition", request_body = Reroute,
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
        c.require_not_withdrawn("award")?;
        let from = c.route;
        c.status = rerouted;
        c.route = Route::DirectAward;
        store::save_route(conn, c)?;
        store::log(
            conn,
            &c.id,
            LogAction::Rerouted,
            Some(input.reason.trim()),
            serde_json::json!({ "from": from, "to": input.route }),
            &who.sub,
            &who.org,
        )
    })
    .await
}
