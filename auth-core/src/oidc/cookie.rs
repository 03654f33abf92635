//! Session cookies on the wire: a value too long for one cookie is split over several
//! (`NAME`, `NAME_1`, …), and the module's cookies are taken out of the `Cookie` header that
//! the backend gets.

use std::borrow::Cow;

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
pub fn join<'a>(header: &'a [u8], name: &str) -> Option<(Cow<'a, str>, usize)> {
    let first = get(header, name)?;
    // The count has at most two digits: the dot, if any, is within the first three bytes.
    let dot = first.bytes().take(3).position(|c| c == b'.');
    let parsed = dot.and_then(|i| Some((first[..i].parse::<usize>().ok()?, &first[i + 1..])));
    let Some((count, part)) = parsed.filter(|(n, _)| (2..=MAX_PARTS).contains(n)) else {
        return Some((Cow::Borrowed(first), 1));
    };
    let mut value = part.to_owned();
    for i in 1..count {
        value.push_str(get(header, &format!("{name}_{i}")).unwrap_or_default());
    }
    Some((Cow::Owned(value), count))
}

/// The parts of `header` between semicolons.
fn segments(header: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(header);
    core::iter::from_fn(move || {
        let h = rest?;
        match memchr::memchr(b';', h) {
            Some(i) => {
                rest = Some(&h[i + 1..]);
                Some(&h[..i])
            }
            None => {
                rest = None;
                Some(h)
            }
        }
    })
}

/// The `name=value` pairs of a `Cookie` header, as bytes, without the blanks around them; a
/// pair without `=` has an empty value. The searches for `;` and `=` are memchr's, over bytes:
/// session cookies are kilobytes long.
fn pairs(header: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let blank = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    segments(header).filter_map(move |pair| {
        let start = pair.iter().position(|c| !blank(c))?;
        let pair = &pair[start..];
        let end = pair.iter().rposition(|c| !blank(c)).map_or(0, |i| i + 1);
        let pair = &pair[..end];
        Some(match memchr::memchr(b'=', pair) {
            Some(eq) => (&pair[..eq], &pair[eq + 1..]),
            None => (pair, &pair[pair.len()..]),
        })
    })
}

/// The value of cookie `name` in a `Cookie` header; the first when it is there twice.
pub fn get<'a>(header: &'a [u8], name: &str) -> Option<&'a str> {
    let (_, value) = pairs(header).find(|(n, _)| *n == name.as_bytes())?;
    core::str::from_utf8(value).ok()
}

/// The names of the cookies of `header` that begin with `prefix`.
pub fn names_with_prefix<'a>(header: &'a [u8], prefix: &str) -> Vec<&'a str> {
    pairs(header)
        .filter(|(n, _)| n.starts_with(prefix.as_bytes()))
        .filter_map(|(n, _)| core::str::from_utf8(n).ok())
        .collect()
}

/// The `Cookie` header without the cookies of `name`: `name` itself, its parts `name_N` and
/// the logins `name_login_…`.
pub fn strip(header: &[u8], name: &str) -> Vec<u8> {
    let name = name.as_bytes();
    let ours = |n: &[u8]| {
        n == name
            || n.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(b"_"))
                .is_some_and(|i| {
                    !i.is_empty() && i.iter().all(u8::is_ascii_digit) || i.starts_with(b"login_")
                })
    };
    let mut out = Vec::new();
    let blank = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    for pair in segments(header) {
        let Some(start) = pair.iter().position(|c| !blank(c)) else {
            continue;
        };
        let trimmed = &pair[start..];
        let n = memchr::memchr(b'=', trimmed).map_or(trimmed, |eq| &trimmed[..eq]);
        if ours(n) {
            continue;
        }
        if !out.is_empty() {
            out.extend_from_slice(b"; ");
        }
        out.extend_from_slice(trimmed);
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
        assert_eq!(join(&header(&cookies), "S"), Some(("abc".into(), 1)));
    }

    #[test]
    fn long_values_are_split_and_joined() {
        let value = "x".repeat(MAX_PART * 2 + 5);
        let cookies = split("S", &value).unwrap();
        assert_eq!(cookies.len(), 3);
        assert!(cookies[0].1.starts_with("3."));
        assert_eq!(cookies[2].0, "S_2");
        assert!(cookies.iter().all(|(n, v)| n.len() + v.len() < 4000));
        assert_eq!(
            join(&header(&cookies), "S"),
            Some((value.clone().into(), 3))
        );
        let missing = header(&cookies[..2]);
        let (cut, parts) = join(&missing, "S").unwrap();
        assert!(cut != value && parts == 3);
        assert!(split("S", &"x".repeat(MAX_PART * MAX_PARTS + 1)).is_none());
        assert_eq!(join(b"S=1.abc", "S"), Some(("1.abc".into(), 1)));
        assert_eq!(join(b"S=99.abc", "S"), Some(("99.abc".into(), 1)));
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
