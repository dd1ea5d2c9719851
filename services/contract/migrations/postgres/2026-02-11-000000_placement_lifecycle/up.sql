-- A placement is made under an order or in a bed of a block contract (then without an
-- order); it records the home (and its position, which is not the child's data: it is what
-- "placed locally" is judged by), the weekly cost agreed in its latest approved IPA version
-- and from when, and how it ended: the child's last night, the reason and who recorded it.
ALTER TABLE placements ALTER COLUMN order_id DROP NOT NULL;
ALTER TABLE placements ADD COLUMN extras_weekly_pence BIGINT NOT NULL DEFAULT 0;
ALTER TABLE placements ADD COLUMN rate_effective_from DATE;
ALTER TABLE placements ADD COLUMN block_contract_id TEXT;
ALTER TABLE placements ADD COLUMN bed INTEGER;
ALTER TABLE placements ADD COLUMN home_id TEXT;
ALTER TABLE placements ADD COLUMN home_latitude DOUBLE PRECISION;
ALTER TABLE placements ADD COLUMN home_longitude DOUBLE PRECISION;
ALTER TABLE placements ADD COLUMN end_date DATE;
ALTER TABLE placements ADD COLUMN end_reason TEXT;
ALTER TABLE placements ADD COLUMN end_note TEXT;
ALTER TABLE placements ADD COLUMN ended_by TEXT;
ALTER TABLE placements ADD COLUMN ended_at TIMESTAMP;
CREATE INDEX placements_referral ON placements (council, referral_id, start_date);
