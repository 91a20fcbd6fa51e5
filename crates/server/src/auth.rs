//! Bearer tokens: a static list from the config, or short-lived tokens signed with
//! HMAC-SHA256 (`tdm1.<expiry>.<nonce>.<signature>`) minted by `tandem-server token`;
//! a signed token can be revoked before it expires by its nonce (`tandem-server
//! revoke`, kept in the shared store).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::config;
use crate::error::ApiError;

type HmacSha256 = Hmac<Sha256>;

/// Signed tokens start with this.
const PREFIX: &str = "tdm1";

/// A caller whose token checked out.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// The rate-limit key of the token (a hash of it).
    pub key: String,
    /// The token's nonce, when it is a signed token (revocable).
    pub signed_id: Option<String>,
}

/// A signed token that checked out.
#[derive(Debug, Clone, PartialEq)]
pub struct Signed {
    /// Its nonce: the id it is revoked by.
    pub id: String,
    /// Unix seconds.
    pub expires: u64,
}

impl Signed {
    /// How long it is still valid.
    pub fn lifetime_left(&self) -> Duration {
        Duration::from_secs(self.expires.saturating_sub(now_unix()))
    }
}

/// Who may call the API.
pub struct Auth {
    /// SHA-256 of each static token (compared as hashes, never as the token).
    tokens: Vec<[u8; 32]>,
    secret: Option<Vec<u8>>,
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The signing secret read from the env var `name`.
pub fn secret_from_env(name: &str) -> Result<Vec<u8>, String> {
    match std::env::var(name) {
        Ok(s) if s.len() >= 16 => Ok(s.into_bytes()),
        Ok(_) => Err(format!("{name} must hold at least 16 bytes")),
        Err(_) => Err(format!("env var {name} is not set")),
    }
}

fn signature(secret: &[u8], payload: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(payload.as_bytes());
    mac
}

/// A token valid for `ttl`, signed with `secret`.
pub fn mint(secret: &[u8], ttl: Duration) -> String {
    let nonce: [u8; 9] = rand::random();
    let payload = format!(
        "{PREFIX}.{}.{}",
        now_unix() + ttl.as_secs(),
        URL_SAFE_NO_PAD.encode(nonce)
    );
    let sig = signature(secret, &payload).finalize().into_bytes();
    format!("{payload}.{}", URL_SAFE_NO_PAD.encode(sig))
}

impl Auth {
    /// Tokens from the config; the secret from its env var.
    pub fn from_config(config: &config::Auth) -> Result<Self, String> {
        Ok(Auth {
            tokens: config.tokens.iter().map(|t| sha256(t.as_bytes())).collect(),
            secret: config
                .secret_env
                .as_deref()
                .map(secret_from_env)
                .transpose()?,
        })
    }

    /// Whether requests need a token.
    pub fn enabled(&self) -> bool {
        !self.tokens.is_empty() || self.secret.is_some()
    }

    /// Check the `Authorization` header: `Ok(None)` when auth is off, else the caller.
    pub fn check(&self, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
        if !self.enabled() {
            return Ok(None);
        }
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer)
            .ok_or_else(|| ApiError::unauthorized("a bearer token is required"))?;
        let hash = sha256(token.as_bytes());
        let key = format!("token:{}", URL_SAFE_NO_PAD.encode(&hash[..12]));
        if self.tokens.contains(&hash) {
            return Ok(Some(Caller {
                key,
                signed_id: None,
            }));
        }
        let signed = self.verify(token)?;
        Ok(Some(Caller {
            key,
            signed_id: Some(signed.id),
        }))
    }

    /// Check a signed token: its signature and its expiry.
    pub fn verify(&self, token: &str) -> Result<Signed, ApiError> {
        let invalid = || ApiError::unauthorized("the bearer token is not valid");
        let secret = self.secret.as_deref().ok_or_else(invalid)?;
        let (payload, sig) = token.rsplit_once('.').ok_or_else(invalid)?;
        let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| invalid())?;
        signature(secret, payload)
            .verify_slice(&sig)
            .map_err(|_| invalid())?;
        let mut parts = payload.split('.');
        if parts.next() != Some(PREFIX) {
            return Err(invalid());
        }
        let expires: u64 = parts
            .next()
            .and_then(|e| e.parse().ok())
            .ok_or_else(invalid)?;
        let id = parts.next().ok_or_else(invalid)?.to_string();
        if expires <= now_unix() {
            return Err(ApiError::unauthorized("the bearer token has expired"));
        }
        Ok(Signed { id, expires })
    }
}

/// The token of an `Authorization: Bearer …` value; the scheme's case does not matter
/// (RFC 9110 makes it case-insensitive).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Headers with `Authorization: {value}`.
    fn authorization(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn signed_tokens_verify_until_they_expire() {
        let secret = b"0123456789abcdef0123";
        let auth = Auth {
            tokens: vec![sha256(b"static")],
            secret: Some(secret.to_vec()),
        };
        assert!(auth
            .check(&authorization("Bearer static"))
            .unwrap()
            .is_some());
        let good = mint(secret, Duration::from_secs(60));
        assert!(auth
            .check(&authorization(&format!("Bearer {good}")))
            .unwrap()
            .is_some());
        let expired = mint(secret, Duration::ZERO);
        let e = auth
            .check(&authorization(&format!("Bearer {expired}")))
            .unwrap_err();
        assert!(e.message.contains("expired"), "{e:?}");
        let forged = mint(b"another secret of 16+", Duration::from_secs(60));
        assert_eq!(
            auth.check(&authorization(&format!("Bearer {forged}")))
                .unwrap_err()
                .status,
            401
        );
        assert_eq!(auth.check(&HeaderMap::new()).unwrap_err().status, 401);
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        let auth = Auth {
            tokens: vec![sha256(b"static")],
            secret: None,
        };
        for value in [
            "Bearer static",
            "bearer static",
            "BEARER  static ",
            "  Bearer static",
        ] {
            assert!(
                auth.check(&authorization(value)).unwrap().is_some(),
                "{value:?}"
            );
        }
        for value in [
            "Basic static",
            "Bearer",
            "Bearer ",
            "Bearerstatic",
            "static",
        ] {
            assert_eq!(
                auth.check(&authorization(value)).unwrap_err().status,
                401,
                "{value:?}"
            );
        }
    }
}
