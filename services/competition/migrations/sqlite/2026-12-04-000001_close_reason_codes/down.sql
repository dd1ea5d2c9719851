UPDATE competitions SET closed_reason = 'referral withdrawn' WHERE closed_reason = 'referral_withdrawn';
