//! Webhook rules, no I/O. One module per seam:
//!
//! * [`event_types`]: the webhook types and which audience (providers, councils) may
//!   subscribe to which;
//! * [`endpoints`] and [`destinations`]: what an endpoint may say (URL, types, description)
//!   and where webhooks may go (public addresses only);
//! * [`signing`]: Standard Webhooks secrets, signatures and verification;
//! * [`retries`]: the backoff schedule, the fair share of sending slots, a delivery's status;
//! * [`competitions`]: competitions as learnt from events, and who hears of a new referral
//!   version;
//! * [`messages`] and [`contract_messages`]: the bodies receivers get, and who gets them.
//!
//! Everything is re-exported here: callers name `domain::INVITED`, `domain::sign`, …

pub mod competitions;
pub mod contract_messages;
pub mod destinations;
pub mod endpoints;
pub mod event_types;
pub mod messages;
pub mod retries;
pub mod signing;

pub use competitions::*;
pub use contract_messages::*;
pub use destinations::*;
pub use endpoints::*;
pub use event_types::*;
pub use hub_platform::http::Validate;
pub use messages::*;
pub use retries::*;
pub use signing::*;
