//! Refreshing a session's tokens before they expire: one refresh per refresh token for the
//! whole nginx (the zone), the request that finds it due not kept waiting while the tokens are
//! still valid, and the new session handed to every request that still has the old cookie.

use std::rc::Rc;

use auth_core::keys::fingerprint;
use auth_core::oidc::id_token::{self, Expect};
use auth_core::oidc::token::{Grant, TokenError};
use auth_core::oidc::{Sealer, Session};
use ngx::ffi::{ngx_http_request_t, NGX_LOG_ERR, NGX_LOG_INFO, NGX_LOG_WARN};

use super::cluster;
use super::exchange::{token_request, userinfo, verify_fresh, ExchangeError, LEEWAY};
use super::provider::{Provider, Readiness, Ready};
use super::zone::Claim;
use super::{OidcCtx, OidcMain};
use crate::net;
use crate::part::{MainPart, RequestPart};
use crate::request;
use crate::worker::cycle_log;

/// A request with the old cookie polls the zone this often while another worker refreshes.
const POLL_MS: ngx::ffi::ngx_msec_t = 50;

/// What the handler does with a session.
pub enum Verdict {
    /// Admit with this session; `Some(sealed)`: a new one, to set as the cookie.
    Admit(Rc<Session>, Option<String>),
    /// The request waits for a refresh of expired tokens.
    Wait,
    /// The session is over: why.
    End(&'static str),
}

pub fn check(
    r: &mut ngx_http_request_t,
    provider: &Rc<Provider>,
    sealer: &Rc<Sealer>,
    session: Rc<Session>,
    now: i64,
) -> Verdict {
    let Some(refresh_token) = session.refresh_token.clone() else {
        return Verdict::Admit(session, None);
    };
    if !session.wants_refresh(now) {
        return Verdict::Admit(session, None);
    }
    let Some(main) = OidcMain::of(r) else {
        return Verdict::Admit(session, None);
    };
    let expired = session.expired(now);
    // The metadata first, so that a lease is not taken by a request that then waits for it.
    let ready = match provider.current() {
        Some(ready) => ready,
        None if !expired => return Verdict::Admit(session, None),
        None => match provider.ready(r) {
            Readiness::Ready(ready) => ready,
            Readiness::Wait => return Verdict::Wait,
            Readiness::Failed(_) => return Verdict::Admit(session, None),
        },
    };
    let id = fingerprint(&[provider.name.as_bytes(), refresh_token.as_bytes()]);
    // The token request, a refetch of the keys (two requests) and the UserInfo request.
    let lease = 4 * provider.settings.timeout as i64 + 1;
    let claim = match main.zone.get() {
        Some(zone) => zone.claim(&id, now, lease),
        None => Claim::Failed,
    };
    match claim {
        Claim::Done(value) => match Session::open(sealer, &provider.name, &value, now) {
            Ok(new) => Verdict::Admit(Rc::new(new), String::from_utf8(value).ok()),
            Err(_) if expired => Verdict::End("the refreshed session cannot be opened"),
            Err(_) => Verdict::Admit(session, None),
        },
        Claim::Refresh => {
            let task_provider = provider.clone();
            let task_sealer = sealer.clone();
            let old = (*session).clone();
            net::spawn("auth_oidc", async move {
                run(&task_provider, &ready, &task_sealer, old, &id).await;
            });
            // The request that refreshes waits for it, to hand the browser the new cookie;
            // the others of the session go on meanwhile while their tokens are valid.
            wait(r)
        }
        Claim::Busy if expired => wait(r),
        Claim::Spent if expired => Verdict::End("its refresh token was spent or refused"),
        Claim::Busy | Claim::Spent | Claim::Failed => Verdict::Admit(session, None),
    }
}

/// Parks the request for a poll of the zone; woken sooner when this worker's refresh ends.
fn wait(r: &mut ngx_http_request_t) -> Verdict {
    let Some(main) = OidcMain::of(r) else {
        return Verdict::End("no configuration");
    };
    let Some(ctx) = OidcCtx::of_or_create(r) else {
        return Verdict::End("out of memory");
    };
    let polls = ctx.polls.get();
    if polls >= 400 || !main.refresh_waiters.park(r, POLL_MS) {
        return Verdict::End("the refresh did not end in time");
    }
    if let Some(ctx) = OidcCtx::of(r) {
        ctx.polls.set(polls + 1);
    }
    Verdict::Wait
}

async fn run(provider: &Provider, ready: &Ready, sealer: &Sealer, old: Session, id: &[u8; 32]) {
    // SAFETY: the cycle's configuration lives as long as the worker runs this task.
    let main = unsafe { OidcMain::of(&*ngx::ffi::ngx_cycle) };
    let zone = main.and_then(|m| m.zone.get());
    let refresh_token = old.refresh_token.clone().unwrap_or_default();
    // Across nodes: one refresh per refresh token, the others take its outcome.
    let cluster = provider.cluster();
    let mut claimed = false;
    if let Some(cluster) = &cluster {
        let lease = 4 * provider.settings.timeout as i64 + 1;
        let now = request::now();
        match cluster.claim(id, &refresh_token, lease).await {
            cluster::Claim::Mine => claimed = true,
            cluster::Claim::Done(sealed) => {
                if let Some(zone) = zone {
                    zone.done(id, request::now(), &sealed, old.ends);
                }
                return wake(main);
            }
            cluster::Claim::Refused => {
                if let Some(zone) = zone {
                    zone.failed(id, now, true, old.ends);
                }
                return wake(main);
            }
            cluster::Claim::Unavailable(err) => cycle_log().error(
                NGX_LOG_WARN,
                0,
                format_args!(
                    "auth_oidc: tokens refreshed at \"{}\" by this node alone: {} failed: {err}",
                    provider.name,
                    cluster.shown()
                ),
            ),
        }
    }
    let outcome = refresh(provider, ready, &old).await;
    let now = request::now();
    let spent = (old.ends - now).max(super::zone::GRACE);
    match outcome.and_then(|new| {
        new.seal(sealer, &provider.name)
            .map_err(|_| ExchangeError::Seal)
    }) {
        Ok(sealed) => {
            if let Some(zone) = zone {
                if !zone.done(id, now, sealed.as_bytes(), old.ends) {
                    cycle_log().error(
                        NGX_LOG_ERR,
                        0,
                        format_args!(
                            "auth_oidc: no room in the shared zone for a refreshed session"
                        ),
                    );
                }
            }
            cycle_log().error(
                NGX_LOG_INFO,
                0,
                format_args!("auth_oidc: tokens refreshed at \"{}\"", provider.name),
            );
            if let (Some(cluster), true) = (&cluster, claimed) {
                let outcome = Some(Some(sealed.as_bytes()));
                cluster.settle(id, &refresh_token, outcome, spent).await;
            }
        }
        Err(err) => {
            let (level, refused, outcome) = if err.refused_by_provider() {
                (NGX_LOG_INFO, true, "")
            } else if err.answer_refused() {
                (
                    NGX_LOG_ERR,
                    true,
                    "; the answer is refused, the session ends when its tokens expire",
                )
            } else {
                (NGX_LOG_ERR, false, "")
            };
            cycle_log().error(
                level,
                0,
                format_args!(
                    "auth_oidc: refreshing the tokens at \"{}\" failed: {err}{outcome}",
                    provider.name
                ),
            );
            if let Some(zone) = zone {
                zone.failed(id, now, refused, old.ends);
            }
            if let (Some(cluster), true) = (&cluster, claimed) {
                let outcome = refused.then_some(None);
                cluster.settle(id, &refresh_token, outcome, spent).await;
            }
        }
    }
    wake(main);
}

fn wake(main: Option<&OidcMain>) {
    if let Some(main) = main {
        main.refresh_waiters.wake_all();
    }
}

async fn refresh(
    provider: &Provider,
    ready: &Ready,
    old: &Session,
) -> Result<Session, ExchangeError> {
    let s = &provider.settings;
    let metadata = &ready.metadata;
    let refresh_token = old.refresh_token.as_deref().unwrap_or_default();
    let grant = Grant::Refresh { refresh_token };
    let tokens = token_request(provider, ready, &grant, "refreshing tokens").await?;
    let now = request::now();
    let (id_token, sid, exp) = match tokens.id_token {
        Some(id_token) => {
            let policy = id_token::policy(metadata, &s.client_id, LEEWAY);
            let verified = verify_fresh(provider, ready, id_token.as_bytes(), &policy, now).await?;
            let expect = Expect::Refresh { sub: &old.sub };
            let id = id_token::check(&verified, &s.client_id, expect, now, LEEWAY)?;
            (id_token, id.sid.or_else(|| old.sid.clone()), id.exp)
        }
        None => (old.id_token.clone(), old.sid.clone(), old.tokens_expire),
    };
    let tokens_expire = tokens.expires_in.map_or(exp, |e| now.saturating_add(e));
    if tokens_expire <= now {
        return Err(ExchangeError::Token(TokenError::Missing("expires_in")));
    }
    let userinfo = userinfo(provider, ready, &tokens.access_token, &old.sub).await?;
    Ok(Session {
        sub: old.sub.clone(),
        sid,
        id_token,
        access_token: Some(tokens.access_token),
        refresh_token: tokens.refresh_token.or_else(|| old.refresh_token.clone()),
        started: old.started,
        refreshed: now,
        tokens_expire,
        ends: now.saturating_add(s.session_timeout as i64),
        userinfo,
    })
}
