-- Nothing to do here: frameworks.review_date has been NOT NULL on PostgreSQL since
-- 2026-01-07-000000_call_off. The SQLite half of this pair brings SQLite level with it
-- (found by services/hub/tests/schema.rs comparing the two migration sets).
SELECT 1;
