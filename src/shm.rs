//! The module's shared memory zones.

use core::ffi::c_void;
use core::ptr;

use ngx::ffi::{ngx_conf_t, ngx_shared_memory_add, ngx_shm_zone_t, ngx_str_t};

/// What marks a zone as the module's: a new configuration finds the zone of the old one with
/// it (the module's library stays loaded across a reload, and its address with it), and a zone
/// of the same name that another module declared is refused.
static TAG: u8 = 0;

/// Declares the zone `name` of `size` bytes; null when nginx refused it (it said why).
pub fn add(cf: &mut ngx_conf_t, name: &mut ngx_str_t, size: usize) -> *mut ngx_shm_zone_t {
    // SAFETY: cf is the configuration being read; nginx copies nothing of name but its bytes,
    // which the caller keeps for the configuration's life.
    unsafe {
        ngx_shared_memory_add(
            cf,
            name,
            size,
            ptr::addr_of!(TAG).cast_mut().cast::<c_void>(),
        )
    }
}
