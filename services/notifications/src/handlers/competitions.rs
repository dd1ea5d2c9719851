//! The competition service's events: each updates what this service tracks of the
//! competition (its state, lot, invitees and winner) and queues the webhooks it causes.

use std::collections::BTreeSet;

use hub_events::{
    CompetitionAwarded, CompetitionClosed, CompetitionOpened, Envelope, ReferralUpdated,
};
use hub_platform::db::{DbConnection, DbError};

use super::queue;
use crate::{
    domain::{self, CompetitionState, Webhook},
    ids::{CompetitionId, LotId, ReferralId},
    store::{self, TrackedRow},
};

/// `body` under `kind` to each provider of `providers`, once each.
fn to_each(providers: &[String], kind: &'static str, body: &str) -> Vec<Webhook> {
    providers
        .iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|p| (p.clone(), kind, body.to_owned()))
        .collect()
}

/// `competition.invited` to every invited provider.
pub fn opened(
    conn: &mut DbConnection,
    env: &Envelope,
    e: CompetitionOpened,
    base_url: &str,
) -> Result<(), DbError> {
    let row = TrackedRow {
        lot_id: Some(LotId::from(e.lot_id)),
        lot_name: Some(e.lot_name.clone()),
        referral_version: i32::try_from(e.referral_version).ok(),
        ..TrackedRow::heard(
            env,
            e.competition_id,
            e.referral_id,
            &e.council,
            CompetitionState::Open,
        )
    };
    store::track(conn, &row, &e.invited)?;
    let body = domain::invited_body(&e, env.occurred_at, base_url);
    queue(conn, env, to_each(&e.invited, domain::INVITED, &body)).map(drop)
}

/// `competition.awarded` to the winner, `competition.unsuccessful` to every other provider
/// the award names. A direct award opens no competition: it is first heard of here.
pub fn awarded(
    conn: &mut DbConnection,
    env: &Envelope,
    e: CompetitionAwarded,
    base_url: &str,
) -> Result<(), DbError> {
    let at = env.occurred_at;
    let row = TrackedRow {
        lot_id: Some(LotId::from(e.lot_id)),
        awarded_provider: Some(e.provider_id.clone()),
        ..TrackedRow::heard(
            env,
            e.competition_id,
            e.referral_id,
            &e.council,
            CompetitionState::Awarded,
        )
    };
    store::track(conn, &row, &[])?;
    let mut webhooks = vec![(
        e.provider_id.clone(),
        domain::AWARDED,
        domain::awarded_body(&e, at, base_url),
    )];
    webhooks.extend(domain::unsuccessful_providers(&e).into_iter().map(|p| {
        (
            p.to_owned(),
            domain::UNSUCCESSFUL,
            domain::unsuccessful_body(&e, p, at),
        )
    }));
    queue(conn, env, webhooks).map(drop)
}

/// `competition.closed` to every invited provider, naming the lot if its opening was seen.
pub fn closed(
    conn: &mut DbConnection,
    env: &Envelope,
    e: CompetitionClosed,
    _: &str,
) -> Result<(), DbError> {
    let known = store::tracked(conn, &CompetitionId::from(e.competition_id))?;
    let row = TrackedRow::heard(
        env,
        e.competition_id,
        e.referral_id,
        &e.council,
        CompetitionState::Closed,
    );
    store::track(conn, &row, &e.invited)?;
    let lot = known.and_then(|k| k.lot());
    let body = domain::closed_body(&e, lot, env.occurred_at);
    queue(conn, env, to_each(&e.invited, domain::CLOSED, &body)).map(drop)
}

/// `referral.updated` to whoever has yet to hear of the version ([`store::referral_audience`]).
pub fn referral_updated(
    conn: &mut DbConnection,
    env: &Envelope,
    e: ReferralUpdated,
    base_url: &str,
) -> Result<(), DbError> {
    let mut webhooks = Vec::new();
    for (provider, c) in store::referral_audience(conn, &ReferralId::from(e.referral_id))? {
        let info = c.info();
        if info.is_news(e.version) {
            let body = domain::referral_updated_body(&e, &info, env.occurred_at, base_url);
            webhooks.push((provider, domain::REFERRAL_UPDATED, body));
        }
    }
    queue(conn, env, webhooks).map(drop)
}
