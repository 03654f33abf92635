//! Makes test tokens and JWKs from private keys; used by scripts/make-fixtures.
//!
//!   mint sign ALG KEYFILE HEADER_JSON PAYLOAD_JSON   prints a compact JWS
//!   mint jwk ALG KEYFILE KID                          prints the public JWK
//!   mint jkt ALG KEYFILE                              prints the JWK's thumbprint (RFC 7638)
//!   mint dpop ALG KEYFILE TOKEN METHOD URI COUNT      prints COUNT DPoP proofs (RFC 9449), a
//!                                                     line each, for that token and request

use std::io::Write;
use std::{env, fs, process};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey};
use sha2::{Digest, Sha256};

fn key(alg: Algorithm, path: &str) -> EncodingKey {
    let data = fs::read(path).unwrap_or_else(|e| fail(&format!("{path}: {e}")));
    let key = match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            Ok(EncodingKey::from_secret(&data))
        }
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(&data),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(&data),
        _ => EncodingKey::from_rsa_pem(&data),
    };
    key.unwrap_or_else(|e| fail(&format!("{path}: {e}")))
}

/// The public JWK of a private key file, as a JSON object.
fn public_jwk(alg: Algorithm, path: &str) -> serde_json::Value {
    let jwk = Jwk::from_encoding_key(&key(alg, path), alg).unwrap_or_else(|e| fail(&e.to_string()));
    let mut jwk = serde_json::to_value(jwk).unwrap_or_else(|e| fail(&e.to_string()));
    // Only the key's own members: those a DPoP proof's header carries.
    if let Some(members) = jwk.as_object_mut() {
        members.retain(|name, _| matches!(name.as_str(), "kty" | "crv" | "x" | "y" | "n" | "e"));
    }
    jwk
}

fn thumbprint_of(alg: Algorithm, path: &str) -> String {
    let jwk = public_jwk(alg, path);
    jwk.as_object()
        .and_then(auth_core::keys::thumbprint)
        .unwrap_or_else(|| fail("no thumbprint for this key"))
}

fn fail(message: &str) -> ! {
    eprintln!("mint: {message}");
    process::exit(1);
}

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    let alg = |name: &str| {
        name.parse::<Algorithm>()
            .unwrap_or_else(|_| fail("unknown alg"))
    };

    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["sign", name, path, header, payload] => {
            let alg = alg(name);
            let message = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(payload)
            );
            let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key(alg, path), alg)
                .unwrap_or_else(|e| fail(&e.to_string()));
            println!("{message}.{signature}");
        }
        ["jwk", name, path, kid] => {
            let alg = alg(name);
            let mut jwk = Jwk::from_encoding_key(&key(alg, path), alg)
                .unwrap_or_else(|e| fail(&e.to_string()));
            jwk.common.key_id = Some((*kid).to_owned());
            println!("{}", serde_json::to_string(&jwk).unwrap());
        }
        ["jkt", name, path] => {
            println!("{}", thumbprint_of(alg(name), path));
        }
        ["dpop", name, path, token, method, uri, count] => {
            let alg = alg(name);
            let key = key(alg, path);
            let jwk = public_jwk(alg, path);
            let header = serde_json::json!({"typ": "dpop+jwt", "alg": name, "jwk": jwk});
            let header = URL_SAFE_NO_PAD.encode(header.to_string());
            let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()));
            let iat = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let count: u64 = count.parse().unwrap_or_else(|_| fail("COUNT is a number"));
            let run = process::id();
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for n in 0..count {
                let claims = serde_json::json!({
                    "jti": format!("{run}-{iat}-{n}"), "htm": method, "htu": uri,
                    "iat": iat, "ath": ath,
                });
                let message = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
                let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, alg)
                    .unwrap_or_else(|e| fail(&e.to_string()));
                writeln!(out, "{message}.{signature}").unwrap_or_else(|e| fail(&e.to_string()));
            }
        }
        _ => fail(
            "usage: mint sign ALG KEYFILE HEADER PAYLOAD | mint jwk ALG KEYFILE KID \
             | mint jkt ALG KEYFILE | mint dpop ALG KEYFILE TOKEN METHOD URI COUNT",
        ),
    }
}
