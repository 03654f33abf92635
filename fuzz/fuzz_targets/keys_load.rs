//! Key files: JWKS, PEM and raw secrets, detected or named.
#![no_main]

use auth_core::keys::{implied_algorithms, load, KeyFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for format in [
        None,
        Some(KeyFormat::Jwks),
        Some(KeyFormat::Pem),
        Some(KeyFormat::Hmac),
    ] {
        if let Ok(loaded) = load(data, format) {
            let _ = implied_algorithms(&loaded.keys);
            let _ = loaded.skipped.iter().map(ToString::to_string).count();
        }
    }
});
