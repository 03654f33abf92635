//! The words every hash back-end shares: the schemes, the errors, the crypt alphabet.

use thiserror::Error;

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

/// A hash's scheme, which says how its prepared bytes read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scheme {
    /// `{PLAIN}password`: the password.
    Plain,
    /// `{SHA}base64(sha1(password))`: the digest.
    Sha1,
    /// `{SSHA}base64(sha1(password + salt) + salt)`: the digest, then the salt.
    Ssha,
    /// `$apr1$` and `$1$`: the salt, then the 22-character checksum.
    Apr1,
    Md5Crypt,
    /// `$2a$`, `$2b$`, `$2y$`: the text.
    Bcrypt,
    /// `$5$` and `$6$`: the text.
    Sha256Crypt,
    Sha512Crypt,
    /// Traditional DES, yescrypt and the rest of the C library's crypt: the text and a NUL.
    Crypt(CryptScheme),
}

/// The schemes checked by the C library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CryptScheme {
    Yescrypt,
    GostYescrypt,
    Scrypt,
    Des,
}

impl CryptScheme {
    pub fn name(self) -> &'static str {
        match self {
            Self::Yescrypt => "yescrypt",
            Self::GostYescrypt => "gost-yescrypt",
            Self::Scrypt => "scrypt",
            Self::Des => "DES",
        }
    }
}

pub(super) fn is_crypt_base64(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'.' || c == b'/'
}
