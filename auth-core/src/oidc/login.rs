//! A login in progress: what the callback must match (`state`, `nonce`, the PKCE verifier) and
//! where to go back to, sealed in a short-lived cookie; and the authorization request that
//! sends the browser to the provider.

use aws_lc_rs::error::Unspecified;

use super::codec::{Reader, Writer};
use super::metadata::Metadata;
use super::pkce::{challenge, random_token};
use super::seal::{SealError, Sealer};
use crate::http::form::encode_pairs;

/// A login must come back within this many seconds.
pub const LOGIN_TIMEOUT: i64 = 600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub state: String,
    pub nonce: String,
    pub verifier: Option<String>,
    /// Path and query on this server, or with a cookie domain a URL of a host in it; checked
    /// by `return_target`.
    pub return_to: String,
    pub started: i64,
}

/// What the login request sends besides its random values.
pub struct AuthRequest<'a> {
    pub client_id: &'a str,
    /// Absolute.
    pub redirect_uri: &'a str,
    pub scope: &'a str,
    /// `extra_auth_args`, already a query string.
    pub extra: &'a str,
}

impl Login {
    /// A login that goes back to `return_to` once `return_target` checked it.
    pub fn start(
        return_to: &str,
        domain: Option<&str>,
        pkce: bool,
        now: i64,
    ) -> Result<Login, Unspecified> {
        Ok(Login {
            state: random_token()?,
            nonce: random_token()?,
            verifier: pkce.then(random_token).transpose()?,
            return_to: return_target(return_to, domain).to_owned(),
            started: now,
        })
    }

    /// The login cookie's name: one per login, so that logins in several tabs do not undo
    /// each other.
    pub fn cookie_name(base: &str, state: &str) -> String {
        let tag: String = state.chars().take(8).collect();
        format!("{base}_login_{tag}")
    }

    fn context(provider: &str) -> Vec<u8> {
        [b"login\0", provider.as_bytes()].concat()
    }

    pub fn seal(&self, sealer: &Sealer, provider: &str) -> Result<String, SealError> {
        let plain = Writer::new()
            .text(&self.state)
            .text(&self.nonce)
            .optional(self.verifier.as_deref())
            .text(&self.return_to)
            .number(self.started)
            .finish();
        sealer.seal(&Login::context(provider), &plain)
    }

    /// The login sealed in `sealed`, if it is this provider's and has not timed out.
    pub fn open(sealer: &Sealer, provider: &str, sealed: &[u8], now: i64) -> Option<Login> {
        let plain = sealer.open(&Login::context(provider), sealed)?;
        let mut r = Reader::new(&plain);
        let login = Login {
            state: r.text()?,
            nonce: r.text()?,
            verifier: r.optional()?,
            return_to: r.text()?,
            started: r.number()?,
        };
        (r.end() && now >= login.started && now < login.started + LOGIN_TIMEOUT).then_some(login)
    }

    /// The provider's authorization endpoint with the request (OpenID Connect Core 1.0,
    /// 3.1.2.1): code flow, this login's state and nonce, the S256 challenge with PKCE.
    pub fn authorization_url(&self, metadata: &Metadata, request: &AuthRequest) -> String {
        let mut url = metadata.authorization_endpoint.to_string();
        url.push(if url.contains('?') { '&' } else { '?' });
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", request.client_id),
            ("redirect_uri", request.redirect_uri),
            ("scope", request.scope),
            ("state", self.state.as_str()),
            ("nonce", self.nonce.as_str()),
        ];
        let challenge = self.verifier.as_deref().map(challenge);
        if let Some(challenge) = &challenge {
            pairs.push(("code_challenge", challenge));
            pairs.push(("code_challenge_method", "S256"));
        }
        url.push_str(&encode_pairs(&pairs));
        let extra = request.extra.trim_start_matches(['&', '?']);
        if !extra.is_empty() {
            url.push('&');
            url.push_str(extra);
        }
        url
    }
}

/// Where a login may go back to: a path on this server (`/…`), never `//host` or `/\host`,
/// which browsers read as another host, and no control characters; `/` otherwise.
pub fn return_path(uri: &str) -> &str {
    let b = uri.as_bytes();
    let ok = b.first() == Some(&b'/')
        && !matches!(b.get(1), Some(b'/' | b'\\'))
        && b.iter().all(|&c| c > b' ' && c != 0x7f);
    if ok {
        uri
    } else {
        "/"
    }
}

/// Whether `host` (in lower case, without a port) is `domain` or a name under it.
pub fn in_domain(host: &str, domain: &str) -> bool {
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.'))
}

/// Where a login begun at `uri` of `origin` (`scheme://host[:port]`, as the browser wrote it)
/// goes back to: with a cookie domain, the whole URL when the host lies in it, so that a
/// callback on another host of the domain sends the browser back; else the path alone.
pub fn return_to(origin: &str, uri: &str, domain: Option<&str>) -> String {
    let url = format!("{}{uri}", origin.to_ascii_lowercase());
    if domain.is_some() && return_target(&url, domain) == url {
        url
    } else {
        return_path(uri).to_owned()
    }
}

/// Where a login may go back to: a path (see `return_path`) or, with a cookie `domain`, an
/// `http(s)://host[:port]/path` URL whose host is `domain` or under it, in lower case; `/` for
/// anything else, never another site.
pub fn return_target<'a>(target: &'a str, domain: Option<&str>) -> &'a str {
    let Some(rest) = target
        .strip_prefix("https://")
        .or_else(|| target.strip_prefix("http://"))
    else {
        return return_path(target);
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|c| c.is_ascii_digit()) => host,
        Some(_) => return "/",
        None => authority,
    };
    let name = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-';
    let ok = domain.is_some_and(|domain| in_domain(host, domain))
        && host.bytes().all(name)
        && (path.is_empty() || return_path(path) == path);
    if ok {
        target
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::form::Params;

    fn metadata() -> Metadata {
        Metadata::parse(
            "https://idp.example",
            br#"{"issuer":"https://idp.example",
                 "authorization_endpoint":"https://idp.example/auth?tenant=a",
                 "token_endpoint":"https://idp.example/token",
                 "jwks_uri":"https://idp.example/certs"}"#,
        )
        .unwrap()
    }

    #[test]
    fn the_authorization_request_carries_the_login() {
        let login = Login::start("/app?x=1", None, true, 100).unwrap();
        let url = login.authorization_url(
            &metadata(),
            &AuthRequest {
                client_id: "rp",
                redirect_uri: "https://rp.example/oidc_callback",
                scope: "openid email",
                extra: "prompt=login",
            },
        );
        let (base, query) = url.split_once('?').unwrap();
        assert_eq!(base, "https://idp.example/auth");
        let p = Params::parse(query).unwrap();
        assert_eq!(p.get("tenant"), Some("a"));
        assert_eq!(p.get("response_type"), Some("code"));
        assert_eq!(
            p.get("redirect_uri"),
            Some("https://rp.example/oidc_callback")
        );
        assert_eq!(p.get("scope"), Some("openid email"));
        assert_eq!(p.get("state"), Some(login.state.as_str()));
        assert_eq!(p.get("nonce"), Some(login.nonce.as_str()));
        assert_eq!(p.get("code_challenge_method"), Some("S256"));
        assert_eq!(
            p.get("code_challenge"),
            Some(challenge(login.verifier.as_deref().unwrap()).as_str())
        );
        assert_eq!(p.get("prompt"), Some("login"));

        let plain = Login::start("/", None, false, 100).unwrap();
        let url = plain.authorization_url(
            &metadata(),
            &AuthRequest {
                client_id: "rp",
                redirect_uri: "https://rp.example/cb",
                scope: "openid",
                extra: "",
            },
        );
        assert!(!url.contains("code_challenge"));
        assert_ne!(plain.state, plain.nonce);
    }

    #[test]
    fn the_login_cookie_opens_for_its_provider_within_the_timeout() {
        let sealer = Sealer::random().unwrap();
        let login = Login::start("/a", None, true, 1_000).unwrap();
        let sealed = login.seal(&sealer, "idp").unwrap();
        let open = |provider, now| Login::open(&sealer, provider, sealed.as_bytes(), now);
        assert_eq!(open("idp", 1_000), Some(login.clone()));
        assert_eq!(open("idp", 1_000 + LOGIN_TIMEOUT), None);
        assert_eq!(open("idp", 999), None);
        assert_eq!(open("other", 1_000), None);
        let name = Login::cookie_name("NGX_OIDC_SESSION", &login.state);
        assert_eq!(name.len(), "NGX_OIDC_SESSION_login_".len() + 8);
    }

    #[test]
    fn goes_back_only_to_paths_of_this_server() {
        assert_eq!(return_path("/app/page?x=1"), "/app/page?x=1");
        assert_eq!(return_path("//evil.example/"), "/");
        assert_eq!(return_path("/\\evil.example/"), "/");
        assert_eq!(return_path("https://evil.example/"), "/");
        assert_eq!(return_path("/a\r\nSet-Cookie: x"), "/");
        assert_eq!(return_path(""), "/");
        assert_eq!(
            Login::start("//evil", None, false, 0).unwrap().return_to,
            "/"
        );
    }

    #[test]
    fn goes_back_to_hosts_of_the_cookie_domain_only() {
        let d = Some("example.com");
        let back = |origin, uri| return_to(origin, uri, d);
        assert_eq!(
            back("https://wiki.example.com", "/a?b=1"),
            "https://wiki.example.com/a?b=1"
        );
        assert_eq!(
            back("http://Stats.Example.com:8080", "/"),
            "http://stats.example.com:8080/"
        );
        assert_eq!(back("https://example.com", "/x"), "https://example.com/x");
        for hostile in [
            "https://evil.com",
            "https://example.com.evil.com",
            "https://evilexample.com",
            "https://.example.com",
            "https://evil.com@wiki.example.com",
            "https://wiki.example.com:80x",
            "https://wiki.example.com:",
            "https://wi_ki.example.com",
        ] {
            assert_eq!(back(hostile, "/a"), "/a", "{hostile}");
        }
        assert_eq!(back("https://wiki.example.com", "//evil.com/"), "/");
        assert_eq!(return_to("https://wiki.example.com", "/a", None), "/a");

        assert_eq!(
            return_target("https://wiki.example.com", d),
            "https://wiki.example.com"
        );
        assert_eq!(return_target("https://wiki.example.com/a", None), "/");
        assert_eq!(return_target("https://evil.com/a", d), "/");
        assert_eq!(return_target("https://wiki.example.com/a\r\nX: y", d), "/");
        assert_eq!(return_target("javascript:alert(1)", d), "/");
        assert_eq!(return_target("/a", d), "/a");
        let login = Login::start("https://wiki.example.com/p", d, false, 0).unwrap();
        assert_eq!(login.return_to, "https://wiki.example.com/p");
        assert!(in_domain("a.b.example.com", "example.com"));
        assert!(!in_domain("example.com", "a.example.com"));
    }
}
