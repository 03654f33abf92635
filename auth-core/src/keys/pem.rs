//! PEM public keys: SubjectPublicKeyInfo, PKCS#1 RSA public keys and X.509 certificates.

use jsonwebtoken::DecodingKey;

use super::{bit_length, ec_family, Key, KeyError, Material, MIN_RSA_BITS};
use crate::jose::Family;

pub fn load(data: &[u8]) -> Result<Key, KeyError> {
    let text = core::str::from_utf8(data).map_err(|_| KeyError::Pem("not text"))?;
    let label = text
        .split("-----BEGIN ")
        .nth(1)
        .and_then(|rest| rest.split("-----").next())
        .ok_or(KeyError::Pem("no BEGIN line"))?;

    if label.contains("PRIVATE") {
        return Err(KeyError::PrivateKey);
    }
    if !matches!(label, "PUBLIC KEY" | "RSA PUBLIC KEY" | "CERTIFICATE") {
        return Err(KeyError::Pem(
            "expected PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE",
        ));
    }

    if let Ok(key) = DecodingKey::from_rsa_pem(data) {
        let der = key
            .try_get_as_bytes()
            .map_err(|_| KeyError::Pem("bad RSA key"))?;
        let bits = rsa_modulus_bits(der).ok_or(KeyError::Pem("bad RSA key"))?;
        if bits < MIN_RSA_BITS {
            return Err(KeyError::RsaTooSmall(bits));
        }
        let material = Material::rsa(der).ok_or(KeyError::Pem("bad RSA key"))?;
        return Ok(Key::new(Family::Rsa, material));
    }

    if let Ok(key) = DecodingKey::from_ec_pem(data) {
        let point = key
            .try_get_as_bytes()
            .map_err(|_| KeyError::Pem("bad EC key"))?;
        let family = ec_family(point).ok_or(KeyError::Pem("unsupported EC curve"))?;
        let material = Material::ec(family, point).ok_or(KeyError::Pem("bad EC key"))?;
        return Ok(Key::new(family, material));
    }

    if let Ok(key) = DecodingKey::from_ed_pem(data) {
        let x = key
            .try_get_as_bytes()
            .ok()
            .filter(|x| x.len() == 32)
            .ok_or(KeyError::Pem("unsupported EdDSA curve"))?;
        let material = Material::ed25519(x).ok_or(KeyError::Pem("bad Ed25519 key"))?;
        return Ok(Key::new(Family::Ed25519, material));
    }

    Err(KeyError::Pem("not an RSA, EC or Ed25519 public key"))
}

/// The size of `n` in a DER RSAPublicKey: SEQUENCE { INTEGER n, INTEGER e }.
fn rsa_modulus_bits(der: &[u8]) -> Option<usize> {
    let (tag, body, _) = tlv(der)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, n, _) = tlv(body)?;
    (tag == 0x02).then(|| bit_length(n))
}

/// One DER element: tag, contents and what follows.
fn tlv(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = data.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let count = (first & 0x7f) as usize;
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, &b| acc << 8 | b as usize);
        (len, &rest[count..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}
