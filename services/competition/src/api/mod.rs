//! HTTP handlers of the competition service.
//!
//! * `frameworks`: frameworks and purchasing systems, lots, admission rounds, Provider
//!   Responses (admissions) and the providers' homes or carers.
//! * `vacancies`: live vacancies, published by providers and listed by lot and distance.
//! * `competitions`: mini-competitions (preselection, criteria, opening) and bids.
//! * `awards`: scoring, evaluation and award.
//! * `closing`: closing without an award, closing bidding early, reopening, re-routing.
//! * `direct`: direct awards and their review.
//! * `ocds`: the OCDS 1.1 export of a competition.
//! * `views`: the responses' building blocks, made from the domain's types.

pub mod awards;
pub mod closing;
pub mod competitions;
pub mod direct;
pub mod frameworks;
pub mod ocds;
pub mod vacancies;
pub mod views;

use actix_web::{HttpResponse, http::StatusCode, web};
use hub_bus::Store;
use hub_platform::{Principal, Problem, etag::ETag};
use serde::Serialize;
use utoipa::OpenApi;

pub struct CompetitionState {
    pub store: Store,
}

#[derive(OpenApi)]
#[openapi(
    paths(
        frameworks::create_framework,
        frameworks::list_frameworks,
        frameworks::get_framework,
        frameworks::open_round,
        frameworks::close_round,
        frameworks::set_lot_criteria,
        frameworks::admit,
        frameworks::get_admission,
        frameworks::add_home,
        frameworks::get_home,
        frameworks::update_home,
        vacancies::publish,
        vacancies::get,
        vacancies::update,
        vacancies::withdraw,
        vacancies::list,
        competitions::list_competitions,
        competitions::get_competition,
        competitions::set_preselection,
        competitions::set_criteria,
        competitions::open_competition,
        competitions::bid,
        competitions::list_bids,
        competitions::list_history,
        competitions::decline,
        awards::score,
        awards::evaluate,
        awards::award,
        closing::close,
        closing::close_bidding,
        closing::reopen,
        closing::reroute,
        direct::direct_award,
        direct::direct_award_for_referral,
        direct::review,
        ocds::export,
    ),
    tags((name = "competition", description = "Frameworks, lots, admitted providers, vacancies, mini-competitions, awards"))
)]
pub struct CompetitionApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(framework_routes)
        .configure(vacancy_routes)
        .configure(competition_routes);
}

/// Frameworks, lots, admission rounds, Provider Responses and homes.
fn framework_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/v1/frameworks",
        web::post().to(frameworks::create_framework),
    )
    .route("/v1/frameworks", web::get().to(frameworks::list_frameworks))
    .route(
        "/v1/frameworks/{id}",
        web::get().to(frameworks::get_framework),
    )
    .route(
        "/v1/frameworks/{id}/admission-rounds",
        web::post().to(frameworks::open_round),
    )
    .route(
        "/v1/frameworks/{id}/admission-rounds/{round_id}/close",
        web::post().to(frameworks::close_round),
    )
    .route(
        "/v1/frameworks/{id}/lots/{lot_id}/criteria",
        web::put().to(frameworks::set_lot_criteria),
    )
    .route(
        "/v1/frameworks/{id}/lots/{lot_id}/providers",
        web::post().to(frameworks::admit),
    )
    .route(
        "/v1/frameworks/{id}/lots/{lot_id}/providers/{provider_id}",
        web::get().to(frameworks::get_admission),
    )
    .route(
        "/v1/frameworks/{id}/lots/{lot_id}/providers/{provider_id}/homes",
        web::post().to(frameworks::add_home),
    )
    .route(
        "/v1/frameworks/{id}/lots/{lot_id}/providers/{provider_id}/homes/{home_id}",
        web::put().to(frameworks::update_home),
    )
    .route(
        "/v1/frameworks/{id}/lots/{lot_id}/providers/{provider_id}/homes/{home_id}",
        web::get().to(frameworks::get_home),
    );
}

/// Live vacancies.
fn vacancy_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/vacancies", web::post().to(vacancies::publish))
        .route("/v1/vacancies", web::get().to(vacancies::list))
        .route("/v1/vacancies/{id}", web::put().to(vacancies::update))
        .route("/v1/vacancies/{id}", web::get().to(vacancies::get))
        .route(
            "/v1/vacancies/{id}/withdraw",
            web::post().to(vacancies::withdraw),
        );
}

/// Competitions, bids and awards.
fn competition_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/v1/competitions",
        web::get().to(competitions::list_competitions),
    )
    .route(
        "/v1/competitions/direct-awards",
        web::post().to(direct::direct_award_for_referral),
    )
    .route(
        "/v1/competitions/{id}",
        web::get().to(competitions::get_competition),
    )
    .route(
        "/v1/competitions/{id}/preselection",
        web::put().to(competitions::set_preselection),
    )
    .route(
        "/v1/competitions/{id}/criteria",
        web::put().to(competitions::set_criteria),
    )
    .route(
        "/v1/competitions/{id}/open",
        web::post().to(competitions::open_competition),
    )
    .route(
        "/v1/competitions/{id}/bids",
        web::post().to(competitions::bid),
    )
    .route(
        "/v1/competitions/{id}/bids",
        web::get().to(competitions::list_bids),
    )
    .route(
        "/v1/competitions/{id}/history",
        web::get().to(competitions::list_history),
    )
    .route(
        "/v1/competitions/{id}/decline",
        web::post().to(competitions::decline),
    )
    .route(
        "/v1/competitions/{id}/close-bidding",
        web::post().to(closing::close_bidding),
    )
    .route(
        "/v1/competitions/{id}/bids/{bid_id}/scores/{criterion}",
        web::put().to(awards::score),
    )
    .route(
        "/v1/competitions/{id}/evaluate",
        web::post().to(awards::evaluate),
    )
    .route("/v1/competitions/{id}/award", web::post().to(awards::award))
    .route(
        "/v1/competitions/{id}/close",
        web::post().to(closing::close),
    )
    .route(
        "/v1/competitions/{id}/reopen",
        web::post().to(closing::reopen),
    )
    .route(
        "/v1/competitions/{id}/reroute",
        web::post().to(closing::reroute),
    )
    .route(
        "/v1/competitions/{id}/direct-award",
        web::post().to(direct::direct_award),
    )
    .route(
        "/v1/competitions/{id}/review",
        web::post().to(direct::review),
    )
    .route("/v1/competitions/{id}/ocds", web::get().to(ocds::export));
}

pub use hub_platform::http::optional_body;

/// The optional body of opening or reopening a competition, with its deadline checked
/// against now.
pub fn open_input(bytes: &[u8]) -> Result<crate::domain::calloff::Open, Problem> {
    let input: crate::domain::calloff::Open = optional_body(bytes)?;
    match input.deadline_error(chrono::Utc::now()) {
        Some(e) => Err(Problem::validation(vec![e])),
        None => Ok(input),
    }
}

/// `status` with `body` as JSON and the resource's `revision` as its `ETag` (ADR 0004).
pub fn tagged(status: StatusCode, revision: i64, body: &impl Serialize) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(ETag(revision).header())
        .json(body)
}

/// The `If-Match` header of an in-place edit, for its OpenAPI document.
pub const IF_MATCH_DOC: &str =
    "The ETag of the version read (or `*`); a stale one is a 412, none a 428";

/// The `Idempotency-Key` header of a creating request, for its OpenAPI document.
pub const IDEMPOTENCY_KEY_DOC: &str = "Any 1 to 255 printable characters (a UUID will do): the same key and request within 24 hours get the first answer again, with no second effect; the same key with another request is a 422";

/// A council's user (not a provider's).
pub fn is_council(who: &Principal) -> bool {
    !who.is_provider()
}

pub use hub_platform::problem::path_id;
