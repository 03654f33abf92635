//! What `verify` reads of a token's header and claims, in one pass over each and without
//! building them: the members it checks, borrowed where the JSON has no escapes, and the rest
//! only checked: JSON as `parse_object` reads it, with no member name twice in an object at any
//! depth (RFC 7515, 5.2). The whole objects are built later by `parse_object`, and only when a
//! variable or a directive asks for them.

use std::borrow::Cow;
use std::collections::HashSet;

/// The header members `verify` checks.
#[derive(Default)]
pub(super) struct Header<'a> {
    pub alg: Option<Field<'a>>,
    pub kid: Option<Field<'a>>,
    pub crit: Option<Field<'a>>,
}

/// The claims `verify` checks.
#[derive(Default)]
pub(super) struct Claims<'a> {
    pub exp: Option<Field<'a>>,
    pub nbf: Option<Field<'a>>,
    pub iss: Option<Field<'a>>,
    pub aud: Option<Field<'a>>,
    /// Only whether it is there: a token with `cnf` may be bound to its sender.
    pub cnf: Option<Field<'a>>,
}

/// A member's value, as far as the checks care.
#[derive(Debug, PartialEq)]
pub(super) enum Field<'a> {
    Str(Cow<'a, str>),
    Num(f64),
    /// An array; `None` for an element that is not a string.
    Strs(Vec<Option<Cow<'a, str>>>),
    Other,
}

impl Field<'_> {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Field::Str(s) => Some(s),
            _ => None,
        }
    }
}

pub(super) fn header(json: &[u8]) -> Option<Header<'_>> {
    read(json)
}

pub(super) fn claims(json: &[u8]) -> Option<Claims<'_>> {
    read(json)
}

/// Objects and arrays nested deeper are refused, as serde_json's recursion limit refuses them.
const MAX_DEPTH: usize = 127;

/// An object of which some members are kept: `slot` says where one goes.
trait Wanted<'a>: Default {
    fn slot(&mut self, name: &str) -> Option<&mut Option<Field<'a>>>;
}

impl<'a> Wanted<'a> for Header<'a> {
    fn slot(&mut self, name: &str) -> Option<&mut Option<Field<'a>>> {
        match name {
            "alg" => Some(&mut self.alg),
            "kid" => Some(&mut self.kid),
            "crit" => Some(&mut self.crit),
            _ => None,
        }
    }
}

impl<'a> Wanted<'a> for Claims<'a> {
    fn slot(&mut self, name: &str) -> Option<&mut Option<Field<'a>>> {
        match name {
            "exp" => Some(&mut self.exp),
            "nbf" => Some(&mut self.nbf),
            "iss" => Some(&mut self.iss),
            "aud" => Some(&mut self.aud),
            "cnf" => Some(&mut self.cnf),
            _ => None,
        }
    }
}

/// `json`, which must be one object and nothing after it but white space, read for `T`'s
/// members.
fn read<'a, T: Wanted<'a>>(json: &'a [u8]) -> Option<T> {
    // Valid UTF-8 as a whole, so valid in every string: outside strings JSON is ASCII.
    let json = std::str::from_utf8(json).ok()?;
    let mut reader = Reader { json, at: 0 };
    reader.space();
    if reader.peek()? != b'{' {
        return None;
    }
    let mut wanted = T::default();
    reader.object(1, |name, reader| match wanted.slot(name) {
        Some(slot) => {
            *slot = Some(reader.field(1)?);
            Some(true)
        }
        None => Some(false),
    })?;
    reader.space();
    (reader.at == json.len()).then_some(wanted)
}

/// A cursor over JSON text (RFC 8259). Every method starts on the first byte of what it reads
/// and stops after its last.
struct Reader<'a> {
    json: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.json.as_bytes().get(self.at).copied()
    }

    fn space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// `c`, after white space.
    fn expect(&mut self, c: u8) -> Option<()> {
        self.space();
        (self.peek()? == c).then(|| self.at += 1)
    }

    /// An object at `depth`: `keep` reads the value of a member it wants and says so, or
    /// leaves it to be checked and skipped.
    fn object(
        &mut self,
        depth: usize,
        mut keep: impl FnMut(&str, &mut Self) -> Option<bool>,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.at += 1;
        self.space();
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        let mut seen = Seen::default();
        loop {
            self.space();
            if self.peek()? != b'"' {
                return None;
            }
            let name = self.string()?;
            if seen.contains(&name) {
                return None;
            }
            self.expect(b':')?;
            self.space();
            if !keep(&name, self)? {
                self.skip(depth)?;
            }
            seen.insert(name);
            self.space();
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An array at `depth`, each element read by `element`.
    fn array(
        &mut self,
        depth: usize,
        mut element: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.at += 1;
        self.space();
        if self.peek()? == b']' {
            self.at += 1;
            return Some(());
        }
        loop {
            self.space();
            element(self)?;
            self.space();
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A value inside a container at `depth`, checked and dropped.
    fn skip(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'{' => self.object(depth + 1, |_, _| Some(false)),
            b'[' => self.array(depth + 1, |reader| reader.skip(depth + 1)),
            b'"' => self.string().map(drop),
            b'-' | b'0'..=b'9' => self.number().map(drop),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => None,
        }
    }

    /// A wanted member's value, inside the object at `depth`.
    fn field(&mut self, depth: usize) -> Option<Field<'a>> {
        Some(match self.peek()? {
            b'"' => Field::Str(self.string()?),
            b'-' | b'0'..=b'9' => Field::Num(self.number()?),
            b'[' => {
                let mut items = Vec::new();
                self.array(depth + 1, |reader| {
                    let item = match reader.peek()? {
                        b'"' => Some(reader.string()?),
                        _ => {
                            reader.skip(depth + 1)?;
                            None
                        }
                    };
                    items.push(item);
                    Some(())
                })?;
                Field::Strs(items)
            }
            _ => {
                self.skip(depth)?;
                Field::Other
            }
        })
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.json.as_bytes().get(self.at..end)? == word).then(|| self.at = end)
    }

    /// A number, as the nearest `f64`; one out of its range is refused.
    fn number(&mut self) -> Option<f64> {
        let start = self.at;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => {
                // A whole number of up to 15 digits, what NumericDates are, is exact in an
                // f64: read as it is scanned.
                let mut n = 0u64;
                while let Some(c @ b'0'..=b'9') = self.peek() {
                    n = n.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
                    self.at += 1;
                }
                if start + 15 >= self.at && !matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
                    return Some(if negative { -(n as f64) } else { n as f64 });
                }
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.some_digits()?;
        }
        let text = &self.json[start..self.at];
        // parse_object's serde_json, which builds the objects later, may find infinity past
        // 1e308 and refuse what is read here; so this refuses it first.
        text.parse::<f64>().ok().filter(|n| n.abs() <= 1e308)
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.at;
        self.digits();
        (self.at > start).then_some(())
    }

    /// A string: borrowed when it has no escapes.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.at + 1;
        let len = self.json.as_bytes()[start..]
            .iter()
            .position(|&c| SPECIAL[c as usize])?;
        self.at = start + len;
        match self.peek()? {
            b'"' => {
                self.at += 1;
                Some(Cow::Borrowed(&self.json[start..start + len]))
            }
            b'\\' => {
                let mut text = self.json[start..start + len].to_owned();
                self.escaped(&mut text)?;
                Some(Cow::Owned(text))
            }
            _ => None,
        }
    }

    /// The rest of a string from its first escape, appended to `text`.
    fn escaped(&mut self, text: &mut String) -> Option<()> {
        loop {
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some(());
                }
                b'\\' => {
                    let escape = *self.json.as_bytes().get(self.at + 1)?;
                    self.at += 2;
                    text.push(match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return None,
                    });
                }
                _ => {
                    let start = self.at;
                    let len = self.json.as_bytes()[start..]
                        .iter()
                        .position(|&c| SPECIAL[c as usize])?;
                    if len == 0 {
                        return None;
                    }
                    self.at += len;
                    text.push_str(&self.json[start..self.at]);
                }
            }
        }
    }

    /// The character of a `\u` escape, after the `\u`: a surrogate must come in a pair.
    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                self.literal(b"\\u")?;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return None;
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            code => code,
        };
        char::from_u32(code)
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.json.as_bytes().get(self.at..self.at + 4)?;
        self.at += 4;
        digits
            .iter()
            .try_fold(0, |code, &c| Some(code << 4 | (c as char).to_digit(16)?))
    }
}

/// The bytes that end a run of a string's characters: its closing quote, an escape, and the
/// control characters that JSON wants escaped.
static SPECIAL: [bool; 256] = {
    let mut special = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        special[c] = true;
        c += 1;
    }
    special[b'"' as usize] = true;
    special[b'\\' as usize] = true;
    special
};

/// The member names of one object so far: the first few, without escapes, kept without
/// allocating, the rest hashed, so that an object of many members (in a header, which is read
/// before any signature is checked) costs no more than its length.
#[derive(Default)]
struct Seen<'a> {
    inline: [&'a str; 12],
    len: usize,
    // Boxed: one word in every object's Seen, where the set is almost never made.
    #[allow(clippy::box_collection)]
    more: Option<Box<HashSet<Cow<'a, str>>>>,
}

impl<'a> Seen<'a> {
    fn contains(&self, name: &str) -> bool {
        self.inline[..self.len].contains(&name)
            || self
                .more
                .as_ref()
                .is_some_and(|more| more_contains(more, name))
    }

    fn insert(&mut self, name: Cow<'a, str>) {
        match name {
            Cow::Borrowed(name) if self.len < self.inline.len() => {
                self.inline[self.len] = name;
                self.len += 1;
            }
            name => more_insert(&mut self.more, name),
        }
    }
}

// Out of line, so that the usual object, of a few members, runs none of the hashing code.
#[cold]
#[inline(never)]
fn more_contains(more: &HashSet<Cow<'_, str>>, name: &str) -> bool {
    more.contains(name)
}

#[cold]
#[inline(never)]
#[allow(clippy::box_collection)]
fn more_insert<'a>(more: &mut Option<Box<HashSet<Cow<'a, str>>>>, name: Cow<'a, str>) {
    more.get_or_insert_default().insert(name);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checked_members_and_nothing_else() {
        let h = header(br#"{"alg":"RS256","kid":"k\u0031","typ":"JWT","x":{"a":[1,{"b":null}]}}"#)
            .unwrap();
        assert_eq!(h.alg.unwrap().as_str(), Some("RS256"));
        assert_eq!(h.kid.unwrap().as_str(), Some("k1"));
        assert!(h.crit.is_none());

        let c = claims(br#"{"exp":1.5e9,"nbf":7,"iss":"i","aud":["a",2,"b"],"sub":"s"}"#).unwrap();
        assert!(matches!(c.exp, Some(Field::Num(n)) if n == 1.5e9));
        assert!(matches!(c.nbf, Some(Field::Num(n)) if n == 7.0));
        assert_eq!(c.iss.unwrap().as_str(), Some("i"));
        let Some(Field::Strs(aud)) = c.aud else {
            panic!("aud")
        };
        assert_eq!(aud, [Some("a".into()), None, Some("b".into())]);
    }

    /// The fields as `parse_object`'s map has them.
    fn expected(
        map: &serde_json::Map<String, serde_json::Value>,
        name: &str,
    ) -> Option<Field<'static>> {
        use serde_json::Value;
        let text = |s: &str| Cow::Owned(s.to_owned());
        Some(match map.get(name)? {
            Value::String(s) => Field::Str(text(s)),
            Value::Number(n) => Field::Num(n.as_f64().unwrap()),
            Value::Array(items) => {
                Field::Strs(items.iter().map(|i| i.as_str().map(text)).collect())
            }
            _ => Field::Other,
        })
    }

    /// Mutations of JSON texts: each is read as `parse_object` reads it (serde_json), refused
    /// when it refuses, with the same members when it accepts.
    #[test]
    fn reads_as_parse_object_does() {
        let seeds: &[&str] = &[
            r#"{"alg":"HS256","typ":"JWT","kid":"hs-1"}"#,
            r#" {"sub":"alice","iss":"https://i.example/","aud":["api","web",3],"exp":4102444800,"nbf":-1.5e3,"x":{"y":[true,false,null,{}]}} "#,
            r#"{"k\u00e9y":"v\ud83d\ude00\n\"\udbff\udfff","aud":"\u0061pi","iss":"café","e":[],"n":0.25E+2}"#,
            r#"{"crit":["b64"],"a":{"a":{"a":1}},"exp":1.0e0,"nbf":0}"#,
        ];
        let pieces: &[&[u8]] = &[
            b"{",
            b"}",
            b"[",
            b"]",
            b"\"",
            b":",
            b",",
            b"\\",
            b" ",
            b"\n",
            b"0",
            b"1",
            b"-",
            b".",
            b"e",
            b"E",
            b"+",
            b"t",
            b"true",
            b"null",
            b"\\u",
            b"\\ud800",
            b"\\udc00",
            b"d8",
            b"\xc3",
            b"\xa9",
            b"\xff",
            b"\x01",
            b"\x7f",
            b"\"exp\":",
            b"\"aud\":",
            b"1e400",
            b"\"alg\"",
            b"\"kid\":1",
            b"00",
            b"\t",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 16) as usize % below
        };
        let (mut accepted, mut refused) = (0, 0);
        for _ in 0..100_000 {
            let mut text = seeds[next(seeds.len())].as_bytes().to_vec();
            for _ in 0..1 + next(3) {
                let at = next(text.len() + 1);
                match next(3) {
                    0 => {
                        let piece = pieces[next(pieces.len())];
                        text.splice(at..at, piece.iter().copied());
                    }
                    1 if at < text.len() => {
                        let end = (at + 1 + next(4)).min(text.len());
                        text.drain(at..end);
                    }
                    _ => {
                        let end = (at + next(8)).min(text.len());
                        let copy = text[at..end].to_vec();
                        text.splice(at..at, copy);
                    }
                }
            }
            let shown = String::from_utf8_lossy(&text).into_owned();
            let map = super::super::parse_object(&text);
            let (h, c) = (header(&text), claims(&text));
            assert_eq!(map.is_some(), h.is_some(), "header {shown}");
            assert_eq!(map.is_some(), c.is_some(), "claims {shown}");
            let (Some(map), Some(h), Some(c)) = (map, h, c) else {
                refused += 1;
                continue;
            };
            accepted += 1;
            for (name, field) in [("alg", h.alg), ("kid", h.kid), ("crit", h.crit)]
                .into_iter()
                .chain([
                    ("exp", c.exp),
                    ("nbf", c.nbf),
                    ("iss", c.iss),
                    ("aud", c.aud),
                ])
            {
                let expected = expected(&map, name);
                match (&field, &expected) {
                    // serde_json rounds some decimals to a neighbour of the nearest double.
                    (Some(Field::Num(a)), Some(Field::Num(b))) => {
                        assert!((a - b).abs() <= b.abs() * 1e-15, "{name} of {shown}")
                    }
                    _ => assert_eq!(field, expected, "{name} of {shown}"),
                }
            }
        }
        assert!(
            accepted > 10_000 && refused > 10_000,
            "{accepted} {refused}"
        );
    }

    #[test]
    fn nesting_as_deep_as_serde_json_reads() {
        for depth in [126, 127, 128] {
            let deep = format!(
                "{{\"a\":{}1{}}}",
                "[".repeat(depth - 1),
                "]".repeat(depth - 1)
            );
            let ok = super::super::parse_object(deep.as_bytes()).is_some();
            assert_eq!(claims(deep.as_bytes()).is_some(), ok, "{depth}");
            assert_eq!(ok, depth <= 127, "{depth}");
        }
    }

    #[test]
    fn what_parse_object_refuses_is_refused() {
        for bad in [
            &br#"{"a":1,"a":2}"#[..],
            br#"{"alg":"HS256","alg":"none"}"#,
            br#"{"x":{"a":1,"a":2}}"#,
            br#"{"x":[{"a":1,"a":2}]}"#,
            br#"{"a\u0062":1,"ab":2}"#,
            b"[1]",
            b"\"x\"",
            b"{",
            b"{} x",
            b"",
        ] {
            assert!(header(bad).is_none(), "{}", String::from_utf8_lossy(bad));
            assert!(claims(bad).is_none(), "{}", String::from_utf8_lossy(bad));
            assert!(super::super::parse_object(bad).is_none());
        }
        let many = (0..40).map(|i| format!("\"m{i}\":{i}")).collect::<Vec<_>>();
        let ok = format!("{{{}}}", many.join(","));
        assert!(claims(ok.as_bytes()).is_some());
        for dup in [0, 11, 12, 39] {
            let bad = format!("{{{},\"m{dup}\":0}}", many.join(","));
            assert!(claims(bad.as_bytes()).is_none(), "m{dup}");
            let escaped = format!("{{{},\"\\u006d{dup}\":0}}", many.join(","));
            assert!(claims(escaped.as_bytes()).is_none(), "\\u006d{dup}");
        }
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(claims(deep.as_bytes()).is_none());
        let deep = format!("{{\"exp\":{}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(claims(deep.as_bytes()).is_none());
    }

    #[test]
    fn numbers_near_the_largest_f64_are_refused_as_parse_object_may() {
        for n in [
            "1.7976931348623158e308",
            "-1.7976931348623157e308",
            "1e309",
            "2e308",
        ] {
            let json = format!("{{\"exp\":{n}}}");
            assert!(claims(json.as_bytes()).is_none(), "{n}");
        }
        for n in ["1e308", "-1e308", "9.99e307", "1e-400"] {
            let json = format!("{{\"exp\":{n}}}");
            assert!(claims(json.as_bytes()).is_some(), "{n}");
            assert!(super::super::parse_object(json.as_bytes()).is_some(), "{n}");
        }
    }

    #[test]
    fn an_object_of_many_members() {
        // 60,000 names: each compared with those before it, 1.8 billion comparisons; hashed,
        // a few milliseconds.
        let many = (0..60_000)
            .map(|i| format!("\"m{i}\":0"))
            .collect::<Vec<_>>();
        let json = format!("{{{}}}", many.join(","));
        assert!(header(json.as_bytes()).is_some());
        let dup = format!("{{{},\"m59999\":1}}", many.join(","));
        assert!(header(dup.as_bytes()).is_none());
    }
}
