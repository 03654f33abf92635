//! What browsers and providers send a relying party: cookies, callback queries, token
//! responses, metadata. Nothing that this nginx did not seal opens as a session or a login.
#![no_main]

use auth_core::oidc::{cookie, token, Callback, Login, Metadata, Sealer, Session};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let sealer = Sealer::new(&[b"fuzzing secret, at least 32 bytes long"]).unwrap();
    if let Some((value, parts)) = cookie::join(data, "S") {
        assert!((1..=cookie::MAX_PARTS).contains(&parts));
        assert!(Session::open(&sealer, "idp", value.as_bytes(), 0).is_err());
    }
    assert!(Session::open(&sealer, "idp", data, 0).is_err());
    assert!(Login::open(&sealer, "idp", data, 0).is_none());
    let stripped = cookie::strip(data, "S");
    assert!(cookie::get(&stripped, "S").is_none());
    if let Ok(text) = core::str::from_utf8(data) {
        let _ = Callback::parse(text);
    }
    let _ = token::parse_response(200, data);
    let _ = Metadata::parse("https://idp.example", data);
});
