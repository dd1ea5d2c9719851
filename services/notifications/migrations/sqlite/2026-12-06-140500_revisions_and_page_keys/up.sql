-- A webhook endpoint's revision (issue 13, ADR 0004): raised by one at every change (its
-- owner's edits, a secret rotation, being disabled or enabled, also automatically), answered
-- as the endpoint's ETag and compared with the If-Match of every edit.
ALTER TABLE webhook_endpoints ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;

-- Keyset pages (ADR 0004): an organisation's endpoints oldest first and an endpoint's
-- deliveries newest first, both by id (UUIDv7s sort by creation), each page an index range
-- scan from the cursor's id.
DROP INDEX webhook_endpoints_owner;
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (owner_org, id);
DROP INDEX webhook_deliveries_endpoint;
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
