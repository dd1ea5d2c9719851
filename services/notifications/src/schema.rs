// Generated from this crate's migrations: `diesel print-schema` (settings in diesel.toml)
// over a fresh PostgreSQL database migrated with migrations/postgres. Do not edit; change the
// migrations (both backends) and regenerate with
//   HUB_WRITE_SCHEMA=1 cargo nextest run -p hub --test schema
// (README, "Changing the database"). services/hub/tests/schema.rs checks it.
// @generated automatically by Diesel CLI.

diesel::table! {
    competition_invitees (competition_id, provider_id) {
        competition_id -> Text,
        provider_id -> Text,
    }
}

diesel::table! {
    tracked_competitions (competition_id) {
        competition_id -> Text,
        referral_id -> Text,
        council -> Text,
        lot_id -> Nullable<Text>,
        lot_name -> Nullable<Text>,
        referral_version -> Nullable<Int4>,
        status -> Text,
        awarded_provider -> Nullable<Text>,
        opened_at -> Timestamp,
        status_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Text,
        delivery_id -> Text,
        attempt -> Int4,
        attempted_at -> Timestamp,
        status_code -> Nullable<Int4>,
        error -> Nullable<Text>,
        latency_ms -> Int8,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        endpoint_id -> Text,
        event_id -> Text,
        event_type -> Text,
        body -> Text,
        status -> Text,
        attempts -> Int4,
        next_attempt_ms -> Int8,
        claimed_until_ms -> Nullable<Int8>,
        first_attempt_ms -> Nullable<Int8>,
        last_status_code -> Nullable<Int4>,
        last_error -> Nullable<Text>,
        delivered_ms -> Nullable<Int8>,
        created_at -> Timestamp,
        traceparent -> Nullable<Text>,
        tracestate -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        owner_org -> Text,
        url -> Text,
        event_types -> Text,
        description -> Nullable<Text>,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_until_ms -> Nullable<Int8>,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        disabled_at -> Nullable<Timestamp>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revision -> Int8,
    }
}

diesel::joinable!(competition_invitees -> tracked_competitions (competition_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));

diesel::allow_tables_to_appear_in_same_query!(
    competition_invitees,
    tracked_competitions,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
);
