//! `auth_require $value ... [error=4xx|5xx]` (NGINX Plus's ngx_http_auth_require_module): the
//! request goes on only when each value is non-empty and not "0", otherwise it gets the
//! directive's status (403 by default). It runs in the precontent phase, after every access
//! check, so that the values of auth_oidc, auth_jwt or auth_request are known, and it holds
//! under `satisfy any` as well.

use core::ffi::{c_char, c_void};
use std::rc::Rc;

use ngx::core::Status;
use ngx::ffi::{
    ngx_command_t, ngx_conf_t, ngx_http_complex_value_t, ngx_http_request_t, ngx_int_t,
    NGX_HTTP_FORBIDDEN, NGX_HTTP_INTERNAL_SERVER_ERROR, NGX_LOG_INFO,
};
use ngx::http::HttpModuleLocationConf;

use crate::conf::{args, compile_complex_value, done, str_bytes, LocConf, Module};
use crate::request::{self, complex_value};

/// Values that must all be non-empty and not "0", and the status when one is not.
pub struct Require {
    pub values: Vec<*mut ngx_http_complex_value_t>,
    pub status: u32,
}

impl Require {
    /// Parses the directive's arguments: values with variables, and a last `error=` that
    /// `status` accepts (else `default`).
    pub fn parse(
        cf: &mut ngx_conf_t,
        default: u32,
        status: impl Fn(&[u8]) -> Result<u32, String>,
    ) -> Result<Require, String> {
        let count = args(cf).len();
        let mut code = default;
        let mut last = count;
        if let Some(error) = str_bytes(&args(cf)[count - 1]).strip_prefix(b"error=") {
            code = status(error)?;
            last -= 1;
        }
        if last < 2 {
            return Err("no value to require".to_owned());
        }
        let values = (1..last)
            .map(|i| {
                let arg = args(cf)[i];
                let cv = compile_complex_value(cf, arg, false)
                    .ok_or_else(|| "invalid value".to_owned())?;
                // SAFETY: compile_complex_value returned an initialized complex value.
                if unsafe { (*cv).lengths.is_null() } {
                    return Err(format!(
                        "\"{}\" has no variables: it would decide the same for every request",
                        str_bytes(&arg).escape_ascii()
                    ));
                }
                Ok(cv)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Require {
            values,
            status: code,
        })
    }

    /// Whether every value holds for `r`; `Err` when one cannot be evaluated.
    pub fn holds(&self, r: &mut ngx_http_request_t) -> Result<bool, ()> {
        for &value in &self.values {
            let value = complex_value(r, value).ok_or(())?;
            let value = str_bytes(&value);
            if value.is_empty() || value == b"0" {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

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

pub fn set_auth_require(cf: *mut ngx_conf_t, _: *mut ngx_command_t, c: *mut c_void) -> *mut c_char {
    // SAFETY: nginx passes a valid configuration context and this module's LocConf.
    let (cf, lcf) = unsafe { (&mut *cf, &mut *c.cast::<LocConf>()) };
    let result = (|| {
        if args(cf).len() == 2 && str_bytes(&args(cf)[1]) == b"off" {
            if lcf.require.requires.is_some() {
                return Err("is duplicate".to_owned());
            }
            lcf.require.requires = Some(None);
            return Ok(());
        }
        let require = Require::parse(cf, NGX_HTTP_FORBIDDEN, |code| {
            core::str::from_utf8(code)
                .ok()
                .and_then(|c| c.parse::<u32>().ok())
                .filter(|c| (400..=599).contains(c))
                .ok_or_else(|| "error= must be a 4xx or 5xx code".to_owned())
        })?;
        match &mut lcf.require.requires {
            Some(None) => return Err("is duplicate: \"auth_require off\" is set".to_owned()),
            Some(Some(requires)) => Rc::get_mut(requires)
                .ok_or("requirements are shared")?
                .push(require),
            None => lcf.require.requires = Some(Some(Rc::new(vec![require]))),
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
    let Some(requires) = Module::location_conf(r).and_then(|l| match &l.require.requires {
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
