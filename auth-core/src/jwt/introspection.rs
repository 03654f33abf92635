//! Opaque access tokens, checked at the authorization server's introspection endpoint
//! (RFC 7662): the request, and the answer read as a token's claims. An active token passes the
//! checks a JWT's claims pass (`exp`, `nbf`, and `iss` and `aud` where the answer has them).

use serde_json::Value;
use thiserror::Error;

use super::{check_claims, view, JwtError, Policy, Verified};
use crate::http::{client_basic, post_form, Url};

/// Longest answer read.
pub const MAX_ANSWER: usize = 64 * 1024;

/// The resource server's credentials at the endpoint (`client_secret_basic`).
pub struct Client<'a> {
    pub id: &'a str,
    pub secret: &'a str,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum IntrospectionError {
    #[error("the introspection endpoint answered {0}")]
    Status(u16),
    #[error("the introspection endpoint's answer is not a JSON object with \"active\"")]
    NotAnswer,
}

/// The `POST` that asks about `token` (RFC 7662, 2.1).
pub fn request(endpoint: &Url, user_agent: &str, client: Option<&Client>, token: &str) -> Vec<u8> {
    let authorization = client.map(|c| client_basic(c.id, c.secret));
    post_form(
        endpoint,
        user_agent,
        authorization.as_deref(),
        &[("token", token), ("token_type_hint", "access_token")],
    )
}

/// The `introspection_endpoint` of a discovery document (RFC 8414, 2): `https://`, or
/// `http://` on a loopback address.
pub fn discovered_endpoint(document: &[u8]) -> Option<Url> {
    let object = crate::jose::parse_object(document)?;
    let url = Url::parse(object.get("introspection_endpoint")?.as_str()?).ok()?;
    (url.https || url.host_is_loopback()).then_some(url)
}

/// What the endpoint said of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Active: its claims (the answer's JSON object) and `exp`, if a number.
    Active {
        claims: Vec<u8>,
        exp: Option<i64>,
    },
    Inactive,
}

/// Reads the endpoint's response (RFC 7662, 2.2): a JSON object whose `active` is a boolean.
/// An endpoint that will not introspect tokens of this kind (400 `unsupported_token_type`, as
/// some give for JWTs) does not vouch for the token either: inactive.
pub fn parse_response(status: u16, body: &[u8]) -> Result<Answer, IntrospectionError> {
    if status == 400 {
        let error = crate::jose::parse_object(body)
            .and_then(|o| o.get("error").and_then(Value::as_str).map(str::to_owned));
        if error.as_deref() == Some("unsupported_token_type") {
            return Ok(Answer::Inactive);
        }
    }
    if status != 200 {
        return Err(IntrospectionError::Status(status));
    }
    let object = crate::jose::parse_object(body).ok_or(IntrospectionError::NotAnswer)?;
    match object.get("active") {
        Some(Value::Bool(true)) => Ok(Answer::Active {
            claims: body.to_vec(),
            exp: object
                .get("exp")
                .and_then(Value::as_f64)
                .map(|exp| exp as i64),
        }),
        Some(Value::Bool(false)) => Ok(Answer::Inactive),
        _ => Err(IntrospectionError::NotAnswer),
    }
}

/// An active token's claims checked under `policy`: `exp` and `nbf` as a JWT's, `iss` and
/// `aud` (and the resource) only where the answer has them, since an endpoint may leave them
/// out; `exp` is not required, the answer's lifetime being the cache's.
pub fn accept(claims: &[u8], policy: &Policy, now: i64) -> Result<Verified, JwtError> {
    let view = view::claims(claims).ok_or(JwtError::Malformed("answer is not a JSON object"))?;
    let mut policy = policy.clone();
    policy.require_exp = false;
    if view.iss.is_none() {
        policy.issuers.clear();
    }
    if view.aud.is_none() {
        policy.audiences.clear();
        policy.resource = None;
    }
    let exp = check_claims(&view, &policy, now)?;
    let confirmed = view.cnf.is_some();
    drop(view);
    Ok(Verified::new(None, exp, confirmed, b"{}", claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn policy() -> Policy {
        Policy {
            issuers: vec!["https://as.example".into()],
            audiences: vec!["api".into()],
            resource: Some("https://api.example/mcp".into()),
            ..Policy::default()
        }
    }

    #[test]
    fn the_request_posts_the_token_with_the_clients_credentials() {
        let url = Url::parse("https://as.example/introspect").unwrap();
        let client = Client {
            id: "rs",
            secret: "s3:cr&t",
        };
        let request = String::from_utf8(request(&url, "ua", Some(&client), "a+b/c")).unwrap();
        assert!(request.starts_with("POST /introspect HTTP/1.1\r\nHost: as.example\r\n"));
        assert!(request.contains("Authorization: Basic cnM6czMlM0FjciUyNnQ=\r\n"));
        assert!(request.ends_with("\r\n\r\ntoken=a%2Bb%2Fc&token_type_hint=access_token"));
    }

    #[test]
    fn endpoints_of_discovery_documents() {
        let url = |doc: &[u8]| discovered_endpoint(doc).map(|u| u.to_string());
        assert_eq!(
            url(br#"{"introspection_endpoint":"https://as.example/i"}"#).as_deref(),
            Some("https://as.example/i")
        );
        assert_eq!(
            url(br#"{"introspection_endpoint":"http://as.example/i"}"#),
            None
        );
        assert_eq!(url(br#"{"issuer":"https://as.example"}"#), None);
    }

    #[test]
    fn answers() {
        assert_eq!(
            parse_response(200, br#"{"active":false}"#),
            Ok(Answer::Inactive)
        );
        let active = br#"{"active":true,"sub":"alice","exp":1800000100}"#;
        assert_eq!(
            parse_response(200, active),
            Ok(Answer::Active {
                claims: active.to_vec(),
                exp: Some(1_800_000_100)
            })
        );
        assert_eq!(
            parse_response(401, br#"{"active":true}"#),
            Err(IntrospectionError::Status(401))
        );
        assert_eq!(
            parse_response(400, br#"{"error":"unsupported_token_type"}"#),
            Ok(Answer::Inactive)
        );
        assert_eq!(
            parse_response(400, br#"{"error":"invalid_request"}"#),
            Err(IntrospectionError::Status(400))
        );
        for bad in [
            &b"{}"[..],
            b"[]",
            b"{\"active\":\"true\"}",
            b"",
            b"{\"active\":true,\"active\":true}",
        ] {
            assert_eq!(parse_response(200, bad), Err(IntrospectionError::NotAnswer));
        }
    }

    #[test]
    fn claims_are_checked_where_the_answer_has_them() {
        let ok = br#"{"active":true,"iss":"https://as.example","aud":["api","https://api.example/mcp"],"exp":1800000100,"scope":"a b"}"#;
        let verified = accept(ok, &policy(), NOW).unwrap();
        assert_eq!(verified.exp, Some(1_800_000_100.0));
        assert_eq!(verified.alg, None);
        assert_eq!(verified.claim("scope"), Some(&Value::from("a b")));

        // Whether it may be bound to its sender, however the member's name is written.
        assert!(!verified.confirmed);
        for bound in [
            &br#"{"active":true,"cnf":{"jkt":"a"}}"#[..],
            br#"{"active":true,"c\u006ef":{}}"#,
        ] {
            assert!(accept(bound, &policy(), NOW).unwrap().confirmed);
        }

        // Without iss, aud or exp: nothing to check them against.
        assert!(accept(br#"{"active":true}"#, &policy(), NOW).is_ok());

        for (answer, err) in [
            (
                &br#"{"active":true,"exp":1799999999}"#[..],
                JwtError::Expired,
            ),
            (
                br#"{"active":true,"nbf":1800000100}"#,
                JwtError::NotYetValid,
            ),
            (
                br#"{"active":true,"iss":"https://evil.example"}"#,
                JwtError::BadIssuer,
            ),
            (br#"{"active":true,"aud":"other"}"#, JwtError::BadAudience),
            (br#"{"active":true,"aud":"api"}"#, JwtError::BadAudience),
        ] {
            assert_eq!(accept(answer, &policy(), NOW).unwrap_err(), err);
        }
    }
}
