ALTER TABLE service_contract_history DROP COLUMN phased_to;
ALTER TABLE service_contract_history DROP COLUMN value_change_pence;
