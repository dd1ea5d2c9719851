//! One typed client per service: a method per endpoint, taking the caller ([`User`]) and
//! typed parameters, answering a [`Reply`]. A client borrows the [`TestApp`] it calls:
//! `app.referrals().submit(&sefton, &id)`.
//!
//! A request no client offers (a malformed body, a wrong method) goes through
//! [`TestApp::send`] or the verb shorthands ([`TestApp::post`] …).

mod competition;
mod contract;
mod finance;
mod notifications;
mod referral;

pub use competition::{Competitions, Frameworks, Vacancies};
pub use contract::Contracts;
pub use finance::Finance;
pub use notifications::Notifications;
pub use referral::Referrals;

#[allow(unused_imports)]
use crate::{Reply, TestApp, User};
