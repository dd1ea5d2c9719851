//! Tables and queries of the notifications service. Rows hold typed values (ids, statuses,
//! JSON) through the storage edge ([`hub_platform::sql`]); a value that cannot be read back
//! is an unreadable row (a 500 and an alert), never a default. One module per seam:
//! [`endpoints`], [`deliveries`] (queueing and the log), [`claims`] (the delivery worker's
//! leases and outcomes) and [`tracking`] (competitions learnt from events).

pub mod schema {
    diesel::table! {
        webhook_endpoints (id) {
            id -> Text,
            owner_org -> Text,
            url -> Text,
            event_types -> Text,
            description -> Nullable<Text>,
            secret -> Text,
            previous_secret -> Nullable<Text>,
            previous_secret_until_ms -> Nullable<BigInt>,
            enabled -> Bool,
            disabled_reason -> Nullable<Text>,
            disabled_at -> Nullable<Timestamp>,
            created_by -> Text,
            created_at -> Timestamp,
            updated_at -> Timestamp,
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
            attempts -> Integer,
            next_attempt_ms -> BigInt,
            claimed_until_ms -> Nullable<BigInt>,
            first_attempt_ms -> Nullable<BigInt>,
            last_status_code -> Nullable<Integer>,
            last_error -> Nullable<Text>,
            delivered_ms -> Nullable<BigInt>,
            created_at -> Timestamp,
            traceparent -> Nullable<Text>,
            tracestate -> Nullable<Text>,
        }
    }
    diesel::table! {
        webhook_attempts (id) {
            id -> Text,
            delivery_id -> Text,
            attempt -> Integer,
            attempted_at -> Timestamp,
            status_code -> Nullable<Integer>,
            error -> Nullable<Text>,
            latency_ms -> BigInt,
        }
    }
    diesel::table! {
        tracked_competitions (competition_id) {
            competition_id -> Text,
            referral_id -> Text,
            council -> Text,
            lot_id -> Nullable<Text>,
            lot_name -> Nullable<Text>,
            referral_version -> Nullable<Integer>,
            status -> Text,
            awarded_provider -> Nullable<Text>,
            opened_at -> Timestamp,
            status_at -> Timestamp,
        }
    }
    diesel::table! {
        competition_invitees (competition_id, provider_id) {
            competition_id -> Text,
            provider_id -> Text,
        }
    }
    diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
    diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
    diesel::joinable!(competition_invitees -> tracked_competitions (competition_id));
    diesel::allow_tables_to_appear_in_same_query!(
        webhook_endpoints,
        webhook_deliveries,
        webhook_attempts,
        tracked_competitions,
        competition_invitees
    );
}

pub mod claims;
pub mod deliveries;
pub mod endpoints;
pub mod tracking;

pub use claims::*;
pub use deliveries::*;
pub use endpoints::*;
pub use tracking::*;

/// Now, in the unix milliseconds the delivery columns hold.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
