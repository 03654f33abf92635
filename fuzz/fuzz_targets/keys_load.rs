//! Key files: JWKS, PEM and raw secrets, detected or named.
#![no_main]

use auth_core::keys::{implied_algorithms, load, KeyFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for format in [None, Some(KeyFormat::Jwks), Some(KeyFormat::Pem), Some(KeyFormat::Hmac)] {
        if let Ok(keys) = load(data, format) {
            let _ = implied_algorithms(&keys);
        }
    }
});
