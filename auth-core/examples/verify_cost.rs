//! Times, per algorithm, the raw signature check with the crypto the module uses (aws-lc; for
//! HMAC, RustCrypto's `hmac`), a key parsed once and the signature decoded once, against
//! `jwt::verify` on the same token, in this process: what the verify pipeline adds to the
//! crypto. Used by scripts/bench; run alone with
//! `cargo run --release -p auth-core --example verify_cost [ROUNDS [ALG[=TOKEN_FILE] ...]]`:
//! the algorithms named, or all, each with the fixture token or the token of TOKEN_FILE, signed
//! with a key of `t/fixtures/jwt/jwks.json`. An HMAC costs more the longer the token.
//!
//! Prints one line per algorithm: `ALG raw_ns verify_ns`.

use std::time::Instant;
use std::{env, fs, hint};

use auth_core::jwt::{verify, Policy};
use auth_core::keys::{implied_algorithms, load};
use aws_lc_rs::signature::{self, ParsedPublicKey, VerificationAlgorithm};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::DecodingKey;
use sha2::Sha256;

const NOW: i64 = 1_800_000_000;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../t/fixtures/jwt/{name}", env!("CARGO_MANIFEST_DIR"));
    fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

enum Raw {
    Hmac(Box<Hmac<Sha256>>),
    Public(ParsedPublicKey),
}

impl Raw {
    fn public(alg: &'static dyn VerificationAlgorithm, bytes: &[u8]) -> Self {
        Raw::Public(ParsedPublicKey::new(alg, bytes).expect("fixture key"))
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Raw::Hmac(key) => {
                let mut mac = (**key).clone();
                mac.update(message);
                mac.verify_slice(signature).is_ok()
            }
            Raw::Public(key) => key.verify_sig(message, signature).is_ok(),
        }
    }
}

/// Nanoseconds per call of `f`, the best of a few runs of `rounds` calls.
fn time(rounds: u32, mut f: impl FnMut() -> bool) -> f64 {
    assert!(f(), "the check must succeed");
    (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..rounds {
                hint::black_box(f());
            }
            start.elapsed().as_nanos() as f64 / f64::from(rounds)
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let rounds: u32 = env::args()
        .nth(1)
        .map_or(2000, |r| r.parse().expect("ROUNDS"));
    // ALG -> the token file named for it, if any.
    let chosen: Vec<(String, Option<String>)> = env::args()
        .skip(2)
        .map(|arg| match arg.split_once('=') {
            Some((alg, file)) => (alg.to_owned(), Some(file.to_owned())),
            None => (arg, None),
        })
        .collect();

    let rsa = DecodingKey::from_rsa_pem(&fixture("rsa.pem")).expect("rsa.pem");
    let rsa = rsa.try_get_as_bytes().expect("DER").to_vec();
    let ec256 = DecodingKey::from_ec_pem(&fixture("ec256.pem")).expect("ec256.pem");
    let ec384 = DecodingKey::from_ec_pem(&fixture("ec384.pem")).expect("ec384.pem");
    let ed = DecodingKey::from_ed_pem(&fixture("ed25519.pem")).expect("ed25519.pem");
    let secret = fixture("hmac.secret");

    let cases = [
        (
            "HS256",
            "hs256.jwt",
            Raw::Hmac(Box::new(Hmac::new_from_slice(&secret).expect("HMAC key"))),
        ),
        (
            "RS256",
            "rs256.jwt",
            Raw::public(&signature::RSA_PKCS1_2048_8192_SHA256, &rsa),
        ),
        (
            "PS256",
            "ps256.jwt",
            Raw::public(&signature::RSA_PSS_2048_8192_SHA256, &rsa),
        ),
        (
            "ES256",
            "es256.jwt",
            Raw::public(
                &signature::ECDSA_P256_SHA256_FIXED,
                ec256.try_get_as_bytes().unwrap(),
            ),
        ),
        (
            "ES384",
            "es384.jwt",
            Raw::public(
                &signature::ECDSA_P384_SHA384_FIXED,
                ec384.try_get_as_bytes().unwrap(),
            ),
        ),
        (
            "EdDSA",
            "eddsa.jwt",
            Raw::public(&signature::ED25519, ed.try_get_as_bytes().unwrap()),
        ),
    ];

    let keys = load(&fixture("jwks.json"), None).expect("jwks.json").keys;
    let policy = Policy {
        algorithms: implied_algorithms(&keys),
        require_exp: true,
        ..Policy::default()
    };

    for (alg, file, raw) in &cases {
        let token_file = match chosen.iter().find(|(name, _)| name == alg) {
            Some((_, file)) => file.as_deref(),
            None if chosen.is_empty() => None,
            None => continue,
        };
        let token = match token_file {
            Some(path) => fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}")),
            None => fixture(file),
        };
        let token = token.trim_ascii().to_vec();
        let dot = token.iter().rposition(|&c| c == b'.').unwrap();
        let message = &token[..dot];
        let signature = URL_SAFE_NO_PAD.decode(&token[dot + 1..]).unwrap();

        let raw_ns = time(rounds, || raw.verify(message, &signature));
        let verify_ns = time(rounds, || verify(&token, &keys, &policy, NOW).is_ok());
        println!("{alg} {raw_ns:.0} {verify_ns:.0}");
    }
}
