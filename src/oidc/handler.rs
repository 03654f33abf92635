//! The access handler of `auth_oidc`: a valid session cookie admits the request; the callback
//! finishes a login; `logout_uri` ends the session; a browser without a session is sent to
//! the provider, anything else gets 401.

use std::rc::Rc;

use auth_core::oidc::cookie::{self, MAX_PARTS};
use auth_core::oidc::login::{return_target, return_to, LOGIN_TIMEOUT};
use auth_core::oidc::logout::logout_url;
use auth_core::oidc::ticket::Ticket;
use auth_core::oidc::{AuthRequest, Callback, Login, Sealer, Session};
use ngx::core::Status;
use ngx::ffi::{
    ngx_http_request_t, ngx_int_t, ngx_msec_t, NGX_HTTP_BAD_GATEWAY, NGX_HTTP_GATEWAY_TIME_OUT,
    NGX_HTTP_GET, NGX_HTTP_HEAD, NGX_HTTP_INTERNAL_SERVER_ERROR, NGX_HTTP_MOVED_TEMPORARILY,
    NGX_HTTP_SERVICE_UNAVAILABLE, NGX_HTTP_UNAUTHORIZED, NGX_LOG_ERR, NGX_LOG_INFO,
};

use super::backchannel;
use super::bearer;
use super::cluster::Cluster;
use super::exchange::{self, Exchange};
use super::frontchannel;
use super::headers::{add_header, cookies, origin, request_header, set_location, strip_cookies};
use super::provider::{park, Provider, Readiness};
use super::refresh::{self, Verdict};
use super::sessions::{self, set_cookie, Loaded, Missing, SaveError};
use super::{Found, OidcConf, OidcCtx, OidcMain, OidcSrv};
use crate::bearer::introspection::Outcome;
use crate::bearer::Scheme;
use crate::net;
use crate::part::{LocPart, MainPart, RequestPart, SrvPart};
use crate::redis::RedisError;
use crate::request::{self, quoted};
use crate::text::str_bytes;
use crate::wait::Awaited;
use auth_core::jwt::JwtError;

/// Logins in progress kept at once, per browser.
const MAX_PENDING_LOGINS: usize = 4;

pub extern "C" fn access_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    request::guard(r, "auth_oidc", handle)
}

fn handle(r: &mut ngx_http_request_t) -> ngx_int_t {
    let Some(ocf) = OidcConf::of(r) else {
        return Status::NGX_DECLINED.into();
    };
    let provider = match ocf.provider_for(r) {
        Ok(Some(provider)) => provider,
        Ok(None) => return endpoint_elsewhere(r),
        Err(()) => return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t,
    };
    let Some(ctx) = OidcCtx::of_or_create(r) else {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    };
    // Admitted before an internal redirect, by this provider; another's verdict is forgotten.
    {
        let mut oidc = ctx.found.borrow_mut();
        if oidc.session.is_some() || oidc.bearer.is_some() {
            if oidc.provider.as_deref() == Some(provider.name.as_str()) {
                return Status::NGX_OK.into();
            }
            *oidc = Found::default();
        }
    }
    let Some(sealer) = OidcMain::of(r).and_then(|m| m.sealer.borrow().clone()) else {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    };
    if let Some(rc) = endpoint(r, &provider, &sealer) {
        return rc;
    }
    let s = &provider.settings;

    let now = request::now();
    if !s.bearer_audiences.is_empty() {
        if let Some((token, scheme)) = bearer::token(r, &provider) {
            return admit_bearer(r, &provider, &token, scheme, now);
        }
    }
    let header = cookies(r);
    let loaded = match sessions::load(&provider, &header, now) {
        None => None,
        Some(Ok(loaded)) => Some(Ok(loaded)),
        Some(Err(Missing::Refused(why))) => Some(Err(why)),
        Some(Err(Missing::Fetch(ticket))) => match fetch(r, &provider, ticket, now) {
            Ok(found) => Some(found),
            Err(rc) => return rc,
        },
    };
    match loaded {
        None => {}
        Some(Err(why)) => refused(r, "bad_session", format_args!("session refused: {why}")),
        Some(Ok(loaded)) => match loaded.open(&provider, &sealer, now) {
            Ok(session) if backchannel::ended(r, &provider, &session, now) => {
                refused(
                    r,
                    "session_ended",
                    format_args!("session ended: the provider logged it out"),
                );
            }
            Ok(session) => match refresh::check(r, &provider, &sealer, session, now) {
                Verdict::Admit(session, renewed) => {
                    if let Some(sealed) = renewed {
                        if backchannel::ended(r, &provider, &session, now) {
                            refused(
                                r,
                                "session_ended",
                                format_args!("session ended: the provider logged it out"),
                            );
                            return login_or_refuse(r, &provider, &sealer);
                        }
                        let saved = sessions::save(
                            r,
                            &provider,
                            &header,
                            &sealed,
                            (loaded.key, loaded.ticket.as_ref()),
                            session.ends,
                        );
                        if saved.is_err() {
                            return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
                        }
                        if let Some(ticket) = &loaded.ticket {
                            provider.remember_ticket(ticket, session.clone());
                        }
                    }
                    set_ctx(r, |c| {
                        c.session = Some(session);
                        c.provider = Some(provider.name.clone());
                    });
                    if strip_cookies(r, &s.cookie_name).is_none() {
                        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
                    }
                    return Status::NGX_OK.into();
                }
                Verdict::Wait => return Status::NGX_AGAIN.into(),
                Verdict::End(why) => {
                    refused(r, "session_ended", format_args!("session ended: {why}"));
                }
            },
            Err(err) => {
                refused(r, "bad_session", format_args!("session refused: {err}"));
            }
        },
    }
    login_or_refuse(r, &provider, &sealer)
}

/// A request without a session: a browser is sent to log in, anything else gets 401.
fn login_or_refuse(
    r: &mut ngx_http_request_t,
    provider: &Rc<Provider>,
    sealer: &Sealer,
) -> ngx_int_t {
    if !navigation(r) {
        if OidcCtx::of(r).is_some_and(|c| c.found.borrow().error.is_none()) {
            set_ctx(r, |c| c.error = Some("no_session"));
        }
        let mut value = b"Bearer realm=".to_vec();
        quoted(provider.name.as_bytes(), &mut value);
        return request::challenge(r, &value, NGX_HTTP_UNAUTHORIZED);
    }
    login(r, provider, sealer)
}

/// The session of `ticket` from the cluster's store, which the request waits for: `Err` with
/// the status to return meanwhile, or when the store fails.
fn fetch(
    r: &mut ngx_http_request_t,
    provider: &Provider,
    ticket: Ticket,
    now: i64,
) -> Result<Result<Loaded<'static>, &'static str>, ngx_int_t> {
    let Some(cluster) = provider.ticket_store() else {
        return Err(NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t);
    };
    let started = OidcCtx::of(r).and_then(|c| c.fetch.borrow_mut().take());
    if let Some(awaited) = started {
        return match awaited.take() {
            Some(Ok(Some(sealed))) => Ok(Ok(sessions::fetched(provider, ticket, sealed, now))),
            Some(Ok(None)) => Ok(Err(
                "no such session in the store (ended, logged out or dropped)",
            )),
            Some(Err(err)) => Err(store_failed(r, &cluster, &err)),
            None => Err(store_failed(r, &cluster, &RedisError::TimedOut)),
        };
    }
    if OidcCtx::of_or_create(r).is_none() {
        return Err(NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t);
    }
    // The command's own timeout ends the wait first.
    let limit = cluster.redis.settings.timeout.as_millis() as ngx_msec_t + 1000;
    let task = cluster.clone();
    let work = async move { task.fetch(&ticket).await };
    let Some(awaited) = Awaited::start(r, limit, "auth_oidc", work) else {
        return Err(NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t);
    };
    set_ctx_fetch(r, awaited);
    Err(Status::NGX_AGAIN.into())
}

fn set_ctx_fetch(r: &ngx_http_request_t, awaited: Rc<super::Fetching>) {
    if let Some(ctx) = OidcCtx::of(r) {
        *ctx.fetch.borrow_mut() = Some(awaited);
    }
}

/// 503 for a store that failed, logged with its name.
pub(super) fn store_failed(
    r: &mut ngx_http_request_t,
    cluster: &Cluster,
    err: &RedisError,
) -> ngx_int_t {
    request::log(r).error(
        NGX_LOG_ERR,
        0,
        format_args!("auth_oidc: {} failed: {err}", cluster.shown()),
    );
    set_ctx(r, |c| c.error = Some("store_unavailable"));
    NGX_HTTP_SERVICE_UNAVAILABLE as ngx_int_t
}

/// Answers the provider's callback and logout URIs; `None` for any other URI.
fn endpoint(
    r: &mut ngx_http_request_t,
    provider: &Rc<Provider>,
    sealer: &Rc<Sealer>,
) -> Option<ngx_int_t> {
    let s = &provider.settings;
    let uri = r.uri;
    let uri = str_bytes(&uri);
    if uri == s.redirect_path.as_bytes() {
        return Some(callback(r, provider, sealer));
    }
    let is = |u: &Option<String>| u.as_deref().is_some_and(|u| u.as_bytes() == uri);
    if is(&s.logout_uri) {
        Some(logout(r, provider))
    } else if is(&s.backchannel_logout_uri) {
        Some(backchannel::handle(r, provider))
    } else if is(&s.frontchannel_logout_uri) {
        Some(frontchannel::handle(r, provider))
    } else {
        None
    }
}

/// A request that no `auth_oidc` covers: the callback and logout URIs of the providers that
/// `auth_oidc` names elsewhere in the server are answered all the same, so that protecting
/// `/app/` alone needs no location for `/oidc_callback`.
fn endpoint_elsewhere(r: &mut ngx_http_request_t) -> ngx_int_t {
    let uri = r.uri;
    let Some(provider) = OidcSrv::of(r).and_then(|srv| srv.endpoint_of(str_bytes(&uri))) else {
        return Status::NGX_DECLINED.into();
    };
    let sealer = OidcMain::of(r).and_then(|m| m.sealer.borrow().clone());
    let (Some(sealer), Some(_)) = (sealer, OidcCtx::of_or_create(r)) else {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    };
    endpoint(r, &provider, &sealer).unwrap_or(Status::NGX_DECLINED.into())
}

/// A request with an access token: admitted by it or refused, never sent to log in.
fn admit_bearer(
    r: &mut ngx_http_request_t,
    provider: &Rc<Provider>,
    token: &[u8],
    scheme: Scheme,
    now: i64,
) -> ngx_int_t {
    let ready = match ready(r, provider) {
        Ok(ready) => ready,
        Err(rc) => return rc,
    };
    let verified = if bearer::introspects(provider, token) {
        match bearer::introspect(r, provider, &ready, token, now) {
            Outcome::Done(verified) => verified,
            Outcome::Wait => return Status::NGX_AGAIN.into(),
            Outcome::Unavailable(why) => {
                request::log(r).error(
                    NGX_LOG_ERR,
                    0,
                    format_args!("auth_oidc: the token cannot be introspected: {why}"),
                );
                set_ctx(r, |c| c.error = Some("provider_unavailable"));
                return NGX_HTTP_SERVICE_UNAVAILABLE as ngx_int_t;
            }
        }
    } else {
        bearer::verify(r, provider, &ready, token, now)
    };
    let verified = verified.and_then(|verified| {
        bearer::admit(r, provider, &verified, scheme, token, now).map(|()| verified)
    });
    match verified {
        Ok(verified) => {
            set_ctx(r, |c| {
                c.bearer = Some(verified);
                c.provider = Some(provider.name.clone());
            });
            match strip_cookies(r, &provider.settings.cookie_name) {
                Some(()) => Status::NGX_OK.into(),
                None => NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t,
            }
        }
        Err(err) => {
            bearer::log_refusal(r, &err);
            let code = match err {
                JwtError::InsufficientScope(_) => "insufficient_scope",
                _ => "bad_token",
            };
            set_ctx(r, |c| c.error = Some(code));
            bearer::refuse(r, provider, scheme, &err)
        }
    }
}

fn set_ctx(r: &ngx_http_request_t, f: impl FnOnce(&mut Found)) {
    if let Some(ctx) = OidcCtx::of(r) {
        f(&mut ctx.found.borrow_mut());
    }
}

/// Logs why at `info` and keeps the word for `$oidc_error`.
fn refused(r: &mut ngx_http_request_t, code: &'static str, why: core::fmt::Arguments) {
    request::log(r).error(NGX_LOG_INFO, 0, format_args!("auth_oidc: {why}"));
    set_ctx(r, |c| c.error = Some(code));
}

/// A top-level navigation of a browser: `Sec-Fetch-Mode: navigate`, or without that header an
/// `Accept` with `text/html`; GET or HEAD only, since a redirect loses a body.
fn navigation(r: &mut ngx_http_request_t) -> bool {
    if r.method != NGX_HTTP_GET as usize && r.method != NGX_HTTP_HEAD as usize {
        return false;
    }
    if let Some(mode) = request_header(r, "Sec-Fetch-Mode") {
        return mode.eq_ignore_ascii_case(b"navigate");
    }
    request_header(r, "Accept").is_some_and(|accept| {
        accept
            .windows(9)
            .any(|w| w.eq_ignore_ascii_case(b"text/html"))
    })
}

/// The metadata, or the status to answer while it is not there.
fn ready(
    r: &mut ngx_http_request_t,
    provider: &Rc<Provider>,
) -> Result<Rc<super::provider::Ready>, ngx_int_t> {
    match provider.ready(r) {
        Readiness::Ready(ready) => Ok(ready),
        Readiness::Wait => Err(Status::NGX_AGAIN.into()),
        Readiness::Failed(why) => {
            request::log(r).error(
                NGX_LOG_ERR,
                0,
                format_args!(
                    "auth_oidc: provider \"{}\" is unavailable: {why}",
                    provider.name
                ),
            );
            set_ctx(r, |c| c.error = Some("provider_unavailable"));
            Err(NGX_HTTP_BAD_GATEWAY as ngx_int_t)
        }
    }
}

fn redirect(r: &mut ngx_http_request_t, url: &str) -> ngx_int_t {
    match set_location(r, url.as_bytes()) {
        Some(()) => NGX_HTTP_MOVED_TEMPORARILY as ngx_int_t,
        None => NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t,
    }
}

/// The absolute `redirect_uri` for this request.
fn redirect_uri(r: &mut ngx_http_request_t, provider: &Provider) -> String {
    let s = &provider.settings;
    match &s.redirect_absolute {
        Some(uri) => uri.clone(),
        None => format!("{}{}", origin(r), s.redirect_path),
    }
}

fn login(r: &mut ngx_http_request_t, provider: &Rc<Provider>, sealer: &Sealer) -> ngx_int_t {
    let ready = match ready(r, provider) {
        Ok(ready) => ready,
        Err(rc) => return rc,
    };
    let s = &provider.settings;
    let pkce = s.pkce.unwrap_or(ready.metadata.pkce_s256);
    let unparsed = String::from_utf8_lossy(str_bytes(&r.unparsed_uri)).into_owned();
    let domain = s.cookie_domain.as_deref();
    let back = match domain {
        Some(_) => return_to(&origin(r), &unparsed, domain),
        None => unparsed,
    };
    let Ok(login) = Login::start(&back, domain, pkce, request::now()) else {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    };
    let Ok(sealed) = login.seal(sealer, &provider.name) else {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    };
    // Logins that were never finished (tabs left open) are forgotten past a few, before
    // their cookies swell the Cookie header.
    let header = cookies(r);
    let pending = cookie::names_with_prefix(&header, &format!("{}_login_", s.cookie_name));
    if pending.len() >= MAX_PENDING_LOGINS {
        for stale in pending {
            if set_cookie(r, provider, stale, "", Some(0)).is_none() {
                return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
            }
        }
    }
    let name = Login::cookie_name(&s.cookie_name, &login.state);
    if set_cookie(r, provider, &name, &sealed, Some(LOGIN_TIMEOUT)).is_none() {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    }
    let redirect_uri = redirect_uri(r, provider);
    let url = login.authorization_url(
        &ready.metadata,
        &AuthRequest {
            client_id: &s.client_id,
            redirect_uri: &redirect_uri,
            scope: &s.scope,
            extra: &s.extra_auth_args,
        },
    );
    request::debug(r, format_args!("auth_oidc: login at \"{}\"", provider.name));
    redirect(r, &url)
}

fn callback(r: &mut ngx_http_request_t, provider: &Rc<Provider>, sealer: &Rc<Sealer>) -> ngx_int_t {
    let header = cookies(r);
    let exchange = OidcCtx::of(r).and_then(|c| c.found.borrow().exchange.clone());
    if let Some(exchange) = exchange {
        let outcome = exchange.outcome.borrow_mut().take();
        return match outcome {
            Some(outcome) => finish(r, provider, &header, sealer, &exchange, outcome),
            None if park(r, &exchange.waiters, provider.limit()) => Status::NGX_AGAIN.into(),
            None => {
                refused(
                    r,
                    "provider_unavailable",
                    format_args!("the token endpoint did not answer in time"),
                );
                NGX_HTTP_GATEWAY_TIME_OUT as ngx_int_t
            }
        };
    }

    let query = String::from_utf8_lossy(str_bytes(&r.args)).into_owned();
    let Some(state) = Callback::state(&query) else {
        refused(
            r,
            "bad_callback",
            format_args!("callback refused: no state"),
        );
        return NGX_HTTP_UNAUTHORIZED as ngx_int_t;
    };
    let s = &provider.settings;
    let login_cookie = Login::cookie_name(&s.cookie_name, &state);
    let login = cookie::get(&header, &login_cookie)
        .and_then(|v| Login::open(sealer, &provider.name, v.as_bytes(), request::now()));
    let Some(login) = login else {
        refused(
            r,
            "bad_state",
            format_args!("callback refused: no login in progress for this state"),
        );
        return NGX_HTTP_UNAUTHORIZED as ngx_int_t;
    };
    // First, as it may wait: nothing is answered yet when the handler runs again.
    let ready = match ready(r, provider) {
        Ok(ready) => ready,
        Err(rc) => return rc,
    };
    // This login is over, whatever comes next.
    if set_cookie(r, provider, &login_cookie, "", Some(0)).is_none() {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    }
    let callback = match Callback::parse(&query) {
        Ok(callback) => callback,
        Err(err) => {
            refused(r, err.code(), format_args!("callback refused: {err}"));
            return NGX_HTTP_UNAUTHORIZED as ngx_int_t;
        }
    };
    if let Err(err) = callback.check(&login, &ready.metadata.issuer, ready.metadata.iss_parameter) {
        refused(r, err.code(), format_args!("callback refused: {err}"));
        return NGX_HTTP_UNAUTHORIZED as ngx_int_t;
    }

    let exchange = Rc::new(Exchange {
        login,
        outcome: Default::default(),
        stored: Default::default(),
        waiters: Default::default(),
    });
    set_ctx(r, |c| c.exchange = Some(exchange.clone()));
    // Parked first: an exchange that ends at once still wakes the request.
    if !park(r, &exchange.waiters, provider.limit()) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    }
    let redirect_uri = redirect_uri(r, provider);
    let provider = provider.clone();
    let sealer = sealer.clone();
    net::spawn("auth_oidc", async move {
        let outcome =
            exchange::run(&provider, &ready, &callback.code, &redirect_uri, &exchange).await;
        if let (Ok(session), Some(cluster)) = (&outcome, provider.ticket_store()) {
            let stored = store_login(&cluster, &sealer, &provider.name, session).await;
            *exchange.stored.borrow_mut() = Some(stored);
        }
        *exchange.outcome.borrow_mut() = Some(outcome);
        exchange.waiters.wake_all();
    });
    Status::NGX_AGAIN.into()
}

fn finish(
    r: &mut ngx_http_request_t,
    provider: &Provider,
    header: &[u8],
    sealer: &Sealer,
    exchange: &Exchange,
    outcome: Result<Session, exchange::ExchangeError>,
) -> ngx_int_t {
    let session = match outcome {
        Ok(session) => session,
        Err(err) => {
            let level = if err.is_upstream() {
                NGX_LOG_ERR
            } else {
                NGX_LOG_INFO
            };
            request::log(r).error(level, 0, format_args!("auth_oidc: login failed: {err}"));
            set_ctx(r, |c| c.error = Some(err.code()));
            return if err.is_upstream() {
                NGX_HTTP_BAD_GATEWAY as ngx_int_t
            } else {
                NGX_HTTP_UNAUTHORIZED as ngx_int_t
            };
        }
    };
    let saved = match provider.ticket_store() {
        Some(cluster) => match exchange.stored.borrow_mut().take() {
            Some(Ok((ticket, sealed))) => {
                sessions::adopt(r, provider, header, &ticket, &sealed, session.ends)
            }
            Some(Err(err)) => return store_failed(r, &cluster, &err),
            None => Err(SaveError::Store),
        },
        None => {
            let Ok(sealed) = session.seal(sealer, &provider.name) else {
                return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
            };
            sessions::save(r, provider, header, &sealed, (None, None), session.ends)
        }
    };
    match saved {
        Ok(()) => {}
        Err(SaveError::TooLarge) => {
            refused(
                r,
                "session_too_large",
                format_args!("login failed: the session does not fit in {MAX_PARTS} cookies"),
            );
            return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
        }
        Err(SaveError::Store) => {
            request::log(r).error(
                NGX_LOG_ERR,
                0,
                format_args!("auth_oidc: login failed: the session cannot be stored"),
            );
            return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
        }
    }
    request::log(r).error(
        NGX_LOG_INFO,
        0,
        format_args!(
            "auth_oidc: \"{}\" logged in at \"{}\"",
            session.sub.escape_default(),
            provider.name
        ),
    );
    let domain = provider.settings.cookie_domain.as_deref();
    redirect(r, return_target(&exchange.login.return_to, domain))
}

fn logout(r: &mut ngx_http_request_t, provider: &Rc<Provider>) -> ngx_int_t {
    // First, as it may wait: nothing is answered yet when the handler runs again.
    let metadata = match provider.ready(r) {
        Readiness::Ready(ready) => Some(ready),
        Readiness::Wait => return Status::NGX_AGAIN.into(),
        Readiness::Failed(_) => None,
    };
    let s = &provider.settings;
    let header = cookies(r);
    let now = request::now();
    let sealer = OidcMain::of(r).and_then(|m| m.sealer.borrow().clone());
    let loaded = match sessions::load(provider, &header, now) {
        Some(Ok(loaded)) => Some(loaded),
        Some(Err(Missing::Fetch(ticket))) => match fetch(r, provider, ticket, now) {
            Ok(found) => found.ok(),
            Err(rc) if rc == Status::NGX_AGAIN.0 => return rc,
            // The store failed and said so: the session still ends here.
            Err(_) => None,
        },
        _ => None,
    };
    let session = sealer
        .zip(loaded)
        .and_then(|(sealer, loaded)| loaded.open(provider, &sealer, now).ok());
    // Copies of the cookie are refused too, on every node.
    if let Some(session) = &session {
        let id = backchannel::login_id(provider, session);
        backchannel::mark(r, provider, &id, (now, session.ends), false);
    }
    let id_token = session.map(|session| session.id_token.clone());
    // A session ends: what the browser cached of it goes too (this origin's cache only).
    let had_session = cookie::get(&header, &s.cookie_name).is_some();
    if sessions::end(r, provider, &header).is_none()
        || had_session && add_header(r, "Clear-Site-Data", b"\"cache\"").is_none()
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    }
    // The provider needs an absolute URI, which it checks against the registered ones; a
    // redirect of this server keeps a path relative, for nginx to make absolute.
    let absolute = s.post_logout_uri.as_ref().map(|uri| {
        if uri.starts_with('/') {
            format!("{}{uri}", origin(r))
        } else {
            uri.clone()
        }
    });
    let hint = if s.logout_token_hint {
        id_token.as_deref()
    } else {
        None
    };
    let target = match metadata.filter(|m| m.metadata.end_session_endpoint.is_some()) {
        Some(ready) => logout_url(&ready.metadata, &s.client_id, absolute.as_deref(), hint),
        None => s.post_logout_uri.clone(),
    };
    redirect(r, target.as_deref().unwrap_or("/"))
}

/// Keeps a login's session in the cluster's store, under a new ticket.
async fn store_login(
    cluster: &Cluster,
    sealer: &Sealer,
    provider: &str,
    session: &Session,
) -> Result<(Ticket, String), RedisError> {
    let sealed = session
        .seal(sealer, provider)
        .map_err(|e| RedisError::Io(e.to_string()))?;
    let ticket = Ticket::new().map_err(|e| RedisError::Io(e.to_string()))?;
    cluster
        .keep(&ticket, &sealed, session.ends - request::now())
        .await?;
    Ok((ticket, sealed))
}
