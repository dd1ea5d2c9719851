//! The competition service's endpoints.

#[allow(unused_imports)]
use crate::{Reply, TestApp, User};

/// The competition service: `app.competitions()`.
pub struct Competitions<'a>(#[allow(dead_code)] &'a TestApp);

impl TestApp {
    /// The competition service's client.
    pub fn competitions(&self) -> Competitions<'_> {
        Competitions(self)
    }
}
