-- The ledger summed by partnership, year, period, budget line, council and attribution,
-- kept in step with commitment_lines in the same transaction (each source's recompute adds
-- its change). A monitoring report reads these few rows, not every line: one partnership's
-- year is at most 12 × lines × councils × 3 rows however many placements it has.
CREATE TABLE ledger_totals (
    partnership TEXT NOT NULL,
    year INTEGER NOT NULL,
    period INTEGER NOT NULL,
    budget_line TEXT NOT NULL,
    council TEXT NOT NULL,
    attribution TEXT NOT NULL,
    amount_pence BIGINT NOT NULL,
    PRIMARY KEY (partnership, year, period, budget_line, council, attribution)
);
INSERT INTO ledger_totals (partnership, year, period, budget_line, council, attribution, amount_pence)
SELECT partnership, year, period, budget_line, council, attribution, SUM(amount_pence)
FROM commitment_lines
GROUP BY partnership, year, period, budget_line, council, attribution;
