//! Makes test tokens and JWKs from private keys; used by scripts/make-fixtures.
//!
//!   mint sign ALG KEYFILE HEADER_JSON PAYLOAD_JSON   prints a compact JWS
//!   mint jwk ALG KEYFILE KID                          prints the public JWK

use std::{env, fs, process};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey};

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
        _ => fail("usage: mint sign ALG KEYFILE HEADER PAYLOAD | mint jwk ALG KEYFILE KID"),
    }
}
