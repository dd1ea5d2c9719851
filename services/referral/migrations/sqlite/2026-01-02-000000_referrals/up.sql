-- A referral: the shared LCR referral document. The child's personal data lives only in
-- referral_versions.document, in this service's database.
CREATE TABLE referrals (
    id TEXT PRIMARY KEY,
    council TEXT NOT NULL,
    partnership TEXT NOT NULL,
    framework_id TEXT NOT NULL,
    lot_id TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    route TEXT NOT NULL,
    route_reason TEXT NOT NULL,
    urgency TEXT NOT NULL,
    awarded_provider TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX referrals_council ON referrals (council, created_at);

CREATE TABLE referral_versions (
    referral_id TEXT NOT NULL REFERENCES referrals (id),
    version INTEGER NOT NULL,
    document TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_by_org TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (referral_id, version)
);

-- Providers invited to bid on a referral (from competition.opened), and on which version.
CREATE TABLE referral_invitations (
    referral_id TEXT NOT NULL REFERENCES referrals (id),
    provider_id TEXT NOT NULL,
    competition_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    invited_at TIMESTAMP NOT NULL,
    PRIMARY KEY (referral_id, provider_id)
);

-- Every read of a referral: who read which version, in which view, when.
CREATE TABLE referral_reads (
    id TEXT PRIMARY KEY,
    referral_id TEXT NOT NULL REFERENCES referrals (id),
    version INTEGER NOT NULL,
    reader_sub TEXT NOT NULL,
    reader_org TEXT NOT NULL,
    view TEXT NOT NULL,
    read_at TIMESTAMP NOT NULL
);
CREATE INDEX referral_reads_referral ON referral_reads (referral_id, read_at);
