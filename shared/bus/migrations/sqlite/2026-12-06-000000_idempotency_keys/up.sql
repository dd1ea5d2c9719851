-- The first answer to each creating request sent with an `Idempotency-Key`, per calling
-- organisation, written in the transaction that made the effect: a retry with the same key
-- and the same request gets this answer back and makes no second effect (issue 13).
CREATE TABLE idempotency_keys (
    org TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    location TEXT,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (org, idempotency_key)
);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_ms);
