//! Session cookies on the wire: a value too long for one cookie is split over several
//! (`NAME`, `NAME_1`, …), and the module's cookies are taken out of the `Cookie` header that
//! the backend gets.

/// Bytes of value per cookie: browsers keep at least 4096 bytes for name, value and
/// attributes.
pub const MAX_PART: usize = 3800;

/// At most this many parts: 40 KB of session.
pub const MAX_PARTS: usize = 10;

/// The cookies that carry `value`: `name` alone when it fits; else `name` holds the number of
/// parts, a dot and the first part, and `name_1`… the others. `None` when it needs more than
/// `MAX_PARTS`. Values are base64url, so a dot only ever comes from a split.
pub fn split(name: &str, value: &str) -> Option<Vec<(String, String)>> {
    if value.len() <= MAX_PART {
        return Some(vec![(name.to_owned(), value.to_owned())]);
    }
    let parts: Vec<&str> = value
        .as_bytes()
        .chunks(MAX_PART)
        .map(|c| core::str::from_utf8(c).unwrap_or_default())
        .collect();
    if parts.len() > MAX_PARTS || !value.is_ascii() {
        return None;
    }
    Some(
        parts
            .iter()
            .enumerate()
            .map(|(i, part)| match i {
                0 => (name.to_owned(), format!("{}.{part}", parts.len())),
                _ => (format!("{name}_{i}"), (*part).to_owned()),
            })
            .collect(),
    )
}

/// The value that `split` spread over the cookies of `header`, and how many cookies carried
/// it (to expire parts that a shorter value no longer needs); `None` without cookie `name`.
/// A part missing, or a count out of range, gives a value that does not open, so that such a
/// cookie is a bad session rather than none.
pub fn join(header: &[u8], name: &str) -> Option<(String, usize)> {
    let first = get(header, name)?;
    let parsed = first
        .split_once('.')
        .and_then(|(count, part)| Some((count.parse::<usize>().ok()?, part)));
    let Some((count, part)) = parsed.filter(|(n, _)| (2..=MAX_PARTS).contains(n)) else {
        return Some((first.to_owned(), 1));
    };
    let mut value = part.to_owned();
    for i in 1..count {
        value.push_str(get(header, &format!("{name}_{i}")).unwrap_or_default());
    }
    Some((value, count))
}

/// The value of cookie `name` in a `Cookie` header; the first when it is there twice.
pub fn get<'a>(header: &'a [u8], name: &str) -> Option<&'a str> {
    let header = core::str::from_utf8(header).ok()?;
    header.split(';').find_map(|pair| {
        let (n, v) = pair.trim_start_matches([' ', '\t']).split_once('=')?;
        (n == name).then_some(v.trim_end_matches([' ', '\t']))
    })
}

/// The names of the cookies of `header` that begin with `prefix`.
pub fn names_with_prefix<'a>(header: &'a [u8], prefix: &str) -> Vec<&'a str> {
    let Ok(text) = core::str::from_utf8(header) else {
        return Vec::new();
    };
    text.split(';')
        .filter_map(|pair| {
            pair.trim_start_matches([' ', '\t'])
                .split_once('=')
                .map(|(n, _)| n)
        })
        .filter(|n| n.starts_with(prefix))
        .collect()
}

/// The `Cookie` header without the cookies of `name`: `name` itself, its parts `name_N` and
/// the logins `name_login_…`.
pub fn strip(header: &[u8], name: &str) -> Vec<u8> {
    let ours = |n: &str| {
        n == name
            || n.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('_'))
                .is_some_and(|i| {
                    !i.is_empty() && i.bytes().all(|c| c.is_ascii_digit())
                        || i.starts_with("login_")
                })
    };
    // As text, the searches for ';' and '=' are memchr's, not a loop over each byte.
    let Ok(text) = core::str::from_utf8(header) else {
        return header.to_vec();
    };
    let mut out = Vec::with_capacity(header.len());
    for pair in text.split(';') {
        let trimmed = pair.trim_start_matches([' ', '\t', '\r', '\n']);
        let n = trimmed.split_once('=').map_or(trimmed, |(n, _)| n);
        if trimmed.is_empty() || ours(n) {
            continue;
        }
        if !out.is_empty() {
            out.extend_from_slice(b"; ");
        }
        out.extend_from_slice(trimmed.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(cookies: &[(String, String)]) -> Vec<u8> {
        let pairs: Vec<String> = cookies.iter().map(|(n, v)| format!("{n}={v}")).collect();
        format!("other=1; {}; last=2", pairs.join("; ")).into_bytes()
    }

    #[test]
    fn short_values_take_one_cookie() {
        let cookies = split("S", "abc").unwrap();
        assert_eq!(cookies, [("S".to_owned(), "abc".to_owned())]);
        assert_eq!(join(&header(&cookies), "S"), Some(("abc".to_owned(), 1)));
    }

    #[test]
    fn long_values_are_split_and_joined() {
        let value = "x".repeat(MAX_PART * 2 + 5);
        let cookies = split("S", &value).unwrap();
        assert_eq!(cookies.len(), 3);
        assert!(cookies[0].1.starts_with("3."));
        assert_eq!(cookies[2].0, "S_2");
        assert!(cookies.iter().all(|(n, v)| n.len() + v.len() < 4000));
        assert_eq!(join(&header(&cookies), "S"), Some((value.clone(), 3)));
        let missing = header(&cookies[..2]);
        let (cut, parts) = join(&missing, "S").unwrap();
        assert!(cut != value && parts == 3);
        assert!(split("S", &"x".repeat(MAX_PART * MAX_PARTS + 1)).is_none());
        assert_eq!(join(b"S=1.abc", "S"), Some(("1.abc".to_owned(), 1)));
        assert_eq!(join(b"S=99.abc", "S"), Some(("99.abc".to_owned(), 1)));
        assert_eq!(join(b"T=abc", "S"), None);
    }

    #[test]
    fn finds_cookies_by_exact_name() {
        let h = b"SX=1; S=2; S=3;  T = 4";
        assert_eq!(get(h, "S"), Some("2"));
        assert_eq!(get(h, "SX"), Some("1"));
        assert_eq!(get(h, "T"), None);
        assert_eq!(get(b"\xff=1", "S"), None);
    }

    #[test]
    fn finds_cookies_by_prefix() {
        let h = b"S_login_a=1; T=2; S_login_b=3";
        assert_eq!(names_with_prefix(h, "S_login_"), ["S_login_a", "S_login_b"]);
    }

    #[test]
    fn strips_only_the_session_cookies() {
        let h = b"a=1; S=x; S_1=y; S_x=keep; SS=keep; S_=keep; S_login_abc=z; b=2";
        assert_eq!(strip(h, "S"), b"a=1; S_x=keep; SS=keep; S_=keep; b=2");
        assert_eq!(strip(b"S=1", "S"), b"");
    }
}
