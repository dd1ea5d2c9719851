-- A placement's Individual Placement Agreement: one per placement, with its review schedule
-- (set when a version is approved, and by each review recorded). `due_raised_for` and
-- `overdue_raised_for` are the review date the sweep last raised as due / overdue, so each
-- is raised once per review date whichever replica sweeps.
CREATE TABLE ipas (
    id TEXT PRIMARY KEY,
    placement_id TEXT NOT NULL UNIQUE REFERENCES placements (id),
    council TEXT NOT NULL,
    partnership TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    approved_version INTEGER,
    review_frequency_months INTEGER,
    next_review_on DATE,
    due_raised_for DATE,
    overdue_raised_for DATE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ipas_next_review ON ipas (next_review_on);
CREATE INDEX ipas_council ON ipas (council, next_review_on);

-- Each version of an IPA: drafted by the council, signed by the provider, approved by the
-- child's social worker; who and when for each step. `extras` is a JSON array of the
-- additional services with their weekly costs. `contact_arrangements` is personal data.
CREATE TABLE ipa_versions (
    ipa_id TEXT NOT NULL REFERENCES ipas (id),
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    weekly_rate_pence BIGINT NOT NULL,
    extras TEXT NOT NULL,
    extras_weekly_pence BIGINT NOT NULL,
    contact_arrangements TEXT NOT NULL,
    review_frequency_months INTEGER NOT NULL,
    effective_from DATE NOT NULL,
    change_reason TEXT,
    drafted_by TEXT NOT NULL,
    drafted_by_org TEXT NOT NULL,
    drafted_at TIMESTAMP NOT NULL,
    provider_signed_by TEXT,
    provider_signed_at TIMESTAMP,
    approved_by TEXT,
    approved_at TIMESTAMP,
    withdrawn_by TEXT,
    withdrawn_at TIMESTAMP,
    PRIMARY KEY (ipa_id, version)
);

-- Reviews held: who, when, what they concluded, and the next review date it set.
CREATE TABLE ipa_reviews (
    id TEXT PRIMARY KEY,
    ipa_id TEXT NOT NULL REFERENCES ipas (id),
    reviewed_on DATE NOT NULL,
    was_due_on DATE,
    outcome TEXT NOT NULL,
    notes TEXT,
    next_review_on DATE NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_by_org TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX ipa_reviews_ipa ON ipa_reviews (ipa_id, reviewed_on);
