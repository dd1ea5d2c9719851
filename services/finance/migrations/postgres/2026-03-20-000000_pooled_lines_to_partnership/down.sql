UPDATE commitment_lines SET council = (SELECT c.lead_council FROM service_contracts c
                                       WHERE c.contract_id = commitment_lines.source_id)
WHERE attribution = 'pooled' AND source_kind = 'service_contract' AND council = partnership;
UPDATE commitment_lines SET council = (SELECT b.lead_council FROM block_contracts b
                                       WHERE b.block_contract_id = commitment_lines.source_id)
WHERE attribution = 'void' AND source_kind = 'block_bed' AND council = partnership;
DELETE FROM ledger_totals;
INSERT INTO ledger_totals (partnership, year, period, budget_line, council, attribution, amount_pence)
SELECT partnership, year, period, budget_line, council, attribution, SUM(amount_pence)
FROM commitment_lines
GROUP BY partnership, year, period, budget_line, council, attribution;
