// Generated from this crate's migrations: `diesel print-schema` (settings in diesel.toml)
// over a fresh PostgreSQL database migrated with migrations/postgres. Do not edit; change the
// migrations (both backends) and regenerate with
//   HUB_WRITE_SCHEMA=1 cargo nextest run -p hub --test schema
// (README, "Changing the database"). services/hub/tests/schema.rs checks it.
// @generated automatically by Diesel CLI.

diesel::table! {
    bed_events (block_contract_id, bed, effective_from, state) {
        block_contract_id -> Text,
        bed -> Int4,
        effective_from -> Date,
        state -> Text,
        partnership -> Text,
        council -> Nullable<Text>,
        placement_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    block_contract_extensions (block_contract_id, extensions_used) {
        block_contract_id -> Text,
        extensions_used -> Int4,
        partnership -> Text,
        previous_end_date -> Date,
        new_end_date -> Date,
        created_at -> Timestamp,
    }
}

diesel::table! {
    block_contracts (block_contract_id) {
        block_contract_id -> Text,
        partnership -> Text,
        lead_council -> Text,
        provider_id -> Text,
        beds -> Int4,
        block_weekly_rate_pence -> Int8,
        spot_weekly_rate_pence -> Int8,
        start_date -> Date,
        end_date -> Date,
        planned_annual_saving_pence -> Int8,
        created_at -> Timestamp,
    }
}

diesel::table! {
    budget_lines (budget_id, version, budget_line) {
        budget_id -> Text,
        version -> Int4,
        budget_line -> Text,
        amount_pence -> Int8,
    }
}

diesel::table! {
    budget_versions (budget_id, version) {
        budget_id -> Text,
        version -> Int4,
        from_period -> Int4,
        reason -> Text,
        total_pence -> Int8,
        costing_model -> Text,
        risk_share -> Text,
        created_by -> Text,
        created_org -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    budgets (id) {
        id -> Text,
        partnership -> Text,
        year -> Int4,
        created_by -> Text,
        created_org -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    commitment_lines (id) {
        id -> Text,
        partnership -> Text,
        council -> Text,
        attribution -> Text,
        budget_line -> Text,
        source_kind -> Text,
        source_id -> Text,
        contract_id -> Nullable<Text>,
        bed -> Nullable<Int4>,
        provider_id -> Text,
        year -> Int4,
        period -> Int4,
        from_date -> Date,
        to_date -> Date,
        days -> Int4,
        weekly_rate_pence -> Int8,
        extras_weekly_pence -> Int8,
        amount_pence -> Int8,
        created_at -> Timestamp,
        adjusts_year -> Nullable<Int4>,
        adjusts_period -> Nullable<Int4>,
        cause_event_type -> Nullable<Text>,
        cause_event_id -> Nullable<Text>,
    }
}

diesel::table! {
    contributions (budget_id, version, council) {
        budget_id -> Text,
        version -> Int4,
        council -> Text,
        amount_pence -> Int8,
        steps -> Text,
    }
}

diesel::table! {
    ledger_snapshots (partnership, year, as_at, period, budget_line, council, attribution) {
        partnership -> Text,
        year -> Int4,
        as_at -> Int4,
        period -> Int4,
        budget_line -> Text,
        council -> Text,
        attribution -> Text,
        amount_pence -> Int8,
    }
}

diesel::table! {
    ledger_totals (partnership, year, period, budget_line, council, attribution) {
        partnership -> Text,
        year -> Int4,
        period -> Int4,
        budget_line -> Text,
        council -> Text,
        attribution -> Text,
        amount_pence -> Int8,
    }
}

diesel::table! {
    ledger_years (partnership) {
        partnership -> Text,
        through_year -> Int4,
    }
}

diesel::table! {
    payment_totals (partnership, year, period, budget_line, council) {
        partnership -> Text,
        year -> Int4,
        period -> Int4,
        budget_line -> Text,
        council -> Text,
        amount_pence -> Int8,
    }
}

diesel::table! {
    payments (id) {
        id -> Text,
        upload_id -> Text,
        partnership -> Text,
        council -> Text,
        year -> Int4,
        period -> Int4,
        adjusts_period -> Nullable<Int4>,
        budget_line -> Text,
        amount_pence -> Int8,
        payment_reference -> Text,
        paid_on -> Date,
        provider_id -> Nullable<Text>,
        contract_id -> Nullable<Text>,
        line_no -> Int4,
        created_at -> Timestamp,
    }
}

diesel::table! {
    period_closures (partnership, year, period) {
        partnership -> Text,
        year -> Int4,
        period -> Int4,
        closed_by -> Text,
        closed_org -> Text,
        closed_at -> Timestamp,
    }
}

diesel::table! {
    placement_ends (placement_id) {
        placement_id -> Text,
        partnership -> Text,
        council -> Text,
        end_date -> Date,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    placement_rate_changes (placement_id, ipa_version) {
        placement_id -> Text,
        ipa_version -> Int4,
        partnership -> Text,
        council -> Text,
        effective_from -> Date,
        weekly_rate_pence -> Int8,
        extras_weekly_pence -> Int8,
        created_at -> Timestamp,
    }
}

diesel::table! {
    placements (placement_id) {
        placement_id -> Text,
        partnership -> Text,
        council -> Text,
        provider_id -> Text,
        order_id -> Nullable<Text>,
        referral_id -> Nullable<Text>,
        block_contract_id -> Nullable<Text>,
        bed -> Nullable<Int4>,
        start_date -> Date,
        weekly_rate_pence -> Int8,
        extras_weekly_pence -> Int8,
        created_at -> Timestamp,
    }
}

diesel::table! {
    service_contract_extensions (contract_id, extensions_used) {
        contract_id -> Text,
        extensions_used -> Int4,
        partnership -> Text,
        previous_end_date -> Date,
        new_end_date -> Date,
        added_value_pence -> Int8,
        created_at -> Timestamp,
    }
}

diesel::table! {
    service_contract_terminations (contract_id) {
        contract_id -> Text,
        partnership -> Text,
        terminated_on -> Date,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    service_contract_variations (contract_id, variation_id) {
        contract_id -> Text,
        variation_id -> Text,
        partnership -> Text,
        effective_on -> Date,
        phased_to -> Date,
        value_change_pence -> Int8,
        created_at -> Timestamp,
    }
}

diesel::table! {
    service_contracts (contract_id) {
        contract_id -> Text,
        partnership -> Text,
        lead_council -> Text,
        provider_id -> Text,
        budget_line -> Text,
        value_pence -> Int8,
        start_date -> Date,
        end_date -> Date,
        created_at -> Timestamp,
    }
}

diesel::table! {
    source_locks (source) {
        source -> Text,
        writes -> Int8,
    }
}

diesel::table! {
    uploads (id) {
        id -> Text,
        partnership -> Text,
        year -> Int4,
        requested_period -> Int4,
        posted_period -> Int4,
        format -> Text,
        content_sha256 -> Text,
        rows_read -> Int4,
        applied -> Int4,
        already_recorded -> Int4,
        applied_pence -> Int8,
        uploaded_by -> Text,
        uploaded_org -> Text,
        uploaded_at -> Timestamp,
    }
}

diesel::joinable!(budget_versions -> budgets (budget_id));
diesel::joinable!(payments -> uploads (upload_id));

diesel::allow_tables_to_appear_in_same_query!(
    bed_events,
    block_contract_extensions,
    block_contracts,
    budget_lines,
    budget_versions,
    budgets,
    commitment_lines,
    contributions,
    ledger_snapshots,
    ledger_totals,
    ledger_years,
    payment_totals,
    payments,
    period_closures,
    placement_ends,
    placement_rate_changes,
    placements,
    service_contract_extensions,
    service_contract_terminations,
    service_contract_variations,
    service_contracts,
    source_locks,
    uploads,
);
