-- Contracts let for the whole partnership are the partnership's, not the lead council's
-- (issue 10, rule 14): a service contract's lines, and a block bed's while it is empty and
-- held for no council, carry the partnership's code where a council's would be. Lines
-- recorded before are moved: every service contract line, and the lead council's void lines
-- of a bed no `bed_void` ever held for the lead council (a bed it did hold keeps its lines
-- until the block contract's next fact recomputes them). Then the totals are rebuilt.
UPDATE commitment_lines SET council = partnership
WHERE attribution = 'pooled'
   OR (attribution = 'void' AND source_kind = 'block_bed'
       AND council = (SELECT b.lead_council FROM block_contracts b
                      WHERE b.block_contract_id = commitment_lines.source_id)
       AND NOT EXISTS (SELECT 1 FROM bed_events e
                       WHERE e.block_contract_id = commitment_lines.source_id
                         AND e.bed = commitment_lines.bed AND e.state = 'void'
                         AND e.council = commitment_lines.council));
DELETE FROM ledger_totals;
INSERT INTO ledger_totals (partnership, year, period, budget_line, council, attribution, amount_pence)
SELECT partnership, year, period, budget_line, council, attribution, SUM(amount_pence)
FROM commitment_lines
GROUP BY partnership, year, period, budget_line, council, attribution;
