//! MD5-crypt: `$1$` (FreeBSD, glibc) and Apache's `$apr1$`, which differ only in the magic.

use md5::{Digest, Md5};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::scheme::{is_crypt_base64, HashError, Scheme};

const CHECKSUM_LEN: usize = 22;

const ITOA64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Appends the salt and the checksum of `text`.
pub fn prepare(text: &str, out: &mut Vec<u8>) -> Result<Scheme, HashError> {
    let (scheme, rest) = if let Some(rest) = text.strip_prefix("$apr1$") {
        (Scheme::Apr1, rest)
    } else if let Some(rest) = text.strip_prefix("$1$") {
        (Scheme::Md5Crypt, rest)
    } else {
        return Err(HashError::Unsupported);
    };

    let malformed = HashError::Malformed(if scheme == Scheme::Md5Crypt {
        "MD5-crypt"
    } else {
        "apr1"
    });

    let (salt, checksum) = rest.split_once('$').ok_or(malformed.clone())?;
    if salt.len() > 8 || !salt.bytes().all(is_crypt_base64) {
        return Err(malformed);
    }
    if checksum.len() != CHECKSUM_LEN || !checksum.bytes().all(is_crypt_base64) {
        return Err(malformed);
    }

    out.extend_from_slice(salt.as_bytes());
    out.extend_from_slice(checksum.as_bytes());
    Ok(scheme)
}

/// `prepared` is what prepare appended.
pub fn verify(password: &[u8], magic: &[u8], prepared: &[u8]) -> bool {
    let (salt, checksum) = prepared.split_at(prepared.len().saturating_sub(CHECKSUM_LEN));
    let computed = Zeroizing::new(md5crypt(password, magic, salt));
    computed.ct_eq(checksum).into()
}

fn md5crypt(password: &[u8], magic: &[u8], salt: &[u8]) -> [u8; CHECKSUM_LEN] {
    let alternate = Md5::new()
        .chain_update(password)
        .chain_update(salt)
        .chain_update(password)
        .finalize();

    let mut ctx = Md5::new()
        .chain_update(password)
        .chain_update(magic)
        .chain_update(salt);

    for chunk in password.chunks(16) {
        ctx.update(&alternate[..chunk.len()]);
    }

    let mut i = password.len();
    while i > 0 {
        if i & 1 == 1 {
            ctx.update([0u8]);
        } else {
            ctx.update(&password[..1]);
        }
        i >>= 1;
    }

    let mut digest = ctx.finalize();

    for round in 0..1000 {
        let mut ctx = Md5::new();
        if round & 1 == 1 {
            ctx.update(password);
        } else {
            ctx.update(digest);
        }
        if round % 3 != 0 {
            ctx.update(salt);
        }
        if round % 7 != 0 {
            ctx.update(password);
        }
        if round & 1 == 1 {
            ctx.update(digest);
        } else {
            ctx.update(password);
        }
        digest = ctx.finalize();
    }

    let mut out = [0u8; CHECKSUM_LEN];
    let mut pos = 0;
    let mut put = |mut value: u32, count: usize| {
        for _ in 0..count {
            out[pos] = ITOA64[(value & 0x3f) as usize];
            value >>= 6;
            pos += 1;
        }
    };

    for (a, b, c) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
        put(
            (u32::from(digest[a]) << 16) | (u32::from(digest[b]) << 8) | u32::from(digest[c]),
            4,
        );
    }
    put(u32::from(digest[11]), 2);

    out
}
