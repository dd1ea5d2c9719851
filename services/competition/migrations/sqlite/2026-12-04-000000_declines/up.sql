-- Issue 10 rule 1: invited providers may decline (with a reason code), and a commissioner
-- may close bidding before the deadline with a reason code the invited providers are told.
CREATE TABLE invitation_declines (
    competition_id TEXT NOT NULL REFERENCES competitions (id),
    provider_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    note TEXT,
    declined_by TEXT NOT NULL,
    declined_at TIMESTAMP NOT NULL,
    PRIMARY KEY (competition_id, provider_id)
);
ALTER TABLE competitions ADD COLUMN bidding_closed_at TIMESTAMP;
ALTER TABLE competitions ADD COLUMN bidding_closed_reason TEXT;
