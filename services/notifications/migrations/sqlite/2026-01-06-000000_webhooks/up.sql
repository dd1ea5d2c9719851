-- A provider's (or council's) webhook endpoint. `secret` signs every delivery (Standard
-- Webhooks, `whsec_` + base64 key); after a rotation the previous secret still signs, as a
-- second signature, until `previous_secret_until_ms`. An endpoint that keeps failing is
-- disabled with a `disabled_reason` its owner sees in GET /v1/webhooks.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    owner_org TEXT NOT NULL,
    url TEXT NOT NULL,
    -- JSON array of webhook event types, e.g. ["competition.invited"].
    event_types TEXT NOT NULL,
    description TEXT,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_until_ms BIGINT,
    enabled BOOLEAN NOT NULL,
    disabled_reason TEXT,
    disabled_at TIMESTAMP,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (owner_org, created_at);

-- One message to one endpoint. `id` is the `webhook-id` the receiver sees (the same on every
-- retry); `body` is fixed when the delivery is made, so every attempt sends the same bytes.
-- `status`: pending | delivered | failed. Workers claim due rows with a lease
-- (`claimed_until_ms`) so replicas never send the same delivery at the same time.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id),
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,
    claimed_until_ms BIGINT,
    first_attempt_ms BIGINT,
    last_status_code INTEGER,
    last_error TEXT,
    delivered_ms BIGINT,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (endpoint_id, event_id, event_type)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_ms) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);

-- Every attempt at a delivery: the HTTP status or the error, and how long it took.
CREATE TABLE webhook_attempts (
    id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
    attempt INTEGER NOT NULL,
    attempted_at TIMESTAMP NOT NULL,
    status_code INTEGER,
    error TEXT,
    latency_ms BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);
