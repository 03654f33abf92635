//! `$jwt_claim_*`, `$jwt_header_*`, `$jwt_payload`, `$jwt_error`, variables made by
//! `auth_jwt_claim_set`/`auth_jwt_header_set`, and the `sub` of the token for `$remote_user`.
//!
//! The verdict lives with the main request and survives internal redirects (`error_page 401 =
//! @login`); nothing is visible before the access phase has verified a token.

use auth_core::jwt::{value_text, Verified};
use ngx::core::Status;
use ngx::ffi::{
    ngx_conf_t, ngx_http_request_t, ngx_log_t, ngx_str_t, ngx_variable_value_t, NGX_HTTP_VAR_PREFIX,
};
use ngx::http::Request;
use ngx::{http_variable_get, ngx_string};
use serde_json::Value;

use super::JwtCtx;
use crate::part::RequestPart;
use crate::variables::{self, add, set, suffix};

/// Runs `f` on the token auth_jwt verified for this request, if it did.
fn with_verified<T>(r: &ngx_http_request_t, f: impl FnOnce(&Verified) -> Option<T>) -> Option<T> {
    let ctx = JwtCtx::of(r)?;
    let verdict = ctx.verdict.borrow();
    f(verdict.as_ref()?.as_ref().ok()?)
}

/// Runs a variable's get handler; a panic makes the variable fail instead of the worker.
fn guard(log: *mut ngx_log_t, handler: impl FnOnce() -> Status) -> Status {
    variables::guard(log, "auth_jwt", handler)
}

/// The `sub` of the token that admitted the request, for `$remote_user`.
pub fn remote_user(r: &ngx_http_request_t) -> Option<Vec<u8>> {
    with_verified(r, |t| {
        t.claims()
            .get("sub")?
            .as_str()
            .map(|s| s.as_bytes().to_vec())
    })
}

fn text(value: Option<&Value>) -> Option<Vec<u8>> {
    value.map(|v| value_text(v).into_bytes())
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
        let value = JwtCtx::of(r).and_then(|ctx| {
            ctx.verdict.borrow().as_ref().map(|verdict| match verdict {
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
