//! MD5-crypt: `$1$` (FreeBSD, glibc) and Apache's `$apr1$`, which differ only in the magic.

use md5::{Digest, Md5};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::hash::{is_crypt_base64, HashError};

const ITOA64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

#[derive(Clone)]
pub struct Md5Crypt {
    magic: &'static str,
    salt: Box<[u8]>,
    checksum: [u8; 22],
}

impl Md5Crypt {
    pub fn parse(text: &str) -> Result<Self, HashError> {
        let (magic, rest) = if let Some(rest) = text.strip_prefix("$apr1$") {
            ("$apr1$", rest)
        } else if let Some(rest) = text.strip_prefix("$1$") {
            ("$1$", rest)
        } else {
            return Err(HashError::Unsupported);
        };

        let malformed = HashError::Malformed(if magic == "$1$" { "MD5-crypt" } else { "apr1" });

        let (salt, checksum) = rest.split_once('$').ok_or(malformed.clone())?;
        if salt.len() > 8 || !salt.bytes().all(is_crypt_base64) {
            return Err(malformed);
        }
        let checksum: [u8; 22] = checksum
            .as_bytes()
            .try_into()
            .map_err(|_| malformed.clone())?;
        if !checksum.iter().copied().all(is_crypt_base64) {
            return Err(malformed);
        }

        Ok(Self {
            magic,
            salt: salt.as_bytes().into(),
            checksum,
        })
    }

    pub fn verify(&self, password: &[u8]) -> bool {
        let computed = Zeroizing::new(md5crypt(password, self.magic.as_bytes(), &self.salt));
        computed.ct_eq(&self.checksum).into()
    }

    pub fn scheme(&self) -> &'static str {
        if self.magic == "$1$" {
            "MD5-crypt"
        } else {
            "apr1"
        }
    }
}

fn md5crypt(password: &[u8], magic: &[u8], salt: &[u8]) -> [u8; 22] {
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

    let mut out = [0u8; 22];
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
