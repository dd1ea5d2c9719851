-- The latest time (the contract service's `occurred_at`) each block-contract bed was filled,
-- so that an offer of the bed made before that fill but delivered after it (a retried
-- `contract.bed_offered`) is not listed as a vacancy of a bed a child already uses.
CREATE TABLE bed_fills (
    block_contract_id TEXT NOT NULL,
    bed INTEGER NOT NULL,
    last_filled_at TIMESTAMP NOT NULL,
    PRIMARY KEY (block_contract_id, bed)
);
