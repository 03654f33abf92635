//! `Authorization: Basic` decoding.
#![no_main]

use auth_core::basic::parse_authorization;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(credentials) = parse_authorization(data) {
        assert!(!credentials.user().is_empty());
        assert!(!credentials.user().contains(&b':'));
        let _ = credentials.password();
    }
});
