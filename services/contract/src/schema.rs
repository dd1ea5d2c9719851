// Generated from this crate's migrations: `diesel print-schema` (settings in diesel.toml)
// over a fresh PostgreSQL database migrated with migrations/postgres. Do not edit; change the
// migrations (both backends) and regenerate with
//   HUB_WRITE_SCHEMA=1 cargo nextest run -p hub --test schema
// (README, "Changing the database"). services/hub/tests/schema.rs checks it.
// @generated automatically by Diesel CLI.

diesel::table! {
    bed_stays (id) {
        id -> Text,
        block_contract_id -> Text,
        bed -> Int4,
        placement_id -> Text,
        council -> Text,
        from_date -> Date,
        to_date -> Nullable<Date>,
    }
}

diesel::table! {
    block_beds (block_contract_id, bed) {
        block_contract_id -> Text,
        bed -> Int4,
        held_for -> Text,
        placement_id -> Nullable<Text>,
        void_from -> Nullable<Date>,
        offered_on -> Nullable<Date>,
        offered_to -> Nullable<Text>,
    }
}

diesel::table! {
    block_contract_extensions (id) {
        id -> Text,
        block_contract_id -> Text,
        previous_end_date -> Date,
        new_end_date -> Date,
        extended_by -> Text,
        extended_at -> Timestamp,
    }
}

diesel::table! {
    block_contracts (id) {
        id -> Text,
        partnership -> Text,
        lead_council -> Text,
        provider_id -> Text,
        description -> Text,
        beds -> Int4,
        block_weekly_rate_pence -> Int8,
        spot_weekly_rate_pence -> Int8,
        start_date -> Date,
        end_date -> Date,
        term_years -> Int4,
        extension_options -> Int4,
        extension_years -> Int4,
        extensions_used -> Int4,
        void_offer_after_days -> Int4,
        lot_id -> Nullable<Text>,
        home_id -> Nullable<Text>,
        postcode_district -> Nullable<Text>,
        let_by -> Text,
        let_at -> Timestamp,
    }
}

diesel::table! {
    ipa_reviews (id) {
        id -> Text,
        ipa_id -> Text,
        reviewed_on -> Date,
        was_due_on -> Nullable<Date>,
        outcome -> Text,
        notes -> Nullable<Text>,
        next_review_on -> Date,
        recorded_by -> Text,
        recorded_by_org -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    ipa_versions (ipa_id, version) {
        ipa_id -> Text,
        version -> Int4,
        status -> Text,
        weekly_rate_pence -> Int8,
        extras -> Text,
        extras_weekly_pence -> Int8,
        contact_arrangements -> Text,
        review_frequency_months -> Int4,
        effective_from -> Date,
        change_reason -> Nullable<Text>,
        drafted_by -> Text,
        drafted_by_org -> Text,
        drafted_at -> Timestamp,
        provider_signed_by -> Nullable<Text>,
        provider_signed_at -> Nullable<Timestamp>,
        approved_by -> Nullable<Text>,
        approved_at -> Nullable<Timestamp>,
        withdrawn_by -> Nullable<Text>,
        withdrawn_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    ipas (id) {
        id -> Text,
        placement_id -> Text,
        council -> Text,
        partnership -> Text,
        provider_id -> Text,
        approved_version -> Nullable<Int4>,
        review_frequency_months -> Nullable<Int4>,
        next_review_on -> Nullable<Date>,
        due_raised_for -> Nullable<Date>,
        overdue_raised_for -> Nullable<Date>,
        created_at -> Timestamp,
        revision -> Int8,
    }
}

diesel::table! {
    order_variations (id) {
        id -> Text,
        order_id -> Text,
        seq -> Int4,
        what -> Text,
        why -> Text,
        effective_from -> Date,
        recorded_by -> Text,
        recorded_by_org -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    orders (id) {
        id -> Text,
        competition_id -> Text,
        referral_id -> Text,
        council -> Text,
        partnership -> Text,
        provider_id -> Text,
        framework_id -> Text,
        weekly_rate_pence -> Int8,
        start_date -> Date,
        status -> Text,
        issued_at -> Timestamp,
        due_by -> Date,
        signed_by -> Nullable<Text>,
        signed_at -> Nullable<Timestamp>,
        lot_id -> Nullable<Text>,
        emergency -> Bool,
        timescale_agreed_with -> Nullable<Text>,
        timescale_recorded_by -> Nullable<Text>,
        timescale_recorded_at -> Nullable<Timestamp>,
        late -> Bool,
        declined_by -> Nullable<Text>,
        declined_at -> Nullable<Timestamp>,
        decline_reason -> Nullable<Text>,
        decline_detail -> Nullable<Text>,
        overdue_raised_at -> Nullable<Timestamp>,
        revision -> Int8,
    }
}

diesel::table! {
    placements (id) {
        id -> Text,
        order_id -> Nullable<Text>,
        referral_id -> Text,
        council -> Text,
        partnership -> Text,
        provider_id -> Text,
        weekly_rate_pence -> Int8,
        start_date -> Date,
        status -> Text,
        created_by -> Text,
        created_by_org -> Text,
        created_at -> Timestamp,
        extras_weekly_pence -> Int8,
        rate_effective_from -> Nullable<Date>,
        block_contract_id -> Nullable<Text>,
        bed -> Nullable<Int4>,
        home_id -> Nullable<Text>,
        home_latitude -> Nullable<Float8>,
        home_longitude -> Nullable<Float8>,
        end_date -> Nullable<Date>,
        end_reason -> Nullable<Text>,
        end_note -> Nullable<Text>,
        ended_by -> Nullable<Text>,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    referral_facts (referral_id) {
        referral_id -> Text,
        council -> Text,
        partnership -> Text,
        withdrawn -> Bool,
        closed -> Bool,
        competition_id -> Nullable<Text>,
        competition_open -> Bool,
        competition_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    service_contract_history (id) {
        id -> Text,
        contract_id -> Text,
        kind -> Text,
        effective_on -> Nullable<Date>,
        reason -> Nullable<Text>,
        detail -> Text,
        actor -> Text,
        org -> Text,
        at -> Timestamp,
        value_change_pence -> Nullable<Int8>,
        phased_to -> Nullable<Date>,
    }
}

diesel::table! {
    service_contracts (id) {
        id -> Text,
        partnership -> Text,
        lead_council -> Text,
        provider_id -> Text,
        title -> Text,
        services -> Text,
        value_pence -> Int8,
        start_date -> Date,
        end_date -> Date,
        original_end_date -> Date,
        budget_line -> Text,
        extensions_allowed -> Int4,
        extensions_used -> Int4,
        extension_months -> Int4,
        alert_months -> Text,
        alerted_months -> Nullable<Int4>,
        tupe_lgps -> Bool,
        admission_agreement -> Text,
        admission_agreement_signed_on -> Nullable<Date>,
        bond -> Text,
        bond_amount_pence -> Nullable<Int8>,
        status -> Text,
        went_live_by -> Nullable<Text>,
        went_live_at -> Nullable<Timestamp>,
        terminated_on -> Nullable<Date>,
        termination_reason -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        revision -> Int8,
    }
}

diesel::joinable!(bed_stays -> block_contracts (block_contract_id));
diesel::joinable!(block_beds -> block_contracts (block_contract_id));
diesel::joinable!(block_contract_extensions -> block_contracts (block_contract_id));
diesel::joinable!(ipa_reviews -> ipas (ipa_id));
diesel::joinable!(ipa_versions -> ipas (ipa_id));
diesel::joinable!(ipas -> placements (placement_id));
diesel::joinable!(order_variations -> orders (order_id));
diesel::joinable!(placements -> orders (order_id));
diesel::joinable!(service_contract_history -> service_contracts (contract_id));

diesel::allow_tables_to_appear_in_same_query!(
    bed_stays,
    block_beds,
    block_contract_extensions,
    block_contracts,
    ipa_reviews,
    ipa_versions,
    ipas,
    order_variations,
    orders,
    placements,
    referral_facts,
    service_contract_history,
    service_contracts,
);
