// Generated from this crate's migrations: `diesel print-schema` (settings in diesel.toml)
// over a fresh PostgreSQL database migrated with migrations/postgres. Do not edit; change the
// migrations (both backends) and regenerate with
//   HUB_WRITE_SCHEMA=1 cargo nextest run -p hub --test schema
// (README, "Changing the database"). services/hub/tests/schema.rs checks it.
// @generated automatically by Diesel CLI.

diesel::table! {
    admission_rounds (id) {
        id -> Text,
        framework_id -> Text,
        kind -> Text,
        note -> Nullable<Text>,
        closes_on -> Nullable<Date>,
        opened_by -> Text,
        opened_at -> Timestamp,
        closed_by -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    admissions (lot_id, provider_id) {
        lot_id -> Text,
        provider_id -> Text,
        provider_name -> Text,
        weekly_price_pence -> Int8,
        admitted_by -> Text,
        admitted_at -> Timestamp,
        prices -> Text,
        capacity -> Nullable<Int4>,
        round_id -> Nullable<Text>,
    }
}

diesel::table! {
    bed_fills (block_contract_id, bed) {
        block_contract_id -> Text,
        bed -> Int4,
        last_filled_at -> Timestamp,
    }
}

diesel::table! {
    bid_scores (bid_id, criterion) {
        bid_id -> Text,
        criterion -> Text,
        points -> Nullable<Int4>,
        passed -> Nullable<Bool>,
        reason -> Text,
        scored_by -> Text,
        scored_at -> Timestamp,
    }
}

diesel::table! {
    bids (id) {
        id -> Text,
        competition_id -> Text,
        provider_id -> Text,
        weekly_price_pence -> Int8,
        start_date -> Date,
        submitted_by -> Text,
        submitted_at -> Timestamp,
        home_id -> Nullable<Text>,
        home_name -> Nullable<Text>,
        home_latitude -> Nullable<Float8>,
        home_longitude -> Nullable<Float8>,
        answers -> Text,
        provider_response_pence -> Nullable<Int8>,
        price_variation_evidence -> Nullable<Text>,
    }
}

diesel::table! {
    competition_invitations (competition_id, provider_id) {
        competition_id -> Text,
        provider_id -> Text,
    }
}

diesel::table! {
    competition_log (id) {
        id -> Text,
        competition_id -> Text,
        action -> Text,
        reason -> Nullable<Text>,
        detail -> Text,
        actor -> Text,
        org -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    competitions (id) {
        id -> Text,
        referral_id -> Text,
        referral_version -> Int4,
        council -> Text,
        partnership -> Text,
        framework_id -> Text,
        lot_id -> Text,
        status -> Text,
        urgency -> Text,
        deadline -> Timestamp,
        awarded_provider -> Nullable<Text>,
        awarded_bid -> Nullable<Text>,
        awarded_by -> Nullable<Text>,
        created_at -> Timestamp,
        route -> Text,
        need_level -> Text,
        criteria -> Text,
        requirement -> Nullable<Text>,
        preselection -> Nullable<Text>,
        left_out -> Nullable<Text>,
        opened_at -> Nullable<Timestamp>,
        opened_by -> Nullable<Text>,
        closed_reason -> Nullable<Text>,
        direct -> Bool,
        awarded_rate_pence -> Nullable<Int8>,
        awarded_start_date -> Nullable<Date>,
        awarded_at -> Nullable<Timestamp>,
        review_date -> Nullable<Date>,
        reopened_from -> Nullable<Text>,
        bidding_closed_at -> Nullable<Timestamp>,
        bidding_closed_reason -> Nullable<Text>,
        revision -> Int8,
    }
}

diesel::table! {
    direct_awards (competition_id) {
        competition_id -> Text,
        provider_id -> Text,
        weekly_rate_pence -> Int8,
        start_date -> Date,
        justification -> Text,
        review_date -> Date,
        awarded_by -> Text,
        awarded_at -> Timestamp,
    }
}

diesel::table! {
    frameworks (id) {
        id -> Text,
        partnership -> Text,
        name -> Text,
        kind -> Text,
        lead_commissioner -> Text,
        start_date -> Date,
        end_date -> Date,
        created_by -> Text,
        created_at -> Timestamp,
        review_date -> Date,
        purchasing_bodies -> Nullable<Text>,
    }
}

diesel::table! {
    homes (id) {
        id -> Text,
        lot_id -> Text,
        provider_id -> Text,
        name -> Text,
        kind -> Text,
        latitude -> Float8,
        longitude -> Float8,
        postcode_district -> Text,
        registered_places -> Int4,
        occupied_places -> Int4,
        genders_accepted -> Text,
        min_age_years -> Int4,
        max_age_years -> Int4,
        specialisms -> Text,
        ofsted_rating -> Nullable<Text>,
        emergency_capacity -> Bool,
        educational_provision -> Text,
        updated_by -> Text,
        updated_at -> Timestamp,
        revision -> Int8,
    }
}

diesel::table! {
    invitation_declines (competition_id, provider_id) {
        competition_id -> Text,
        provider_id -> Text,
        reason -> Text,
        note -> Nullable<Text>,
        declined_by -> Text,
        declined_at -> Timestamp,
    }
}

diesel::table! {
    lots (id) {
        id -> Text,
        framework_id -> Text,
        name -> Text,
        placement_type -> Text,
        min_age_years -> Nullable<Int4>,
        max_age_years -> Nullable<Int4>,
        cohort -> Nullable<Text>,
        default_criteria -> Nullable<Text>,
    }
}

diesel::table! {
    offered_beds (id) {
        id -> Text,
        partnership -> Text,
        block_contract_id -> Text,
        bed -> Int4,
        provider_id -> Text,
        offered_by -> Text,
        offered_to -> Text,
        lot_id -> Nullable<Text>,
        home_id -> Nullable<Text>,
        postcode_district -> Text,
        available_from -> Date,
        expires_on -> Date,
        status -> Text,
        filled_by -> Nullable<Text>,
        filled_on -> Nullable<Date>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    vacancies (id) {
        id -> Text,
        provider_id -> Text,
        lot_id -> Text,
        home_id -> Text,
        available_from -> Date,
        expires_on -> Date,
        suits -> Text,
        places -> Int4,
        status -> Text,
        withdrawn_reason -> Nullable<Text>,
        updated_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revision -> Int8,
    }
}

diesel::joinable!(admission_rounds -> frameworks (framework_id));
diesel::joinable!(admissions -> lots (lot_id));
diesel::joinable!(bid_scores -> bids (bid_id));
diesel::joinable!(bids -> competitions (competition_id));
diesel::joinable!(competition_invitations -> competitions (competition_id));
diesel::joinable!(competition_log -> competitions (competition_id));
diesel::joinable!(competitions -> frameworks (framework_id));
diesel::joinable!(competitions -> lots (lot_id));
diesel::joinable!(direct_awards -> competitions (competition_id));
diesel::joinable!(homes -> lots (lot_id));
diesel::joinable!(invitation_declines -> competitions (competition_id));
diesel::joinable!(lots -> frameworks (framework_id));
diesel::joinable!(vacancies -> homes (home_id));
diesel::joinable!(vacancies -> lots (lot_id));

diesel::allow_tables_to_appear_in_same_query!(
    admission_rounds,
    admissions,
    bed_fills,
    bid_scores,
    bids,
    competition_invitations,
    competition_log,
    competitions,
    direct_awards,
    frameworks,
    homes,
    invitation_declines,
    lots,
    offered_beds,
    vacancies,
);
