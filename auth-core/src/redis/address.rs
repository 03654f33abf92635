//! Where a server listens: `host:port`, `[v6]:port`, or `unix:/path`.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Tcp { host: String, port: u16 },
    Unix(String),
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum AddressError {
    #[error("invalid address \"{0}\"; it must be host:port or unix:/path")]
    Invalid(String),
}

impl Address {
    pub fn parse(text: &str) -> Result<Address, AddressError> {
        let invalid = || AddressError::Invalid(text.escape_default().to_string());
        if let Some(path) = text.strip_prefix("unix:") {
            if !path.starts_with('/') || path.len() > 107 {
                return Err(invalid());
            }
            return Ok(Address::Unix(path.to_owned()));
        }
        let (host, port) = text.rsplit_once(':').ok_or_else(invalid)?;
        let host = match host.strip_prefix('[') {
            Some(v6) => v6.strip_suffix(']').ok_or_else(invalid)?,
            None if host.contains(':') => return Err(invalid()),
            None => host,
        };
        let port: u16 = port.parse().map_err(|_| invalid())?;
        let name_ok = host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:".contains(&b));
        if host.is_empty() || port == 0 || !name_ok {
            return Err(invalid());
        }
        Ok(Address::Tcp {
            host: host.to_owned(),
            port,
        })
    }
}

impl core::fmt::Display for Address {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Address::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Address::Tcp { host, port } => write!(f, "{host}:{port}"),
            Address::Unix(path) => write!(f, "unix:{path}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let tcp = |h: &str, p| Address::Tcp {
            host: h.into(),
            port: p,
        };
        assert_eq!(Address::parse("127.0.0.1:6379"), Ok(tcp("127.0.0.1", 6379)));
        assert_eq!(
            Address::parse("redis.internal:6380"),
            Ok(tcp("redis.internal", 6380))
        );
        assert_eq!(Address::parse("[::1]:6379"), Ok(tcp("::1", 6379)));
        assert_eq!(
            Address::parse("unix:/run/redis.sock"),
            Ok(Address::Unix("/run/redis.sock".into()))
        );
        for bad in [
            "6379", "h:0", "h:x", "::1:6379", "unix:rel", ":6379", "a b:1",
        ] {
            assert!(Address::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(tcp("::1", 1).to_string(), "[::1]:1");
    }
}
