// Generated from this crate's migrations: `diesel print-schema` (settings in diesel.toml)
// over a fresh PostgreSQL database migrated with migrations/postgres. Do not edit; change the
// migrations (both backends) and regenerate with
//   HUB_WRITE_SCHEMA=1 cargo nextest run -p hub --test schema
// (README, "Changing the database"). services/hub/tests/schema.rs checks it.
// @generated automatically by Diesel CLI.

diesel::table! {
    dead_letters (id) {
        id -> Text,
        event_id -> Text,
        consumer -> Text,
        event_type -> Text,
        envelope -> Text,
        error -> Text,
        attempts -> Int4,
        dead_ms -> Int8,
    }
}

diesel::table! {
    idempotency_keys (org, idempotency_key) {
        org -> Text,
        idempotency_key -> Text,
        fingerprint -> Text,
        status -> Int4,
        body -> Text,
        location -> Nullable<Text>,
        created_ms -> Int8,
    }
}

diesel::table! {
    inbox (event_id, consumer) {
        event_id -> Text,
        consumer -> Text,
        event_type -> Text,
        handled_ms -> Int8,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        event_type -> Text,
        envelope -> Text,
        created_ms -> Int8,
        claimed_until_ms -> Nullable<Int8>,
        published_ms -> Nullable<Int8>,
        attempts -> Int4,
        last_error -> Nullable<Text>,
        claimed_by -> Nullable<Text>,
    }
}

diesel::table! {
    relay_heartbeats (instance) {
        instance -> Text,
        service -> Text,
        beat_ms -> Int8,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    dead_letters,
    idempotency_keys,
    inbox,
    outbox,
    relay_heartbeats,
);
