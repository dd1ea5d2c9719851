//! Standard Webhooks signing: `whsec_` secrets, `v1,` HMAC-SHA256 signatures over
//! `{id}.{timestamp}.{body}`, and the receiver's verification (5 minutes' tolerance, any of
//! several space-separated signatures while a rotated secret overlaps).

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Prefix of every signing secret (Standard Webhooks).
pub const SECRET_PREFIX: &str = "whsec_";
/// Bytes of key in a new secret.
pub const SECRET_BYTES: usize = 24;
/// How far a `webhook-timestamp` may be from the receiver's clock (Standard Webhooks: 5 min).
pub const TOLERANCE_SECS: i64 = 5 * 60;
/// How long the previous secret keeps signing (as a second signature) after a rotation.
pub const ROTATION_OVERLAP_MS: i64 = 24 * 3600 * 1000;

/// A new signing secret: `whsec_` + base64 of 24 random bytes from the operating system's
/// CSPRNG (through rustls' ring provider, already a dependency of the platform).
pub fn new_secret() -> String {
    let mut key = [0u8; SECRET_BYTES];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut key)
        .expect("the operating system's random number generator failed");
    format!("{SECRET_PREFIX}{}", BASE64.encode(key))
}

/// The HMAC key of a secret: base64-decoded after the optional `whsec_` prefix. A secret that
/// is not base64 is used as raw bytes (the reference libraries refuse it; we never issue one).
pub fn secret_key(secret: &str) -> Vec<u8> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    BASE64
        .decode(encoded)
        .unwrap_or_else(|_| encoded.as_bytes().to_vec())
}

fn mac(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(&secret_key(secret)).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The Standard Webhooks signature of a message: `v1,` + base64(HMAC-SHA256(key, `{id}.{timestamp}.{body}`)).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "v1,{}",
        BASE64.encode(mac(secret, id, timestamp, body).finalize().into_bytes())
    )
}

/// Why a webhook was refused by [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the webhook-timestamp is more than 5 minutes old")]
    TooOld,
    #[error("the webhook-timestamp is more than 5 minutes in the future")]
    InFuture,
    #[error("no v1 signature in the webhook-signature header matches")]
    NoMatch,
}

/// Verifies a webhook as a receiver does: `timestamp` must be within [`TOLERANCE_SECS`] of
/// `now` (unix seconds), and one of the space-separated `v1,<base64>` signatures in
/// `signature_header` must match (compared in constant time). Several signatures appear
/// while a rotated secret's predecessor is still valid.
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
    signature_header: &str,
    now: i64,
) -> Result<(), SignatureError> {
    if now - timestamp > TOLERANCE_SECS {
        return Err(SignatureError::TooOld);
    }
    if timestamp - now > TOLERANCE_SECS {
        return Err(SignatureError::InFuture);
    }
    let expected = mac(secret, id, timestamp, body);
    signature_header
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|s| BASE64.decode(s).ok())
        .any(|sig| expected.clone().verify_slice(&sig).is_ok())
        .then_some(())
        .ok_or(SignatureError::NoMatch)
}

/// The secrets that sign a delivery at `now_ms`: the current one, plus the previous one
/// until `previous_until_ms` (a rotation's overlap).
pub fn signing_secrets(
    secret: &str,
    previous: Option<&str>,
    previous_until_ms: Option<i64>,
    now_ms: i64,
) -> Vec<String> {
    let mut secrets = vec![secret.to_owned()];
    if let (Some(prev), Some(until)) = (previous, previous_until_ms)
        && until > now_ms
    {
        secrets.push(prev.to_owned());
    }
    secrets
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector of the Standard Webhooks reference implementations (also the Svix
    /// libraries' `sign` tests): github.com/standard-webhooks/standard-webhooks, libraries/*.
    #[test]
    fn signs_the_standard_webhooks_test_vectors() {
        assert_eq!(
            sign(
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        // libraries/rust/src/lib.rs `test_sign` in the reference repository.
        assert_eq!(
            sign(
                "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1649367553,
                br#"{"email":"test@example.com","username":"test_user"}"#
            ),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
        // The prefix is optional.
        assert_eq!(
            sign(
                "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn verify_accepts_what_sign_makes_and_nothing_else() {
        let secret = new_secret();
        let (id, ts, body) = (
            "01936f5e-0000-7000-8000-000000000000",
            1_760_000_000,
            br#"{"type":"x"}"#.as_slice(),
        );
        let sig = sign(&secret, id, ts, body);
        assert_eq!(verify(&secret, id, ts, body, &sig, ts), Ok(()));
        assert_eq!(
            verify(&secret, id, ts, body, &sig, ts + TOLERANCE_SECS),
            Ok(())
        );
        assert_eq!(
            verify(&secret, id, ts, b"{\"type\":\"y\"}", &sig, ts),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(&secret, "other", ts, body, &sig, ts),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(&secret, id, ts + 1, body, &sig, ts),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(&new_secret(), id, ts, body, &sig, ts),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(&secret, id, ts, body, &sig, ts + TOLERANCE_SECS + 1),
            Err(SignatureError::TooOld)
        );
        assert_eq!(
            verify(&secret, id, ts, body, &sig, ts - TOLERANCE_SECS - 1),
            Err(SignatureError::InFuture)
        );
        // A truncated or empty signature is not a prefix match.
        assert_eq!(
            verify(&secret, id, ts, body, "v1,", ts),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(&secret, id, ts, body, &sig[..sig.len() - 8], ts),
            Err(SignatureError::NoMatch)
        );
        // Several signatures (rotation): any one matching is enough.
        let rotated = format!("{} {sig}", sign(&new_secret(), id, ts, body));
        assert_eq!(verify(&secret, id, ts, body, &rotated, ts), Ok(()));
        assert_eq!(
            verify(&secret, id, ts, body, &sig.replacen("v1,", "v2,", 1), ts),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn secrets_are_whsec_and_24_random_bytes() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with("whsec_"));
        assert_ne!(a, b);
        assert_eq!(secret_key(&a).len(), SECRET_BYTES);
    }
}
