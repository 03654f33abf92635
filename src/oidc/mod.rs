//! `oidc_provider`, `auth_oidc` and `oidc_session_key`: an OpenID Connect relying party in the
//! worker. The provider's metadata and keys are fetched in the background; a browser without
//! a session is sent to log in, the callback's code is exchanged on nginx's event loop, and
//! the session lives in a sealed cookie.

mod backchannel;
mod bearer;
mod cache_control;
mod cluster;
mod exchange;
mod frontchannel;
mod handler;
mod headers;
mod provider;
mod refresh;
mod sessions;
mod store;
pub mod variables;
pub mod zone;

use core::cell::{Cell, RefCell};
use core::ffi::{c_char, c_void};
use core::ptr::NonNull;
use std::rc::Rc;
use std::sync::OnceLock;

use auth_core::oidc::seal::random_secret;
use auth_core::oidc::Sealer;
use ngx::ffi::{
    ngx_command_t, ngx_conf_t, ngx_http_complex_value_t, ngx_http_request_t, NGX_LOG_EMERG,
    NGX_LOG_ERR, NGX_LOG_WARN,
};
use ngx::http::{HttpModuleLocationConf, NgxHttpCoreModule};

pub use cache_control::{header_filter, set_auth_oidc_cache_control};
use exchange::Exchange;
pub use handler::access_handler;
pub use provider::set_oidc_provider;
use provider::Provider;
pub use store::set_oidc_session_zone;
use store::Store;
pub use variables::remote_user;

use crate::directive::{
    self, args, compile_complex_value, done, position, readable_path, DUPLICATE,
};
use crate::key_source::KeySources;
use crate::log::Sink;
use crate::net::ssl::SslContexts;
use crate::part::{MainPart, SrvPart};
use crate::redis::RedisError;
use crate::redis::RedisStores;
use crate::text::{str_bytes, text};
use crate::wait::{Awaited, Waiters};

/// What auth_oidc keeps for the whole configuration.
#[derive(Default)]
pub struct OidcMain {
    /// The `oidc_provider` blocks.
    providers: RefCell<Vec<Rc<Provider>>>,
    /// The `oidc_session_zone`s.
    stores: RefCell<Vec<Rc<Store>>>,
    /// What seals session cookies: `oidc_session_key`, or a secret of the process.
    sealer: RefCell<Option<Rc<Sealer>>>,
    /// Refreshes of all workers.
    zone: Cell<Option<zone::Zone>>,
    /// Requests of this worker that wait for a refresh.
    refresh_waiters: Waiters,
    /// The `auth_redis` stores that providers share state through.
    clusters: RefCell<Vec<Rc<cluster::Cluster>>>,
}

/// The providers that `auth_oidc` names somewhere in a server: their callback and logout URIs
/// are answered wherever in the server they land, also outside the locations they protect.
#[derive(Default)]
pub struct OidcSrv {
    providers: RefCell<Vec<Rc<Provider>>>,
}

impl OidcMain {
    /// Whether any `oidc_provider` is there.
    pub fn has_providers(&self) -> bool {
        !self.providers.borrow().is_empty()
    }
}

impl OidcSrv {
    /// Records `provider` in the server being merged, where an auth_oidc names it; `Err` with
    /// the name of a provider recorded before that answers one of the same URIs, which wins.
    fn register(cf: &ngx_conf_t, provider: &Rc<Provider>) -> Result<(), String> {
        let Some(srv) = OidcSrv::of(cf) else {
            return Ok(());
        };
        let mut providers = srv.providers.borrow_mut();
        if providers.iter().any(|p| Rc::ptr_eq(p, provider)) {
            return Ok(());
        }
        let ours = provider.settings.endpoints();
        let shared = providers
            .iter()
            .find(|p| p.settings.endpoints().any(|e| ours.clone().any(|o| o == e)))
            .map(|p| p.name.clone());
        providers.push(provider.clone());
        shared.map_or(Ok(()), Err)
    }

    /// The provider of the server whose callback or logout URI `uri` is.
    fn endpoint_of(&self, uri: &[u8]) -> Option<Rc<Provider>> {
        self.providers
            .borrow()
            .iter()
            .find(|p| p.settings.is_endpoint(uri))
            .cloned()
    }
}

/// auth_oidc's part of a request.
#[derive(Default)]
pub struct OidcCtx {
    /// What auth_oidc found.
    found: RefCell<Found>,
    /// How often auth_oidc parked the request for the provider's metadata or a code exchange.
    waits: Cell<u8>,
    /// How often it polled for another request's refresh.
    polls: Cell<u16>,
    /// The body of a back-channel logout request is in.
    body_read: Cell<bool>,
    /// How often it waited for an introspection of a bearer token.
    introspection_waits: Cell<u32>,
    /// Its session, asked of the cluster's store.
    fetch: RefCell<Option<Rc<Fetching>>>,
    /// Whether any node saw its logout token before.
    seen: RefCell<Option<Rc<Asking>>>,
}

/// A session asked of the cluster's store.
type Fetching = Awaited<Result<Option<String>, RedisError>>;
/// Whether a logout token is new to the cluster, asked of its store.
type Asking = Awaited<Result<bool, RedisError>>;

/// What auth_oidc found for a request.
#[derive(Default)]
pub struct Found {
    /// The provider whose session or token admitted the request.
    provider: Option<String>,
    /// The session that admitted the request.
    session: Option<Rc<auth_core::oidc::Session>>,
    /// The access token that admitted the request in bearer mode.
    bearer: Option<Rc<auth_core::jwt::Verified>>,
    /// Its ID token's claims, once a variable asked.
    claims: Option<Rc<serde_json::Map<String, serde_json::Value>>>,
    /// Why the request was not admitted, for `$oidc_error`.
    error: Option<&'static str>,
    /// The code exchange of a callback.
    exchange: Option<Rc<Exchange>>,
}

/// `auth_oidc` of a location.
#[derive(Default)]
pub struct OidcConf {
    /// `None`: not set here; `Some(None)`: `off`.
    name: Option<Option<String>>,
    /// A name with variables, evaluated per request.
    name_cv: Option<NonNull<ngx_http_complex_value_t>>,
    /// Where the directive is.
    at: String,
    pub provider: Option<Rc<Provider>>,
    /// `auth_oidc_cache_control`; `None`: not set here.
    cache_control: Option<bool>,
}

impl OidcConf {
    pub fn merge(&mut self, prev: &OidcConf) {
        if self.name.is_none() {
            self.name = prev.name.clone();
            self.name_cv = prev.name_cv;
            self.at = prev.at.clone();
            self.provider = prev.provider.clone();
        }
        if self.cache_control.is_none() {
            self.cache_control = prev.cache_control;
        }
    }

    /// The provider of `r`: `None` when there is none, or the name evaluates to "" or "off";
    /// `Err(())` when the name evaluates to no provider, which is logged.
    pub fn provider_for(&self, r: &mut ngx_http_request_t) -> Result<Option<Rc<Provider>>, ()> {
        let Some(cv) = self.name_cv else {
            return Ok(self.provider.clone());
        };
        let value = crate::request::complex_value(r, cv.as_ptr()).ok_or(())?;
        let name = str_bytes(&value);
        if name.is_empty() || name == b"off" {
            return Ok(None);
        }
        let found = OidcMain::of(r).and_then(|main| {
            main.providers
                .borrow()
                .iter()
                .find(|p| p.name.as_bytes() == name)
                .cloned()
        });
        if found.is_none() {
            crate::request::log(r).error(
                NGX_LOG_ERR,
                0,
                format_args!(
                    "auth_oidc: no oidc_provider \"{}\", the value of \"auth_oidc\" in {}",
                    name.escape_ascii(),
                    self.at
                ),
            );
            return Err(());
        }
        Ok(found)
    }
}

/// `auth_oidc name | off`.
pub fn set_auth_oidc(cf: *mut ngx_conf_t, cmd: *mut ngx_command_t, c: *mut c_void) -> *mut c_char {
    // SAFETY: nginx passes a valid configuration context; cmd.offset is this part's.
    let (cf, ocf) = unsafe { (&mut *cf, directive::part::<OidcConf>(c, cmd)) };
    if ocf.name.is_some() {
        return DUPLICATE;
    }
    let result = (|| {
        let arg = args(cf)[1];
        let name = text(&arg)?;
        ocf.at = position(cf);
        if name.contains('$') {
            let cv = compile_complex_value(cf, arg, false).ok_or("invalid value")?;
            ocf.name_cv = NonNull::new(cv);
            ocf.name = Some(None);
            return Ok(());
        }
        ocf.name = Some((name != "off").then(|| name.to_owned()));
        Ok(())
    })();
    done(cf, result)
}

/// Gives the location the provider that `auth_oidc` names, once every provider is known, and
/// the server the provider's callback and logout URIs.
pub fn resolve(cf: &mut ngx_conf_t, ocf: &mut OidcConf) -> Result<(), ()> {
    let Some(Some(name)) = &ocf.name else {
        return Ok(());
    };
    let found = match &ocf.provider {
        Some(provider) if &provider.name == name => Some(provider.clone()),
        _ => OidcMain::of(cf)
            .ok_or(())?
            .providers
            .borrow()
            .iter()
            .find(|p| &p.name == name)
            .cloned(),
    };
    match found {
        Some(provider) => {
            if let Err(other) = OidcSrv::register(cf, &provider) {
                Sink::Log(cf.log).error(
                    NGX_LOG_WARN,
                    0,
                    format_args!(
                        "\"auth_oidc\": oidc_provider \"{name}\" has a callback or logout URI of \
                         \"{other}\", in the same server: outside their locations it reaches \
                         \"{other}\" only; give each its own redirect_uri, in {}",
                        ocf.at
                    ),
                );
            }
            ocf.provider = Some(provider);
            Ok(())
        }
        None => {
            Sink::Log(cf.log).error(
                NGX_LOG_EMERG,
                0,
                format_args!("\"auth_oidc\": no oidc_provider \"{name}\" in {}", ocf.at),
            );
            Err(())
        }
    }
}

/// `oidc_session_key file ...`: the secrets that seal session cookies; the first seals, all
/// open, so that a secret can be rolled over.
pub fn set_oidc_session_key(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    // SAFETY: nginx passes a valid configuration context; cmd.offset is this part's.
    let (cf, main) = unsafe { (&mut *cf, directive::part::<OidcMain>(c, cmd)) };
    let result = (|| {
        if main.sealer.borrow().is_some() {
            return Err("is duplicate".to_owned());
        }
        let mut secrets = Vec::new();
        for arg in &args(cf)[1..] {
            let path = readable_path(cf, arg)?;
            let os = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&path);
            let secret = std::fs::read(os)
                .map_err(|err| format!("cannot read \"{}\": {err}", path.escape_ascii()))?;
            secrets.push(secret);
        }
        let refs: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
        let sealer = Sealer::new(&refs).map_err(|err| err.to_string())?;
        *main.sealer.borrow_mut() = Some(Rc::new(sealer));
        Ok(())
    })();
    done(cf, result)
}

/// The secret of a configuration without `oidc_session_key`: made once per nginx process, so
/// that sessions survive reloads but not a restart.
fn process_secret() -> Option<&'static [u8; 32]> {
    static SECRET: OnceLock<Option<[u8; 32]>> = OnceLock::new();
    SECRET.get_or_init(|| random_secret().ok()).as_ref()
}

/// After the configuration is read: each provider gets its TLS context and resolver, and the
/// configuration a sealer.
pub fn init(cf: &mut ngx_conf_t) -> Result<(), ()> {
    let (main, contexts) = (OidcMain::of(cf).ok_or(())?, SslContexts::of(cf).ok_or(())?);
    let sources = KeySources::of(cf).ok_or(())?;
    if main.providers.borrow().is_empty() {
        return Ok(());
    }
    if main.sealer.borrow().is_none() {
        let sealer = process_secret()
            .and_then(|s| Sealer::new(&[s]).ok())
            .ok_or(())?;
        *main.sealer.borrow_mut() = Some(Rc::new(sealer));
        let at = main.providers.borrow()[0].settings.at.clone();
        Sink::Log(cf.log).error(
            NGX_LOG_WARN,
            0,
            format_args!(
                "no \"oidc_session_key\": OpenID Connect sessions end when nginx restarts, \
                 for the oidc_provider in {at}"
            ),
        );
    }
    let zone = zone::Zone::add(cf).ok_or(())?;
    main.zone.set(Some(zone));
    let clcf = NgxHttpCoreModule::location_conf(cf).ok_or(())?;
    let (resolver, resolver_timeout) = (clcf.resolver, clcf.resolver_timeout);
    let providers = main.providers.borrow().clone();
    for (i, provider) in providers.iter().enumerate() {
        let name = &provider.settings.cookie_name;
        if let Some(other) = providers[..i]
            .iter()
            .find(|p| &p.settings.cookie_name == name)
        {
            Sink::Log(cf.log).error(
                NGX_LOG_EMERG,
                0,
                format_args!(
                    "\"oidc_provider\" \"{}\": cookie_name \"{name}\" is the one of \"{}\"; \
                     each provider needs its own in {}",
                    provider.name, other.name, provider.settings.at
                ),
            );
            return Err(());
        }
    }
    let stores = main.stores.borrow().clone();
    let redis = RedisStores::of(cf);
    let shared_name = stores
        .iter()
        .find_map(|s| redis.and_then(|r| r.find(&s.name)));
    if let Some(shared) = shared_name {
        Sink::Log(cf.log).error(
            NGX_LOG_EMERG,
            0,
            format_args!(
                "\"auth_redis\" \"{}\": an oidc_session_zone has the same name, in {}",
                shared.name, shared.settings.at
            ),
        );
        return Err(());
    }
    for provider in providers {
        let prepared = provider
            .set_store(cf, &stores, redis, &main.clusters, zone)
            .and_then(|()| provider.prepare(cf, contexts, sources, resolver, resolver_timeout));
        if let Err(why) = prepared {
            Sink::Log(cf.log).error(
                NGX_LOG_EMERG,
                0,
                format_args!(
                    "\"oidc_provider\" \"{}\": {why} in {}",
                    provider.name, provider.settings.at
                ),
            );
            return Err(());
        }
    }
    Ok(())
}

/// A worker starts: it listens for the other nodes' logouts.
pub fn start(cycle: &ngx::ffi::ngx_cycle_t) {
    let Some(main) = OidcMain::of(cycle) else {
        return;
    };
    for cluster in main.clusters.borrow().iter() {
        cluster.start();
    }
}
