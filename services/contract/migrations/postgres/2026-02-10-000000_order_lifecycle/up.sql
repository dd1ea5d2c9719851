-- An order's life beyond issue and signature: the lot it was called off under; emergency
-- orders (direct awards) and the signature timescale the parties agreed for them; a
-- signature after the due day (late); the provider declining, with a reason code and its
-- own words; the sweep's mark that the order was raised as overdue (once).
ALTER TABLE orders ADD COLUMN lot_id TEXT;
ALTER TABLE orders ADD COLUMN emergency BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE orders ADD COLUMN timescale_agreed_with TEXT;
ALTER TABLE orders ADD COLUMN timescale_recorded_by TEXT;
ALTER TABLE orders ADD COLUMN timescale_recorded_at TIMESTAMP;
ALTER TABLE orders ADD COLUMN late BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE orders ADD COLUMN declined_by TEXT;
ALTER TABLE orders ADD COLUMN declined_at TIMESTAMP;
ALTER TABLE orders ADD COLUMN decline_reason TEXT;
ALTER TABLE orders ADD COLUMN decline_detail TEXT;
ALTER TABLE orders ADD COLUMN overdue_raised_at TIMESTAMP;
CREATE INDEX orders_awaiting ON orders (status, due_by);

-- A signed order is never edited: a change to it is a variation, recorded on its own.
CREATE TABLE order_variations (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    seq INTEGER NOT NULL,
    what TEXT NOT NULL,
    why TEXT NOT NULL,
    effective_from DATE NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_by_org TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    UNIQUE (order_id, seq)
);
