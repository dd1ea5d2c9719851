DROP TABLE referral_reads; DROP TABLE referral_invitations; DROP TABLE referral_versions; DROP TABLE referrals;
