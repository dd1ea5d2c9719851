//! Bearer-JWT authentication. Claims: `sub`, `org` (a council's GSS code or a provider's
//! id), `roles`. HS256 with the configured secret by default (`hub token` mints one); RS256
//! verified against a JWKS when `auth.jwks_url` is set (a council's own identity provider).
//! Once a JWKS is configured, HS256 tokens are refused unless `auth.allow_hs256_with_jwks`
//! says otherwise: the identity provider is then the one source of who someone is, and a
//! shared secret (which `hub token` can mint with) would be a second way in.

use std::{collections::HashSet, sync::Arc, time::Duration};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use futures::future::LocalBoxFuture;
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
    jwk::JwkSet,
};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use crate::{config::AuthSettings, problem::Problem};

/// What a user may do. A token carries one or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Commissioner,
    SocialWorker,
    Finance,
    Provider,
    Admin,
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| {
            format!("unknown role `{s}` (commissioner, social_worker, finance, provider, admin)")
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub org: String,
    pub roles: Vec<Role>,
    pub iss: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user (subject).
    pub sub: String,
    /// The organisation: a council's GSS code or a provider's id.
    pub org: String,
    pub roles: HashSet<Role>,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// 403 unless the caller holds one of `roles`.
    pub fn require_any(&self, roles: &[Role]) -> Result<(), Problem> {
        if roles.iter().any(|r| self.has(*r)) {
            Ok(())
        } else {
            let names: Vec<String> = roles
                .iter()
                .map(|r| format!("{r:?}").to_lowercase())
                .collect();
            Err(Problem::forbidden(format!(
                "this needs one of the roles: {}",
                names.join(", ")
            )))
        }
    }

    pub fn is_provider(&self) -> bool {
        self.has(Role::Provider)
    }
}

/// Verifies (and, for HS256, mints) tokens.
pub struct Authenticator {
    settings: AuthSettings,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwks: RwLock<Option<(std::time::Instant, JwkSet)>>,
    http: reqwest::Client,
}

impl Authenticator {
    pub fn new(settings: &AuthSettings) -> Arc<Self> {
        crate::install_crypto_provider();
        Arc::new(Self {
            encoding: EncodingKey::from_secret(settings.hs256_secret.as_bytes()),
            decoding: DecodingKey::from_secret(settings.hs256_secret.as_bytes()),
            settings: settings.clone(),
            jwks: RwLock::new(None),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("http client"),
        })
    }

    /// Mints an HS256 token (what `hub token` prints).
    pub fn mint(&self, sub: &str, org: &str, roles: &[Role], ttl: Duration) -> String {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: sub.to_owned(),
            org: org.to_owned(),
            roles: roles.to_vec(),
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
            iat: now,
            exp: now + ttl.as_secs(),
        };
        self.sign(&claims)
    }

    /// Signs any claims with the HS256 secret.
    pub fn sign(&self, claims: &Claims) -> String {
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    /// A token lasting the configured lifetime.
    pub fn mint_default(&self, sub: &str, org: &str, roles: &[Role]) -> String {
        self.mint(
            sub,
            org,
            roles,
            Duration::from_secs(self.settings.token_ttl_seconds),
        )
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut v = Validation::new(alg);
        v.set_issuer(&[&self.settings.issuer]);
        v.set_audience(&[&self.settings.audience]);
        v.leeway = 30;
        v.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        v
    }

    /// Verifies a bearer token.
    pub async fn verify(&self, token: &str) -> Result<Principal, Problem> {
        let header = decode_header(token)
            .map_err(|_| Problem::unauthorized("the bearer token is not a JWT"))?;
        let data = match header.alg {
            Algorithm::HS256
                if self.settings.jwks_url.is_empty() || self.settings.allow_hs256_with_jwks =>
            {
                decode::<Claims>(token, &self.decoding, &self.validation(Algorithm::HS256))
            }
            Algorithm::RS256 if !self.settings.jwks_url.is_empty() => {
                let kid = header
                    .kid
                    .ok_or_else(|| Problem::unauthorized("an RS256 token needs a `kid`"))?;
                let key = self.jwk(&kid).await?;
                decode::<Claims>(token, &key, &self.validation(Algorithm::RS256))
            }
            other => {
                return Err(Problem::unauthorized(format!(
                    "tokens signed with {other:?} are not accepted"
                )));
            }
        };
        let claims = data
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                Problem::unauthorized(match e.kind() {
                    ErrorKind::ExpiredSignature => "the token has expired".to_owned(),
                    ErrorKind::InvalidSignature => "the token's signature is not valid".to_owned(),
                    ErrorKind::InvalidIssuer => "the token was issued by someone else".to_owned(),
                    ErrorKind::InvalidAudience => "the token is for another audience".to_owned(),
                    ErrorKind::MissingRequiredClaim(c) => format!("the token has no `{c}` claim"),
                    _ => "the token is not valid".to_owned(),
                })
            })?
            .claims;
        if claims.org.is_empty() || claims.roles.is_empty() {
            return Err(Problem::unauthorized(
                "the token needs an `org` and at least one role",
            ));
        }
        Ok(Principal {
            sub: claims.sub,
            org: claims.org,
            roles: claims.roles.into_iter().collect(),
        })
    }

    /// The JWKS key with this id. The set is cached for five minutes and fetched again
    /// sooner for a `kid` it does not hold (the identity provider rotated its keys), but at
    /// most once every ten seconds, so tokens with made-up key ids cannot make the platform
    /// hammer the identity provider.
    async fn jwk(&self, kid: &str) -> Result<DecodingKey, Problem> {
        const KEEP: Duration = Duration::from_secs(300);
        const REFETCH_AFTER: Duration = Duration::from_secs(10);
        if let Some((at, set)) = self.jwks.read().await.as_ref()
            && at.elapsed() < KEEP
        {
            match set.find(kid) {
                Some(jwk) => {
                    return DecodingKey::from_jwk(jwk)
                        .map_err(|_| Problem::unauthorized("the signing key is unusable"));
                }
                None if at.elapsed() < REFETCH_AFTER => {
                    return Err(Problem::unauthorized(
                        "the token's key is not in the identity provider's JWKS",
                    ));
                }
                None => {}
            }
        }
        let set: JwkSet = self
            .http
            .get(&self.settings.jwks_url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| {
                Problem::unavailable(format!(
                    "the identity provider's keys could not be fetched: {e}"
                ))
            })?
            .json()
            .await
            .map_err(|_| Problem::unavailable("the identity provider's JWKS is not valid JSON"))?;
        let key = set
            .find(kid)
            .ok_or_else(|| {
                Problem::unauthorized("the token's key is not in the identity provider's JWKS")
            })
            .and_then(|jwk| {
                DecodingKey::from_jwk(jwk)
                    .map_err(|_| Problem::unauthorized("the signing key is unusable"))
            });
        *self.jwks.write().await = Some((std::time::Instant::now(), set));
        key
    }
}

impl FromRequest for Principal {
    type Error = Problem;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let auth = req.app_data::<web::Data<Authenticator>>().cloned();
        let header = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .cloned();
        let req = req.clone();
        Box::pin(async move {
            let auth =
                auth.ok_or_else(|| Problem::from(anyhow::anyhow!("no Authenticator in app data")))?;
            let header = header
                .ok_or_else(|| Problem::unauthorized("send `Authorization: Bearer <token>`"))?;
            let token = header
                .to_str()
                .ok()
                .and_then(|h| {
                    h.strip_prefix("Bearer ")
                        .or_else(|| h.strip_prefix("bearer "))
                })
                .ok_or_else(|| {
                    Problem::unauthorized("the Authorization header must be `Bearer <token>`")
                })?;
            let principal = auth.verify(token.trim()).await?;
            req.extensions_mut().insert(principal.clone());
            Ok(principal)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Arc<Authenticator> {
        Authenticator::new(&crate::Settings::load_with(&[]).unwrap().auth)
    }

    #[tokio::test]
    async fn minted_tokens_verify_with_their_claims() {
        let a = auth();
        let t = a.mint_default("jo", "E08000014", &[Role::Commissioner, Role::SocialWorker]);
        let p = a.verify(&t).await.unwrap();
        assert_eq!(p.org, "E08000014");
        assert!(p.has(Role::SocialWorker) && !p.has(Role::Finance));
        assert!(p.require_any(&[Role::Finance]).is_err());
    }

    #[tokio::test]
    async fn expired_and_foreign_tokens_are_refused() {
        let a = auth();
        let now = jsonwebtoken::get_current_timestamp();
        let expired = Claims {
            sub: "jo".into(),
            org: "E08000014".into(),
            roles: vec![Role::Commissioner],
            iss: "commissioning-hub".into(),
            aud: "commissioning-hub".into(),
            iat: now - 7200,
            exp: now - 3600,
        };
        let t = encode(&Header::default(), &expired, &a.encoding).unwrap();
        assert_eq!(
            a.verify(&t).await.unwrap_err().detail.as_deref(),
            Some("the token has expired")
        );
        let other = Authenticator::new(&AuthSettings {
            hs256_secret: "another-secret-another-secret-another".into(),
            ..crate::Settings::load_with(&[]).unwrap().auth
        });
        let forged = other.mint_default("jo", "E08000014", &[Role::Admin]);
        assert_eq!(a.verify(&forged).await.unwrap_err().status, 401);
        assert!("nurse".parse::<Role>().is_err());
        assert_eq!("social_worker".parse::<Role>().unwrap(), Role::SocialWorker);
    }
}
