//! DPoP proofs (RFC 9449): a JWS the client signs for each request with the key its access
//! token is bound to (`cnf.jkt`), over the request's method and URI and the token's hash. A
//! stolen bound token is useless without the key.

mod error;

use core::num::NonZeroUsize;
use std::rc::Rc;

use aws_lc_rs::digest::{digest, SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use lru::LruCache;
use serde_json::{Map, Value};

pub use error::DpopError;

use crate::http::Url;
use crate::jose::{parse_object, Alg};
use crate::keys::{public_jwk, thumbprint, Key};
use crate::shown::printable;

/// Longer proofs are refused before any decoding: an RSA-4096 key and its signature fit.
pub const MAX_PROOF_LEN: usize = 8 * 1024;

/// Seconds a proof's `iat` may be off the clock, either way, by default.
pub const DEFAULT_WINDOW: u64 = 60;

/// The algorithms a proof may be signed with: every asymmetric one (never `none` or HMAC).
pub const ALGORITHMS: [Alg; 10] = [
    Alg::ES256,
    Alg::ES384,
    Alg::ES512,
    Alg::EdDSA,
    Alg::PS256,
    Alg::PS384,
    Alg::PS512,
    Alg::RS256,
    Alg::RS384,
    Alg::RS512,
];

/// The request a proof must be made for.
pub struct Request<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a [u8],
    /// `scheme://host[:port]/path`; a query is ignored.
    pub uri: &'a str,
    /// The access token, as sent.
    pub token: &'a [u8],
}

/// A proof that passed every check but the replay one, which needs memory shared by workers.
#[derive(Debug)]
pub struct Proof {
    /// The RFC 7638 thumbprint of the proof's key, base64url.
    pub jkt: String,
    pub jti: String,
    pub iat: i64,
}

impl Proof {
    /// What identifies the proof for the replay check: its key and `jti` (a client cannot
    /// burn another's `jti`s).
    pub fn replay_id(&self) -> [u8; 32] {
        let mut id = [0; 32];
        let mut ctx = aws_lc_rs::digest::Context::new(&SHA256);
        ctx.update(self.jkt.as_bytes());
        ctx.update(b"\0");
        ctx.update(self.jti.as_bytes());
        id.copy_from_slice(ctx.finish().as_ref());
        id
    }
}

/// `algs="…"` of the `DPoP` challenge.
pub fn algorithm_names() -> String {
    ALGORITHMS.map(Alg::name).join(" ")
}

/// The proof keys a worker parsed lately, by their JWK as the proofs carry it: a client signs
/// every proof with the same key, which is parsed (and its point or modulus checked) once.
pub struct ProofKeys(LruCache<String, Rc<(Key, String)>>);

impl ProofKeys {
    pub fn new(max: NonZeroUsize) -> Self {
        ProofKeys(LruCache::new(max))
    }

    /// The key of `jwk` and its thumbprint, parsed now or found.
    fn get(&mut self, jwk: &Map<String, Value>) -> Result<Rc<(Key, String)>, DpopError> {
        // The whole JWK, members in order: another member (an `alg`, a private one) is another
        // entry, checked on its own.
        let id = Value::Object(jwk.clone()).to_string();
        if let Some(known) = self.0.get(&id) {
            return Ok(known.clone());
        }
        let parsed = Rc::new(parse_key(jwk)?);
        self.0.put(id, parsed.clone());
        Ok(parsed)
    }
}

fn parse_key(jwk: &Map<String, Value>) -> Result<(Key, String), DpopError> {
    let key = public_jwk(jwk).map_err(DpopError::BadKey)?;
    let jkt = thumbprint(jwk).ok_or(DpopError::BadKey("no thumbprint".into()))?;
    Ok((key, jkt))
}

/// Checks a proof for `request` (RFC 9449, 4.3): its form, type and algorithm, its key and
/// signature, then `htm`, `htu`, `iat` within `window` seconds of `now`, and `ath`. Keys are
/// taken from `keys` when it has them.
pub fn check(
    proof: &[u8],
    request: &Request,
    window: u64,
    now: i64,
    keys: Option<&mut ProofKeys>,
) -> Result<Proof, DpopError> {
    if proof.is_empty() {
        return Err(DpopError::Missing);
    }
    if proof.len() > MAX_PROOF_LEN {
        return Err(DpopError::Malformed("too long"));
    }
    let mut parts = proof.split(|&c| c == b'.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(DpopError::Malformed("not three dot-separated parts"));
    };
    let decode = |part: &[u8], what| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| DpopError::Malformed(what))
    };
    let header = parse_object(&decode(header_b64, "header is not base64url")?)
        .ok_or(DpopError::Malformed("header is not a JSON object"))?;

    if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err(DpopError::Type);
    }
    let alg_name = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(DpopError::Malformed("header has no alg"))?;
    let alg = alg_name
        .parse::<Alg>()
        .ok()
        .filter(|alg| ALGORITHMS.contains(alg))
        .ok_or_else(|| DpopError::AlgNotAllowed(printable(alg_name, 32)))?;
    if header.contains_key("crit") {
        return Err(DpopError::Malformed("unsupported crit header"));
    }
    let Some(Value::Object(jwk)) = header.get("jwk") else {
        return Err(DpopError::Malformed("header has no jwk object"));
    };
    let parsed = match keys {
        Some(keys) => keys.get(jwk)?,
        None => Rc::new(parse_key(jwk)?),
    };
    let (key, jkt) = &*parsed;
    if !key.fits(alg) {
        return Err(DpopError::BadKey(format!(
            "does not fit the algorithm {}",
            alg.name()
        )));
    }
    let signature = decode(signature_b64, "signature is not base64url")?;
    let message = &proof[..header_b64.len() + 1 + payload_b64.len()];
    if !key.verify(alg, message, &signature) {
        return Err(DpopError::BadSignature);
    }

    let claims = parse_object(&decode(payload_b64, "payload is not base64url")?)
        .ok_or(DpopError::Malformed("payload is not a JSON object"))?;
    let string = |name| claims.get(name).and_then(Value::as_str);

    let jti = string("jti")
        .filter(|jti| !jti.is_empty() && jti.len() <= 256)
        .ok_or(DpopError::Malformed("no jti"))?;
    if string("htm").map(str::as_bytes) != Some(request.method) {
        return Err(DpopError::Method);
    }
    if !same_uri(string("htu").ok_or(DpopError::Uri)?, request.uri) {
        return Err(DpopError::Uri);
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_f64)
        .ok_or(DpopError::Malformed("no iat"))?;
    if (iat - now as f64).abs() > window as f64 {
        return Err(DpopError::Stale);
    }
    let ath = URL_SAFE_NO_PAD.encode(digest(&SHA256, request.token).as_ref());
    if string("ath") != Some(ath.as_str()) {
        return Err(DpopError::TokenHash);
    }

    Ok(Proof {
        jkt: jkt.clone(),
        jti: jti.to_owned(),
        iat: iat as i64,
    })
}

/// Whether two URIs name the same resource once normalized as RFC 9449, 4.3 asks (RFC 3986,
/// 6.2.2 and 6.2.3): scheme and host without case, the default port implied, an empty path
/// as `/`; without query and fragment.
pub fn same_uri(htu: &str, uri: &str) -> bool {
    let without_query = |url: Url| {
        let path = url.path.split('?').next().unwrap_or("/").to_owned();
        (url.https, url.host, url.port, path)
    };
    match (Url::parse(htu), Url::parse(uri)) {
        (Ok(a), Ok(b)) => without_query(a) == without_query(b),
        _ => false,
    }
}

/// The key a token is bound to (`cnf.jkt`, RFC 9449, 6.1), if it is bound to one; a `cnf`
/// whose `jkt` is not a string binds it to no key that can be shown.
pub fn bound_key(claims: &Map<String, Value>) -> Option<Result<&str, ()>> {
    let jkt = claims.get("cnf")?.as_object()?.get("jkt")?;
    Some(jkt.as_str().ok_or(()))
}

#[cfg(test)]
mod tests;
