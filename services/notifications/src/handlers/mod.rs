//! Event consumers of the notifications service, and the delivery worker they wake.
//!
//! The consumer turns integration events into pending deliveries (one per subscribed,
//! enabled endpoint of each organisation concerned) exactly once per event, then wakes the
//! [`delivery`] worker at once, so a webhook leaves within milliseconds of the event rather
//! than at the next poll.
//!
//! | event | webhook | to |
//! |---|---|---|
//! | `competition.opened` | `competition.invited` | every invited provider |
//! | `referral.updated` | `referral.updated` | the invited providers of the referral's open competitions, and the winner once awarded (not for a version they were invited on already) |
//! | `competition.awarded` | `competition.awarded` | the winner (also of a direct award) |
//! | | `competition.unsuccessful` | every other provider the award names, with its own price and scores beside the winner's, the winner's name and the reasons (nothing of any other unsuccessful bid) |
//! | `competition.bidding_closed` | `competition.bidding_closed` | every invited provider, with the reason code and the deadline they had been given |
//! | `competition.closed` | `competition.closed` | every invited provider, with the reason code and any message written for providers (never the council's own words) |
//! | `competition.vacancy_published` with `offered_by` | `vacancy.offered` | every other member council of the partnerships the offering council belongs to |
//! | `contract.order_issued` | `order.issued` | the provider |
//! | `contract.order_overdue` | `order.overdue` | the provider and the council |
//! | `contract.ipa_review_due` | `ipa.review_due` | the provider and the council |
//! | `contract.bed_void` | `bed.void` | the council the bed is held for |
//! | `contract.bed_offered` | `bed.offered` | each council in `offered_to` (not the offerer) |
//! | `contract.service_contract_expiring` | `service_contract.expiring` | the lead council |
//! | `contract.placement_ended` | `placement.ended` | the provider |
//!
//! Who was invited to which competition of a referral is learnt from `competition.opened`
//! (and kept up to date by `.awarded` and `.closed`) in `tracked_competitions`, so
//! `referral.updated` needs nothing beyond what the referral service already says. A
//! competition may open again under its id (reopened after closing, or a reviewed direct
//! award): its state is what the latest event by `occurred_at` says ([`store::track`]).

pub mod delivery;
pub mod metrics;

use std::{collections::BTreeSet, sync::Arc};

use chrono::Utc;
use hub_bus::{Handler, Store, Subscription, Transport};
use hub_events::{
    BedOffered, BedVoid, BiddingClosed, CompetitionAwarded, CompetitionClosed, CompetitionOpened,
    Envelope, Event, IpaReviewDue, OrderIssued, OrderOverdue, PlacementEnded, ReferralUpdated,
    ServiceContractExpiring, VacancyPublished,
};
use hub_platform::db::{DbConnection, DbError};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::{
    domain::{self, CompetitionInfo},
    store::{self, TrackedRow},
};

/// The service's one subscription. (Its name predates the councils' `vacancy.offered`; it is
/// kept so that deployed queues carry on.)
pub fn subscription() -> Subscription {
    Subscription::new(
        crate::NAME,
        "provider-events",
        &[
            CompetitionOpened::TYPE,
            CompetitionAwarded::TYPE,
            CompetitionClosed::TYPE,
            BiddingClosed::TYPE,
            ReferralUpdated::TYPE,
            VacancyPublished::TYPE,
            OrderIssued::TYPE,
            OrderOverdue::TYPE,
            IpaReviewDue::TYPE,
            BedVoid::TYPE,
            BedOffered::TYPE,
            ServiceContractExpiring::TYPE,
            PlacementEnded::TYPE,
        ],
    )
}

/// Subscribes the consumer; `base_url` is the platform's public base URL (links in webhooks)
/// and `wake` the delivery worker's wake-up call.
pub async fn subscribe(
    store: &Store,
    transport: &dyn Transport,
    base_url: String,
    wake: Arc<Notify>,
) -> anyhow::Result<()> {
    transport
        .subscribe(subscription(), consumer(store, base_url, wake))
        .await?;
    Ok(())
}

/// The consumer: [`fan_out`] once per event, waking the delivery worker (`wake`) once its
/// deliveries have committed.
pub fn consumer(store: &Store, base_url: String, wake: Arc<Notify>) -> Arc<dyn Handler> {
    store.handler_notifying(&subscription(), wake, move |conn, env, _| {
        fan_out(conn, env, &base_url).map(drop)
    })
}

fn competition_info(c: &TrackedRow) -> Result<CompetitionInfo, DbError> {
    let parse = |s: &str| {
        Uuid::parse_str(s).map_err(|e| DbError::Other(anyhow::anyhow!("stored id `{s}`: {e}")))
    };
    Ok(CompetitionInfo {
        competition_id: parse(&c.competition_id)?,
        lot_id: c.lot_id.as_deref().map(parse).transpose()?,
        lot_name: c.lot_name.clone(),
        referral_version: c.referral_version.and_then(|v| u32::try_from(v).ok()),
    })
}

/// What an event about a competition says of it: its `status` as of the event, nothing
/// else known (the caller fills in what the event adds); first heard of now.
fn tracked_row(
    env: &Envelope,
    competition_id: Uuid,
    referral_id: Uuid,
    council: &str,
    status: &str,
) -> TrackedRow {
    TrackedRow {
        competition_id: competition_id.to_string(),
        referral_id: referral_id.to_string(),
        council: council.to_owned(),
        lot_id: None,
        lot_name: None,
        referral_version: None,
        status: status.to_owned(),
        awarded_provider: None,
        opened_at: Utc::now().naive_utc(),
        status_at: env.occurred_at.naive_utc(),
    }
}

/// Queues `body` for every enabled endpoint of each target organisation subscribed to its
/// webhook type (once per endpoint and type), in the trace of `env` (its `traceparent` and
/// `tracestate` are kept with each delivery, so its webhooks join that trace). Returns how
/// many deliveries were queued.
fn queue(
    conn: &mut DbConnection,
    env: &Envelope,
    targets: Vec<domain::Webhook>,
) -> Result<usize, DbError> {
    let event_id = env.id.to_string();
    let orgs: Vec<&str> = targets
        .iter()
        .map(|(org, _, _)| org.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let endpoints = store::enabled_endpoints_of(conn, &orgs)?;
    let mut seen = BTreeSet::new();
    let mut deliveries = Vec::new();
    for (org, event_type, body) in &targets {
        for e in endpoints
            .iter()
            .filter(|e| e.owner_org == *org && e.subscribes_to(event_type))
        {
            if seen.insert((e.id.as_str(), *event_type)) {
                deliveries.push(store::NewDelivery {
                    endpoint_id: e.id.clone(),
                    event_id: event_id.clone(),
                    event_type: (*event_type).to_owned(),
                    body: body.clone(),
                    traceparent: env.traceparent.clone(),
                    tracestate: env.tracestate.clone(),
                });
            }
        }
    }
    store::insert_deliveries(conn, &deliveries)?;
    Ok(deliveries.len())
}

/// Queues the webhooks an event causes. Returns how many deliveries were queued.
pub fn fan_out(conn: &mut DbConnection, env: &Envelope, base_url: &str) -> Result<usize, DbError> {
    let at = env.occurred_at;
    // (organisation, webhook type, body): resolved to endpoints at the end, in one query,
    // and queued in multi-row inserts.
    let mut targets: Vec<domain::Webhook> = Vec::new();
    let mut send = |org: &str, event_type: &'static str, body: &str| {
        targets.push((org.to_owned(), event_type, body.to_owned()));
    };
    if env.is::<CompetitionOpened>() {
        let e: CompetitionOpened = env.decode().map_err(anyhow::Error::from)?;
        store::track(
            conn,
            &TrackedRow {
                lot_id: Some(e.lot_id.to_string()),
                lot_name: Some(e.lot_name.clone()),
                referral_version: i32::try_from(e.referral_version).ok(),
                ..tracked_row(env, e.competition_id, e.referral_id, &e.council, "open")
            },
            &e.invited,
        )?;
        let body = domain::invited_body(&e, at, base_url);
        for provider in e.invited.iter().collect::<BTreeSet<_>>() {
            send(provider, domain::INVITED, &body);
        }
    } else if env.is::<CompetitionAwarded>() {
        let e: CompetitionAwarded = env.decode().map_err(anyhow::Error::from)?;
        // A direct award opens no competition: it is first heard of here.
        store::track(
            conn,
            &TrackedRow {
                lot_id: Some(e.lot_id.to_string()),
                awarded_provider: Some(e.provider_id.clone()),
                ..tracked_row(env, e.competition_id, e.referral_id, &e.council, "awarded")
            },
            &[],
        )?;
        send(
            &e.provider_id,
            domain::AWARDED,
            &domain::awarded_body(&e, at, base_url),
        );
        for provider in domain::unsuccessful_providers(&e) {
            send(
                provider,
                domain::UNSUCCESSFUL,
                &domain::unsuccessful_body(&e, provider, at),
            );
        }
    } else if env.is::<CompetitionClosed>() {
        let e: CompetitionClosed = env.decode().map_err(anyhow::Error::from)?;
        let known = store::tracked(conn, &e.competition_id.to_string())?;
        store::track(
            conn,
            &tracked_row(env, e.competition_id, e.referral_id, &e.council, "closed"),
            &e.invited,
        )?;
        let lot = known.and_then(|k| {
            Some((
                k.lot_id.as_deref().and_then(|l| Uuid::parse_str(l).ok())?,
                k.lot_name?,
            ))
        });
        let body = domain::closed_body(&e, lot, at);
        for provider in e.invited.iter().collect::<BTreeSet<_>>() {
            send(provider, domain::CLOSED, &body);
        }
    } else if env.is::<BiddingClosed>() {
        let e: BiddingClosed = env.decode().map_err(anyhow::Error::from)?;
        let body = domain::bidding_closed_body(&e, at);
        for provider in e.invited.iter().collect::<BTreeSet<_>>() {
            send(provider, domain::BIDDING_CLOSED, &body);
        }
    } else if env.is::<ReferralUpdated>() {
        let e: ReferralUpdated = env.decode().map_err(anyhow::Error::from)?;
        for (provider, c) in store::referral_audience(conn, &e.referral_id.to_string())? {
            let info = competition_info(&c)?;
            if info.is_news(e.version) {
                send(
                    &provider,
                    domain::REFERRAL_UPDATED,
                    &domain::referral_updated_body(&e, &info, at, base_url),
                );
            }
        }
    } else if env.is::<VacancyPublished>() {
        let e: VacancyPublished = env.decode().map_err(anyhow::Error::from)?;
        if let Some(by) = &e.offered_by {
            for (council, shared) in domain::vacancy_recipients(by) {
                send(
                    council,
                    domain::VACANCY_OFFERED,
                    &domain::vacancy_offered_body(&e, by, &shared, at),
                );
            }
        }
    } else if let Some(webhooks) =
        domain::contract_webhooks(env, base_url).map_err(anyhow::Error::from)?
    {
        for (org, event_type, body) in webhooks {
            send(&org, event_type, &body);
        }
    }
    let queued = queue(conn, env, targets)?;
    if queued > 0 {
        tracing::info!(event_id = %env.id, event_type = %env.event_type, queued, "webhook deliveries queued");
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use uuid::Uuid;

    use super::*;
    use crate::{
        domain::{AWARDED, INVITED, UNSUCCESSFUL},
        test_support::*,
    };

    async fn bodies(store: &Store, endpoint_id: &str) -> Vec<(String, serde_json::Value)> {
        let id = endpoint_id.to_owned();
        let rows = store
            .db
            .run(move |c| store::deliveries_of(c, &id, None, 100))
            .await
            .unwrap();
        rows.into_iter()
            .map(|d| (d.event_type, serde_json::from_str(&d.body).unwrap()))
            .collect()
    }

    async fn fans_out_once_per_event(store: Store) {
        let url = "http://127.0.0.1:9/hook";
        let a = endpoint(&store, "prov-a", url, &[INVITED, AWARDED], true).await;
        let a_off = endpoint(&store, "prov-a", url, &[INVITED], false).await;
        let b = endpoint(&store, "prov-b", url, &[INVITED], true).await;
        let c = endpoint(&store, "prov-c", url, &[UNSUCCESSFUL], true).await;
        let wake = Arc::new(Notify::new());
        let handler = consumer(&store, "https://hub.example".into(), wake.clone());

        let event = opened(&["prov-a", "prov-b", "prov-a", "prov-unknown"]);
        let env = Envelope::new("competition", "LCR-PPA", &event);
        handler.handle(env.clone()).await.unwrap();
        tokio::time::timeout(Duration::from_secs(1), wake.notified())
            .await
            .expect("the worker is woken at commit");
        handler.handle(env.clone()).await.unwrap();
        let got = bodies(&store, &a.id).await;
        assert_eq!(
            got.len(),
            1,
            "one delivery per endpoint, once per event, duplicates in `invited` ignored"
        );
        assert_eq!(got[0].0, INVITED);
        assert_eq!(
            got[0].1["data"]["referral_url"],
            format!("https://hub.example/v1/referrals/{}", event.referral_id)
        );
        assert_eq!(
            got[0].1["timestamp"],
            env.occurred_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        );
        assert_eq!(bodies(&store, &b.id).await.len(), 1);
        assert!(
            bodies(&store, &a_off.id).await.is_empty(),
            "disabled endpoints get nothing"
        );
        assert!(
            bodies(&store, &c.id).await.is_empty(),
            "not subscribed to invitations"
        );

        let awarded = CompetitionAwarded {
            competition_id: event.competition_id,
            referral_id: event.referral_id,
            council: event.council.clone(),
            framework_id: event.framework_id,
            lot_id: event.lot_id,
            provider_id: "prov-a".into(),
            bid_id: Some(Uuid::now_v7()),
            weekly_rate_pence: 650_000,
            start_date: chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
            unsuccessful: vec!["prov-b".into(), "prov-c".into()],
            awarded_by: "user-1".into(),
            direct: false,
            outcomes: Vec::new(),
        };
        handler
            .handle(Envelope::new("competition", "LCR-PPA", &awarded))
            .await
            .unwrap();
        let got = bodies(&store, &a.id).await;
        let won: Vec<_> = got.iter().filter(|(t, _)| t == AWARDED).collect();
        assert_eq!(won.len(), 1);
        assert_eq!(won[0].1["data"]["weekly_rate_pence"], 650_000);
        assert_eq!(
            bodies(&store, &b.id).await.len(),
            1,
            "prov-b takes no unsuccessful notices"
        );
        let lost = bodies(&store, &c.id).await;
        assert_eq!(lost.len(), 1);
        assert_eq!(lost[0].0, UNSUCCESSFUL);
        let mut keys: Vec<&String> = lost[0].1["data"].as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "competition_id",
                "council",
                "lot_id",
                "reasons",
                "referral_id",
                "scores",
                "total",
                "weekly_price_pence",
                "winner_name",
                "winner_provider_id",
                "winner_total"
            ],
            "its own price and scores beside the winner's, and who won (issue 10, rule 5)"
        );
        assert_eq!(lost[0].1["data"]["winner_provider_id"], "prov-a");
        let text = lost[0].1.to_string();
        assert!(
            !text.contains("650000") && !text.contains("prov-b"),
            "not the winner's price, nor the other unsuccessful provider: {text}"
        );
    }

    #[test]
    fn sqlite_fans_out_once_per_event() {
        run(Backend::Sqlite, fans_out_once_per_event);
    }

    #[test]
    fn postgres_fans_out_once_per_event() {
        run(Backend::Postgres, fans_out_once_per_event);
    }
}
