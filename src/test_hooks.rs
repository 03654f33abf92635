//! Only in builds with the `test-hooks` feature, never for production.
//!
//! For t/panic.t, panics on demand at each place where nginx calls into the module, to show
//! that they stop there: a request asks with `X-Test-Panic: auth_jwt | auth_htpasswd | variable
//! | thread`; the directive `auth_rs_test_panic` panics while the configuration is read.
//!
//! For scripts/bench, `auth_rs_test_signature_check TOKEN_FILE KEY_FILE` makes each request of
//! its location run the signature check of the token of TOKEN_FILE with its key from KEY_FILE,
//! and nothing else (the request's own headers are not looked at): the crypto as the worker runs
//! it, to measure `auth_jwt` against in the same conditions.

use core::ffi::{c_char, c_void};
use std::rc::Rc;

use auth_core::jwt::SignatureOnly;
use ngx::core::Status;
use ngx::ffi::{ngx_command_t, ngx_conf_t, ngx_http_request_t, ngx_int_t, NGX_HTTP_UNAUTHORIZED};
use ngx::http::{HttpModuleLocationConf, Request};

use crate::conf::{args, done, readable_path, LocConf, Module};

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

pub fn set_signature_check(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    // SAFETY: nginx passes a valid configuration context and this module's LocConf.
    let (cf, lcf) = unsafe { (&mut *cf, &mut *conf.cast::<LocConf>()) };
    let result = (|| {
        let a = args(cf);
        let read = |cf: &mut ngx_conf_t, arg| -> Result<Vec<u8>, String> {
            let path = readable_path(cf, arg)?;
            let os = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&path);
            std::fs::read(os).map_err(|err| format!("\"{}\": {err}", path.escape_ascii()))
        };
        let (token, keys) = (read(cf, &a[1])?, read(cf, &a[2])?);
        let keys = auth_core::keys::load(&keys, None).map_err(|err| err.to_string())?;
        let check = SignatureOnly::new(&token, &keys.keys).map_err(|err| err.to_string())?;
        lcf.test_signature_check = Some(Rc::new(check));
        Ok(())
    })();
    done(cf, result)
}

pub extern "C" fn signature_check_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    crate::request::guard(
        r,
        "auth_rs_test_signature_check",
        |r| match Module::location_conf(r).and_then(|lcf| lcf.test_signature_check.as_deref()) {
            Some(check) if !check.check() => NGX_HTTP_UNAUTHORIZED as ngx_int_t,
            _ => Status::NGX_DECLINED.into(),
        },
    )
}
