//! HTTP handlers of the notifications service: an organisation's webhook endpoints and their
//! delivery log. Every endpoint belongs to the caller's organisation; anyone else's ids are 404.
//! The handlers check the caller and the input, run the application layer ([`crate::app`])
//! and build the responses ([`views`]).

mod views;
mod webhooks;

use std::sync::Arc;

use actix_web::web;
use hub_bus::Store;
use hub_platform::{Principal, Problem, Role};
use tokio::sync::Notify;
use utoipa::OpenApi;

pub use views::*;
pub use webhooks::*;

use crate::domain::{
    self, Audience, Awarded, BedOfferedHook, BedVoidHook, BiddingClosedHook, Closed,
    CriterionResult, Invited, IpaReviewDueHook, OrderIssuedHook, OrderOverdueHook,
    PlacementEndedHook, ReferralUpdate, ServiceContractExpiringHook, Unsuccessful, VacancyOffered,
};

pub struct NotificationsState {
    pub store: Store,
    /// Wakes the delivery worker (after an enable or a redelivery).
    pub wake: Arc<Notify>,
    /// Keeps the delivery worker running: it stops once the service is no longer mounted.
    pub worker_alive: Arc<()>,
    /// Where webhooks may go (public https; loopback http in development).
    pub destinations: domain::Destinations,
}

/// 422 naming `/url` unless webhooks may go where `url` points.
fn check_destination(state: &NotificationsState, url: &str) -> Result<(), Problem> {
    match state.destinations.error(url) {
        Some(e) => Err(Problem::validation(vec![e])),
        None => Ok(()),
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(webhooks::create, webhooks::list, webhooks::show, webhooks::change, webhooks::rotate_secret,
        webhooks::disable, webhooks::enable, webhooks::deliveries, webhooks::redeliver),
    components(schemas(Invited, ReferralUpdate, Awarded, Unsuccessful, CriterionResult, Closed, BiddingClosedHook, VacancyOffered,
        OrderIssuedHook, OrderOverdueHook, IpaReviewDueHook, BedVoidHook, BedOfferedHook,
        ServiceContractExpiringHook, PlacementEndedHook)),
    tags((name = "notifications", description = "Webhooks to providers (`competition.invited` → InvitedHook, \
        `referral.updated` → ReferralUpdatedHook, `competition.awarded` → AwardedHook, `competition.unsuccessful` → \
        UnsuccessfulHook, `competition.closed` → ClosedHook, `competition.bidding_closed` → BiddingClosedHook, `order.issued` → OrderIssuedHook, `placement.ended` → \
        PlacementEndedHook), to councils (`vacancy.offered` → VacancyOfferedHook, `bed.void` → BedVoidHook, \
        `bed.offered` → BedOfferedHook, `service_contract.expiring` → ServiceContractExpiringHook) and to both \
        (`order.overdue` → OrderOverdueHook, `ipa.review_due` → IpaReviewDueHook). \
        Every delivery is POSTed as JSON `{\"type\", \"timestamp\", \"data\"}` with the Standard Webhooks \
        headers `webhook-id` (the delivery id, the same on every retry), `webhook-timestamp` (unix seconds) and \
        `webhook-signature` (`v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`, keyed with the base64-decoded \
        secret after `whsec_`; space-separated, two of them for 24 hours after a rotation). Answer 2xx within the \
        timeout; anything else is retried with exponential backoff."))
)]
pub struct NotificationsApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/webhooks", web::post().to(create))
        .route("/v1/webhooks", web::get().to(list))
        .route("/v1/webhooks/{id}", web::get().to(show))
        .route("/v1/webhooks/{id}", web::patch().to(change))
        .route(
            "/v1/webhooks/{id}/rotate-secret",
            web::post().to(rotate_secret),
        )
        .route("/v1/webhooks/{id}/disable", web::post().to(disable))
        .route("/v1/webhooks/{id}/enable", web::post().to(enable))
        .route("/v1/webhooks/{id}/deliveries", web::get().to(deliveries))
        .route(
            "/v1/webhooks/deliveries/{delivery_id}/redeliver",
            web::post().to(redeliver),
        );
}

/// Who may manage webhooks: providers (who receive them), commissioners and admins.
fn require_role(who: &Principal) -> Result<(), Problem> {
    who.require_any(&[Role::Provider, Role::Commissioner, Role::Admin])
}

/// Providers' endpoints take provider events; a council's (commissioners, admins) take the
/// council events ([`domain::COUNCIL_EVENT_TYPES`]).
fn audience(who: &Principal) -> Audience {
    if who.is_provider() {
        Audience::Provider
    } else {
        Audience::Council
    }
}

/// 422 if the caller's organisation is not sent some of `types`.
fn check_audience(who: &Principal, types: &[String]) -> Result<(), Problem> {
    let errors = domain::audience_errors(types, audience(who));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::validation(errors))
    }
}

#[cfg(test)]
mod tests;
