-- A placement is made under an order or in a bed of a block contract (then without an
-- order); it records the home (and its position, which is not the child's data: it is what
-- "placed locally" is judged by), the weekly cost agreed in its latest approved IPA version
-- and from when, and how it ended: the child's last night, the reason and who recorded it.
-- SQLite cannot drop a NOT NULL constraint, so the table is rebuilt.
CREATE TABLE placements_new (
    id TEXT PRIMARY KEY,
    order_id TEXT UNIQUE REFERENCES orders (id),
    referral_id TEXT NOT NULL,
    council TEXT NOT NULL,
    partnership TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    weekly_rate_pence BIGINT NOT NULL,
    start_date DATE NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_by_org TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    extras_weekly_pence BIGINT NOT NULL DEFAULT 0,
    rate_effective_from DATE,
    block_contract_id TEXT,
    bed INTEGER,
    home_id TEXT,
    home_latitude DOUBLE PRECISION,
    home_longitude DOUBLE PRECISION,
    end_date DATE,
    end_reason TEXT,
    end_note TEXT,
    ended_by TEXT,
    ended_at TIMESTAMP
);
INSERT INTO placements_new (id, order_id, referral_id, council, partnership, provider_id,
    weekly_rate_pence, start_date, status, created_by, created_by_org, created_at)
SELECT id, order_id, referral_id, council, partnership, provider_id,
    weekly_rate_pence, start_date, status, created_by, created_by_org, created_at
FROM placements;
DROP TABLE placements;
ALTER TABLE placements_new RENAME TO placements;
CREATE INDEX placements_council ON placements (council, created_at);
CREATE INDEX placements_referral ON placements (council, referral_id, start_date);
