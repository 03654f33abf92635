//! `auth_jwt_key_url`: what the fetched document is, and when to fetch it again.

use serde_json::Value;
use thiserror::Error;

use crate::http::{Url, UrlError};

/// Refresh no sooner than this after a fetch, whatever `max-age` says...
pub const MIN_REFRESH: u64 = 60;
/// ...and no later than this.
pub const MAX_REFRESH: u64 = 24 * 60 * 60;
/// Without `refresh=` and without `max-age`.
pub const DEFAULT_REFRESH: u64 = 60 * 60;
/// Between two fetches for tokens with an unknown `kid`.
pub const DEFAULT_COOLDOWN: u64 = 30;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DocumentError {
    #[error("not JSON")]
    NotJson,
    #[error("neither a JWK Set (\"keys\") nor a discovery document (\"jwks_uri\")")]
    Unknown,
    #[error("\"jwks_uri\": {0}")]
    JwksUri(UrlError),
    #[error("\"jwks_uri\" leaves https for http")]
    Downgrade,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Document {
    /// A JWK Set: parse it as keys.
    Jwks,
    /// An OpenID discovery document (or OAuth server metadata): fetch its `jwks_uri`.
    Discovery(Url),
}

impl Document {
    /// What the body fetched from `url` is.
    pub fn read(url: &Url, body: &[u8]) -> Result<Document, DocumentError> {
        let value: Value = serde_json::from_slice(body).map_err(|_| DocumentError::NotJson)?;
        let Value::Object(object) = value else {
            return Err(DocumentError::Unknown);
        };
        if object.contains_key("keys") {
            return Ok(Document::Jwks);
        }
        let Some(Value::String(jwks_uri)) = object.get("jwks_uri") else {
            return Err(DocumentError::Unknown);
        };
        let jwks = url.join(jwks_uri).map_err(DocumentError::JwksUri)?;
        if url.https && !jwks.https {
            return Err(DocumentError::Downgrade);
        }
        Ok(Document::Discovery(jwks))
    }
}

/// When one URL is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// `refresh=`, in seconds; `None`: from the response's `max-age`.
    pub refresh: Option<u64>,
    pub cooldown: u64,
}

impl Schedule {
    /// Seconds from a successful fetch to the next one.
    pub fn refresh_after(&self, max_age: Option<u64>) -> u64 {
        match self.refresh {
            Some(refresh) => refresh.max(1),
            None => max_age.map_or(DEFAULT_REFRESH, |age| age.clamp(MIN_REFRESH, MAX_REFRESH)),
        }
    }

    /// Seconds from a failed fetch to the next try: a tenth of the refresh time, from 5
    /// seconds to 5 minutes.
    pub fn retry_after(&self) -> u64 {
        (self.refresh.unwrap_or(DEFAULT_REFRESH) / 10).clamp(5, 300)
    }

    /// Whether a token with an unknown `kid` may fetch again, the last such fetch having
    /// started at `last` (ms).
    pub fn may_refetch(&self, last: Option<i64>, now: i64) -> bool {
        last.is_none_or(|last| now.saturating_sub(last) >= (self.cooldown as i64) * 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn tells_key_sets_from_discovery_documents() {
        let base = url("https://idp.example/realms/a/.well-known/openid-configuration");
        assert_eq!(Document::read(&base, br#"{"keys":[]}"#), Ok(Document::Jwks));
        assert_eq!(
            Document::read(
                &base,
                br#"{"issuer":"https://idp.example/realms/a","jwks_uri":"https://idp.example/realms/a/certs"}"#
            ),
            Ok(Document::Discovery(url("https://idp.example/realms/a/certs")))
        );
        assert_eq!(
            Document::read(&base, br#"{"jwks_uri":"/certs"}"#),
            Ok(Document::Discovery(url("https://idp.example/certs")))
        );
        assert_eq!(
            Document::read(&base, br#"{"jwks_uri":"http://idp.example/certs"}"#),
            Err(DocumentError::Downgrade)
        );
        assert_eq!(
            Document::read(&base, b"<html>"),
            Err(DocumentError::NotJson)
        );
        assert_eq!(
            Document::read(&base, br#"{"jwks_uri":3}"#),
            Err(DocumentError::Unknown)
        );
        assert_eq!(Document::read(&base, b"[]"), Err(DocumentError::Unknown));
        assert!(matches!(
            Document::read(&base, br#"{"jwks_uri":"ftp://x/"}"#),
            Err(DocumentError::JwksUri(_))
        ));
    }

    #[test]
    fn refresh_follows_max_age_within_bounds() {
        let auto = Schedule {
            refresh: None,
            cooldown: DEFAULT_COOLDOWN,
        };
        assert_eq!(auto.refresh_after(None), 3600);
        assert_eq!(auto.refresh_after(Some(0)), 60);
        assert_eq!(auto.refresh_after(Some(300)), 300);
        assert_eq!(auto.refresh_after(Some(u64::MAX)), 86400);
        assert_eq!(auto.retry_after(), 300);
        let fixed = Schedule {
            refresh: Some(20),
            cooldown: 5,
        };
        assert_eq!(fixed.refresh_after(Some(600)), 20);
        assert_eq!(fixed.retry_after(), 5);
    }

    #[test]
    fn cooldown_spaces_refetches() {
        let s = Schedule {
            refresh: None,
            cooldown: 30,
        };
        assert!(s.may_refetch(None, 0));
        assert!(!s.may_refetch(Some(1_000), 30_999));
        assert!(s.may_refetch(Some(1_000), 31_000));
    }
}
