-- The W3C trace context of the event a delivery was made for (the envelope's `traceparent`
-- and `tracestate`), so every attempt's webhook joins that trace as a span of its own.
-- Trace ids only; NULL for an event that carried none (its webhooks carry none either).
ALTER TABLE webhook_deliveries ADD COLUMN traceparent TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN tracestate TEXT;
