//! Key material parsed once, when a key is loaded: keys ready to verify, so that a signature
//! check costs the crypto and nothing more. Public keys are aws-lc's; HMAC keys are RustCrypto's
//! `hmac` over `sha2` (SHA-NI where the CPU has it), whose keyed state is copied per check in a
//! few hundred bytes, where aws-lc-rs copies a 1.2 KiB `HMAC_CTX`: 75 ns less an HS256 check.

use aws_lc_rs::signature::{self, ParsedPublicKey, VerificationAlgorithm};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha256, Sha384, Sha512};

use crate::jose::{Alg, Family};

#[derive(Clone)]
pub(super) enum Material {
    /// For HS256, HS384 and HS512.
    Hmac(Box<HmacKeys>),
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

/// One secret, keyed for each hash: the inner and outer states after its padded blocks.
#[derive(Clone)]
pub(super) struct HmacKeys {
    hs256: Hmac<Sha256>,
    hs384: Hmac<Sha384>,
    hs512: Hmac<Sha512>,
}

/// Whether `signature` is the HMAC of `message` under `key`: of the hash's full length, compared
/// in constant time.
fn hmac_verify<M: Mac + Clone>(key: &M, message: &[u8], signature: &[u8]) -> bool {
    let mut mac = key.clone();
    mac.update(message);
    mac.verify_slice(signature).is_ok()
}

impl Material {
    /// `None` never happens: HMAC takes a key of any length, hashing a long one (RFC 2104).
    pub(super) fn hmac(secret: &[u8]) -> Option<Self> {
        Some(Material::Hmac(Box::new(HmacKeys {
            hs256: Hmac::new_from_slice(secret).ok()?,
            hs384: Hmac::new_from_slice(secret).ok()?,
            hs512: Hmac::new_from_slice(secret).ok()?,
        })))
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
            Material::Hmac(keys) => match alg {
                Alg::HS256 => hmac_verify(&keys.hs256, message, signature),
                Alg::HS384 => hmac_verify(&keys.hs384, message, signature),
                Alg::HS512 => hmac_verify(&keys.hs512, message, signature),
                _ => false,
            },
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

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn hmac_known_answers_of_rfc_4231() {
        // Test cases 2 (a short key) and 6 (a key longer than the block, hashed first).
        let cases: [(&[u8], &[u8], [&str; 3]); 2] = [
            (
                b"Jefe",
                b"what do ya want for nothing?",
                [
                    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                    "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e\
                     8e2240ca5e69e2c78b3239ecfab21649",
                    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
                     9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
                ],
            ),
            (
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                [
                    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
                    "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6\
                     0c2ef6ab4030fe8296248df163f44952",
                    "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352\
                     6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
                ],
            ),
        ];
        for (key, message, tags) in cases {
            let material = Material::hmac(key).unwrap();
            for (alg, tag) in [Alg::HS256, Alg::HS384, Alg::HS512].into_iter().zip(tags) {
                let tag = hex(tag);
                assert!(material.verify(alg, message, &tag), "{alg:?}");
                assert!(!material.verify(alg, b"other", &tag), "{alg:?}");
                assert!(
                    !material.verify(alg, message, &tag[..tag.len() - 1]),
                    "{alg:?}"
                );
                let mut flipped = tag.clone();
                flipped[0] ^= 1;
                assert!(!material.verify(alg, message, &flipped), "{alg:?}");
            }
            assert!(!material.verify(Alg::RS256, message, &hex(tags[0])));
        }
    }

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
