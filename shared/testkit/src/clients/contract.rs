//! The contract service's endpoints.

#[allow(unused_imports)]
use crate::{Reply, TestApp, User};

/// The contract service: `app.contracts()`.
pub struct Contracts<'a>(#[allow(dead_code)] &'a TestApp);

impl TestApp {
    /// The contract service's client.
    pub fn contracts(&self) -> Contracts<'_> {
        Contracts(self)
    }
}
