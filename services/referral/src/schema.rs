// Generated from this crate's migrations: `diesel print-schema` (settings in diesel.toml)
// over a fresh PostgreSQL database migrated with migrations/postgres. Do not edit; change the
// migrations (both backends) and regenerate with
//   HUB_WRITE_SCHEMA=1 cargo nextest run -p hub --test schema
// (README, "Changing the database"). services/hub/tests/schema.rs checks it.
// @generated automatically by Diesel CLI.

diesel::table! {
    known_frameworks (id) {
        id -> Text,
        partnership -> Text,
        purchasing_bodies -> Text,
        lot_ids -> Text,
        as_of -> Timestamp,
    }
}

diesel::table! {
    referral_history (id) {
        id -> Text,
        referral_id -> Text,
        at -> Timestamp,
        action -> Text,
        from_status -> Text,
        to_status -> Text,
        version -> Int4,
        actor -> Text,
        actor_org -> Text,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    referral_invitations (referral_id, provider_id) {
        referral_id -> Text,
        provider_id -> Text,
        competition_id -> Text,
        version -> Int4,
        invited_at -> Timestamp,
    }
}

diesel::table! {
    referral_reads (id) {
        id -> Text,
        referral_id -> Text,
        version -> Int4,
        reader_sub -> Text,
        reader_org -> Text,
        view -> Text,
        read_at -> Timestamp,
    }
}

diesel::table! {
    referral_versions (referral_id, version) {
        referral_id -> Text,
        version -> Int4,
        document -> Text,
        created_by -> Text,
        created_by_org -> Text,
        created_at -> Timestamp,
        route -> Text,
        route_reason -> Text,
        kind -> Text,
    }
}

diesel::table! {
    referrals (id) {
        id -> Text,
        council -> Text,
        partnership -> Text,
        framework_id -> Text,
        lot_id -> Text,
        status -> Text,
        version -> Int4,
        route -> Text,
        route_reason -> Text,
        urgency -> Text,
        awarded_provider -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        status_reason -> Nullable<Text>,
        competition_id -> Nullable<Text>,
        competition_at -> Nullable<Timestamp>,
        revision -> Int8,
    }
}

diesel::joinable!(referral_history -> referrals (referral_id));
diesel::joinable!(referral_invitations -> referrals (referral_id));
diesel::joinable!(referral_reads -> referrals (referral_id));
diesel::joinable!(referral_versions -> referrals (referral_id));

diesel::allow_tables_to_appear_in_same_query!(
    known_frameworks,
    referral_history,
    referral_invitations,
    referral_reads,
    referral_versions,
    referrals,
);
