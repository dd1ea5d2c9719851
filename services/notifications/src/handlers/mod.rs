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
//! award): its state is what the latest event by `occurred_at` says ([`crate::store::track`]).
//!
//! Each event type has its handler, registered in [`handlers`] (the table above, in code):
//! the competition events update what is tracked ([`competitions`]); every other event's
//! webhooks follow from the event alone ([`crate::domain::Webhooks`]) and are queued by [`notify`].

pub mod competitions;
pub mod delivery;
pub mod metrics;
mod queue;

use std::sync::Arc;

use hub_bus::{Events, Handler, Handlers, Store, Subscription, Transport};
use hub_events::{
    BedOffered, BedVoid, BiddingClosed, CompetitionAwarded, CompetitionClosed, CompetitionOpened,
    Envelope, Event, IpaReviewDue, OrderIssued, OrderOverdue, PlacementEnded, ReferralUpdated,
    ServiceContractExpiring, VacancyPublished,
};
use hub_platform::db::{DbConnection, DbError};
use tokio::sync::Notify;

use crate::domain::Webhooks;
pub use queue::queue;

/// A handler that also takes the platform's public base URL (links in webhooks).
type WithBase<E> = fn(&mut DbConnection, &Envelope, E, &str) -> Result<(), DbError>;

/// The service's one subscription and what handles each of its events. (Its name predates
/// the councils' `vacancy.offered`; it is kept so that deployed queues carry on.)
pub fn handlers(base_url: &str) -> Handlers {
    let base: Arc<str> = base_url.into();
    Handlers::new(crate::NAME, "provider-events")
        .on::<CompetitionOpened>(with(&base, competitions::opened))
        .on::<CompetitionAwarded>(with(&base, competitions::awarded))
        .on::<CompetitionClosed>(with(&base, competitions::closed))
        .on::<ReferralUpdated>(with(&base, competitions::referral_updated))
        .on::<BiddingClosed>(with(&base, notify))
        .on::<VacancyPublished>(with(&base, notify))
        .on::<OrderIssued>(with(&base, notify))
        .on::<OrderOverdue>(with(&base, notify))
        .on::<IpaReviewDue>(with(&base, notify))
        .on::<BedVoid>(with(&base, notify))
        .on::<BedOffered>(with(&base, notify))
        .on::<ServiceContractExpiring>(with(&base, notify))
        .on::<PlacementEnded>(with(&base, notify))
}

fn with<E: Event>(
    base: &Arc<str>,
    f: WithBase<E>,
) -> impl Fn(&mut DbConnection, &Envelope, E, &mut Events) -> Result<(), DbError> + Send + Sync + 'static
{
    let base = base.clone();
    move |conn, env, event, _| f(conn, env, event, &base)
}

/// Queues the webhooks an event causes when they follow from the event alone.
fn notify<E: Webhooks>(
    conn: &mut DbConnection,
    env: &Envelope,
    event: E,
    base_url: &str,
) -> Result<(), DbError> {
    queue(conn, env, event.webhooks(env.occurred_at, base_url)).map(drop)
}

/// The service's one subscription: its queue bound to the event types [`handlers`] takes.
pub fn subscription() -> Subscription {
    handlers("").subscription()
}

/// Subscribes the consumer; `base_url` is the platform's public base URL (links in webhooks)
/// and `wake` the delivery worker's wake-up call, notified once an event's deliveries have
/// committed.
pub async fn subscribe(
    store: &Store,
    transport: &dyn Transport,
    base_url: String,
    wake: Arc<Notify>,
) -> anyhow::Result<()> {
    handlers(&base_url)
        .notifying(wake)
        .subscribe(store, transport)
        .await
}

/// The consumer as a bus handler, without subscribing it (tests hand it events).
pub fn consumer(store: &Store, base_url: String, wake: Arc<Notify>) -> Arc<dyn Handler> {
    handlers(&base_url).notifying(wake).into_handler(store).1
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use uuid::Uuid;

    use super::*;
    use crate::{
        domain::{AWARDED, INVITED, UNSUCCESSFUL},
        ids::EndpointId,
        store,
        test_support::*,
    };

    /// Events nobody is told of are not even bound to the queue (an order signed, say).
    #[test]
    fn the_subscription_takes_exactly_the_handled_events() {
        let s = subscription();
        assert_eq!(s.event_types.len(), 13, "{:?}", s.event_types);
        assert!(
            !s.event_types
                .iter()
                .any(|t| t == hub_events::OrderSigned::TYPE)
        );
    }

    async fn bodies(store: &Store, endpoint_id: &EndpointId) -> Vec<(String, serde_json::Value)> {
        let id = *endpoint_id;
        let rows = store
            .db
            .run(move |c| store::deliveries_of(c, &id, None, None, 100))
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
