//! Typed event handlers: a service says which events it handles and with what, once.
//!
//! ```ignore
//! Handlers::new(crate::NAME, "placements")
//!     .on::<PlacementStarted>(placements::started)
//!     .on::<PlacementEnded>(placements::ended)
//!     .subscribe(&store, transport)
//!     .await?;
//! ```
//!
//! The subscription's routing keys are the registered event types, so the list of types a
//! queue is bound to and the handlers that take them cannot drift apart. Each handler gets
//! its event decoded into its own type (an event that does not decode is refused: it never
//! will), runs in [`Store::handle`]'s transaction (inbox, outbox), and answers by the error
//! policy: `DbError::Refused` or a problem dead-letters the event at once with the reason,
//! anything transient is retried with backoff.

use std::{collections::BTreeMap, sync::Arc};

use hub_events::{Envelope, Event};
use hub_platform::db::{DbConnection, DbError};
use tokio::sync::Notify;

use crate::{Events, Store, Subscription, Transport};

type Route =
    Arc<dyn Fn(&mut DbConnection, &Envelope, &mut Events) -> Result<(), DbError> + Send + Sync>;

/// The handlers of one durable subscription (`<service>.<name>`), by event type.
pub struct Handlers {
    service: &'static str,
    name: &'static str,
    routes: BTreeMap<&'static str, Route>,
    applied: Option<Arc<Notify>>,
}

impl Handlers {
    pub fn new(service: &'static str, name: &'static str) -> Self {
        Self {
            service,
            name,
            routes: BTreeMap::new(),
            applied: None,
        }
    }

    /// Handles every `E` with `f`: its connection is the transaction that also records the
    /// event in the inbox; what it emits goes to the outbox in that transaction.
    ///
    /// # Panics
    /// When `E` is registered twice: one event type has one handler per subscription.
    pub fn on<E: Event>(
        mut self,
        f: impl Fn(&mut DbConnection, &Envelope, E, &mut Events) -> Result<(), DbError>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        let route: Route = Arc::new(move |conn, envelope, events| {
            let event = envelope
                .decode::<E>()
                .map_err(|e| DbError::refused(format!("{} does not decode: {e}", E::TYPE)))?;
            f(conn, envelope, event, events)
        });
        let first = self.routes.insert(E::TYPE, route).is_none();
        assert!(
            first,
            "{} is handled twice in {}.{}",
            E::TYPE,
            self.service,
            self.name
        );
        self
    }

    /// Wakes `applied` each time a handler's writes have committed (not for an event handled
    /// already), e.g. a worker that acts on them at once.
    pub fn notifying(mut self, applied: Arc<Notify>) -> Self {
        self.applied = Some(applied);
        self
    }

    /// The subscription: its queue bound to exactly the registered event types.
    pub fn subscription(&self) -> Subscription {
        let types: Vec<&str> = self.routes.keys().copied().collect();
        Subscription::new(self.service, self.name, &types)
    }

    /// Subscribes on `transport`, running each delivery through `store`.
    pub async fn subscribe(self, store: &Store, transport: &dyn Transport) -> anyhow::Result<()> {
        let (subscription, handler) = self.into_handler(store);
        transport.subscribe(subscription, handler).await?;
        Ok(())
    }

    /// The subscription and the bus handler that runs each delivery through `store`, without
    /// subscribing: for a test that hands the handler events itself and wants its result.
    pub fn into_handler(self, store: &Store) -> (Subscription, Arc<dyn crate::Handler>) {
        let subscription = self.subscription();
        let routes = self.routes;
        let dispatch = move |conn: &mut DbConnection, envelope: &Envelope, events: &mut Events| {
            match routes.get(envelope.event_type.as_str()) {
                Some(route) => route(conn, envelope, events),
                // The queue is bound to the registered types only; anything else is a
                // binding left from an older release: nothing to do.
                None => Ok(()),
            }
        };
        let handler = match self.applied {
            Some(applied) => store.handler_notifying(&subscription, applied, dispatch),
            None => store.handler(&subscription, dispatch),
        };
        (subscription, handler)
    }
}
