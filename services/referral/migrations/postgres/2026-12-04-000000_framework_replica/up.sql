-- The referral service's replica of the competition service's frameworks and purchasing
-- systems (fed by `competition.framework_published`): what it needs to refuse a referral that
-- would go nowhere. `purchasing_bodies` and `lot_ids` are JSON arrays; `as_of` is the
-- `occurred_at` of the event that wrote the row (an older event changes nothing).
CREATE TABLE known_frameworks (
    id TEXT PRIMARY KEY,
    partnership TEXT NOT NULL,
    purchasing_bodies TEXT NOT NULL,
    lot_ids TEXT NOT NULL,
    as_of TIMESTAMP NOT NULL
);
