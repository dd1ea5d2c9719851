-- Back to a nullable review_date (as 2026-01-07-000000_call_off left it), by the same rebuild.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE frameworks_old (
    id TEXT PRIMARY KEY,
    partnership TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    lead_commissioner TEXT NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    review_date DATE,
    purchasing_bodies TEXT
);
INSERT INTO frameworks_old SELECT id, partnership, name, kind, lead_commissioner, start_date,
    end_date, created_by, created_at, review_date, purchasing_bodies FROM frameworks;
DROP TABLE frameworks;
ALTER TABLE frameworks_old RENAME TO frameworks;
COMMIT;
PRAGMA foreign_keys = ON;
