-- A closed period never changes (issue 10, rule 10): a later fact's difference to a closed
-- period is posted as an adjustment line in the first open period after it, tagged with the
-- period it adjusts and the fact (event type and id) that caused it. Ordinary lines have
-- none of these.
ALTER TABLE commitment_lines ADD COLUMN adjusts_year INTEGER;
ALTER TABLE commitment_lines ADD COLUMN adjusts_period INTEGER;
ALTER TABLE commitment_lines ADD COLUMN cause_event_type TEXT;
ALTER TABLE commitment_lines ADD COLUMN cause_event_id TEXT;
-- The ledger totals of a partnership's year as they stood when a period was closed: the
-- monitoring report as at a closed period reads these, so it is the same every time it is
-- run. Periods closed before this migration are given the totals as they stand now.
CREATE TABLE ledger_snapshots (
    partnership TEXT NOT NULL,
    year INTEGER NOT NULL,
    as_at INTEGER NOT NULL,
    period INTEGER NOT NULL,
    budget_line TEXT NOT NULL,
    council TEXT NOT NULL,
    attribution TEXT NOT NULL,
    amount_pence BIGINT NOT NULL,
    PRIMARY KEY (partnership, year, as_at, period, budget_line, council, attribution)
);
INSERT INTO ledger_snapshots (partnership, year, as_at, period, budget_line, council, attribution, amount_pence)
SELECT t.partnership, t.year, c.period, t.period, t.budget_line, t.council, t.attribution, t.amount_pence
FROM ledger_totals t
JOIN period_closures c ON c.partnership = t.partnership AND c.year = t.year
WHERE t.amount_pence <> 0;
