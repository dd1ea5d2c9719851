-- Commitment lines: money a partnership has committed, by financial year and period
-- (P1 April … P12 March). One line per source (e.g. a placement) per period.
CREATE TABLE commitments (
    id TEXT PRIMARY KEY,
    partnership TEXT NOT NULL,
    council TEXT NOT NULL,
    source_kind TEXT NOT NULL,
    source_id TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    period INTEGER NOT NULL CHECK (period BETWEEN 1 AND 12),
    days INTEGER NOT NULL,
    weekly_rate_pence BIGINT NOT NULL,
    amount_pence BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (source_kind, source_id, year, period)
);
CREATE INDEX commitments_ledger ON commitments (partnership, year, period);
