-- A variation of a live service contract's value: `value_change_pence` (negative for a
-- reduction) phased evenly by day over `effective_on ..= phased_to` (the end date when it was
-- varied), cut by a termination like the contract's own value. May arrive before the
-- contract itself; one row per variation.
CREATE TABLE service_contract_variations (
    contract_id TEXT NOT NULL,
    variation_id TEXT NOT NULL,
    partnership TEXT NOT NULL,
    effective_on DATE NOT NULL,
    phased_to DATE NOT NULL,
    value_change_pence BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (contract_id, variation_id)
);
