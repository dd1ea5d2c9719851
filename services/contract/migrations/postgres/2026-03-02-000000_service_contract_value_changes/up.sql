-- What a history entry adds to the contract's value, phased evenly by day over
-- `effective_on ..= phased_to` as finance phases it: going live, the value over the term; an
-- extension, its added value over the extension; a variation of a live contract, its change
-- (negative for a reduction) to the end date the contract had then. A variation of a draft
-- has its change without `phased_to`: the change went into the value the contract is let at.
-- The entries with `phased_to` are the contract's phasing, from which what is left to phase
-- from a day is worked out.
ALTER TABLE service_contract_history ADD COLUMN value_change_pence BIGINT;
ALTER TABLE service_contract_history ADD COLUMN phased_to DATE;
UPDATE service_contract_history
SET value_change_pence = CAST(CAST(detail AS json) ->> 'value_pence' AS BIGINT),
    phased_to = CAST(CAST(detail AS json) ->> 'end_date' AS DATE)
WHERE kind = 'live';
UPDATE service_contract_history
SET value_change_pence = CAST(CAST(detail AS json) ->> 'added_value_pence' AS BIGINT),
    phased_to = CAST(CAST(detail AS json) ->> 'new_end_date' AS DATE)
WHERE kind = 'extension';
