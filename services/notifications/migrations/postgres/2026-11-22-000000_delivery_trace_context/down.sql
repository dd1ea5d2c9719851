ALTER TABLE webhook_deliveries DROP COLUMN tracestate;
ALTER TABLE webhook_deliveries DROP COLUMN traceparent;
