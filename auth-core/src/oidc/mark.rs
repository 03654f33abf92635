//! A session's end as the nodes of a cluster tell it to one another: what is marked (a
//! fingerprint, never a name), when, until when, and whether a request that nothing
//! authenticates made it (a front-channel logout: it never takes the place of another mark).
//! As text: `<64 hex digits> <at> <until>`, then ` weak` for those.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub id: [u8; 32],
    pub at: i64,
    pub until: i64,
    pub weak: bool,
}

/// Lowercase hex, as the store's keys name fingerprints.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

impl Mark {
    pub fn text(&self) -> String {
        let weak = if self.weak { " weak" } else { "" };
        format!("{} {} {}{weak}", hex(&self.id), self.at, self.until)
    }

    pub fn parse(text: &[u8]) -> Option<Mark> {
        let text = core::str::from_utf8(text).ok()?;
        let mut parts = text.split(' ');
        let (id, at, until) = (parts.next()?, parts.next()?, parts.next()?);
        let weak = match parts.next() {
            None => false,
            Some("weak") => true,
            Some(_) => return None,
        };
        if parts.next().is_some() || id.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in id.as_bytes().chunks(2).enumerate() {
            let pair = core::str::from_utf8(pair).ok()?;
            if !pair
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return None;
            }
            out[i] = u8::from_str_radix(pair, 16).ok()?;
        }
        let at: i64 = at.parse().ok()?;
        let until: i64 = until.parse().ok()?;
        (at >= 0 && until > at).then_some(Mark {
            id: out,
            at,
            until,
            weak,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_round_trips() {
        let mark = Mark {
            id: [0xab; 32],
            at: 100,
            until: 200,
            weak: false,
        };
        let text = mark.text();
        assert_eq!(&text[..4], "abab");
        assert_eq!(Mark::parse(text.as_bytes()), Some(mark));
        let weak = Mark { weak: true, ..mark };
        assert!(weak.text().ends_with(" 200 weak"));
        assert_eq!(Mark::parse(weak.text().as_bytes()), Some(weak));
    }

    #[test]
    fn anything_else_is_no_mark() {
        let id = "ab".repeat(32);
        for bad in [
            String::new(),
            format!("{id} 1"),
            format!("{id} 1 2 3"),
            format!("{id} 1 2 weak x"),
            format!("{id} 1 2 strong"),
            format!("{} 1 2", "AB".repeat(32)),
            format!("{} 1 2", "zz".repeat(32)),
            format!("{id} 2 1"),
            format!("{id} -1 2"),
            format!("{id}  1 2"),
            format!("+{} 1 2", &id[1..]),
        ] {
            assert_eq!(Mark::parse(bad.as_bytes()), None, "{bad}");
        }
    }
}
