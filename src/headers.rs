//! Header lists: the request's headers by name, and whether the response has one; the
//! origin the client addressed.

use ngx::ffi::{ngx_http_request_t, ngx_list_part_t, ngx_list_t, ngx_table_elt_t};

use crate::text::str_bytes;

/// The elements of a list of headers, in order.
fn elements<'a>(list: &'a mut ngx_list_t) -> impl Iterator<Item = &'a mut ngx_table_elt_t> + 'a {
    let mut part: *mut ngx_list_part_t = &mut list.part;
    let mut i = 0;
    core::iter::from_fn(move || {
        // SAFETY: a header list of nginx: each part holds nelts initialized elements, and the
        // list is borrowed, so not changed, while this iterates.
        unsafe {
            while i >= (*part).nelts {
                if (*part).next.is_null() {
                    return None;
                }
                part = (*part).next;
                i = 0;
            }
            let h = &mut *(*part).elts.cast::<ngx_table_elt_t>().add(i);
            i += 1;
            Some(h)
        }
    })
}

/// The request headers named `name` (case-insensitive), in order.
pub fn request_headers<'a>(
    r: &'a mut ngx_http_request_t,
    name: &'a str,
) -> impl Iterator<Item = &'a mut ngx_table_elt_t> + 'a {
    elements(&mut r.headers_in.headers)
        .filter(move |h| str_bytes(&h.key).eq_ignore_ascii_case(name.as_bytes()))
}

/// The first request header `name`.
pub fn request_header(r: &mut ngx_http_request_t, name: &str) -> Option<Vec<u8>> {
    request_headers(r, name)
        .next()
        .map(|h| str_bytes(&h.value).to_vec())
}

/// Whether the response has a header `name` that no module has cleared.
pub fn response_has(r: &mut ngx_http_request_t, name: &str) -> bool {
    elements(&mut r.headers_out.headers)
        .any(|h| h.hash != 0 && str_bytes(&h.key).eq_ignore_ascii_case(name.as_bytes()))
}

/// The request came over TLS.
pub fn is_https(r: &ngx_http_request_t) -> bool {
    // SAFETY: a request's connection lives as long as the request.
    !unsafe { (*r.connection).ssl }.is_null()
}

/// `scheme://host[:port]` as the client addressed this server: for URIs given to the provider.
pub fn origin(r: &mut ngx_http_request_t) -> String {
    let scheme = if is_https(r) { "https" } else { "http" };
    let host = match request_header(r, "Host") {
        Some(host) if !host.is_empty() => host,
        _ => str_bytes(&r.headers_in.server).to_vec(),
    };
    format!("{scheme}://{}", String::from_utf8_lossy(&host))
}
