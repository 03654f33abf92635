//! `auth_jwt_key_request`: JWK Sets fetched by subrequests, kept in memory.
//!
//! The subrequests run on every request unless `auth_jwt_key_cache` lets a worker use the keys
//! it fetched last for a while (a `proxy_cache` in the subrequest's location makes each fetch
//! cheap). Each URI's keys are kept apart: a body is parsed again only when its fingerprint
//! changes, and when a fetch or its parsing fails, the keys that URI gave before stay in use.

use core::cell::{Cell, RefCell};
use core::ffi::c_void;
use core::ptr;
use std::collections::HashMap;
use std::rc::Rc;

use auth_core::keys::{self, fingerprint, Key, KeyFormat};
use ngx::ffi::{
    ngx_http_complex_value_t, ngx_http_post_subrequest_t, ngx_http_request_body_t,
    ngx_http_request_t, ngx_http_subrequest, ngx_int_t, ngx_palloc, ngx_pcalloc, ngx_str_t,
    NGX_ERROR, NGX_HTTP_GET, NGX_HTTP_OK, NGX_HTTP_SPECIAL_RESPONSE, NGX_HTTP_SUBREQUEST_IN_MEMORY,
    NGX_HTTP_SUBREQUEST_WAITED, NGX_LOG_ERR, NGX_LOG_WARN,
};
use ngx::ngx_string;

use super::{JwtConf, JwtCtx, JwtMain};
use crate::guard;
use crate::log::Sink;
use crate::part::{MainPart, RequestPart};
use crate::request::{complex_value, debug};
use crate::text::str_bytes;

/// More URIs than this for one location (they may come from variables) and the worker forgets
/// them all.
const MAX_URIS: usize = 1024;

/// The keys one URI gave.
pub struct FetchedKeys {
    fingerprint: [u8; 32],
    /// When the subrequest that gave these keys ran.
    fetched: Cell<i64>,
    pub keys: Vec<Key>,
    /// Differs for every body parsed.
    pub generation: u64,
}

/// Per worker, by the address of the location's configuration, then by URI.
#[derive(Default)]
pub struct FetchedKeysByUri(RefCell<HashMap<usize, ByUri>>);

type ByUri = HashMap<Box<[u8]>, Stored>;

#[derive(Default)]
struct Stored {
    keys: Option<Rc<FetchedKeys>>,
    /// The fingerprint of a body that could not be used: the same body again is refused
    /// without being parsed or logged again.
    refused: Option<[u8; 32]>,
}

/// The URIs of one request and what their subrequests gave.
pub struct KeyFetch {
    uris: Vec<Vec<u8>>,
    states: Vec<State>,
}

enum State {
    /// The keys stored for the URI are fresh: no subrequest.
    Fresh,
    Running,
    /// The body, or why the subrequest failed.
    Done(Result<Vec<u8>, String>),
}

pub enum Keys {
    /// The keys of the URIs that have any; `failed` when a URI has none because its fetch or
    /// its body failed.
    Ready {
        keys: Vec<Rc<FetchedKeys>>,
        failed: bool,
    },
    /// Subrequests are running; the access phase resumes when they are done.
    Pending,
}

pub fn keys(r: &mut ngx_http_request_t, jcf: &JwtConf, now: i64) -> Keys {
    let failed = Keys::Ready {
        keys: Vec::new(),
        failed: true,
    };
    let Some(main) = JwtMain::of(r) else {
        return failed;
    };
    if JwtCtx::of_or_create(r).is_none() {
        return failed;
    }
    let location = jcf as *const JwtConf as usize;

    let fetch = JwtCtx::of(r).and_then(|ctx| ctx.key_fetch.borrow_mut().take());
    let Some(fetch) = fetch else {
        let Some(uris) = evaluate(r, jcf.key_requests()) else {
            return failed;
        };
        let all = main.fetched_keys.0.borrow();
        let stored = all.get(&location);
        let states = uris
            .iter()
            .map(|uri| {
                let keys = stored.and_then(|s| s.get(uri.as_slice())?.keys.as_ref());
                match keys {
                    Some(k) if now.saturating_sub(k.fetched.get()) < jcf.key_cache() as i64 => {
                        State::Fresh
                    }
                    _ => State::Running,
                }
            })
            .collect::<Vec<_>>();
        drop(all);
        let fetch = KeyFetch { uris, states };
        if fetch.states.iter().all(|s| matches!(s, State::Fresh)) {
            return ready(main, location, &fetch.uris, false);
        }
        return match start(r, fetch) {
            Some(fetch) => {
                debug(r, format_args!("auth_jwt_key_request: fetching keys"));
                keep(r, fetch);
                Keys::Pending
            }
            None => failed,
        };
    };

    if fetch.states.iter().any(|s| matches!(s, State::Running)) {
        keep(r, fetch);
        return Keys::Pending;
    }

    let mut log = crate::request::log(r);
    let mut failed = false;
    let mut all = main.fetched_keys.0.borrow_mut();
    let stored = all.entry(location).or_default();
    if stored.len() + fetch.uris.len() > MAX_URIS {
        stored.clear();
    }
    for (uri, state) in fetch.uris.iter().zip(&fetch.states) {
        let State::Done(result) = state else {
            continue;
        };
        let entry = stored.entry(uri.as_slice().into()).or_default();
        let (ok, news) = match result {
            Ok(body) => match update(entry, uri, body, now, &mut log, r) {
                Update::Keys => (true, false),
                Update::Refused { news } => (false, news),
            },
            Err(reason) => {
                log.error(
                    NGX_LOG_ERR,
                    0,
                    format_args!(
                        "auth_jwt_key_request \"{}\" failed: {reason}",
                        uri.escape_ascii()
                    ),
                );
                (false, true)
            }
        };
        if news && entry.keys.is_some() {
            log.error(
                NGX_LOG_WARN,
                0,
                format_args!(
                    "auth_jwt_key_request \"{}\": using the keys fetched before",
                    uri.escape_ascii()
                ),
            );
        }
        failed |= !ok && entry.keys.is_none();
    }
    drop(all);

    ready(main, location, &fetch.uris, failed)
}

/// The keys stored for `uris` of the location.
fn ready(main: &JwtMain, location: usize, uris: &[Vec<u8>], mut failed: bool) -> Keys {
    let all = main.fetched_keys.0.borrow();
    let stored = all.get(&location);
    let mut keys = Vec::with_capacity(uris.len());
    for uri in uris {
        match stored.and_then(|s| s.get(uri.as_slice())?.keys.clone()) {
            Some(k) => keys.push(k),
            None => failed = true,
        }
    }
    Keys::Ready { keys, failed }
}

enum Update {
    /// The body's keys are in use, new or unchanged.
    Keys,
    /// The body cannot be used; `news` when this was not known before.
    Refused { news: bool },
}

/// Takes a body that `uri` answered.
fn update(
    entry: &mut Stored,
    uri: &[u8],
    body: &[u8],
    now: i64,
    log: &mut Sink,
    r: &ngx_http_request_t,
) -> Update {
    let fingerprint = fingerprint(&[body]);
    if let Some(keys) = entry.keys.as_ref().filter(|k| k.fingerprint == fingerprint) {
        debug(
            r,
            format_args!(
                "auth_jwt_key_request \"{}\": keys unchanged",
                uri.escape_ascii()
            ),
        );
        keys.fetched.set(now);
        return Update::Keys;
    }
    if entry.refused == Some(fingerprint) {
        return Update::Refused { news: false };
    }

    match keys::load(body, Some(KeyFormat::Jwks)) {
        Ok(loaded) => {
            for skipped in &loaded.skipped {
                log.error(
                    NGX_LOG_WARN,
                    0,
                    format_args!(
                        "auth_jwt_key_request \"{}\": {skipped}, skipped",
                        uri.escape_ascii()
                    ),
                );
            }
            debug(
                r,
                format_args!(
                    "auth_jwt_key_request \"{}\": {} keys parsed",
                    uri.escape_ascii(),
                    loaded.keys.len()
                ),
            );
            entry.keys = Some(Rc::new(FetchedKeys {
                fingerprint,
                fetched: Cell::new(now),
                keys: loaded.keys,
                generation: crate::file_cache::next_generation(),
            }));
            entry.refused = None;
            Update::Keys
        }
        Err(err) => {
            log.error(
                NGX_LOG_ERR,
                0,
                format_args!("auth_jwt_key_request \"{}\": {err}", uri.escape_ascii()),
            );
            entry.refused = Some(fingerprint);
            Update::Refused { news: true }
        }
    }
}

/// The URIs of `auth_jwt_key_request`, their variables evaluated.
fn evaluate(
    r: &mut ngx_http_request_t,
    uris: &[*mut ngx_http_complex_value_t],
) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::with_capacity(uris.len());
    for &cv in uris {
        let uri = str_bytes(&complex_value(r, cv)?).to_vec();
        if uri.first() != Some(&b'/') {
            crate::request::log(r).error(
                NGX_LOG_ERR,
                0,
                format_args!(
                    "auth_jwt_key_request: invalid URI \"{}\"; it must start with \"/\"",
                    uri.escape_ascii()
                ),
            );
            continue;
        }
        out.push(uri);
    }
    Some(out)
}

fn keep(r: &ngx_http_request_t, fetch: KeyFetch) {
    if let Some(ctx) = JwtCtx::of(r) {
        ctx.key_fetch.replace(Some(fetch));
    }
}

/// Starts a GET subrequest to each URI whose keys are not fresh, its response kept in memory.
fn start(r: &mut ngx_http_request_t, fetch: KeyFetch) -> Option<KeyFetch> {
    for (index, uri) in fetch.uris.iter().enumerate() {
        if !matches!(fetch.states[index], State::Running) {
            continue;
        }
        let (path, args) = match uri.iter().position(|&c| c == b'?') {
            Some(q) => (&uri[..q], Some(&uri[q + 1..])),
            None => (&uri[..], None),
        };
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

            // nginx keeps the pointers: the bytes go to the request's pool.
            let mut uri = crate::request::pool_str(r, path)?;
            let mut args = match args {
                Some(args) => Some(crate::request::pool_str(r, args)?),
                None => None,
            };
            let args_ptr = args
                .as_mut()
                .map_or(ptr::null_mut(), |a| a as *mut ngx_str_t);
            let mut sr: *mut ngx_http_request_t = ptr::null_mut();
            let flags = NGX_HTTP_SUBREQUEST_IN_MEMORY | NGX_HTTP_SUBREQUEST_WAITED;
            if ngx_http_subrequest(r, &mut uri, args_ptr, &mut sr, ps, flags as _) != 0 {
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
    Some(fetch)
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
        if let Some(ctx) = JwtCtx::of(sr) {
            if let Some(fetch) = ctx.key_fetch.borrow_mut().as_mut() {
                if let Some(state) = fetch.states.get_mut(index) {
                    *state = State::Done(outcome);
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
