//! The shared memory zone of `auth_jwt_key_url`: per URL, the last document fetched, its
//! fingerprint and times, and who is fetching now. One worker fetches for all; the others parse
//! the document when its fingerprint changes. The zone outlives reloads, so new workers start
//! with the keys the old ones had.

use core::ffi::c_void;
use core::mem;
use core::ptr;

use ngx::ffi::{
    ngx_conf_t, ngx_int_t, ngx_shm_zone_t, ngx_shmtx_lock, ngx_shmtx_unlock, ngx_slab_alloc_locked,
    ngx_slab_free_locked, ngx_slab_pool_t, ngx_str_t, NGX_ERROR, NGX_OK,
};
use ngx::ngx_string;

use crate::jwt::JwtMain;
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
    /// Adds the zone to the configuration; `main` tells its init which URLs are current.
    pub fn add(cf: &mut ngx_conf_t, size: usize, main: *const JwtMain) -> Option<Zone> {
        let mut name: ngx_str_t = ngx_string!("auth_jwt_key_url");
        let zone = shm::add(cf, &mut name, size);
        if zone.is_null() {
            return None;
        }
        // SAFETY: the zone was just added; nginx calls init when it is mapped.
        unsafe {
            (*zone).init = Some(init);
            (*zone).data = main.cast_mut().cast();
        }
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

    /// Replaces the document; false when the zone has no room (the old one stays).
    pub fn store(&mut self, slab: &Slab, body: &[u8], fingerprint: [u8; 32]) -> bool {
        // SAFETY: the lock is held (Slab exists only inside Zone::with).
        unsafe {
            let p = ngx_slab_alloc_locked(slab.0, body.len().max(1)).cast::<u8>();
            if p.is_null() {
                return false;
            }
            ptr::copy_nonoverlapping(body.as_ptr(), p, body.len());
            if !self.body.is_null() {
                ngx_slab_free_locked(slab.0, self.body.cast());
            }
            self.body = p;
        }
        self.body_len = body.len();
        self.fingerprint = fingerprint;
        true
    }
}

extern "C" fn init(zone: *mut ngx_shm_zone_t, old: *mut c_void) -> ngx_int_t {
    // SAFETY: nginx calls this once the zone is mapped, with the old configuration's data when
    // the zone is reused; zone.data is the JwtMain set in add().
    unsafe {
        let pool = (*zone).shm.addr.cast::<ngx_slab_pool_t>();
        let main = &*(*zone).data.cast::<JwtMain>();
        if !old.is_null() && !(*pool).data.is_null() {
            // Reused by a reload: forget the URLs the new configuration no longer has.
            let shared = (*pool).data.cast::<Shared>();
            ngx_shmtx_lock(&mut (*pool).mutex);
            for entry in (*shared).entries.iter_mut().filter(|e| e.used) {
                if !main
                    .key_urls
                    .borrow()
                    .iter()
                    .any(|k| k.zone_id() == &entry.id)
                {
                    if !entry.body.is_null() {
                        ngx_slab_free_locked(pool, entry.body.cast());
                    }
                    *entry = mem::zeroed();
                }
            }
            ngx_shmtx_unlock(&mut (*pool).mutex);
            (*zone).data = main as *const JwtMain as *mut c_void;
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
