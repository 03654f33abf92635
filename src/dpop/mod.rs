//! DPoP proofs (RFC 9449) at the request: the `DPoP` header, the URI the proof must name, and
//! the proofs seen, in a shared zone, so that a proof is used once across workers.

use core::cell::RefCell;
use core::mem;
use core::num::NonZeroUsize;

use auth_core::dpop::{self, DpopError, Proof, ProofKeys, Request};
use ngx::ffi::{
    ngx_conf_t, ngx_http_request_t, ngx_shm_zone_t, ngx_shmtx_lock, ngx_shmtx_unlock, ngx_str_t,
};
use ngx::ngx_string;

use crate::headers::{origin, request_headers};
use crate::marks::{self, Mark};
use crate::shm;
use crate::text::str_bytes;

thread_local! {
    /// The proof keys this worker parsed lately.
    static KEYS: RefCell<ProofKeys> = RefCell::new(ProofKeys::new(PROOF_KEYS));
}
const PROOF_KEYS: NonZeroUsize = NonZeroUsize::new(1024).unwrap();

/// Proofs remembered at once: at a thousand requests a second, two minutes of them.
const MARKS: usize = 131_072;
const SIZE: usize = mem::size_of::<Table>() + 1024 * 1024;
type Table = [Mark; MARKS];

/// The proofs seen by every worker.
#[derive(Clone, Copy)]
pub struct Replays(*mut ngx_shm_zone_t);

impl Replays {
    pub fn add(cf: &mut ngx_conf_t) -> Option<Replays> {
        let mut name: ngx_str_t = ngx_string!("auth_rs_dpop");
        let zone = shm::add(cf, &mut name, SIZE, Some(shm::init_zeroed::<Table>));
        (!zone.is_null()).then_some(Replays(zone))
    }

    /// Remembers the proof until it is too old to be accepted; false when it was seen, or
    /// the zone is not mapped.
    fn first_use(&self, proof: &Proof, window: u64, now: i64) -> bool {
        let Some((pool, table)) = shm::zeroed::<Table>(self.0) else {
            return false;
        };
        // SAFETY: the pool's mutex guards the table.
        unsafe {
            let until = proof.iat.saturating_add(window as i64 + 1).max(now + 1);
            ngx_shmtx_lock(&mut (*pool).mutex);
            let fresh = marks::mark(&mut *table, &proof.replay_id(), now, until, false);
            ngx_shmtx_unlock(&mut (*pool).mutex);
            fresh
        }
    }
}

/// The request's proof: `None` without a `DPoP` header; more than one is an error.
pub fn proof_header(r: &mut ngx_http_request_t) -> Result<Option<ngx_str_t>, DpopError> {
    let mut headers = request_headers(r, "DPoP");
    let Some(first) = headers.next().map(|h| h.value) else {
        return Ok(None);
    };
    if headers.next().is_some() {
        return Err(DpopError::Several);
    }
    Ok(Some(first))
}

/// The URI a proof for this request names in `htu`: how the client addressed the server, and
/// the path it asked for, before any rewrite.
fn request_uri(r: &mut ngx_http_request_t) -> String {
    let origin = origin(r);
    let unparsed = str_bytes(&r.unparsed_uri);
    let path = unparsed.split(|&c| c == b'?').next().unwrap_or_default();
    format!("{origin}{}", String::from_utf8_lossy(path))
}

/// Checks the request's proof for `token`, which is bound to the key of thumbprint `jkt`, and
/// that it was not used before.
pub fn check(
    r: &mut ngx_http_request_t,
    token: &[u8],
    jkt: &str,
    window: u64,
    replays: Option<Replays>,
    now: i64,
) -> Result<(), DpopError> {
    let header = proof_header(r)?.ok_or(DpopError::Missing)?;
    let uri = request_uri(r);
    let request = Request {
        method: str_bytes(&r.method_name),
        uri: &uri,
        token,
    };
    let proof = KEYS.with_borrow_mut(|keys| {
        dpop::check(str_bytes(&header), &request, window, now, Some(keys))
    })?;
    if proof.jkt != jkt {
        return Err(DpopError::KeyMismatch);
    }
    if let Some(replays) = replays {
        if !replays.first_use(&proof, window, now) {
            return Err(DpopError::Replayed);
        }
    }
    Ok(())
}
