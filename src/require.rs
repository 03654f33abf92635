//! `auth_require $value ... [error=4xx|5xx]` (NGINX Plus's ngx_http_auth_require_module): the
//! request goes on only when each value is non-empty and not "0", otherwise it gets the
//! directive's status (403 by default). It runs in the precontent phase, after every access
//! check, so that the values of auth_oidc, auth_jwt or auth_request are known, and it holds
//! under `satisfy any` as well.

use core::ffi::{c_char, c_void};
use std::rc::Rc;

use ngx::core::Status;
use ngx::ffi::{
    ngx_command_t, ngx_conf_t, ngx_http_request_t, ngx_int_t, NGX_HTTP_FORBIDDEN,
    NGX_HTTP_INTERNAL_SERVER_ERROR, NGX_LOG_INFO,
};

use crate::directive::{self, args, done};
use crate::part::LocPart;
use crate::request;
use crate::requirement::Require;
use crate::text::str_bytes;

/// `auth_require` of a location: `None` not set here, `Some(None)` off.
#[derive(Default)]
pub struct RequireConf {
    requires: Option<Option<Rc<Vec<Require>>>>,
}

impl RequireConf {
    pub fn merge(&mut self, prev: &RequireConf) {
        if self.requires.is_none() {
            self.requires = prev.requires.clone();
        }
    }
}

pub fn set_auth_require(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    // SAFETY: nginx passes a valid configuration context; cmd.offset is this part's.
    let (cf, rcf) = unsafe { (&mut *cf, directive::part::<RequireConf>(c, cmd)) };
    let result = (|| {
        if args(cf).len() == 2 && str_bytes(&args(cf)[1]) == b"off" {
            if rcf.requires.is_some() {
                return Err("is duplicate".to_owned());
            }
            rcf.requires = Some(None);
            return Ok(());
        }
        let require = Require::parse(cf, NGX_HTTP_FORBIDDEN, |code| {
            core::str::from_utf8(code)
                .ok()
                .and_then(|c| c.parse::<u32>().ok())
                .filter(|c| (400..=599).contains(c))
                .ok_or_else(|| "error= must be a 4xx or 5xx code".to_owned())
        })?;
        match &mut rcf.requires {
            Some(None) => return Err("is duplicate: \"auth_require off\" is set".to_owned()),
            Some(Some(requires)) => Rc::get_mut(requires)
                .ok_or("requirements are shared")?
                .push(require),
            None => rcf.requires = Some(Some(Rc::new(vec![require]))),
        }
        Ok(())
    })();
    done(cf, result)
}

pub extern "C" fn precontent_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    request::guard(r, "auth_require", handle)
}

fn handle(r: &mut ngx_http_request_t) -> ngx_int_t {
    // As access checks, only the main request is judged.
    if !core::ptr::eq(r.main, r) {
        return Status::NGX_DECLINED.into();
    }
    let Some(requires) = RequireConf::of(r).and_then(|rcf| match &rcf.requires {
        Some(Some(requires)) => Some(requires.clone()),
        _ => None,
    }) else {
        return Status::NGX_DECLINED.into();
    };
    for require in requires.iter() {
        match require.holds(r) {
            Ok(true) => {}
            Ok(false) => {
                request::log(r).error(
                    NGX_LOG_INFO,
                    0,
                    format_args!("auth_require: access refused: a value is empty or \"0\""),
                );
                return require.status as ngx_int_t;
            }
            Err(()) => return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t,
        }
    }
    Status::NGX_DECLINED.into()
}
