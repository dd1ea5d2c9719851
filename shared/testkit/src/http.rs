//! Calling the actix test service, and checking the problems it answers with.

use actix_web::{
    body::MessageBody,
    dev::{Service, ServiceResponse},
    test::{self, TestRequest},
};
use serde_json::Value;

/// Sends `req` with `token` as its bearer token: (status, JSON body, or `null` when the body
/// is not JSON).
pub async fn call_request<S, B>(app: &S, req: TestRequest, token: &str) -> (u16, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let req = req
        .insert_header(("authorization", format!("Bearer {token}")))
        .to_request();
    let res = test::call_service(app, req).await;
    let status = res.status().as_u16();
    let bytes = test::read_body(res).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Calls the app: `method` (`GET`, `PUT`, `PATCH`, `DELETE`, otherwise `POST`) on `path`,
/// with `token` and the JSON `body` if any: (status, JSON body).
pub async fn call<S, B>(
    app: &S,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let req = match method {
        "GET" => TestRequest::get(),
        "PUT" => TestRequest::put(),
        "PATCH" => TestRequest::patch(),
        "DELETE" => TestRequest::delete(),
        _ => TestRequest::post(),
    }
    .uri(path);
    let req = match body {
        Some(b) => req.set_json(b),
        None => req,
    };
    call_request(app, req, token).await
}

/// Asserts a problem: the status, the type `/problems/<slug>`, and (if given) that one of the
/// errors has that field and rule.
#[track_caller]
pub fn assert_problem(
    got: &(u16, Value),
    status: u16,
    slug: &str,
    field_rule: Option<(&str, &str)>,
) {
    let (s, body) = got;
    assert_eq!(*s, status, "{body}");
    assert_eq!(body["type"], format!("/problems/{slug}"), "{body}");
    if let Some((field, rule)) = field_rule {
        let errors = body["errors"].as_array().cloned().unwrap_or_default();
        assert!(
            errors
                .iter()
                .any(|e| e["field"] == field && e["rule"] == rule),
            "expected {field} {rule} in {body}"
        );
    }
}
