//! Key material parsed once, when a key is loaded: aws-lc keys ready to verify, so that a
//! signature check costs the crypto and nothing more.

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, ParsedPublicKey, VerificationAlgorithm};

use crate::jwt::{Alg, Family};

#[derive(Clone)]
pub(super) enum Material {
    /// For HS256, HS384 and HS512.
    Hmac(Box<[hmac::Key; 3]>),
    /// For RS256, RS384, RS512, PS256, PS384 and PS512.
    Rsa(Box<[ParsedPublicKey; 6]>),
    /// An EC or Ed25519 key, for the one algorithm of its curve.
    Single(Alg, ParsedPublicKey),
}

const RSA: [(Alg, &signature::RsaParameters); 6] = [
    (Alg::RS256, &signature::RSA_PKCS1_2048_8192_SHA256),
    (Alg::RS384, &signature::RSA_PKCS1_2048_8192_SHA384),
    (Alg::RS512, &signature::RSA_PKCS1_2048_8192_SHA512),
    (Alg::PS256, &signature::RSA_PSS_2048_8192_SHA256),
    (Alg::PS384, &signature::RSA_PSS_2048_8192_SHA384),
    (Alg::PS512, &signature::RSA_PSS_2048_8192_SHA512),
];

const HMAC: [Alg; 3] = [Alg::HS256, Alg::HS384, Alg::HS512];

impl Material {
    pub(super) fn hmac(secret: &[u8]) -> Self {
        Material::Hmac(Box::new([
            hmac::Key::new(hmac::HMAC_SHA256, secret),
            hmac::Key::new(hmac::HMAC_SHA384, secret),
            hmac::Key::new(hmac::HMAC_SHA512, secret),
        ]))
    }

    /// An RSA public key in DER: PKCS#1 `RSAPublicKey` or SubjectPublicKeyInfo.
    pub(super) fn rsa(der: &[u8]) -> Option<Self> {
        let parse = |i: usize| ParsedPublicKey::new(RSA[i].1, der).ok();
        Some(Material::Rsa(Box::new([
            parse(0)?,
            parse(1)?,
            parse(2)?,
            parse(3)?,
            parse(4)?,
            parse(5)?,
        ])))
    }

    /// An RSA public key from its modulus and exponent, big-endian.
    pub(super) fn rsa_components(n: &[u8], e: &[u8]) -> Option<Self> {
        let mut body = der_integer(n);
        body.extend(der_integer(e));
        let mut der = vec![0x30];
        der.extend(der_length(body.len()));
        der.extend(body);
        Self::rsa(&der)
    }

    /// An uncompressed EC point of P-256, P-384 or P-521.
    pub(super) fn ec(family: Family, point: &[u8]) -> Option<Self> {
        let (alg, algorithm): (Alg, &'static dyn VerificationAlgorithm) = match family {
            Family::Ec(32) => (Alg::ES256, &signature::ECDSA_P256_SHA256_FIXED),
            Family::Ec(48) => (Alg::ES384, &signature::ECDSA_P384_SHA384_FIXED),
            Family::Ec(66) => (Alg::ES512, &signature::ECDSA_P521_SHA512_FIXED),
            _ => return None,
        };
        let key = ParsedPublicKey::new(algorithm, point).ok()?;
        Some(Material::Single(alg, key))
    }

    /// A raw Ed25519 public key.
    pub(super) fn ed25519(x: &[u8]) -> Option<Self> {
        let key = ParsedPublicKey::new(&signature::ED25519, x).ok()?;
        Some(Material::Single(Alg::EdDSA, key))
    }

    pub(super) fn verify(&self, alg: Alg, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Material::Hmac(keys) => HMAC
                .iter()
                .position(|&a| a == alg)
                .is_some_and(|i| hmac::verify(&keys[i], message, signature).is_ok()),
            Material::Rsa(keys) => RSA
                .iter()
                .position(|&(a, _)| a == alg)
                .is_some_and(|i| keys[i].verify_sig(message, signature).is_ok()),
            Material::Single(own, key) => *own == alg && key.verify_sig(message, signature).is_ok(),
        }
    }
}

/// A DER INTEGER holding an unsigned big-endian number.
fn der_integer(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let bytes = &bytes[start..];
    let pad = bytes.first().is_none_or(|&b| b & 0x80 != 0);
    let mut out = vec![0x02];
    out.extend(der_length(bytes.len() + pad as usize));
    if pad {
        out.push(0);
    }
    out.extend_from_slice(bytes);
    out
}

fn der_length(len: usize) -> Vec<u8> {
    if len < 0x80 {
        return vec![len as u8];
    }
    let bytes = len.to_be_bytes();
    let start = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len() - 1);
    let mut out = vec![0x80 | (bytes.len() - start) as u8];
    out.extend_from_slice(&bytes[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_integers_are_minimal_and_unsigned() {
        assert_eq!(der_integer(&[0, 0, 1]), [2, 1, 1]);
        assert_eq!(der_integer(&[0x80]), [2, 2, 0, 0x80]);
        assert_eq!(der_integer(&[]), [2, 1, 0]);
        assert_eq!(der_length(0x7f), [0x7f]);
        assert_eq!(der_length(0x80), [0x81, 0x80]);
        assert_eq!(der_length(0x1234), [0x82, 0x12, 0x34]);
    }
}
