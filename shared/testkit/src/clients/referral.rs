//! The referral service's endpoints (`/v1/referrals…`).

use serde::Serialize;

use crate::{Reply, TestApp, User};

/// The referral service: `app.referrals()`.
pub struct Referrals<'a>(&'a TestApp);

impl TestApp {
    /// The referral service's client.
    pub fn referrals(&self) -> Referrals<'_> {
        Referrals(self)
    }
}

impl Referrals<'_> {
    /// `POST /v1/referrals`: a new referral (a draft, or submitted at once).
    pub async fn create(&self, user: &User, body: &impl Serialize) -> Reply {
        self.0.post(user, "/v1/referrals", body).await
    }

    /// `GET /v1/referrals?{query}` (`query` without the `?`; empty for all).
    pub async fn list(&self, user: &User, query: &str) -> Reply {
        self.0.get(user, &with_query("/v1/referrals", query)).await
    }

    /// `GET /v1/referrals/{id}`: the latest version the caller may see.
    pub async fn get(&self, user: &User, id: &str) -> Reply {
        self.0.get(user, &format!("/v1/referrals/{id}")).await
    }

    /// `GET /v1/referrals/{id}?version={version}`: one version, if the caller may see it.
    pub async fn get_version(&self, user: &User, id: &str, version: u32) -> Reply {
        self.0
            .get(user, &format!("/v1/referrals/{id}?version={version}"))
            .await
    }

    /// `PUT /v1/referrals/{id}`: a new document (in place for a draft, a new version after).
    pub async fn update(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0.put(user, &format!("/v1/referrals/{id}"), body).await
    }

    /// `POST /v1/referrals/{id}/submit`.
    pub async fn submit(&self, user: &User, id: &str) -> Reply {
        self.0
            .post_empty(user, &format!("/v1/referrals/{id}/submit"))
            .await
    }

    /// `POST /v1/referrals/{id}/withdraw` with `body` (the reason).
    pub async fn withdraw(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(user, &format!("/v1/referrals/{id}/withdraw"), body)
            .await
    }

    /// `POST /v1/referrals/{id}/route` with `body` (the new route, framework and lot).
    pub async fn reroute(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(user, &format!("/v1/referrals/{id}/route"), body)
            .await
    }

    /// `POST /v1/referrals/{id}/close` with `body`.
    pub async fn close(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(user, &format!("/v1/referrals/{id}/close"), body)
            .await
    }

    /// `GET /v1/referrals/{id}/versions`.
    pub async fn versions(&self, user: &User, id: &str) -> Reply {
        self.0
            .get(user, &format!("/v1/referrals/{id}/versions"))
            .await
    }

    /// `GET /v1/referrals/{id}/reads`: who read which version, when.
    pub async fn reads(&self, user: &User, id: &str) -> Reply {
        self.0.get(user, &format!("/v1/referrals/{id}/reads")).await
    }

    /// `GET /v1/referrals/{id}/history`.
    pub async fn history(&self, user: &User, id: &str) -> Reply {
        self.0
            .get(user, &format!("/v1/referrals/{id}/history"))
            .await
    }
}

/// `path?query`, or `path` when `query` is empty.
pub(crate) fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}
