//! The checks of an ID token beyond its signature, `iss`, `aud` and `exp`, which `jwt::verify`
//! makes under `policy` (OpenID Connect Core 1.0, 3.1.3.7 and 12.2).

use serde_json::Value;
use subtle::ConstantTimeEq;
use thiserror::Error;

use super::metadata::Metadata;
use crate::jwt::{Policy, Verified};

#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum IdTokenError {
    #[error("the ID token has no \"sub\"")]
    NoSubject,
    #[error("the ID token has no \"iat\"")]
    NoIssuedAt,
    #[error("the ID token's \"iat\" is in the future")]
    IssuedInFuture,
    #[error("the ID token's nonce is not the login's")]
    Nonce,
    #[error("the ID token's \"azp\" is not this client")]
    AuthorizedParty,
    #[error("the refreshed ID token is for another \"sub\"")]
    Subject,
}

/// What `jwt::verify` checks of an ID token of `metadata`'s provider for `client_id`.
pub fn policy(metadata: &Metadata, client_id: &str, leeway: u64) -> Policy {
    Policy {
        algorithms: metadata.id_token_algorithms.clone(),
        issuers: vec![metadata.issuer.clone()],
        audiences: vec![client_id.to_owned()],
        resource: None,
        leeway,
        require_exp: true,
    }
}

/// What the ID token must match: the login's nonce, or on refresh the session's `sub`.
pub enum Expect<'a> {
    Login { nonce: &'a str },
    Refresh { sub: &'a str },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdToken {
    pub sub: String,
    pub sid: Option<String>,
    pub exp: i64,
}

/// Checks `token`, verified by `jwt::verify`, at `now`: an `iat` later than `now` by more
/// than `leeway` seconds is refused.
pub fn check(
    token: &Verified,
    client_id: &str,
    expect: Expect,
    now: i64,
    leeway: u64,
) -> Result<IdToken, IdTokenError> {
    let text = |name| token.claims().get(name).and_then(Value::as_str);
    let sub = text("sub").ok_or(IdTokenError::NoSubject)?;
    let iat = token
        .claims()
        .get("iat")
        .and_then(Value::as_f64)
        .ok_or(IdTokenError::NoIssuedAt)?;
    if iat > now as f64 + leeway as f64 {
        return Err(IdTokenError::IssuedInFuture);
    }
    let several_audiences =
        matches!(token.claims().get("aud"), Some(Value::Array(a)) if a.len() > 1);
    match text("azp") {
        Some(azp) if azp != client_id => return Err(IdTokenError::AuthorizedParty),
        None if several_audiences => return Err(IdTokenError::AuthorizedParty),
        _ => {}
    }
    match expect {
        Expect::Login { nonce } => {
            let found = text("nonce").unwrap_or_default();
            if !bool::from(found.as_bytes().ct_eq(nonce.as_bytes())) || nonce.is_empty() {
                return Err(IdTokenError::Nonce);
            }
        }
        Expect::Refresh { sub: expected } if sub != expected => return Err(IdTokenError::Subject),
        Expect::Refresh { .. } => {}
    }
    Ok(IdToken {
        sub: sub.to_owned(),
        sid: text("sid").map(str::to_owned),
        exp: token.exp.map_or(0, |e| e as i64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::{parse_object, Alg};

    fn token(claims: &str) -> Verified {
        let exp = parse_object(claims.as_bytes())
            .unwrap()
            .get("exp")
            .and_then(Value::as_f64);
        Verified::new(Some(Alg::RS256), exp, false, b"{}", claims.as_bytes())
    }

    const LOGIN: Expect = Expect::Login { nonce: "n-1" };
    const NOW: i64 = 1_000;

    #[test]
    fn a_good_id_token() {
        let t = token(r#"{"sub":"alice","iat":1,"exp":9,"nonce":"n-1","sid":"s","aud":"rp"}"#);
        assert_eq!(
            check(&t, "rp", LOGIN, NOW, 60),
            Ok(IdToken {
                sub: "alice".into(),
                sid: Some("s".into()),
                exp: 9
            })
        );
    }

    #[test]
    fn nonce_sub_iat_and_azp() {
        let c = |claims| check(&token(claims), "rp", LOGIN, NOW, 60).err();
        assert_eq!(
            c(r#"{"sub":"a","iat":1,"nonce":"n-2"}"#),
            Some(IdTokenError::Nonce)
        );
        assert_eq!(c(r#"{"sub":"a","iat":1}"#), Some(IdTokenError::Nonce));
        assert_eq!(
            c(r#"{"iat":1,"nonce":"n-1"}"#),
            Some(IdTokenError::NoSubject)
        );
        assert_eq!(
            c(r#"{"sub":"a","nonce":"n-1"}"#),
            Some(IdTokenError::NoIssuedAt)
        );
        assert_eq!(
            c(r#"{"sub":"a","iat":1,"nonce":"n-1","aud":["rp","api"]}"#),
            Some(IdTokenError::AuthorizedParty)
        );
        assert_eq!(
            c(r#"{"sub":"a","iat":1,"nonce":"n-1","azp":"other"}"#),
            Some(IdTokenError::AuthorizedParty)
        );
        assert_eq!(
            c(r#"{"sub":"a","iat":1,"nonce":"n-1","aud":["rp","api"],"azp":"rp"}"#),
            None
        );
        assert_eq!(
            check(
                &token(r#"{"sub":"a","iat":1}"#),
                "rp",
                Expect::Login { nonce: "" },
                NOW,
                60
            )
            .err(),
            Some(IdTokenError::Nonce)
        );
    }

    #[test]
    fn an_id_token_from_the_future() {
        let at = |iat: i64| {
            let claims = format!(r#"{{"sub":"a","iat":{iat},"nonce":"n-1"}}"#);
            check(&token(&claims), "rp", LOGIN, NOW, 60).err()
        };
        assert_eq!(at(NOW), None);
        assert_eq!(at(NOW + 60), None, "within the leeway");
        assert_eq!(at(NOW + 61), Some(IdTokenError::IssuedInFuture));
        assert_eq!(at(NOW + 3600), Some(IdTokenError::IssuedInFuture));
        assert_eq!(at(1), None, "an old iat is for exp to judge");
    }

    #[test]
    fn a_refreshed_id_token_keeps_its_subject() {
        let t = token(r#"{"sub":"alice","iat":1}"#);
        assert!(check(&t, "rp", Expect::Refresh { sub: "alice" }, NOW, 60).is_ok());
        assert_eq!(
            check(&t, "rp", Expect::Refresh { sub: "bob" }, NOW, 60),
            Err(IdTokenError::Subject)
        );
    }
}
