//! HTTP pieces every service mounts: the validating JSON extractor, health, metrics and the
//! OpenAPI document.

use std::sync::Arc;

use actix_web::{
    FromRequest, HttpRequest, HttpResponse, Responder,
    body::MessageBody,
    dev::{Payload, ServiceRequest, ServiceResponse},
    middleware::Next,
    web,
};
use futures::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

pub use crate::metrics::Metrics;
use crate::problem::{FieldError, Problem};

/// Rules a request body must keep beyond its shape. The default keeps none.
pub trait Validate {
    fn validate(&self) -> Vec<FieldError> {
        Vec::new()
    }
}

/// A JSON request body, deserialised strictly and validated. Every failure is a problem
/// naming the field (as a JSON pointer) and the rule: 415 for a wrong media type, 400 for
/// malformed JSON, 422 for a missing, unknown or mistyped field or a broken rule.
pub struct Json<T>(pub T);

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for Json<T> {
    type Error = Problem;
    type Future = LocalBoxFuture<'static, Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = media_type(req.headers());
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            match content_type.as_deref() {
                Some(ct) if is_json(ct) => {}
                other => {
                    return Err(Problem::new(
                        actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "unsupported-media-type",
                        "The body must be JSON",
                    )
                    .with_detail(format!(
                        "send Content-Type: application/json (got {})",
                        other.unwrap_or("none")
                    )));
                }
            }
            let bytes = body.await.map_err(|e| Problem::malformed(e.to_string()))?;
            let value = parse_json::<T>(&bytes)?;
            let errors = value.validate();
            if errors.is_empty() {
                Ok(Json(value))
            } else {
                Err(Problem::validation(errors))
            }
        })
    }
}

/// The request's media type (`Content-Type` without parameters, in lower case).
pub fn media_type(headers: &actix_web::http::header::HeaderMap) -> Option<String> {
    headers
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
}

/// `application/json` or `application/<something>+json`.
fn is_json(media_type: &str) -> bool {
    media_type == "application/json"
        || (media_type.starts_with("application/") && media_type.ends_with("+json"))
}

/// A JSON body that may be left out altogether (empty or only whitespace: then
/// `T::default()`); when given it is read and validated as strictly as [`Json`].
pub fn optional_body<T: DeserializeOwned + Validate + Default>(bytes: &[u8]) -> Result<T, Problem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let value: T = parse_json(bytes)?;
    let errors = value.validate();
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(Problem::validation(errors))
    }
}

/// The longest text any field of a request body may hold, in characters: the documented
/// ceiling of every free-text field (a child's `about_me`, reasons, notes, descriptions…),
/// checked with 422 `max_length` naming the field. Fields with a tighter rule of their own
/// (a webhook description, 500; a route reason, 2,000) keep it. 10,000 characters is some
/// 1,500 words: more than a placement team writes in one field, far less than a body that
/// would fill the database.
pub const MAX_TEXT_CHARS: usize = 10_000;

/// The first string in `value` longer than [`MAX_TEXT_CHARS`], as a 422 naming its field.
fn overlong_text(value: &serde_json::Value, pointer: &mut String) -> Option<Problem> {
    use serde_json::Value;
    let mut within = |key: &str, v: &Value| {
        let len = pointer.len();
        pointer.push('/');
        pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
        let found = overlong_text(v, pointer);
        pointer.truncate(len);
        found
    };
    match value {
        Value::String(text) if text.chars().count() > MAX_TEXT_CHARS => {
            Some(Problem::validation(vec![FieldError::new(
                if pointer.is_empty() {
                    "/"
                } else {
                    pointer.as_str()
                },
                "max_length",
                format!("at most {MAX_TEXT_CHARS} characters"),
            )]))
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| within(&i.to_string(), v)),
        Value::Object(map) => map.iter().find_map(|(k, v)| within(k, v)),
        _ => None,
    }
}

/// Deserialises `bytes` as `T`, naming the offending field on failure. Every text in the
/// body is held to [`MAX_TEXT_CHARS`] first.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    if bytes.len() > MAX_TEXT_CHARS
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes)
        && let Some(problem) = overlong_text(&value, &mut String::new())
    {
        return Err(problem);
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize::<_, T>(de).map_err(|err| {
        let pointer = pointer_of(err.path());
        let inner = err.into_inner();
        use serde_json::error::Category;
        match inner.classify() {
            Category::Syntax | Category::Eof | Category::Io => {
                Problem::malformed(format!("the body is not valid JSON: {inner}"))
            }
            Category::Data => {
                let msg = inner.to_string();
                let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
                let named = msg.split('`').nth(1).map(str::to_owned);
                let (rule, field) = if msg.starts_with("missing field") {
                    ("required", join_pointer(&pointer, named.as_deref()))
                } else if msg.starts_with("unknown field") {
                    ("unknown_field", join_pointer(&pointer, named.as_deref()))
                } else if msg.starts_with("invalid type") {
                    ("type", pointer)
                } else if msg.starts_with("unknown variant") {
                    ("one_of", pointer)
                } else {
                    ("format", pointer)
                };
                let field = if field.is_empty() {
                    "/".to_owned()
                } else {
                    field
                };
                Problem::validation(vec![FieldError::new(field, rule, msg)])
            }
        }
    })
}

fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => out.push_str(&format!("/{key}")),
            Segment::Enum { variant } => out.push_str(&format!("/{variant}")),
            Segment::Unknown => {}
        }
    }
    out
}

fn join_pointer(pointer: &str, name: Option<&str>) -> String {
    match name {
        Some(n) if !pointer.ends_with(&format!("/{n}")) => format!("{pointer}/{n}"),
        _ => pointer.to_owned(),
    }
}

/// A dependency `/health/ready` checks.
#[async_trait::async_trait]
pub trait ReadinessCheck: Send + Sync {
    fn name(&self) -> String;
    async fn check(&self) -> Result<(), String>;
}

#[async_trait::async_trait]
impl ReadinessCheck for crate::db::Database {
    fn name(&self) -> String {
        format!("database {}", self.location)
    }
    async fn check(&self) -> Result<(), String> {
        self.ping().await.map_err(|e| e.to_string())
    }
}

/// What the operational endpoints serve.
pub struct Ops {
    pub checks: Vec<Arc<dyn ReadinessCheck>>,
    pub openapi_json: String,
    /// How long one readiness check may take before it counts as down
    /// (`server.ready_check_timeout_ms`). The checks run concurrently, so `/health/ready`
    /// answers within about this long however many there are.
    pub check_timeout: std::time::Duration,
}

/// Mounts `/health/live`, `/health/ready`, `/metrics` and `/openapi.json` (no token needed).
pub fn ops_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health/live", web::get().to(live))
        .route("/health/ready", web::get().to(ready))
        .route("/metrics", web::get().to(metrics))
        .route("/openapi.json", web::get().to(openapi));
}

async fn live() -> impl Responder {
    HttpResponse::Ok().json(serde_json::json!({ "status": "up" }))
}

async fn ready(ops: web::Data<Ops>) -> impl Responder {
    let results = futures::future::join_all(ops.checks.iter().map(|c| async {
        let result = tokio::time::timeout(ops.check_timeout, c.check())
            .await
            .unwrap_or_else(|_| Err("timed out".to_owned()));
        (c.name(), result)
    }))
    .await;
    let all_ok = results.iter().all(|(_, r)| r.is_ok());
    let checks: serde_json::Map<String, serde_json::Value> = results
        .into_iter()
        .map(|(name, r)| {
            (
                name,
                serde_json::json!(r.err().unwrap_or_else(|| "up".to_owned())),
            )
        })
        .collect();
    let body =
        serde_json::json!({ "status": if all_ok { "up" } else { "down" }, "checks": checks });
    if all_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

async fn metrics(m: web::Data<Metrics>) -> impl Responder {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(m.render())
}

async fn openapi(ops: web::Data<Ops>) -> impl Responder {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(ops.openapi_json.clone())
}

/// Merges services' OpenAPI documents into one, with the bearer security scheme, every error
/// response as problem+json and the statuses every operation implies
/// ([`crate::openapi::complete_problems`]).
pub fn openapi_document(
    title: &str,
    parts: Vec<utoipa::openapi::OpenApi>,
) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
    let mut doc = utoipa::openapi::OpenApiBuilder::new()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title(title)
                .version(env!("CARGO_PKG_VERSION"))
                .build(),
        )
        .build();
    for part in parts {
        doc.merge(part);
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    crate::openapi::complete_problems(&mut doc);
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        child: Child,
    }
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Child {
        age: u32,
    }

    fn err(json: &str) -> Problem {
        parse_json::<Body>(json.as_bytes()).unwrap_err()
    }

    #[test]
    fn json_errors_name_the_field_and_the_rule() {
        let p = err("{\"name\": ");
        assert_eq!(
            (p.status, p.problem_type.as_str()),
            (400, "/problems/malformed-request")
        );
        let p = err(r#"{"name": "x"}"#);
        assert_eq!(p.status, 422);
        assert_eq!(
            (p.errors[0].field.as_str(), p.errors[0].rule.as_str()),
            ("/child", "required")
        );
        let p = err(r#"{"name": "x", "child": {"age": "ten"}}"#);
        assert_eq!(
            (p.errors[0].field.as_str(), p.errors[0].rule.as_str()),
            ("/child/age", "type")
        );
        let p = err(r#"{"name": "x", "child": {"age": 3, "nick": "y"}}"#);
        assert_eq!(
            (p.errors[0].field.as_str(), p.errors[0].rule.as_str()),
            ("/child/nick", "unknown_field")
        );
    }

    #[test]
    fn every_text_is_held_to_the_ceiling_naming_its_field() {
        let long = "é".repeat(MAX_TEXT_CHARS + 1);
        let p = err(
            &serde_json::json!({"name": "x", "child": {"age": 3, "notes": ["ok", long]}})
                .to_string(),
        );
        assert_eq!(
            (
                p.status,
                p.errors[0].field.as_str(),
                p.errors[0].rule.as_str()
            ),
            (422, "/child/notes/1", "max_length")
        );
        // At the ceiling (counted in characters, not bytes) a text passes this check.
        let at = "é".repeat(MAX_TEXT_CHARS);
        let p = err(&serde_json::json!({"name": at}).to_string());
        assert_eq!(
            (p.errors[0].field.as_str(), p.errors[0].rule.as_str()),
            ("/child", "required")
        );
    }

    #[derive(Debug, Default, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Note {
        #[serde(default)]
        reason: Option<String>,
    }
    impl Validate for Note {
        fn validate(&self) -> Vec<FieldError> {
            match &self.reason {
                Some(r) if r.trim().is_empty() => {
                    vec![FieldError::new("/reason", "required", "say why")]
                }
                _ => Vec::new(),
            }
        }
    }

    #[test]
    fn an_optional_body_left_out_is_the_default_and_given_is_read_strictly() {
        for empty in ["", "  \n"] {
            assert_eq!(optional_body::<Note>(empty.as_bytes()), Ok(Note::default()));
        }
        assert_eq!(optional_body::<Note>(b"{}"), Ok(Note::default()));
        assert_eq!(
            optional_body::<Note>(br#"{"reason": "moved"}"#),
            Ok(Note {
                reason: Some("moved".into())
            })
        );
        let p = optional_body::<Note>(br#"{"why": 1}"#).unwrap_err();
        assert_eq!(
            (
                p.status,
                p.errors[0].field.as_str(),
                p.errors[0].rule.as_str()
            ),
            (422, "/why", "unknown_field")
        );
        let p = optional_body::<Note>(br#"{"reason": " "}"#).unwrap_err();
        assert_eq!(
            (
                p.status,
                p.errors[0].field.as_str(),
                p.errors[0].rule.as_str()
            ),
            (422, "/reason", "required")
        );
        assert_eq!(optional_body::<Note>(b"[").unwrap_err().status, 400);
    }
}

/// What a service contributes to an HTTP server: its routes, its OpenAPI document and the
/// metric families of its own workers (registered into the platform's registry at start).
/// The embedded server mounts every service's routes side by side; a distributed process
/// mounts one.
pub struct Mounted {
    pub name: &'static str,
    pub configure: Arc<dyn Fn(&mut web::ServiceConfig) + Send + Sync>,
    pub openapi: utoipa::openapi::OpenApi,
    pub metrics: Vec<Box<dyn prometheus::core::Collector>>,
}

/// What the server answers for a request no route takes: 405 with `Allow` when its path is
/// an operation's path under other methods, 404 otherwise. The paths and their methods are
/// read from the mounted services' OpenAPI documents, which the conformance tests hold to
/// the routes, so there is no second list of routes to keep.
#[derive(Clone)]
pub struct Fallback {
    paths: Arc<Vec<(actix_web::dev::ResourceDef, Vec<&'static str>)>>,
}

impl Fallback {
    /// The fallback for `mounted`.
    pub fn of(mounted: &[Mounted]) -> Self {
        Self::of_documents(mounted.iter().map(|m| &m.openapi))
    }

    /// The fallback for these OpenAPI documents.
    pub fn of_documents<'a>(docs: impl IntoIterator<Item = &'a utoipa::openapi::OpenApi>) -> Self {
        let mut paths = Vec::new();
        for doc in docs {
            for (path, item) in &doc.paths.paths {
                let methods: Vec<&'static str> = [
                    ("GET", item.get.is_some()),
                    ("HEAD", item.head.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ]
                .into_iter()
                .filter_map(|(m, has)| has.then_some(m))
                .collect();
                paths.push((actix_web::dev::ResourceDef::new(path.as_str()), methods));
            }
        }
        Self {
            paths: Arc::new(paths),
        }
    }

    /// The problem for a request to `path` that no route took.
    pub fn answer(&self, path: &str) -> Problem {
        let mut allow: Vec<&str> = self
            .paths
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .flat_map(|(_, methods)| methods.iter().copied())
            .collect();
        if allow.is_empty() {
            return Problem::not_found("resource");
        }
        let order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
        allow.sort_by_key(|m| order.iter().position(|o| o == m));
        allow.dedup();
        Problem::method_not_allowed(&allow)
    }

    /// As an actix default service: `.default_service(fallback.service())`.
    pub fn service(
        &self,
    ) -> impl Fn(HttpRequest) -> std::future::Ready<Result<HttpResponse, Problem>> + Clone + 'static
    {
        let this = self.clone();
        move |req: HttpRequest| std::future::ready(Err(this.answer(req.path())))
    }
}

/// How much of a request body the platform takes, and how long it waits for it
/// (`server.max_json_bytes`, `server.max_upload_bytes`, `server.request_timeout_ms`).
#[derive(Debug, Clone)]
pub struct BodyLimits {
    /// JSON bodies (`application/json`, `application/*+json`).
    pub json_bytes: usize,
    /// Any other body (CSV and XLSX uploads).
    pub upload_bytes: usize,
    /// From the end of the headers to the last byte of the body. (The headers themselves
    /// are held to the same time by the server: `HttpServer::client_request_timeout`.)
    pub timeout: std::time::Duration,
}

impl BodyLimits {
    pub fn from_settings(server: &crate::config::ServerSettings) -> Self {
        Self {
            json_bytes: server.max_json_bytes,
            upload_bytes: server.max_upload_bytes,
            timeout: std::time::Duration::from_millis(server.request_timeout_ms),
        }
    }
}

/// Reads every request body whole before the handler runs, so that a body which is too
/// large is answered 413 and one that stops arriving 408, both `application/problem+json`
/// naming the setting, whichever extractor the handler uses. A declared `Content-Length`
/// over the limit is refused before anything is read. Needs [`BodyLimits`] in app data.
/// A request with an `Idempotency-Key` is fingerprinted here, body and all
/// ([`crate::idempotency`]).
pub async fn guard_bodies<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<B>>, actix_web::Error> {
    use futures::StreamExt as _;
    let limits = req
        .app_data::<web::Data<BodyLimits>>()
        .cloned()
        .ok_or_else(|| Problem::from(anyhow::anyhow!("no BodyLimits in app data")))?;
    let (limit, key) = if media_type(req.headers()).is_some_and(|ct| is_json(&ct)) {
        (limits.json_bytes, "server.max_json_bytes")
    } else {
        (limits.upload_bytes, "server.max_upload_bytes")
    };
    let too_large = || {
        Problem::new(
            actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "The request body is too large",
        )
        .with_detail(format!("at most {limit} bytes ({key})"))
    };
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Ok(req.error_response(too_large()).map_into_right_body());
    }
    let deadline = tokio::time::Instant::now() + limits.timeout;
    let mut payload = actix_web::HttpMessage::take_payload(&mut req);
    let mut body = web::BytesMut::new();
    loop {
        match tokio::time::timeout_at(deadline, payload.next()).await {
            Err(_) => {
                let timeout = Problem::new(
                    actix_web::http::StatusCode::REQUEST_TIMEOUT,
                    "request-timeout",
                    "The request body did not arrive in time",
                )
                .with_detail(format!(
                    "the whole body must arrive within {} ms (server.request_timeout_ms)",
                    limits.timeout.as_millis()
                ));
                return Ok(req.error_response(timeout).map_into_right_body());
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return Ok(req
                    .error_response(Problem::malformed(e.to_string()))
                    .map_into_right_body());
            }
            Ok(Some(Ok(chunk))) => {
                if body.len() + chunk.len() > limit {
                    return Ok(req.error_response(too_large()).map_into_right_body());
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
    if req.headers().contains_key(crate::idempotency::HEADER) {
        let fingerprint =
            crate::idempotency::fingerprint(req.method().as_str(), &req.uri().to_string(), &body);
        actix_web::HttpMessage::extensions_mut(&req).insert(fingerprint);
    }
    req.set_payload(actix_web::dev::Payload::from(body.freeze()));
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod ready_tests {
    use std::time::{Duration, Instant};

    use actix_web::{App, test};

    use super::*;

    /// A readiness check that answers after `delay`, or never.
    struct Slow {
        name: &'static str,
        delay: Option<Duration>,
    }

    #[async_trait::async_trait]
    impl ReadinessCheck for Slow {
        fn name(&self) -> String {
            self.name.to_owned()
        }
        async fn check(&self) -> Result<(), String> {
            match self.delay {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
            Ok(())
        }
    }

    /// `/health/ready` with `checks`, each given `timeout`: the status, the body and how long
    /// it took.
    async fn ready_with(
        checks: Vec<Slow>,
        timeout: Duration,
    ) -> (u16, serde_json::Value, Duration) {
        let ops = web::Data::new(Ops {
            checks: checks
                .into_iter()
                .map(|c| Arc::new(c) as Arc<dyn ReadinessCheck>)
                .collect(),
            openapi_json: "{}".to_owned(),
            check_timeout: timeout,
        });
        let app = test::init_service(App::new().app_data(ops).configure(ops_routes)).await;
        let started = Instant::now();
        let res = test::call_service(
            &app,
            test::TestRequest::get().uri("/health/ready").to_request(),
        )
        .await;
        let status = res.status().as_u16();
        let body: serde_json::Value = test::read_body_json(res).await;
        (status, body, started.elapsed())
    }

    /// Issue 11 point 6: the checks run concurrently, so slow ones do not add up: three
    /// checks of 600 ms each answer in well under their 1.8 s sum.
    #[actix_web::test]
    async fn slow_checks_do_not_add_up() {
        let slow = |name| Slow {
            name,
            delay: Some(Duration::from_millis(600)),
        };
        let (status, body, took) = ready_with(
            vec![slow("database"), slow("bus"), slow("outbox")],
            Duration::from_secs(3),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["checks"]["database"], "up", "{body}");
        assert_eq!(body["checks"].as_object().map(|m| m.len()), Some(3));
        assert!(took < Duration::from_millis(1500), "took {took:?}");
    }

    /// Checks that never answer are down ("timed out") after the configured timeout, and the
    /// others are still reported, all within about that one timeout (one after another, the
    /// three hung checks would take 1.2 s).
    #[actix_web::test]
    async fn hung_checks_are_down_after_one_timeout_and_the_rest_still_report() {
        let hung = |name| Slow { name, delay: None };
        let (status, body, took) = ready_with(
            vec![
                hung("database"),
                hung("bus"),
                hung("outbox"),
                Slow {
                    name: "other database",
                    delay: Some(Duration::ZERO),
                },
            ],
            Duration::from_millis(400),
        )
        .await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["status"], "down");
        for name in ["database", "bus", "outbox"] {
            assert_eq!(body["checks"][name], "timed out", "{body}");
        }
        assert_eq!(body["checks"]["other database"], "up", "{body}");
        assert!(
            took >= Duration::from_millis(400) && took < Duration::from_millis(1000),
            "took {took:?}"
        );
    }
}

#[cfg(test)]
mod fallback_tests {
    use actix_web::{App, ResponseError, test};
    use utoipa::OpenApi;

    use super::*;

    #[utoipa::path(get, path = "/v1/things", responses((status = 200)))]
    #[allow(dead_code)]
    async fn list_things() {}

    #[utoipa::path(post, path = "/v1/things", responses((status = 201)))]
    #[allow(dead_code)]
    async fn create_thing() {}

    #[utoipa::path(put, path = "/v1/things/{id}", responses((status = 200)))]
    #[allow(dead_code)]
    async fn replace_thing() {}

    #[derive(OpenApi)]
    #[openapi(paths(list_things, create_thing, replace_thing))]
    struct Doc;

    async fn answer(method: &str, path: &str) -> (u16, Option<String>, serde_json::Value) {
        let fallback = Fallback::of_documents([&Doc::openapi()]);
        let app = test::init_service(App::new().default_service(web::to(fallback.service()))).await;
        let req = test::TestRequest::default()
            .method(method.parse().unwrap())
            .uri(path)
            .to_request();
        let res = test::call_service(&app, req).await;
        let status = res.status().as_u16();
        let allow = res
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned());
        (status, allow, test::read_body_json(res).await)
    }

    /// A wrong method on a path that exists is a 405 naming the methods it has; a path that
    /// does not exist is a 404, whatever the method.
    #[actix_web::test]
    async fn a_wrong_method_is_405_with_allow_and_an_unknown_path_404() {
        let (status, allow, body) = answer("DELETE", "/v1/things").await;
        assert_eq!(
            (status, allow.as_deref()),
            (405, Some("GET, POST")),
            "{body}"
        );
        assert_eq!(body["type"], "/problems/method-not-allowed");
        let (status, allow, _) = answer("GET", "/v1/things/0193a1b2").await;
        assert_eq!((status, allow.as_deref()), (405, Some("PUT")));
        let (status, allow, body) = answer("GET", "/v1/nothing").await;
        assert_eq!(
            (status, allow, &body["type"]),
            (404, None, &serde_json::json!("/problems/not-found"))
        );
    }

    /// A 401 carries the bearer challenge (RFC 6750), as problem+json.
    #[actix_web::test]
    async fn a_401_carries_the_bearer_challenge() {
        let res = Problem::unauthorized("send a token").error_response();
        assert_eq!(res.status().as_u16(), 401);
        assert_eq!(
            res.headers().get("www-authenticate").unwrap(),
            r#"Bearer realm="commissioning-hub""#
        );
        assert_eq!(
            res.headers().get("content-type").unwrap(),
            crate::problem::CONTENT_TYPE
        );
    }
}
