//! The contract service's endpoints: orders (`/v1/orders…`), placements and their
//! Individual Placement Agreements (`/v1/placements…`, `/v1/ipa-reviews`), placement
//! stability (`/v1/placement-stability`), block contracts (`/v1/contracts/blocks…`) and
//! service contracts (`/v1/contracts/services…`).
//!
//! Ids are the route's ids as text (a test may pass one that is not a UUID); query strings
//! are passed without the `?` (empty for none). Where an endpoint takes an optional body, the
//! plain method sends none and the `…_with` one sends the body given. Lists answer a page,
//! `{"items": [...], "next": …}` (`limit=` and `cursor=` in the query). An in-place edit
//! (`PUT`) reads the resource's `ETag` first, as the caller, and sends it in `If-Match`, as a
//! client that read before it wrote; its `…_if` method sends the `If-Match` given (or none).

use actix_web::test::TestRequest;
use serde::Serialize;

use super::referral::with_query;
use crate::{Reply, TestApp, User};

/// The contract service: `app.contracts()`.
pub struct Contracts<'a>(&'a TestApp);

impl TestApp {
    /// The contract service's client.
    pub fn contracts(&self) -> Contracts<'_> {
        Contracts(self)
    }
}

/// Reading `ETag`s and editing with `If-Match`.
impl Contracts<'_> {
    /// The `ETag` that `GET path` answers `user` with (none when it answers none, e.g. 404).
    pub async fn etag(&self, user: &User, path: &str) -> Option<String> {
        let res = self.0.send_raw(user, TestRequest::get().uri(path)).await;
        res.header("etag").map(str::to_owned)
    }

    /// `PUT path` with `body`, and `If-Match: {if_match}` when given.
    pub async fn put_if(
        &self,
        user: &User,
        path: &str,
        if_match: Option<&str>,
        body: &impl Serialize,
    ) -> Reply {
        let mut req = TestRequest::put()
            .uri(path)
            .set_json(serde_json::to_value(body).expect("a JSON body"));
        if let Some(tag) = if_match {
            req = req.insert_header(("if-match", tag));
        }
        self.0.send(user, req).await
    }

    /// `PUT path` with `body`, after reading the `ETag` of `read` as `user` (sent as
    /// `If-Match`, as a client that read what it edits).
    async fn put_read(&self, user: &User, read: &str, path: &str, body: &impl Serialize) -> Reply {
        let tag = self.etag(user, read).await;
        self.put_if(user, path, tag.as_deref(), body).await
    }
}

/// Orders: issued on an award, signed or declined by the provider.
impl Contracts<'_> {
    /// `GET /v1/orders?{query}` (`status=`, `overdue=`, `competition_id=`).
    pub async fn orders(&self, user: &User, query: &str) -> Reply {
        self.0.get(user, &with_query("/v1/orders", query)).await
    }

    /// `GET /v1/orders/{id}`.
    pub async fn order(&self, user: &User, id: &str) -> Reply {
        self.0.get(user, &format!("/v1/orders/{id}")).await
    }

    /// `POST /v1/orders/{id}/sign` with no body: the provider signs.
    pub async fn sign(&self, user: &User, id: &str) -> Reply {
        self.0
            .post_empty(user, &format!("/v1/orders/{id}/sign"))
            .await
    }

    /// `POST /v1/orders/{id}/sign` with `body` (which must be empty: `{}`).
    pub async fn sign_with(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(user, &format!("/v1/orders/{id}/sign"), body)
            .await
    }

    /// `POST /v1/orders/{id}/decline` with the reason.
    pub async fn decline(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(user, &format!("/v1/orders/{id}/decline"), body)
            .await
    }

    /// `PUT /v1/orders/{id}/timescale`: the timescale agreed for an emergency order, with
    /// the order's `ETag` as `user` reads it.
    pub async fn agree_timescale(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        let (read, path) = (
            format!("/v1/orders/{id}"),
            format!("/v1/orders/{id}/timescale"),
        );
        self.put_read(user, &read, &path, body).await
    }

    /// `PUT /v1/orders/{id}/timescale` with `If-Match: {if_match}` (none when `None`).
    pub async fn agree_timescale_if(
        &self,
        user: &User,
        id: &str,
        if_match: Option<&str>,
        body: &impl Serialize,
    ) -> Reply {
        let path = format!("/v1/orders/{id}/timescale");
        self.put_if(user, &path, if_match, body).await
    }

    /// `POST /v1/orders/{id}/variations`: a variation of a signed order recorded.
    pub async fn vary_order(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(user, &format!("/v1/orders/{id}/variations"), body)
            .await
    }

    /// `GET /v1/orders/{id}/variations?{query}` (`limit=`, `cursor=`).
    pub async fn order_variations(&self, user: &User, id: &str, query: &str) -> Reply {
        let path = format!("/v1/orders/{id}/variations");
        self.0.get(user, &with_query(&path, query)).await
    }
}

/// Placements, and placement stability.
impl Contracts<'_> {
    /// `POST /v1/placements`: a child placed under an order, or in a block bed.
    pub async fn place(&self, user: &User, body: &impl Serialize) -> Reply {
        self.0.post(user, "/v1/placements", body).await
    }

    /// `GET /v1/placements?{query}` (`status=`).
    pub async fn placements(&self, user: &User, query: &str) -> Reply {
        self.0.get(user, &with_query("/v1/placements", query)).await
    }

    /// `GET /v1/placements/{id}`.
    pub async fn placement(&self, user: &User, id: &str) -> Reply {
        self.0.get(user, &format!("/v1/placements/{id}")).await
    }

    /// `POST /v1/placements/{id}/end` with the end date and reason.
    pub async fn end_placement(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(user, &format!("/v1/placements/{id}/end"), body)
            .await
    }

    /// `GET /v1/placement-stability?{query}` (`from=`, `to=`, `council=`).
    pub async fn stability(&self, user: &User, query: &str) -> Reply {
        self.0
            .get(user, &with_query("/v1/placement-stability", query))
            .await
    }
}

/// Individual Placement Agreements: versions drafted by the council, signed by the provider,
/// approved by the child's social worker; reviews.
impl Contracts<'_> {
    /// `GET /v1/placements/{id}/ipa`.
    pub async fn ipa(&self, user: &User, placement: &str) -> Reply {
        self.0
            .get(user, &format!("/v1/placements/{placement}/ipa"))
            .await
    }

    /// `POST /v1/placements/{id}/ipa/versions`: a new version drafted.
    pub async fn draft_ipa(&self, user: &User, placement: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(
                user,
                &format!("/v1/placements/{placement}/ipa/versions"),
                body,
            )
            .await
    }

    /// `PUT /v1/placements/{id}/ipa/versions/{version}`: a draft edited, with the IPA's
    /// `ETag` as `user` reads it.
    pub async fn edit_ipa(
        &self,
        user: &User,
        placement: &str,
        version: u32,
        body: &impl Serialize,
    ) -> Reply {
        let read = format!("/v1/placements/{placement}/ipa");
        let path = format!("{read}/versions/{version}");
        self.put_read(user, &read, &path, body).await
    }

    /// `PUT /v1/placements/{id}/ipa/versions/{version}` with `If-Match: {if_match}` (none
    /// when `None`).
    pub async fn edit_ipa_if(
        &self,
        user: &User,
        placement: &str,
        version: u32,
        if_match: Option<&str>,
        body: &impl Serialize,
    ) -> Reply {
        let path = format!("/v1/placements/{placement}/ipa/versions/{version}");
        self.put_if(user, &path, if_match, body).await
    }

    /// `POST /v1/placements/{id}/ipa/versions/{version}/sign`.
    pub async fn sign_ipa(&self, user: &User, placement: &str, version: u32) -> Reply {
        self.ipa_action(user, placement, version, "sign").await
    }

    /// `POST /v1/placements/{id}/ipa/versions/{version}/approve`.
    pub async fn approve_ipa(&self, user: &User, placement: &str, version: u32) -> Reply {
        self.ipa_action(user, placement, version, "approve").await
    }

    /// `POST /v1/placements/{id}/ipa/versions/{version}/withdraw`.
    pub async fn withdraw_ipa(&self, user: &User, placement: &str, version: u32) -> Reply {
        self.ipa_action(user, placement, version, "withdraw").await
    }

    async fn ipa_action(&self, user: &User, placement: &str, version: u32, action: &str) -> Reply {
        self.0
            .post_empty(
                user,
                &format!("/v1/placements/{placement}/ipa/versions/{version}/{action}"),
            )
            .await
    }

    /// `POST /v1/placements/{id}/ipa/reviews`: a review recorded.
    pub async fn record_review(
        &self,
        user: &User,
        placement: &str,
        body: &impl Serialize,
    ) -> Reply {
        self.0
            .post(
                user,
                &format!("/v1/placements/{placement}/ipa/reviews"),
                body,
            )
            .await
    }

    /// `GET /v1/ipa-reviews?{query}` (`overdue=`): the reviews due.
    pub async fn reviews_due(&self, user: &User, query: &str) -> Reply {
        self.0
            .get(user, &with_query("/v1/ipa-reviews", query))
            .await
    }
}

/// Block contracts: beds bought for a term, offered to partner councils when void.
impl Contracts<'_> {
    /// `POST /v1/contracts/blocks`: a block contract let.
    pub async fn let_block(&self, user: &User, body: &impl Serialize) -> Reply {
        self.0.post(user, "/v1/contracts/blocks", body).await
    }

    /// `GET /v1/contracts/blocks?{query}` (`limit=`, `cursor=`).
    pub async fn blocks(&self, user: &User, query: &str) -> Reply {
        self.0
            .get(user, &with_query("/v1/contracts/blocks", query))
            .await
    }

    /// `GET /v1/contracts/blocks/{id}`.
    pub async fn block(&self, user: &User, id: &str) -> Reply {
        self.0
            .get(user, &format!("/v1/contracts/blocks/{id}"))
            .await
    }

    /// `GET /v1/contracts/blocks/{id}/savings?{query}` (`from=`, `to=`).
    pub async fn savings(&self, user: &User, id: &str, query: &str) -> Reply {
        self.0
            .get(
                user,
                &with_query(&format!("/v1/contracts/blocks/{id}/savings"), query),
            )
            .await
    }

    /// `POST /v1/contracts/blocks/{id}/extend` with no body: one extension option used.
    pub async fn extend_block(&self, user: &User, id: &str) -> Reply {
        self.0
            .post_empty(user, &format!("/v1/contracts/blocks/{id}/extend"))
            .await
    }

    /// `POST /v1/contracts/blocks/{id}/extend` with `body` (which must be empty: `{}`).
    pub async fn extend_block_with(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(user, &format!("/v1/contracts/blocks/{id}/extend"), body)
            .await
    }
}

/// Service contracts: let by a partnership's lead commissioner, live once pensions allow,
/// extended, varied and terminated.
impl Contracts<'_> {
    /// `POST /v1/contracts/services`: a service contract let (a draft).
    pub async fn let_service(&self, user: &User, body: &impl Serialize) -> Reply {
        self.0.post(user, "/v1/contracts/services", body).await
    }

    /// `GET /v1/contracts/services?{query}` (`limit=`, `cursor=`).
    pub async fn services(&self, user: &User, query: &str) -> Reply {
        self.0
            .get(user, &with_query("/v1/contracts/services", query))
            .await
    }

    /// `GET /v1/contracts/services/{id}`.
    pub async fn service(&self, user: &User, id: &str) -> Reply {
        self.0
            .get(user, &format!("/v1/contracts/services/{id}"))
            .await
    }

    /// `PUT /v1/contracts/services/{id}/pensions`: the admission agreement and bond, with
    /// the contract's `ETag` as `user` reads it.
    pub async fn set_pensions(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        let read = format!("/v1/contracts/services/{id}");
        let path = format!("{read}/pensions");
        self.put_read(user, &read, &path, body).await
    }

    /// `PUT /v1/contracts/services/{id}/pensions` with `If-Match: {if_match}` (none when
    /// `None`).
    pub async fn set_pensions_if(
        &self,
        user: &User,
        id: &str,
        if_match: Option<&str>,
        body: &impl Serialize,
    ) -> Reply {
        let path = format!("/v1/contracts/services/{id}/pensions");
        self.put_if(user, &path, if_match, body).await
    }

    /// `POST /v1/contracts/services/{id}/go-live` with no body.
    pub async fn go_live(&self, user: &User, id: &str) -> Reply {
        self.0
            .post_empty(user, &format!("/v1/contracts/services/{id}/go-live"))
            .await
    }

    /// `POST /v1/contracts/services/{id}/go-live` with `body` (which must be empty: `{}`).
    pub async fn go_live_with(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(user, &format!("/v1/contracts/services/{id}/go-live"), body)
            .await
    }

    /// `POST /v1/contracts/services/{id}/extend` with the added value.
    pub async fn extend_service(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(user, &format!("/v1/contracts/services/{id}/extend"), body)
            .await
    }

    /// `POST /v1/contracts/services/{id}/variations`.
    pub async fn vary_service(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(
                user,
                &format!("/v1/contracts/services/{id}/variations"),
                body,
            )
            .await
    }

    /// `POST /v1/contracts/services/{id}/terminate` with the reason and dates.
    pub async fn terminate(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(
                user,
                &format!("/v1/contracts/services/{id}/terminate"),
                body,
            )
            .await
    }
}
