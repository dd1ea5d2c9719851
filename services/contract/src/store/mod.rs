//! Tables and queries of the contract service.

pub mod blocks;
pub mod ipa;
pub mod orders;
pub mod placements;
pub mod referral_facts;
pub mod service_contracts;

pub use ipa::sweep_ipa_reviews;
pub use orders::{OrderRow, find_order, order_for_competition, sweep_overdue_orders};
pub use placements::{PlacementRow, find_placement, placement_for_order};

pub mod schema {
    diesel::table! {
        orders (id) {
            id -> Text,
            competition_id -> Text,
            referral_id -> Text,
            council -> Text,
            partnership -> Text,
            provider_id -> Text,
            framework_id -> Text,
            weekly_rate_pence -> BigInt,
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
        }
    }
    diesel::table! {
        order_variations (id) {
            id -> Text,
            order_id -> Text,
            seq -> Integer,
            what -> Text,
            why -> Text,
            effective_from -> Date,
            recorded_by -> Text,
            recorded_by_org -> Text,
            recorded_at -> Timestamp,
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
            weekly_rate_pence -> BigInt,
            start_date -> Date,
            status -> Text,
            created_by -> Text,
            created_by_org -> Text,
            created_at -> Timestamp,
            extras_weekly_pence -> BigInt,
            rate_effective_from -> Nullable<Date>,
            block_contract_id -> Nullable<Text>,
            bed -> Nullable<Integer>,
            home_id -> Nullable<Text>,
            home_latitude -> Nullable<Double>,
            home_longitude -> Nullable<Double>,
            end_date -> Nullable<Date>,
            end_reason -> Nullable<Text>,
            end_note -> Nullable<Text>,
            ended_by -> Nullable<Text>,
            ended_at -> Nullable<Timestamp>,
        }
    }
    diesel::table! {
        ipas (id) {
            id -> Text,
            placement_id -> Text,
            council -> Text,
            partnership -> Text,
            provider_id -> Text,
            approved_version -> Nullable<Integer>,
            review_frequency_months -> Nullable<Integer>,
            next_review_on -> Nullable<Date>,
            due_raised_for -> Nullable<Date>,
            overdue_raised_for -> Nullable<Date>,
            created_at -> Timestamp,
        }
    }
    diesel::table! {
        ipa_versions (ipa_id, version) {
            ipa_id -> Text,
            version -> Integer,
            status -> Text,
            weekly_rate_pence -> BigInt,
            extras -> Text,
            extras_weekly_pence -> BigInt,
            contact_arrangements -> Text,
            review_frequency_months -> Integer,
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
    diesel::joinable!(placements -> orders (order_id));
    diesel::joinable!(ipas -> placements (placement_id));
    diesel::joinable!(ipa_versions -> ipas (ipa_id));
    diesel::joinable!(ipa_reviews -> ipas (ipa_id));
    diesel::joinable!(order_variations -> orders (order_id));
    diesel::allow_tables_to_appear_in_same_query!(
        orders,
        order_variations,
        placements,
        ipas,
        ipa_versions,
        ipa_reviews,
        referral_facts
    );
}

use hub_platform::{Principal, Problem};

/// A row only some callers may see. To anyone else it does not exist: reading it is 404, as
/// for an id that was never stored, and lists leave it out.
pub trait Visible {
    /// What the row is, as a 404 names it (`order`, `block contract`, …).
    const WHAT: &'static str;

    /// The who-sees-what rule for this kind of row.
    fn visible_to(&self, who: &Principal) -> bool;
}

/// The row found, if `who` may see it; 404 when there is none or `who` may not see it.
pub fn if_visible<T: Visible>(who: &Principal, found: Option<T>) -> Result<T, Problem> {
    found
        .filter(|r| r.visible_to(who))
        .ok_or_else(|| Problem::not_found(T::WHAT))
}

/// The rows `who` may see, in their order.
pub fn only_visible<T: Visible>(who: &Principal, rows: Vec<T>) -> Vec<T> {
    rows.into_iter().filter(|r| r.visible_to(who)).collect()
}
