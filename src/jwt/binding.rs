//! `auth_jwt_dpop`, `auth_jwt_dpop_window` and `auth_jwt_mtls_binding`: sender-constrained
//! tokens (`crate::bearer` checks them).

use core::ffi::{c_char, c_void};
use std::rc::Rc;

use ngx::ffi::{ngx_command_t, ngx_conf_t};

use super::{conf, JwtConf, JwtMain};
use crate::bearer::{Binding, Dpop, Mtls};
use crate::directive::{self, args, done, DUPLICATE};
use crate::dpop::Replays;
use crate::part::MainPart;
use crate::text::str_bytes;

/// `auth_jwt_dpop off | on | required`.
pub fn set_auth_jwt_dpop(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    let (cf, jcf) = conf(cf, cmd, c);
    if jcf.dpop.is_some() {
        return DUPLICATE;
    }
    let result = (|| {
        let mode = Dpop::parse(str_bytes(&args(cf)[1]))?;
        if mode != Dpop::Off {
            let main = JwtMain::of(&*cf).ok_or("no main configuration")?;
            if main.dpop_replays.get().is_none() {
                let replays = Replays::add(cf).ok_or("cannot add the DPoP zone")?;
                main.dpop_replays.set(Some(replays));
            }
        }
        jcf.dpop = Some(mode);
        Ok(())
    })();
    done(cf, result)
}

/// `auth_jwt_dpop_window time`: how far a proof's `iat` may be from the clock.
pub fn set_auth_jwt_dpop_window(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    let (cf, jcf) = conf(cf, cmd, c);
    if jcf.dpop_window.is_some() {
        return DUPLICATE;
    }
    let value = str_bytes(&args(cf)[1]);
    let result = match directive::parse_seconds(value) {
        Some(seconds) if seconds > 0 => {
            jcf.dpop_window = Some(seconds);
            Ok(())
        }
        _ => Err(format!("invalid value \"{}\"", value.escape_ascii())),
    };
    done(cf, result)
}

/// `auth_jwt_mtls_binding on | off`.
pub fn set_auth_jwt_mtls_binding(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    let (cf, jcf) = conf(cf, cmd, c);
    if jcf.mtls_set {
        return DUPLICATE;
    }
    let result = (|| {
        jcf.mtls_set = true;
        if !directive::flag(str_bytes(&args(cf)[1]))? {
            return Ok(());
        }
        let mtls = Mtls::compile(cf)?;
        jcf.mtls = Some(Rc::new(mtls));
        Ok(())
    })();
    done(cf, result)
}

impl JwtConf {
    pub fn dpop(&self) -> Dpop {
        self.dpop.unwrap_or_default()
    }

    pub fn dpop_window(&self) -> u64 {
        self.dpop_window.unwrap_or(Binding::DEFAULT_WINDOW)
    }

    /// What binds this location's tokens to their senders.
    pub fn binding(&self, main: Option<&JwtMain>) -> Binding<'_> {
        Binding {
            dpop: self.dpop(),
            window: self.dpop_window(),
            replays: main.and_then(|m| m.dpop_replays.get()),
            mtls: self.mtls.as_deref(),
        }
    }
}
