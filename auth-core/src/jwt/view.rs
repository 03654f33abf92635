//! What `verify` reads of a token's header and claims, in one pass over each and without
//! building them: the members it checks, borrowed where the JSON has no escapes, and the rest
//! only checked as JOSE wants (no member name twice in an object, at any depth; RFC 7515, 5.2).
//! The whole objects are built later, and only when a variable or a directive asks for them.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

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
}

/// A member's value, as far as the checks care.
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

/// `json`, which must be one object and nothing after it, read for `T`'s members.
fn read<'a, T: Wanted<'a>>(json: &'a [u8]) -> Option<T> {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let wanted = (&mut deserializer)
        .deserialize_map(WantedVisitor(PhantomData))
        .ok()?;
    deserializer.end().ok()?;
    Some(wanted)
}

/// Reads an object's members: `keep` stores those it wants and says whether it took the value.
fn members<'de, A: MapAccess<'de>>(
    mut access: A,
    mut keep: impl FnMut(&str, &mut A) -> Result<bool, A::Error>,
) -> Result<(), A::Error> {
    let mut seen = Seen::default();
    while let Some(Name(name)) = access.next_key::<Name>()? {
        if seen.contains(&name) {
            return Err(de::Error::custom("duplicate member name"));
        }
        if !keep(&name, &mut access)? {
            access.next_value::<Checked>()?;
        }
        seen.insert(name);
    }
    Ok(())
}

/// The member names of one object so far: the first few, without escapes, kept without
/// allocating.
#[derive(Default)]
struct Seen<'a> {
    inline: [&'a str; 12],
    len: usize,
    more: Vec<Cow<'a, str>>,
}

impl<'a> Seen<'a> {
    fn contains(&self, name: &str) -> bool {
        self.inline[..self.len].contains(&name) || self.more.iter().any(|n| n == name)
    }

    fn insert(&mut self, name: Cow<'a, str>) {
        match name {
            Cow::Borrowed(name) if self.len < self.inline.len() => {
                self.inline[self.len] = name;
                self.len += 1;
            }
            name => self.more.push(name),
        }
    }
}

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
            _ => None,
        }
    }
}

struct WantedVisitor<T>(PhantomData<T>);

impl<'de, T: Wanted<'de>> Visitor<'de> for WantedVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<T, A::Error> {
        let mut wanted = T::default();
        members(access, |name, access| match wanted.slot(name) {
            Some(slot) => {
                *slot = Some(access.next_value()?);
                Ok(true)
            }
            None => Ok(false),
        })?;
        Ok(wanted)
    }
}

/// A member name, borrowed from the input when it has no escapes.
struct Name<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for Field<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Field<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Field<'de>, E> {
                Ok(Field::Other)
            }
            fn visit_unit<E>(self) -> Result<Field<'de>, E> {
                Ok(Field::Other)
            }
            fn visit_i64<E>(self, v: i64) -> Result<Field<'de>, E> {
                Ok(Field::Num(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Field<'de>, E> {
                Ok(Field::Num(v as f64))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Field<'de>, E> {
                Ok(Field::Num(v))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Field<'de>, E> {
                Ok(Field::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Field<'de>, E> {
                Ok(Field::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Field<'de>, E> {
                Ok(Field::Str(Cow::Owned(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field<'de>, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Field>()? {
                    items.push(match item {
                        Field::Str(s) => Some(s),
                        _ => None,
                    });
                }
                Ok(Field::Strs(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<Field<'de>, A::Error> {
                members(access, |_, _| Ok(false))?;
                Ok(Field::Other)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Any JSON value, checked and dropped.
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Checked;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_unit<E>(self) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
                while seq.next_element::<Checked>()?.is_some() {}
                Ok(Checked)
            }
            fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<Checked, A::Error> {
                members(access, |_, _| Ok(false))?;
                Ok(Checked)
            }
        }
        deserializer.deserialize_any(V)
    }
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
}
