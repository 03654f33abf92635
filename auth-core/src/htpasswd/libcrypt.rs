//! Hashes checked by the C library's crypt (libxcrypt): DES, yescrypt, scrypt and the rest.

use std::ffi::{c_char, c_int, c_void, CStr, CString};

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use super::scheme::{is_crypt_base64, CryptScheme, HashError, VerifyError};

/// `sizeof(struct crypt_data)` in libxcrypt.
const CRYPT_DATA_SIZE: usize = 32768;

const CRYPT_SALT_OK: c_int = 0;
const CRYPT_SALT_METHOD_LEGACY: c_int = 3;
const CRYPT_SALT_TOO_CHEAP: c_int = 4;

#[link(name = "crypt")]
extern "C" {
    fn crypt_rn(
        phrase: *const c_char,
        setting: *const c_char,
        data: *mut c_void,
        size: c_int,
    ) -> *mut c_char;
    fn crypt_checksalt(setting: *const c_char) -> c_int;
}

/// Appends `text` and a NUL, if the C library takes it.
pub fn prepare(text: &str, out: &mut Vec<u8>) -> Result<CryptScheme, HashError> {
    let scheme = if text.starts_with("$y$") {
        CryptScheme::Yescrypt
    } else if text.starts_with("$gy$") {
        CryptScheme::GostYescrypt
    } else if text.starts_with("$7$") {
        CryptScheme::Scrypt
    } else if !text.starts_with(['$', '_']) {
        // Traditional DES: two salt characters and an eleven-character checksum.
        if text.len() != 13 || !text.bytes().all(is_crypt_base64) {
            return Err(HashError::Unsupported);
        }
        CryptScheme::Des
    } else {
        return Err(HashError::Unsupported);
    };
    let malformed = HashError::Malformed(scheme.name());

    if scheme != CryptScheme::Des {
        let checksum = text.rsplit('$').next().unwrap_or_default();
        if checksum.len() != 43 || !checksum.bytes().all(is_crypt_base64) {
            return Err(malformed);
        }
    }

    let hash = CString::new(text).map_err(|_| malformed.clone())?;

    // SAFETY: `hash` is a valid NUL-terminated string; crypt_checksalt only reads it.
    let verdict = unsafe { crypt_checksalt(hash.as_ptr()) };
    if !matches!(
        verdict,
        CRYPT_SALT_OK | CRYPT_SALT_METHOD_LEGACY | CRYPT_SALT_TOO_CHEAP
    ) {
        return Err(malformed);
    }

    out.extend_from_slice(hash.as_bytes_with_nul());
    Ok(scheme)
}

/// `hash` is what prepare appended.
pub fn verify(scheme: CryptScheme, hash: &[u8], password: &[u8]) -> Result<bool, VerifyError> {
    let failed = VerifyError::Crypt(scheme.name());
    let hash = CStr::from_bytes_with_nul(hash).map_err(|_| failed.clone())?;
    let mut phrase = password.to_vec();
    phrase.push(0);
    let Ok(phrase_c) = CStr::from_bytes_with_nul(&phrase) else {
        phrase.zeroize();
        return Ok(false);
    };

    let mut data = vec![0u8; CRYPT_DATA_SIZE];

    // SAFETY: both strings are NUL-terminated; `data` is a zeroed buffer of the size passed,
    // which is what crypt_rn requires of its scratch area; the result points into `data`.
    let result = unsafe {
        let out = crypt_rn(
            phrase_c.as_ptr(),
            hash.as_ptr(),
            data.as_mut_ptr().cast(),
            CRYPT_DATA_SIZE as c_int,
        );
        (!out.is_null()).then(|| CStr::from_ptr(out).to_bytes().ct_eq(hash.to_bytes()))
    };

    phrase.zeroize();
    data.zeroize();

    match result {
        Some(equal) => Ok(equal.into()),
        None => Err(failed),
    }
}
