DROP INDEX webhook_deliveries_endpoint;
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);
DROP INDEX webhook_endpoints_owner;
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (owner_org, created_at);
ALTER TABLE webhook_endpoints DROP COLUMN revision;
