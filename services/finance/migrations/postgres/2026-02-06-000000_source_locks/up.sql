-- One row per ledger source (a placement, a block contract, a service contract), updated at
-- the start of every transaction that records a fact about it: transactions about the same
-- source run one after another, so each recompute sees every fact committed before it
-- (competing consumers on PostgreSQL; SQLite serialises writes anyway).
CREATE TABLE source_locks (
    source TEXT PRIMARY KEY,
    writes BIGINT NOT NULL
);
