-- An extension option used on a block contract: the beds are committed to `new_end_date`.
-- May arrive before the contract itself; one row per extension number.
CREATE TABLE block_contract_extensions (
    block_contract_id TEXT NOT NULL,
    extensions_used INTEGER NOT NULL,
    partnership TEXT NOT NULL,
    previous_end_date DATE NOT NULL,
    new_end_date DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (block_contract_id, extensions_used)
);
