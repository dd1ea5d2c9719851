-- The referral's revision (issue 13, ADR 0004): raised by one at every change of the
-- referral, compare-and-set against the one a write read (a PUT's or re-route's If-Match
-- names it); a GET answers it as the ETag.
ALTER TABLE referrals ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;

-- Keyset pages: a council's referrals newest first (of one status, or all), and a
-- referral's reads and history oldest first, each on its UUIDv7 id.
DROP INDEX referrals_council;
DROP INDEX referrals_council_status;
CREATE INDEX referrals_council_id ON referrals (council, id);
CREATE INDEX referrals_council_status_id ON referrals (council, status, id);
DROP INDEX referral_reads_referral;
CREATE INDEX referral_reads_referral_id ON referral_reads (referral_id, id);
DROP INDEX referral_history_referral;
CREATE INDEX referral_history_referral_id ON referral_history (referral_id, id);
