//! What the contract service does, whichever edge asks: the HTTP api and the event handlers
//! both call in here, and never each other. Each function runs inside the caller's
//! transaction (`Store::write` or `Store::handle`), takes and returns domain types,
//! and answers by the error policy of `DbError`.
//!
//! * [`awards`]: an award becomes an order.

pub mod awards;
