//! Signed JWTs (JWS compact serialization, RFC 7515 and 7519), verified in the order that
//! blocks algorithm confusion: split, header, algorithm allowed, key fits, signature, claims.

mod base64url;
mod error;
pub mod introspection;
pub mod resource;
pub mod scope;
mod signature_only;
mod view;

use std::cell::OnceCell;

use serde_json::{Map, Value};

pub(crate) use crate::jose::parse_object;
pub use crate::jose::{Alg, Family};
pub use error::JwtError;
pub use signature_only::SignatureOnly;
use view::{Claims, Field};

use crate::keys::Key;
use crate::shown::printable;

/// Longer tokens are refused before any decoding.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// What a token must satisfy besides its signature.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Algorithms accepted; never `none`.
    pub algorithms: Vec<Alg>,
    /// `iss` must equal one of these, when there are any.
    pub issuers: Vec<String>,
    /// `aud` must contain one of these, when there are any.
    pub audiences: Vec<String>,
    /// `aud` must contain this too: the resource the token is for (RFC 8707).
    pub resource: Option<String>,
    /// Seconds of clock skew allowed for `exp` and `nbf`.
    pub leeway: u64,
    /// Refuse tokens without `exp`.
    pub require_exp: bool,
}

/// A token whose signature and claims were checked. Its header and claims are built as JSON
/// objects when first asked for: most requests need none of them.
#[derive(Debug)]
pub struct Verified {
    /// The algorithm of its signature; `None` for a token an introspection endpoint vouched for.
    pub alg: Option<Alg>,
    /// The `exp` claim, when there is one.
    pub exp: Option<f64>,
    /// The claims have `cnf`: the token may be bound to its sender (RFC 7800), which only
    /// then needs its claims read.
    pub confirmed: bool,
    /// The decoded header, then the decoded payload: one allocation, made once the token has
    /// passed every check.
    parts: Vec<u8>,
    payload_at: usize,
    header: OnceCell<Map<String, Value>>,
    claims: OnceCell<Map<String, Value>>,
}

impl Verified {
    /// A token of these decoded parts, which must be JSON objects as `verify` checks them.
    pub(crate) fn new(
        alg: Option<Alg>,
        exp: Option<f64>,
        confirmed: bool,
        header_json: &[u8],
        payload: &[u8],
    ) -> Self {
        let mut parts = Vec::with_capacity(header_json.len() + payload.len());
        parts.extend_from_slice(header_json);
        parts.extend_from_slice(payload);
        Verified {
            alg,
            exp,
            confirmed,
            parts,
            payload_at: header_json.len(),
            header: OnceCell::new(),
            claims: OnceCell::new(),
        }
    }

    /// The decoded payload, as the token carried it.
    pub fn payload(&self) -> &[u8] {
        &self.parts[self.payload_at..]
    }

    pub fn header(&self) -> &Map<String, Value> {
        self.header
            .get_or_init(|| parse_object(&self.parts[..self.payload_at]).unwrap_or_default())
    }

    pub fn claims(&self) -> &Map<String, Value> {
        self.claims
            .get_or_init(|| parse_object(self.payload()).unwrap_or_default())
    }

    /// A claim by name; a dotted name that is not itself a claim reaches into nested objects.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        lookup(self.claims(), name)
    }

    pub fn header_field(&self, name: &str) -> Option<&Value> {
        lookup(self.header(), name)
    }
}

fn lookup<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.get(name).or_else(|| {
        let mut parts = name.split('.');
        let first = map.get(parts.next()?)?;
        parts.try_fold(first, |value, part| value.as_object()?.get(part))
    })
}

/// A claim or header value as text: strings as they are, arrays joined with commas, other
/// values as JSON.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// Header parameters understood here; a `crit` naming any of them, or anything else, refuses
/// the token, since none of them is an extension whose semantics this code implements.
const UNDERSTOOD_CRIT: &[&str] = &[];

/// Whether `token` has the shape of a JWS in compact form: at most `MAX_TOKEN_LEN` bytes, three
/// non-empty base64url parts (the signature may be empty only for `none`, which is refused
/// anyway). A cheap test, to spare work such as fetching keys for what cannot verify.
pub fn looks_like_jws(token: &[u8]) -> bool {
    if token.len() > MAX_TOKEN_LEN || token.first() == Some(&b'.') {
        return false;
    }
    // One pass with a table: this runs for every token of a location with run-time keys.
    let mut dots = 0;
    let mut last = b'.';
    for &c in token {
        match CLASS[c as usize] {
            BASE64URL => {}
            DOT if last != b'.' => dots += 1,
            _ => return false,
        }
        last = c;
    }
    dots == 2 && last != b'.'
}

const INVALID: u8 = 0;
const BASE64URL: u8 = 1;
const DOT: u8 = 2;

/// The class of each byte for `looks_like_jws`.
static CLASS: [u8; 256] = {
    let mut class = [INVALID; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            class[c] = BASE64URL;
        }
        c += 1;
    }
    class[b'.' as usize] = DOT;
    class
};

pub fn verify(token: &[u8], keys: &[Key], policy: &Policy, now: i64) -> Result<Verified, JwtError> {
    if token.is_empty() {
        return Err(JwtError::Missing);
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtError::Malformed("token too long"));
    }

    let mut dots = memchr::memchr_iter(b'.', token);
    let (Some(first), Some(second), None) = (dots.next(), dots.next(), dots.next()) else {
        return Err(JwtError::Malformed("not three dot-separated parts"));
    };
    let header_b64 = &token[..first];
    let payload_b64 = &token[first + 1..second];
    let signature_b64 = &token[second + 1..];

    // Decoded on the stack, so that a refused token costs no allocation.
    let mut header_room = Room::<128, 512>::new();
    let header_json = header_room
        .decode(header_b64, true)
        .ok_or(JwtError::Malformed("header is not base64url"))?;
    let header =
        view::header(header_json).ok_or(JwtError::Malformed("header is not a JSON object"))?;

    let Some(alg_name) = header.alg.as_ref().and_then(Field::as_str) else {
        return Err(JwtError::Malformed("header has no alg"));
    };
    let alg = alg_name
        .parse::<Alg>()
        .ok()
        .filter(|alg| policy.algorithms.contains(alg))
        .ok_or_else(|| JwtError::AlgNotAllowed(printable(alg_name, 32)))?;

    if let Some(crit) = &header.crit {
        let understood = match crit {
            Field::Strs(names) => {
                !names.is_empty()
                    && names
                        .iter()
                        .all(|n| n.as_deref().is_some_and(|n| UNDERSTOOD_CRIT.contains(&n)))
            }
            _ => false,
        };
        if !understood {
            return Err(JwtError::Malformed("unsupported crit header"));
        }
    }

    let kid = match &header.kid {
        None => None,
        Some(Field::Str(kid)) => Some(&**kid),
        Some(_) => return Err(JwtError::Malformed("kid is not a string")),
    };

    let mut candidates = candidates(keys, alg, kid).peekable();
    if candidates.peek().is_none() {
        return Err(JwtError::UnknownKey);
    }

    // The longest signature is RSA-8192's.
    let mut signature_room = Room::<256, 1024>::new();
    let signature = signature_room
        .decode(signature_b64, false)
        .ok_or(JwtError::Malformed("signature is not base64url"))?;
    let message = &token[..second];

    if !candidates.any(|key| key.verify(alg, message, signature)) {
        return Err(JwtError::BadSignature);
    }
    drop(candidates);
    drop(header);

    let mut payload_room = Room::<512, 4096>::new();
    let payload = payload_room
        .decode(payload_b64, true)
        .ok_or(JwtError::Malformed("payload is not base64url"))?;
    let claims =
        view::claims(payload).ok_or(JwtError::Malformed("payload is not a JSON object"))?;
    let exp = check_claims(&claims, policy, now)?;
    let confirmed = claims.cnf.is_some();
    drop(claims);

    Ok(Verified::new(
        Some(alg),
        exp,
        confirmed,
        header_json,
        payload,
    ))
}

/// The keys that may verify a token of `alg` that names `kid`. A key without a kid (PEM, raw
/// secret) is a candidate whatever kid the token names.
fn candidates<'a>(
    keys: &'a [Key],
    alg: Alg,
    kid: Option<&'a str>,
) -> impl Iterator<Item = &'a Key> + 'a {
    keys.iter().filter(move |k| {
        k.fits(alg) && (kid.is_none() || k.kid.is_none() || k.kid.as_deref() == kid)
    })
}

/// Whether the token's header names its key (`kid`). A token without one that no key verifies
/// may be signed with a key its issuer added since.
pub fn has_kid(token: &[u8]) -> bool {
    let Some(first) = token.iter().position(|&c| c == b'.') else {
        return false;
    };
    let mut room = Room::<128, 512>::new();
    room.decode(&token[..first], false)
        .and_then(view::header)
        .is_some_and(|header| header.kid.is_some())
}

/// Room for a decoded part: `SMALL` bytes on the stack for the usual token, `LARGE` more
/// zeroed only for a part that needs them, the heap past that.
struct Room<const SMALL: usize, const LARGE: usize> {
    small: [u8; SMALL],
    large: Option<[u8; LARGE]>,
    spill: Vec<u8>,
}

impl<const SMALL: usize, const LARGE: usize> Room<SMALL, LARGE> {
    fn new() -> Self {
        Room {
            small: [0; SMALL],
            large: None,
            spill: Vec::new(),
        }
    }

    /// Decodes a base64url part: `None` if it is not base64url, or if it decodes to more than
    /// `LARGE` bytes and may not `spill` to the heap.
    fn decode(&mut self, part: &[u8], spill: bool) -> Option<&[u8]> {
        let room = base64url::decoded_len(part);
        let buf: &mut [u8] = if room <= SMALL {
            &mut self.small
        } else if room <= LARGE {
            self.large.insert([0; LARGE])
        } else if spill {
            self.spill = vec![0; room];
            &mut self.spill
        } else {
            return None;
        };
        let len = base64url::decode(part, buf)?;
        Some(&buf[..len])
    }
}

fn numeric_date(field: &Option<Field>) -> Result<Option<f64>, JwtError> {
    match field {
        None => Ok(None),
        Some(Field::Num(n)) => Ok(Some(*n)),
        Some(_) => Err(JwtError::Malformed("claim is not a NumericDate")),
    }
}

/// Checks the claims; their `exp`, if any.
fn check_claims(claims: &Claims, policy: &Policy, now: i64) -> Result<Option<f64>, JwtError> {
    let now = now as f64;
    let leeway = policy.leeway as f64;

    let exp = numeric_date(&claims.exp)?;
    match exp {
        Some(exp) if now >= exp + leeway => return Err(JwtError::Expired),
        None if policy.require_exp => return Err(JwtError::NoExpiry),
        _ => {}
    }

    if let Some(nbf) = numeric_date(&claims.nbf)? {
        if now + leeway < nbf {
            return Err(JwtError::NotYetValid);
        }
    }

    if !policy.issuers.is_empty() {
        let iss = claims.iss.as_ref().and_then(Field::as_str);
        if !iss.is_some_and(|iss| policy.issuers.iter().any(|i| i == iss)) {
            return Err(JwtError::BadIssuer);
        }
    }

    // RFC 7519, 4.1.3: a StringOrURI, or an array of them.
    let aud_is_strings = match &claims.aud {
        None | Some(Field::Str(_)) => true,
        Some(Field::Strs(auds)) => auds.iter().all(Option::is_some),
        Some(_) => false,
    };
    if !aud_is_strings {
        return Err(JwtError::Malformed(
            "aud is not a string or an array of strings",
        ));
    }
    let aud_has = |accepted: &dyn Fn(&str) -> bool| match &claims.aud {
        Some(Field::Strs(auds)) => auds.iter().flatten().any(|aud| accepted(aud)),
        Some(Field::Str(aud)) => accepted(aud),
        _ => false,
    };
    if !policy.audiences.is_empty() && !aud_has(&|aud| policy.audiences.iter().any(|a| a == aud)) {
        return Err(JwtError::BadAudience);
    }
    // RFC 8707: the resource the token is for.
    if let Some(resource) = &policy.resource {
        if !aud_has(&|aud| aud == resource) {
            return Err(JwtError::BadAudience);
        }
    }

    Ok(exp)
}
