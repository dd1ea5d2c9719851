-- The referral lifecycle (issue 3): versions record the route and why; the referral keeps the
-- competition it is in and why its status last changed; every transition is kept.

-- Why the status last changed (a withdrawal's reason, a closed competition's reason, …).
-- Shown to the council's own staff only.
ALTER TABLE referrals ADD COLUMN status_reason TEXT;
-- The competition (or direct award) the referral is in or was last in, from the competition
-- service's events, and when the last of those events happened (its `occurred_at`): an
-- event older than that one arrived late (after a retry) and changes nothing.
ALTER TABLE referrals ADD COLUMN competition_id TEXT;
ALTER TABLE referrals ADD COLUMN competition_at TIMESTAMP;
CREATE INDEX referrals_council_status ON referrals (council, status, created_at);

-- Each version records the route in force and why (the options appraisal), and what made it:
-- `created` (the first version), `document` (PUT) or `route` (POST .../route).
ALTER TABLE referral_versions ADD COLUMN route TEXT NOT NULL DEFAULT '';
ALTER TABLE referral_versions ADD COLUMN route_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE referral_versions ADD COLUMN kind TEXT NOT NULL DEFAULT 'created';
UPDATE referral_versions SET
    route = (SELECT r.route FROM referrals r WHERE r.id = referral_versions.referral_id),
    route_reason = (SELECT r.route_reason FROM referrals r WHERE r.id = referral_versions.referral_id);

-- Every transition of a referral: who (a user, or the service whose event caused it), which
-- organisation, when, from which status to which, on which version, and why.
CREATE TABLE referral_history (
    id TEXT PRIMARY KEY,
    referral_id TEXT NOT NULL REFERENCES referrals (id),
    at TIMESTAMP NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    version INTEGER NOT NULL,
    actor TEXT NOT NULL,
    actor_org TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX referral_history_referral ON referral_history (referral_id, at);
