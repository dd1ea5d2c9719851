//! Tables and queries of the contract service: rows hold the domain's types (the storage
//! edge, ADR 0002) and stay private to each module; every query returns domain types and
//! every write takes them. A stored value its type cannot read is a deserialization error
//! (500, alert), never a default.

pub mod blocks;
pub mod ipa;
pub mod orders;
pub mod placements;
pub mod referral_facts;
pub mod service_contracts;

pub use ipa::sweep_ipa_reviews;
pub use orders::{find_order, order_for_competition, sweep_overdue_orders};
pub use placements::{find_placement, placement_for_order};
