//! Tables and queries of the referral service: rows hold the domain's types (the storage
//! edge, ADR 0002), and every query returns domain types, never rows. A stored value its
//! type cannot read is a deserialization error (500, alert), never a default.

pub mod schema {
    diesel::table! {
        referrals (id) {
            id -> Text,
            council -> Text,
            partnership -> Text,
            framework_id -> Text,
            lot_id -> Text,
            status -> Text,
            version -> Integer,
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
        }
    }
    diesel::table! {
        referral_versions (referral_id, version) {
            referral_id -> Text,
            version -> Integer,
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
        referral_invitations (referral_id, provider_id) {
            referral_id -> Text,
            provider_id -> Text,
            competition_id -> Text,
            version -> Integer,
            invited_at -> Timestamp,
        }
    }
    diesel::table! {
        referral_reads (id) {
            id -> Text,
            referral_id -> Text,
            version -> Integer,
            reader_sub -> Text,
            reader_org -> Text,
            view -> Text,
            read_at -> Timestamp,
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
            version -> Integer,
            actor -> Text,
            actor_org -> Text,
            detail -> Nullable<Text>,
        }
    }
    diesel::table! {
        known_frameworks (id) {
            id -> Text,
            partnership -> Text,
            purchasing_bodies -> Text,
            lot_ids -> Text,
            as_of -> Timestamp,
        }
    }
    diesel::joinable!(referral_versions -> referrals (referral_id));
    diesel::allow_tables_to_appear_in_same_query!(
        known_frameworks,
        referrals,
        referral_versions,
        referral_invitations,
        referral_reads,
        referral_history
    );
}

mod frameworks;
mod log;
mod referrals;
mod rows;

pub use frameworks::*;
pub use log::*;
pub use referrals::*;
