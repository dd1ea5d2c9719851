//! The finance service's endpoints.

#[allow(unused_imports)]
use crate::{Reply, TestApp, User};

/// The finance service: `app.finance()`.
pub struct Finance<'a>(#[allow(dead_code)] &'a TestApp);

impl TestApp {
    /// The finance service's client.
    pub fn finance(&self) -> Finance<'_> {
        Finance(self)
    }
}
