//! Only in builds with the `test-hooks` feature, never for production.
//!
//! For t/panic.t, panics on demand at each place where nginx calls into the module, to show
//! that they stop there: a request asks with `X-Test-Panic: auth_jwt | auth_htpasswd | variable
//! | thread`; the directive `auth_rs_test_panic` panics while the configuration is read.

use core::ffi::{c_char, c_void};

use ngx::ffi::{ngx_command_t, ngx_conf_t, ngx_http_request_t};
use ngx::http::Request;

/// Whether the request asks for a panic at `point`.
pub fn asked(r: &ngx_http_request_t, point: &str) -> bool {
    let r = (r as *const ngx_http_request_t).cast_mut();
    // SAFETY: a live request; the headers are only read.
    let request = unsafe { Request::from_ngx_http_request(r) };
    request.headers_in_iterator().any(|(name, value)| {
        name.as_bytes().eq_ignore_ascii_case(b"x-test-panic")
            && value.as_bytes() == point.as_bytes()
    })
}

#[track_caller]
pub fn panic_if_asked(r: &ngx_http_request_t, point: &str) {
    if asked(r, point) {
        panic!("test hook: {point}");
    }
}

pub fn set_panic(
    _cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    _conf: *mut c_void,
) -> *mut c_char {
    panic!("test hook: directive");
}
