DROP TABLE service_contract_history;
DROP TABLE service_contracts;
