//! Only in builds with the `test-hooks` feature, never for production.
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

use crate::directive::{self, args, done, readable_path};
use crate::part::LocPart;
use crate::request;

/// The check of a location.
#[derive(Default)]
pub struct SignatureCheckConf {
    check: Option<Rc<SignatureOnly>>,
}

impl SignatureCheckConf {
    pub fn merge(&mut self, prev: &Self) {
        if self.check.is_none() {
            self.check.clone_from(&prev.check);
        }
    }
}

pub fn set_auth_rs_test_signature_check(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    // SAFETY: nginx passes a valid configuration context; cmd.offset is this part's.
    let (cf, scf) = unsafe { (&mut *cf, directive::part::<SignatureCheckConf>(conf, cmd)) };
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
        scf.check = Some(Rc::new(check));
        Ok(())
    })();
    done(cf, result)
}

pub extern "C" fn access_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    request::guard(
        r,
        "auth_rs_test_signature_check",
        |r| match SignatureCheckConf::of(r).and_then(|scf| scf.check.as_deref()) {
            Some(check) if !check.check() => NGX_HTTP_UNAUTHORIZED as ngx_int_t,
            _ => Status::NGX_DECLINED.into(),
        },
    )
}
