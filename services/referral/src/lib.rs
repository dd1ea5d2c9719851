//! The referral service: the shared referral document — the child's profile, needs and
//! route — its versions, its lifecycle, and who may read it.
//!
//! Endpoints (`api`): `POST /v1/referrals` (write, optionally submit), `GET /v1/referrals`
//! (the council's list), `GET|PUT /v1/referrals/{id}` (read, `?version=N`; replace the
//! document), `POST /v1/referrals/{id}/{submit,withdraw,route,close}`, and
//! `GET /v1/referrals/{id}/{versions,reads,history}`.
//! Events: emits `referral.submitted`, `referral.updated`, `referral.withdrawn`; consumes
//! `competition.opened`, `competition.closed`, `competition.awarded`,
//! `competition.referral_returned`, `competition.framework_published` and
//! `contract.placement_started` (`handlers`).
//!
//! Decisions (DESIGN.md and the issue are silent on them):
//! * **Lifecycle** (`domain::ReferralStatus`): draft → submitted → in_competition → awarded → placed
//!   → closed; submitted → returned (the competition service could not route it) → submitted
//!   (re-routed); withdrawn from any status before placed (409 `/problems/referral-placed` after).
//!   `competition.closed` puts an in-competition referral back to `submitted`, with the
//!   competition's reason as its status reason, so that the council can re-route it. A direct
//!   award goes submitted → awarded. A placed referral is closed by the council
//!   (`POST …/close`, e.g. when the placement ends); nothing else closes it.
//! * **No referral silently goes nowhere** (issue 10, rule 3). The service keeps a replica
//!   of the competition service's frameworks (partnership, purchasing bodies, lots) from
//!   `competition.framework_published`. A referral on a route the competition service acts on
//!   (mini-competition, preselected, direct award) is refused at write and again at submit and
//!   re-route, 422 naming the field, when the replica shows it would go nowhere:
//!   `/framework_id` `partnership` (another partnership's framework), `/framework_id`
//!   `purchasing_body` (the council may not call off), `/lot_id` `in_framework` (not one of
//!   its lots). A framework the replica has not heard of (set up before the replica existed,
//!   or its event not yet arrived) is accepted: the competition service judges it, and if it
//!   cannot route it answers `competition.referral_returned`; the referral becomes
//!   `returned` with the reason code as `status_reason` (in GET and in the list filter), and
//!   the council re-routes it (`POST …/route`, optionally with another `framework_id` and
//!   `lot_id`: a new version, submitted again) or withdraws it. A return of an earlier
//!   version than the referral's own changes nothing. Spot purchases and other purchasing
//!   systems are not checked against frameworks.
//! * **Redaction until award** (rule 6). Before award an invited provider sees the school as
//!   type, phase and postcode district (never its name), siblings as their number and ages,
//!   contact as kind and frequency: structured fields of the document (`education.school_type`,
//!   `school_phase`, `school_postcode_district`; `sibling_ages`; `contact`) written beside
//!   the council's words (`education.school`, `siblings`, `contact_arrangements`), which only
//!   the council and the awarded provider read. Documents written before the structured
//!   fields stay readable; their invited providers see none of the words and no structure.
//! * **Versions.** A draft is edited in place. After submission each `PUT` of a different
//!   document is a new version (who, which organisation, when) and a `referral.updated`;
//!   a `PUT` of the same document changes nothing. Each version also records the route in
//!   force and why, and what made it (`created`, `document`, `route`).
//! * **Re-routing** (`POST …/route`, the options appraisal again) is allowed while the
//!   referral is `submitted` — never routed yet, or back from a closed competition — and is a
//!   new version with the new route and reason, announced as `referral.updated` *and*
//!   resubmitted as `referral.submitted` (that version, the new route), which is what the
//!   competition service routes on. A draft's route changes in place. While a competition is
//!   open it is refused (409 `/problems/referral-in-competition`: close it first); once
//!   awarded too (409 `/problems/referral-awarded`: a direct award's review belongs to the
//!   competition service).
//! * **Withdrawal reasons** are codes (`placed_elsewhere`, `returned_home`, `plan_changed`,
//!   `duplicate`, `other`) plus the council's own words in `detail` (required for `other`).
//!   `referral.withdrawn` carries the code only: events hold no free text about a child. A
//!   draft withdrawn emits nothing (nobody else knew of it).
//! * **Who sees what.** The council's commissioners and social workers (and admins, for
//!   reading) see everything; its finance staff and other councils get 404. An invited
//!   provider reads the redacted view of the version it was invited on by default
//!   (`latest_version` tells it of later ones), may read that and any later version with
//!   `?version=N`, and lists those versions (numbers, dates, the organisation that wrote
//!   them; not the user, the route or its reasons). Re-invited in a later competition, it is
//!   invited on the later version. The awarded provider reads every version in full. The
//!   council's reasoning (`route_reason`, `status_reason`) is shown to its own staff only.
//!   Every successful read is logged (`/reads`); refused ones are not reads.
//! * **The list** (`GET /v1/referrals?status=&limit=&cursor=`) holds no document and so no
//!   child's name: personal data is only ever seen through a logged read of the referral.
//! * **The API contract** (ADR 0004). Every collection (the list, versions, reads, history)
//!   is a keyset page `{"items", "next"}` on the UUIDv7 id (the version number for versions):
//!   the list newest first, the others oldest first, as before. The referral's `revision` is
//!   raised at every change of it (the council's commands and the other services' events) and
//!   answered as its `ETag`; `PUT` and `POST …/route` must name it in `If-Match` (412 stale,
//!   428 none), checked after the 409s of the lifecycle (a closed referral is 409 whatever the
//!   tag) and compare-and-set in the write's transaction. `POST /v1/referrals` takes an
//!   `Idempotency-Key`. Every time is RFC 3339 in UTC (`…Z`).
//! * **History** (`GET …/history`): every transition, who or which service caused it, when,
//!   from and to which status, on which version, and why.
//! * **Late events.** A competition event older (by `occurred_at`) than the last one applied
//!   changes nothing; ids alone cannot tell, since a competition may open again under its id
//!   (reopened, or a reviewed direct award). While a placed child's direct award is reviewed
//!   and competed again, the referral stays `placed` and the new winner reads it.

// No function over 80 lines (clippy.toml) without a reason written beside it
// (`#[expect(clippy::too_many_lines, reason = "…")]`); a unit test may tell a longer story.
#![warn(clippy::too_many_lines)]
#![cfg_attr(test, allow(clippy::too_many_lines))]

pub mod api;
pub mod app;
pub mod domain;
pub mod handlers;
pub mod ids;
/// The tables, generated from `migrations/postgres` by `diesel print-schema`; never edited by
/// hand (README, "Changing the database").
pub mod schema;
pub mod store;

use std::sync::Arc;

use actix_web::web;
use hub_bus::{Store, Transport};
use hub_platform::{Settings, db::Migrations, http::Mounted};
use utoipa::OpenApi;

pub const NAME: &str = "referral";

pub static MIGRATIONS: Migrations = Migrations {
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
};

/// Subscribes the service's consumers and returns its routes.
pub async fn start(
    store: Store,
    transport: Arc<dyn Transport>,
    _settings: Arc<Settings>,
) -> anyhow::Result<Mounted> {
    handlers::subscribe(&store, transport.as_ref()).await?;
    let state = web::Data::new(api::ReferralState { store });
    Ok(Mounted {
        name: NAME,
        configure: Arc::new(move |cfg| {
            cfg.app_data(state.clone());
            api::routes(cfg);
        }),
        openapi: api::ReferralApi::openapi(),
        metrics: Vec::new(),
    })
}
