//! A service started as its binary would start it, over a test database and the in-process bus.

use std::{future::Future, sync::Arc};

use actix_web::{
    App,
    dev::{Service, ServiceResponse},
    test, web,
};
use diesel::{QueryableByName, RunQueryDsl, sql_types::Text};
use hub_bus::{Store, Transport, memory::MemoryTransport};
use hub_events::{Envelope, Event};
use hub_platform::{
    Authenticator, Role, Settings,
    config::BusSettings,
    db::Migrations,
    http::{BodyLimits, Fallback, Mounted, guard_bodies},
};

/// The partnership of the events [`ServiceCtx::publish`] sends.
pub const PARTNERSHIP: &str = "LCR-PPA";

/// A running service: its store, the in-process bus it is subscribed on, the authenticator
/// its tokens verify against, its settings and its mounted routes.
pub struct ServiceCtx {
    pub store: Store,
    pub transport: Arc<dyn Transport>,
    pub auth: Arc<Authenticator>,
    pub settings: Arc<Settings>,
    pub mounted: Mounted,
}

/// A service's `start(store, transport, settings)`, as every service's library has it.
pub trait Start {
    fn start(
        self,
        store: Store,
        transport: Arc<dyn Transport>,
        settings: Arc<Settings>,
    ) -> impl Future<Output = anyhow::Result<Mounted>>;
}

impl<F, Fut> Start for F
where
    F: FnOnce(Store, Arc<dyn Transport>, Arc<Settings>) -> Fut,
    Fut: Future<Output = anyhow::Result<Mounted>>,
{
    fn start(
        self,
        store: Store,
        transport: Arc<dyn Transport>,
        settings: Arc<Settings>,
    ) -> impl Future<Output = anyhow::Result<Mounted>> {
        self(store, transport, settings)
    }
}

/// How to start a service: see [`ServiceCtx::builder`].
pub struct Builder {
    service: &'static str,
    settings: Option<Settings>,
    bus_retries: bool,
}

impl Builder {
    /// The settings to start with (by default the defaults, `Settings::load_with(&[])`).
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = Some(settings);
        self
    }

    /// Whether the bus retries a failing handler (`bus.retry_delays_ms`) before it
    /// dead-letters the event. By default it does not: a refused event is dead-lettered at
    /// once, so a test sees it straight away.
    pub fn bus_retries(mut self, retries: bool) -> Self {
        self.bus_retries = retries;
        self
    }

    /// Connects to `url`, runs the migration sets (the bus's first), and starts the service
    /// with `start`.
    pub async fn start(
        self,
        url: &str,
        migrations: &'static [&'static Migrations],
        start: impl Start,
    ) -> ServiceCtx {
        let store = crate::migrated_store(url, self.service, migrations).await;
        self.start_on(store, start).await
    }

    /// Starts the service with `start` on a store already migrated.
    pub async fn start_on(self, store: Store, start: impl Start) -> ServiceCtx {
        let settings = Arc::new(match self.settings {
            Some(s) => s,
            None => Settings::load_with(&[]).expect("the default settings"),
        });
        let bus = if self.bus_retries {
            settings.bus.clone()
        } else {
            BusSettings {
                retry_delays_ms: vec![],
                ..settings.bus.clone()
            }
        };
        let transport: Arc<dyn Transport> = Arc::new(MemoryTransport::new(&bus));
        let mounted = start
            .start(store.clone(), transport.clone(), settings.clone())
            .await
            .unwrap_or_else(|e| panic!("starting {}: {e:#}", self.service));
        ServiceCtx {
            store,
            transport,
            auth: Authenticator::new(&settings.auth),
            settings,
            mounted,
        }
    }
}

impl ServiceCtx {
    /// A builder for `service` (its `NAME`).
    pub fn builder(service: &'static str) -> Builder {
        Builder {
            service,
            settings: None,
            bus_retries: false,
        }
    }

    /// Starts `service` with `start` on `url` migrated with `migrations` (the bus's first),
    /// with the default settings and no bus retries.
    ///
    /// ```ignore
    /// let ctx = ServiceCtx::start(url, referral::NAME, &SETS, referral::start).await;
    /// ```
    pub async fn start(
        url: &str,
        service: &'static str,
        migrations: &'static [&'static Migrations],
        start: impl Start,
    ) -> Self {
        Self::builder(service).start(url, migrations, start).await
    }

    /// The service's routes in an actix test service, as the platform serves them: with the
    /// authenticator, the body guard (limits, and the fingerprint of a request with an
    /// `Idempotency-Key`) and the 405/404 fallback.
    pub async fn app(
        &self,
    ) -> impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error> + use<>
    {
        let app = test::init_service(
            App::new()
                .app_data(web::Data::from(self.auth.clone()))
                .app_data(web::Data::new(BodyLimits::from_settings(
                    &self.settings.server,
                )))
                .wrap(actix_web::middleware::from_fn(guard_bodies))
                .configure(|cfg| (self.mounted.configure)(cfg))
                .default_service(web::to(
                    Fallback::of(std::slice::from_ref(&self.mounted)).service(),
                )),
        )
        .await;
        actix_service::ServiceExt::map(app, ServiceResponse::map_into_boxed_body)
    }

    /// A token for a user of `org` (`user-of-<org>`) with `role`.
    pub fn token(&self, org: &str, role: Role) -> String {
        self.token_as(&format!("user-of-{org}"), org, role)
    }

    /// A token for the user `sub` of `org` with `role`.
    pub fn token_as(&self, sub: &str, org: &str, role: Role) -> String {
        self.auth.mint_default(sub, org, &[role])
    }

    /// Publishes `event` on the bus as `source` would, in [`PARTNERSHIP`]; returns once every
    /// subscriber has handled it (or dead-lettered it).
    pub async fn publish<E: Event>(&self, source: &str, event: &E) {
        self.publish_envelope(&Envelope::new(source, PARTNERSHIP, event))
            .await;
    }

    /// Publishes an event that happened `secs_ago` (one arriving late, after retries).
    pub async fn publish_late<E: Event>(&self, source: &str, event: &E, secs_ago: i64) {
        let mut env = Envelope::new(source, PARTNERSHIP, event);
        env.occurred_at -= chrono::Duration::seconds(secs_ago);
        self.publish_envelope(&env).await;
    }

    /// Publishes `envelope` as it is (another partnership; the same envelope again).
    pub async fn publish_envelope(&self, envelope: &Envelope) {
        self.transport
            .publish(envelope)
            .await
            .unwrap_or_else(|e| panic!("publishing {}: {e}", envelope.event_type));
    }

    /// The events in the service's outbox, oldest first.
    pub async fn outbox(&self) -> Vec<Envelope> {
        self.outbox_rows("SELECT envelope FROM outbox ORDER BY id", None)
            .await
    }

    /// The events of type `E` in the service's outbox, oldest first.
    pub async fn outbox_of<E: Event>(&self) -> Vec<E> {
        self.outbox_rows(
            "SELECT envelope FROM outbox WHERE event_type = $1 ORDER BY id",
            Some(E::TYPE),
        )
        .await
        .into_iter()
        .map(|env| env.decode().expect("an outbox event of its type"))
        .collect()
    }

    async fn outbox_rows(
        &self,
        query: &'static str,
        event_type: Option<&'static str>,
    ) -> Vec<Envelope> {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = Text)]
            envelope: String,
        }
        self.store
            .db
            .run(move |c| {
                let rows = match event_type {
                    Some(t) => diesel::sql_query(query).bind::<Text, _>(t).load::<Row>(c)?,
                    None => diesel::sql_query(query).load::<Row>(c)?,
                };
                Ok(rows)
            })
            .await
            .expect("reading the outbox")
            .into_iter()
            .map(|r| Envelope::from_json(r.envelope.as_bytes()).expect("an outbox envelope"))
            .collect()
    }

    /// Runs one SQL statement on the service's database.
    pub async fn sql(&self, statement: impl Into<String>) {
        let statement = statement.into();
        self.store
            .db
            .run(move |c| Ok(diesel::sql_query(statement).execute(c)?))
            .await
            .expect("running SQL");
    }
}
