//! Single flight for slow password checks: while one request has identical credentials (same
//! user file version, user and password) checked in a thread pool, the others wait for its
//! verdict instead of hashing again, as `proxy_cache_lock` waits for one fetch. A verdict is
//! shared only with the requests that waited for it.

use core::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use auth_core::cache::{Digest, DigestKey};
use auth_core::htpasswd::VerifyError;
use ngx::ffi::{ngx_http_request_t, ngx_msec_t};

use crate::wait::Waiters;

/// How long a request waits for another's check before it checks on its own.
const WAIT_MS: ngx_msec_t = 30_000;

pub struct Flight {
    waiters: Waiters,
    verdict: RefCell<Option<Result<bool, VerifyError>>>,
}

impl Flight {
    /// The verdict, once the check has landed.
    pub fn verdict(&self) -> Option<Result<bool, VerifyError>> {
        self.verdict.borrow().clone()
    }
}

/// Per worker: the checks running, by digest of their credentials.
#[derive(Default)]
pub struct Flights {
    key: OnceCell<DigestKey>,
    running: RefCell<HashMap<Digest, Rc<Flight>>>,
}

impl Flights {
    /// The key of a check, under a key made in this worker.
    pub fn digest(&self, parts: &[&[u8]]) -> Digest {
        self.key.get_or_init(DigestKey::random).digest(parts)
    }

    /// Parks `r` on the check of `digest` if one runs: the flight to read the verdict from
    /// when the request resumes.
    pub fn join(&self, r: &mut ngx_http_request_t, digest: &Digest) -> Option<Rc<Flight>> {
        let flight = self.running.borrow().get(digest).cloned()?;
        flight.waiters.park(r, WAIT_MS).then_some(flight)
    }

    /// A check of `digest` has started; the first one running is the one waited for.
    pub fn start(&self, digest: Digest) {
        self.running.borrow_mut().entry(digest).or_insert_with(|| {
            Rc::new(Flight {
                waiters: Waiters::default(),
                verdict: RefCell::new(None),
            })
        });
    }

    /// The check of `digest` has ended: its waiters resume with `verdict`.
    pub fn land(&self, digest: &Digest, verdict: &Result<bool, VerifyError>) {
        let flight = self.running.borrow_mut().remove(digest);
        if let Some(flight) = flight {
            flight.verdict.replace(Some(verdict.clone()));
            flight.waiters.wake_all();
        }
    }
}
