//! The notifications service's endpoints (`/v1/webhooks…`): an organisation's webhook
//! endpoints and their delivery logs.

use serde::Serialize;

use super::referral::with_query;
use crate::{Reply, TestApp, User};

/// The notifications service: `app.notifications()`.
pub struct Notifications<'a>(&'a TestApp);

impl TestApp {
    /// The notifications service's client.
    pub fn notifications(&self) -> Notifications<'_> {
        Notifications(self)
    }
}

impl Notifications<'_> {
    /// `POST /v1/webhooks`: registers an endpoint for the caller's organisation (the answer
    /// holds its id and, this once, its secret).
    pub async fn register(&self, user: &User, body: &impl Serialize) -> Reply {
        self.0.post(user, "/v1/webhooks", body).await
    }

    /// `GET /v1/webhooks`: the caller's organisation's endpoints, without secrets.
    pub async fn list(&self, user: &User) -> Reply {
        self.0.get(user, "/v1/webhooks").await
    }

    /// `GET /v1/webhooks/{id}`: one endpoint, without its secret.
    pub async fn get(&self, user: &User, id: &str) -> Reply {
        self.0.get(user, &format!("/v1/webhooks/{id}")).await
    }

    /// `PATCH /v1/webhooks/{id}` with `body` (only the fields given change).
    pub async fn change(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .patch(user, &format!("/v1/webhooks/{id}"), body)
            .await
    }

    /// `POST /v1/webhooks/{id}/rotate-secret`.
    pub async fn rotate_secret(&self, user: &User, id: &str) -> Reply {
        self.0
            .post_empty(user, &format!("/v1/webhooks/{id}/rotate-secret"))
            .await
    }

    /// `POST /v1/webhooks/{id}/disable`.
    pub async fn disable(&self, user: &User, id: &str) -> Reply {
        self.0
            .post_empty(user, &format!("/v1/webhooks/{id}/disable"))
            .await
    }

    /// `POST /v1/webhooks/{id}/enable`.
    pub async fn enable(&self, user: &User, id: &str) -> Reply {
        self.0
            .post_empty(user, &format!("/v1/webhooks/{id}/enable"))
            .await
    }

    /// `GET /v1/webhooks/{id}/deliveries?{query}` (`query` without the `?`, e.g.
    /// `status=failed&limit=10`; empty for the default): the endpoint's delivery log, newest
    /// first.
    pub async fn deliveries(&self, user: &User, id: &str, query: &str) -> Reply {
        let path = with_query(&format!("/v1/webhooks/{id}/deliveries"), query);
        self.0.get(user, &path).await
    }

    /// `POST /v1/webhooks/deliveries/{delivery_id}/redeliver` (the delivery id is the
    /// webhook's `webhook-id` header).
    pub async fn redeliver(&self, user: &User, delivery_id: &str) -> Reply {
        self.0
            .post_empty(
                user,
                &format!("/v1/webhooks/deliveries/{delivery_id}/redeliver"),
            )
            .await
    }
}
