//! Values that only this nginx (or a node holding the same secret) can read and none can
//! alter: AES-256-GCM under a key derived from the operator's secret with HKDF, bound to a
//! context (what the value is for, for which provider) that is authenticated but not stored.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::hkdf::{Salt, HKDF_SHA256};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use thiserror::Error;

/// Shorter secrets are refused.
pub const MIN_SECRET: usize = 32;

const VERSION: u8 = 1;
const TAG_LEN: usize = 16;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SealError {
    #[error("the secret has {0} bytes; at least 32 are required")]
    ShortSecret(usize),
    #[error("no random bytes from the system")]
    Random,
    #[error("encryption failed")]
    Encrypt,
}

/// A secret for `Sealer::new`, from the system's random generator.
pub fn random_secret() -> Result<[u8; 32], SealError> {
    let mut secret = [0u8; 32];
    SystemRandom::new()
        .fill(&mut secret)
        .map_err(|_| SealError::Random)?;
    Ok(secret)
}

pub struct Sealer {
    /// The first seals; every one opens, so that a secret can be rolled over.
    keys: Vec<LessSafeKey>,
}

impl Sealer {
    pub fn new(secrets: &[&[u8]]) -> Result<Sealer, SealError> {
        let keys = secrets
            .iter()
            .map(|secret| {
                if secret.len() < MIN_SECRET {
                    return Err(SealError::ShortSecret(secret.len()));
                }
                let prk = Salt::new(HKDF_SHA256, b"ngx-auth-rs").extract(secret);
                let okm = prk
                    .expand(&[b"sealed cookies v1"], &AES_256_GCM)
                    .map_err(|_| SealError::Encrypt)?;
                Ok(LessSafeKey::new(UnboundKey::from(okm)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(SealError::ShortSecret(0));
        }
        Ok(Sealer { keys })
    }

    /// A sealer with a secret of its own, which ends with the process.
    pub fn random() -> Result<Sealer, SealError> {
        Sealer::new(&[&random_secret()?])
    }

    /// `plaintext` sealed for `context`, as base64url.
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SealError::Random)?;
        let mut data = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + TAG_LEN);
        data.push(VERSION);
        data.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        self.keys[0]
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut body,
            )
            .map_err(|_| SealError::Encrypt)?;
        data.extend_from_slice(&body);
        Ok(URL_SAFE_NO_PAD.encode(data))
    }

    /// What `seal` sealed for the same `context`; `None` for anything else.
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        let data = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if data.len() < 1 + NONCE_LEN + TAG_LEN || data[0] != VERSION {
            return None;
        }
        let nonce: [u8; NONCE_LEN] = data[1..1 + NONCE_LEN].try_into().ok()?;
        self.keys.iter().find_map(|key| {
            let mut body = data[1 + NONCE_LEN..].to_vec();
            let plain = key
                .open_in_place(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(context),
                    &mut body,
                )
                .ok()?;
            Some(plain.to_vec())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn opens_what_it_sealed_in_the_same_context_only() {
        let sealer = Sealer::new(&[SECRET]).unwrap();
        let sealed = sealer.seal(b"session\0idp", b"hello").unwrap();
        assert_eq!(
            sealer.open(b"session\0idp", sealed.as_bytes()).as_deref(),
            Some(&b"hello"[..])
        );
        assert_eq!(sealer.open(b"session\0other", sealed.as_bytes()), None);
        assert_ne!(sealed, sealer.seal(b"session\0idp", b"hello").unwrap());
    }

    #[test]
    fn refuses_tampering_truncation_and_other_secrets() {
        let sealer = Sealer::new(&[SECRET]).unwrap();
        let sealed = sealer.seal(b"c", b"some plaintext").unwrap();
        let mut raw = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        for i in 0..raw.len() {
            raw[i] ^= 1;
            assert_eq!(
                sealer.open(b"c", URL_SAFE_NO_PAD.encode(&raw).as_bytes()),
                None
            );
            raw[i] ^= 1;
        }
        assert_eq!(
            sealer.open(b"c", &sealed.as_bytes()[..sealed.len() - 2]),
            None
        );
        assert_eq!(sealer.open(b"c", b"!!!"), None);
        assert_eq!(sealer.open(b"c", b""), None);
        let other = Sealer::new(&[b"another secret of at least 32 bytes!"]).unwrap();
        assert_eq!(other.open(b"c", sealed.as_bytes()), None);
        assert_eq!(
            Sealer::random().unwrap().open(b"c", sealed.as_bytes()),
            None
        );
    }

    #[test]
    fn rolls_secrets_over() {
        let old = Sealer::new(&[SECRET]).unwrap();
        let sealed = old.seal(b"c", b"x").unwrap();
        let new = Sealer::new(&[b"the new secret, 32 bytes or more..", SECRET]).unwrap();
        assert_eq!(
            new.open(b"c", sealed.as_bytes()).as_deref(),
            Some(&b"x"[..])
        );
        assert_eq!(
            old.open(b"c", new.seal(b"c", b"x").unwrap().as_bytes()),
            None
        );
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(
            Sealer::new(&[b"short"]).err(),
            Some(SealError::ShortSecret(5))
        );
        assert!(Sealer::new(&[]).is_err());
    }
}
