DROP TABLE ledger_snapshots;
ALTER TABLE commitment_lines DROP COLUMN cause_event_id;
ALTER TABLE commitment_lines DROP COLUMN cause_event_type;
ALTER TABLE commitment_lines DROP COLUMN adjusts_period;
ALTER TABLE commitment_lines DROP COLUMN adjusts_year;
