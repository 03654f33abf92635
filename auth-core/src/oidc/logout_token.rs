//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0, 2.4 and 2.6): the checks of
//! a logout token beyond what `jwt::verify` makes under `id_token::policy` without `exp`
//! being required.

use serde_json::Value;
use thiserror::Error;

/// The member of `events` that makes a JWT a logout token.
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// A logout token without `exp` is accepted for this long after its `iat`.
pub const DEFAULT_LIFETIME: i64 = 300;

#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum LogoutTokenError {
    #[error("no backchannel-logout event")]
    NoEvent,
    #[error("neither \"sid\" nor \"sub\"")]
    NoSubject,
    #[error("a logout token has no nonce")]
    Nonce,
    #[error("no \"jti\"")]
    NoId,
    #[error("no \"iat\"")]
    NoIssuedAt,
    #[error("too old: past its \"exp\", or without one, 5 minutes after its \"iat\"")]
    TooOld,
    #[error("\"iat\" is in the future")]
    IssuedInFuture,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutToken {
    pub sid: Option<String>,
    pub sub: Option<String>,
    pub jti: String,
    /// Until then the `jti` must be remembered, to refuse a replay.
    pub expires: i64,
}

pub fn check(
    claims: &serde_json::Map<String, Value>,
    now: i64,
    leeway: i64,
) -> Result<LogoutToken, LogoutTokenError> {
    let text = |name| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    let event = claims
        .get("events")
        .and_then(Value::as_object)
        .and_then(|events| events.get(EVENT));
    if !event.is_some_and(Value::is_object) {
        return Err(LogoutTokenError::NoEvent);
    }
    if claims.contains_key("nonce") {
        return Err(LogoutTokenError::Nonce);
    }
    let (sid, sub) = (text("sid"), text("sub"));
    if sid.is_none() && sub.is_none() {
        return Err(LogoutTokenError::NoSubject);
    }
    let jti = text("jti").ok_or(LogoutTokenError::NoId)?;
    let iat = claims
        .get("iat")
        .and_then(Value::as_f64)
        .ok_or(LogoutTokenError::NoIssuedAt)? as i64;
    let expires = match claims.get("exp").and_then(Value::as_f64) {
        Some(exp) => (exp as i64).saturating_add(leeway),
        None => iat.saturating_add(DEFAULT_LIFETIME + leeway),
    };
    if iat > now.saturating_add(leeway) {
        return Err(LogoutTokenError::IssuedInFuture);
    }
    if now >= expires {
        return Err(LogoutTokenError::TooOld);
    }
    Ok(LogoutToken {
        sid,
        sub,
        jti,
        expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::parse_object;

    fn c(claims: &str, now: i64) -> Result<LogoutToken, LogoutTokenError> {
        check(&parse_object(claims.as_bytes()).unwrap(), now, 0)
    }

    const EVENTS: &str = r#""events":{"http://schemas.openid.net/event/backchannel-logout":{}}"#;

    #[test]
    fn a_good_logout_token() {
        let t = c(
            &format!(r#"{{"sid":"s1","jti":"j","iat":100,{EVENTS}}}"#),
            150,
        )
        .unwrap();
        assert_eq!(t.sid.as_deref(), Some("s1"));
        assert_eq!(t.expires, 100 + DEFAULT_LIFETIME);
        let t = c(
            &format!(r#"{{"sub":"a","jti":"j","iat":100,"exp":130,{EVENTS}}}"#),
            120,
        )
        .unwrap();
        assert_eq!(t.expires, 130);
    }

    #[test]
    fn what_makes_it_a_logout_token() {
        assert_eq!(
            c(r#"{"sid":"s","jti":"j","iat":100}"#, 100),
            Err(LogoutTokenError::NoEvent)
        );
        assert_eq!(
            c(
                r#"{"sid":"s","jti":"j","iat":100,"events":{"http://schemas.openid.net/event/backchannel-logout":1}}"#,
                100
            ),
            Err(LogoutTokenError::NoEvent)
        );
        let e = |claims: &str| c(&format!("{{{claims},{EVENTS}}}"), 100);
        assert_eq!(
            e(r#""sid":"s","jti":"j","iat":100,"nonce":"n""#),
            Err(LogoutTokenError::Nonce)
        );
        assert_eq!(
            e(r#""jti":"j","iat":100"#),
            Err(LogoutTokenError::NoSubject)
        );
        assert_eq!(e(r#""sid":"s","iat":100"#), Err(LogoutTokenError::NoId));
        assert_eq!(
            e(r#""sid":"s","jti":"j""#),
            Err(LogoutTokenError::NoIssuedAt)
        );
        assert_eq!(
            c(
                &format!(r#"{{"sid":"s","jti":"j","iat":1,{EVENTS}}}"#),
                1 + DEFAULT_LIFETIME
            ),
            Err(LogoutTokenError::TooOld)
        );
        assert_eq!(
            c(
                &format!(r#"{{"sid":"s","jti":"j","iat":500,{EVENTS}}}"#),
                100
            ),
            Err(LogoutTokenError::IssuedInFuture)
        );
        // An hour ahead, with an exp further still: the iat alone refuses it.
        assert_eq!(
            c(
                &format!(r#"{{"sid":"s","jti":"j","iat":3700,"exp":7300,{EVENTS}}}"#),
                100
            ),
            Err(LogoutTokenError::IssuedInFuture)
        );
    }
}
