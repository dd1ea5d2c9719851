DROP TABLE relay_heartbeats;
ALTER TABLE outbox DROP COLUMN claimed_by;
