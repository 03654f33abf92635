//! Answers of introspection endpoints (RFC 7662) and the discovery documents their endpoint
//! comes from: read, then checked as a token's claims.
#![no_main]

use auth_core::jwt::introspection::{accept, discovered_endpoint, parse_response, Answer};
use auth_core::jwt::Policy;
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_800_000_000;

fuzz_target!(|data: &[u8]| {
    let policy = Policy {
        issuers: vec!["https://as.example".into()],
        audiences: vec!["api".into()],
        resource: Some("https://api.example/mcp".into()),
        leeway: 60,
        ..Policy::default()
    };
    for status in [200, 400] {
        if let Ok(Answer::Active { claims, .. }) = parse_response(status, data) {
            assert_eq!(status, 200);
            if let Ok(verified) = accept(&claims, &policy, NOW) {
                assert!(verified.exp.is_none_or(|exp| exp + 60.0 > NOW as f64));
                let _ = verified.claims();
            }
        }
    }
    if let Some(url) = discovered_endpoint(data) {
        assert!(url.https || url.host_is_loopback());
    }
});
