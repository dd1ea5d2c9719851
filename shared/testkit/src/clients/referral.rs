//! The referral service's endpoints (`/v1/referrals…`).

use actix_web::test::TestRequest;
use serde::Serialize;

use crate::{RawReply, Reply, TestApp, User};

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

    /// `POST /v1/referrals` with `Idempotency-Key: key`, answering the whole response (a
    /// replay carries `Idempotent-Replayed: true`).
    pub async fn create_once(&self, user: &User, key: &str, body: &impl Serialize) -> RawReply {
        let req = TestRequest::post()
            .uri("/v1/referrals")
            .insert_header(("idempotency-key", key))
            .set_json(body);
        self.0.send_raw(user, req).await
    }

    /// `GET /v1/referrals?{query}` (`query` without the `?`; empty for all): one page,
    /// `{"items", "next"}`.
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

    /// The referral's `ETag` as `user` reads it (`GET /v1/referrals/{id}`, a logged read like
    /// any other): what an edit's `If-Match` names. Panics unless the read succeeds.
    pub async fn etag(&self, user: &User, id: &str) -> String {
        let req = TestRequest::get().uri(&format!("/v1/referrals/{id}"));
        let res = self.0.send_raw(user, req).await;
        assert_eq!(res.status, 200, "reading {id} for its ETag: {}", res.text());
        res.header("etag")
            .unwrap_or_else(|| panic!("GET {id} answered no ETag"))
            .to_owned()
    }

    /// `PUT /v1/referrals/{id}` with `If-Match: etag`: a new document (in place for a draft,
    /// a new version after).
    pub async fn update(&self, user: &User, id: &str, etag: &str, body: &impl Serialize) -> Reply {
        let req = TestRequest::put()
            .uri(&format!("/v1/referrals/{id}"))
            .insert_header(("if-match", etag))
            .set_json(body);
        self.0.send(user, req).await
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

    /// `POST /v1/referrals/{id}/route` with `If-Match: etag` and `body` (the new route,
    /// framework and lot).
    pub async fn reroute(&self, user: &User, id: &str, etag: &str, body: &impl Serialize) -> Reply {
        let req = TestRequest::post()
            .uri(&format!("/v1/referrals/{id}/route"))
            .insert_header(("if-match", etag))
            .set_json(body);
        self.0.send(user, req).await
    }

    /// `POST /v1/referrals/{id}/close` with `body`.
    pub async fn close(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(user, &format!("/v1/referrals/{id}/close"), body)
            .await
    }

    /// `GET /v1/referrals/{id}/versions`: the first page, `{"items", "next"}`.
    pub async fn versions(&self, user: &User, id: &str) -> Reply {
        self.0
            .get(user, &format!("/v1/referrals/{id}/versions"))
            .await
    }

    /// `GET /v1/referrals/{id}/reads`: who read which version, when (the first page).
    pub async fn reads(&self, user: &User, id: &str) -> Reply {
        self.0.get(user, &format!("/v1/referrals/{id}/reads")).await
    }

    /// `GET /v1/referrals/{id}/history`: the first page, `{"items", "next"}`.
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
