-- Actuals: payments a finance lead uploaded for a period. An upload is recorded once per
-- content (the same file twice is the same upload); a payment once per council and
-- reference. A payment for a closed period is posted to the next open period as an
-- adjustment (`adjusts_period` keeps the period it belongs to).
CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    partnership TEXT NOT NULL,
    year INTEGER NOT NULL,
    requested_period INTEGER NOT NULL CHECK (requested_period BETWEEN 1 AND 12),
    posted_period INTEGER NOT NULL CHECK (posted_period BETWEEN 1 AND 12),
    format TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    rows_read INTEGER NOT NULL,
    applied INTEGER NOT NULL,
    already_recorded INTEGER NOT NULL,
    applied_pence BIGINT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_org TEXT NOT NULL,
    uploaded_at TIMESTAMP NOT NULL,
    UNIQUE (partnership, content_sha256)
);

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    upload_id TEXT NOT NULL REFERENCES uploads (id),
    partnership TEXT NOT NULL,
    council TEXT NOT NULL,
    year INTEGER NOT NULL,
    period INTEGER NOT NULL CHECK (period BETWEEN 1 AND 12),
    adjusts_period INTEGER,
    budget_line TEXT NOT NULL,
    amount_pence BIGINT NOT NULL,
    payment_reference TEXT NOT NULL,
    paid_on DATE NOT NULL,
    provider_id TEXT,
    contract_id TEXT,
    line_no INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (partnership, council, payment_reference)
);
CREATE INDEX payments_report ON payments (partnership, year, period, budget_line, council);
