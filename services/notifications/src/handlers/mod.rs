//! Event consumers of the notifications service, and the delivery worker they wake.
//!
//! The consumer turns competition events into pending deliveries (one per subscribed,
//! enabled endpoint of each provider concerned) exactly once per event, then wakes the
//! [`delivery`] worker at once, so a provider's webhook leaves within milliseconds of the
//! event rather than at the next poll.

pub mod delivery;

use std::{collections::BTreeSet, sync::Arc};

use hub_bus::{Handler, HandlerError, Store, Subscription, Transport};
use hub_events::{CompetitionAwarded, CompetitionOpened, Envelope, Event};
use hub_platform::db::{DbConnection, DbError};
use tokio::sync::Notify;

use crate::{domain, store};

pub fn subscription() -> Subscription {
    Subscription::new(
        crate::NAME,
        "provider-events",
        &[CompetitionOpened::TYPE, CompetitionAwarded::TYPE],
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
    let sub = subscription();
    let handler = ProviderEvents {
        store: store.clone(),
        consumer: sub.consumer(),
        base_url,
        wake,
    };
    transport.subscribe(sub, Arc::new(handler)).await?;
    Ok(())
}

/// The `provider-events` consumer. Written out rather than built with `Store::handler` so
/// that it can wake the delivery worker once its deliveries have committed.
pub struct ProviderEvents {
    pub store: Store,
    pub consumer: String,
    pub base_url: String,
    pub wake: Arc<Notify>,
}

#[async_trait::async_trait]
impl Handler for ProviderEvents {
    async fn handle(&self, envelope: Envelope) -> Result<(), HandlerError> {
        let base_url = self.base_url.clone();
        let applied = self
            .store
            .handle_once(&self.consumer, &envelope, move |conn, env, _| {
                fan_out(conn, env, &base_url).map(drop)
            })
            .await?;
        if applied {
            self.wake.notify_one();
        } else {
            tracing::debug!(event_id = %envelope.id, consumer = %self.consumer, "already handled; skipped");
        }
        Ok(())
    }

    async fn dead_letter(&self, envelope: Envelope, error: String, attempts: u32) {
        if let Err(e) = self
            .store
            .dead_letter(&self.consumer, &envelope, &error, attempts)
            .await
        {
            tracing::error!(event_id = %envelope.id, consumer = %self.consumer, error = %e, "could not keep a dead letter");
        }
    }
}

/// Queues the webhooks an event causes. Returns how many deliveries were queued.
pub fn fan_out(conn: &mut DbConnection, env: &Envelope, base_url: &str) -> Result<usize, DbError> {
    let event_id = env.id.to_string();
    let mut queued = 0;
    let mut send = |conn: &mut DbConnection,
                    provider: &str,
                    event_type: &str,
                    body: &str|
     -> Result<(), DbError> {
        for endpoint in store::subscribers(conn, provider, event_type)? {
            store::insert_delivery(conn, &endpoint.id, &event_id, event_type, body.to_owned())?;
            queued += 1;
        }
        Ok(())
    };
    if env.is::<CompetitionOpened>() {
        let e: CompetitionOpened = env.decode().map_err(anyhow::Error::from)?;
        let body = domain::invited_body(&e, env.occurred_at, base_url);
        for provider in e.invited.iter().collect::<BTreeSet<_>>() {
            send(conn, provider, domain::INVITED, &body)?;
        }
    } else if env.is::<CompetitionAwarded>() {
        let e: CompetitionAwarded = env.decode().map_err(anyhow::Error::from)?;
        send(
            conn,
            &e.provider_id,
            domain::AWARDED,
            &domain::awarded_body(&e, env.occurred_at, base_url),
        )?;
        let body = domain::unsuccessful_body(&e, env.occurred_at);
        for provider in e
            .unsuccessful
            .iter()
            .filter(|p| **p != e.provider_id)
            .collect::<BTreeSet<_>>()
        {
            send(conn, provider, domain::UNSUCCESSFUL, &body)?;
        }
    }
    if queued > 0 {
        tracing::info!(event_id = %env.id, event_type = %env.event_type, queued, "webhook deliveries queued");
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hub_bus::Handler;
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
        let handler = ProviderEvents {
            store: store.clone(),
            consumer: subscription().consumer(),
            base_url: "https://hub.example".into(),
            wake: wake.clone(),
        };

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
            ["competition_id", "council", "lot_id", "referral_id"],
            "nothing about the winner or the price"
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
