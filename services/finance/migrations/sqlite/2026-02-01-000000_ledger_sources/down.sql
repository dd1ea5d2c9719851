DROP TABLE commitment_lines;
DROP TABLE ledger_years;
DROP TABLE service_contract_terminations;
DROP TABLE service_contract_extensions;
DROP TABLE service_contracts;
DROP TABLE bed_events;
DROP TABLE block_contracts;
DROP TABLE placement_ends;
DROP TABLE placement_rate_changes;
DROP TABLE placements;
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
