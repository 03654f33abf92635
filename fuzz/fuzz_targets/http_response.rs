//! Responses of identity providers, in pieces of any size: the same verdict whole or split,
//! and never more body than the limit.
#![no_main]

use auth_core::http::ResponseReader;
use libfuzzer_sys::fuzz_target;

const MAX: usize = 4096;

fn read(parts: &[&[u8]]) -> Option<Vec<u8>> {
    let mut reader = ResponseReader::new(MAX);
    for part in parts {
        match reader.push(part) {
            Ok(true) => return reader.finish(false).ok().map(|r| r.body),
            Ok(false) => {}
            Err(_) => return None,
        }
    }
    reader.finish(true).ok().map(|r| r.body)
}

fuzz_target!(|data: &[u8]| {
    let whole = read(&[data]);
    if let Some(body) = &whole {
        assert!(body.len() <= MAX);
    }
    let split = data.len() / 3;
    assert_eq!(whole, read(&[&data[..split], &data[split..]]));
});
