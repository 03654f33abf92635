//! DPoP proofs (RFC 9449) and what a sender-constrained token is checked with: the proof's
//! form, header, key and claims, `htu` comparison, certificate thumbprints.
#![no_main]

use core::num::NonZeroUsize;

use auth_core::dpop::{check, same_uri, ProofKeys, Request, DEFAULT_WINDOW};
use auth_core::mtls::certificate_thumbprint;
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_800_000_000;

fuzz_target!(|data: &[u8]| {
    let request = Request {
        method: b"GET",
        uri: "https://api.test/mcp",
        token: b"eyJhbGciOiJIUzI1NiJ9.e30.c2ln",
    };
    let mut keys = ProofKeys::new(NonZeroUsize::MIN);
    let cached = check(data, &request, DEFAULT_WINDOW, NOW, Some(&mut keys));
    assert_eq!(
        cached.is_ok(),
        check(data, &request, DEFAULT_WINDOW, NOW, Some(&mut keys)).is_ok()
    );
    if let Ok(proof) = check(data, &request, DEFAULT_WINDOW, NOW, None) {
        assert!(!proof.jti.is_empty());
        assert!((proof.iat - NOW).unsigned_abs() <= DEFAULT_WINDOW + 1);
        let _ = proof.replay_id();
    }
    if let Ok(text) = core::str::from_utf8(data) {
        let mid = (0..=text.len() / 2)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        let (a, b) = text.split_at(mid);
        assert_eq!(same_uri(a, b), same_uri(b, a));
    }
    let _ = certificate_thumbprint(data);
});
