//! RS256 tokens from a council's own identity provider, verified against its JWKS served over
//! real HTTP. The key pair in `fixtures/` exists only for this test.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use actix_web::{App, HttpResponse, HttpServer, web};
use hub_platform::{Authenticator, Role, Settings, auth::Claims};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};

const PRIVATE_PEM: &str = include_str!("fixtures/test-idp-rsa.pem");
const JWKS: &str = include_str!("fixtures/test-idp-jwks.json");

fn claims(org: &str) -> Claims {
    let now = jsonwebtoken::get_current_timestamp();
    Claims {
        sub: "sw@sefton".into(),
        org: org.into(),
        roles: vec![Role::SocialWorker],
        iss: "commissioning-hub".into(),
        aud: "commissioning-hub".into(),
        iat: now,
        exp: now + 600,
    }
}

fn rs256(kid: &str, claims: &Claims) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(PRIVATE_PEM.as_bytes()).unwrap(),
    )
    .unwrap()
}

#[actix_web::test]
async fn rs256_tokens_verify_against_the_identity_providers_jwks() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().unwrap()
    );
    let fetches = Arc::new(AtomicUsize::new(0));
    let counted = fetches.clone();
    let server = HttpServer::new(move || {
        let counted = counted.clone();
        App::new().route(
            "/.well-known/jwks.json",
            web::get().to(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                async {
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .body(JWKS)
                }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    let settings = Settings::load_with(&[("auth.jwks_url", &url)]).unwrap();
    let auth = Authenticator::new(&settings.auth);
    let principal = auth
        .verify(&rs256("test-idp-1", &claims("E08000014")))
        .await
        .unwrap();
    assert_eq!(principal.org, "E08000014");
    assert!(principal.has(Role::SocialWorker));
    // The set is cached: a second token costs no fetch.
    auth.verify(&rs256("test-idp-1", &claims("E08000012")))
        .await
        .unwrap();
    assert_eq!(fetches.load(Ordering::SeqCst), 1);

    // A key id the identity provider does not publish is refused; it makes the platform
    // fetch the set again only once the cached one is ten seconds old.
    let err = auth
        .verify(&rs256("someone-else", &claims("E08000014")))
        .await
        .unwrap_err();
    assert_eq!(err.status, 401);
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "fetched just now");

    // With a JWKS configured, HS256 tokens (the shared secret) are refused...
    let hs256 = auth.mint_default("jo", "E08000014", &[Role::Admin]);
    let err = auth.verify(&hs256).await.unwrap_err();
    assert_eq!(
        (err.status, err.detail.as_deref()),
        (401, Some("tokens signed with HS256 are not accepted"))
    );
    // ...unless explicitly allowed.
    let both = Settings::load_with(&[
        ("auth.jwks_url", &url),
        ("auth.allow_hs256_with_jwks", "true"),
    ])
    .unwrap();
    Authenticator::new(&both.auth).verify(&hs256).await.unwrap();
    // A tampered payload fails the signature check.
    let token = rs256("test-idp-1", &claims("E08000014"));
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = rs256("test-idp-1", &claims("E08000012"))
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    let err = auth.verify(&parts.join(".")).await.unwrap_err();
    assert_eq!(
        err.detail.as_deref(),
        Some("the token's signature is not valid")
    );

    // Without a JWKS URL, RS256 tokens are not accepted at all.
    let hs_only = Authenticator::new(&Settings::load_with(&[]).unwrap().auth);
    assert_eq!(
        hs_only
            .verify(&rs256("test-idp-1", &claims("E08000014")))
            .await
            .unwrap_err()
            .status,
        401
    );
    handle.stop(false).await;
}
