//! Sender-constrained tokens: `auth_jwt_dpop` (RFC 9449), a token bound to a key whose holder
//! signs a proof for each request, and `auth_jwt_mtls_binding` (RFC 8705), a token bound to the
//! client certificate of the connection. A bound token is refused wherever its binding cannot be
//! checked, so a stolen one is useless.

use core::ffi::{c_char, c_void};

use auth_core::dpop::{bound_key, DEFAULT_WINDOW};
use auth_core::jwt::{JwtError, Verified};
use auth_core::mtls::{bound_certificate, certificate_thumbprint};
use ngx::ffi::{
    ngx_command_t, ngx_conf_t, ngx_http_complex_value_t, ngx_http_request_t, ngx_str_t,
};
use ngx::ngx_string;

use super::{conf, JwtConf, JwtMain};
use crate::directive::{self, args, compile_complex_value, done, DUPLICATE};
use crate::dpop::{self, Replays};
use crate::part::MainPart;
use crate::request::complex_value;
use crate::text::str_bytes;

/// `auth_jwt_dpop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dpop {
    #[default]
    Off,
    /// `DPoP` tokens with a proof, and `Bearer` tokens that are not bound to a key.
    On,
    /// `DPoP` tokens only.
    Required,
}

/// How the request presented its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Bearer,
    Dpop,
}

/// `auth_jwt_mtls_binding on`: the variables that tell the client certificate.
pub struct Mtls {
    verify: *mut ngx_http_complex_value_t,
    certificate: *mut ngx_http_complex_value_t,
}

/// The token of `Authorization: Bearer <token>`, or of `Authorization: DPoP <token>` where
/// DPoP is accepted (schemes without case); an empty string for anything else.
pub fn presented(r: &ngx_http_request_t, dpop: Dpop) -> (ngx_str_t, Scheme) {
    let header = r.headers_in.authorization;
    let none = (ngx_str_t::default(), Scheme::Bearer);
    if header.is_null() {
        return none;
    }
    // SAFETY: a non-null header points to an element of the request's header list.
    let value = str_bytes(unsafe { &(*header).value });
    let Some(space) = value.iter().position(|&c| c == b' ') else {
        return none;
    };
    let scheme = match &value[..space] {
        s if s.eq_ignore_ascii_case(b"bearer") => Scheme::Bearer,
        s if s.eq_ignore_ascii_case(b"dpop") && dpop != Dpop::Off => Scheme::Dpop,
        _ => return none,
    };
    let token = value[space..].trim_ascii();
    let token = ngx_str_t {
        len: token.len(),
        data: token.as_ptr().cast_mut(),
    };
    (token, scheme)
}

/// Checks what binds the token to its sender, as it was presented.
pub fn check(
    r: &mut ngx_http_request_t,
    jcf: &JwtConf,
    verified: &Verified,
    scheme: Scheme,
    token: &[u8],
    now: i64,
) -> Result<(), JwtError> {
    let claims = verified.claims();
    match (scheme, bound_key(claims)) {
        (Scheme::Dpop, Some(Ok(jkt))) => {
            let replays = JwtMain::of(r).and_then(|main| main.dpop_replays.get());
            dpop::check(r, token, jkt, jcf.dpop_window(), replays, now).map_err(JwtError::Proof)?;
        }
        (_, Some(Err(()))) => return Err(JwtError::Binding("cnf.jkt is not a string")),
        (Scheme::Dpop, None) => {
            return Err(JwtError::Binding("a DPoP token that is not bound to a key"))
        }
        (Scheme::Bearer, Some(Ok(_))) => {
            return Err(JwtError::Binding(
                "a token bound to a DPoP key sent as Bearer",
            ))
        }
        (Scheme::Bearer, None) if jcf.dpop() == Dpop::Required => {
            return Err(JwtError::Binding("a Bearer token where DPoP is required"))
        }
        (Scheme::Bearer, None) => {}
    }

    let Some(mtls) = jcf.mtls.as_deref() else {
        return Ok(());
    };
    let Some(bound) = bound_certificate(claims) else {
        return Ok(());
    };
    let bound = bound.map_err(|()| JwtError::Binding("cnf.x5t#S256 is not a string"))?;
    let verified_certificate = complex_value(r, mtls.verify)
        .filter(|v| str_bytes(v) == b"SUCCESS")
        .and_then(|_| complex_value(r, mtls.certificate))
        .and_then(|pem| certificate_thumbprint(str_bytes(&pem)));
    match verified_certificate {
        None => Err(JwtError::Binding(
            "a token bound to a certificate, without a verified client certificate",
        )),
        Some(thumbprint) if thumbprint != bound => Err(JwtError::Binding(
            "a token bound to another client certificate",
        )),
        Some(_) => Ok(()),
    }
}

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
        let mode = match str_bytes(&args(cf)[1]) {
            b"off" => Dpop::Off,
            b"on" => Dpop::On,
            b"required" => Dpop::Required,
            other => {
                return Err(format!(
                    "invalid value \"{}\"; it must be \"off\", \"on\" or \"required\"",
                    other.escape_ascii()
                ))
            }
        };
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
        let verify: ngx_str_t = ngx_string!("$ssl_client_verify");
        let certificate: ngx_str_t = ngx_string!("$ssl_client_raw_cert");
        let mtls = Mtls {
            verify: compile_complex_value(cf, verify, false).ok_or("needs nginx's ssl module")?,
            certificate: compile_complex_value(cf, certificate, false)
                .ok_or("needs nginx's ssl module")?,
        };
        jcf.mtls = Some(std::rc::Rc::new(mtls));
        Ok(())
    })();
    done(cf, result)
}

impl JwtConf {
    pub fn dpop(&self) -> Dpop {
        self.dpop.unwrap_or_default()
    }

    pub fn dpop_window(&self) -> u64 {
        self.dpop_window.unwrap_or(DEFAULT_WINDOW)
    }
}
