-- The whole call-off process: purchasing bodies, review dates and admission rounds of
-- frameworks; Provider Responses priced by need level with homes or carers; live vacancies;
-- preselected competitions with their criteria; scored bids; closures, direct awards and
-- their reviews.

-- Frameworks: the review date (the LCR PPA is reviewed every 2 years) and the councils that
-- may call off (NULL on frameworks set up before this migration: the partnership's members).
ALTER TABLE frameworks ADD COLUMN review_date DATE;
UPDATE frameworks SET review_date = (start_date + INTERVAL '2 years')::date;
ALTER TABLE frameworks ALTER COLUMN review_date SET NOT NULL;
ALTER TABLE frameworks ADD COLUMN purchasing_bodies TEXT;

-- Lots: foster care by age band, cohort purchases, and the criteria a call-off starts from.
ALTER TABLE lots ADD COLUMN min_age_years INTEGER;
ALTER TABLE lots ADD COLUMN max_age_years INTEGER;
ALTER TABLE lots ADD COLUMN cohort TEXT;
ALTER TABLE lots ADD COLUMN default_criteria TEXT;

-- Admission rounds: the set-up round opens with the framework; open systems open more.
CREATE TABLE admission_rounds (
    id TEXT PRIMARY KEY,
    framework_id TEXT NOT NULL REFERENCES frameworks (id),
    kind TEXT NOT NULL,
    note TEXT,
    closes_on DATE,
    opened_by TEXT NOT NULL,
    opened_at TIMESTAMP NOT NULL,
    closed_by TEXT,
    closed_at TIMESTAMP
);
CREATE INDEX admission_rounds_framework ON admission_rounds (framework_id);
INSERT INTO admission_rounds (id, framework_id, kind, opened_by, opened_at)
    SELECT id || '-setup', id, 'setup', created_by, created_at FROM frameworks;

-- Provider Responses: weekly prices by need level (JSON object need level -> pence), capacity.
ALTER TABLE admissions ADD COLUMN prices TEXT NOT NULL DEFAULT '{}';
UPDATE admissions SET prices = '{"standard":' || weekly_price_pence || '}';
ALTER TABLE admissions ADD COLUMN capacity INTEGER;
ALTER TABLE admissions ADD COLUMN round_id TEXT;

-- A provider's homes (or fostering households) offered under a lot.
CREATE TABLE homes (
    id TEXT PRIMARY KEY,
    lot_id TEXT NOT NULL REFERENCES lots (id),
    provider_id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    postcode_district TEXT NOT NULL,
    registered_places INTEGER NOT NULL,
    occupied_places INTEGER NOT NULL,
    genders_accepted TEXT NOT NULL,
    min_age_years INTEGER NOT NULL,
    max_age_years INTEGER NOT NULL,
    specialisms TEXT NOT NULL,
    ofsted_rating TEXT,
    emergency_capacity BOOLEAN NOT NULL,
    educational_provision TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX homes_lot_provider ON homes (lot_id, provider_id);

-- Live vacancies: what replaces the monthly spreadsheet.
CREATE TABLE vacancies (
    id TEXT PRIMARY KEY,
    provider_id TEXT NOT NULL,
    lot_id TEXT NOT NULL REFERENCES lots (id),
    home_id TEXT NOT NULL REFERENCES homes (id),
    available_from DATE NOT NULL,
    expires_on DATE NOT NULL,
    suits TEXT NOT NULL,
    places INTEGER NOT NULL,
    status TEXT NOT NULL,
    withdrawn_reason TEXT,
    updated_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX vacancies_lot ON vacancies (lot_id, status, expires_on);

-- Competitions: the route, the need level prices are judged at, the criteria, the
-- requirement (the referral.submitted payload: codes and bands, no personal data), the
-- preselection filters and who was left out and why, closure, and award details.
ALTER TABLE competitions ADD COLUMN route TEXT NOT NULL DEFAULT 'mini_competition';
ALTER TABLE competitions ADD COLUMN need_level TEXT NOT NULL DEFAULT 'standard';
ALTER TABLE competitions ADD COLUMN criteria TEXT NOT NULL
    DEFAULT '[{"criterion":"price","mode":"scored","weight":60},{"criterion":"quality","mode":"scored","weight":40}]';
ALTER TABLE competitions ADD COLUMN requirement TEXT;
ALTER TABLE competitions ADD COLUMN preselection TEXT;
ALTER TABLE competitions ADD COLUMN left_out TEXT;
ALTER TABLE competitions ADD COLUMN opened_at TIMESTAMP;
ALTER TABLE competitions ADD COLUMN opened_by TEXT;
ALTER TABLE competitions ADD COLUMN closed_reason TEXT;
ALTER TABLE competitions ADD COLUMN direct BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE competitions ADD COLUMN awarded_rate_pence BIGINT;
ALTER TABLE competitions ADD COLUMN awarded_start_date DATE;
ALTER TABLE competitions ADD COLUMN awarded_at TIMESTAMP;
ALTER TABLE competitions ADD COLUMN review_date DATE;
ALTER TABLE competitions ADD COLUMN reopened_from TEXT;
UPDATE competitions SET opened_at = created_at WHERE status <> 'draft';

-- Bids: the home or carers offered (position kept as bid), an answer per criterion, the
-- Provider Response rate the price was checked against and the evidence for a variation.
ALTER TABLE bids ADD COLUMN home_id TEXT;
ALTER TABLE bids ADD COLUMN home_name TEXT;
ALTER TABLE bids ADD COLUMN home_latitude DOUBLE PRECISION;
ALTER TABLE bids ADD COLUMN home_longitude DOUBLE PRECISION;
ALTER TABLE bids ADD COLUMN answers TEXT NOT NULL DEFAULT '{}';
ALTER TABLE bids ADD COLUMN provider_response_pence BIGINT;
ALTER TABLE bids ADD COLUMN price_variation_evidence TEXT;

-- The commissioner's marks: points (0..=weight) on scored criteria, pass/fail on gates.
CREATE TABLE bid_scores (
    bid_id TEXT NOT NULL REFERENCES bids (id) ON DELETE CASCADE,
    criterion TEXT NOT NULL,
    points INTEGER,
    passed BOOLEAN,
    reason TEXT NOT NULL,
    scored_by TEXT NOT NULL,
    scored_at TIMESTAMP NOT NULL,
    PRIMARY KEY (bid_id, criterion)
);

-- Direct awards (emergencies): who, at what rate, why, and when it is reviewed.
CREATE TABLE direct_awards (
    competition_id TEXT PRIMARY KEY REFERENCES competitions (id),
    provider_id TEXT NOT NULL,
    weekly_rate_pence BIGINT NOT NULL,
    start_date DATE NOT NULL,
    justification TEXT NOT NULL,
    review_date DATE NOT NULL,
    awarded_by TEXT NOT NULL,
    awarded_at TIMESTAMP NOT NULL
);

-- What happened to a competition and who did it: opened, closed, reopened, rerouted,
-- direct award reviews. `detail` is JSON.
CREATE TABLE competition_log (
    id TEXT PRIMARY KEY,
    competition_id TEXT NOT NULL REFERENCES competitions (id),
    action TEXT NOT NULL,
    reason TEXT,
    detail TEXT NOT NULL,
    actor TEXT NOT NULL,
    org TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX competition_log_competition ON competition_log (competition_id);
