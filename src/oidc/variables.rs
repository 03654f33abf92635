//! `$oidc_id_token`, `$oidc_access_token`, `$oidc_claim_*`, `$oidc_userinfo` and
//! `$oidc_error`: what auth_oidc found for this request, after the access phase.

use std::rc::Rc;

use auth_core::jwt::value_text;
use ngx::core::Status;
use ngx::ffi::{
    ngx_conf_t, ngx_http_request_t, ngx_log_t, ngx_variable_value_t, NGX_HTTP_VAR_PREFIX,
};
use ngx::http::Request;
use ngx::{http_variable_get, ngx_string};
use serde_json::{Map, Value};

use super::OidcCtx;
use crate::part::RequestPart;
use crate::variables::{self, add, set, suffix};

fn guarded(log: *mut ngx_log_t, handler: impl FnOnce() -> Status) -> Status {
    variables::guard(log, "auth_oidc", handler)
}

/// The ID token's claims, parsed once per request.
fn claims(r: &ngx_http_request_t) -> Option<Rc<Map<String, Value>>> {
    let ctx = OidcCtx::of(r)?;
    let mut oidc = ctx.found.borrow_mut();
    if let Some(claims) = &oidc.claims {
        return Some(claims.clone());
    }
    let map = match (&oidc.session, &oidc.bearer) {
        (Some(session), _) => Rc::new(session.claims()?),
        (None, Some(bearer)) => Rc::new(bearer.claims().clone()),
        (None, None) => return None,
    };
    oidc.claims = Some(map.clone());
    Some(map)
}

http_variable_get!(
    id_token_variable,
    |request: &mut Request, v: *mut ngx_variable_value_t, _: usize| guarded(request.log(), || {
        let r = request.as_mut();
        let value = OidcCtx::of(r).and_then(|c| {
            c.found
                .borrow()
                .session
                .as_ref()
                .map(|s| s.id_token.clone())
        });
        set(r, v, value.as_ref().map(String::as_bytes))
    })
);

http_variable_get!(
    access_token_variable,
    |request: &mut Request, v: *mut ngx_variable_value_t, _: usize| guarded(request.log(), || {
        let r = request.as_mut();
        let value = OidcCtx::of(r).and_then(|c| {
            let oidc = c.found.borrow();
            match (&oidc.session, &oidc.bearer) {
                (Some(session), _) => session.access_token.clone(),
                (None, Some(_)) => bearer_token(r),
                (None, None) => None,
            }
        });
        set(r, v, value.as_ref().map(String::as_bytes))
    })
);

http_variable_get!(
    claim_variable,
    |request: &mut Request, v: *mut ngx_variable_value_t, data: usize| guarded(
        request.log(),
        || {
            let r = request.as_mut();
            let name = suffix(data, "oidc_claim_");
            let value = claims(r).and_then(|c| c.get(name).map(value_text));
            set(r, v, value.as_ref().map(String::as_bytes))
        }
    )
);

http_variable_get!(
    userinfo_variable,
    |request: &mut Request, v: *mut ngx_variable_value_t, _: usize| guarded(request.log(), || {
        let r = request.as_mut();
        let value =
            OidcCtx::of(r).and_then(|c| c.found.borrow().session.as_ref()?.userinfo.clone());
        set(r, v, value.as_ref().map(String::as_bytes))
    })
);

http_variable_get!(
    error_variable,
    |request: &mut Request, v: *mut ngx_variable_value_t, _: usize| guarded(request.log(), || {
        let r = request.as_mut();
        let value = OidcCtx::of(r).and_then(|c| c.found.borrow().error);
        set(r, v, value.map(str::as_bytes))
    })
);

/// The `sub` of the session or access token that admitted the request, for `$remote_user`.
pub fn remote_user(r: &ngx_http_request_t) -> Option<Vec<u8>> {
    let ctx = OidcCtx::of(r)?;
    let oidc = ctx.found.borrow();
    match (&oidc.session, &oidc.bearer) {
        (Some(session), _) => Some(session.sub.as_bytes().to_vec()),
        (None, Some(bearer)) => bearer
            .claims()
            .get("sub")
            .and_then(Value::as_str)
            .map(|s| s.as_bytes().to_vec()),
        (None, None) => None,
    }
}

/// The access token that admitted the request, as `Bearer` or `DPoP`.
fn bearer_token(r: &ngx_http_request_t) -> Option<String> {
    let (token, _) = crate::bearer::presented(r, crate::bearer::Dpop::On);
    let token = crate::text::str_bytes(&token);
    (!token.is_empty()).then(|| String::from_utf8(token.to_vec()).ok())?
}

/// Registers the variables; called from preconfiguration.
pub fn register(cf: &mut ngx_conf_t) -> Option<()> {
    add(cf, ngx_string!("oidc_id_token"), Some(id_token_variable), 0)?;
    add(
        cf,
        ngx_string!("oidc_access_token"),
        Some(access_token_variable),
        0,
    )?;
    add(
        cf,
        ngx_string!("oidc_claim_"),
        Some(claim_variable),
        NGX_HTTP_VAR_PREFIX,
    )?;
    add(cf, ngx_string!("oidc_userinfo"), Some(userinfo_variable), 0)?;
    add(cf, ngx_string!("oidc_error"), Some(error_variable), 0)?;
    Some(())
}
