//! What the module's variables share: adding one, setting its value, the name behind a prefix
//! variable, and the guard of their get handlers.

use ngx::core::Status;
use ngx::ffi::{
    ngx_conf_t, ngx_http_add_variable, ngx_http_get_variable_pt, ngx_http_request_t,
    ngx_http_variable_t, ngx_log_t, ngx_str_t, ngx_variable_value_t, NGX_HTTP_VAR_NOCACHEABLE,
    NGX_LOG_ALERT,
};

use crate::guard;
use crate::log::Sink;
use crate::request::pool_str;
use crate::text::str_bytes;

/// Runs a variable's get handler; a panic makes the variable fail instead of the worker.
pub fn guard(log: *mut ngx_log_t, directive: &str, handler: impl FnOnce() -> Status) -> Status {
    guard::catch(handler).unwrap_or_else(|panic| {
        Sink::Log(log).error(
            NGX_LOG_ALERT,
            0,
            format_args!("internal error in an {directive} variable: {panic}"),
        );
        Status::NGX_ERROR
    })
}

/// Sets `v` to `bytes` (copied to the request pool) or marks it not found. Control characters,
/// which JSON strings may carry, are written as `\xHH`: a claim must not be able to split a
/// header that `proxy_set_header` builds from it.
pub fn set(
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

/// For prefix variables nginx passes the variable's full name as `data`.
pub fn suffix(data: usize, prefix: &str) -> &'static str {
    // SAFETY: data is &v->name of the variable being evaluated, which outlives the cycle.
    let name = str_bytes(unsafe { &*(data as *const ngx_str_t) });
    core::str::from_utf8(&name[prefix.len().min(name.len())..]).unwrap_or("")
}

/// Adds a variable whose value is never cached: it changes when the access phase admits the
/// request.
pub fn add(
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
