//! The one binary's library, under the name the binary and the tests use: [`hub_core`]
//! (starting the services, migrating their databases, `hub seed`). `hub bench` is in
//! `hub_bench`, which needs `hub_core` as well; the binary depends on the bench, so the
//! library the bench builds on cannot live in this package (Cargo refuses the cycle).

pub use hub_core::*;
