-- A withdrawn referral's competitions were closed with the words "referral withdrawn"; the
-- close reason is now a code (competition.closed carries codes, never a council's words).
UPDATE competitions SET closed_reason = 'referral_withdrawn' WHERE closed_reason = 'referral withdrawn';
