-- The ledger from every money-bearing contract event (placements with rate changes and ends,
-- block contracts and their beds, service contracts with extensions and terminations).
ALTER TABLE commitments RENAME TO commitments_v1;
DROP INDEX commitments_ledger;

-- What the contract service told finance, kept as facts; the ledger's lines are derived from
-- them (recomputed whole for a source whenever one of its facts arrives), so redelivery and
-- out-of-order arrival give the same lines.

-- A child's placement: the cost from `start_date` at the weekly rate plus extras. A placement
-- in a block bed (`block_contract_id`, `bed`) is costed through the block contract instead.
CREATE TABLE placements (
    placement_id TEXT PRIMARY KEY,
    partnership TEXT NOT NULL,
    council TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    order_id TEXT,
    referral_id TEXT,
    block_contract_id TEXT,
    bed INTEGER,
    start_date DATE NOT NULL,
    weekly_rate_pence BIGINT NOT NULL,
    extras_weekly_pence BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- New figures from `effective_from` (a new IPA version); may arrive before the placement.
CREATE TABLE placement_rate_changes (
    placement_id TEXT NOT NULL,
    ipa_version INTEGER NOT NULL,
    partnership TEXT NOT NULL,
    council TEXT NOT NULL,
    effective_from DATE NOT NULL,
    weekly_rate_pence BIGINT NOT NULL,
    extras_weekly_pence BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (placement_id, ipa_version)
);

-- The child's last night in the placement; may arrive before the placement.
CREATE TABLE placement_ends (
    placement_id TEXT PRIMARY KEY,
    partnership TEXT NOT NULL,
    council TEXT NOT NULL,
    end_date DATE NOT NULL,
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE block_contracts (
    block_contract_id TEXT PRIMARY KEY,
    partnership TEXT NOT NULL,
    lead_council TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    beds INTEGER NOT NULL,
    block_weekly_rate_pence BIGINT NOT NULL,
    spot_weekly_rate_pence BIGINT NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    planned_annual_saving_pence BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- A block bed's state from a day: `filled` (council = the child's council) or `void`
-- (council = the council the bed is held for, or NULL when only a placement's end said so
-- and the holder carries on from before).
CREATE TABLE bed_events (
    block_contract_id TEXT NOT NULL,
    bed INTEGER NOT NULL,
    effective_from DATE NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('filled', 'void')),
    partnership TEXT NOT NULL,
    council TEXT,
    placement_id TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (block_contract_id, bed, effective_from, state)
);

CREATE TABLE service_contracts (
    contract_id TEXT PRIMARY KEY,
    partnership TEXT NOT NULL,
    lead_council TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    budget_line TEXT NOT NULL,
    value_pence BIGINT NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE service_contract_extensions (
    contract_id TEXT NOT NULL,
    extensions_used INTEGER NOT NULL,
    partnership TEXT NOT NULL,
    previous_end_date DATE NOT NULL,
    new_end_date DATE NOT NULL,
    added_value_pence BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (contract_id, extensions_used)
);

CREATE TABLE service_contract_terminations (
    contract_id TEXT PRIMARY KEY,
    partnership TEXT NOT NULL,
    terminated_on DATE NOT NULL,
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- The last financial year each partnership's open-ended placements are committed to (at
-- least the year each starts in); raised when a later year is opened (e.g. its budget set).
CREATE TABLE ledger_years (
    partnership TEXT PRIMARY KEY,
    through_year INTEGER NOT NULL
);

-- The ledger: one source's cost for one council in one period at one rate (a placement per
-- rate step, a block bed per occupant or void spell, a service contract per tranche).
CREATE TABLE commitment_lines (
    id TEXT PRIMARY KEY,
    partnership TEXT NOT NULL,
    council TEXT NOT NULL,
    -- `child` (the council's child), `void` (an empty block bed held for the council),
    -- `pooled` (a service contract for all partners, tagged with the letting council).
    attribution TEXT NOT NULL,
    budget_line TEXT NOT NULL,
    -- `placement`, `block_bed`, `service_contract`.
    source_kind TEXT NOT NULL,
    source_id TEXT NOT NULL,
    -- The order, block contract or service contract the cost is under.
    contract_id TEXT,
    bed INTEGER,
    provider_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    period INTEGER NOT NULL CHECK (period BETWEEN 1 AND 12),
    from_date DATE NOT NULL,
    to_date DATE NOT NULL,
    days INTEGER NOT NULL,
    weekly_rate_pence BIGINT NOT NULL,
    extras_weekly_pence BIGINT NOT NULL,
    amount_pence BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX commitment_lines_report ON commitment_lines (partnership, year, period, budget_line, council);
CREATE INDEX commitment_lines_source ON commitment_lines (source_kind, source_id);

-- Carry the placements committed so far over as facts, and their lines as they were (every
-- old line ran to the end of its period; the first began on the start date).
INSERT INTO placements (placement_id, partnership, council, provider_id, order_id, referral_id,
    block_contract_id, bed, start_date, weekly_rate_pence, extras_weekly_pence, created_at)
SELECT c.source_id, c.partnership, c.council, c.provider_id, NULL, NULL, NULL, NULL,
    (make_date(CASE WHEN c.period <= 9 THEN c.year ELSE c.year + 1 END,
               CASE WHEN c.period <= 9 THEN c.period + 3 ELSE c.period - 9 END, 1)
        + INTERVAL '1 month' - make_interval(days => c.days))::date,
    c.weekly_rate_pence, 0, c.created_at
FROM commitments_v1 c
WHERE c.source_kind = 'placement' AND NOT EXISTS (
    SELECT 1 FROM commitments_v1 e WHERE e.source_kind = c.source_kind AND e.source_id = c.source_id
        AND e.year * 100 + e.period < c.year * 100 + c.period);

INSERT INTO commitment_lines (id, partnership, council, attribution, budget_line, source_kind,
    source_id, contract_id, bed, provider_id, year, period, from_date, to_date, days,
    weekly_rate_pence, extras_weekly_pence, amount_pence, created_at)
SELECT c.id, c.partnership, c.council, 'child', 'placements', c.source_kind, c.source_id, NULL,
    NULL, c.provider_id, c.year, c.period,
    (n.first_of_next - make_interval(days => c.days))::date, (n.first_of_next - INTERVAL '1 day')::date,
    c.days, c.weekly_rate_pence, 0, c.amount_pence, c.created_at
FROM commitments_v1 c,
    LATERAL (SELECT make_date(CASE WHEN c.period <= 9 THEN c.year ELSE c.year + 1 END,
                              CASE WHEN c.period <= 9 THEN c.period + 3 ELSE c.period - 9 END, 1)
                    + INTERVAL '1 month' AS first_of_next) n;

DROP TABLE commitments_v1;
