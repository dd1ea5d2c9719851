ALTER TABLE ipas DROP COLUMN revision;
ALTER TABLE service_contracts DROP COLUMN revision;
ALTER TABLE orders DROP COLUMN revision;
