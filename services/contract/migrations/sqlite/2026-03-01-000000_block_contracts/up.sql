-- A block contract: beds bought from a provider at a block weekly rate, replacing a spot
-- rate, for a term with extension options; let by a member council of the partnership (its
-- lead council) on behalf of the partners.
CREATE TABLE block_contracts (
    id TEXT PRIMARY KEY,
    partnership TEXT NOT NULL,
    lead_council TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    description TEXT NOT NULL,
    beds INTEGER NOT NULL,
    block_weekly_rate_pence BIGINT NOT NULL,
    spot_weekly_rate_pence BIGINT NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    term_years INTEGER NOT NULL,
    extension_options INTEGER NOT NULL,
    extension_years INTEGER NOT NULL,
    extensions_used INTEGER NOT NULL,
    void_offer_after_days INTEGER NOT NULL,
    lot_id TEXT,
    home_id TEXT,
    postcode_district TEXT,
    let_by TEXT NOT NULL,
    let_at TIMESTAMP NOT NULL
);
CREATE INDEX block_contracts_partnership ON block_contracts (partnership, let_at);

-- Each bed: the council it is held for and how it stands now. `placement_id` is the child in
-- it (or moving in); `void_from` the first day of the current void (NULL while occupied);
-- `offered_on` is set when the sweep offers the current void to partners (NULL again when a
-- new void starts), so each void is offered once whichever replica sweeps.
CREATE TABLE block_beds (
    block_contract_id TEXT NOT NULL REFERENCES block_contracts (id),
    bed INTEGER NOT NULL,
    held_for TEXT NOT NULL,
    placement_id TEXT,
    void_from DATE,
    offered_on DATE,
    offered_to TEXT,
    PRIMARY KEY (block_contract_id, bed)
);
CREATE INDEX block_beds_void ON block_beds (void_from, offered_on);

-- Who was in each bed when (the child's first day to their last night; open while they are
-- there): what realised savings and the cost of voids are counted from.
CREATE TABLE bed_stays (
    id TEXT PRIMARY KEY,
    block_contract_id TEXT NOT NULL REFERENCES block_contracts (id),
    bed INTEGER NOT NULL,
    placement_id TEXT NOT NULL UNIQUE,
    council TEXT NOT NULL,
    from_date DATE NOT NULL,
    to_date DATE
);
CREATE INDEX bed_stays_bed ON bed_stays (block_contract_id, bed, from_date);

-- Extension options used.
CREATE TABLE block_contract_extensions (
    id TEXT PRIMARY KEY,
    block_contract_id TEXT NOT NULL REFERENCES block_contracts (id),
    previous_end_date DATE NOT NULL,
    new_end_date DATE NOT NULL,
    extended_by TEXT NOT NULL,
    extended_at TIMESTAMP NOT NULL
);
CREATE INDEX block_contract_extensions_contract ON block_contract_extensions (block_contract_id);
