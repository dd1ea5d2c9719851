//! The application layer: what the service does with an organisation's endpoints and
//! deliveries, one transaction each, apart from HTTP (the api checks roles and
//! input and builds the responses) and from storage details ([`crate::store`]).
//!
//! Rules: an endpoint is its owner's alone (anyone else's id, or a malformed one, is 404
//! `webhook`; a delivery of anyone else's endpoint is 404 `delivery`); the state rules are
//! the domain's ([`crate::domain::redeliverable`]).

pub mod endpoints;
