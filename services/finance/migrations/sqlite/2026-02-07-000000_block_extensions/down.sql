DROP TABLE block_contract_extensions;
