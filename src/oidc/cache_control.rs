//! `auth_oidc_cache_control`: a response that a session admitted is kept out of shared caches
//! and revalidated by the browser, so that a page seen before a logout is not shown after it.

use core::ffi::{c_char, c_void};
use core::ptr;

use ngx::ffi::{ngx_command_t, ngx_conf_t, ngx_http_request_t, ngx_table_elt_t};

use super::headers::add_header;
use super::{OidcConf, OidcCtx};
use crate::directive::{self, args, done, DUPLICATE};
use crate::headers::response_has;
use crate::part::{LocPart, RequestPart};
use crate::text::str_bytes;

const VALUE: &[u8] = b"private, no-cache";

/// `auth_oidc_cache_control on | off`.
pub fn set_auth_oidc_cache_control(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    // SAFETY: nginx passes a valid configuration context; cmd.offset is this part's.
    let (cf, ocf) = unsafe { (&mut *cf, directive::part::<OidcConf>(c, cmd)) };
    if ocf.cache_control.is_some() {
        return DUPLICATE;
    }
    let result = directive::flag(str_bytes(&args(cf)[1]));
    done(
        cf,
        result.map(|on| {
            ocf.cache_control = Some(on);
        }),
    )
}

/// Before the response header goes out: a response of the main request that a session
/// admitted gets `Cache-Control: private, no-cache`, unless it has a `Cache-Control` already
/// or the location turned it off. `expires`, which runs after, replaces it.
pub fn header_filter(r: &mut ngx_http_request_t) -> Option<()> {
    if !ptr::eq(r, r.main) {
        return Some(());
    }
    let admitted = OidcCtx::of(r).is_some_and(|c| c.found.borrow().session.is_some());
    if !admitted || OidcConf::of(r).is_some_and(|c| c.cache_control == Some(false)) {
        return Some(());
    }
    if response_has(r, "Cache-Control") {
        return Some(());
    }
    let h = add_header(r, "Cache-Control", VALUE)?;
    set_cache_control(r, h)
}

/// Makes `h` the response's `Cache-Control`, where `expires` looks for it.
#[cfg(nginx_header_chains)]
fn set_cache_control(r: &mut ngx_http_request_t, h: *mut ngx_table_elt_t) -> Option<()> {
    // SAFETY: `h` is an element of headers_out.headers, made by add_header.
    unsafe { (*h).next = ptr::null_mut() };
    r.headers_out.cache_control = h;
    Some(())
}

/// Makes `h` the response's `Cache-Control`, where `expires` looks for it.
#[cfg(not(nginx_header_chains))]
fn set_cache_control(r: &mut ngx_http_request_t, h: *mut ngx_table_elt_t) -> Option<()> {
    use ngx::ffi::{ngx_array_push, ngx_palloc};
    let size = size_of::<*mut ngx_table_elt_t>();
    let pool = r.pool;
    let cc = &mut r.headers_out.cache_control;
    if cc.elts.is_null() {
        // SAFETY: the array is unused (no element): it gets room for one in the request's
        // pool, as ngx_array_init gives it.
        cc.elts = unsafe { ngx_palloc(pool, size) };
        if cc.elts.is_null() {
            return None;
        }
        (cc.nelts, cc.size, cc.nalloc, cc.pool) = (0, size, 1, pool);
    }
    // SAFETY: the array holds pointers to elements of headers_out.headers.
    let slot = unsafe { ngx_array_push(cc) }.cast::<*mut ngx_table_elt_t>();
    if slot.is_null() {
        return None;
    }
    // SAFETY: `slot` is the array's fresh element.
    unsafe { *slot = h };
    Some(())
}
