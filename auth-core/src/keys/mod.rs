//! Verification keys, loaded once from JWKS, PEM or raw HMAC secret files.

mod jwks;
mod material;
mod pem;
mod thumbprint;

use thiserror::Error;

pub use jwks::public_jwk;
use material::Material;
pub use thumbprint::thumbprint;

use crate::jose::{Alg, Family};

/// How a key file is written; without it the content tells JWKS from PEM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    Jwks,
    Pem,
    Hmac,
}

impl core::str::FromStr for KeyFormat {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "jwks" => Ok(KeyFormat::Jwks),
            "pem" => Ok(KeyFormat::Pem),
            "hmac" => Ok(KeyFormat::Hmac),
            _ => Err(()),
        }
    }
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum KeyError {
    #[error("cannot tell the key format (expected a JWKS or a PEM public key)")]
    UnknownFormat,
    #[error("the file is empty")]
    Empty,
    #[error("not a JWK Set: {0}")]
    NotJwks(&'static str),
    /// With the keys skipped, if any.
    #[error("no key usable for signature verification{}", reasons(.0))]
    NoUsableKey(Vec<Skipped>),
    #[error("PEM: {0}")]
    Pem(&'static str),
    #[error("a private key; give the public key")]
    PrivateKey,
    #[error("RSA key of {0} bits; at least 2048 are required")]
    RsaTooSmall(usize),
}

fn reasons(skipped: &[Skipped]) -> String {
    skipped.iter().fold(String::new(), |out, s| {
        let sep = if out.is_empty() { ": " } else { "; " };
        format!("{out}{sep}{s}")
    })
}

pub const MIN_RSA_BITS: usize = 2048;

/// The keys of one key file or fetched set, and the JWKs skipped as unusable.
#[derive(Debug, Default)]
pub struct Loaded {
    pub keys: Vec<Key>,
    pub skipped: Vec<Skipped>,
}

/// A JWK that cannot be used: its index in the set, its `kid` and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub index: usize,
    pub kid: Option<String>,
    pub reason: String,
}

impl core::fmt::Display for Skipped {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "key {}", self.index)?;
        if let Some(kid) = &self.kid {
            let kid: String = kid
                .chars()
                .take(64)
                .flat_map(char::escape_default)
                .collect();
            write!(f, " (kid \"{kid}\")")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// One verification key and what it may verify.
#[derive(Clone)]
pub struct Key {
    pub kid: Option<String>,
    /// The only algorithm the key may be used with, from the JWK's `alg`.
    pub alg: Option<Alg>,
    pub family: Family,
    material: Material,
}

impl core::fmt::Debug for Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("family", &self.family)
            .finish_non_exhaustive()
    }
}

impl Key {
    fn new(family: Family, material: Material) -> Self {
        Self {
            kid: None,
            alg: None,
            family,
            material,
        }
    }

    pub(crate) fn hmac(secret: &[u8]) -> Option<Self> {
        Some(Self::new(Family::Hmac, Material::hmac(secret)?))
    }

    /// Whether the key may verify `alg`: the same family, and the JWK's `alg` if it has one.
    pub fn fits(&self, alg: Alg) -> bool {
        self.family == alg.family() && self.alg.is_none_or(|a| a == alg)
    }

    /// Checks a decoded signature; `fits(alg)` must hold.
    pub fn verify(&self, alg: Alg, message: &[u8], signature: &[u8]) -> bool {
        self.material.verify(alg, message, signature)
    }
}

/// Reads the keys of one key file.
pub fn load(data: &[u8], format: Option<KeyFormat>) -> Result<Loaded, KeyError> {
    let format = match format {
        Some(format) => format,
        None => {
            let text = data.trim_ascii_start();
            if text.is_empty() {
                return Err(KeyError::Empty);
            } else if text.starts_with(b"{") {
                KeyFormat::Jwks
            } else if text.starts_with(b"-----BEGIN") {
                KeyFormat::Pem
            } else {
                return Err(KeyError::UnknownFormat);
            }
        }
    };

    let single = |key| Loaded {
        keys: vec![key],
        skipped: Vec::new(),
    };
    match format {
        KeyFormat::Jwks => jwks::load(data),
        KeyFormat::Pem => pem::load(data).map(single),
        KeyFormat::Hmac if data.is_empty() => Err(KeyError::Empty),
        KeyFormat::Hmac => Key::hmac(data)
            .map(single)
            .ok_or(KeyError::NoUsableKey(Vec::new())),
    }
}

/// A SHA-256 fingerprint of key files' contents, each length-prefixed, to tell whether
/// fetched key sets changed since they were parsed.
pub fn fingerprint(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for part in parts {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    }
    let mut out = [0; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The algorithms a set of keys can verify: what `auth_jwt_algorithms` defaults to.
pub fn implied_algorithms(keys: &[Key]) -> Vec<Alg> {
    Alg::ALL
        .into_iter()
        .filter(|&alg| keys.iter().any(|k| k.fits(alg)))
        .collect()
}

/// Bits in a big-endian unsigned integer.
fn bit_length(bytes: &[u8]) -> usize {
    match bytes.iter().position(|&b| b != 0) {
        Some(i) => (bytes.len() - i) * 8 - bytes[i].leading_zeros() as usize,
        None => 0,
    }
}

/// The family of an uncompressed EC point by its size.
fn ec_family(point: &[u8]) -> Option<Family> {
    match point.len() {
        65 | 97 | 133 if point[0] == 0x04 => Some(Family::Ec((point.len() - 1) / 2)),
        _ => None,
    }
}
