//! The URLs the module fetches: `http://` or `https://`, a host, an optional port and a path.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum UrlError {
    #[error("the scheme must be \"https://\" or \"http://\"")]
    Scheme,
    #[error("no host")]
    NoHost,
    #[error("user information is not allowed")]
    UserInfo,
    #[error("invalid port")]
    Port,
    #[error("invalid host")]
    Host,
    #[error("invalid character in the path")]
    Path,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Url {
    pub https: bool,
    /// A name, an IPv4 address or an IPv6 address without brackets, lowercased.
    pub host: String,
    pub port: u16,
    /// From the first `/` on, query included; `/` when the URL has none. No fragment.
    pub path: String,
}

impl Url {
    pub fn parse(text: &str) -> Result<Url, UrlError> {
        let (https, rest) = if let Some(rest) = strip_prefix_ignore_case(text, "https://") {
            (true, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(text, "http://") {
            (false, rest)
        } else {
            return Err(UrlError::Scheme);
        };
        let rest = rest.split('#').next().unwrap_or_default();
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        if authority.contains('@') {
            return Err(UrlError::UserInfo);
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let close = v6.find(']').ok_or(UrlError::Host)?;
            let host = &v6[..close];
            if host.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(UrlError::Host);
            }
            let port = match &v6[close + 1..] {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or(UrlError::Host)?),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(UrlError::NoHost);
        }
        if !host.contains(':')
            && !host
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b'_')
        {
            return Err(UrlError::Host);
        }
        let port = match port {
            None => {
                if https {
                    443
                } else {
                    80
                }
            }
            Some(p) if !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) => {
                match p.parse::<u16>() {
                    Ok(p) if p != 0 => p,
                    _ => return Err(UrlError::Port),
                }
            }
            Some(_) => return Err(UrlError::Port),
        };
        let path = if path.is_empty() {
            "/".to_owned()
        } else if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        if path.bytes().any(|c| c <= b' ' || c == 0x7f) {
            return Err(UrlError::Path);
        }
        Ok(Url {
            https,
            host: host.to_ascii_lowercase(),
            port,
            path,
        })
    }

    /// The host is an address, not a name to resolve.
    pub fn host_is_address(&self) -> bool {
        self.host.parse::<std::net::IpAddr>().is_ok()
    }

    /// The host is a loopback address, or `localhost`.
    pub fn host_is_loopback(&self) -> bool {
        self.host == "localhost"
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|a| a.is_loopback())
    }

    /// Whether a browser reaches the host on its own machine: a loopback address, `localhost`,
    /// or a name under `.localhost` (RFC 6761, 6.3), which browsers resolve so themselves.
    pub fn host_is_browser_loopback(&self) -> bool {
        self.host_is_loopback() || self.host.ends_with(".localhost")
    }

    /// `host[:port]` as the `Host` header gives it; the port only when it is not the scheme's.
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == if self.https { 443 } else { 80 } {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The URL that a reference found in a document at this URL names: absolute, or
    /// absolute-path (`/…`).
    pub fn join(&self, reference: &str) -> Result<Url, UrlError> {
        if reference.starts_with('/') && !reference.starts_with("//") {
            let mut url = self.clone();
            url.path = reference.split('#').next().unwrap_or("/").to_owned();
            if url.path.bytes().any(|c| c <= b' ' || c == 0x7f) {
                return Err(UrlError::Path);
            }
            return Ok(url);
        }
        Url::parse(reference)
    }
}

impl core::fmt::Display for Url {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        write!(f, "{scheme}://{}{}", self.authority(), self.path)
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_identity_providers_publish() {
        let url =
            Url::parse("https://login.example.com/realms/a/protocol/openid-connect/certs").unwrap();
        assert!(url.https);
        assert_eq!(url.host, "login.example.com");
        assert_eq!(url.port, 443);
        assert_eq!(url.path, "/realms/a/protocol/openid-connect/certs");
        assert!(!url.host_is_address());

        let url = Url::parse("HTTP://127.0.0.1:8080?x=1#frag").unwrap();
        assert!(!url.https);
        assert_eq!((url.host.as_str(), url.port), ("127.0.0.1", 8080));
        assert_eq!(url.path, "/?x=1");
        assert!(url.host_is_address() && url.host_is_loopback());
        assert_eq!(url.authority(), "127.0.0.1:8080");

        let url = Url::parse("https://[::1]:8443/jwks").unwrap();
        assert_eq!(url.host, "::1");
        assert_eq!(url.authority(), "[::1]:8443");
        assert_eq!(url.to_string(), "https://[::1]:8443/jwks");

        assert_eq!(Url::parse("https://Idp.Example").unwrap().path, "/");
        assert_eq!(Url::parse("https://idp:443/").unwrap().authority(), "idp");
    }

    #[test]
    fn refuses_what_is_not_a_fetchable_url() {
        for (text, err) in [
            ("ftp://idp/keys", UrlError::Scheme),
            ("idp.example.com/keys", UrlError::Scheme),
            ("https:///keys", UrlError::NoHost),
            ("https://user:pw@idp/keys", UrlError::UserInfo),
            ("https://idp:0/", UrlError::Port),
            ("https://idp:65536/", UrlError::Port),
            ("https://idp:+80/", UrlError::Port),
            ("https://idp:/", UrlError::Port),
            ("https://[::1/", UrlError::Host),
            ("https://[nope]/", UrlError::Host),
            ("https://id p/", UrlError::Host),
            ("https://idp/a b", UrlError::Path),
            ("https://idp/a\r\nX: y", UrlError::Path),
        ] {
            assert_eq!(Url::parse(text), Err(err), "{text}");
        }
    }

    #[test]
    fn joins_references_of_a_discovery_document() {
        let base = Url::parse("https://idp:8443/.well-known/openid-configuration").unwrap();
        assert_eq!(
            base.join("/jwks").unwrap().to_string(),
            "https://idp:8443/jwks"
        );
        assert_eq!(
            base.join("https://keys.example/k").unwrap().to_string(),
            "https://keys.example/k"
        );
        assert!(base.join("//other/k").is_err());
        assert!(base.join("jwks").is_err());
    }
}
