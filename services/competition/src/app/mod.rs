//! The application layer: what both the HTTP API and the event handlers do to the service's
//! state. `api` and `handlers` call down into this and `store`; neither calls the other,
//! and nothing here knows HTTP. Each function takes the caller's connection (the
//! transaction of `Store::write` or `Store::handle`) and its `Events`.

pub mod competitions;
pub mod frameworks;
