DROP INDEX competitions_council_id;
ALTER TABLE vacancies DROP COLUMN revision;
ALTER TABLE homes DROP COLUMN revision;
ALTER TABLE competitions DROP COLUMN revision;
