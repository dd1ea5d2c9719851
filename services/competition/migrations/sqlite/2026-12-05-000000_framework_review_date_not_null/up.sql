-- frameworks.review_date NOT NULL, as on PostgreSQL since 2026-01-07-000000_call_off, which
-- filled it on SQLite but could not make it NOT NULL there (found by
-- services/hub/tests/schema.rs comparing the two migration sets). SQLite cannot add the
-- constraint to a column, so the table is rebuilt as SQLite documents ("Making Other Kinds
-- Of Table Schema Changes"): with foreign keys off, new table, copy, drop, rename, in one
-- transaction. Foreign keys must be off for the drop: lots, admission rounds and
-- competitions refer to frameworks (id), and SQLite counts the dropped parent's rows as
-- broken references even after the new table takes its name. Their REFERENCES clauses name
-- `frameworks`, so they lead to the new table; every id is copied as it was. The pragma
-- cannot change inside a transaction, so this migration runs outside diesel's (metadata.toml)
-- and opens its own. frameworks has no index or trigger of its own to recreate.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE frameworks_new (
    id TEXT PRIMARY KEY,
    partnership TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    lead_commissioner TEXT NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    review_date DATE NOT NULL,
    purchasing_bodies TEXT
);

-- The service has always written a review date; one missing would take call_off's default.
INSERT INTO frameworks_new (id, partnership, name, kind, lead_commissioner, start_date,
                            end_date, created_by, created_at, review_date, purchasing_bodies)
SELECT id, partnership, name, kind, lead_commissioner, start_date, end_date, created_by,
       created_at, COALESCE(review_date, date(start_date, '+2 years')), purchasing_bodies
FROM frameworks;

DROP TABLE frameworks;
ALTER TABLE frameworks_new RENAME TO frameworks;
COMMIT;
PRAGMA foreign_keys = ON;
