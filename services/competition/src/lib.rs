//! The competition service: frameworks, lots, admitted providers and their prices, homes
//! and live vacancies, mini-competitions, bids, evaluation, awards and direct awards — the
//! call-off process of the LCR Provider Partner Agreement (sections 1.9 to 4.3 of the
//! council paper) and the D2N2 frameworks.
//!
//! # Decisions (where DESIGN.md is silent)
//!
//! **Frameworks.** The partnership's lead commissioner sets a framework up; its purchasing
//! bodies (the councils that may call off) default to the partnership's members, its review
//! date to start + 2 years (the PPA is reviewed every 2 years). Setting a framework up
//! publishes `competition.framework_published` (its partnership, purchasing bodies and lots,
//! whole), which the referral service keeps as its replica to refuse, with 422, a referral
//! that would go nowhere. A submitted referral the competition service still cannot route
//! (an unknown framework or lot, a lot of another framework, a framework of another
//! partnership, a council that is not a purchasing body) opens nothing and is put back to its
//! council with `competition.referral_returned` and the reason code: never silently.
//! Providers are admitted only while an admission round is open: a *set-up* round opens with
//! the framework and stays open until the lead closes it. Open systems (flexible and dynamic
//! purchasing systems and the open-ended provider partner agreement) may then open further
//! rounds; a framework agreement admits at set-up only (409 `/problems/closed-system`).
//!
//! **Provider Responses** price a lot by need level (`{"standard": …, "enhanced": …}`); the
//! older single `weekly_price_pence` means `standard`. A competition is priced at a need level
//! (`standard` unless the commissioner sets another with its criteria).
//!
//! **Routes.** `referral.submitted` with route `mini_competition` opens at once, inviting every
//! provider admitted to the lot; `preselected_mini_competition` makes a `draft` whose
//! preselection the commissioner reviews (who would be invited, who is left out and why) and
//! confirms with `POST …/open`; `direct_award` makes a competition `awaiting_direct_award`.
//! Statuses: `draft` → `open` → `awarded` | `closed`; `closed` → `open` (reopen, new deadline,
//! earlier bids set aside) | `awaiting_direct_award` (re-route) → `awarded` (direct).
//! `referral.withdrawn` closes the referral's live competitions with the reason
//! `referral_withdrawn` (they cannot be reopened).
//!
//! **Closing without an award: codes out, words in.** `POST …/close` takes a reason code
//! (`no_acceptable_bid`, `no_bids`, `need_changed`, `placed_elsewhere`, `other`), the
//! commissioner's own words in `detail` (required for `other`; kept in the competition's
//! history, which providers never see) and, optionally, `provider_message`, text written for
//! the providers. `competition.closed` carries the code and the provider message only: a
//! council's words about a child never reach a provider. In OCDS, `no_acceptable_bid`,
//! `no_bids` and `other` are an `unsuccessful` tender; `need_changed`, `placed_elsewhere` and
//! `referral_withdrawn` a `cancelled` one.
//!
//! **Criteria and evaluation** are in [`domain::criteria`] and [`domain::evaluation`]:
//! price pro rata to the lowest acceptable bid (`weight × lowest ÷ price`), location linear in
//! great-circle miles (`weight × max(0, 1 − miles ÷ max_miles)`), the rest scored 0..=weight
//! by the commissioner with a reason; gates first; tie-break higher quality, lower price,
//! earlier bid. Unscored criteria count 0 in a ranking (listed as pending), but no award is
//! made with anything undecided: every gate of every bid decided and every scored criterion
//! of every acceptable bid marked, else 409 `/problems/evaluation-incomplete` naming each
//! mark still to make (`/bids/{bid_id}/scores/{criterion}`, rule `undecided`); a bid that
//! failed a gate need not be scored. The named bid of an award must be the best value (409
//! `/problems/not-best-value`).
//!
//! **No decision before the deadline** (issue 10, rule 1). The invited providers were
//! promised the whole bid window (72 h planned, 24 h urgent, 4 h emergency, or the deadline
//! set). Before it, an award or a close of an open competition without one is refused (409
//! `/problems/bidding-open`, naming who has not answered) unless every invited provider has
//! bid or declined, or the commissioner has closed bidding early
//! (`POST …/close-bidding`) with a reason code (`placement_needed_sooner`,
//! `court_timescale`, `other`) that every invited provider is told
//! (`competition.bidding_closed`, a webhook); the commissioner's optional note (required
//! for `other`) stays in the council's history, as codes out, words in. Any close is
//! guarded: a council whose need has gone withdraws the referral, which closes the
//! competition at once. After an early close bids and declines are refused (409
//! `/problems/bidding-closed`). Reopening starts a new window: the early close and the
//! declines are cleared.
//!
//! **Declining.** An invited provider declines with `POST …/decline` and a reason code
//! (`no_capacity`, `cannot_meet_needs`, `location`, `matching` — the child would not fit
//! with the children already in the home — or `other`, which needs a note), while bidding
//! is open. Declining withdraws its live bid; bidding again before the deadline replaces
//! the decline (it changed its mind). The council sees every decline, with its code and
//! note, under `declined` in the competition; a provider sees only its own.
//!
//! **What an unsuccessful provider is told** (rule 5): its own price and scores, the
//! winner's name (as admitted to the lot) and per-criterion scores, and the winning bid's
//! relative advantages criterion by criterion; never another unsuccessful bid's price or
//! identity, nor the winner's price. See [`domain::evaluation`].
//!
//! **Price above the Provider Response.** A bid above the provider's own rate for the
//! competition's need level (or with no rate for it) needs `price_variation_evidence`:
//! otherwise 422 `/problems/price-above-provider-response`, whose `errors` name
//! `/weekly_price_pence` with the rule `provider_response`.
//!
//! **Direct awards** need a justification (422 rule `required` on `/justification`) and are
//! reviewed on their review date (default 28 days after the award). A review keeps the award
//! (optionally until a next review) or reopens the requirement as a new mini-competition of
//! every provider of the lot (`reopened_from` links the two); the order stays until the new
//! competition is awarded.
//!
//! **Problem types** of this service: `deadline-passed`, `bidding-closed`, `bidding-open`,
//! `competition-closed` (bidding, declining,
//! scoring or awarding a competition that is not open), `competition-state` (any other move
//! from the wrong status), `price-above-provider-response`, `evaluation-incomplete`,
//! `no-acceptable-bid`, `not-best-value`, `bids-received`, `nobody-to-invite`,
//! `referral-withdrawn`, `not-a-direct-award`, `review-done`, `admission-closed`,
//! `closed-system`, `round-open`, `round-closed`, `framework-ended`, `already-admitted`,
//! `vacancy-not-live`, plus the platform's `validation`, `not-found` and `forbidden`.

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

pub const NAME: &str = "competition";

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
    let state = web::Data::new(api::CompetitionState { store });
    Ok(Mounted {
        name: NAME,
        configure: Arc::new(move |cfg| {
            cfg.app_data(state.clone());
            api::routes(cfg);
        }),
        openapi: api::CompetitionApi::openapi(),
        metrics: Vec::new(),
    })
}
