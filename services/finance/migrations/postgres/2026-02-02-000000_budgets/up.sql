-- Pooled budgets: one per partnership and financial year, in versions (a mid-year change is
-- a new version from a period; earlier versions stay as they were).
CREATE TABLE budgets (
    id TEXT PRIMARY KEY,
    partnership TEXT NOT NULL,
    year INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_org TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (partnership, year)
);

CREATE TABLE budget_versions (
    budget_id TEXT NOT NULL REFERENCES budgets (id),
    version INTEGER NOT NULL,
    -- The first period (1 = April) this version is the budget for.
    from_period INTEGER NOT NULL CHECK (from_period BETWEEN 1 AND 12),
    reason TEXT NOT NULL,
    total_pence BIGINT NOT NULL,
    -- The costing model and the risk-share agreement as sent (JSON).
    costing_model TEXT NOT NULL,
    risk_share TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_org TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (budget_id, version)
);

CREATE TABLE budget_lines (
    budget_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    budget_line TEXT NOT NULL,
    amount_pence BIGINT NOT NULL,
    PRIMARY KEY (budget_id, version, budget_line)
);

-- Each partner's contribution to a version's total, and the steps it was derived by (JSON).
CREATE TABLE contributions (
    budget_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    council TEXT NOT NULL,
    amount_pence BIGINT NOT NULL,
    steps TEXT NOT NULL,
    PRIMARY KEY (budget_id, version, council)
);

-- Closed periods of a partnership's year: locked; a late change goes into the next open
-- period as an adjustment.
CREATE TABLE period_closures (
    partnership TEXT NOT NULL,
    year INTEGER NOT NULL,
    period INTEGER NOT NULL CHECK (period BETWEEN 1 AND 12),
    closed_by TEXT NOT NULL,
    closed_org TEXT NOT NULL,
    closed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (partnership, year, period)
);
