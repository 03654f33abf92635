//! What the module keeps for a request. It lives in a cleanup of the main request's pool, so
//! it survives internal redirects (which clear the ctx array; realip finds its ctx the same way)
//! and subrequests see it too.

use core::cell::{Cell, RefCell};
use core::ffi::c_void;
use core::ptr;
use std::rc::Rc;

use auth_core::jwt::{JwtError, Verified};
use ngx::ffi::{ngx_http_request_t, ngx_pool_cleanup_add, ngx_pool_cleanup_pt};
use ngx::http::HttpModule;

use crate::conf::Module;
use crate::jwt::key_request::KeyFetch;
#[cfg(nginx_threads)]
use crate::thread::PasswordCheck;

#[derive(Default)]
pub struct RequestCtx {
    /// The verdict of auth_jwt.
    pub jwt: RefCell<Option<Result<Rc<Verified>, JwtError>>>,
    /// The subrequests of auth_jwt_key_request, while they run and when they are done.
    pub key_fetch: RefCell<Option<KeyFetch>>,
    /// How often auth_jwt_key_url parked the request.
    pub key_url_waits: Cell<u8>,
    /// What auth_oidc found.
    pub oidc: RefCell<OidcCtx>,
    /// How often auth_oidc parked the request for the provider's metadata or a code exchange.
    pub oidc_waits: Cell<u8>,
    /// How often it polled for another request's refresh.
    pub oidc_polls: Cell<u16>,
    /// The body of a back-channel logout request is in.
    pub oidc_body_read: Cell<bool>,
    /// A password check running in, or back from, a thread pool.
    #[cfg(nginx_threads)]
    pub password: RefCell<Option<PasswordCheck>>,
    /// Another request's check of the same credentials, waited for.
    #[cfg(nginx_threads)]
    pub flight: RefCell<Option<Rc<crate::flight::Flight>>>,
}

/// auth_oidc's part of the request context.
#[derive(Default)]
pub struct OidcCtx {
    /// The provider whose session or token admitted the request.
    pub provider: Option<String>,
    /// The session that admitted the request.
    pub session: Option<Rc<auth_core::oidc::Session>>,
    /// The access token that admitted the request in bearer mode.
    pub bearer: Option<Rc<auth_core::jwt::Verified>>,
    /// Its ID token's claims, once a variable asked.
    pub claims: Option<Rc<serde_json::Map<String, serde_json::Value>>>,
    /// Why the request was not admitted, for `$oidc_error`.
    pub error: Option<&'static str>,
    /// The code exchange of a callback.
    pub exchange: Option<Rc<crate::oidc::Exchange>>,
}

extern "C" fn drop_ctx(data: *mut c_void) {
    // SAFETY: registered only for cleanups whose data is a RequestCtx written by get_or_create().
    unsafe { ptr::drop_in_place(data.cast::<RequestCtx>()) };
}

/// One copy of the cleanup handler's address, so that storing and finding it agree.
static DROP_CTX: ngx_pool_cleanup_pt = Some(drop_ctx);

fn slot(r: &ngx_http_request_t) -> *mut *mut c_void {
    // SAFETY: r.main is the main request; its ctx array has a slot for every HTTP module.
    unsafe { (*r.main).ctx.add(Module::module().ctx_index) }
}

/// The context of this request, if the module made one.
pub fn get(r: &ngx_http_request_t) -> Option<&RequestCtx> {
    let slot = slot(r);
    // SAFETY: the slot holds null or a RequestCtx living in a cleanup of the main request's
    // pool, which outlives the request and its subrequests.
    unsafe {
        if (*slot).is_null() {
            let mut cln = (*(*r.main).pool).cleanup;
            while !cln.is_null() {
                if (*cln).handler.map(|h| h as usize) == DROP_CTX.map(|h| h as usize) {
                    *slot = (*cln).data;
                    break;
                }
                cln = (*cln).next;
            }
        }
        (*slot).cast::<RequestCtx>().as_ref()
    }
}

/// The context of this request, made on first use; `None` when out of memory.
pub fn get_or_create(r: &ngx_http_request_t) -> Option<&RequestCtx> {
    if get(r).is_none() {
        // SAFETY: the cleanup drops the context when the main request's pool is destroyed.
        unsafe {
            let cln = ngx_pool_cleanup_add((*r.main).pool, core::mem::size_of::<RequestCtx>());
            if cln.is_null() {
                return None;
            }
            ptr::write((*cln).data.cast::<RequestCtx>(), RequestCtx::default());
            (*cln).handler = DROP_CTX;
            *slot(r) = (*cln).data;
        }
    }
    get(r)
}
