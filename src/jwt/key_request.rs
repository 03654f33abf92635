//! `auth_jwt_key_request`: JWK Sets fetched by subrequests, kept in memory.
//!
//! The subrequests run on every request unless `auth_jwt_key_cache` lets a worker use the keys
//! it fetched last for a while (a `proxy_cache` in the subrequest's location makes each fetch
//! cheap). The bodies are parsed again only when their fingerprint changes; when a fetch or
//! its parsing fails, the keys fetched before stay in use.

use core::cell::{Cell, RefCell};
use core::ffi::c_void;
use core::ptr;
use std::collections::HashMap;
use std::rc::Rc;

use auth_core::jwt::Policy;
use auth_core::keys::{self, fingerprint, Key, KeyFormat};
use ngx::ffi::{
    ngx_http_post_subrequest_t, ngx_http_request_body_t, ngx_http_request_t, ngx_http_subrequest,
    ngx_int_t, ngx_palloc, ngx_pcalloc, ngx_str_t, NGX_ERROR, NGX_HTTP_GET, NGX_HTTP_OK,
    NGX_HTTP_SPECIAL_RESPONSE, NGX_HTTP_SUBREQUEST_IN_MEMORY, NGX_HTTP_SUBREQUEST_WAITED,
    NGX_LOG_ERR, NGX_LOG_WARN,
};
use ngx::http::HttpModuleMainConf;
use ngx::ngx_string;

use super::JwtConf;
use crate::conf::{str_bytes, Module};
use crate::ctx;
use crate::guard;
use crate::log::Sink;
use crate::request::debug;

/// The keys a location verifies with: those of its key files and those fetched.
pub struct FetchedKeys {
    fingerprint: [u8; 32],
    /// When the subrequests that gave these keys ran.
    fetched: Cell<i64>,
    pub keys: Vec<Key>,
    pub policy: Policy,
}

impl FetchedKeys {
    pub fn fingerprint(&self) -> &[u8] {
        &self.fingerprint
    }
}

/// Per worker, by the address of the location's configuration.
#[derive(Default)]
pub struct FetchedKeysByLocation(RefCell<HashMap<usize, Location>>);

#[derive(Default)]
struct Location {
    keys: Option<Rc<FetchedKeys>>,
    /// The fingerprint of bodies that could not be used: the same bodies again are refused
    /// without being parsed or logged again.
    refused: Option<[u8; 32]>,
}

enum Parsed {
    New(FetchedKeys),
    /// The bodies of the keys in use.
    Unchanged,
    /// Unusable; `logged` when this is news.
    Refused {
        logged: bool,
    },
}

/// The subrequests of one request: each one's body, or why it failed, once it is done.
pub struct KeyFetch {
    results: Vec<Option<Result<Vec<u8>, String>>>,
}

pub enum Keys {
    Ready(Rc<FetchedKeys>),
    /// Subrequests are running; the access phase resumes when they are done.
    Pending,
    Failed,
}

pub fn keys(r: &mut ngx_http_request_t, jcf: &JwtConf, now: i64) -> Keys {
    let Some(mcf) = Module::main_conf(r) else {
        return Keys::Failed;
    };
    let location = jcf as *const JwtConf as usize;
    let (stored, refused) = match mcf.fetched_keys.0.borrow().get(&location) {
        Some(l) => (l.keys.clone(), l.refused),
        None => (None, None),
    };
    if ctx::get_or_create(r).is_none() {
        return Keys::Failed;
    }

    let fetch = ctx::get(r).and_then(|ctx| ctx.key_fetch.borrow_mut().take());
    let Some(fetch) = fetch else {
        if let Some(stored) = &stored {
            let age = now.saturating_sub(stored.fetched.get());
            if age < jcf.key_cache() as i64 {
                return Keys::Ready(stored.clone());
            }
        }
        return match start(r, jcf.key_requests()) {
            Some(fetch) => {
                debug(r, format_args!("auth_jwt_key_request: fetching keys"));
                keep(r, fetch);
                Keys::Pending
            }
            None => Keys::Failed,
        };
    };

    if fetch.results.iter().any(Option::is_none) {
        keep(r, fetch);
        return Keys::Pending;
    }

    let mut log = crate::request::log(r);
    let (parsed, fingerprint) = parse(&fetch, jcf, stored.as_deref(), refused, &mut log);
    let mut locations = mcf.fetched_keys.0.borrow_mut();
    let entry = locations.entry(location).or_default();
    let keys = match (parsed, stored) {
        (Parsed::New(keys), _) => {
            debug(
                r,
                format_args!("auth_jwt_key_request: {} keys parsed", keys.keys.len()),
            );
            let keys = Rc::new(keys);
            entry.keys = Some(keys.clone());
            entry.refused = None;
            keys
        }
        (Parsed::Unchanged, Some(stored)) => {
            debug(r, format_args!("auth_jwt_key_request: keys unchanged"));
            stored
        }
        (Parsed::Refused { logged }, stored) => {
            if let Some(fingerprint) = fingerprint {
                entry.refused = Some(fingerprint);
            }
            let Some(stored) = stored else {
                return Keys::Failed;
            };
            if logged {
                log.error(
                    NGX_LOG_WARN,
                    0,
                    format_args!("auth_jwt_key_request: using the keys fetched before"),
                );
            }
            return Keys::Ready(stored);
        }
        (Parsed::Unchanged, None) => return Keys::Failed,
    };
    keys.fetched.set(now);
    Keys::Ready(keys)
}

fn keep(r: &ngx_http_request_t, fetch: KeyFetch) {
    if let Some(ctx) = ctx::get(r) {
        ctx.key_fetch.replace(Some(fetch));
    }
}

/// The keys of finished subrequests, and the fingerprint of their bodies when they all came.
fn parse(
    fetch: &KeyFetch,
    jcf: &JwtConf,
    stored: Option<&FetchedKeys>,
    refused: Option<[u8; 32]>,
    log: &mut Sink,
) -> (Parsed, Option<[u8; 32]>) {
    let uris = jcf.key_requests();
    let mut bodies = Vec::with_capacity(fetch.results.len());
    for (uri, result) in uris.iter().zip(&fetch.results) {
        match result {
            Some(Ok(body)) => bodies.push(body.as_slice()),
            None => return (Parsed::Refused { logged: false }, None),
            Some(Err(reason)) => {
                log.error(
                    NGX_LOG_ERR,
                    0,
                    format_args!(
                        "auth_jwt_key_request \"{}\" failed: {reason}",
                        str_bytes(uri).escape_ascii()
                    ),
                );
                return (Parsed::Refused { logged: true }, None);
            }
        }
    }

    let fingerprint = fingerprint(&bodies);
    if stored.is_some_and(|s| s.fingerprint == fingerprint) {
        return (Parsed::Unchanged, Some(fingerprint));
    }
    if refused == Some(fingerprint) {
        return (Parsed::Refused { logged: false }, Some(fingerprint));
    }

    let mut all = jcf.keys().to_vec();
    for (uri, body) in uris.iter().zip(bodies) {
        match keys::load(body, Some(KeyFormat::Jwks)) {
            Ok(keys) => all.extend(keys),
            Err(err) => {
                log.error(
                    NGX_LOG_ERR,
                    0,
                    format_args!(
                        "auth_jwt_key_request \"{}\": {err}",
                        str_bytes(uri).escape_ascii()
                    ),
                );
                return (Parsed::Refused { logged: true }, Some(fingerprint));
            }
        }
    }

    let keys = FetchedKeys {
        fingerprint,
        fetched: Cell::new(0),
        policy: jcf.policy_for(&all),
        keys: all,
    };
    (Parsed::New(keys), Some(fingerprint))
}

/// Starts a GET subrequest to each URI, its response kept in memory.
fn start(r: &mut ngx_http_request_t, uris: &[ngx_str_t]) -> Option<KeyFetch> {
    for (index, uri) in uris.iter().enumerate() {
        // SAFETY: r is the live main request; the pool outlives its subrequests.
        unsafe {
            let ps = ngx_palloc(r.pool, core::mem::size_of::<ngx_http_post_subrequest_t>())
                .cast::<ngx_http_post_subrequest_t>();
            if ps.is_null() {
                return None;
            }
            ps.write(ngx_http_post_subrequest_t {
                handler: Some(done),
                data: index as *mut c_void,
            });

            // nginx copies the ngx_str_t; its bytes live in the configuration pool.
            let mut uri = *uri;
            let mut sr: *mut ngx_http_request_t = ptr::null_mut();
            let flags = NGX_HTTP_SUBREQUEST_IN_MEMORY | NGX_HTTP_SUBREQUEST_WAITED;
            if ngx_http_subrequest(r, &mut uri, ptr::null_mut(), &mut sr, ps, flags as _) != 0 {
                return None;
            }

            // No request body, and GET whatever the client's method was.
            let body = ngx_pcalloc(r.pool, core::mem::size_of::<ngx_http_request_body_t>());
            if body.is_null() {
                return None;
            }
            (*sr).request_body = body.cast();
            (*sr).method = NGX_HTTP_GET as _;
            (*sr).method_name = ngx_string!("GET");
        }
    }
    Some(KeyFetch {
        results: vec![None; uris.len()],
    })
}

/// Runs when a subrequest is finalized; it may run more than once, the last outcome counts.
unsafe extern "C" fn done(
    sr: *mut ngx_http_request_t,
    data: *mut c_void,
    rc: ngx_int_t,
) -> ngx_int_t {
    let _ = guard::catch(|| {
        // SAFETY: nginx passes the live subrequest.
        let sr = unsafe { &*sr };
        let index = data as usize;
        let status = sr.headers_out.status;
        let outcome =
            if rc == NGX_ERROR as ngx_int_t || rc >= NGX_HTTP_SPECIAL_RESPONSE as ngx_int_t {
                Err(format!("subrequest finished with {rc}"))
            } else if status != NGX_HTTP_OK as usize {
                Err(format!("status {status}"))
            } else {
                Ok(body(sr))
            };
        if let Some(ctx) = ctx::get(sr) {
            if let Some(fetch) = ctx.key_fetch.borrow_mut().as_mut() {
                if let Some(slot) = fetch.results.get_mut(index) {
                    *slot = Some(outcome);
                }
            }
        }
    });
    rc
}

/// The response an in-memory subrequest collected.
fn body(sr: &ngx_http_request_t) -> Vec<u8> {
    // SAFETY: for an in-memory subrequest, out is null or one chain link whose buffer holds
    // the response between pos and last.
    unsafe {
        if sr.out.is_null() || (*sr.out).buf.is_null() {
            return Vec::new();
        }
        let buf = &*(*sr.out).buf;
        if buf.pos.is_null() {
            return Vec::new();
        }
        core::slice::from_raw_parts(buf.pos, buf.last.offset_from(buf.pos) as usize).to_vec()
    }
}
