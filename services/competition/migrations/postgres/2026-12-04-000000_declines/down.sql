ALTER TABLE competitions DROP COLUMN bidding_closed_reason;
ALTER TABLE competitions DROP COLUMN bidding_closed_at;
DROP TABLE invitation_declines;
