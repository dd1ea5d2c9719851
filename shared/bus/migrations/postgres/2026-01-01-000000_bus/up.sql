-- Transactional outbox: events written in the same transaction as the state change.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    envelope TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    claimed_until_ms BIGINT,
    published_ms BIGINT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox (id) WHERE published_ms IS NULL;

-- Idempotent consumers: one row per (event, consumer) handled, written with the effects.
CREATE TABLE inbox (
    event_id TEXT NOT NULL,
    consumer TEXT NOT NULL,
    event_type TEXT NOT NULL,
    handled_ms BIGINT NOT NULL,
    PRIMARY KEY (event_id, consumer)
);

-- Messages a consumer gave up on after its retries (the in-process transport's DLQ).
CREATE TABLE dead_letters (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    consumer TEXT NOT NULL,
    event_type TEXT NOT NULL,
    envelope TEXT NOT NULL,
    error TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    dead_ms BIGINT NOT NULL
);
