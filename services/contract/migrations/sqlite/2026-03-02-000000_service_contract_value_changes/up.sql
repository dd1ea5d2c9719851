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
SET value_change_pence = CAST(json_extract(detail, '$.value_pence') AS BIGINT),
    phased_to = json_extract(detail, '$.end_date')
WHERE kind = 'live';
UPDATE service_contract_history
SET value_change_pence = CAST(json_extract(detail, '$.added_value_pence') AS BIGINT),
    phased_to = json_extract(detail, '$.new_end_date')
WHERE kind = 'extension';
