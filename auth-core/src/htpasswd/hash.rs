//! Password hash formats found in htpasswd files.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use sha1::{Digest, Sha1};
use sha_crypt::{PasswordHashRef, PasswordVerifier, ShaCrypt};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::scheme::{is_crypt_base64, CryptScheme, HashError, Scheme, VerifyError};
use super::{libcrypt, md5crypt};

/// Longer passwords are refused unhashed: SHA-crypt's cost grows with the length, and
/// libxcrypt takes no more (`CRYPT_MAX_PASSPHRASE_SIZE` less the NUL).
pub const MAX_PASSWORD_LEN: usize = 511;

/// A password hash in an htpasswd file, parsed once when the file is loaded into the bytes
/// its check reads.
#[derive(Clone, Copy)]
pub struct HashRef<'a> {
    scheme: Scheme,
    data: &'a [u8],
}

/// A hash of its own, for a check that outlives the file's borrow.
#[derive(Clone)]
pub struct PasswordHash {
    scheme: Scheme,
    data: Zeroizing<Box<[u8]>>,
}

impl PasswordHash {
    pub fn parse(hash: &[u8]) -> Result<Self, HashError> {
        let mut data = Zeroizing::new(Vec::new());
        let scheme = prepare(hash, &mut data)?;
        // An exact copy: the buffer it came from is wiped when dropped.
        Ok(Self {
            scheme,
            data: Zeroizing::new(data.as_slice().into()),
        })
    }

    pub fn as_ref(&self) -> HashRef<'_> {
        HashRef {
            scheme: self.scheme,
            data: &self.data,
        }
    }

    pub fn verify(&self, password: &[u8]) -> Result<bool, VerifyError> {
        self.as_ref().verify(password)
    }

    pub fn scheme(&self) -> &'static str {
        self.as_ref().scheme()
    }
}

/// Appends the bytes `hash`'s check reads to `out`, which is left as it was on error.
pub(super) fn prepare(hash: &[u8], out: &mut Vec<u8>) -> Result<Scheme, HashError> {
    let len = out.len();
    let prepared = prepare_unchecked(hash, out);
    if prepared.is_err() {
        out.truncate(len);
    }
    prepared
}

fn prepare_unchecked(hash: &[u8], out: &mut Vec<u8>) -> Result<Scheme, HashError> {
    if let Some(plain) = hash.strip_prefix(b"{PLAIN}") {
        out.extend_from_slice(plain);
        return Ok(Scheme::Plain);
    }

    if let Some(encoded) = hash.strip_prefix(b"{SHA}") {
        let mut digest = [0u8; 24];
        match BASE64.decode_slice(encoded, &mut digest) {
            Ok(20) => out.extend_from_slice(&digest[..20]),
            _ => return Err(HashError::Malformed("{SHA}")),
        }
        return Ok(Scheme::Sha1);
    }

    if let Some(encoded) = hash.strip_prefix(b"{SSHA}") {
        let decoded = Zeroizing::new(
            BASE64
                .decode(encoded)
                .map_err(|_| HashError::Malformed("{SSHA}"))?,
        );
        if decoded.len() <= 20 {
            return Err(HashError::Malformed("{SSHA}"));
        }
        out.extend_from_slice(&decoded);
        return Ok(Scheme::Ssha);
    }

    let text = core::str::from_utf8(hash).map_err(|_| HashError::Unsupported)?;

    if text.starts_with("$apr1$") || text.starts_with("$1$") {
        return md5crypt::prepare(text, out);
    }

    if ["$2a$", "$2b$", "$2y$"].iter().any(|p| text.starts_with(p)) {
        text.parse::<bcrypt::HashParts>()
            .map_err(|_| HashError::Malformed("bcrypt"))?;
        out.extend_from_slice(hash);
        return Ok(Scheme::Bcrypt);
    }

    if text.starts_with("$5$") || text.starts_with("$6$") {
        check_sha_crypt(text)?;
        out.extend_from_slice(hash);
        return Ok(if text.starts_with("$5$") {
            Scheme::Sha256Crypt
        } else {
            Scheme::Sha512Crypt
        });
    }

    libcrypt::prepare(text, out).map(Scheme::Crypt)
}

impl<'a> HashRef<'a> {
    pub(super) fn new(scheme: Scheme, data: &'a [u8]) -> Self {
        Self { scheme, data }
    }

    /// Checks `password` in time independent of where it differs from the hashed one.
    pub fn verify(&self, password: &[u8]) -> Result<bool, VerifyError> {
        if password.len() > MAX_PASSWORD_LEN {
            return Ok(false);
        }

        let text = || core::str::from_utf8(self.data).map_err(|_| VerifyError::Internal);
        Ok(match self.scheme {
            Scheme::Plain => bool::from(self.data.ct_eq(password)),
            Scheme::Sha1 => bool::from(Sha1::digest(password).as_slice().ct_eq(self.data)),
            Scheme::Ssha => {
                let (digest, salt) = self.data.split_at(20);
                let mut sha = Sha1::new();
                sha.update(password);
                sha.update(salt);
                bool::from(sha.finalize().as_slice().ct_eq(digest))
            }
            Scheme::Apr1 => md5crypt::verify(password, b"$apr1$", self.data),
            Scheme::Md5Crypt => md5crypt::verify(password, b"$1$", self.data),
            Scheme::Bcrypt => bcrypt::verify(password, text()?).unwrap_or(false),
            Scheme::Sha256Crypt | Scheme::Sha512Crypt => {
                let hash = PasswordHashRef::new(text()?).map_err(|_| VerifyError::Internal)?;
                ShaCrypt::default().verify_password(password, hash).is_ok()
            }
            Scheme::Crypt(scheme) => libcrypt::verify(scheme, self.data, password)?,
        })
    }

    /// Whether checking a password costs less than looking it up in a cache.
    pub fn is_cheap(&self) -> bool {
        matches!(self.scheme, Scheme::Plain | Scheme::Sha1 | Scheme::Ssha)
    }

    /// Whether checking a password costs milliseconds rather than microseconds: such checks
    /// are worth moving off nginx's event loop.
    pub fn is_slow(&self) -> bool {
        match self.scheme {
            Scheme::Bcrypt | Scheme::Sha256Crypt | Scheme::Sha512Crypt => true,
            Scheme::Crypt(scheme) => scheme != CryptScheme::Des,
            _ => false,
        }
    }

    /// The scheme's name, for log messages.
    pub fn scheme(&self) -> &'static str {
        match self.scheme {
            Scheme::Plain => "{PLAIN}",
            Scheme::Sha1 => "{SHA}",
            Scheme::Ssha => "{SSHA}",
            Scheme::Apr1 => "apr1",
            Scheme::Md5Crypt => "MD5-crypt",
            Scheme::Bcrypt => "bcrypt",
            Scheme::Sha256Crypt => "SHA-256-crypt",
            Scheme::Sha512Crypt => "SHA-512-crypt",
            Scheme::Crypt(scheme) => scheme.name(),
        }
    }

    pub fn to_owned(&self) -> PasswordHash {
        PasswordHash {
            scheme: self.scheme,
            data: Zeroizing::new(self.data.into()),
        }
    }
}

impl core::fmt::Debug for HashRef<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.scheme())
    }
}

impl core::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.scheme())
    }
}

/// `$5$[rounds=N$]salt$checksum`, as glibc and libxcrypt write it.
fn check_sha_crypt(text: &str) -> Result<(), HashError> {
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

    Ok(())
}
