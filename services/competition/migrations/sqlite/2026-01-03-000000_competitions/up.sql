-- Frameworks and purchasing systems, let by a lead commissioner for a partnership.
CREATE TABLE frameworks (
    id TEXT PRIMARY KEY,
    partnership TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    lead_commissioner TEXT NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE lots (
    id TEXT PRIMARY KEY,
    framework_id TEXT NOT NULL REFERENCES frameworks (id),
    name TEXT NOT NULL,
    placement_type TEXT NOT NULL
);
CREATE INDEX lots_framework ON lots (framework_id);

-- Providers admitted to a lot, with their Provider Response weekly price.
CREATE TABLE admissions (
    lot_id TEXT NOT NULL REFERENCES lots (id),
    provider_id TEXT NOT NULL,
    provider_name TEXT NOT NULL,
    weekly_price_pence BIGINT NOT NULL,
    admitted_by TEXT NOT NULL,
    admitted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (lot_id, provider_id)
);

CREATE TABLE competitions (
    id TEXT PRIMARY KEY,
    referral_id TEXT NOT NULL,
    referral_version INTEGER NOT NULL,
    council TEXT NOT NULL,
    partnership TEXT NOT NULL,
    framework_id TEXT NOT NULL REFERENCES frameworks (id),
    lot_id TEXT NOT NULL REFERENCES lots (id),
    status TEXT NOT NULL,
    urgency TEXT NOT NULL,
    deadline TIMESTAMP NOT NULL,
    awarded_provider TEXT,
    awarded_bid TEXT,
    awarded_by TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX competitions_referral ON competitions (referral_id);

CREATE TABLE competition_invitations (
    competition_id TEXT NOT NULL REFERENCES competitions (id),
    provider_id TEXT NOT NULL,
    PRIMARY KEY (competition_id, provider_id)
);

-- One live bid per provider per competition; a resubmission replaces it.
CREATE TABLE bids (
    id TEXT PRIMARY KEY,
    competition_id TEXT NOT NULL REFERENCES competitions (id),
    provider_id TEXT NOT NULL,
    weekly_price_pence BIGINT NOT NULL,
    start_date DATE NOT NULL,
    submitted_by TEXT NOT NULL,
    submitted_at TIMESTAMP NOT NULL,
    UNIQUE (competition_id, provider_id)
);
