//! One `oidc_provider` block: its settings, and in each worker its metadata and keys, fetched
//! in the background and refreshed; requests that need them before the first fetch ends wait.

use core::cell::{Cell, RefCell};
use core::ffi::{c_char, c_void};
use core::num::NonZeroUsize;
use core::ptr;
use core::time::Duration;
use std::rc::Rc;

use auth_core::http::Url;
use auth_core::keys::{self, Key, KeyFormat};
use auth_core::oidc::metadata::check_issuer;
use auth_core::oidc::opened::Opened;
use auth_core::oidc::{Metadata, Sealer, Session, SessionError};
use ngx::core::{NGX_CONF_ERROR, NGX_CONF_OK};
use ngx::ffi::{
    ngx_command_t, ngx_conf_parse, ngx_conf_t, ngx_cycle, ngx_cycle_t, ngx_http_request_t,
    ngx_msec_t, ngx_resolver_t, NGX_LOG_EMERG, NGX_LOG_ERR, NGX_LOG_INFO, NGX_LOG_WARN,
};

use super::store::Store;
use super::{OidcCtx, OidcMain};
use crate::directive::{self, args, parse_seconds, position, readable_path};
use crate::log::Sink;
use crate::net::client::{self, Reach};
use crate::net::ssl::SslContexts;
use crate::net::{self};
use crate::part::{MainPart, RequestPart};
use crate::text::{str_bytes, text};
use crate::wait::Waiters;
use crate::worker::{cycle_log, shutting_down};

const MAX_BODY: usize = 256 * 1024;
/// Metadata and keys are fetched again this often...
const REFRESH: u64 = 60 * 60;
/// ...and after a failure, sooner: from this...
const RETRY_MIN: u64 = 5;
/// ...doubling up to this.
const RETRY_MAX: u64 = 5 * 60;
/// Waits allowed per request.
const MAX_WAITS: u8 = 8;
/// Sessions kept opened per worker and provider.
const OPENED: NonZeroUsize = NonZeroUsize::new(512).unwrap();

/// The directives of an `oidc_provider` block.
pub struct Settings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub config_url: Option<Url>,
    pub cookie_name: String,
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
    pub post_logout_uri: Option<String>,
    pub logout_token_hint: bool,
    pub pkce: Option<bool>,
    pub session_timeout: u64,
    /// `session_store`: the `oidc_session_zone` that keeps the sessions.
    pub session_store: Option<String>,
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
            extra_auth_args: String::new(),
            scope: "openid".into(),
            redirect_path: "/oidc_callback".into(),
            redirect_absolute: None,
            logout_uri: None,
            backchannel_logout_uri: None,
            frontchannel_logout_uri: None,
            bearer_audiences: Vec::new(),
            post_logout_uri: None,
            logout_token_hint: false,
            pkce: None,
            session_timeout: 8 * 60 * 60,
            session_store: None,
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

#[derive(Default)]
struct State {
    ready: Option<Rc<Ready>>,
    /// Why the last fetch failed.
    error: Option<String>,
    /// A fetch has ended, well or not.
    tried: bool,
    started: bool,
}

pub struct Provider {
    pub name: String,
    /// `config_url`, by default the issuer's well-known metadata.
    config_url: Url,
    pub settings: Settings,
    reach: Cell<Option<Reach>>,
    store: RefCell<Option<Rc<Store>>>,
    /// This worker's sessions opened recently.
    opened: RefCell<Opened>,
    state: RefCell<State>,
    waiters: Waiters,
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

    let saved = *cf;
    cf.handler = Some(provider_directive);
    cf.handler_conf = ptr::from_mut(&mut *settings).cast();
    // SAFETY: cf is the live configuration; the block's directives go to provider_directive
    // with the settings, which outlive the call.
    let rv = unsafe { ngx_conf_parse(cf, ptr::null_mut()) };
    *cf = saved;
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
    main.providers.borrow_mut().push(Rc::new(Provider {
        name,
        config_url,
        settings: *settings,
        reach: Cell::new(None),
        store: RefCell::new(None),
        opened: RefCell::new(Opened::new(OPENED)),
        state: RefCell::default(),
        waiters: Waiters::default(),
    }));
    NGX_CONF_OK
}

/// One directive inside `oidc_provider { }`.
unsafe extern "C" fn provider_directive(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    // SAFETY: nginx passes the live configuration and the handler_conf set above.
    let (cf, settings) = unsafe { (&mut *cf, &mut *conf.cast::<Settings>()) };
    let result = crate::guard::catch(|| directive(cf, settings))
        .unwrap_or_else(|panic| Err(format!("internal error: {panic}")));
    match result {
        Ok(()) => NGX_CONF_OK,
        Err(why) => {
            let name = str_bytes(&args(cf)[0]).escape_ascii().to_string();
            Sink::Conf(cf).error(NGX_LOG_EMERG, 0, format_args!("\"{name}\": {why}"));
            NGX_CONF_ERROR
        }
    }
}

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
    let flag = || -> Result<bool, String> {
        match one()?.as_str() {
            "on" => Ok(true),
            "off" => Ok(false),
            other => Err(format!(
                "invalid value \"{other}\"; it must be \"on\" or \"off\""
            )),
        }
    };
    let path_or_https = |value: String| -> Result<(String, Option<String>), String> {
        if value.starts_with('/') {
            return Ok((value, None));
        }
        match Url::parse(&value) {
            Ok(url) if url.https || url.host_is_loopback() => {
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
        other => return Err(format!("unknown directive \"{}\"", other.escape_ascii())),
    }
    Ok(())
}

impl Provider {
    /// The TLS context and resolver; called after the configuration is read.
    pub fn prepare(
        &self,
        cf: &mut ngx_conf_t,
        contexts: &SslContexts,
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

    /// The zone of `session_store`, if any.
    pub fn store(&self) -> Option<Rc<Store>> {
        self.store.borrow().clone()
    }

    /// Finds the zone that `session_store` names among `stores`.
    pub fn set_store(&self, stores: &[Rc<Store>]) -> Result<(), String> {
        let Some(name) = &self.settings.session_store else {
            return Ok(());
        };
        let store = stores
            .iter()
            .find(|s| &s.name == name)
            .ok_or_else(|| format!("session_store \"{name}\": no oidc_session_zone \"{name}\""))?;
        *self.store.borrow_mut() = Some(store.clone());
        Ok(())
    }

    fn config_url(&self) -> &Url {
        &self.config_url
    }

    /// Starts this worker's background fetches, once.
    fn start(self: &Rc<Self>) {
        {
            let mut state = self.state.borrow_mut();
            if state.started {
                return;
            }
            state.started = true;
        }
        let provider = self.clone();
        // SAFETY: reading the current cycle's address.
        let cycle = unsafe { ngx_cycle };
        net::spawn("auth_oidc", async move {
            let mut retry = RETRY_MIN;
            // SAFETY: as above.
            while !shutting_down() && unsafe { ngx_cycle } == cycle {
                let delay = match provider.fetch().await {
                    Ok(ready) => {
                        cycle_log().error(
                            NGX_LOG_INFO,
                            0,
                            format_args!(
                                "auth_oidc: provider \"{}\": metadata and {} key{} in use",
                                provider.name,
                                ready.keys.len(),
                                if ready.keys.len() == 1 { "" } else { "s" }
                            ),
                        );
                        let mut state = provider.state.borrow_mut();
                        state.ready = Some(Rc::new(ready));
                        state.error = None;
                        retry = RETRY_MIN;
                        REFRESH
                    }
                    Err(why) => {
                        let mut state = provider.state.borrow_mut();
                        let kept = if state.ready.is_some() {
                            ", the metadata and keys fetched before stay in use"
                        } else {
                            ""
                        };
                        cycle_log().error(
                            NGX_LOG_ERR,
                            0,
                            format_args!("auth_oidc: provider \"{}\": {why}{kept}", provider.name),
                        );
                        state.error = Some(why);
                        let delay = retry;
                        retry = (retry * 2).min(RETRY_MAX);
                        delay
                    }
                };
                provider.state.borrow_mut().tried = true;
                provider.waiters.wake_all();
                ngx::async_::sleep(Duration::from_secs(delay)).await;
            }
        });
    }

    async fn fetch(&self) -> Result<Ready, String> {
        let reach = self.reach().ok_or("not prepared")?;
        let url = self.config_url();
        let response = client::get(url, &reach, "fetching OpenID Provider metadata")
            .await
            .map_err(|err| format!("fetching \"{url}\" failed: {err}"))?;
        if response.status != 200 {
            return Err(format!("\"{url}\" answered {}", response.status));
        }
        let metadata = Metadata::parse(&self.settings.issuer, &response.body)
            .map_err(|err| format!("\"{url}\": {err}"))?;
        if self.settings.userinfo && metadata.userinfo_endpoint.is_none() {
            return Err(format!(
                "\"{url}\" has no \"userinfo_endpoint\", which \"userinfo on\" needs"
            ));
        }
        let jwks = &metadata.jwks_uri;
        let response = client::get(jwks, &reach, "fetching keys")
            .await
            .map_err(|err| format!("fetching \"{jwks}\" failed: {err}"))?;
        if response.status != 200 {
            return Err(format!("\"{jwks}\" answered {}", response.status));
        }
        let loaded = keys::load(&response.body, Some(KeyFormat::Jwks))
            .map_err(|err| format!("\"{jwks}\": {err}"))?;
        for skipped in &loaded.skipped {
            cycle_log().error(
                NGX_LOG_WARN,
                0,
                format_args!("auth_oidc: \"{jwks}\": {skipped}, skipped"),
            );
        }
        Ok(Ready {
            metadata,
            keys: loaded.keys,
            generation: crate::file_cache::next_generation(),
        })
    }

    /// The provider's metadata and keys for `r`, which waits when the first fetch has not
    /// ended yet.
    pub fn ready(self: &Rc<Self>, r: &mut ngx_http_request_t) -> Readiness {
        self.start();
        let state = self.state.borrow();
        if let Some(ready) = &state.ready {
            return Readiness::Ready(ready.clone());
        }
        if state.tried {
            return Readiness::Failed(state.error.clone().unwrap_or_default());
        }
        drop(state);
        if park(r, &self.waiters, self.limit()) {
            Readiness::Wait
        } else {
            Readiness::Failed("no metadata yet".into())
        }
    }

    /// The metadata and keys of this worker, if a fetch gave them.
    pub fn current(&self) -> Option<Rc<Ready>> {
        self.state.borrow().ready.clone()
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
    if let Some(ctx) = OidcCtx::of(r) {
        ctx.waits.set(waits + 1);
    }
    true
}

/// Starts this worker's fetches: called when the worker starts.
pub fn start_all(cycle: &ngx_cycle_t) {
    let Some(main) = OidcMain::of(cycle) else {
        return;
    };
    for provider in main.providers.borrow().iter() {
        provider.start();
    }
}
