//! The OpenID Provider's metadata (OpenID Connect Discovery 1.0, section 3), checked against
//! the configured issuer.

use serde_json::{Map, Value};
use thiserror::Error;

use crate::http::{Url, UrlError};
use crate::jwt::{Alg, Family};
use crate::shown::printable;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MetadataError {
    #[error("not a JSON object")]
    NotJson,
    #[error("\"issuer\" is \"{0}\", not the configured issuer")]
    IssuerMismatch(String),
    #[error("\"{0}\" is missing")]
    Missing(&'static str),
    #[error("\"{0}\": {1}")]
    BadUrl(&'static str, UrlError),
    #[error("\"{0}\" is not https")]
    NotHttps(&'static str),
    #[error("\"response_types_supported\" has no \"code\"")]
    NoCodeFlow,
    #[error("no algorithm of \"id_token_signing_alg_values_supported\" is supported here")]
    NoAlgorithm,
}

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_secret_basic`: the `Authorization` header.
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the body.
    Post,
    /// A public client: `client_id` in the body, no secret.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub jwks_uri: Url,
    pub userinfo_endpoint: Option<Url>,
    pub end_session_endpoint: Option<Url>,
    /// RFC 8414 / RFC 7662: where opaque access tokens are checked.
    pub introspection_endpoint: Option<Url>,
    /// `code_challenge_methods_supported` lists `S256`.
    pub pkce_s256: bool,
    /// `token_endpoint_auth_methods_supported`; the default of the specification when absent.
    pub auth_methods: Vec<String>,
    /// RFC 9207: the callback then must carry `iss`.
    pub iss_parameter: bool,
    pub backchannel_logout: bool,
    pub backchannel_logout_session: bool,
    pub frontchannel_logout: bool,
    /// `id_token_signing_alg_values_supported` that this module verifies with the provider's
    /// keys (`RS256` if absent); not HMAC, whose key would be the client secret.
    pub id_token_algorithms: Vec<Alg>,
}

impl Metadata {
    /// The metadata in `body`, which must name `issuer` exactly. Endpoints of an https issuer
    /// must be https too.
    pub fn parse(issuer: &str, body: &[u8]) -> Result<Metadata, MetadataError> {
        let Ok(Value::Object(doc)) = serde_json::from_slice::<Value>(body) else {
            return Err(MetadataError::NotJson);
        };
        match doc.get("issuer") {
            Some(Value::String(found)) if found == issuer => {}
            Some(Value::String(found)) => {
                return Err(MetadataError::IssuerMismatch(printable(found, 64)))
            }
            _ => return Err(MetadataError::Missing("issuer")),
        }
        let https = issuer.starts_with("https://");
        let url = |name: &'static str| -> Result<Option<Url>, MetadataError> {
            let Some(Value::String(text)) = doc.get(name) else {
                return Ok(None);
            };
            let url = Url::parse(text).map_err(|e| MetadataError::BadUrl(name, e))?;
            if https && !url.https {
                return Err(MetadataError::NotHttps(name));
            }
            Ok(Some(url))
        };
        let required = |name: &'static str| url(name)?.ok_or(MetadataError::Missing(name));

        if let Some(types) = strings(&doc, "response_types_supported") {
            if !types.contains(&"code") {
                return Err(MetadataError::NoCodeFlow);
            }
        }
        let id_token_algorithms = match strings(&doc, "id_token_signing_alg_values_supported") {
            Some(names) => names
                .iter()
                .filter_map(|n| n.parse::<Alg>().ok())
                .filter(|a| a.family() != Family::Hmac)
                .collect(),
            None => vec![Alg::RS256],
        };
        if id_token_algorithms.is_empty() {
            return Err(MetadataError::NoAlgorithm);
        }
        let flag = |name| doc.get(name).and_then(Value::as_bool).unwrap_or(false);

        Ok(Metadata {
            issuer: issuer.to_owned(),
            authorization_endpoint: required("authorization_endpoint")?,
            token_endpoint: required("token_endpoint")?,
            jwks_uri: required("jwks_uri")?,
            userinfo_endpoint: url("userinfo_endpoint")?,
            end_session_endpoint: url("end_session_endpoint")?,
            introspection_endpoint: url("introspection_endpoint")?,
            pkce_s256: strings(&doc, "code_challenge_methods_supported")
                .is_some_and(|m| m.contains(&"S256")),
            auth_methods: strings(&doc, "token_endpoint_auth_methods_supported").map_or_else(
                || vec!["client_secret_basic".to_owned()],
                |m| m.iter().map(|s| (*s).to_owned()).collect(),
            ),
            iss_parameter: flag("authorization_response_iss_parameter_supported"),
            backchannel_logout: flag("backchannel_logout_supported"),
            backchannel_logout_session: flag("backchannel_logout_session_supported"),
            frontchannel_logout: flag("frontchannel_logout_supported"),
            id_token_algorithms,
        })
    }

    /// The method for a client with a secret: `client_secret_basic` when the provider takes
    /// it, else `client_secret_post`; `None` when it takes neither. Without a secret: none.
    pub fn client_auth(&self, has_secret: bool) -> Option<ClientAuth> {
        let takes = |m: &str| self.auth_methods.iter().any(|a| a == m);
        // A public client authenticates with PKCE alone, whatever the list says.
        if !has_secret {
            return Some(ClientAuth::None);
        }
        if takes("client_secret_basic") {
            Some(ClientAuth::Basic)
        } else if takes("client_secret_post") {
            Some(ClientAuth::Post)
        } else {
            None
        }
    }
}

fn strings<'a>(doc: &'a Map<String, Value>, name: &str) -> Option<Vec<&'a str>> {
    let Value::Array(items) = doc.get(name)? else {
        return None;
    };
    Some(items.iter().filter_map(Value::as_str).collect())
}

/// The issuer of a provider: `https://`, or `http://` on a loopback address for development;
/// no query or fragment (OpenID Connect Discovery 1.0, section 2).
pub fn check_issuer(issuer: &str) -> Result<Url, &'static str> {
    let url = Url::parse(issuer).map_err(|_| "is not an http(s) URL")?;
    if !url.https && !url.host_is_loopback() {
        return Err("must be https (http only on a loopback address)");
    }
    if issuer.contains(['?', '#']) {
        return Err("must have no query or fragment");
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://idp.example/realms/a";

    fn doc(extra: &str) -> Vec<u8> {
        format!(
            r#"{{"issuer":"{ISSUER}",
                "authorization_endpoint":"https://idp.example/auth",
                "token_endpoint":"https://idp.example/token",
                "jwks_uri":"https://idp.example/certs",
                "response_types_supported":["code","id_token"]{extra}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn reads_what_a_provider_publishes() {
        let m = Metadata::parse(
            ISSUER,
            &doc(r#","code_challenge_methods_supported":["plain","S256"],
                    "token_endpoint_auth_methods_supported":["client_secret_post","private_key_jwt"],
                    "authorization_response_iss_parameter_supported":true,
                    "backchannel_logout_supported":true,
                    "id_token_signing_alg_values_supported":["none","HS256","ES256","RS256"],
                    "end_session_endpoint":"https://idp.example/logout""#),
        )
        .unwrap();
        assert_eq!(m.token_endpoint.path, "/token");
        assert!(m.pkce_s256 && m.iss_parameter && m.backchannel_logout);
        assert!(!m.frontchannel_logout);
        assert_eq!(m.end_session_endpoint.as_ref().unwrap().path, "/logout");
        assert_eq!(m.id_token_algorithms, [Alg::ES256, Alg::RS256]);
        assert_eq!(m.client_auth(true), Some(ClientAuth::Post));
        assert_eq!(m.client_auth(false), Some(ClientAuth::None));
    }

    #[test]
    fn defaults_of_the_specification() {
        let m = Metadata::parse(ISSUER, &doc("")).unwrap();
        assert!(!m.pkce_s256 && !m.iss_parameter);
        assert_eq!(m.id_token_algorithms, [Alg::RS256]);
        assert_eq!(m.client_auth(true), Some(ClientAuth::Basic));
        assert!(m.userinfo_endpoint.is_none());
    }

    #[test]
    fn refuses_another_issuer_and_downgrades() {
        assert_eq!(
            Metadata::parse("https://idp.example/realms/b", &doc("")),
            Err(MetadataError::IssuerMismatch(ISSUER.into()))
        );
        let plain = String::from_utf8(doc(""))
            .unwrap()
            .replace("https://idp.example/token", "http://idp.example/token");
        assert_eq!(
            Metadata::parse(ISSUER, plain.as_bytes()),
            Err(MetadataError::NotHttps("token_endpoint"))
        );
        let no_jwks = String::from_utf8(doc("")).unwrap().replace("jwks_uri", "x");
        assert_eq!(
            Metadata::parse(ISSUER, no_jwks.as_bytes()),
            Err(MetadataError::Missing("jwks_uri"))
        );
        let implicit = String::from_utf8(doc(""))
            .unwrap()
            .replace(r#"["code","id_token"]"#, r#"["id_token"]"#);
        assert_eq!(
            Metadata::parse(ISSUER, implicit.as_bytes()),
            Err(MetadataError::NoCodeFlow)
        );
        assert_eq!(
            Metadata::parse(
                ISSUER,
                &doc(r#","id_token_signing_alg_values_supported":["none","HS256"]"#)
            ),
            Err(MetadataError::NoAlgorithm)
        );
        assert_eq!(Metadata::parse(ISSUER, b"[]"), Err(MetadataError::NotJson));
    }

    #[test]
    fn issuers_are_https_or_loopback() {
        assert!(check_issuer("https://idp.example").is_ok());
        assert!(check_issuer("http://127.0.0.1:8080").is_ok());
        assert!(check_issuer("http://localhost:8080/realm").is_ok());
        assert!(check_issuer("http://idp.example").is_err());
        assert!(check_issuer("https://idp.example/?tenant=1").is_err());
        assert!(check_issuer("idp.example").is_err());
    }
}
