//! From webhooks to deliveries: each to every enabled endpoint of its organisation that
//! subscribes to its type.

use std::collections::BTreeSet;

use hub_events::Envelope;
use hub_platform::db::{DbConnection, DbError};

use crate::{domain::Webhook, ids::EventId, store};

/// Queues each webhook for every enabled endpoint of its organisation subscribed to its
/// type (once per endpoint and type), in the trace of `env` (its `traceparent` and
/// `tracestate` are kept with each delivery, so its webhooks join that trace). Endpoints are
/// resolved in one query and deliveries queued in multi-row inserts. Returns how many
/// deliveries were queued.
pub fn queue(
    conn: &mut DbConnection,
    env: &Envelope,
    webhooks: Vec<Webhook>,
) -> Result<usize, DbError> {
    let event_id = EventId::from(env.id);
    let orgs: Vec<&str> = webhooks
        .iter()
        .map(|(org, _, _)| org.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let endpoints = store::enabled_endpoints_of(conn, &orgs)?;
    let mut seen = BTreeSet::new();
    let mut deliveries = Vec::new();
    for (org, event_type, body) in &webhooks {
        for e in endpoints
            .iter()
            .filter(|e| e.owner_org == *org && e.subscribes_to(event_type))
        {
            if seen.insert((e.id, *event_type)) {
                deliveries.push(store::NewDelivery {
                    endpoint_id: e.id,
                    event_id,
                    event_type: (*event_type).to_owned(),
                    body: body.clone(),
                    traceparent: env.traceparent.clone(),
                    tracestate: env.tracestate.clone(),
                });
            }
        }
    }
    store::insert_deliveries(conn, &deliveries)?;
    let queued = deliveries.len();
    if queued > 0 {
        tracing::info!(event_id = %env.id, event_type = %env.event_type, queued, "webhook deliveries queued");
    }
    Ok(queued)
}
