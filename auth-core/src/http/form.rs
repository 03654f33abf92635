//! `application/x-www-form-urlencoded`: the query of an authorization request and of its
//! callback, and the body of a token request.

use core::fmt::Write;

/// Appends `value` percent-encoded: RFC 3986's unreserved characters as they are, every other
/// byte as `%XX`.
pub fn encode_into(out: &mut String, value: &str) {
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    encode_into(&mut out, value);
    out
}

/// `name=value&…`, each part encoded.
pub fn encode_pairs(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(&mut out, name);
        out.push('=');
        encode_into(&mut out, value);
    }
    out
}

/// One part decoded: `+` is a space, `%XX` a byte; `None` for a bad escape or bytes that are
/// not UTF-8.
pub fn decode(part: &str) -> Option<String> {
    let bytes = part.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = core::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The parameters of a query or form body. Parameters without a value count as absent and a
/// parameter given twice is an error (RFC 6749, 3.1).
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: &str) -> Option<Params> {
        let mut params: Vec<(String, String)> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (name, value) = (decode(name)?, decode(value)?);
            if value.is_empty() {
                continue;
            }
            if params.iter().any(|(n, _)| *n == name) {
                return None;
            }
            params.push((name, value));
        }
        Some(Params(params))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_all_but_unreserved() {
        assert_eq!(encode("a b&c=d/é~"), "a%20b%26c%3Dd%2F%C3%A9~");
        assert_eq!(
            encode_pairs(&[("scope", "openid email"), ("x", "")]),
            "scope=openid%20email&x="
        );
    }

    #[test]
    fn decodes_and_round_trips() {
        assert_eq!(decode("a+b%20c%2F").as_deref(), Some("a b c/"));
        assert_eq!(decode("%zz"), None);
        assert_eq!(decode("%4"), None);
        assert_eq!(decode("%ff"), None);
        let text = "https://rp.example/cb?x=1&y=ü";
        assert_eq!(decode(&encode(text)).as_deref(), Some(text));
    }

    #[test]
    fn params_refuse_repeats_and_skip_empty_values() {
        let p = Params::parse("code=abc&state=x%2By&empty=&flag").unwrap();
        assert_eq!(p.get("code"), Some("abc"));
        assert_eq!(p.get("state"), Some("x+y"));
        assert_eq!(p.get("empty"), None);
        assert_eq!(p.get("flag"), None);
        assert!(Params::parse("code=a&code=b").is_none());
        assert!(Params::parse("code=%").is_none());
    }
}
