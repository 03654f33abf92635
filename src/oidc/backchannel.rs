//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0): the provider POSTs a logout
//! token to `backchannel_logout_uri`; once it is verified, every worker refuses the session it
//! names, whatever cookie the browser still has.

use std::rc::Rc;

use auth_core::http::form::Params;
use auth_core::jwt::{self, Policy};
use auth_core::keys::fingerprint;
use auth_core::oidc::mark::Mark;
use auth_core::oidc::{logout_token, Session};
use ngx::core::Status;
use ngx::ffi::{
    ngx_http_core_run_phases, ngx_http_finalize_request, ngx_http_read_client_request_body,
    ngx_http_request_t, ngx_int_t, ngx_msec_t, NGX_HTTP_BAD_REQUEST,
    NGX_HTTP_INTERNAL_SERVER_ERROR, NGX_HTTP_NOT_ALLOWED, NGX_HTTP_OK, NGX_HTTP_POST,
    NGX_HTTP_SPECIAL_RESPONSE, NGX_LOG_ERR, NGX_LOG_INFO,
};

use super::exchange::{new_key_may_help, LEEWAY};
use super::headers::add_header;
use super::provider::{Provider, Readiness};
use super::{OidcCtx, OidcMain};
use crate::guard;
use crate::part::{MainPart, RequestPart};
use crate::request;
use crate::wait::Awaited;

/// Largest request body read.
const MAX_BODY: usize = 64 * 1024;

pub(super) fn id(provider: &Provider, kind: &str, value: &str) -> [u8; 32] {
    fingerprint(&[provider.name.as_bytes(), kind.as_bytes(), value.as_bytes()])
}

/// Why the provider ended `session`, if it did.
pub fn ended(r: &ngx_http_request_t, provider: &Provider, session: &Session, now: i64) -> bool {
    let Some(zone) = OidcMain::of(r).and_then(|m| m.zone.get()) else {
        return false;
    };
    if !zone.any_marks() {
        return false;
    }
    if let Some(sid) = &session.sid {
        if zone.marked(&id(provider, "sid", sid), now).is_some() {
            return true;
        }
    }
    zone.marked(&id(provider, "sub", &session.sub), now)
        .is_some_and(|at| session.started < at)
        || zone.marked(&login_id(provider, session), now).is_some()
}

/// What marks one session at its logout, whatever copy of its cookie: the signature of its ID
/// token, unique to the token. A copy from before a refresh is refused once it is refreshed
/// into the marked session.
pub fn login_id(provider: &Provider, session: &Session) -> [u8; 32] {
    let token = session.id_token.as_bytes();
    let signature = &token[token.len().saturating_sub(43)..];
    fingerprint(&[provider.name.as_bytes(), b"login", signature])
}

/// Marks `id` ended until `until`, on this node and, with a cluster, on every node; `weak`:
/// as a request that nothing authenticates may.
pub fn mark(
    r: &ngx_http_request_t,
    provider: &Provider,
    id: &[u8; 32],
    (now, until): (i64, i64),
    weak: bool,
) {
    let Some(zone) = OidcMain::of(r).and_then(|m| m.zone.get()) else {
        return;
    };
    zone.mark(id, now, until, weak);
    if let Some(cluster) = provider.cluster() {
        cluster.publish(Mark {
            id: *id,
            at: now,
            until,
            weak,
        });
    }
}

pub fn handle(r: &mut ngx_http_request_t, provider: &Rc<Provider>) -> ngx_int_t {
    if r.method != NGX_HTTP_POST as usize {
        return NGX_HTTP_NOT_ALLOWED as ngx_int_t;
    }
    let Some(ctx) = OidcCtx::of_or_create(r) else {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    };
    if !ctx.body_read.get() {
        r.set_request_body_in_single_buf(1);
        // SAFETY: r is the live main request; the handler runs the phases again once the
        // body is in. As in the mirror module, the request's count is given back at once.
        unsafe {
            let rc = ngx_http_read_client_request_body(r, Some(body_read));
            if rc >= NGX_HTTP_SPECIAL_RESPONSE as ngx_int_t {
                return rc;
            }
            ngx_http_finalize_request(r, Status::NGX_DONE.into());
        }
        return Status::NGX_DONE.into();
    }

    let ready = match provider.ready(r) {
        Readiness::Ready(ready) => ready,
        Readiness::Wait => return Status::NGX_AGAIN.into(),
        Readiness::Failed(why) => return refuse(r, format_args!("no keys of the provider: {why}")),
    };
    let Some(body) = body(r) else {
        return refuse(r, format_args!("the body is not in memory or too large"));
    };
    let token = core::str::from_utf8(&body)
        .ok()
        .and_then(Params::parse)
        .and_then(|p| p.get("logout_token").map(str::to_owned));
    let Some(token) = token else {
        return refuse(r, format_args!("no logout_token"));
    };
    let s = &provider.settings;
    let now = request::now();
    let policy = Policy {
        require_exp: false,
        ..auth_core::oidc::id_token::policy(&ready.metadata, &s.client_id, LEEWAY)
    };
    let verified = match jwt::verify(token.as_bytes(), &ready.keys, &policy, now) {
        Ok(verified) => verified,
        // Verified again with the keys fetched anew: the provider may sign with a new key.
        Err(ref err)
            if new_key_may_help(err, token.as_bytes()) && provider.refetch_for_unknown_kid(r) =>
        {
            return Status::NGX_AGAIN.into();
        }
        Err(err) => return refuse(r, format_args!("{err}")),
    };
    let logout = match logout_token::check(verified.claims(), now, LEEWAY as i64) {
        Ok(logout) => logout,
        Err(err) => return refuse(r, format_args!("{err}")),
    };
    let Some(zone) = OidcMain::of(r).and_then(|m| m.zone.get()) else {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    };
    let jti = id(provider, "jti", &logout.jti);
    // Any node may have seen the token: the cluster's store says, else this node's zone.
    let seen_elsewhere = match seen(r, provider, &jti, logout.expires - now) {
        Seen::Wait(rc) => return rc,
        Seen::Answer(seen) => seen,
    };
    let fresh_here = zone.mark(&jti, now, logout.expires, false);
    if seen_elsewhere.unwrap_or(!fresh_here) {
        return refuse(r, format_args!("the logout token was used already"));
    }
    let until = now + s.session_timeout as i64;
    let what = match (&logout.sid, &logout.sub) {
        (Some(sid), _) => {
            mark(r, provider, &id(provider, "sid", sid), (now, until), false);
            "the session"
        }
        (None, Some(sub)) => {
            mark(r, provider, &id(provider, "sub", sub), (now, until), false);
            "the user's sessions"
        }
        (None, None) => return refuse(r, format_args!("neither sid nor sub")),
    };
    request::log(r).error(
        NGX_LOG_INFO,
        0,
        format_args!(
            "auth_oidc: back-channel logout at \"{}\": {what} ended",
            provider.name
        ),
    );
    respond(r)
}

enum Seen {
    /// The status to return while the store is asked.
    Wait(ngx_int_t),
    /// Whether another node saw it; `None` without a cluster, or when its store failed.
    Answer(Option<bool>),
}

fn seen(r: &mut ngx_http_request_t, provider: &Provider, jti: &[u8; 32], ttl: i64) -> Seen {
    let Some(cluster) = provider.cluster() else {
        return Seen::Answer(None);
    };
    let asked = OidcCtx::of(r).and_then(|c| c.seen.borrow_mut().take());
    if let Some(asked) = asked {
        return Seen::Answer(match asked.take() {
            Some(Ok(first)) => Some(!first),
            Some(Err(err)) => {
                request::log(r).error(
                    NGX_LOG_ERR,
                    0,
                    format_args!(
                        "auth_oidc: back-channel logout applied on this node only for now: \
                         {} failed: {err}",
                        cluster.shown()
                    ),
                );
                None
            }
            None => None,
        });
    }
    let limit = cluster.redis.settings.timeout.as_millis() as ngx_msec_t + 1000;
    let jti = *jti;
    let work = async move { cluster.first_use(&jti, ttl).await };
    match Awaited::start(r, limit, "auth_oidc", work) {
        Some(asked) => {
            if let Some(ctx) = OidcCtx::of(r) {
                *ctx.seen.borrow_mut() = Some(asked);
            }
            Seen::Wait(Status::NGX_AGAIN.into())
        }
        None => Seen::Wait(NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t),
    }
}

/// 200, empty, not to be cached.
pub(super) fn respond(r: &mut ngx_http_request_t) -> ngx_int_t {
    if add_header(r, "Cache-Control", b"no-store").is_none() {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    }
    request::send(r, NGX_HTTP_OK, None, b"")
}

fn refuse(r: &mut ngx_http_request_t, why: core::fmt::Arguments) -> ngx_int_t {
    request::log(r).error(
        NGX_LOG_INFO,
        0,
        format_args!("auth_oidc: back-channel logout refused: {why}"),
    );
    NGX_HTTP_BAD_REQUEST as ngx_int_t
}

/// The request body, when it is in memory and not larger than `MAX_BODY`.
fn body(r: &ngx_http_request_t) -> Option<Vec<u8>> {
    // SAFETY: after the body was read, request_body and its chain are valid for the request.
    unsafe {
        let rb = r.request_body.as_ref()?;
        let mut out = Vec::new();
        let mut cl = rb.bufs;
        while !cl.is_null() {
            let b = &*(*cl).buf;
            if b.in_file() != 0 && b.memory() == 0 && b.temporary() == 0 {
                return None;
            }
            let len = b.last.offset_from(b.pos).max(0) as usize;
            if out.len() + len > MAX_BODY {
                return None;
            }
            out.extend_from_slice(core::slice::from_raw_parts(b.pos, len));
            cl = (*cl).next;
        }
        Some(out)
    }
}

unsafe extern "C" fn body_read(r: *mut ngx_http_request_t) {
    // SAFETY: nginx calls this with the request whose body was read.
    let r = unsafe { &mut *r };
    let noted = guard::catch(|| {
        if let Some(ctx) = OidcCtx::of(r) {
            ctx.body_read.set(true);
        }
    });
    if noted.is_err() {
        // SAFETY: as above.
        unsafe { ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t) };
        return;
    }
    r.write_event_handler = Some(ngx_http_core_run_phases);
    // SAFETY: as above; the phases go on from the access handler.
    unsafe { ngx_http_core_run_phases(r) };
}
