-- An order: the contract offer sent to the provider a competition (or direct award) chose.
-- Issued on competition.awarded; immutable once the provider has signed it.
CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    competition_id TEXT NOT NULL UNIQUE,
    referral_id TEXT NOT NULL,
    council TEXT NOT NULL,
    partnership TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    framework_id TEXT NOT NULL,
    weekly_rate_pence BIGINT NOT NULL,
    start_date DATE NOT NULL,
    status TEXT NOT NULL,
    issued_at TIMESTAMP NOT NULL,
    due_by DATE NOT NULL,
    signed_by TEXT,
    signed_at TIMESTAMP
);
CREATE INDEX orders_council ON orders (council, issued_at);
CREATE INDEX orders_provider ON orders (provider_id, issued_at);

-- A placement: the child moved in under a signed order. One per order.
CREATE TABLE placements (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL UNIQUE REFERENCES orders (id),
    referral_id TEXT NOT NULL,
    council TEXT NOT NULL,
    partnership TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    weekly_rate_pence BIGINT NOT NULL,
    start_date DATE NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_by_org TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX placements_council ON placements (council, created_at);
