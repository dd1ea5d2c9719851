DROP TABLE referral_history;
ALTER TABLE referral_versions DROP COLUMN kind;
ALTER TABLE referral_versions DROP COLUMN route_reason;
ALTER TABLE referral_versions DROP COLUMN route;
DROP INDEX referrals_council_status;
ALTER TABLE referrals DROP COLUMN competition_at;
ALTER TABLE referrals DROP COLUMN competition_id;
ALTER TABLE referrals DROP COLUMN status_reason;
