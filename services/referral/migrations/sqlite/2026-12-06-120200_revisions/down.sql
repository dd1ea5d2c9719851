DROP INDEX referral_history_referral_id;
CREATE INDEX referral_history_referral ON referral_history (referral_id, at);
DROP INDEX referral_reads_referral_id;
CREATE INDEX referral_reads_referral ON referral_reads (referral_id, read_at);
DROP INDEX referrals_council_status_id;
DROP INDEX referrals_council_id;
CREATE INDEX referrals_council_status ON referrals (council, status, created_at);
CREATE INDEX referrals_council ON referrals (council, created_at);
ALTER TABLE referrals DROP COLUMN revision;
