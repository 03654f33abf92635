//! The module's shared memory zones.

use core::ffi::c_void;
use core::mem;
use core::ptr;

use ngx::ffi::{
    ngx_conf_t, ngx_int_t, ngx_shared_memory_add, ngx_shm_zone_init_pt, ngx_shm_zone_t,
    ngx_slab_alloc_locked, ngx_slab_pool_t, ngx_str_t, NGX_ERROR, NGX_OK,
};

/// What marks a zone as the module's: a new configuration finds the zone of the old one with
/// it (the module's library stays loaded across a reload, and its address with it), and a zone
/// of the same name that another module declared is refused.
static TAG: u8 = 0;

/// Declares the zone `name` of `size` bytes, which `init`, if any, sets up once mapped; null
/// when nginx refused it (it said why).
pub fn add(
    cf: &mut ngx_conf_t,
    name: &mut ngx_str_t,
    size: usize,
    init: ngx_shm_zone_init_pt,
) -> *mut ngx_shm_zone_t {
    // SAFETY: cf is the configuration being read; nginx copies nothing of name but its bytes,
    // which the caller keeps for the configuration's life.
    let zone = unsafe {
        ngx_shared_memory_add(
            cf,
            name,
            size,
            ptr::addr_of!(TAG).cast_mut().cast::<c_void>(),
        )
    };
    if !zone.is_null() && init.is_some() {
        // SAFETY: the zone was just added; nginx calls init when it maps it.
        unsafe { (*zone).init = init };
    }
    zone
}

/// An `init` for a zone that holds one `T`, all zeroes at first, kept across reloads: a zone
/// reused by a new configuration keeps what the old one had.
pub extern "C" fn init_zeroed<T>(zone: *mut ngx_shm_zone_t, old: *mut c_void) -> ngx_int_t {
    // SAFETY: nginx calls this once the zone is mapped; its memory is a slab pool.
    unsafe {
        let pool = (*zone).shm.addr.cast::<ngx_slab_pool_t>();
        if !old.is_null() && !(*pool).data.is_null() {
            (*zone).data = (*pool).data;
            return NGX_OK as ngx_int_t;
        }
        let data = ngx_slab_alloc_locked(pool, mem::size_of::<T>());
        if data.is_null() {
            return NGX_ERROR as ngx_int_t;
        }
        ptr::write_bytes(data.cast::<u8>(), 0, mem::size_of::<T>());
        (*pool).data = data;
        (*zone).data = data;
        NGX_OK as ngx_int_t
    }
}

/// The slab pool of a zone set up by `init_zeroed::<T>`, and its `T`; `None` before nginx
/// mapped it.
pub fn zeroed<T>(zone: *mut ngx_shm_zone_t) -> Option<(*mut ngx_slab_pool_t, *mut T)> {
    // SAFETY: once nginx has mapped the zone, shm.addr is its slab pool, whose data is the T
    // that init_zeroed put there.
    unsafe {
        let pool = (*zone).shm.addr.cast::<ngx_slab_pool_t>();
        if pool.is_null() || (*pool).data.is_null() {
            return None;
        }
        Some((pool, (*pool).data.cast()))
    }
}
