//! The token endpoint (RFC 6749, 4.1.3 and 6; OpenID Connect Core 1.0, 3.1.3): the request
//! that exchanges a code or a refresh token, and its response.

use serde_json::{Map, Value};
use thiserror::Error;

use super::metadata::ClientAuth;
use crate::http::{client_basic, post_form, Url};
use crate::shown::printable;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TokenError {
    #[error("the provider answered \"{error}\"{}", description.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    Provider {
        error: String,
        description: Option<String>,
    },
    #[error("status {0}")]
    Status(u16),
    #[error("the response is not a JSON object")]
    NotJson,
    #[error("the response has no \"{0}\"")]
    Missing(&'static str),
    #[error("the token type is not Bearer")]
    TokenType,
}

pub struct Client<'a> {
    pub id: &'a str,
    pub secret: Option<&'a str>,
    pub auth: ClientAuth,
}

pub enum Grant<'a> {
    Code {
        code: &'a str,
        redirect_uri: &'a str,
        verifier: Option<&'a str>,
    },
    Refresh {
        refresh_token: &'a str,
    },
}

/// The `POST` to the token endpoint, on a connection closed after the response.
pub fn request(url: &Url, user_agent: &str, client: &Client, grant: &Grant) -> Vec<u8> {
    let mut pairs: Vec<(&str, &str)> = match grant {
        Grant::Code {
            code,
            redirect_uri,
            verifier,
        } => {
            let mut p = vec![
                ("grant_type", "authorization_code"),
                ("code", *code),
                ("redirect_uri", *redirect_uri),
            ];
            if let Some(verifier) = verifier {
                p.push(("code_verifier", verifier));
            }
            p
        }
        Grant::Refresh { refresh_token } => vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", *refresh_token),
        ],
    };
    let mut authorization = None;
    match (client.auth, client.secret) {
        (ClientAuth::Basic, Some(secret)) => authorization = Some(client_basic(client.id, secret)),
        (ClientAuth::Post, Some(secret)) => {
            pairs.push(("client_id", client.id));
            pairs.push(("client_secret", secret));
        }
        _ => pairs.push(("client_id", client.id)),
    }
    post_form(url, user_agent, authorization.as_deref(), &pairs)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
    pub expires_in: Option<i64>,
}

/// The tokens of a `200`, or why there are none.
pub fn parse_response(status: u16, body: &[u8]) -> Result<Tokens, TokenError> {
    let object: Option<Map<String, Value>> = match serde_json::from_slice(body) {
        Ok(Value::Object(object)) => Some(object),
        _ => None,
    };
    let text = |o: &Map<String, Value>, name: &str| -> Option<String> {
        o.get(name).and_then(Value::as_str).map(str::to_owned)
    };
    if status != 200 {
        return Err(match object.as_ref().and_then(|o| text(o, "error")) {
            Some(error) => TokenError::Provider {
                error: printable(&error, 64),
                description: object
                    .as_ref()
                    .and_then(|o| text(o, "error_description"))
                    .map(|d| printable(&d, 64)),
            },
            None => TokenError::Status(status),
        });
    }
    let object = object.ok_or(TokenError::NotJson)?;
    let access_token = text(&object, "access_token").ok_or(TokenError::Missing("access_token"))?;
    let token_type = text(&object, "token_type").ok_or(TokenError::Missing("token_type"))?;
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Err(TokenError::TokenType);
    }
    Ok(Tokens {
        access_token,
        id_token: text(&object, "id_token"),
        refresh_token: text(&object, "refresh_token"),
        expires_in: object
            .get("expires_in")
            .and_then(Value::as_f64)
            .filter(|s| *s >= 0.0)
            .map(|s| s.min(10.0 * 365.0 * 86_400.0) as i64),
    })
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    use super::*;

    fn url() -> Url {
        Url::parse("https://idp.example:8443/token").unwrap()
    }

    fn split(request: &[u8]) -> (String, String) {
        let text = String::from_utf8(request.to_vec()).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        (head.to_owned(), body.to_owned())
    }

    #[test]
    fn code_exchange_with_client_secret_basic() {
        let client = Client {
            id: "my app",
            secret: Some("s3:cr&t"),
            auth: ClientAuth::Basic,
        };
        let grant = Grant::Code {
            code: "abc",
            redirect_uri: "https://rp.example/oidc_callback",
            verifier: Some("v"),
        };
        let (head, body) = split(&request(&url(), "ua", &client, &grant));
        assert!(head.starts_with("POST /token HTTP/1.1\r\nHost: idp.example:8443\r\n"));
        let basic = STANDARD.encode("my%20app:s3%3Acr%26t");
        assert!(head.contains(&format!("\r\nAuthorization: Basic {basic}\r\n")));
        assert!(head.contains(&format!("\r\nContent-Length: {}\r\n", body.len())));
        assert_eq!(
            body,
            "grant_type=authorization_code&code=abc&\
             redirect_uri=https%3A%2F%2Frp.example%2Foidc_callback&code_verifier=v"
        );
    }

    #[test]
    fn refresh_with_client_secret_post_and_public_clients() {
        let grant = Grant::Refresh { refresh_token: "r" };
        let post = Client {
            id: "rp",
            secret: Some("s"),
            auth: ClientAuth::Post,
        };
        let (head, body) = split(&request(&url(), "ua", &post, &grant));
        assert!(!head.contains("Authorization"));
        assert_eq!(
            body,
            "grant_type=refresh_token&refresh_token=r&client_id=rp&client_secret=s"
        );
        let public = Client {
            id: "rp",
            secret: None,
            auth: ClientAuth::None,
        };
        let (_, body) = split(&request(&url(), "ua", &public, &grant));
        assert_eq!(
            body,
            "grant_type=refresh_token&refresh_token=r&client_id=rp"
        );
    }

    #[test]
    fn responses() {
        let ok = parse_response(
            200,
            br#"{"access_token":"at","token_type":"bearer","expires_in":3600,"id_token":"h.p.s","refresh_token":"rt"}"#,
        )
        .unwrap();
        assert_eq!(ok.access_token, "at");
        assert_eq!(ok.expires_in, Some(3600));
        assert_eq!(ok.refresh_token.as_deref(), Some("rt"));
        assert_eq!(
            parse_response(
                400,
                br#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#
            ),
            Err(TokenError::Provider {
                error: "invalid_grant".into(),
                description: Some("grant request is invalid".into())
            })
        );
        assert_eq!(parse_response(502, b"<html>"), Err(TokenError::Status(502)));
        assert_eq!(parse_response(200, b"<html>"), Err(TokenError::NotJson));
        assert_eq!(
            parse_response(200, br#"{"access_token":"at","token_type":"mac"}"#),
            Err(TokenError::TokenType)
        );
        assert_eq!(
            parse_response(200, br#"{"token_type":"Bearer"}"#),
            Err(TokenError::Missing("access_token"))
        );
    }
}
