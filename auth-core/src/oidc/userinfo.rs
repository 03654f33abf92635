//! The UserInfo endpoint (OpenID Connect Core 1.0, 5.3): the request with the access token, and
//! the claims of its response, which must be about the session's user.

use serde_json::Value;
use thiserror::Error;

use crate::http::Url;

/// What a session keeps of a UserInfo response at most, as compact JSON.
pub const MAX_USERINFO: usize = 16 * 1024;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum UserinfoError {
    #[error("the access token cannot be sent")]
    BadAccessToken,
    #[error("status {0}")]
    Status(u16),
    #[error("the response is a signed or encrypted JWT, which is not supported")]
    Jwt,
    #[error("the response is not a JSON object")]
    NotJson,
    #[error("the response's \"sub\" is not the ID token's")]
    OtherSubject,
    #[error("the response is over {MAX_USERINFO} bytes")]
    TooLarge,
}

/// `GET` of the endpoint with the access token (RFC 6750, 2.1), on a connection closed after
/// the response.
pub fn request(url: &Url, user_agent: &str, access_token: &str) -> Result<Vec<u8>, UserinfoError> {
    // b64token of RFC 6750, 2.1: nothing that could end the header line.
    let b64token = |c: u8| c.is_ascii_alphanumeric() || b"-._~+/=".contains(&c);
    if access_token.is_empty() || !access_token.bytes().all(b64token) {
        return Err(UserinfoError::BadAccessToken);
    }
    Ok(format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {user_agent}\r\n\
         Authorization: Bearer {access_token}\r\nAccept: application/json\r\n\
         Connection: close\r\n\r\n",
        url.path,
        url.authority()
    )
    .into_bytes())
}

/// The claims of a `200` about `sub`, as compact JSON (one line, whatever the provider sent).
pub fn parse_response(
    status: u16,
    content_type: Option<&[u8]>,
    body: &[u8],
    sub: &str,
) -> Result<String, UserinfoError> {
    if status != 200 {
        return Err(UserinfoError::Status(status));
    }
    let media = content_type
        .and_then(|c| c.split(|&b| b == b';').next())
        .map(|m| m.trim_ascii().to_ascii_lowercase());
    if media.as_deref() == Some(b"application/jwt") {
        return Err(UserinfoError::Jwt);
    }
    let Some(object) = crate::jose::parse_object(body) else {
        return Err(UserinfoError::NotJson);
    };
    if object.get("sub").and_then(Value::as_str) != Some(sub) {
        return Err(UserinfoError::OtherSubject);
    }
    let json = serde_json::to_string(&object).map_err(|_| UserinfoError::NotJson)?;
    if json.len() > MAX_USERINFO {
        return Err(UserinfoError::TooLarge);
    }
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_carries_the_access_token() {
        let url = Url::parse("https://idp.example/me?x=1").unwrap();
        let request = request(&url, "ua", "abc.DEF-_~+/=").unwrap();
        let text = String::from_utf8(request).unwrap();
        assert!(text.starts_with("GET /me?x=1 HTTP/1.1\r\nHost: idp.example\r\n"));
        assert!(text.contains("\r\nAuthorization: Bearer abc.DEF-_~+/=\r\n"));
        assert!(text.ends_with("\r\n\r\n"));
    }

    #[test]
    fn a_token_that_could_end_the_header_is_not_sent() {
        let url = Url::parse("https://idp.example/me").unwrap();
        for token in ["", "a b", "a\r\nX-Evil: 1", "a\"b"] {
            assert_eq!(
                request(&url, "ua", token),
                Err(UserinfoError::BadAccessToken)
            );
        }
    }

    #[test]
    fn claims_about_the_user_in_one_line() {
        let body =
            b"{\n  \"sub\": \"alice\",\n  \"groups\": [\"a\", \"b\"],\n  \"bio\": \"x\\ny\"\n}";
        let json =
            parse_response(200, Some(b"application/json; charset=utf-8"), body, "alice").unwrap();
        assert!(!json.contains('\n'));
        let value: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["groups"][1], "b");
        assert_eq!(value["bio"], "x\ny");
    }

    #[test]
    fn refusals() {
        let ok = br#"{"sub":"alice"}"#;
        assert_eq!(
            parse_response(401, None, ok, "alice"),
            Err(UserinfoError::Status(401))
        );
        assert_eq!(
            parse_response(200, Some(b"application/jwt"), b"e30.e30.sig", "alice"),
            Err(UserinfoError::Jwt)
        );
        assert_eq!(
            parse_response(200, None, b"[1]", "alice"),
            Err(UserinfoError::NotJson)
        );
        assert_eq!(
            parse_response(200, None, br#"{"sub":"mallory"}"#, "alice"),
            Err(UserinfoError::OtherSubject)
        );
        assert_eq!(
            parse_response(200, None, br#"{"name":"alice"}"#, "alice"),
            Err(UserinfoError::OtherSubject)
        );
        let big = format!(r#"{{"sub":"alice","x":"{}"}}"#, "a".repeat(MAX_USERINFO));
        assert_eq!(
            parse_response(200, None, big.as_bytes(), "alice"),
            Err(UserinfoError::TooLarge)
        );
    }
}
