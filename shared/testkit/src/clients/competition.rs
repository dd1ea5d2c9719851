//! The competition service's endpoints, as three clients over one service: frameworks
//! (`/v1/frameworks…`: lots, admission rounds, Provider Responses, homes), vacancies
//! (`/v1/vacancies…`) and competitions (`/v1/competitions…`: bids, declines, scores, awards,
//! direct awards, reviews, the OCDS export).
//!
//! An endpoint whose body is optional (opening a round or a competition, reopening, awarding,
//! withdrawing a vacancy) takes `Option<&Value>`: `None` sends no body at all, which the
//! service reads as its defaults (`null` would be a body, and refused).
//!
//! `Frameworks` and `Vacancies` are reached through [`TestApp::frameworks`] and
//! [`TestApp::vacancies`]; tests need not name them.
//!
//! Lists answer their page (`{"items": [...], "next": …}`; `limit` and `cursor` go in the
//! query). What users edit in place (a competition's criteria and preselection, a home, a
//! vacancy) is changed with the `ETag` read before (`etag` methods), sent as `If-Match`;
//! `*_keyed` methods send a creating request with an `Idempotency-Key`.

use actix_web::{http::Method, test::TestRequest};
use serde::Serialize;
use serde_json::Value;

use super::referral::with_query;
use crate::{RawReply, Reply, TestApp, User};

/// The competition service's competitions: `app.competitions()`.
pub struct Competitions<'a>(&'a TestApp);

/// The competition service's frameworks: `app.frameworks()`.
pub struct Frameworks<'a>(&'a TestApp);

/// The competition service's live vacancies: `app.vacancies()`.
pub struct Vacancies<'a>(&'a TestApp);

impl TestApp {
    /// The competition service's competitions client.
    pub fn competitions(&self) -> Competitions<'_> {
        Competitions(self)
    }

    /// The competition service's frameworks client.
    pub fn frameworks(&self) -> Frameworks<'_> {
        Frameworks(self)
    }

    /// The competition service's vacancies client.
    pub fn vacancies(&self) -> Vacancies<'_> {
        Vacancies(self)
    }
}

/// The `ETag` a `GET path` answers `user` (panics without one: the test expects to see it).
async fn etag_of(app: &TestApp, user: &User, path: &str) -> String {
    let res = app.send_raw(user, TestRequest::get().uri(path)).await;
    res.header("etag")
        .unwrap_or_else(|| panic!("GET {path}: {} without an ETag: {}", res.status, res.text()))
        .to_owned()
}

/// `method path` with `body` as JSON and `If-Match: etag` (none when `etag` is `None`).
async fn send_if_match(
    app: &TestApp,
    user: &User,
    method: Method,
    path: &str,
    etag: Option<&str>,
    body: &impl Serialize,
) -> RawReply {
    let mut req = TestRequest::default()
        .method(method)
        .uri(path)
        .set_json(serde_json::to_value(body).expect("a JSON body"));
    if let Some(etag) = etag {
        req = req.insert_header(("if-match", etag));
    }
    app.send_raw(user, req).await
}

/// `PUT path` with `body` and `If-Match: etag`, as a [`Reply`].
async fn put_if_match(
    app: &TestApp,
    user: &User,
    path: &str,
    etag: &str,
    body: &impl Serialize,
) -> Reply {
    let res = send_if_match(app, user, Method::PUT, path, Some(etag), body).await;
    (res.status, res.json())
}

/// `POST path` with `body` as JSON and `Idempotency-Key: key`: the whole answer (its
/// `Idempotent-Replayed` header too).
async fn post_keyed(
    app: &TestApp,
    user: &User,
    path: &str,
    key: &str,
    body: &impl Serialize,
) -> RawReply {
    let req = TestRequest::post()
        .uri(path)
        .insert_header(("idempotency-key", key))
        .set_json(serde_json::to_value(body).expect("a JSON body"));
    app.send_raw(user, req).await
}

/// `POST path` with `body` as JSON, or with no body at all when `body` is `None`.
async fn post_optional(app: &TestApp, user: &User, path: &str, body: Option<&Value>) -> Reply {
    match body {
        Some(b) => app.post(user, path, b).await,
        None => app.post_empty(user, path).await,
    }
}

impl Frameworks<'_> {
    /// `POST /v1/frameworks`: the lead commissioner sets a framework up, with its lots.
    pub async fn create(&self, user: &User, body: &impl Serialize) -> Reply {
        self.0.post(user, "/v1/frameworks", body).await
    }

    /// `POST /v1/frameworks` with `Idempotency-Key: key`: the whole answer.
    pub async fn create_keyed(&self, user: &User, key: &str, body: &impl Serialize) -> RawReply {
        post_keyed(self.0, user, "/v1/frameworks", key, body).await
    }

    /// `GET /v1/frameworks?{query}`: a page of the frameworks the caller may see.
    pub async fn list(&self, user: &User, query: &str) -> Reply {
        self.0.get(user, &with_query("/v1/frameworks", query)).await
    }

    /// `GET /v1/frameworks/{id}`: the framework as the caller may see it.
    pub async fn get(&self, user: &User, id: &str) -> Reply {
        self.0.get(user, &format!("/v1/frameworks/{id}")).await
    }

    /// `POST /v1/frameworks/{id}/admission-rounds`: a new admission round (`body` optional:
    /// a note).
    pub async fn open_round(&self, user: &User, id: &str, body: Option<&Value>) -> Reply {
        let path = format!("/v1/frameworks/{id}/admission-rounds");
        post_optional(self.0, user, &path, body).await
    }

    /// `POST /v1/frameworks/{id}/admission-rounds/{round}/close`.
    pub async fn close_round(&self, user: &User, id: &str, round: &str) -> Reply {
        self.0
            .post_empty(
                user,
                &format!("/v1/frameworks/{id}/admission-rounds/{round}/close"),
            )
            .await
    }

    /// `PUT /v1/frameworks/{id}/lots/{lot}/criteria`: a lot's default award criteria.
    pub async fn set_lot_criteria(
        &self,
        user: &User,
        id: &str,
        lot: &str,
        body: &impl Serialize,
    ) -> Reply {
        self.0
            .put(
                user,
                &format!("/v1/frameworks/{id}/lots/{lot}/criteria"),
                body,
            )
            .await
    }

    /// `POST /v1/frameworks/{id}/lots/{lot}/providers`: admits a provider with its Provider
    /// Response.
    pub async fn admit(&self, user: &User, id: &str, lot: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(
                user,
                &format!("/v1/frameworks/{id}/lots/{lot}/providers"),
                body,
            )
            .await
    }

    /// `GET /v1/frameworks/{id}/lots/{lot}/providers/{provider}`: a provider's admission and
    /// homes.
    pub async fn admission(&self, user: &User, id: &str, lot: &str, provider: &str) -> Reply {
        self.0
            .get(
                user,
                &format!("/v1/frameworks/{id}/lots/{lot}/providers/{provider}"),
            )
            .await
    }

    /// `POST /v1/frameworks/{id}/lots/{lot}/providers/{provider}/homes`: a provider records
    /// a home.
    pub async fn add_home(
        &self,
        user: &User,
        id: &str,
        lot: &str,
        provider: &str,
        body: &impl Serialize,
    ) -> Reply {
        self.0
            .post(
                user,
                &format!("/v1/frameworks/{id}/lots/{lot}/providers/{provider}/homes"),
                body,
            )
            .await
    }

    /// `GET /v1/frameworks/{id}/lots/{lot}/providers/{provider}/homes/{home}`.
    pub async fn home(
        &self,
        user: &User,
        id: &str,
        lot: &str,
        provider: &str,
        home: &str,
    ) -> Reply {
        self.0
            .get(
                user,
                &format!("/v1/frameworks/{id}/lots/{lot}/providers/{provider}/homes/{home}"),
            )
            .await
    }

    /// The `ETag` of a home, as `user` reads it.
    pub async fn home_etag(
        &self,
        user: &User,
        id: &str,
        lot: &str,
        provider: &str,
        home: &str,
    ) -> String {
        let path = format!("/v1/frameworks/{id}/lots/{lot}/providers/{provider}/homes/{home}");
        etag_of(self.0, user, &path).await
    }

    /// `PUT /v1/frameworks/{id}/lots/{lot}/providers/{provider}/homes/{home}` with
    /// `If-Match: etag`. `at` is `(id, lot, provider, home)`.
    pub async fn update_home(
        &self,
        user: &User,
        (id, lot, provider, home): (&str, &str, &str, &str),
        etag: &str,
        body: &impl Serialize,
    ) -> Reply {
        let path = format!("/v1/frameworks/{id}/lots/{lot}/providers/{provider}/homes/{home}");
        put_if_match(self.0, user, &path, etag, body).await
    }
}

impl Vacancies<'_> {
    /// `POST /v1/vacancies`: a provider publishes a vacancy at one of its homes.
    pub async fn publish(&self, user: &User, body: &impl Serialize) -> Reply {
        self.0.post(user, "/v1/vacancies", body).await
    }

    /// `GET /v1/vacancies?{query}` (`query` without the `?`; empty for none).
    pub async fn list(&self, user: &User, query: &str) -> Reply {
        self.0.get(user, &with_query("/v1/vacancies", query)).await
    }

    /// `GET /v1/vacancies/{id}`: one of the provider's own vacancies.
    pub async fn get(&self, user: &User, id: &str) -> Reply {
        self.0.get(user, &format!("/v1/vacancies/{id}")).await
    }

    /// The `ETag` of a vacancy, as its provider reads it.
    pub async fn etag(&self, user: &User, id: &str) -> String {
        etag_of(self.0, user, &format!("/v1/vacancies/{id}")).await
    }

    /// `PUT /v1/vacancies/{id}` with `If-Match: etag`, or none: the whole answer.
    pub async fn update_raw(
        &self,
        user: &User,
        id: &str,
        etag: Option<&str>,
        body: &impl Serialize,
    ) -> RawReply {
        let path = format!("/v1/vacancies/{id}");
        send_if_match(self.0, user, Method::PUT, &path, etag, body).await
    }

    /// `PUT /v1/vacancies/{id}` with `If-Match: etag`.
    pub async fn update(&self, user: &User, id: &str, etag: &str, body: &impl Serialize) -> Reply {
        put_if_match(self.0, user, &format!("/v1/vacancies/{id}"), etag, body).await
    }

    /// `POST /v1/vacancies/{id}/withdraw` (`body` optional: the reason).
    pub async fn withdraw(&self, user: &User, id: &str, body: Option<&Value>) -> Reply {
        let path = format!("/v1/vacancies/{id}/withdraw");
        post_optional(self.0, user, &path, body).await
    }
}

impl Competitions<'_> {
    /// `GET /v1/competitions?{query}` (`query` without the `?`; empty for all).
    pub async fn list(&self, user: &User, query: &str) -> Reply {
        self.0
            .get(user, &with_query("/v1/competitions", query))
            .await
    }

    /// `GET /v1/competitions/{id}`: the competition as the caller may see it.
    pub async fn get(&self, user: &User, id: &str) -> Reply {
        self.0.get(user, &format!("/v1/competitions/{id}")).await
    }

    /// The `ETag` of a competition, as `user` reads it.
    pub async fn etag(&self, user: &User, id: &str) -> String {
        etag_of(self.0, user, &format!("/v1/competitions/{id}")).await
    }

    /// `PUT /v1/competitions/{id}/preselection` with `If-Match: etag`: the commissioner
    /// changes a draft's tests.
    pub async fn set_preselection(
        &self,
        user: &User,
        id: &str,
        etag: &str,
        body: &impl Serialize,
    ) -> Reply {
        let path = format!("/v1/competitions/{id}/preselection");
        put_if_match(self.0, user, &path, etag, body).await
    }

    /// `PUT /v1/competitions/{id}/criteria` with `If-Match: etag`, or none: the whole answer
    /// (its `ETag` too).
    pub async fn set_criteria_raw(
        &self,
        user: &User,
        id: &str,
        etag: Option<&str>,
        body: &impl Serialize,
    ) -> RawReply {
        let path = format!("/v1/competitions/{id}/criteria");
        send_if_match(self.0, user, Method::PUT, &path, etag, body).await
    }

    /// `PUT /v1/competitions/{id}/criteria` with `If-Match: etag`: the award criteria (and
    /// need level).
    pub async fn set_criteria(
        &self,
        user: &User,
        id: &str,
        etag: &str,
        body: &impl Serialize,
    ) -> Reply {
        let path = format!("/v1/competitions/{id}/criteria");
        put_if_match(self.0, user, &path, etag, body).await
    }

    /// `POST /v1/competitions/{id}/open`: confirms a draft (`body` optional: a deadline).
    pub async fn open(&self, user: &User, id: &str, body: Option<&Value>) -> Reply {
        let path = format!("/v1/competitions/{id}/open");
        post_optional(self.0, user, &path, body).await
    }

    /// `POST /v1/competitions/{id}/bids`: a provider bids (replacing its live bid).
    pub async fn bid(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(user, &format!("/v1/competitions/{id}/bids"), body)
            .await
    }

    /// `GET /v1/competitions/{id}/bids?{query}`: a page of the bids the caller may see.
    pub async fn bids(&self, user: &User, id: &str, query: &str) -> Reply {
        let path = format!("/v1/competitions/{id}/bids");
        self.0.get(user, &with_query(&path, query)).await
    }

    /// `GET /v1/competitions/{id}/history?{query}`: a page of the council's history.
    pub async fn history(&self, user: &User, id: &str, query: &str) -> Reply {
        let path = format!("/v1/competitions/{id}/history");
        self.0.get(user, &with_query(&path, query)).await
    }

    /// `POST /v1/competitions/{id}/decline`: a provider declines, with a reason code.
    pub async fn decline(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(user, &format!("/v1/competitions/{id}/decline"), body)
            .await
    }

    /// `POST /v1/competitions/{id}/close-bidding`: the commissioner ends bidding early.
    pub async fn close_bidding(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(user, &format!("/v1/competitions/{id}/close-bidding"), body)
            .await
    }

    /// `PUT /v1/competitions/{id}/bids/{bid}/scores/{criterion}`: a commissioner's mark.
    pub async fn score(
        &self,
        user: &User,
        id: &str,
        bid: &str,
        criterion: &str,
        body: &impl Serialize,
    ) -> Reply {
        self.0
            .put(
                user,
                &format!("/v1/competitions/{id}/bids/{bid}/scores/{criterion}"),
                body,
            )
            .await
    }

    /// `POST /v1/competitions/{id}/evaluate`: the ranking as it stands.
    pub async fn evaluate(&self, user: &User, id: &str) -> Reply {
        self.0
            .post_empty(user, &format!("/v1/competitions/{id}/evaluate"))
            .await
    }

    /// `POST /v1/competitions/{id}/award` (`body` optional: the bid named; without it the
    /// best value).
    pub async fn award(&self, user: &User, id: &str, body: Option<&Value>) -> Reply {
        let path = format!("/v1/competitions/{id}/award");
        post_optional(self.0, user, &path, body).await
    }

    /// `POST /v1/competitions/{id}/close`: closed without an award, with a reason code.
    pub async fn close(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(user, &format!("/v1/competitions/{id}/close"), body)
            .await
    }

    /// `POST /v1/competitions/{id}/reopen` (`body` optional: a new deadline and reason).
    pub async fn reopen(&self, user: &User, id: &str, body: Option<&Value>) -> Reply {
        let path = format!("/v1/competitions/{id}/reopen");
        post_optional(self.0, user, &path, body).await
    }

    /// `POST /v1/competitions/{id}/reroute`: a closed competition to another route.
    pub async fn reroute(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(user, &format!("/v1/competitions/{id}/reroute"), body)
            .await
    }

    /// `POST /v1/competitions/{id}/direct-award`: a direct award on an existing competition.
    pub async fn direct_award(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(user, &format!("/v1/competitions/{id}/direct-award"), body)
            .await
    }

    /// `POST /v1/competitions/direct-awards`: a direct award for a referral (`body` names
    /// it).
    pub async fn direct_award_for_referral(&self, user: &User, body: &impl Serialize) -> Reply {
        self.0
            .post(user, "/v1/competitions/direct-awards", body)
            .await
    }

    /// `POST /v1/competitions/{id}/review`: a direct award's review (keep, or reopen to
    /// competition).
    pub async fn review(&self, user: &User, id: &str, body: &impl Serialize) -> Reply {
        self.0
            .post(user, &format!("/v1/competitions/{id}/review"), body)
            .await
    }

    /// `GET /v1/competitions/{id}/ocds`: the competition as an OCDS release package.
    pub async fn ocds(&self, user: &User, id: &str) -> Reply {
        self.0
            .get(user, &format!("/v1/competitions/{id}/ocds"))
            .await
    }
}
