-- The contract service's replica of the referral facts it needs to place a child in a block
-- bed (services never call each other): fed by referral.submitted and referral.withdrawn from
-- the referral service (and referral.closed), and competition.opened / closed / awarded
-- from the competition service. A row exists once any of them has been seen: each is about a submitted referral.
-- `withdrawn` and `closed` never go back. `competition_open` follows the latest competition event by
-- `occurred_at` (`competition_at`), so one arriving late, after a retry, changes nothing.
CREATE TABLE referral_facts (
    referral_id TEXT PRIMARY KEY NOT NULL,
    council TEXT NOT NULL,
    partnership TEXT NOT NULL,
    withdrawn BOOLEAN NOT NULL DEFAULT 0,
    closed BOOLEAN NOT NULL DEFAULT 0,
    competition_id TEXT,
    competition_open BOOLEAN NOT NULL DEFAULT 0,
    competition_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
