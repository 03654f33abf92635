//! The shared memory zone of the key sources (`auth_jwt_key_url`, the providers' keys): per
//! URL, the last JWK Set fetched and the discovery document it came through, their fingerprint
//! and times, the last failure, and who is fetching now. One worker fetches for all; the others
//! parse the documents when their fingerprint changes. The zone outlives reloads, so new
//! workers start with the keys the old ones had.

use core::ffi::c_void;
use core::mem;
use core::ptr;

use ngx::ffi::{
    ngx_conf_t, ngx_int_t, ngx_shm_zone_t, ngx_shmtx_lock, ngx_shmtx_unlock, ngx_slab_alloc_locked,
    ngx_slab_free_locked, ngx_slab_pool_t, ngx_str_t, NGX_ERROR, NGX_OK,
};
use ngx::ngx_string;

use super::KeySources;
use crate::shm;

/// Distinct URLs (with their trusted certificates) one configuration can have.
pub const MAX_URLS: usize = 64;
pub const DEFAULT_SIZE: usize = 1024 * 1024;

/// What all workers know of one URL.
#[repr(C)]
pub struct Entry {
    id: [u8; 32],
    used: bool,
    pub fingerprint: [u8; 32],
    body: *mut u8,
    body_len: usize,
    discovery: *mut u8,
    discovery_len: usize,
    /// Why the last fetch failed; empty after a success.
    error: *mut u8,
    error_len: usize,
    /// Fetches failed since the last success.
    pub failures: u32,
    /// Times in ms since the epoch; 0: never.
    pub fetched: i64,
    /// When the next fetch is due.
    pub next_fetch: i64,
    /// A worker fetches until then at the latest.
    pub lease_until: i64,
    /// When a token with an unknown kid last made a worker fetch.
    pub refetched: i64,
}

#[repr(C)]
struct Shared {
    entries: [Entry; MAX_URLS],
}

/// The zone of one configuration.
#[derive(Clone, Copy)]
pub struct Zone(*mut ngx_shm_zone_t);

impl Zone {
    /// Adds the zone to the configuration; `sources` tells its init which URLs are current.
    pub fn add(cf: &mut ngx_conf_t, size: usize, sources: *const KeySources) -> Option<Zone> {
        let mut name: ngx_str_t = ngx_string!("auth_jwt_key_url");
        let zone = shm::add(cf, &mut name, size, Some(init));
        if zone.is_null() {
            return None;
        }
        // SAFETY: the zone was just added; nginx calls init when it is mapped.
        unsafe { (*zone).data = sources.cast_mut().cast() };
        Some(Zone(zone))
    }

    fn pool(&self) -> *mut ngx_slab_pool_t {
        // SAFETY: once nginx has mapped the zone, shm.addr is its slab pool.
        unsafe { (*self.0).shm.addr.cast() }
    }

    /// Runs `f` on the entry of `id` (made if new) with the zone locked; `None` when the zone
    /// is not mapped or full.
    pub fn with<T>(&self, id: &[u8; 32], f: impl FnOnce(&mut Entry, Slab) -> T) -> Option<T> {
        let pool = self.pool();
        if pool.is_null() {
            return None;
        }
        // SAFETY: the slab pool's mutex guards the entries; pool.data is the Shared that init
        // put there. `f` runs with the lock held and must not call back into the zone.
        unsafe {
            let shared = (*pool).data.cast::<Shared>();
            if shared.is_null() {
                return None;
            }
            ngx_shmtx_lock(&mut (*pool).mutex);
            let entries = &mut (*shared).entries;
            let at = entries
                .iter()
                .position(|e| e.used && &e.id == id)
                .or_else(|| entries.iter().position(|e| !e.used));
            let out = at.map(|at| {
                let entry = &mut entries[at];
                if !entry.used {
                    *entry = mem::zeroed();
                    entry.used = true;
                    entry.id = *id;
                }
                f(entry, Slab(pool))
            });
            ngx_shmtx_unlock(&mut (*pool).mutex);
            out
        }
    }
}

/// The zone's allocator, while its lock is held.
pub struct Slab(*mut ngx_slab_pool_t);

impl Entry {
    pub fn body(&self) -> &[u8] {
        if self.body.is_null() {
            return &[];
        }
        // SAFETY: body points to body_len bytes of the zone, written by store.
        unsafe { core::slice::from_raw_parts(self.body, self.body_len) }
    }

    pub fn discovery(&self) -> &[u8] {
        if self.discovery.is_null() {
            return &[];
        }
        // SAFETY: discovery points to discovery_len bytes of the zone, written by store.
        unsafe { core::slice::from_raw_parts(self.discovery, self.discovery_len) }
    }

    pub fn error(&self) -> &[u8] {
        if self.error.is_null() {
            return &[];
        }
        // SAFETY: error points to error_len bytes of the zone, written by set_error.
        unsafe { core::slice::from_raw_parts(self.error, self.error_len) }
    }

    /// Replaces the reason of the last failure (empty: none); when the zone has no room, the
    /// reason is dropped.
    pub fn set_error(&mut self, slab: &Slab, error: &str) {
        // SAFETY: the lock is held (Slab exists only inside Zone::with).
        unsafe {
            if !self.error.is_null() {
                ngx_slab_free_locked(slab.0, self.error.cast());
            }
            self.error = ptr::null_mut();
            self.error_len = 0;
            if error.is_empty() {
                return;
            }
            let p = ngx_slab_alloc_locked(slab.0, error.len()).cast::<u8>();
            if p.is_null() {
                return;
            }
            ptr::copy_nonoverlapping(error.as_ptr(), p, error.len());
            self.error = p;
        }
        self.error_len = error.len();
    }

    /// Replaces the documents; false when the zone has no room (the old ones stay).
    pub fn store(
        &mut self,
        slab: &Slab,
        body: &[u8],
        discovery: &[u8],
        fingerprint: [u8; 32],
    ) -> bool {
        // SAFETY: the lock is held (Slab exists only inside Zone::with).
        unsafe {
            let p = ngx_slab_alloc_locked(slab.0, body.len().max(1)).cast::<u8>();
            if p.is_null() {
                return false;
            }
            let d = ngx_slab_alloc_locked(slab.0, discovery.len().max(1)).cast::<u8>();
            if d.is_null() {
                ngx_slab_free_locked(slab.0, p.cast());
                return false;
            }
            ptr::copy_nonoverlapping(body.as_ptr(), p, body.len());
            ptr::copy_nonoverlapping(discovery.as_ptr(), d, discovery.len());
            for old in [self.body, self.discovery] {
                if !old.is_null() {
                    ngx_slab_free_locked(slab.0, old.cast());
                }
            }
            self.body = p;
            self.discovery = d;
        }
        self.body_len = body.len();
        self.discovery_len = discovery.len();
        self.fingerprint = fingerprint;
        true
    }
}

extern "C" fn init(zone: *mut ngx_shm_zone_t, old: *mut c_void) -> ngx_int_t {
    // SAFETY: nginx calls this once the zone is mapped, with the old configuration's data when
    // the zone is reused; zone.data is the KeySources set in add().
    unsafe {
        let pool = (*zone).shm.addr.cast::<ngx_slab_pool_t>();
        let sources = &*(*zone).data.cast::<KeySources>();
        if !old.is_null() && !(*pool).data.is_null() {
            // Reused by a reload: forget the URLs the new configuration no longer has.
            let shared = (*pool).data.cast::<Shared>();
            ngx_shmtx_lock(&mut (*pool).mutex);
            for entry in (*shared).entries.iter_mut().filter(|e| e.used) {
                if !sources.has(&entry.id) {
                    for old in [entry.body, entry.discovery, entry.error] {
                        if !old.is_null() {
                            ngx_slab_free_locked(pool, old.cast());
                        }
                    }
                    *entry = mem::zeroed();
                }
            }
            ngx_shmtx_unlock(&mut (*pool).mutex);
            (*zone).data = sources as *const KeySources as *mut c_void;
            return NGX_OK as ngx_int_t;
        }
        let shared = ngx_slab_alloc_locked(pool, mem::size_of::<Shared>()).cast::<Shared>();
        if shared.is_null() {
            return NGX_ERROR as ngx_int_t;
        }
        ptr::write_bytes(shared, 0, 1);
        (*pool).data = shared.cast();
        NGX_OK as ngx_int_t
    }
}
