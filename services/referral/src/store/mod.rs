//! Tables and queries of the referral service: rows hold the domain's types (the storage
//! edge, ADR 0002), and every query returns domain types, never rows. A stored value its
//! type cannot read is a deserialization error (500, alert), never a default.

mod frameworks;
mod log;
mod referrals;
mod rows;

pub use frameworks::*;
pub use log::*;
pub use referrals::*;
