//! What a Redis server (or anything on its port) sends: replies read in pieces of any size,
//! never larger than the bound, and what the module reads out of them (a Sentinel's primary,
//! a role, marks of logouts, tickets).
#![no_main]

use auth_core::oidc::mark::Mark;
use auth_core::oidc::ticket::Ticket;
use auth_core::redis::{bytes, is_primary, sentinel_primary, Replies};
use libfuzzer_sys::fuzz_target;

const MAX: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(1, |b| usize::from(*b).max(1));
    let mut replies = Replies::new(MAX);
    'read: for piece in data.chunks(split) {
        replies.push(piece);
        loop {
            match replies.pop() {
                Ok(Some(reply)) => {
                    let _ = sentinel_primary(&reply);
                    let _ = is_primary(&reply);
                    if let Some(b) = bytes(&reply) {
                        assert!(b.len() <= MAX + 64);
                        if let Some(mark) = Mark::parse(b) {
                            assert!(mark.until > mark.at);
                            assert_eq!(Mark::parse(mark.text().as_bytes()), Some(mark));
                        }
                    }
                }
                Ok(None) => break,
                Err(_) => break 'read,
            }
        }
    }
    if let Ok(text) = core::str::from_utf8(data) {
        if let Some(ticket) = Ticket::parse(text) {
            assert_eq!(ticket.text(), text);
        }
    }
});
