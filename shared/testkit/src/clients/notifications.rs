//! The notifications service's endpoints.

#[allow(unused_imports)]
use crate::{Reply, TestApp, User};

/// The notifications service: `app.notifications()`.
pub struct Notifications<'a>(#[allow(dead_code)] &'a TestApp);

impl TestApp {
    /// The notifications service's client.
    pub fn notifications(&self) -> Notifications<'_> {
        Notifications(self)
    }
}
