//! HTTP handlers of the referral service, one module per resource: [`referrals`] (the
//! collection and each referral), [`lifecycle`] (its actions), [`versions`], [`reads`] and
//! [`history`]; [`views`] builds the responses. The work itself is the application layer's
//! (`crate::app`); a handler checks the caller's role, parses the request and shows the result.
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

mod history;
mod lifecycle;
mod reads;
mod referrals;
mod versions;
pub mod views;

use actix_web::{HttpResponse, http::StatusCode, web};
use chrono::{NaiveDateTime, Utc};
use hub_bus::{Events, Store};
use hub_platform::{DbConnection, Principal, Problem, Role, db::DbError, etag::ETag};
use utoipa::OpenApi;

use crate::app::commands::Shown;
use crate::domain::{Audience, Referral, Version, VersionKind, WithdrawalReason};
use crate::ids::ReferralId;
use views::ReferralView;

pub struct ReferralState {
    pub store: Store,
}

#[derive(OpenApi)]
#[openapi(
    paths(
        referrals::create,
        referrals::list,
        referrals::get,
        referrals::update,
        lifecycle::submit,
        lifecycle::withdraw,
        lifecycle::reroute,
        lifecycle::close,
        versions::versions,
        reads::reads,
        history::history
    ),
    components(schemas(WithdrawalReason, VersionKind)),
    tags((name = "referral", description = "The shared referral document: the child's profile, needs and \
        route, its versions, and who may read which. Lifecycle: draft → submitted → in_competition → awarded → \
        placed → closed, or withdrawn at any point before placement. A closed competition puts the referral back \
        to submitted, to be re-routed; one the competition service cannot route comes back as returned, with a \
        reason code, to be re-routed (another framework or lot) or withdrawn."))
)]
pub struct ReferralApi;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/referrals", web::post().to(referrals::create))
        .route("/v1/referrals", web::get().to(referrals::list))
        .route("/v1/referrals/{id}", web::get().to(referrals::get))
        .route("/v1/referrals/{id}", web::put().to(referrals::update))
        .route(
            "/v1/referrals/{id}/submit",
            web::post().to(lifecycle::submit),
        )
        .route(
            "/v1/referrals/{id}/withdraw",
            web::post().to(lifecycle::withdraw),
        )
        .route(
            "/v1/referrals/{id}/route",
            web::post().to(lifecycle::reroute),
        )
        .route("/v1/referrals/{id}/close", web::post().to(lifecycle::close))
        .route(
            "/v1/referrals/{id}/versions",
            web::get().to(versions::versions),
        )
        .route("/v1/referrals/{id}/reads", web::get().to(reads::reads))
        .route(
            "/v1/referrals/{id}/history",
            web::get().to(history::history),
        );
}

/// The `If-Match` header of an in-place edit, for the OpenAPI document.
const IF_MATCH_DOC: &str =
    "The ETag of the referral as read (or `*`): a stale one is a 412, none a 428";

/// The `Idempotency-Key` header of a creating request, for the OpenAPI document.
const IDEMPOTENCY_KEY_DOC: &str = "Any 1 to 255 printable characters (a UUID will do): the same key \
    and request within 24 hours get the first answer again (`Idempotent-Replayed: true`), with no \
    second effect; the same key with another request is a 422";

/// Version `v` of referral `r` as `audience` sees it, with the referral's revision as its
/// `ETag` (what an edit's `If-Match` names).
fn shown(status: StatusCode, r: Referral, v: Version, audience: Audience) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(ETag(r.revision).header())
        .json(ReferralView::of(r, v, audience))
}

/// What a council command left, as its staff see it.
fn council_shown((r, v): Shown) -> HttpResponse {
    shown(StatusCode::OK, r, v, Audience::Council)
}

/// The roles of a council's placement team, who write referrals.
const WRITERS: &[Role] = &[Role::Commissioner, Role::SocialWorker];

/// The referral a path names. The path stays a string so that an id that is not a UUID is
/// what it always was, a referral that does not exist (404), not a malformed path (422).
fn referral_id(raw: &str) -> Result<ReferralId, Problem> {
    hub_platform::problem::path_id(raw, "referral")
}

/// Runs one of the council's commands on the referral at `raw`, in one write transaction,
/// for a caller of the placement team (403 otherwise, whatever the id).
async fn council_command<F>(
    state: &ReferralState,
    who: Principal,
    raw: &str,
    command: F,
) -> Result<Shown, Problem>
where
    F: FnOnce(
            &mut DbConnection,
            &mut Events,
            &Principal,
            ReferralId,
            NaiveDateTime,
        ) -> Result<Shown, DbError>
        + Send
        + 'static,
{
    who.require_any(WRITERS)?;
    let id = referral_id(raw)?;
    let now = Utc::now().naive_utc();
    Ok(state
        .store
        .write(move |conn, events| command(conn, events, &who, id, now))
        .await?)
}
