//! OAuth scopes (RFC 6749, section 3.3) in an access token: the ones it grants, from `scope`
//! (space-delimited, RFC 9068 and RFC 8693) and `scp` (an array, or space-delimited), and the
//! ones a resource requires that it lacks.

use serde_json::{Map, Value};

/// Whether `s` is a scope-token: printable ASCII without space, `"` or `\`, so that it can
/// stand in a quoted challenge as it is.
pub fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c == 0x21 || (0x23..=0x5b).contains(&c) || (0x5d..=0x7e).contains(&c))
}

/// The scopes that the claims grant.
pub fn granted(claims: &Map<String, Value>) -> Vec<&str> {
    let mut out = Vec::new();
    for name in ["scope", "scp"] {
        match claims.get(name) {
            Some(Value::String(s)) => out.extend(s.split(' ').filter(|s| !s.is_empty())),
            Some(Value::Array(items)) => out.extend(items.iter().filter_map(Value::as_str)),
            _ => {}
        }
    }
    out
}

/// The scopes of `required` that the claims do not grant.
pub fn missing<'a>(required: &'a [String], claims: &Map<String, Value>) -> Vec<&'a str> {
    let granted = granted(claims);
    required
        .iter()
        .map(String::as_str)
        .filter(|r| !granted.contains(r))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn reads_scope_and_scp() {
        let c = claims(r#"{"scope":"mcp:tools  read","scp":["write",3,"x"]}"#);
        assert_eq!(granted(&c), ["mcp:tools", "read", "write", "x"]);
        assert_eq!(granted(&claims(r#"{"scp":"a b"}"#)), ["a", "b"]);
        assert_eq!(granted(&claims(r#"{"scope":["a"]}"#)), ["a"]);
        assert!(granted(&claims(r#"{"scope":3,"scp":{"a":1}}"#)).is_empty());
    }

    #[test]
    fn names_what_is_missing() {
        let required = ["read".to_owned(), "write".to_owned()];
        assert!(missing(&required, &claims(r#"{"scope":"write read"}"#)).is_empty());
        assert_eq!(
            missing(&required, &claims(r#"{"scope":"read"}"#)),
            ["write"]
        );
        assert_eq!(
            missing(&required, &claims(r#"{"scope":"readwrite"}"#)),
            ["read", "write"]
        );
        assert_eq!(missing(&required, &claims("{}")), ["read", "write"]);
    }

    #[test]
    fn scope_tokens_are_printable_without_quotes() {
        assert!(is_scope_token("mcp:tools"));
        assert!(is_scope_token("https://api.example/read!"));
        for bad in ["", "a b", "a\"b", "a\\b", "é", "a\tb"] {
            assert!(!is_scope_token(bad), "{bad:?}");
        }
    }
}
