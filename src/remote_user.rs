//! `$remote_user` of a request that a token or a session admitted: the user that the first of
//! the module's sources names, else nginx's own value (the user of Basic credentials).

use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use ngx::core::Status;
use ngx::ffi::{
    ngx_conf_t, ngx_hash_key_t, ngx_http_get_variable_pt, ngx_http_request_t, ngx_http_variable_t,
    ngx_int_t, ngx_uint_t, ngx_variable_value_t, NGX_HTTP_VAR_NOCACHEABLE,
};
use ngx::http::{HttpModuleMainConf, NgxHttpCoreModule};

use crate::guard;
use crate::text::str_bytes;
use crate::variables::set;

/// Who admitted the request, in the order the module's face lists them.
pub type Source = fn(&ngx_http_request_t) -> Option<Vec<u8>>;

static SOURCES: OnceLock<&'static [Source]> = OnceLock::new();

/// nginx's own get handler of `$remote_user`.
static ORIGINAL: AtomicUsize = AtomicUsize::new(0);

static HANDLER: ngx_http_get_variable_pt = Some(remote_user_variable);

unsafe extern "C" fn remote_user_variable(
    r: *mut ngx_http_request_t,
    v: *mut ngx_variable_value_t,
    data: usize,
) -> ngx_int_t {
    // SAFETY: nginx passes a valid request.
    let request = unsafe { &mut *r };
    let sources = SOURCES.get().copied().unwrap_or_default();
    let user = guard::catch(|| sources.iter().find_map(|source| source(request)))
        .ok()
        .flatten();
    if let Some(user) = user {
        return set(request, v, Some(&user)).into();
    }

    let original = ORIGINAL.load(Ordering::Relaxed);
    if original == 0 {
        // SAFETY: as above.
        unsafe { (*v).set_not_found(1) };
        return Status::NGX_OK.into();
    }
    // SAFETY: the stored value is nginx's own get handler of $remote_user.
    let original: unsafe extern "C" fn(
        *mut ngx_http_request_t,
        *mut ngx_variable_value_t,
        usize,
    ) -> ngx_int_t = unsafe { core::mem::transmute(original) };
    // SAFETY: called exactly as nginx would call it.
    unsafe { original(r, v, data) }
}

/// Replaces the get handler of `$remote_user`: `sources` are asked in order, nginx's own
/// handler when none names a user.
pub fn take_over(cf: &mut ngx_conf_t, sources: &'static [Source]) {
    SOURCES.get_or_init(|| sources);
    let Some(cmcf) = NgxHttpCoreModule::main_conf_mut(cf) else {
        return;
    };
    if cmcf.variables_keys.is_null() {
        return;
    }
    // SAFETY: during configuration variables_keys holds the registered variables by name.
    let keys = unsafe {
        let keys = &(*cmcf.variables_keys).keys;
        core::slice::from_raw_parts(keys.elts.cast::<ngx_hash_key_t>(), keys.nelts)
    };
    for key in keys {
        if str_bytes(&key.key) == b"remote_user" {
            let var = key.value.cast::<ngx_http_variable_t>();
            // SAFETY: the value of a variables_keys entry is its ngx_http_variable_t.
            unsafe {
                let current = (*var).get_handler.map(|h| h as usize);
                if current.is_some() && current != HANDLER.map(|h| h as usize) {
                    ORIGINAL.store(current.unwrap_or(0), Ordering::Relaxed);
                    (*var).get_handler = HANDLER;
                    // Its value changes when the access phase admits a token.
                    (*var).flags |= NGX_HTTP_VAR_NOCACHEABLE as ngx_uint_t;
                }
            }
        }
    }
}
