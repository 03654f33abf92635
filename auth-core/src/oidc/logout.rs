//! Logout initiated here (OpenID Connect RP-Initiated Logout 1.0, 2) and by the provider in
//! the browser (Front-Channel Logout 1.0, 2).

use super::metadata::Metadata;
use crate::http::form::{encode_pairs, Params};

/// Where `logout_uri` sends the browser once the session is gone: the provider's
/// `end_session_endpoint` when it has one, with `client_id`, `post_logout_redirect_uri` and,
/// with `logout_token_hint on`, `id_token_hint`; else `post_logout_uri` itself. `None`: show
/// the built-in page.
pub fn logout_url(
    metadata: &Metadata,
    client_id: &str,
    post_logout_uri: Option<&str>,
    id_token_hint: Option<&str>,
) -> Option<String> {
    let Some(endpoint) = &metadata.end_session_endpoint else {
        return post_logout_uri.map(str::to_owned);
    };
    let mut url = endpoint.to_string();
    let mut pairs = vec![("client_id", client_id)];
    if let Some(uri) = post_logout_uri {
        pairs.push(("post_logout_redirect_uri", uri));
    }
    if let Some(hint) = id_token_hint {
        pairs.push(("id_token_hint", hint));
    }
    url.push(if url.contains('?') { '&' } else { '?' });
    url.push_str(&encode_pairs(&pairs));
    Some(url)
}

/// A front-channel logout request names the session by `iss` and `sid`; `None` when it does
/// not name this provider's (the session cookie may still name one).
pub fn frontchannel_sid(query: &str, issuer: &str) -> Option<String> {
    let params = Params::parse(query)?;
    (params.get("iss")? == issuer).then(|| params.get("sid").map(str::to_owned))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(end_session: bool) -> Metadata {
        let end = if end_session {
            r#","end_session_endpoint":"https://idp.example/session/end""#
        } else {
            ""
        };
        Metadata::parse(
            "https://idp.example",
            format!(
                r#"{{"issuer":"https://idp.example",
                 "authorization_endpoint":"https://idp.example/auth",
                 "token_endpoint":"https://idp.example/token",
                 "jwks_uri":"https://idp.example/certs"{end}}}"#
            )
            .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn through_the_provider_when_it_can() {
        assert_eq!(
            logout_url(
                &metadata(true),
                "rp",
                Some("https://rp.example/bye"),
                Some("h.p.s")
            )
            .unwrap(),
            "https://idp.example/session/end?client_id=rp&\
             post_logout_redirect_uri=https%3A%2F%2Frp.example%2Fbye&id_token_hint=h.p.s"
        );
        assert_eq!(
            logout_url(&metadata(true), "rp", None, None).unwrap(),
            "https://idp.example/session/end?client_id=rp"
        );
        assert_eq!(
            logout_url(&metadata(false), "rp", Some("/bye"), Some("h.p.s")).as_deref(),
            Some("/bye")
        );
        assert_eq!(logout_url(&metadata(false), "rp", None, None), None);
    }

    #[test]
    fn frontchannel_requests_name_their_issuer() {
        let q = "iss=https%3A%2F%2Fidp.example&sid=abc";
        assert_eq!(
            frontchannel_sid(q, "https://idp.example").as_deref(),
            Some("abc")
        );
        assert_eq!(frontchannel_sid(q, "https://other.example"), None);
        assert_eq!(frontchannel_sid("sid=abc", "https://idp.example"), None);
        assert_eq!(
            frontchannel_sid("iss=https%3A%2F%2Fidp.example", "https://idp.example"),
            None
        );
    }
}
