//! A test client over a started service, in the zero2prod/crates.io shape: a [`TestApp`] owns
//! the service and its actix test app; a [`User`] is who calls (an organisation, a role, a
//! token); each service's typed client (`app.referrals()`, `app.competitions()` …, in
//! [`crate::clients`]) has one method per endpoint, taking the caller and typed parameters,
//! and answering a [`Reply`] — `(status, JSON body)` — so that a test reads as what the user
//! does (`competitions.award(&sefton, &id, &bid)`) and asserts on what came back.

use std::ops::Deref;

use actix_http::Request;
use actix_service::boxed::{self, BoxService};
use actix_web::{dev::ServiceResponse, http::Method, test::TestRequest};
use hub_platform::{Role, db::Migrations};
use serde::Serialize;
use serde_json::Value;

use crate::{
    ServiceCtx, Start,
    conformance::{Conformance, Exchange},
};

/// What a request answered: its status, and its JSON body (`null` when the body is not JSON).
pub type Reply = (u16, Value);

/// Who makes a request: the organisation (a council's GSS code or a provider's id), the
/// subject and role the token was minted with, and the token.
#[derive(Debug, Clone)]
pub struct User {
    pub org: String,
    pub sub: String,
    pub role: Role,
    pub token: String,
}

impl User {
    /// The bearer token, for a request the typed clients do not offer.
    pub fn token(&self) -> &str {
        &self.token
    }
}

/// A started service and its actix test app: calls go through [`TestApp::send`] and its
/// shorthands, or a service's typed client. Derefs to the [`ServiceCtx`] (publish events,
/// read the outbox, run SQL, mint tokens).
pub struct TestApp {
    ctx: ServiceCtx,
    app: BoxService<Request, ServiceResponse, actix_web::Error>,
    conformance: Conformance,
}

impl Deref for TestApp {
    type Target = ServiceCtx;

    fn deref(&self) -> &ServiceCtx {
        &self.ctx
    }
}

impl ServiceCtx {
    /// This service behind a test client.
    pub async fn into_app(self) -> TestApp {
        let app = boxed::service(self.app().await);
        let conformance = Conformance::new(self.mounted.openapi.clone());
        TestApp {
            ctx: self,
            app,
            conformance,
        }
    }

    /// A user of `org` (`user-of-<org>`) with `role`.
    pub fn user(&self, org: &str, role: Role) -> User {
        self.user_as(&format!("user-of-{org}"), org, role)
    }

    /// The user `sub` of `org` with `role`.
    pub fn user_as(&self, sub: &str, org: &str, role: Role) -> User {
        User {
            org: org.to_owned(),
            sub: sub.to_owned(),
            role,
            token: self.token_as(sub, org, role),
        }
    }
}

impl TestApp {
    /// Starts `service` with `start` on `url` migrated with `migrations` (the bus's first),
    /// with the default settings and no bus retries, behind a test client
    /// ([`ServiceCtx::builder`] and [`ServiceCtx::into_app`] for other settings).
    ///
    /// ```ignore
    /// let app = TestApp::start(url, referral::NAME, &SETS, referral::start).await;
    /// let sefton = app.user(SEFTON, Role::Commissioner);
    /// let (status, referral) = app.referrals().create(&sefton, &body).await;
    /// ```
    pub async fn start(
        url: &str,
        service: &'static str,
        migrations: &'static [&'static Migrations],
        start: impl Start,
    ) -> Self {
        ServiceCtx::start(url, service, migrations, start)
            .await
            .into_app()
            .await
    }

    /// Sends `req` as `user` (its bearer token added).
    pub async fn send(&self, user: &User, req: TestRequest) -> Reply {
        let raw = self.send_raw(user, req).await;
        (raw.status, raw.json())
    }

    /// Sends `req` as `user` and answers the whole response (headers and raw body too).
    /// Every answer is held to the service's OpenAPI document ([`crate::conformance`]): one
    /// that does not conform fails the test.
    pub async fn send_raw(&self, user: &User, req: TestRequest) -> RawReply {
        let req = req
            .insert_header(("authorization", format!("Bearer {}", user.token)))
            .to_request();
        let (method, path) = (req.method().to_string(), req.path().to_owned());
        let res = actix_web::test::call_service(&self.app, req).await;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = actix_web::test::read_body(res).await.to_vec();
        let raw = RawReply {
            status,
            headers,
            body,
        };
        let media_type = hub_platform::http::media_type(&raw.headers);
        if let Err(e) = self.conformance.check(&Exchange {
            method: &method,
            path: &path,
            status,
            media_type: media_type.as_deref(),
            body: &raw.body,
        }) {
            panic!("the answer does not conform to the service's OpenAPI document: {e}");
        }
        raw
    }

    /// `method` on `path` as `user`, with `body` as JSON if any.
    pub async fn request(
        &self,
        user: &User,
        method: Method,
        path: &str,
        body: Option<&dyn erased::Json>,
    ) -> Reply {
        let req = TestRequest::default().method(method).uri(path);
        let req = match body {
            Some(b) => req.set_json(b.to_value()),
            None => req,
        };
        self.send(user, req).await
    }

    /// `GET path` as `user`.
    pub async fn get(&self, user: &User, path: &str) -> Reply {
        self.request(user, Method::GET, path, None).await
    }

    /// `POST path` as `user` with `body` as JSON.
    pub async fn post(&self, user: &User, path: &str, body: &impl Serialize) -> Reply {
        self.request(user, Method::POST, path, Some(body)).await
    }

    /// `POST path` as `user` with no body.
    pub async fn post_empty(&self, user: &User, path: &str) -> Reply {
        self.request(user, Method::POST, path, None).await
    }

    /// `PUT path` as `user` with `body` as JSON.
    pub async fn put(&self, user: &User, path: &str, body: &impl Serialize) -> Reply {
        self.request(user, Method::PUT, path, Some(body)).await
    }

    /// `PATCH path` as `user` with `body` as JSON.
    pub async fn patch(&self, user: &User, path: &str, body: &impl Serialize) -> Reply {
        self.request(user, Method::PATCH, path, Some(body)).await
    }

    /// `DELETE path` as `user`.
    pub async fn delete(&self, user: &User, path: &str) -> Reply {
        self.request(user, Method::DELETE, path, None).await
    }
}

/// A whole response: status, headers and the body's bytes.
#[derive(Debug)]
pub struct RawReply {
    pub status: u16,
    pub headers: actix_web::http::header::HeaderMap,
    pub body: Vec<u8>,
}

impl RawReply {
    /// A header's value, if it is there and is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (`null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// A JSON body behind `dyn`: anything `Serialize`.
pub mod erased {
    use serde::Serialize;
    use serde_json::Value;

    /// A value that can be sent as a JSON body.
    pub trait Json {
        fn to_value(&self) -> Value;
    }

    impl<T: Serialize + ?Sized> Json for T {
        fn to_value(&self) -> Value {
            serde_json::to_value(self).expect("a JSON body")
        }
    }
}
