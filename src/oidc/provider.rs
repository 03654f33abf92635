//! One `oidc_provider` block: its settings, and in each worker its metadata and keys, fetched
//! in the background and refreshed; requests that need them before the first fetch ends wait.

use core::cell::{Cell, RefCell};
use core::ffi::{c_char, c_void};
use core::num::NonZeroUsize;
use core::time::Duration;
use std::rc::Rc;

use auth_core::http::Url;
use auth_core::jwt::scope::is_scope_token;
use auth_core::key_url::{Schedule, DEFAULT_COOLDOWN};
use auth_core::keys::Key;
use auth_core::oidc::metadata::check_issuer;
use auth_core::oidc::opened::{Opened, OpenedTickets};
use auth_core::oidc::ticket::Ticket;
use auth_core::oidc::{Metadata, Sealer, Session, SessionError};
use ngx::core::{NGX_CONF_ERROR, NGX_CONF_OK};
use ngx::ffi::{
    ngx_command_t, ngx_conf_t, ngx_http_request_t, ngx_msec_t, ngx_resolver_t, NGX_LOG_EMERG,
    NGX_LOG_ERR, NGX_LOG_INFO,
};

use super::cluster::Cluster;
use super::store::Store;
use super::{OidcCtx, OidcMain};
use crate::bearer::introspection::{Introspector, Zone};
use crate::bearer::Dpop;
use crate::directive::{self, args, parse_seconds, position, readable_path};
use crate::dpop::Replays;
use crate::key_source::{self, Check, Fetched, KeySource, KeySources, UrlKeys};
use crate::log::Sink;
use crate::net::client::Reach;
use crate::net::ssl::SslContexts;
use crate::part::RequestPart;
use crate::redis::RedisStores;
use crate::text::{str_bytes, text};
use crate::wait::Waiters;
use crate::worker::cycle_log;

const MAX_BODY: usize = 256 * 1024;
/// The metadata and keys are fetched again this often, in seconds.
const REFRESH: u64 = 60 * 60;
/// Waits allowed per request.
const MAX_WAITS: u8 = 8;
/// Seconds an introspection's answer is kept, in bearer mode.
const INTROSPECTION_CACHE: u64 = 60;

/// Sessions kept opened per worker and provider.
const OPENED: NonZeroUsize = NonZeroUsize::new(512).unwrap();

/// The directives of an `oidc_provider` block.
pub struct Settings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub config_url: Option<Url>,
    pub cookie_name: String,
    /// `cookie_domain`: the parent domain the session cookie is set for, in lower case.
    pub cookie_domain: Option<String>,
    pub extra_auth_args: String,
    pub scope: String,
    /// `redirect_uri`: its path, and the whole URI when it is absolute.
    pub redirect_path: String,
    pub redirect_absolute: Option<String>,
    pub logout_uri: Option<String>,
    /// Where the provider POSTs logout tokens (Back-Channel Logout 1.0).
    pub backchannel_logout_uri: Option<String>,
    /// Where the provider sends the browser to log out (Front-Channel Logout 1.0).
    pub frontchannel_logout_uri: Option<String>,
    /// `bearer_audience`: with any, `Authorization: Bearer` access tokens for them admit.
    pub bearer_audiences: Vec<String>,
    /// `bearer_scope`: every one must be granted to an access token.
    pub bearer_scopes: Vec<String>,
    /// `bearer_dpop`, and the proofs seen when it is not off.
    pub bearer_dpop: Dpop,
    pub bearer_replays: Option<Replays>,
    /// `bearer_introspection on`: the zone of the answers.
    pub bearer_introspection: Option<Rc<Zone>>,
    pub post_logout_uri: Option<String>,
    pub logout_token_hint: bool,
    pub pkce: Option<bool>,
    pub session_timeout: u64,
    /// `session_store`: the `oidc_session_zone` or `auth_redis` that keeps the sessions.
    pub session_store: Option<String>,
    /// `cluster`: the `auth_redis` through which the nodes share logouts and refreshes.
    pub cluster: Option<String>,
    /// `userinfo on`: the UserInfo endpoint's claims are kept in the session.
    pub userinfo: bool,
    pub ssl_trusted: Vec<u8>,
    pub ssl_crl: Vec<u8>,
    /// Seconds for each exchange with the provider.
    pub timeout: u64,
    /// Where the block is.
    pub at: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            issuer: String::new(),
            client_id: String::new(),
            client_secret: None,
            config_url: None,
            cookie_name: "NGX_OIDC_SESSION".into(),
            cookie_domain: None,
            extra_auth_args: String::new(),
            scope: "openid".into(),
            redirect_path: "/oidc_callback".into(),
            redirect_absolute: None,
            logout_uri: None,
            backchannel_logout_uri: None,
            frontchannel_logout_uri: None,
            bearer_audiences: Vec::new(),
            bearer_scopes: Vec::new(),
            bearer_dpop: Dpop::Off,
            bearer_replays: None,
            bearer_introspection: None,
            post_logout_uri: None,
            logout_token_hint: false,
            pkce: None,
            session_timeout: 8 * 60 * 60,
            session_store: None,
            cluster: None,
            userinfo: false,
            ssl_trusted: Vec::new(),
            ssl_crl: Vec::new(),
            timeout: 10,
            at: String::new(),
        }
    }
}

impl Settings {
    /// The provider's callback (`redirect_uri`) and logout URIs: the paths it answers itself.
    pub fn endpoints(&self) -> impl Iterator<Item = &str> + Clone {
        [
            Some(&self.redirect_path),
            self.logout_uri.as_ref(),
            self.backchannel_logout_uri.as_ref(),
            self.frontchannel_logout_uri.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
    }

    /// Whether `uri` is one of the provider's `endpoints`.
    pub fn is_endpoint(&self, uri: &[u8]) -> bool {
        self.endpoints().any(|e| e.as_bytes() == uri)
    }
}

/// What a worker knows of the provider once a fetch succeeded.
pub struct Ready {
    pub metadata: Metadata,
    pub keys: Vec<Key>,
    /// Distinct for every fetch: what was verified with other keys is not taken from caches.
    pub generation: u64,
}

/// The metadata and keys of one fetch of the key source, as this worker read them (or why
/// they cannot be used), so that each fetch is parsed and logged once.
struct Read {
    generation: u64,
    ready: Result<Rc<Ready>, String>,
}

pub struct Provider {
    pub name: String,
    /// `config_url`, by default the issuer's well-known metadata.
    config_url: Url,
    pub settings: Settings,
    /// With `bearer_introspection on`: how opaque access tokens are asked about.
    pub introspector: Option<Rc<Introspector>>,
    reach: Cell<Option<Reach>>,
    /// Where the metadata and keys come from: `config_url`, fetched once per nginx.
    source: RefCell<Option<Rc<KeySource>>>,
    store: RefCell<Option<Rc<Store>>>,
    /// With `cluster`, or a `session_store` that names an `auth_redis`.
    cluster: RefCell<Option<Rc<Cluster>>>,
    /// The sessions are kept in the cluster's store.
    stored: Cell<bool>,
    /// This worker's sessions opened recently.
    opened: RefCell<Opened>,
    /// And its stored sessions, by ticket.
    opened_tickets: RefCell<OpenedTickets>,
    read: RefCell<Option<Read>>,
}

/// What a request gets of the provider.
pub enum Readiness {
    Ready(Rc<Ready>),
    /// Parked until the first fetch ends.
    Wait,
    /// The provider could not be reached, or its answers were refused: why.
    Failed(String),
}

/// `oidc_provider name { ... }`.
pub fn set_oidc_provider(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    // SAFETY: nginx passes a valid configuration context; cmd.offset is this part's.
    let (cf, main) = unsafe { (&mut *cf, directive::part::<OidcMain>(c, cmd)) };
    let fail = |cf: &mut ngx_conf_t, why: String| {
        Sink::Conf(cf).error(NGX_LOG_EMERG, 0, format_args!("\"oidc_provider\": {why}"));
        NGX_CONF_ERROR
    };
    let name = match text(&args(cf)[1]) {
        Ok(name) if !name.is_empty() => name.to_owned(),
        _ => return fail(cf, "invalid name".into()),
    };
    if main.providers.borrow().iter().any(|p| p.name == name) {
        return fail(cf, format!("\"{name}\" is duplicate"));
    }
    let mut settings = Box::new(Settings {
        at: position(cf),
        ..Settings::default()
    });
    let rv = directive::block(cf, &mut *settings, directive);
    if rv != NGX_CONF_OK {
        return rv;
    }

    let missing = if settings.issuer.is_empty() {
        Some("issuer")
    } else if settings.client_id.is_empty() {
        Some("client_id")
    } else {
        None
    };
    if let Some(missing) = missing {
        return fail(cf, format!("\"{name}\" has no \"{missing}\""));
    }
    if settings.cookie_domain.is_some() && settings.cookie_name.starts_with("__Host-") {
        return fail(
            cf,
            format!("\"{name}\": a \"__Host-\" cookie_name cannot have a cookie_domain"),
        );
    }
    let config_url = match settings.config_url.clone() {
        Some(url) => url,
        None => {
            let issuer = settings.issuer.trim_end_matches('/');
            match Url::parse(&format!("{issuer}/.well-known/openid-configuration")) {
                Ok(url) => url,
                Err(err) => return fail(cf, format!("\"{name}\": {err}")),
            }
        }
    };
    let introspector = settings.bearer_introspection.is_some().then(|| {
        Rc::new(Introspector {
            who: format!("auth_oidc: provider \"{name}\""),
            client_id: Some(settings.client_id.clone()),
            client_secret: settings.client_secret.clone(),
            cache: INTROSPECTION_CACHE,
            timeout: settings.timeout,
        })
    });
    main.providers.borrow_mut().push(Rc::new(Provider {
        name,
        config_url,
        introspector,
        settings: *settings,
        reach: Cell::new(None),
        source: RefCell::new(None),
        store: RefCell::new(None),
        cluster: RefCell::new(None),
        stored: Cell::new(false),
        opened: RefCell::new(Opened::new(OPENED)),
        opened_tickets: RefCell::new(OpenedTickets::new(OPENED)),
        read: RefCell::new(None),
    }));
    NGX_CONF_OK
}

/// One directive inside `oidc_provider { }`.
fn directive(cf: &mut ngx_conf_t, s: &mut Settings) -> Result<(), String> {
    let all = args(cf);
    let name = str_bytes(&all[0]);
    let values = &all[1..];
    let one = || -> Result<String, String> {
        match values {
            [value] => text(value).map(str::to_owned),
            _ => Err("takes one argument".into()),
        }
    };
    let flag = || -> Result<bool, String> { directive::flag(one()?.as_bytes()) };
    let path_or_https = |value: String| -> Result<(String, Option<String>), String> {
        if value.starts_with('/') {
            return Ok((value, None));
        }
        match Url::parse(&value) {
            Ok(url) if url.https || url.host_is_browser_loopback() => {
                let path = url.path.split('?').next().unwrap_or("/").to_owned();
                Ok((path, Some(value)))
            }
            _ => Err(format!("\"{value}\" is neither a path nor an https URL")),
        }
    };
    let path = |value: String| -> Result<String, String> {
        if value.starts_with('/') {
            Ok(value)
        } else {
            Err(format!("\"{value}\" is not a path"))
        }
    };
    match name {
        b"issuer" => {
            let issuer = one()?;
            check_issuer(&issuer).map_err(|why| format!("\"{issuer}\" {why}"))?;
            s.issuer = issuer;
        }
        b"client_id" => s.client_id = one()?,
        b"client_secret" => s.client_secret = Some(one()?),
        b"config_url" => {
            let text = one()?;
            let url = Url::parse(&text).map_err(|err| format!("invalid URL \"{text}\": {err}"))?;
            if !url.https && !url.host_is_loopback() {
                return Err(format!("\"{text}\" must be https"));
            }
            s.config_url = Some(url);
        }
        b"cookie_name" => {
            let value = one()?;
            let token = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
            if value.is_empty() || !value.bytes().all(token) {
                return Err(format!("invalid cookie name \"{value}\""));
            }
            s.cookie_name = value;
        }
        b"cookie_domain" => {
            let value = one()?;
            let domain = value
                .strip_prefix('.')
                .unwrap_or(&value)
                .to_ascii_lowercase();
            if !is_domain_name(&domain) {
                return Err(format!("invalid domain \"{value}\""));
            }
            s.cookie_domain = Some(domain);
        }
        b"extra_auth_args" => s.extra_auth_args = one()?,
        b"scope" => {
            let scopes = values.iter().map(text).collect::<Result<Vec<_>, _>>()?;
            if scopes.is_empty() {
                return Err("takes at least one scope".into());
            }
            s.scope = scopes.join(" ");
        }
        b"redirect_uri" => (s.redirect_path, s.redirect_absolute) = path_or_https(one()?)?,
        b"logout_uri" => s.logout_uri = Some(path(one()?)?),
        b"backchannel_logout_uri" => s.backchannel_logout_uri = Some(path(one()?)?),
        b"frontchannel_logout_uri" => s.frontchannel_logout_uri = Some(path(one()?)?),
        b"bearer_audience" => {
            if values.is_empty() {
                return Err("takes at least one audience".into());
            }
            for value in values {
                s.bearer_audiences.push(text(value)?.to_owned());
            }
        }
        b"bearer_scope" => {
            let scopes = values
                .iter()
                .map(|v| text(v).map(str::to_owned))
                .collect::<Result<Vec<_>, _>>()?;
            if scopes.is_empty() {
                return Err("takes at least one scope".into());
            }
            if let Some(bad) = scopes.iter().find(|s| !is_scope_token(s)) {
                return Err(format!("invalid scope \"{}\"", bad.escape_default()));
            }
            s.bearer_scopes = scopes;
        }
        b"bearer_introspection" => {
            s.bearer_introspection = if directive::flag(one()?.as_bytes())? {
                Some(Zone::add(cf)?)
            } else {
                None
            };
        }
        b"bearer_dpop" => {
            s.bearer_dpop = Dpop::parse(one()?.as_bytes())?;
            if s.bearer_dpop != Dpop::Off {
                s.bearer_replays = Some(Replays::add(cf).ok_or("cannot add the DPoP zone")?);
            }
        }
        b"post_logout_uri" => {
            let value = one()?;
            path_or_https(value.clone())?;
            s.post_logout_uri = Some(value);
        }
        b"logout_token_hint" => s.logout_token_hint = flag()?,
        b"pkce" => s.pkce = Some(flag()?),
        b"session_timeout" => {
            let value = one()?;
            s.session_timeout = parse_seconds(value.as_bytes())
                .filter(|&t| t > 0)
                .ok_or_else(|| format!("invalid time \"{value}\""))?;
        }
        b"ssl_trusted_certificate" => {
            one()?;
            s.ssl_trusted = readable_path(cf, &values[0])?;
        }
        b"userinfo" => s.userinfo = flag()?,
        b"ssl_crl" => {
            one()?;
            s.ssl_crl = readable_path(cf, &values[0])?;
        }
        b"session_store" => s.session_store = Some(one()?),
        b"cluster" => s.cluster = Some(one()?),
        other => return Err(format!("unknown directive \"{}\"", other.escape_ascii())),
    }
    Ok(())
}

/// A DNS name (not an address) that a cookie's `Domain` may name.
fn is_domain_name(name: &str) -> bool {
    let label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
    };
    name.len() <= 253
        && name.split('.').all(label)
        && !name
            .rsplit('.')
            .next()
            .is_some_and(|top| top.bytes().all(|c| c.is_ascii_digit()))
}

impl Provider {
    /// The TLS context and resolver; called after the configuration is read.
    pub fn prepare(
        &self,
        cf: &mut ngx_conf_t,
        contexts: &SslContexts,
        sources: &KeySources,
        resolver: *mut ngx_resolver_t,
        resolver_timeout: ngx_msec_t,
    ) -> Result<(), String> {
        let url = self.config_url();
        // SAFETY: a non-null resolver comes from the core module's configuration.
        let has_resolver = unsafe { resolver.as_ref() }.is_some_and(|r| r.connections.nelts > 0);
        if !url.host_is_address() && !has_resolver {
            return Err(format!(
                "no resolver defined to resolve \"{}\"; add \"resolver\" to the http block",
                url.host
            ));
        }
        let trust = crate::net::ssl::Trust {
            trusted: self.settings.ssl_trusted.clone(),
            crl: self.settings.ssl_crl.clone(),
        };
        let ssl = contexts.get(cf, &trust)?;
        self.reach.set(Some(Reach {
            ssl,
            resolver,
            resolver_timeout,
            timeout: Duration::from_secs(self.settings.timeout),
            max_body: MAX_BODY,
        }));
        // The metadata and keys: once per nginx, hourly, again at once for a token with an
        // unknown kid (at most every 30 s), and after a failure in 5 s, doubling up to 5
        // minutes. Metadata that cannot be used is a failure: what was fetched before stays.
        let settings = key_source::Settings {
            url: url.clone(),
            schedule: Schedule {
                refresh: Some(REFRESH),
                cooldown: DEFAULT_COOLDOWN,
            },
            timeout: self.settings.timeout,
            backoff: true,
        };
        let (issuer, userinfo, shown) = (
            self.settings.issuer.clone(),
            self.settings.userinfo,
            url.to_string(),
        );
        let check: Check = Box::new(move |discovery: &[u8]| {
            if discovery.is_empty() {
                return Err(format!(
                    "\"{shown}\" is a JWK Set, not the provider's metadata"
                ));
            }
            let metadata =
                Metadata::parse(&issuer, discovery).map_err(|err| format!("\"{shown}\": {err}"))?;
            if userinfo && metadata.userinfo_endpoint.is_none() {
                return Err(format!(
                    "\"{shown}\" has no \"userinfo_endpoint\", which \"userinfo on\" needs"
                ));
            }
            Ok(())
        });
        let who = format!("auth_oidc: provider \"{}\"", self.name);
        let source = sources.source(
            cf,
            &who,
            &settings,
            Some(check),
            &trust,
            resolver,
            resolver_timeout,
            contexts,
        )?;
        *self.source.borrow_mut() = Some(source);
        Ok(())
    }

    pub fn reach(&self) -> Option<Reach> {
        self.reach.get()
    }

    /// The session sealed in `sealed`, opened once per worker while it is used.
    pub fn open_session(
        &self,
        sealer: &Sealer,
        sealed: &[u8],
        now: i64,
    ) -> Result<Rc<Session>, SessionError> {
        self.opened
            .borrow_mut()
            .open(sealer, &self.name, sealed, now)
    }

    /// The stored session of `ticket`, if this worker opened it lately.
    pub fn opened_ticket(&self, ticket: &Ticket, now: i64) -> Option<Rc<Session>> {
        self.opened_tickets.borrow_mut().get(ticket, now)
    }

    pub fn remember_ticket(&self, ticket: &Ticket, session: Rc<Session>) {
        self.opened_tickets.borrow_mut().put(ticket, session);
    }

    pub fn forget_ticket(&self, ticket: &Ticket) {
        self.opened_tickets.borrow_mut().remove(ticket);
    }

    /// The zone of `session_store`, if any.
    pub fn store(&self) -> Option<Rc<Store>> {
        self.store.borrow().clone()
    }

    /// The cluster of `cluster`, or of a `session_store` that names an `auth_redis`.
    pub fn cluster(&self) -> Option<Rc<Cluster>> {
        self.cluster.borrow().clone()
    }

    /// The cluster whose store keeps the sessions, if it does.
    pub fn ticket_store(&self) -> Option<Rc<Cluster>> {
        self.stored.get().then(|| self.cluster()).flatten()
    }

    /// Finds what `session_store` and `cluster` name: an `oidc_session_zone` among `stores`,
    /// or an `auth_redis` among `redis`, whose cluster is made once in `clusters`.
    pub fn set_store(
        &self,
        cf: &mut ngx_conf_t,
        stores: &[Rc<Store>],
        redis: Option<&RedisStores>,
        clusters: &RefCell<Vec<Rc<Cluster>>>,
        zone: super::zone::Zone,
    ) -> Result<(), String> {
        let s = &self.settings;
        let find_redis = |name: &str| redis.and_then(|r| r.find(name));
        if let Some(name) = &s.session_store {
            match (stores.iter().find(|s| &s.name == name), find_redis(name)) {
                (Some(store), None) => *self.store.borrow_mut() = Some(store.clone()),
                (None, Some(_)) => self.stored.set(true),
                _ => {
                    return Err(format!(
                        "session_store \"{name}\": no oidc_session_zone or auth_redis \"{name}\""
                    ))
                }
            }
        }
        let stored = self
            .stored
            .get()
            .then_some(s.session_store.as_ref())
            .flatten();
        let name = match (&s.cluster, stored) {
            (Some(cluster), Some(store)) if cluster != store => {
                return Err(format!(
                    "cluster \"{cluster}\" and session_store \"{store}\" name different stores"
                ));
            }
            (Some(name), _) | (None, Some(name)) => name,
            (None, None) => return Ok(()),
        };
        let redis = find_redis(name)
            .ok_or_else(|| format!("cluster \"{name}\": no auth_redis \"{name}\""))?;
        let found = clusters
            .borrow()
            .iter()
            .find(|c| Rc::ptr_eq(&c.redis, &redis))
            .cloned();
        let cluster = match found {
            Some(cluster) => cluster,
            None => {
                let number = clusters.borrow().len() + 1;
                let cluster = Rc::new(Cluster::add(cf, redis, zone, number)?);
                clusters.borrow_mut().push(cluster.clone());
                cluster
            }
        };
        *self.cluster.borrow_mut() = Some(cluster);
        Ok(())
    }

    fn config_url(&self) -> &Url {
        &self.config_url
    }

    fn source(&self) -> Option<Rc<KeySource>> {
        self.source.borrow().clone()
    }

    /// The metadata and keys of `keys`, read once per fetch.
    fn read(&self, keys: &UrlKeys) -> Result<Rc<Ready>, String> {
        if let Some(read) = self.read.borrow().as_ref() {
            if read.generation == keys.generation {
                return read.ready.clone();
            }
        }
        let url = self.config_url();
        let ready = match keys.discovery.as_deref() {
            None => Err(format!(
                "\"{url}\" is a JWK Set, not the provider's metadata"
            )),
            Some(body) => Metadata::parse(&self.settings.issuer, body)
                .map_err(|err| format!("\"{url}\": {err}"))
                .and_then(|metadata| {
                    if self.settings.userinfo && metadata.userinfo_endpoint.is_none() {
                        return Err(format!(
                            "\"{url}\" has no \"userinfo_endpoint\", which \"userinfo on\" needs"
                        ));
                    }
                    Ok(Rc::new(Ready {
                        metadata,
                        keys: keys.keys.clone(),
                        generation: keys.generation,
                    }))
                }),
        };
        match &ready {
            Ok(ready) => cycle_log().error(
                NGX_LOG_INFO,
                0,
                format_args!(
                    "auth_oidc: provider \"{}\": metadata and {} key{} in use",
                    self.name,
                    ready.keys.len(),
                    if ready.keys.len() == 1 { "" } else { "s" }
                ),
            ),
            Err(why) => cycle_log().error(
                NGX_LOG_ERR,
                0,
                format_args!("auth_oidc: provider \"{}\": {why}", self.name),
            ),
        }
        *self.read.borrow_mut() = Some(Read {
            generation: keys.generation,
            ready: ready.clone(),
        });
        ready
    }

    /// The provider's metadata and keys for `r`, which waits when the first fetch has not
    /// ended yet.
    pub fn ready(self: &Rc<Self>, r: &mut ngx_http_request_t) -> Readiness {
        let Some(source) = self.source() else {
            return Readiness::Failed("not prepared".into());
        };
        let Some(waits) = OidcCtx::of_or_create(r).map(|ctx| ctx.waits.get()) else {
            return Readiness::Failed("out of memory".into());
        };
        match source.keys_for(r, waits) {
            Fetched::Keys(keys) => match self.read(&keys) {
                Ok(ready) => Readiness::Ready(ready),
                Err(why) => Readiness::Failed(why),
            },
            Fetched::Wait => {
                waited(r);
                Readiness::Wait
            }
            Fetched::Failed => Readiness::Failed(
                source
                    .error()
                    .unwrap_or_else(|| "no metadata and keys yet".into()),
            ),
        }
    }

    /// The metadata and keys of this worker, if a fetch gave them.
    pub fn current(&self) -> Option<Rc<Ready>> {
        let keys = self.source()?.current()?;
        self.read(&keys).ok()
    }

    /// For a token whose `kid` no key has (or without one, that no key verifies) in the keys of
    /// generation `seen`: newer keys of this worker, else the keys fetched again, at most once
    /// per cooldown for the whole nginx, by this task or another worker; `None` when that
    /// cannot help.
    pub async fn refetched(&self, seen: u64) -> Option<Rc<Ready>> {
        if let Some(current) = self.current().filter(|c| c.generation != seen) {
            return Some(current);
        }
        if !self.source()?.refetched().await {
            return None;
        }
        self.current()
    }

    /// The same for a request: parks it until the keys are fetched again; true when parked.
    pub fn refetch_for_unknown_kid(&self, r: &mut ngx_http_request_t) -> bool {
        let Some(source) = self.source() else {
            return false;
        };
        let Some(waits) = OidcCtx::of_or_create(r).map(|ctx| ctx.waits.get()) else {
            return false;
        };
        let parked = source.refetch_for_unknown_kid(r, waits) == Some(true);
        if parked {
            waited(r);
        }
        parked
    }

    /// How long a request waits for one exchange with the provider.
    pub fn limit(&self) -> ngx_msec_t {
        (self.settings.timeout * 1000 + 1000) as ngx_msec_t
    }
}

/// Parks `r` in `waiters`, unless it has waited too often already.
pub fn park(r: &mut ngx_http_request_t, waiters: &Waiters, limit: ngx_msec_t) -> bool {
    let Some(ctx) = OidcCtx::of_or_create(r) else {
        return false;
    };
    let waits = ctx.waits.get();
    if waits >= MAX_WAITS || !waiters.park(r, limit) {
        return false;
    }
    waited(r);
    true
}

/// Counts a wait of the request.
fn waited(r: &ngx_http_request_t) {
    if let Some(ctx) = OidcCtx::of(r) {
        ctx.waits.set(ctx.waits.get() + 1);
    }
}
