-- Outbox leases name their holder, and holders heartbeat: a dead relay's rows are claimable
-- as soon as its heartbeat is stale, not when its lease runs out (issue 17).
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;

CREATE TABLE relay_heartbeats (
    instance TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    beat_ms BIGINT NOT NULL
);
