//! The notifications service's endpoints (`/v1/webhooks…`): an organisation's webhook
//! endpoints and their delivery logs.

use actix_web::{http::Method, test::TestRequest};
use serde::Serialize;

use super::referral::with_query;
use crate::{RawReply, Reply, TestApp, User};

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

    /// `POST /v1/webhooks` with `Idempotency-Key: key`, answered whole (a replay carries
    /// `idempotent-replayed: true`).
    pub async fn register_once(&self, user: &User, key: &str, body: &impl Serialize) -> RawReply {
        let req = TestRequest::post()
            .uri("/v1/webhooks")
            .insert_header(("idempotency-key", key))
            .set_json(body);
        self.0.send_raw(user, req).await
    }

    /// `GET /v1/webhooks`: the first page of the caller's organisation's endpoints, without
    /// secrets (`{"items", "next"}`).
    pub async fn list(&self, user: &User) -> Reply {
        self.list_page(user, "").await
    }

    /// `GET /v1/webhooks?{query}` (`query` without the `?`, e.g. `limit=2&cursor=…`).
    pub async fn list_page(&self, user: &User, query: &str) -> Reply {
        self.0.get(user, &with_query("/v1/webhooks", query)).await
    }

    /// `GET /v1/webhooks/{id}`: one endpoint, without its secret.
    pub async fn get(&self, user: &User, id: &str) -> Reply {
        self.0.get(user, &format!("/v1/webhooks/{id}")).await
    }

    /// `GET /v1/webhooks/{id}` answered whole (its `ETag`).
    pub async fn get_raw(&self, user: &User, id: &str) -> RawReply {
        let req = TestRequest::get().uri(&format!("/v1/webhooks/{id}"));
        self.0.send_raw(user, req).await
    }

    /// The endpoint's `ETag` as `user` reads it now; none when they cannot read it.
    pub async fn etag(&self, user: &User, id: &str) -> Option<String> {
        self.get_raw(user, id)
            .await
            .header("etag")
            .map(str::to_owned)
    }

    /// `PATCH /v1/webhooks/{id}` with `body` (only the fields given change), as a client
    /// does it: it reads the endpoint's `ETag` first and sends it as `If-Match`.
    pub async fn change(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        let tag = self.etag(user, id).await;
        let r = self.change_if(user, id, tag.as_deref(), body).await;
        (r.status, r.json())
    }

    /// `PATCH /v1/webhooks/{id}` with `If-Match: if_match` (none: no header), answered whole.
    pub async fn change_if(
        &self,
        user: &User,
        id: &str,
        if_match: Option<&str>,
        body: &impl Serialize,
    ) -> RawReply {
        let req = edit(Method::PATCH, &format!("/v1/webhooks/{id}"), if_match).set_json(body);
        self.0.send_raw(user, req).await
    }

    /// `POST /v1/webhooks/{id}/rotate-secret`, with the `ETag` read first.
    pub async fn rotate_secret(&self, user: &User, id: &str) -> Reply {
        self.act(user, id, "rotate-secret").await
    }

    /// `POST /v1/webhooks/{id}/disable`, with the `ETag` read first.
    pub async fn disable(&self, user: &User, id: &str) -> Reply {
        self.act(user, id, "disable").await
    }

    /// `POST /v1/webhooks/{id}/enable`, with the `ETag` read first.
    pub async fn enable(&self, user: &User, id: &str) -> Reply {
        self.act(user, id, "enable").await
    }

    /// `POST /v1/webhooks/{id}/{action}` (`rotate-secret`, `disable`, `enable`) with the
    /// endpoint's `ETag` as `user` reads it now.
    async fn act(&self, user: &User, id: &str, action: &str) -> Reply {
        let tag = self.etag(user, id).await;
        let r = self.act_if(user, id, action, tag.as_deref()).await;
        (r.status, r.json())
    }

    /// `POST /v1/webhooks/{id}/{action}` (`rotate-secret`, `disable`, `enable`) with
    /// `If-Match: if_match` (none: no header), answered whole.
    pub async fn act_if(
        &self,
        user: &User,
        id: &str,
        action: &str,
        if_match: Option<&str>,
    ) -> RawReply {
        let req = edit(
            Method::POST,
            &format!("/v1/webhooks/{id}/{action}"),
            if_match,
        );
        self.0.send_raw(user, req).await
    }

    /// `GET /v1/webhooks/{id}/deliveries?{query}` (`query` without the `?`, e.g.
    /// `status=failed&limit=10`; empty for the default): a page of the endpoint's delivery
    /// log, newest first (`{"items", "next"}`).
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

/// An edit of `path` with `If-Match: if_match` (none: without the header).
fn edit(method: Method, path: &str, if_match: Option<&str>) -> TestRequest {
    let req = TestRequest::default().method(method).uri(path);
    match if_match {
        Some(tag) => req.insert_header(("if-match", tag)),
        None => req,
    }
}
