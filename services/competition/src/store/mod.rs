//! Tables and queries of the competition service, one file per aggregate: `frameworks`
//! (lots, rounds, admissions), `homes`, `vacancies`, `competitions` (invitations, declines,
//! direct awards, history), `bids` (marks), `offered_beds`.
//!
//! Rows hold domain types (typed ids, codes, `Pence`, `Json<T>` for the lists and maps a row
//! keeps whole), so nothing outside reads a stored string; a stored value its type cannot
//! read is an error (a 500 alert, see `hub_platform::db::DbError`), never a fallback. Each
//! query takes the connection of the caller's transaction and returns rows or `DbError`.

pub mod bids;
pub mod competitions;
pub mod frameworks;
pub mod homes;
pub mod offered_beds;
pub mod vacancies;

pub mod schema {
    diesel::table! {
        frameworks (id) {
            id -> Text,
            partnership -> Text,
            name -> Text,
            kind -> Text,
            lead_commissioner -> Text,
            start_date -> Date,
            end_date -> Date,
            review_date -> Date,
            purchasing_bodies -> Nullable<Text>,
            created_by -> Text,
            created_at -> Timestamp,
        }
    }
    diesel::table! {
        lots (id) {
            id -> Text,
            framework_id -> Text,
            name -> Text,
            placement_type -> Text,
            min_age_years -> Nullable<Integer>,
            max_age_years -> Nullable<Integer>,
            cohort -> Nullable<Text>,
            default_criteria -> Nullable<Text>,
        }
    }
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
            weekly_price_pence -> BigInt,
            prices -> Text,
            capacity -> Nullable<Integer>,
            round_id -> Nullable<Text>,
            admitted_by -> Text,
            admitted_at -> Timestamp,
        }
    }
    diesel::table! {
        homes (id) {
            id -> Text,
            lot_id -> Text,
            provider_id -> Text,
            name -> Text,
            kind -> Text,
            latitude -> Double,
            longitude -> Double,
            postcode_district -> Text,
            registered_places -> Integer,
            occupied_places -> Integer,
            genders_accepted -> Text,
            min_age_years -> Integer,
            max_age_years -> Integer,
            specialisms -> Text,
            ofsted_rating -> Nullable<Text>,
            emergency_capacity -> Bool,
            educational_provision -> Text,
            updated_by -> Text,
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
            places -> Integer,
            status -> Text,
            withdrawn_reason -> Nullable<Text>,
            updated_by -> Text,
            created_at -> Timestamp,
            updated_at -> Timestamp,
        }
    }
    diesel::table! {
        competitions (id) {
            id -> Text,
            referral_id -> Text,
            referral_version -> Integer,
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
            awarded_rate_pence -> Nullable<BigInt>,
            awarded_start_date -> Nullable<Date>,
            awarded_at -> Nullable<Timestamp>,
            review_date -> Nullable<Date>,
            reopened_from -> Nullable<Text>,
            bidding_closed_at -> Nullable<Timestamp>,
            bidding_closed_reason -> Nullable<Text>,
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
        competition_invitations (competition_id, provider_id) {
            competition_id -> Text,
            provider_id -> Text,
        }
    }
    diesel::table! {
        bids (id) {
            id -> Text,
            competition_id -> Text,
            provider_id -> Text,
            weekly_price_pence -> BigInt,
            start_date -> Date,
            home_id -> Nullable<Text>,
            home_name -> Nullable<Text>,
            home_latitude -> Nullable<Double>,
            home_longitude -> Nullable<Double>,
            answers -> Text,
            provider_response_pence -> Nullable<BigInt>,
            price_variation_evidence -> Nullable<Text>,
            submitted_by -> Text,
            submitted_at -> Timestamp,
        }
    }
    diesel::table! {
        bid_scores (bid_id, criterion) {
            bid_id -> Text,
            criterion -> Text,
            points -> Nullable<Integer>,
            passed -> Nullable<Bool>,
            reason -> Text,
            scored_by -> Text,
            scored_at -> Timestamp,
        }
    }
    diesel::table! {
        direct_awards (competition_id) {
            competition_id -> Text,
            provider_id -> Text,
            weekly_rate_pence -> BigInt,
            start_date -> Date,
            justification -> Text,
            review_date -> Date,
            awarded_by -> Text,
            awarded_at -> Timestamp,
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
    diesel::allow_tables_to_appear_in_same_query!(
        frameworks,
        lots,
        admission_rounds,
        admissions,
        homes,
        vacancies,
        competitions,
        competition_invitations,
        invitation_declines,
        bids,
        bid_scores,
        direct_awards,
        competition_log,
    );
}

use chrono::{NaiveDateTime, Utc};

pub use self::{bids::*, competitions::*, frameworks::*, homes::*, vacancies::*};

pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}
