//! The shared memory zone of auth_oidc: refreshes in flight and done, by refresh token, so that
//! one worker refreshes a session's tokens for all, and requests that still carry the old
//! cookie, in any worker, get the new session instead of spending the refresh token again
//! (which a provider that rotates refresh tokens answers by revoking the whole grant). And
//! the marks of back-channel logout: the sessions a provider ended, and the logout tokens seen.

use core::mem;
use core::ptr;

use ngx::ffi::{
    ngx_conf_t, ngx_shm_zone_t, ngx_shmtx_lock, ngx_shmtx_unlock, ngx_slab_alloc_locked,
    ngx_slab_free_locked, ngx_slab_pool_t, ngx_str_t,
};
use ngx::ngx_string;

use crate::marks::{self, Mark};
use crate::shm;

/// Refreshes remembered at once.
const SLOTS: usize = 8192;
pub const SIZE: usize = 8 * 1024 * 1024;
/// Seconds that a refresh's new session is handed to requests with the old cookie.
pub const GRACE: i64 = 300;
/// Seconds before a refresh that failed on the network is tried again.
const RETRY: i64 = 5;

#[repr(C)]
struct Slot {
    id: [u8; 32],
    used: bool,
    /// A worker refreshes until then at the latest.
    lease_until: i64,
    /// The refresh failed on the network: not again before then.
    failed_until: i64,
    /// The new session is in `value` until then.
    done_until: i64,
    /// The refresh token was spent (or refused); remembered until its session ends.
    spent_until: i64,
    /// The provider refused the refresh token.
    refused: bool,
    value: *mut u8,
    value_len: usize,
}

impl Slot {
    fn busy(&self, now: i64) -> bool {
        self.lease_until > now || self.done_until > now || self.failed_until > now
    }
}

/// Marks remembered at once.
pub const MARKS: usize = 16384;

#[repr(C)]
struct Shared {
    slots: [Slot; SLOTS],
    marks: [Mark; MARKS],
    /// Marks made so far: none, and requests need not look.
    marked: u64,
}

/// What a request may do about its session's refresh.
pub enum Claim {
    /// This request's worker refreshes now.
    Refresh,
    /// Another request is refreshing.
    Busy,
    /// Done: the new session, sealed.
    Done(Vec<u8>),
    /// The refresh token was spent and its result is gone, or the provider refused it.
    Spent,
    /// The last try failed on the network; the current tokens stay in use for now.
    Failed,
}

#[derive(Clone, Copy)]
pub struct Zone(*mut ngx_shm_zone_t);

impl Zone {
    pub fn add(cf: &mut ngx_conf_t) -> Option<Zone> {
        let mut name: ngx_str_t = ngx_string!("auth_oidc");
        let zone = shm::add(cf, &mut name, SIZE, Some(shm::init_zeroed::<Shared>));
        (!zone.is_null()).then_some(Zone(zone))
    }

    /// Runs `f` on the slot of `id` (made if new, in a free or the oldest idle slot) with the
    /// zone locked; `None` when the zone is not mapped or every slot is busy.
    fn with<T>(
        &self,
        id: &[u8; 32],
        now: i64,
        f: impl FnOnce(&mut Slot, *mut ngx_slab_pool_t) -> T,
    ) -> Option<T> {
        let (pool, shared) = self.shared()?;
        // SAFETY: the pool's mutex guards the slots.
        unsafe {
            ngx_shmtx_lock(&mut (*pool).mutex);
            let slots = &mut (*shared).slots;
            let at = slots
                .iter()
                .position(|s| s.used && &s.id == id)
                .or_else(|| {
                    slots.iter().position(|s| !s.used).or_else(|| {
                        slots
                            .iter()
                            .enumerate()
                            .filter(|(_, s)| !s.busy(now))
                            .min_by_key(|(_, s)| s.spent_until)
                            .map(|(i, _)| i)
                    })
                });
            let out = at.map(|at| {
                let slot = &mut slots[at];
                if !slot.used || &slot.id != id {
                    if !slot.value.is_null() {
                        ngx_slab_free_locked(pool, slot.value.cast());
                    }
                    *slot = mem::zeroed();
                    slot.used = true;
                    slot.id = *id;
                }
                f(slot, pool)
            });
            ngx_shmtx_unlock(&mut (*pool).mutex);
            out
        }
    }

    pub fn claim(&self, id: &[u8; 32], now: i64, lease: i64) -> Claim {
        let claim = self.with(id, now, |slot, pool| {
            if slot.done_until > now && !slot.value.is_null() {
                // SAFETY: value holds value_len bytes written by done().
                return Claim::Done(unsafe {
                    core::slice::from_raw_parts(slot.value, slot.value_len).to_vec()
                });
            }
            if !slot.value.is_null() {
                // SAFETY: the lock is held; the value is no longer handed out.
                unsafe { ngx_slab_free_locked(pool, slot.value.cast()) };
                slot.value = ptr::null_mut();
            }
            if slot.lease_until > now {
                return Claim::Busy;
            }
            if slot.refused || slot.spent_until > now {
                return Claim::Spent;
            }
            if slot.failed_until > now {
                return Claim::Failed;
            }
            slot.lease_until = now + lease;
            Claim::Refresh
        });
        // With every slot busy, nobody refreshes now: a refresh without a lease could spend
        // a refresh token twice.
        claim.unwrap_or(Claim::Failed)
    }

    /// The refresh is done: `value` is the new session, sealed; the old refresh token is spent
    /// until `spent_until`. False when the zone has no room for the value.
    pub fn done(&self, id: &[u8; 32], now: i64, value: &[u8], spent_until: i64) -> bool {
        self.with(id, now, |slot, pool| {
            slot.lease_until = 0;
            // SAFETY: the lock is held; the copy fits the allocation.
            unsafe {
                let p = ngx_slab_alloc_locked(pool, value.len().max(1)).cast::<u8>();
                if p.is_null() {
                    // Not kept: the requests with the old cookie try again later.
                    slot.failed_until = now + RETRY;
                    return false;
                }
                ptr::copy_nonoverlapping(value.as_ptr(), p, value.len());
                if !slot.value.is_null() {
                    ngx_slab_free_locked(pool, slot.value.cast());
                }
                slot.value = p;
            }
            slot.value_len = value.len();
            slot.done_until = now + GRACE;
            slot.spent_until = spent_until.max(now + GRACE);
            true
        })
        .unwrap_or(false)
    }

    /// The refresh failed: `refused` by the provider (the session is over), or on the network
    /// (tried again later).
    pub fn failed(&self, id: &[u8; 32], now: i64, refused: bool, spent_until: i64) {
        self.with(id, now, |slot, _| {
            slot.lease_until = 0;
            if refused {
                slot.refused = true;
                slot.spent_until = spent_until.max(now + GRACE);
            } else {
                slot.failed_until = now + RETRY;
            }
        });
    }
}

impl Zone {
    fn shared(&self) -> Option<(*mut ngx_slab_pool_t, *mut Shared)> {
        shm::zeroed(self.0)
    }

    /// Remembers `id` from `now` until `until`; false when it is remembered already, or when
    /// a `weak` mark finds no room.
    pub fn mark(&self, id: &[u8; 32], now: i64, until: i64, weak: bool) -> bool {
        let Some((pool, shared)) = self.shared() else {
            return true;
        };
        // SAFETY: the pool's mutex guards the marks.
        unsafe {
            ngx_shmtx_lock(&mut (*pool).mutex);
            let fresh = marks::mark(&mut (*shared).marks, id, now, until, weak);
            if fresh {
                (*shared).marked += 1;
            }
            ngx_shmtx_unlock(&mut (*pool).mutex);
            fresh
        }
    }

    /// Whether any mark was ever made: when none was, requests need not look.
    pub fn any_marks(&self) -> bool {
        // SAFETY: a plain read of a counter that only grows.
        self.shared()
            .is_some_and(|(_, shared)| unsafe { ptr::read_volatile(&(*shared).marked) } != 0)
    }

    /// Notes that the mark of `id` is not told yet to the other nodes of cluster `to` (not 0).
    pub fn set_pending(&self, id: &[u8; 32], to: u8) {
        let Some((pool, shared)) = self.shared() else {
            return;
        };
        // SAFETY: the pool's mutex guards the marks.
        unsafe {
            ngx_shmtx_lock(&mut (*pool).mutex);
            marks::set_pending(&mut (*shared).marks, id, to);
            ngx_shmtx_unlock(&mut (*pool).mutex);
        }
    }

    /// The marks not told yet to the other nodes of cluster `to` that still hold at `now`;
    /// whoever takes them tells them.
    pub fn take_pending(&self, to: u8, now: i64) -> Vec<([u8; 32], i64, i64, bool)> {
        let Some((pool, shared)) = self.shared() else {
            return Vec::new();
        };
        // SAFETY: the pool's mutex guards the marks.
        unsafe {
            ngx_shmtx_lock(&mut (*pool).mutex);
            let pending = marks::take_pending(&mut (*shared).marks, to, now);
            ngx_shmtx_unlock(&mut (*pool).mutex);
            pending
        }
    }

    /// When `id` was marked, if it is remembered at `now`.
    pub fn marked(&self, id: &[u8; 32], now: i64) -> Option<i64> {
        let (pool, shared) = self.shared()?;
        // SAFETY: the pool's mutex guards the marks.
        unsafe {
            ngx_shmtx_lock(&mut (*pool).mutex);
            let at = marks::marked(&(*shared).marks, id, now);
            ngx_shmtx_unlock(&mut (*pool).mutex);
            at
        }
    }
}
