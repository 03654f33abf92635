//! `$jwt_claim_*`, `$jwt_header_*`, `$jwt_payload`, `$jwt_error`, variables made by
//! `auth_jwt_claim_set`/`auth_jwt_header_set`, and `$remote_user` for JWT-authenticated requests.
//!
//! The verdict lives with the main request and survives internal redirects (`error_page 401 =
//! @login`); nothing is visible before the access phase has verified a token.

use core::sync::atomic::{AtomicUsize, Ordering};

use auth_core::jwt::{value_text, Verified};
use ngx::core::Status;
use ngx::ffi::{
    ngx_conf_t, ngx_hash_key_t, ngx_http_add_variable, ngx_http_get_variable_pt,
    ngx_http_request_t, ngx_http_variable_t, ngx_int_t, ngx_log_t, ngx_str_t, ngx_uint_t,
    ngx_variable_value_t, NGX_HTTP_VAR_NOCACHEABLE, NGX_HTTP_VAR_PREFIX, NGX_LOG_ALERT,
};
use ngx::http::Request;
use ngx::http::{HttpModuleMainConf, NgxHttpCoreModule};
use ngx::{http_variable_get, ngx_string};
use serde_json::Value;

use crate::conf::str_bytes;
use crate::ctx;
use crate::guard;
use crate::log::Sink;
use crate::request::pool_str;

/// Runs `f` on the token auth_jwt verified for this request, if it did.
fn with_verified<T>(r: &ngx_http_request_t, f: impl FnOnce(&Verified) -> Option<T>) -> Option<T> {
    let ctx = ctx::get(r)?;
    let verdict = ctx.jwt.borrow();
    f(verdict.as_ref()?.as_ref().ok()?)
}

/// Runs a variable's get handler; a panic makes the variable fail instead of the worker.
pub(crate) fn guard(log: *mut ngx_log_t, handler: impl FnOnce() -> Status) -> Status {
    guard::catch(handler).unwrap_or_else(|panic| {
        Sink::Log(log).error(
            NGX_LOG_ALERT,
            0,
            format_args!("internal error in an auth_jwt variable: {panic}"),
        );
        Status::NGX_ERROR
    })
}

/// Sets `v` to `bytes` (copied to the request pool) or marks it not found. Control characters,
/// which JSON strings may carry, are written as `\xHH`: a claim must not be able to split a
/// header that `proxy_set_header` builds from it.
pub(crate) fn set(
    r: &mut ngx_http_request_t,
    v: *mut ngx_variable_value_t,
    bytes: Option<&[u8]>,
) -> Status {
    // SAFETY: nginx passes a valid variable value to fill in.
    let v = unsafe { &mut *v };
    match bytes {
        Some(bytes) => {
            let escaped;
            let bytes = if bytes.iter().any(|&c| c < 0x20 || c == 0x7f) {
                escaped = escape_controls(bytes);
                &escaped[..]
            } else {
                bytes
            };
            let Some(s) = pool_str(r, bytes) else {
                return Status::NGX_ERROR;
            };
            v.set_len(s.len as u32);
            v.data = s.data;
            v.set_valid(1);
            v.set_no_cacheable(0);
            v.set_not_found(0);
        }
        None => v.set_not_found(1),
    }
    Status::NGX_OK
}

fn escape_controls(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 16);
    for &c in bytes {
        if c < 0x20 || c == 0x7f {
            out.extend_from_slice(format!("\\x{c:02X}").as_bytes());
        } else {
            out.push(c);
        }
    }
    out
}

fn text(value: Option<&Value>) -> Option<Vec<u8>> {
    value.map(|v| value_text(v).into_bytes())
}

/// For prefix variables nginx passes the variable's full name as `data`.
pub(crate) fn suffix(data: usize, prefix: &str) -> &'static str {
    // SAFETY: data is &v->name of the variable being evaluated, which outlives the cycle.
    let name = str_bytes(unsafe { &*(data as *const ngx_str_t) });
    core::str::from_utf8(&name[prefix.len().min(name.len())..]).unwrap_or("")
}

http_variable_get!(
    claim_variable,
    |request: &mut Request, v: *mut ngx_variable_value_t, data: usize| guard(request.log(), || {
        let r = request.as_mut();
        #[cfg(feature = "test-hooks")]
        crate::test_hooks::panic_if_asked(r, "variable");
        let value = with_verified(r, |t| text(t.claim(suffix(data, "jwt_claim_"))));
        set(r, v, value.as_deref())
    })
);

http_variable_get!(
    header_variable,
    |request: &mut Request, v: *mut ngx_variable_value_t, data: usize| guard(request.log(), || {
        let r = request.as_mut();
        let value = with_verified(r, |t| text(t.header_field(suffix(data, "jwt_header_"))));
        set(r, v, value.as_deref())
    })
);

http_variable_get!(
    payload_variable,
    |request: &mut Request, v: *mut ngx_variable_value_t, _: usize| guard(request.log(), || {
        let r = request.as_mut();
        let value = with_verified(r, |t| Some(t.payload().to_vec()));
        set(r, v, value.as_deref())
    })
);

http_variable_get!(
    error_variable,
    |request: &mut Request, v: *mut ngx_variable_value_t, _: usize| guard(request.log(), || {
        let r = request.as_mut();
        let value = ctx::get(r).and_then(|ctx| {
            ctx.jwt.borrow().as_ref().map(|verdict| match verdict {
                Ok(_) => "",
                Err(err) => err.code(),
            })
        });
        set(r, v, value.map(str::as_bytes))
    })
);

/// A claim or header path given to auth_jwt_claim_set / auth_jwt_header_set.
pub struct Path {
    header: bool,
    names: Vec<String>,
}

http_variable_get!(
    path_variable,
    |request: &mut Request, v: *mut ngx_variable_value_t, data: usize| guard(request.log(), || {
        let r = request.as_mut();
        // SAFETY: data is the Path registered with the variable, in the configuration pool.
        let path = unsafe { &*(data as *const Path) };
        let value = with_verified(r, |t| {
            let map = if path.header { t.header() } else { t.claims() };
            let (first, rest) = path.names.split_first()?;
            text(
                rest.iter()
                    .try_fold(map.get(first)?, |value, name| value.as_object()?.get(name)),
            )
        });
        set(r, v, value.as_deref())
    })
);

static REMOTE_USER: AtomicUsize = AtomicUsize::new(0);

static REMOTE_USER_HANDLER: ngx_http_get_variable_pt = Some(remote_user_variable);

/// `$remote_user`: the `sub` of the token or session that auth_jwt or auth_oidc admitted the
/// request with, else nginx's own.
unsafe extern "C" fn remote_user_variable(
    r: *mut ngx_http_request_t,
    v: *mut ngx_variable_value_t,
    data: usize,
) -> ngx_int_t {
    // SAFETY: nginx passes a valid request.
    let request = unsafe { &mut *r };
    let sub = guard::catch(|| {
        with_verified(request, |t| {
            t.claims()
                .get("sub")?
                .as_str()
                .map(|s| s.as_bytes().to_vec())
        })
        .or_else(|| crate::oidc::variables::remote_user(request))
    })
    .ok()
    .flatten();
    if let Some(sub) = sub {
        return set(request, v, Some(&sub)).into();
    }

    let original = REMOTE_USER.load(Ordering::Relaxed);
    if original == 0 {
        // SAFETY: as above.
        unsafe { (*v).set_not_found(1) };
        return Status::NGX_OK.into();
    }
    // SAFETY: the stored value is nginx's own get handler of $remote_user.
    let original: unsafe extern "C" fn(
        *mut ngx_http_request_t,
        *mut ngx_variable_value_t,
        usize,
    ) -> ngx_int_t = unsafe { core::mem::transmute(original) };
    // SAFETY: called exactly as nginx would call it.
    unsafe { original(r, v, data) }
}

pub(crate) fn add(
    cf: &mut ngx_conf_t,
    mut name: ngx_str_t,
    handler: ngx_http_get_variable_pt,
    flags: u32,
) -> Option<*mut ngx_http_variable_t> {
    // SAFETY: cf is the live configuration; nginx copies the name.
    let var =
        unsafe { ngx_http_add_variable(cf, &mut name, (flags | NGX_HTTP_VAR_NOCACHEABLE) as _) };
    if var.is_null() {
        return None;
    }
    // SAFETY: ngx_http_add_variable returned a valid variable.
    unsafe { (*var).get_handler = handler };
    Some(var)
}

/// Registers the variables; called from preconfiguration.
pub fn register(cf: &mut ngx_conf_t) -> Option<()> {
    add(
        cf,
        ngx_string!("jwt_claim_"),
        Some(claim_variable),
        NGX_HTTP_VAR_PREFIX,
    )?;
    add(
        cf,
        ngx_string!("jwt_header_"),
        Some(header_variable),
        NGX_HTTP_VAR_PREFIX,
    )?;
    add(cf, ngx_string!("jwt_payload"), Some(payload_variable), 0)?;
    add(cf, ngx_string!("jwt_error"), Some(error_variable), 0)?;
    take_over_remote_user(cf);
    Some(())
}

/// Adds a variable for `auth_jwt_claim_set` / `auth_jwt_header_set`.
pub fn add_path_variable(
    cf: &mut ngx_conf_t,
    name: &[u8],
    header: bool,
    names: Vec<String>,
) -> Result<(), &'static str> {
    // SAFETY: the configuration pool lives as long as the variables defined with it.
    let pool = unsafe { ngx::core::Pool::from_ngx_pool(cf.pool) };
    let path = pool.allocate(Path { header, names });
    if path.is_null() {
        return Err("out of memory");
    }
    let name = ngx_str_t {
        len: name.len(),
        data: name.as_ptr().cast_mut(),
    };
    let var = add(cf, name, Some(path_variable), 0).ok_or("cannot add the variable")?;
    // SAFETY: var is valid; the Path lives in the configuration pool as long as the variable.
    unsafe { (*var).data = path as usize };
    Ok(())
}

/// Replaces the get handler of `$remote_user`, keeping nginx's for everything but JWT.
fn take_over_remote_user(cf: &mut ngx_conf_t) {
    let Some(cmcf) = NgxHttpCoreModule::main_conf_mut(cf) else {
        return;
    };
    if cmcf.variables_keys.is_null() {
        return;
    }
    // SAFETY: during configuration variables_keys holds the registered variables by name.
    let keys = unsafe {
        let keys = &(*cmcf.variables_keys).keys;
        core::slice::from_raw_parts(keys.elts.cast::<ngx_hash_key_t>(), keys.nelts)
    };
    for key in keys {
        if str_bytes(&key.key) == b"remote_user" {
            let var = key.value.cast::<ngx_http_variable_t>();
            // SAFETY: the value of a variables_keys entry is its ngx_http_variable_t.
            unsafe {
                let current = (*var).get_handler.map(|h| h as usize);
                if current.is_some() && current != REMOTE_USER_HANDLER.map(|h| h as usize) {
                    REMOTE_USER.store(current.unwrap_or(0), Ordering::Relaxed);
                    (*var).get_handler = REMOTE_USER_HANDLER;
                    // Its value changes when the access phase admits a token.
                    (*var).flags |= NGX_HTTP_VAR_NOCACHEABLE as ngx_uint_t;
                }
            }
        }
    }
}
