-- Who a referral's later news goes to. Learnt from the competition service's events
-- (competition.opened / .awarded / .closed): each competition of a referral, its lot, the
-- referral version it opened on, its state, and the providers invited. `referral.updated`
-- goes to the invited providers of a referral's open competitions and to the winner of an
-- awarded one; nobody hears of a closed one's referral again. A competition may open again
-- under its id (reopened, or a reviewed direct award): the state is the one the latest event
-- (by its `occurred_at`, kept in `status_at`) says, so a late event changes nothing.
CREATE TABLE tracked_competitions (
    competition_id TEXT PRIMARY KEY,
    referral_id TEXT NOT NULL,
    council TEXT NOT NULL,
    -- Unknown (NULL) for a direct award, which opens no competition.
    lot_id TEXT,
    lot_name TEXT,
    -- The referral version it opened on (unknown for a direct award).
    referral_version INTEGER,
    -- open | awarded | closed
    status TEXT NOT NULL,
    awarded_provider TEXT,
    -- When the service first heard of it.
    opened_at TIMESTAMP NOT NULL,
    status_at TIMESTAMP NOT NULL
);
CREATE INDEX tracked_competitions_referral ON tracked_competitions (referral_id);

CREATE TABLE competition_invitees (
    competition_id TEXT NOT NULL REFERENCES tracked_competitions (competition_id),
    provider_id TEXT NOT NULL,
    PRIMARY KEY (competition_id, provider_id)
);
