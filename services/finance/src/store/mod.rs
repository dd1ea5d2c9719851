//! Tables and queries of the finance service.

pub mod actuals;
pub mod budgets;
pub mod facts;
pub mod periods;
pub mod reports;

pub mod schema {
    diesel::table! {
        placements (placement_id) {
            placement_id -> Text,
            partnership -> Text,
            council -> Text,
            provider_id -> Text,
            order_id -> Nullable<Text>,
            referral_id -> Nullable<Text>,
            block_contract_id -> Nullable<Text>,
            bed -> Nullable<Integer>,
            start_date -> Date,
            weekly_rate_pence -> BigInt,
            extras_weekly_pence -> BigInt,
            created_at -> Timestamp,
        }
    }
    diesel::table! {
        placement_rate_changes (placement_id, ipa_version) {
            placement_id -> Text,
            ipa_version -> Integer,
            partnership -> Text,
            council -> Text,
            effective_from -> Date,
            weekly_rate_pence -> BigInt,
            extras_weekly_pence -> BigInt,
            created_at -> Timestamp,
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
        block_contracts (block_contract_id) {
            block_contract_id -> Text,
            partnership -> Text,
            lead_council -> Text,
            provider_id -> Text,
            beds -> Integer,
            block_weekly_rate_pence -> BigInt,
            spot_weekly_rate_pence -> BigInt,
            start_date -> Date,
            end_date -> Date,
            planned_annual_saving_pence -> BigInt,
            created_at -> Timestamp,
        }
    }
    diesel::table! {
        bed_events (block_contract_id, bed, effective_from, state) {
            block_contract_id -> Text,
            bed -> Integer,
            effective_from -> Date,
            state -> Text,
            partnership -> Text,
            council -> Nullable<Text>,
            placement_id -> Nullable<Text>,
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
            value_pence -> BigInt,
            start_date -> Date,
            end_date -> Date,
            created_at -> Timestamp,
        }
    }
    diesel::table! {
        service_contract_extensions (contract_id, extensions_used) {
            contract_id -> Text,
            extensions_used -> Integer,
            partnership -> Text,
            previous_end_date -> Date,
            new_end_date -> Date,
            added_value_pence -> BigInt,
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
            value_change_pence -> BigInt,
            created_at -> Timestamp,
        }
    }
    diesel::table! {
        block_contract_extensions (block_contract_id, extensions_used) {
            block_contract_id -> Text,
            extensions_used -> Integer,
            partnership -> Text,
            previous_end_date -> Date,
            new_end_date -> Date,
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
        ledger_years (partnership) {
            partnership -> Text,
            through_year -> Integer,
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
            bed -> Nullable<Integer>,
            provider_id -> Text,
            year -> Integer,
            period -> Integer,
            from_date -> Date,
            to_date -> Date,
            days -> Integer,
            weekly_rate_pence -> BigInt,
            extras_weekly_pence -> BigInt,
            amount_pence -> BigInt,
            created_at -> Timestamp,
            adjusts_year -> Nullable<Integer>,
            adjusts_period -> Nullable<Integer>,
            cause_event_type -> Nullable<Text>,
            cause_event_id -> Nullable<Text>,
        }
    }
    diesel::table! {
        budgets (id) {
            id -> Text,
            partnership -> Text,
            year -> Integer,
            created_by -> Text,
            created_org -> Text,
            created_at -> Timestamp,
        }
    }
    diesel::table! {
        budget_versions (budget_id, version) {
            budget_id -> Text,
            version -> Integer,
            from_period -> Integer,
            reason -> Text,
            total_pence -> BigInt,
            costing_model -> Text,
            risk_share -> Text,
            created_by -> Text,
            created_org -> Text,
            created_at -> Timestamp,
        }
    }
    diesel::table! {
        budget_lines (budget_id, version, budget_line) {
            budget_id -> Text,
            version -> Integer,
            budget_line -> Text,
            amount_pence -> BigInt,
        }
    }
    diesel::table! {
        contributions (budget_id, version, council) {
            budget_id -> Text,
            version -> Integer,
            council -> Text,
            amount_pence -> BigInt,
            steps -> Text,
        }
    }
    diesel::table! {
        period_closures (partnership, year, period) {
            partnership -> Text,
            year -> Integer,
            period -> Integer,
            closed_by -> Text,
            closed_org -> Text,
            closed_at -> Timestamp,
        }
    }
    diesel::table! {
        uploads (id) {
            id -> Text,
            partnership -> Text,
            year -> Integer,
            requested_period -> Integer,
            posted_period -> Integer,
            format -> Text,
            content_sha256 -> Text,
            rows_read -> Integer,
            applied -> Integer,
            already_recorded -> Integer,
            applied_pence -> BigInt,
            uploaded_by -> Text,
            uploaded_org -> Text,
            uploaded_at -> Timestamp,
        }
    }
    diesel::table! {
        payments (id) {
            id -> Text,
            upload_id -> Text,
            partnership -> Text,
            council -> Text,
            year -> Integer,
            period -> Integer,
            adjusts_period -> Nullable<Integer>,
            budget_line -> Text,
            amount_pence -> BigInt,
            payment_reference -> Text,
            paid_on -> Date,
            provider_id -> Nullable<Text>,
            contract_id -> Nullable<Text>,
            line_no -> Integer,
            created_at -> Timestamp,
        }
    }
    diesel::table! {
        ledger_totals (partnership, year, period, budget_line, council, attribution) {
            partnership -> Text,
            year -> Integer,
            period -> Integer,
            budget_line -> Text,
            council -> Text,
            attribution -> Text,
            amount_pence -> BigInt,
        }
    }
    diesel::table! {
        payment_totals (partnership, year, period, budget_line, council) {
            partnership -> Text,
            year -> Integer,
            period -> Integer,
            budget_line -> Text,
            council -> Text,
            amount_pence -> BigInt,
        }
    }
    diesel::allow_tables_to_appear_in_same_query!(placements, placement_ends);
}

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hub_platform::db::{DbConnection, DbError};
use schema::*;

use crate::domain::ledger::{Attribution, SourceKind};

/// One source's cost for one council in one period at one rate, or an adjustment to a
/// closed period (`adjusts_*`, with the fact that caused it).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = commitment_lines)]
pub struct CommitmentRow {
    pub id: String,
    pub partnership: String,
    pub council: String,
    pub attribution: Attribution,
    pub budget_line: String,
    pub source_kind: SourceKind,
    pub source_id: String,
    pub contract_id: Option<String>,
    pub bed: Option<i32>,
    pub provider_id: String,
    pub year: i32,
    pub period: i32,
    pub from_date: NaiveDate,
    pub to_date: NaiveDate,
    pub days: i32,
    pub weekly_rate_pence: i64,
    pub extras_weekly_pence: i64,
    pub amount_pence: i64,
    pub created_at: NaiveDateTime,
    /// The closed period an adjustment line adjusts (year and period).
    pub adjusts_year: Option<i32>,
    pub adjusts_period: Option<i32>,
    /// The event that caused an adjustment: its type and id.
    pub cause_event_type: Option<String>,
    pub cause_event_id: Option<String>,
}

/// The key of a ledger total: partnership, year, period, budget line, council, attribution.
type TotalKey = (String, i32, i32, String, String, Attribution);

fn key(l: &CommitmentRow) -> TotalKey {
    (
        l.partnership.clone(),
        l.year,
        l.period,
        l.budget_line.clone(),
        l.council.clone(),
        l.attribution,
    )
}

/// A source's lines as posted.
pub fn source_lines(
    conn: &mut DbConnection,
    source_kind: SourceKind,
    source_id: &str,
) -> Result<Vec<CommitmentRow>, DbError> {
    Ok(commitment_lines::table
        .filter(commitment_lines::source_kind.eq(source_kind))
        .filter(commitment_lines::source_id.eq(source_id))
        .select(CommitmentRow::as_select())
        .load(conn)?)
}

/// Replaces a source's posted lines `old` (as [`source_lines`] read them), but those whose
/// ids are in `kept`, with `lines`, and moves the ledger totals by the difference. Callers run
/// this inside their transaction, under the source's lock. Rows go one by one (batch inserts
/// do not go through the multi-backend connection).
pub fn replace_lines(
    conn: &mut DbConnection,
    source_kind: SourceKind,
    source_id: &str,
    old: &[CommitmentRow],
    kept: &std::collections::BTreeSet<&str>,
    lines: &[CommitmentRow],
) -> Result<(), DbError> {
    let mut deltas: std::collections::BTreeMap<TotalKey, i64> = std::collections::BTreeMap::new();
    for l in old.iter().filter(|l| !kept.contains(l.id.as_str())) {
        *deltas.entry(key(l)).or_default() -= l.amount_pence;
    }
    for l in lines {
        *deltas.entry(key(l)).or_default() += l.amount_pence;
    }
    let of_source = commitment_lines::table
        .filter(commitment_lines::source_kind.eq(source_kind))
        .filter(commitment_lines::source_id.eq(source_id));
    if kept.is_empty() {
        diesel::delete(of_source).execute(conn)?;
    } else {
        diesel::delete(
            of_source.filter(commitment_lines::id.ne_all(kept.iter().copied().collect::<Vec<_>>())),
        )
        .execute(conn)?;
    }
    for line in lines {
        diesel::insert_into(commitment_lines::table)
            .values(line)
            .execute(conn)?;
    }
    for ((partnership, year, period, budget_line, council, attribution), delta) in deltas {
        if delta == 0 {
            continue;
        }
        use ledger_totals as t;
        let at = t::table
            .filter(t::partnership.eq(&partnership))
            .filter(t::year.eq(year))
            .filter(t::period.eq(period))
            .filter(t::budget_line.eq(&budget_line))
            .filter(t::council.eq(&council))
            .filter(t::attribution.eq(&attribution));
        let updated = diesel::update(at)
            .set(t::amount_pence.eq(t::amount_pence + delta))
            .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(t::table)
                .values((
                    t::partnership.eq(&partnership),
                    t::year.eq(year),
                    t::period.eq(period),
                    t::budget_line.eq(&budget_line),
                    t::council.eq(&council),
                    t::attribution.eq(&attribution),
                    t::amount_pence.eq(delta),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// A partnership's lines for a financial year, in period order.
pub fn ledger_lines(
    conn: &mut DbConnection,
    partnership: &str,
    year: i32,
) -> Result<Vec<CommitmentRow>, DbError> {
    Ok(commitment_lines::table
        .filter(commitment_lines::partnership.eq(partnership))
        .filter(commitment_lines::year.eq(year))
        .order((
            commitment_lines::period.asc(),
            commitment_lines::source_kind.asc(),
            commitment_lines::source_id.asc(),
            commitment_lines::bed.asc(),
            commitment_lines::from_date.asc(),
            commitment_lines::id.asc(),
        ))
        .select(CommitmentRow::as_select())
        .load(conn)?)
}

/// The last financial year a partnership's open-ended placements are committed to, if one was
/// opened beyond the years they start in.
pub fn through_year(conn: &mut DbConnection, partnership: &str) -> Result<Option<i32>, DbError> {
    Ok(ledger_years::table
        .find(partnership)
        .select(ledger_years::through_year)
        .first(conn)
        .optional()?)
}
