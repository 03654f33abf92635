//! Token parsing and verification against the test JWKS, with every algorithm allowed.
#![no_main]

use std::sync::OnceLock;

use auth_core::jwt::{verify, Alg, Policy};
use auth_core::keys::{load, Key};
use libfuzzer_sys::fuzz_target;

fn keys() -> &'static [Key] {
    static KEYS: OnceLock<Vec<Key>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut keys = load(include_bytes!("../../t/fixtures/jwt/jwks.json"), None)
            .unwrap()
            .keys;
        keys.extend(
            load(include_bytes!("../../t/fixtures/jwt/rsa.pem"), None)
                .unwrap()
                .keys,
        );
        keys
    })
}

fuzz_target!(|data: &[u8]| {
    let policy = Policy {
        algorithms: Alg::ALL.to_vec(),
        issuers: vec!["https://issuer.example".into()],
        audiences: vec!["api".into()],
        resource: data
            .get(1)
            .is_some_and(|b| b & 1 == 1)
            .then(|| "https://mcp.example/mcp".into()),
        leeway: 30,
        require_exp: data.first().is_some_and(|b| b & 1 == 1),
    };
    if let Ok(verified) = verify(data, keys(), &policy, 1_800_000_000) {
        let _ = verified.claim("profile.email");
    }
});
