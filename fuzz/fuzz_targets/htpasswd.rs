//! htpasswd parsing and the hash dispatch; slow hashes are parsed but not run, since their cost
//! comes from the file, which the administrator writes.
#![no_main]

use auth_core::htpasswd::Htpasswd;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (file, _warnings) = Htpasswd::parse(data);
    for line in data.split(|&c| c == b'\n').take(64) {
        let user = line.split(|&c| c == b':').next().unwrap_or_default();
        if let Some(hash) = file.get(user) {
            if !hash.is_slow() {
                let _ = hash.verify(line);
            }
        }
    }
    if let Some(decoy) = file.decoy() {
        let _ = decoy.scheme();
    }
});
