-- Payments summed by partnership, year, period, budget line and council, moved in the same
-- transaction as each upload's payments: the monitoring report reads these rows, not every
-- payment.
CREATE TABLE payment_totals (
    partnership TEXT NOT NULL,
    year INTEGER NOT NULL,
    period INTEGER NOT NULL,
    budget_line TEXT NOT NULL,
    council TEXT NOT NULL,
    amount_pence BIGINT NOT NULL,
    PRIMARY KEY (partnership, year, period, budget_line, council)
);
INSERT INTO payment_totals (partnership, year, period, budget_line, council, amount_pence)
SELECT partnership, year, period, budget_line, council, SUM(amount_pence)
FROM payments
GROUP BY partnership, year, period, budget_line, council;
