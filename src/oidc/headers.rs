//! The headers auth_oidc reads and writes: request headers by name, cookies, `Set-Cookie` and
//! `Location`.

use core::ops::Deref;
use core::ptr;

use ngx::ffi::{ngx_http_request_t, ngx_list_push, ngx_str_t, ngx_table_elt_t};

use crate::headers::request_headers;
pub use crate::headers::{is_https, origin, request_header};
use crate::request::pool_str;
use crate::text::str_bytes;

/// The request's `Cookie` headers, as one.
pub enum Cookies {
    /// The only one: its value, where nginx keeps it for the request, not copied.
    One(ngx_str_t),
    Joined(Vec<u8>),
}

impl Deref for Cookies {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Cookies::One(value) => str_bytes(value),
            Cookies::Joined(value) => value,
        }
    }
}

/// Every `Cookie` header of the request, joined only when there are several.
pub fn cookies(r: &mut ngx_http_request_t) -> Cookies {
    let mut headers = request_headers(r, "Cookie");
    let Some(first) = headers.next() else {
        return Cookies::Joined(Vec::new());
    };
    let first = first.value;
    let Some(second) = headers.next() else {
        return Cookies::One(first);
    };
    let mut out = str_bytes(&first).to_vec();
    for h in core::iter::once(second).chain(headers) {
        out.extend_from_slice(b"; ");
        out.extend_from_slice(str_bytes(&h.value));
    }
    Cookies::Joined(out)
}

/// Rewrites every `Cookie` header without the cookies of `name` (see `cookie::strip`).
pub fn strip_cookies(r: &mut ngx_http_request_t, name: &str) -> Option<()> {
    let headers: Vec<*mut ngx_table_elt_t> =
        request_headers(r, "Cookie").map(ptr::from_mut).collect();
    for h in headers {
        // SAFETY: the elements of the request's header list live as long as the request.
        let h = unsafe { &mut *h };
        let stripped = auth_core::oidc::cookie::strip(str_bytes(&h.value), name);
        if stripped.len() != h.value.len {
            h.value = pool_str(r, &stripped)?;
        }
    }
    Some(())
}

/// Adds an output header.
pub fn add_header(
    r: &mut ngx_http_request_t,
    key: &'static str,
    value: &[u8],
) -> Option<*mut ngx_table_elt_t> {
    let value = pool_str(r, value)?;
    // SAFETY: headers_out.headers is the request's initialized output header list.
    let h = unsafe { ngx_list_push(&mut r.headers_out.headers) }.cast::<ngx_table_elt_t>();
    if h.is_null() {
        return None;
    }
    // SAFETY: `h` is a fresh list element; all-zero is a valid ngx_table_elt_t.
    unsafe {
        ptr::write_bytes(h, 0, 1);
        (*h).hash = 1;
        (*h).key = ngx_str_t {
            len: key.len(),
            data: key.as_ptr().cast_mut(),
        };
        (*h).value = value;
    }
    Some(h)
}

/// Sets `Location`; the caller answers 302.
pub fn set_location(r: &mut ngx_http_request_t, url: &[u8]) -> Option<()> {
    let h = add_header(r, "Location", url)?;
    r.headers_out.location = h;
    Some(())
}
