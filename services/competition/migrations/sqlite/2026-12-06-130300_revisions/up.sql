-- Revisions of what users edit in place (issue 13, ADR 0004): a competition's criteria and
-- preselection, a provider's homes and vacancies. Each write raises the revision by one,
-- compare-and-set against the one its If-Match names; a GET answers it as the ETag.
ALTER TABLE competitions ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
ALTER TABLE homes ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
ALTER TABLE vacancies ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;

-- A council's competitions, newest first, a page at a time (keyset on the UUIDv7 id).
CREATE INDEX competitions_council_id ON competitions (council, id);
