DROP TABLE block_contract_extensions;
DROP TABLE bed_stays;
DROP TABLE block_beds;
DROP TABLE block_contracts;
