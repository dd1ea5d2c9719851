-- Service contracts a partnership's lead commissioner lets for all partners. `services` and
-- `alert_months` are JSON arrays; `alerted_months` is the nearest expiry alert raised for
-- the current end date (NULL: none yet), so each lead time is raised once.
CREATE TABLE service_contracts (
    id TEXT PRIMARY KEY,
    partnership TEXT NOT NULL,
    lead_council TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    title TEXT NOT NULL,
    services TEXT NOT NULL,
    value_pence BIGINT NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    original_end_date DATE NOT NULL,
    budget_line TEXT NOT NULL,
    extensions_allowed INTEGER NOT NULL,
    extensions_used INTEGER NOT NULL,
    extension_months INTEGER NOT NULL,
    alert_months TEXT NOT NULL,
    alerted_months INTEGER,
    tupe_lgps BOOLEAN NOT NULL,
    admission_agreement TEXT NOT NULL,
    admission_agreement_signed_on DATE,
    bond TEXT NOT NULL,
    bond_amount_pence BIGINT,
    status TEXT NOT NULL,
    went_live_by TEXT,
    went_live_at TIMESTAMP,
    terminated_on DATE,
    termination_reason TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX service_contracts_partnership ON service_contracts (partnership, created_at);
CREATE INDEX service_contracts_live ON service_contracts (status, end_date);

-- What happened to each contract, with reasons and dates: let, pension arrangements, going
-- live, variations, extensions, termination. `detail` is JSON.
CREATE TABLE service_contract_history (
    id TEXT PRIMARY KEY,
    contract_id TEXT NOT NULL REFERENCES service_contracts (id),
    kind TEXT NOT NULL,
    effective_on DATE,
    reason TEXT,
    detail TEXT NOT NULL,
    actor TEXT NOT NULL,
    org TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX service_contract_history_contract ON service_contract_history (contract_id, at);
