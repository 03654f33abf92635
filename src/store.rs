//! Values kept in shared memory for all workers, by a 32-byte key, until a time: the sessions
//! of `oidc_session_zone`, the answers of `auth_jwt_introspection`. A full zone drops the
//! values that ended, then the least recently used ones. A key may also be leased without a
//! value, so that one worker fetches it while the others wait.

use core::ffi::c_void;
use core::mem;
use core::ptr;

use ngx::ffi::{
    ngx_conf_t, ngx_int_t, ngx_shm_zone_t, ngx_shmtx_lock, ngx_shmtx_unlock, ngx_slab_alloc_locked,
    ngx_slab_free_locked, ngx_slab_pool_t, ngx_str_t, NGX_ERROR, NGX_OK,
};

use crate::shm;

/// Places a value may take after its key's.
const PROBES: usize = 16;
/// Values dropped at most to make room for one.
const MAX_EVICTIONS: usize = 64;

#[repr(C)]
struct Place {
    key: [u8; 32],
    /// When the value ends; 0: free. A place with a time and no value is a lease.
    until: i64,
    used_at: i64,
    value: *mut u8,
    len: usize,
}

#[repr(C)]
struct Shared {
    capacity: usize,
    places: *mut Place,
}

/// One zone of values.
pub struct Store {
    pub name: String,
    zone: *mut ngx_shm_zone_t,
}

extern "C" fn init<const BYTES_PER_PLACE: usize>(
    zone: *mut ngx_shm_zone_t,
    old: *mut c_void,
) -> ngx_int_t {
    // SAFETY: nginx calls this once the zone is mapped; a zone kept over a reload keeps its
    // values.
    unsafe {
        let pool = (*zone).shm.addr.cast::<ngx_slab_pool_t>();
        if !old.is_null() && !(*pool).data.is_null() {
            return NGX_OK as ngx_int_t;
        }
        // A full zone is handled by dropping values, not worth a [crit] line.
        (*pool).set_log_nomem(0);
        let capacity = ((*zone).shm.size / BYTES_PER_PLACE).max(PROBES);
        let shared = ngx_slab_alloc_locked(pool, mem::size_of::<Shared>()).cast::<Shared>();
        let places = ngx_slab_alloc_locked(pool, capacity * mem::size_of::<Place>());
        if shared.is_null() || places.is_null() {
            return NGX_ERROR as ngx_int_t;
        }
        ptr::write_bytes(places.cast::<u8>(), 0, capacity * mem::size_of::<Place>());
        shared.write(Shared {
            capacity,
            places: places.cast(),
        });
        (*pool).data = shared.cast();
        NGX_OK as ngx_int_t
    }
}

/// The zone, locked while it lives.
struct Locked {
    pool: *mut ngx_slab_pool_t,
    shared: *mut Shared,
}

impl Drop for Locked {
    fn drop(&mut self) {
        // SAFETY: locked by Store::lock.
        unsafe { ngx_shmtx_unlock(&mut (*self.pool).mutex) };
    }
}

impl Locked {
    fn places(&self) -> &[Place] {
        // SAFETY: init allocated `capacity` places; the lock is held.
        unsafe {
            let shared = &*self.shared;
            core::slice::from_raw_parts(shared.places, shared.capacity)
        }
    }

    fn places_mut(&mut self) -> &mut [Place] {
        // SAFETY: as above, and `self` is borrowed mutably.
        unsafe {
            let shared = &*self.shared;
            core::slice::from_raw_parts_mut(shared.places, shared.capacity)
        }
    }

    /// The places that `key` may take.
    fn window(&self, key: &[u8; 32]) -> Vec<usize> {
        let capacity = self.places().len();
        let home = u64::from_le_bytes(key[..8].try_into().unwrap_or_default()) as usize;
        (0..PROBES).map(|i| (home + i) % capacity).collect()
    }

    fn free(&mut self, at: usize) {
        let pool = self.pool;
        let place = &mut self.places_mut()[at];
        if !place.value.is_null() {
            // SAFETY: the lock is held; the value was allocated from this pool.
            unsafe { ngx_slab_free_locked(pool, place.value.cast()) };
        }
        *place = Place {
            key: [0; 32],
            until: 0,
            used_at: 0,
            value: ptr::null_mut(),
            len: 0,
        };
    }

    fn alloc(&mut self, len: usize) -> *mut u8 {
        // SAFETY: the lock is held.
        unsafe { ngx_slab_alloc_locked(self.pool, len.max(1)).cast() }
    }
}

impl Store {
    /// Declares the zone `name` (bytes the configuration keeps) of `size` bytes, with an index
    /// place per `BYTES_PER_PLACE` bytes; an error when another directive uses the name.
    pub fn add<const BYTES_PER_PLACE: usize>(
        cf: &mut ngx_conf_t,
        name: ngx_str_t,
        size: usize,
    ) -> Result<Store, String> {
        Self::declare::<BYTES_PER_PLACE>(cf, name, size, false)
    }

    /// The zone `name` of the module's own, which several parts of the configuration may
    /// declare alike and share.
    pub fn shared<const BYTES_PER_PLACE: usize>(
        cf: &mut ngx_conf_t,
        name: ngx_str_t,
        size: usize,
    ) -> Result<Store, String> {
        Self::declare::<BYTES_PER_PLACE>(cf, name, size, true)
    }

    fn declare<const BYTES_PER_PLACE: usize>(
        cf: &mut ngx_conf_t,
        mut name: ngx_str_t,
        size: usize,
        shared: bool,
    ) -> Result<Store, String> {
        let shown = String::from_utf8_lossy(crate::text::str_bytes(&name)).into_owned();
        let zone = shm::add(cf, &mut name, size, None);
        if zone.is_null() {
            return Err("cannot add the zone".to_owned());
        }
        // SAFETY: the zone was just added; nginx calls init when it is mapped.
        unsafe {
            if shared && (*zone).data == zone.cast() {
                return Ok(Store { name: shown, zone });
            }
            if !(*zone).data.is_null() {
                return Err(format!(
                    "zone \"{shown}\" is already used by another directive"
                ));
            }
            (*zone).init = Some(init::<BYTES_PER_PLACE>);
            (*zone).data = zone.cast();
        }
        Ok(Store { name: shown, zone })
    }

    fn lock(&self) -> Option<Locked> {
        // SAFETY: once nginx has mapped the zone, shm.addr is its slab pool, whose data is the
        // Shared that init put there.
        unsafe {
            let zone = self.zone;
            let pool = (*zone).shm.addr.cast::<ngx_slab_pool_t>();
            if pool.is_null() || (*pool).data.is_null() {
                return None;
            }
            ngx_shmtx_lock(&mut (*pool).mutex);
            Some(Locked {
                pool,
                shared: (*pool).data.cast(),
            })
        }
    }

    /// The value of `key`, if it has not ended.
    pub fn get(&self, key: &[u8; 32], now: i64) -> Option<Vec<u8>> {
        let mut z = self.lock()?;
        let at = z.window(key).into_iter().find(|&i| {
            let place = &z.places()[i];
            place.until > now && &place.key == key && !place.value.is_null()
        })?;
        let place = &mut z.places_mut()[at];
        place.used_at = now;
        // SAFETY: value holds len bytes written by put().
        Some(unsafe { core::slice::from_raw_parts(place.value, place.len) }.to_vec())
    }

    /// Leases `key` until `until`, unless another lease that has not ended holds it: true when
    /// this caller has the lease, and fetches the value for all. A value it has is dropped: the
    /// caller found it too old.
    pub fn lease(&self, key: &[u8; 32], until: i64, now: i64) -> bool {
        let Some(mut z) = self.lock() else {
            return false;
        };
        let window = z.window(key);
        if window.iter().any(|&i| {
            let place = &z.places()[i];
            &place.key == key && place.until > now && place.value.is_null()
        }) {
            return false;
        }
        let at = window
            .iter()
            .copied()
            .find(|&i| &z.places()[i].key == key || z.places()[i].until <= now)
            .or_else(|| {
                window
                    .iter()
                    .copied()
                    .min_by_key(|&i| z.places()[i].used_at)
            });
        let Some(at) = at else {
            return false;
        };
        z.free(at);
        let place = &mut z.places_mut()[at];
        place.key = *key;
        place.until = until;
        place.used_at = now;
        true
    }

    /// Keeps `value` (not empty) for `key` until `until`, in place of its lease if it has one;
    /// how many other values were dropped for room, or `None` when there is none.
    pub fn put(&self, key: &[u8; 32], value: &[u8], until: i64, now: i64) -> Option<usize> {
        let mut z = self.lock()?;
        let window = z.window(key);
        let mut dropped = 0;
        let at = match window.iter().copied().find(|&i| &z.places()[i].key == key) {
            Some(at) => at,
            None => match window.iter().copied().find(|&i| z.places()[i].until <= now) {
                Some(at) => at,
                None => {
                    let lru = window
                        .iter()
                        .copied()
                        .min_by_key(|&i| z.places()[i].used_at)?;
                    dropped += 1;
                    lru
                }
            },
        };
        z.free(at);
        let mut p = z.alloc(value.len());
        if p.is_null() {
            let ended: Vec<usize> = (0..z.places().len())
                .filter(|&i| z.places()[i].until != 0 && z.places()[i].until <= now)
                .collect();
            for i in ended {
                z.free(i);
            }
            p = z.alloc(value.len());
        }
        while p.is_null() && dropped < MAX_EVICTIONS {
            let lru = (0..z.places().len())
                .filter(|&i| z.places()[i].until != 0)
                .min_by_key(|&i| z.places()[i].used_at)?;
            z.free(lru);
            dropped += 1;
            p = z.alloc(value.len());
        }
        if p.is_null() {
            return None;
        }
        // SAFETY: p has room for value.
        unsafe { ptr::copy_nonoverlapping(value.as_ptr(), p, value.len()) };
        z.places_mut()[at] = Place {
            key: *key,
            until,
            used_at: now,
            value: p,
            len: value.len(),
        };
        Some(dropped)
    }

    /// Forgets the value or lease of `key`.
    pub fn remove(&self, key: &[u8; 32]) {
        let Some(mut z) = self.lock() else {
            return;
        };
        let window = z.window(key);
        if let Some(at) = window.into_iter().find(|&i| &z.places()[i].key == key) {
            z.free(at);
        }
    }
}
