-- What users edit in place keeps a revision, raised at every change and answered as its
-- ETag (ADR 0004): an order (its emergency timescale), a service contract (its pension
-- arrangements) and an IPA (its draft version).
ALTER TABLE orders ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
ALTER TABLE service_contracts ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
ALTER TABLE ipas ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
