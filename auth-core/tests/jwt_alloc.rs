//! jwt::verify allocates once for a token it accepts, and not at all for one it refuses.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use auth_core::jwt::{verify, Alg, JwtError, Policy};
use auth_core::keys::{load, Key, KeyFormat};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is passed to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: as the caller promises.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as the caller promises.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

const SECRET: &[u8] = b"a-test-secret-that-is-32-bytes!!";
const NOW: i64 = 1_800_000_000;

fn hs256(header: &str, payload: &str) -> Vec<u8> {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET);
    let tag = aws_lc_rs::hmac::sign(&key, message.as_bytes());
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref())).into_bytes()
}

/// The allocations `f` makes on this thread.
fn allocations<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCATIONS.get();
    let value = f();
    (ALLOCATIONS.get() - before, value)
}

#[test]
fn one_allocation_to_accept_none_to_refuse() {
    let keys: Vec<Key> = load(SECRET, Some(KeyFormat::Hmac)).unwrap().keys;
    let policy = Policy {
        algorithms: vec![Alg::HS256],
        ..Policy::default()
    };
    let header = r#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#;
    let payload = format!(r#"{{"sub":"ann","exp":{}}}"#, NOW + 60);
    let good = hs256(header, &payload);
    let expired = hs256(header, &format!(r#"{{"sub":"ann","exp":{}}}"#, NOW - 60));
    let mut forged = good.clone();
    let last = forged.len() - 2;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };

    let (n, verified) = allocations(|| verify(&good, &keys, &policy, NOW));
    assert_eq!(verified.unwrap().payload(), payload.as_bytes());
    assert_eq!(n, 1, "accepted");
    let (n, refused) = allocations(|| verify(&expired, &keys, &policy, NOW));
    assert!(matches!(refused, Err(JwtError::Expired)), "{refused:?}");
    assert_eq!(n, 0, "expired");
    let (n, refused) = allocations(|| verify(&forged, &keys, &policy, NOW));
    assert!(
        matches!(refused, Err(JwtError::BadSignature)),
        "{refused:?}"
    );
    assert_eq!(n, 0, "forged");
    let (n, refused) = allocations(|| verify(b"garbage.garbage.garbage", &keys, &policy, NOW));
    assert!(refused.is_err());
    assert_eq!(n, 0, "garbage");
}

#[test]
fn parts_too_long_for_the_stack_still_verify() {
    let keys: Vec<Key> = load(SECRET, Some(KeyFormat::Hmac)).unwrap().keys;
    let policy = Policy {
        algorithms: vec![Alg::HS256],
        ..Policy::default()
    };
    let kid = "k".repeat(600);
    let roles = "r".repeat(5000);
    let token = hs256(
        &format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#),
        &format!(r#"{{"sub":"ann","roles":"{roles}"}}"#),
    );
    let verified = verify(&token, &keys, &policy, NOW).unwrap();
    assert_eq!(verified.header_field("kid").unwrap(), kid.as_str());
    assert_eq!(verified.claim("roles").unwrap(), roles.as_str());
    assert_eq!(verified.claim("sub").unwrap(), "ann");
}
