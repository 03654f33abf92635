//! Where a request's session lives: sealed in its cookies (split over several when large),
//! with `session_store` in a shared zone, the cookie holding a random id, or in an
//! `auth_redis` store, the cookie holding a ticket (an id and the key the session is sealed
//! with there) and the node a copy of the sessions it opened.

use std::borrow::Cow;
use std::rc::Rc;

use auth_core::oidc::cookie;
use auth_core::oidc::login::in_domain;
use auth_core::oidc::session::{id_from_text, id_text, new_id};
use auth_core::oidc::ticket::Ticket;
use auth_core::oidc::{Sealer, Session, SessionError};
use ngx::ffi::{ngx_http_request_t, NGX_LOG_WARN};

use super::headers::{add_header, is_https};
use super::provider::Provider;
use crate::request;
use crate::text::str_bytes;

/// A session as the request brought it.
pub struct Loaded<'a> {
    pub sealed: Cow<'a, str>,
    /// Its id in the store.
    pub key: Option<[u8; 32]>,
    /// Its ticket, when an `auth_redis` keeps it.
    pub ticket: Option<Ticket>,
    /// The session, when this worker opened its ticket lately (`sealed` is then empty).
    pub opened: Option<Rc<Session>>,
}

impl Loaded<'_> {
    /// The session, opened once per worker while it is used.
    pub fn open(
        &self,
        provider: &Provider,
        sealer: &Sealer,
        now: i64,
    ) -> Result<Rc<Session>, SessionError> {
        if let Some(session) = &self.opened {
            return Ok(session.clone());
        }
        let session = provider.open_session(sealer, self.sealed.as_bytes(), now)?;
        if let Some(ticket) = &self.ticket {
            provider.remember_ticket(ticket, session.clone());
        }
        Ok(session)
    }
}

/// Why a request's session is not there.
pub enum Missing {
    Refused(&'static str),
    /// Not on this node: the store is asked.
    Fetch(Ticket),
}

#[derive(Debug)]
pub enum SaveError {
    /// It does not fit in the cookies.
    TooLarge,
    /// The store has no room, or no random id could be made.
    Store,
}

fn attributes(r: &ngx_http_request_t) -> &'static str {
    if is_https(r) {
        "; Path=/; HttpOnly; Secure; SameSite=Lax"
    } else {
        "; Path=/; HttpOnly; SameSite=Lax"
    }
}

/// The `Domain` of the provider's cookies for `r`: its `cookie_domain` when the request's host
/// lies in it; else none, and the cookie stays with the host.
pub fn cookie_domain<'a>(r: &ngx_http_request_t, provider: &'a Provider) -> Option<&'a str> {
    let domain = provider.settings.cookie_domain.as_deref()?;
    let host = core::str::from_utf8(str_bytes(&r.headers_in.server)).ok()?;
    in_domain(host, domain).then_some(domain)
}

/// Adds `Set-Cookie` for the provider's cookie `name`; `max_age` 0 expires it, `None` makes it
/// last as long as the browser session.
pub fn set_cookie(
    r: &mut ngx_http_request_t,
    provider: &Provider,
    name: &str,
    value: &str,
    max_age: Option<i64>,
) -> Option<()> {
    let mut line = format!("{name}={value}{}", attributes(r));
    if let Some(domain) = cookie_domain(r, provider) {
        line.push_str("; Domain=");
        line.push_str(domain);
    }
    match max_age {
        Some(0) => line.push_str("; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
        Some(age) => line.push_str(&format!("; Max-Age={age}")),
        None => {}
    }
    add_header(r, "Set-Cookie", line.as_bytes()).map(|_| ())
}

/// The request's session, still sealed: `None` without a session cookie, `Err` when its id
/// names nothing in the store, or when the node must ask the cluster's store for it.
pub fn load<'a>(
    provider: &Provider,
    header: &'a [u8],
    now: i64,
) -> Option<Result<Loaded<'a>, Missing>> {
    let (value, _) = cookie::join(header, &provider.settings.cookie_name)?;
    if let Some(cluster) = provider.ticket_store() {
        let Some(ticket) = Ticket::parse(&value) else {
            return Some(Err(Missing::Refused("the session ticket is not valid")));
        };
        if let Some(session) = provider.opened_ticket(&ticket, now) {
            return Some(Ok(Loaded {
                sealed: Cow::Borrowed(""),
                key: None,
                ticket: Some(ticket),
                opened: Some(session),
            }));
        }
        return Some(match cluster.cache.get(&ticket.name(), now) {
            Some(sealed) => String::from_utf8(sealed)
                .map(|sealed| Loaded {
                    sealed: Cow::Owned(sealed),
                    key: None,
                    ticket: Some(ticket),
                    opened: None,
                })
                .map_err(|_| Missing::Refused("the stored session is not valid")),
            None => Err(Missing::Fetch(ticket)),
        });
    }
    let Some(store) = provider.store() else {
        return Some(Ok(Loaded {
            sealed: value,
            key: None,
            ticket: None,
            opened: None,
        }));
    };
    let Some(key) = id_from_text(&value) else {
        return Some(Err(Missing::Refused("the session id is not valid")));
    };
    Some(match store.get(&key, now) {
        Some(sealed) => String::from_utf8(sealed)
            .map(|sealed| Loaded {
                sealed: Cow::Owned(sealed),
                key: Some(key),
                ticket: None,
                opened: None,
            })
            .map_err(|_| Missing::Refused("the stored session is not valid")),
        None => Err(Missing::Refused(
            "no such session in the store (ended, logged out or dropped)",
        )),
    })
}

/// A session fetched from the cluster's store, `sealed`, kept on this node too.
pub fn fetched<'a>(provider: &Provider, ticket: Ticket, sealed: String, now: i64) -> Loaded<'a> {
    if let Some(cluster) = provider.ticket_store() {
        let until = now + provider.settings.session_timeout as i64;
        cluster
            .cache
            .put(&ticket.name(), sealed.as_bytes(), until, now);
    }
    Loaded {
        sealed: Cow::Owned(sealed),
        key: None,
        ticket: Some(ticket),
        opened: None,
    }
}

/// A login's session, kept in the cluster's store under `ticket` already: kept on this node
/// too, the cookie set to the ticket, and the browser's earlier session forgotten.
pub fn adopt(
    r: &mut ngx_http_request_t,
    provider: &Provider,
    header: &[u8],
    ticket: &Ticket,
    sealed: &str,
    until: i64,
) -> Result<(), SaveError> {
    let cluster = provider.ticket_store().ok_or(SaveError::Store)?;
    let name = &provider.settings.cookie_name;
    let before = cookie::join(header, name);
    if let Some(old) = before.as_ref().and_then(|(v, _)| Ticket::parse(v)) {
        provider.forget_ticket(&old);
        cluster.forget(&old);
    }
    cluster
        .cache
        .put(&ticket.name(), sealed.as_bytes(), until, request::now());
    set_cookie(r, provider, name, &ticket.text(), None).ok_or(SaveError::Store)?;
    let before = before.map_or(0, |(_, n)| n);
    expire_parts(r, provider, name, 1, before).ok_or(SaveError::Store)
}

/// Keeps `sealed`, which lasts until `until`: in the cookies, or in the store under `key`, a
/// new id when `None`. `header`, the request's cookies, has the session cookies it replaces:
/// the parts no longer needed are expired, and a login's earlier session leaves the store.
pub fn save(
    r: &mut ngx_http_request_t,
    provider: &Provider,
    header: &[u8],
    sealed: &str,
    loaded: (Option<[u8; 32]>, Option<&Ticket>),
    until: i64,
) -> Result<(), SaveError> {
    let (key, ticket) = loaded;
    if let Some(cluster) = provider.ticket_store() {
        // A refresh: the ticket stays; a login goes through adopt().
        let ticket = ticket.ok_or(SaveError::Store)?;
        let now = request::now();
        cluster
            .cache
            .put(&ticket.name(), sealed.as_bytes(), until, now);
        cluster.keep_later(ticket.clone(), sealed.to_owned(), until - now);
        return Ok(());
    }
    let name = &provider.settings.cookie_name;
    let before = cookie::join(header, name);
    let Some(store) = provider.store() else {
        let parts = cookie::split(name, sealed).ok_or(SaveError::TooLarge)?;
        for (name, value) in &parts {
            set_cookie(r, provider, name, value, None).ok_or(SaveError::Store)?;
        }
        let before = before.map_or(0, |(_, n)| n);
        return expire_parts(r, provider, name, parts.len(), before).ok_or(SaveError::Store);
    };
    let now = request::now();
    let (key, new) = match key {
        Some(key) => (key, false),
        None => {
            // A login: the id of an earlier session is not reused.
            if let Some(old) = before.as_ref().and_then(|(v, _)| id_from_text(v)) {
                store.remove(&old);
            }
            (new_id().map_err(|_| SaveError::Store)?, true)
        }
    };
    let dropped = store
        .put(&key, sealed.as_bytes(), until, now)
        .ok_or(SaveError::Store)?;
    if dropped > 0 {
        request::log(r).error(
            NGX_LOG_WARN,
            0,
            format_args!(
                "auth_oidc: oidc_session_zone \"{}\" is full: {dropped} session{} dropped",
                store.name,
                if dropped == 1 { "" } else { "s" }
            ),
        );
    }
    if !new {
        // The browser's cookie names the updated session already.
        return Ok(());
    }
    set_cookie(r, provider, name, &id_text(&key), None).ok_or(SaveError::Store)?;
    let before = before.map_or(0, |(_, n)| n);
    expire_parts(r, provider, name, 1, before).ok_or(SaveError::Store)
}

/// Ends the session of the request's cookies, `header`: its cookies expired, and its entry in
/// the store removed.
pub fn end(r: &mut ngx_http_request_t, provider: &Provider, header: &[u8]) -> Option<()> {
    let name = &provider.settings.cookie_name;
    let joined = cookie::join(header, name);
    if let (Some(cluster), Some((value, _))) = (provider.ticket_store(), &joined) {
        if let Some(ticket) = Ticket::parse(value) {
            provider.forget_ticket(&ticket);
            cluster.forget(&ticket);
        }
    }
    if let (Some(store), Some((value, _))) = (provider.store(), &joined) {
        if let Some(key) = id_from_text(value) {
            store.remove(&key);
        }
    }
    let parts = joined.map_or(1, |(_, n)| n);
    expire_parts(r, provider, name, 0, parts.max(1))
}

/// Expires the parts `from..to` of a session cookie that a shorter one no longer has.
fn expire_parts(
    r: &mut ngx_http_request_t,
    provider: &Provider,
    name: &str,
    from: usize,
    to: usize,
) -> Option<()> {
    for i in from..to {
        let part = if i == 0 {
            name.to_owned()
        } else {
            format!("{name}_{i}")
        };
        set_cookie(r, provider, &part, "", Some(0))?;
    }
    Some(())
}
