-- Beds of block contracts that a council offers to its partners (contract.bed_offered),
-- listed as vacancies to the councils they were offered to until the bed is filled
-- (contract.bed_filled) or the offer expires. `id` is the vacancy's id.
CREATE TABLE offered_beds (
    id TEXT PRIMARY KEY,
    partnership TEXT NOT NULL,
    block_contract_id TEXT NOT NULL,
    bed INTEGER NOT NULL,
    provider_id TEXT NOT NULL,
    offered_by TEXT NOT NULL,
    -- JSON array of GSS codes.
    offered_to TEXT NOT NULL,
    lot_id TEXT,
    home_id TEXT,
    postcode_district TEXT NOT NULL,
    available_from DATE NOT NULL,
    expires_on DATE NOT NULL,
    -- `live` or `filled`.
    status TEXT NOT NULL,
    filled_by TEXT,
    filled_on DATE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX offered_beds_bed ON offered_beds (block_contract_id, bed, status);
CREATE INDEX offered_beds_live ON offered_beds (status, expires_on);
