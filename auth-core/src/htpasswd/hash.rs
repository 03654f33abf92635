//! Password hash formats found in htpasswd files.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use sha1::{Digest, Sha1};
use sha_crypt::{PasswordHashRef, PasswordVerifier, ShaCrypt};
use subtle::ConstantTimeEq;
use thiserror::Error;
use zeroize::Zeroizing;

use super::{libcrypt, md5crypt};

/// Longer passwords are refused unhashed: SHA-crypt's cost grows with the length, and
/// libxcrypt takes no more (`CRYPT_MAX_PASSPHRASE_SIZE` less the NUL).
pub const MAX_PASSWORD_LEN: usize = 511;

/// Why a hash from an htpasswd line cannot be used.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum HashError {
    #[error("unsupported password hash format")]
    Unsupported,
    #[error("malformed {0} hash")]
    Malformed(&'static str),
}

/// Why a password could not be checked against a well-formed hash.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum VerifyError {
    #[error("crypt() failed for a {0} hash")]
    Crypt(&'static str),
    #[error("internal error while checking the password")]
    Internal,
}

/// A password hash, parsed once when the file is loaded.
#[derive(Clone)]
pub enum PasswordHash {
    /// `{PLAIN}password`
    Plain(Zeroizing<Box<[u8]>>),
    /// `{SHA}base64(sha1(password))`
    Sha1([u8; 20]),
    /// `{SSHA}base64(sha1(password + salt) + salt)`
    Ssha { digest: [u8; 20], salt: Box<[u8]> },
    /// `$apr1$` and `$1$`
    Md5Crypt(md5crypt::Md5Crypt),
    /// `$2a$`, `$2b$`, `$2y$`
    Bcrypt(Box<str>),
    /// `$5$` and `$6$`
    ShaCrypt(Box<str>),
    /// Traditional DES, yescrypt and whatever else the C library's crypt accepts.
    Crypt(libcrypt::CryptHash),
}

impl PasswordHash {
    pub fn parse(hash: &[u8]) -> Result<Self, HashError> {
        if let Some(plain) = hash.strip_prefix(b"{PLAIN}") {
            return Ok(Self::Plain(Zeroizing::new(plain.into())));
        }

        if let Some(encoded) = hash.strip_prefix(b"{SHA}") {
            let digest = BASE64
                .decode(encoded)
                .ok()
                .and_then(|d| <[u8; 20]>::try_from(d).ok())
                .ok_or(HashError::Malformed("{SHA}"))?;
            return Ok(Self::Sha1(digest));
        }

        if let Some(encoded) = hash.strip_prefix(b"{SSHA}") {
            let mut decoded = BASE64
                .decode(encoded)
                .map_err(|_| HashError::Malformed("{SSHA}"))?;
            if decoded.len() <= 20 {
                return Err(HashError::Malformed("{SSHA}"));
            }
            let salt = decoded.split_off(20).into_boxed_slice();
            let digest = decoded.try_into().expect("split at 20");
            return Ok(Self::Ssha { digest, salt });
        }

        let text = core::str::from_utf8(hash).map_err(|_| HashError::Unsupported)?;

        if text.starts_with("$apr1$") || text.starts_with("$1$") {
            return md5crypt::Md5Crypt::parse(text).map(Self::Md5Crypt);
        }

        if ["$2a$", "$2b$", "$2y$"].iter().any(|p| text.starts_with(p)) {
            return text
                .parse::<bcrypt::HashParts>()
                .map(|_| Self::Bcrypt(text.into()))
                .map_err(|_| HashError::Malformed("bcrypt"));
        }

        if text.starts_with("$5$") || text.starts_with("$6$") {
            return parse_sha_crypt(text).map(Self::ShaCrypt);
        }

        libcrypt::CryptHash::parse(text).map(Self::Crypt)
    }

    /// Checks `password` in time independent of where it differs from the hashed one.
    pub fn verify(&self, password: &[u8]) -> Result<bool, VerifyError> {
        if password.len() > MAX_PASSWORD_LEN {
            return Ok(false);
        }

        Ok(match self {
            Self::Plain(plain) => bool::from(plain.as_ref().ct_eq(password)),
            Self::Sha1(digest) => bool::from(Sha1::digest(password).as_slice().ct_eq(digest)),
            Self::Ssha { digest, salt } => {
                let mut sha = Sha1::new();
                sha.update(password);
                sha.update(salt);
                bool::from(sha.finalize().as_slice().ct_eq(digest))
            }
            Self::Md5Crypt(hash) => hash.verify(password),
            Self::Bcrypt(hash) => bcrypt::verify(password, hash).unwrap_or(false),
            Self::ShaCrypt(hash) => {
                let hash = PasswordHashRef::new(hash).expect("checked by parse");
                ShaCrypt::default().verify_password(password, hash).is_ok()
            }
            Self::Crypt(hash) => hash.verify(password)?,
        })
    }

    /// Whether checking a password costs less than looking it up in a cache.
    pub fn is_cheap(&self) -> bool {
        matches!(self, Self::Plain(_) | Self::Sha1(_) | Self::Ssha { .. })
    }

    /// Whether checking a password costs milliseconds rather than microseconds: such checks
    /// are worth moving off nginx's event loop.
    pub fn is_slow(&self) -> bool {
        match self {
            Self::Bcrypt(_) | Self::ShaCrypt(_) => true,
            Self::Crypt(hash) => hash.scheme() != "DES",
            _ => false,
        }
    }

    /// The scheme's name, for log messages.
    pub fn scheme(&self) -> &'static str {
        match self {
            Self::Plain(_) => "{PLAIN}",
            Self::Sha1(_) => "{SHA}",
            Self::Ssha { .. } => "{SSHA}",
            Self::Md5Crypt(hash) => hash.scheme(),
            Self::Bcrypt(_) => "bcrypt",
            Self::ShaCrypt(hash) if hash.starts_with("$5$") => "SHA-256-crypt",
            Self::ShaCrypt(_) => "SHA-512-crypt",
            Self::Crypt(hash) => hash.scheme(),
        }
    }
}

impl core::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.scheme())
    }
}

/// `$5$[rounds=N$]salt$checksum`, as glibc and libxcrypt write it.
fn parse_sha_crypt(text: &str) -> Result<Box<str>, HashError> {
    let name = if text.starts_with("$5$") {
        "SHA-256-crypt"
    } else {
        "SHA-512-crypt"
    };
    let checksum_len = if text.starts_with("$5$") { 43 } else { 86 };

    let mut fields = text[3..].split('$').collect::<Vec<_>>();
    if fields.first().is_some_and(|f| f.starts_with("rounds=")) {
        if fields[0].parse::<sha_crypt::Params>().is_err() {
            return Err(HashError::Malformed(name));
        }
        fields.remove(0);
    }

    let valid = matches!(fields.as_slice(), [salt, checksum]
        if salt.len() <= 16
            && !salt.contains(':')
            && checksum.len() == checksum_len
            && checksum.bytes().all(is_crypt_base64));

    if !valid || PasswordHashRef::new(text).is_err() {
        return Err(HashError::Malformed(name));
    }

    Ok(text.into())
}

pub(super) fn is_crypt_base64(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'.' || c == b'/'
}
