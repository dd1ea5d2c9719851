//! The AMQP transport (RabbitMQ via lapin).
//!
//! Topology, for exchange `X` and a subscription queue `Q = <prefix>.<service>.<name>`:
//! * `X`: the one durable topic exchange; routing key = event type.
//! * `Q`: a durable quorum queue bound to `X` by each event type it wants. Its dead-letter
//!   target is `Q.dlq` (via the default exchange), with a delivery limit, so a message that
//!   keeps crashing its consumer before the ack still ends up in the dead-letter queue.
//! * `Q.retry.<n>`: one delay queue per retry (`bus.retry_delays_ms[n]` as message TTL), whose
//!   expired messages dead-letter back into `Q`.
//! * `Q.dlq`: where a message goes after its last retry, with the error in its headers.
//!
//! Publishing uses publisher confirms; consuming uses manual acks, and a failed message is
//! acked only after its retry (or dead-letter) copy has been confirmed by the broker.
//!
//! The connection is supervised: when it is lost the supervisor reconnects with backoff,
//! re-declares the topology and re-consumes every subscription.
//!
//! Frames are at most [`DEFAULT_FRAME_MAX`] bytes unless `bus.url` says otherwise
//! (`?frame_max=`): lapin keeps two buffers of 32 frames per connection, allocated at connect,
//! and RabbitMQ's own 128 KB maximum made them 8 MB of every service's idle memory. Events are
//! a few KB; a bigger one just takes more frames.

use std::{sync::Arc, time::Duration};

use futures::StreamExt;
use hub_events::Envelope;
use hub_platform::config::BusSettings;
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, Event, ExchangeKind,
    message::Delivery,
    options::*,
    types::{AMQPValue, FieldTable, LongString, ShortString},
};
use tokio::sync::{Mutex, RwLock};

use crate::{
    BusError, Handler, Subscription, Transport,
    metrics::{BusMetrics, Outcome, UNDECODABLE},
};

const ATTEMPT_HEADER: &str = "x-hub-attempt";
const ERROR_HEADER: &str = "x-hub-error";
/// Deliveries of one message (crashes before the ack) before the broker dead-letters it.
const DELIVERY_LIMIT: i64 = 10;
/// The frame size asked for when `bus.url` names none (RabbitMQ's minimum is 4096).
pub const DEFAULT_FRAME_MAX: u32 = 8192;

/// The broker URI of `url`, with [`DEFAULT_FRAME_MAX`] unless it sets `frame_max`.
fn broker_uri(url: &str) -> Result<lapin::uri::AMQPUri, String> {
    let mut uri: lapin::uri::AMQPUri = url.parse()?;
    uri.query.frame_max.get_or_insert(DEFAULT_FRAME_MAX);
    Ok(uri)
}

type EventStream = std::pin::Pin<Box<dyn futures::Stream<Item = Event> + Send>>;

#[derive(Clone)]
struct Live {
    conn: Arc<Connection>,
    publish: Channel,
}

pub struct AmqpTransport {
    settings: BusSettings,
    live: RwLock<Option<Live>>,
    subscriptions: Mutex<Vec<(Subscription, Arc<dyn Handler>)>>,
    closing: std::sync::atomic::AtomicBool,
    metrics: BusMetrics,
}

fn hint(e: impl std::fmt::Display, url: &str) -> BusError {
    let mut shown = url::Url::parse(url).map(|mut u| {
        let _ = u.set_password(None);
        u.to_string()
    });
    let shown = shown
        .as_mut()
        .map(|s| s.as_str())
        .unwrap_or("the configured broker");
    BusError::Disconnected(format!(
        "cannot reach RabbitMQ at {shown}: {e}. Start it with `rabbitmq-server -detached`"
    ))
}

fn field_str(v: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(v))
}

fn queue_args(pairs: &[(&str, AMQPValue)]) -> FieldTable {
    let mut t = FieldTable::default();
    t.insert("x-queue-type".into(), field_str("quorum"));
    for (k, v) in pairs {
        t.insert(ShortString::from(*k), v.clone());
    }
    t
}

fn header_str(d: &Delivery, key: &str) -> Option<String> {
    match d.properties.headers().as_ref()?.inner().get(key)? {
        AMQPValue::LongString(s) => std::str::from_utf8(s.as_bytes()).ok().map(str::to_owned),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}

fn header_int(d: &Delivery, key: &str) -> Option<i64> {
    match d.properties.headers().as_ref()?.inner().get(key)? {
        AMQPValue::LongInt(i) => Some(*i as i64),
        AMQPValue::LongLongInt(i) => Some(*i),
        AMQPValue::ShortInt(i) => Some(*i as i64),
        _ => None,
    }
}

impl AmqpTransport {
    /// Connects (failing fast with a hint if the broker is down), declares the exchange and
    /// starts the connection supervisor. Counts into metrics of its own (unregistered).
    pub async fn connect(settings: &BusSettings) -> Result<Arc<Self>, BusError> {
        Self::connect_with_metrics(settings, BusMetrics::default()).await
    }

    /// [`AmqpTransport::connect`], counting what its consumers do into `metrics`.
    pub async fn connect_with_metrics(
        settings: &BusSettings,
        metrics: BusMetrics,
    ) -> Result<Arc<Self>, BusError> {
        let transport = Arc::new(Self {
            settings: settings.clone(),
            live: RwLock::new(None),
            subscriptions: Mutex::new(Vec::new()),
            closing: Default::default(),
            metrics,
        });
        let (live, events) = transport.establish().await?;
        *transport.live.write().await = Some(live.clone());
        tokio::spawn(transport.clone().supervise(live, events));
        Ok(transport)
    }

    fn queue_name(&self, s: &Subscription) -> String {
        format!("{}.{}.{}", self.settings.queue_prefix, s.service, s.name)
    }

    async fn establish(&self) -> Result<(Live, EventStream), BusError> {
        let url = &self.settings.url;
        let props =
            ConnectionProperties::default().with_connection_name("commissioning-hub".into());
        let uri = broker_uri(url).map_err(|e| BusError::Config(format!("bus.url: {e}")))?;
        let conn = Connection::connect_uri(uri, props)
            .await
            .map_err(|e| hint(e, url))?;
        let events: EventStream = Box::pin(conn.events_listener());
        let publish = conn
            .create_channel()
            .await
            .map_err(|e| BusError::Broker(e.to_string()))?;
        publish
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| BusError::Broker(e.to_string()))?;
        publish
            .exchange_declare(
                self.settings.exchange.as_str().into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|e| {
                BusError::Broker(format!(
                    "declaring exchange {}: {e}",
                    self.settings.exchange
                ))
            })?;
        Ok((
            Live {
                conn: Arc::new(conn),
                publish,
            },
            events,
        ))
    }

    /// Watches the connection; on loss reconnects, re-declares and re-consumes.
    async fn supervise(self: Arc<Self>, mut live: Live, mut events: EventStream) {
        loop {
            // Wait for the connection to die.
            while let Some(event) = events.next().await {
                if let Event::Error(e) = event {
                    if !live.conn.status().connected() {
                        tracing::warn!(error = %e, "lost the RabbitMQ connection");
                        break;
                    }
                    tracing::warn!(error = %e, "a RabbitMQ channel failed");
                }
            }
            *self.live.write().await = None;
            if self.closing.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            let mut backoff = Duration::from_millis(250);
            loop {
                tokio::time::sleep(backoff).await;
                if self.closing.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                let subs = self.subscriptions.lock().await;
                match self.establish().await {
                    Ok((new_live, new_events)) => {
                        let mut ok = true;
                        for (sub, handler) in subs.iter() {
                            if let Err(e) = self.consume(&new_live, sub, handler.clone()).await {
                                tracing::warn!(error = %e, queue = %self.queue_name(sub), "re-consuming failed");
                                ok = false;
                                break;
                            }
                        }
                        if ok {
                            tracing::info!(subscriptions = subs.len(), "reconnected to RabbitMQ");
                            *self.live.write().await = Some(new_live.clone());
                            live = new_live;
                            events = new_events;
                            break;
                        }
                        let _ = new_live.conn.close(200, "retrying".into()).await;
                    }
                    Err(e) => tracing::debug!(error = %e, "reconnect attempt failed"),
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }

    /// Declares a subscription's queues and starts consuming it on `live`.
    async fn consume(
        &self,
        live: &Live,
        sub: &Subscription,
        handler: Arc<dyn Handler>,
    ) -> Result<(), BusError> {
        let q = self.queue_name(sub);
        let broker = |e: lapin::Error| BusError::Broker(format!("{q}: {e}"));
        let ch = live.conn.create_channel().await.map_err(broker)?;
        ch.basic_qos(self.settings.prefetch, BasicQosOptions::default())
            .await
            .map_err(broker)?;
        let durable = QueueDeclareOptions {
            durable: true,
            ..Default::default()
        };
        let dlq = format!("{q}.dlq");
        ch.queue_declare(dlq.as_str().into(), durable, queue_args(&[]))
            .await
            .map_err(broker)?;
        for (n, delay) in self.settings.retry_delays_ms.iter().enumerate() {
            let args = queue_args(&[
                ("x-message-ttl", AMQPValue::LongLongInt(*delay as i64)),
                ("x-dead-letter-exchange", field_str("")),
                ("x-dead-letter-routing-key", field_str(&q)),
            ]);
            ch.queue_declare(format!("{q}.retry.{n}").as_str().into(), durable, args)
                .await
                .map_err(broker)?;
        }
        let args = queue_args(&[
            ("x-dead-letter-exchange", field_str("")),
            ("x-dead-letter-routing-key", field_str(&dlq)),
            ("x-delivery-limit", AMQPValue::LongLongInt(DELIVERY_LIMIT)),
        ]);
        ch.queue_declare(q.as_str().into(), durable, args)
            .await
            .map_err(broker)?;
        for t in &sub.event_types {
            ch.queue_bind(
                q.as_str().into(),
                self.settings.exchange.as_str().into(),
                t.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(broker)?;
        }
        let mut consumer = ch
            .basic_consume(
                q.as_str().into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(broker)?;
        let ctx = Arc::new(ConsumerCtx {
            queue: q.clone(),
            consumer: sub.consumer(),
            subscription: sub.clone(),
            metrics: self.metrics.clone(),
            handler,
            publish: live.publish.clone(),
            retries: self.settings.retry_delays_ms.len(),
        });
        tokio::spawn(async move {
            let _channel = ch; // keeps the channel open while consuming
            while let Some(item) = consumer.next().await {
                match item {
                    Ok(delivery) => {
                        let ctx = ctx.clone();
                        tokio::spawn(async move { ctx.process(delivery).await });
                    }
                    Err(e) => {
                        tracing::warn!(queue = %ctx.queue, error = %e, "consumer stopped");
                        break;
                    }
                }
            }
        });
        Ok(())
    }
}

struct ConsumerCtx {
    queue: String,
    consumer: String,
    subscription: Subscription,
    metrics: BusMetrics,
    handler: Arc<dyn Handler>,
    publish: Channel,
    retries: usize,
}

impl ConsumerCtx {
    async fn process(&self, d: Delivery) {
        let attempt = header_int(&d, ATTEMPT_HEADER).unwrap_or(0).max(0) as usize;
        let envelope = match Envelope::from_json(&d.data) {
            Ok(env) => env,
            Err(e) => {
                tracing::error!(queue = %self.queue, error = %e, "undecodable message; dead-lettered");
                let forwarded = self
                    .forward(
                        &d,
                        &format!("{}.dlq", self.queue),
                        attempt,
                        Some(&format!("not an envelope: {e}")),
                    )
                    .await;
                self.count(forwarded, UNDECODABLE, Outcome::DeadLettered);
                return;
            }
        };
        let mut carrier = std::collections::HashMap::new();
        for key in ["traceparent", "tracestate"] {
            if let Some(v) = header_str(&d, key) {
                carrier.insert(key.to_owned(), v);
            }
        }
        let result = crate::handle_traced(
            self.handler.as_ref(),
            envelope.clone(),
            &self.consumer,
            attempt,
            "rabbitmq",
            &carrier,
        )
        .await;
        self.settle(&d, &envelope, attempt, result).await;
    }

    /// Acks a handled delivery, or forwards a failed one to its next retry queue or, after
    /// the last, to the dead-letter queue; counts the outcome.
    async fn settle(
        &self,
        d: &Delivery,
        envelope: &Envelope,
        attempt: usize,
        result: Result<(), crate::HandlerError>,
    ) {
        match result {
            Ok(()) => {
                self.count(true, &envelope.event_type, Outcome::Handled);
                if let Err(e) = d.ack(BasicAckOptions::default()).await {
                    tracing::warn!(error = %e, event_id = %envelope.id, "ack failed; the message will be redelivered");
                }
            }
            Err(e) if e.retryable() && attempt < self.retries => {
                tracing::warn!(event_id = %envelope.id, consumer = %self.consumer, attempt, error = %e, "handler failed; will retry");
                let forwarded = self
                    .forward(
                        d,
                        &format!("{}.retry.{attempt}", self.queue),
                        attempt + 1,
                        None,
                    )
                    .await;
                self.count(forwarded, &envelope.event_type, Outcome::Retried);
            }
            Err(e) => {
                tracing::error!(event_id = %envelope.id, consumer = %self.consumer, attempt, error = %e, "handler failed; dead-lettered");
                let forwarded = self
                    .forward(
                        d,
                        &format!("{}.dlq", self.queue),
                        attempt + 1,
                        Some(&e.to_string()),
                    )
                    .await;
                self.count(forwarded, &envelope.event_type, Outcome::DeadLettered);
            }
        }
    }

    /// Counts an attempt's outcome once it stands (a retry or dead letter whose copy the
    /// broker did not confirm is handled again, and counted then).
    fn count(&self, stands: bool, event_type: &str, outcome: Outcome) {
        if stands {
            self.metrics.count(&self.subscription, event_type, outcome);
        }
    }

    /// Copies the delivery to `queue` (via the default exchange) and acks the original once
    /// the copy is confirmed; if the copy fails the original is requeued for redelivery.
    /// Returns whether the copy was confirmed.
    async fn forward(
        &self,
        d: &Delivery,
        queue: &str,
        attempt: usize,
        error: Option<&str>,
    ) -> bool {
        let mut headers = d.properties.headers().clone().unwrap_or_default();
        headers.insert(
            ATTEMPT_HEADER.into(),
            AMQPValue::LongLongInt(attempt as i64),
        );
        if let Some(e) = error {
            headers.insert(ERROR_HEADER.into(), field_str(e));
        }
        let props = d.properties.clone().with_headers(headers);
        let confirmed = match self
            .publish
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions::default(),
                &d.data,
                props,
            )
            .await
        {
            Ok(confirm) => matches!(confirm.await, Ok(Confirmation::Ack(_))),
            Err(_) => false,
        };
        if confirmed {
            let _ = d.ack(BasicAckOptions::default()).await;
        } else {
            tracing::warn!(
                queue,
                "could not forward a failed message; it stays on its queue"
            );
            let _ = d
                .nack(BasicNackOptions {
                    requeue: true,
                    ..Default::default()
                })
                .await;
        }
        confirmed
    }
}

#[async_trait::async_trait]
impl Transport for AmqpTransport {
    async fn publish(&self, envelope: &Envelope) -> Result<(), BusError> {
        let live = self
            .live
            .read()
            .await
            .clone()
            .ok_or_else(|| BusError::Disconnected("reconnecting".into()))?;
        let mut headers = FieldTable::default();
        if let Some(tp) = &envelope.traceparent {
            headers.insert("traceparent".into(), field_str(tp));
        }
        if let Some(ts) = &envelope.tracestate {
            headers.insert("tracestate".into(), field_str(ts));
        }
        let props = BasicProperties::default()
            .with_message_id(envelope.id.to_string().into())
            .with_content_type("application/json".into())
            .with_delivery_mode(2)
            .with_type(envelope.event_type.as_str().into())
            .with_timestamp(envelope.occurred_at.timestamp().max(0) as u64)
            .with_app_id(envelope.source.as_str().into())
            .with_headers(headers);
        let confirm = live
            .publish
            .basic_publish(
                self.settings.exchange.as_str().into(),
                envelope.routing_key().into(),
                BasicPublishOptions::default(),
                &envelope.to_json(),
                props,
            )
            .await
            .map_err(|e| BusError::Disconnected(e.to_string()))?
            .await
            .map_err(|e| BusError::Disconnected(e.to_string()))?;
        match confirm {
            Confirmation::Ack(_) => Ok(()),
            Confirmation::Nack(_) => Err(BusError::Nacked),
            Confirmation::NotRequested => {
                Err(BusError::Broker("publisher confirms are off".into()))
            }
        }
    }

    async fn subscribe(
        &self,
        subscription: Subscription,
        handler: Arc<dyn Handler>,
    ) -> Result<(), BusError> {
        let mut subs = self.subscriptions.lock().await;
        if let Some(live) = self.live.read().await.clone() {
            self.consume(&live, &subscription, handler.clone()).await?;
        }
        subs.push((subscription, handler));
        Ok(())
    }

    async fn ready(&self) -> Result<(), String> {
        match self.live.read().await.as_ref() {
            Some(live) if live.conn.status().connected() => Ok(()),
            _ => Err("not connected to RabbitMQ (reconnecting)".to_owned()),
        }
    }

    fn in_process(&self) -> bool {
        false
    }

    /// Deletes every queue this transport declared and the exchange (test clean-up).
    async fn teardown(&self) -> Result<(), BusError> {
        let live = self
            .live
            .read()
            .await
            .clone()
            .ok_or_else(|| BusError::Disconnected("not connected".into()))?;
        let ch = live
            .conn
            .create_channel()
            .await
            .map_err(|e| BusError::Broker(e.to_string()))?;
        for (sub, _) in self.subscriptions.lock().await.iter() {
            let q = self.queue_name(sub);
            let mut names = vec![q.clone(), format!("{q}.dlq")];
            names
                .extend((0..self.settings.retry_delays_ms.len()).map(|n| format!("{q}.retry.{n}")));
            for name in names {
                let _ = ch
                    .queue_delete(name.as_str().into(), QueueDeleteOptions::default())
                    .await;
            }
        }
        let _ = ch
            .exchange_delete(
                self.settings.exchange.as_str().into(),
                ExchangeDeleteOptions::default(),
            )
            .await;
        Ok(())
    }

    async fn shutdown(&self) {
        self.closing
            .store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(live) = self.live.write().await.take() {
            let _ = live.conn.close(200, "shutting down".into()).await;
        }
    }
}
