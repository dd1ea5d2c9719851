//! The referral service's domain: pure rules, no I/O.
//!
//! * [`document`]: the referral document as the council writes it, its checks, and the
//!   redacted view an invited provider reads before award;
//! * [`status`]: the lifecycle, as transitions of [`ReferralStatus`] that return the next status or
//!   the 409 that refuses it, and [`after`], what another service's event does;
//! * [`referral`]: a referral, its versions, reads and history, who may read what, and the
//!   events it announces;
//! * [`routing`]: the route, and whether a framework and lot would take the referral;
//! * [`requests`]: what the council sends, and its 422 checks.

pub mod document;
pub mod referral;
pub mod requests;
pub mod routing;
pub mod status;

pub use document::*;
pub use referral::*;
pub use requests::*;
pub use routing::*;
pub use status::*;
