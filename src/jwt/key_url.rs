//! `auth_jwt_key_url`: JWK Sets fetched from an identity provider by each worker, in the
//! background, with nginx's resolver and TLS. A request never waits on the network except for
//! the first fetch after the worker started and for a refetch that a token with an unknown
//! `kid` asked for; both are bounded by the URL's timeout.

use core::cell::{Cell, RefCell};
use core::ffi::{c_char, c_void};
use core::time::Duration;
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use auth_core::http::Url;
use auth_core::key_url::{Document, Schedule, DEFAULT_COOLDOWN};
use auth_core::keys::{self, fingerprint, Key, KeyFormat};
use ngx::ffi::{
    ngx_command_t, ngx_conf_t, ngx_cycle, ngx_cycle_t, ngx_http_request_t, ngx_msec_t,
    NGX_LOG_EMERG, NGX_LOG_ERR, NGX_LOG_INFO, NGX_LOG_WARN,
};
use ngx::http::{HttpModuleLocationConf, NgxHttpCoreModule};

use super::{JwtConf, JwtCtx, JwtMain};
use crate::directive::{
    self, args, done, parse_seconds, position, readable_path, zone_size, DUPLICATE,
};
use crate::log::Sink;
use crate::net;
use crate::net::client::{self, FetchError, Reach};
use crate::net::ssl::SslContexts;
use crate::part::{MainPart, RequestPart};
use crate::text::{str_bytes, text};
use crate::wait::Waiters;
use crate::worker::{cycle_log, shutting_down};

use zone::Zone;

pub mod zone;

/// The largest document accepted.
const MAX_BODY: usize = 256 * 1024;
const DEFAULT_TIMEOUT: u64 = 10;

/// `auth_jwt_key_url` as written.
#[derive(Clone, PartialEq, Eq)]
pub struct Spec {
    url: Url,
    schedule: Schedule,
    timeout: u64,
    /// Where the directive is, for errors found when the configuration is merged.
    at: String,
}

/// One URL with the TLS and resolver settings of where it is used; shared by the locations
/// that have the same. The state is each worker's own.
pub struct KeyUrl {
    spec: Spec,
    trusted: Vec<u8>,
    /// The URL's entry in the zone: a digest of the URL and the trusted certificates.
    id: [u8; 32],
    zone: Cell<Option<Zone>>,
    reach: Reach,
    state: RefCell<State>,
    waiters: Waiters,
}

#[derive(Default)]
struct State {
    keys: Option<Rc<UrlKeys>>,
    /// A task of this worker refreshes in the background.
    started: bool,
    /// A task of this worker waits for another worker's fetch.
    watching: bool,
    /// The fingerprint of the last document that gave no keys: not parsed or logged again.
    refused: Option<[u8; 32]>,
}

/// What a worker may do about a URL, as the zone says.
enum Claim {
    /// This worker fetches now.
    Fetch,
    /// Another worker is fetching.
    Busy,
    /// Nothing to do yet.
    NotDue,
}

pub struct UrlKeys {
    pub keys: Vec<Key>,
    pub generation: u64,
    fingerprint: [u8; 32],
}

/// The directive: `auth_jwt_key_url url [refresh=time] [cooldown=time] [timeout=time]`.
pub fn set_auth_jwt_key_url(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    let (cf, jcf) = super::conf(cf, cmd, c);
    let result = (|| {
        let args = args(cf);
        let text = text(&args[1])?;
        let url = Url::parse(text).map_err(|err| format!("invalid URL \"{text}\": {err}"))?;
        let mut schedule = Schedule {
            refresh: None,
            cooldown: DEFAULT_COOLDOWN,
        };
        let mut timeout = DEFAULT_TIMEOUT;
        for arg in &args[2..] {
            let arg = str_bytes(arg);
            let (name, value) = match arg.iter().position(|&c| c == b'=') {
                Some(eq) => (&arg[..eq], &arg[eq + 1..]),
                None => (arg, &b""[..]),
            };
            let seconds = parse_seconds(value);
            match (name, seconds) {
                (b"refresh", Some(s)) if s > 0 => schedule.refresh = Some(s),
                (b"cooldown", Some(s)) if s > 0 => schedule.cooldown = s,
                (b"timeout", Some(s)) if s > 0 => timeout = s,
                _ => return Err(format!("invalid parameter \"{}\"", arg.escape_ascii())),
            }
        }
        let at = position(cf);
        let specs = jcf.key_url_specs.get_or_insert_with(Rc::default);
        Rc::get_mut(specs).ok_or("key URLs are shared")?.push(Spec {
            url,
            schedule,
            timeout,
            at,
        });
        Ok(())
    })();
    done(cf, result)
}

/// `auth_jwt_ssl_trusted_certificate file`: the certificates that key URLs over https are
/// verified with, instead of the system's.
pub fn set_auth_jwt_ssl_trusted_certificate(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    let (cf, jcf) = super::conf(cf, cmd, c);
    if jcf.ssl_trusted.is_some() {
        return DUPLICATE;
    }
    let result = readable_path(cf, &args(cf)[1]).map(|path| jcf.ssl_trusted = Some(path));
    done(cf, result)
}

/// Gives the location its key URLs, each with the TLS context and resolver in effect there;
/// a URL used the same way elsewhere is the same source.
pub fn resolve(cf: &mut ngx_conf_t, jcf: &mut JwtConf) -> Result<(), ()> {
    let Some(specs) = jcf.key_url_specs.clone() else {
        return Ok(());
    };
    let Some(clcf) = NgxHttpCoreModule::location_conf(cf) else {
        return Err(());
    };
    let (resolver, resolver_timeout) = (clcf.resolver, clcf.resolver_timeout);
    let (Some(main), Some(contexts)) = (JwtMain::of(cf), SslContexts::of(cf)) else {
        return Err(());
    };
    let trusted = jcf.ssl_trusted.clone().unwrap_or_default();
    let mut sources = Vec::with_capacity(specs.len());
    for spec in specs.iter() {
        let fail = |cf: &mut ngx_conf_t, why: &str| {
            Sink::Log(cf.log).error(
                NGX_LOG_EMERG,
                0,
                format_args!("\"auth_jwt_key_url\": {why} in {}", spec.at),
            );
        };
        // SAFETY: the core module gave every location a resolver, maybe one without servers.
        let has_resolver = unsafe { resolver.as_ref() }.is_some_and(|r| r.connections.nelts > 0);
        if !spec.url.host_is_address() && !has_resolver {
            fail(
                cf,
                &format!(
                    "no resolver defined to resolve \"{}\"; add \"resolver\" or use an address",
                    spec.url.host
                ),
            );
            return Err(());
        }
        let known = main
            .key_urls
            .borrow()
            .iter()
            .find(|k| {
                k.spec.url == spec.url
                    && k.spec.schedule == spec.schedule
                    && k.spec.timeout == spec.timeout
                    && k.trusted == trusted
                    && k.reach.resolver == resolver
            })
            .cloned();
        let source = match known {
            Some(source) => source,
            None => {
                let ssl = if spec.url.https {
                    let trust = crate::net::ssl::Trust {
                        trusted: trusted.clone(),
                        crl: Vec::new(),
                    };
                    match contexts.get(cf, &trust) {
                        Ok(ssl) => ssl,
                        Err(why) => {
                            fail(cf, &why);
                            return Err(());
                        }
                    }
                } else {
                    core::ptr::null_mut()
                };
                if main.key_urls.borrow().len() >= zone::MAX_URLS {
                    fail(cf, &format!("more than {} distinct URLs", zone::MAX_URLS));
                    return Err(());
                }
                let id = fingerprint(&[spec.url.to_string().as_bytes(), &trusted]);
                let source = Rc::new(KeyUrl {
                    spec: spec.clone(),
                    trusted: trusted.clone(),
                    id,
                    zone: Cell::new(None),
                    reach: Reach {
                        ssl,
                        resolver,
                        resolver_timeout,
                        timeout: Duration::from_secs(spec.timeout),
                        max_body: MAX_BODY,
                    },
                    state: RefCell::default(),
                    waiters: Waiters::default(),
                });
                main.key_urls.borrow_mut().push(source.clone());
                source
            }
        };
        sources.push(source);
    }
    jcf.key_urls = Some(Rc::new(sources));
    Ok(())
}

/// `auth_jwt_key_url_zone size`: the shared memory zone's size.
pub fn set_auth_jwt_key_url_zone(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    // SAFETY: nginx passes a valid configuration context; cmd.offset is this part's.
    let (cf, main) = unsafe { (&mut *cf, directive::part::<JwtMain>(c, cmd)) };
    let result = (|| {
        if main.key_url_zone_size.get() != 0 {
            return Err("is duplicate".to_owned());
        }
        let size = zone_size(str_bytes(&args(cf)[1])).map_err(|min| {
            format!(
                "invalid size \"{}\"; at least {}k",
                str_bytes(&args(cf)[1]).escape_ascii(),
                min / 1024
            )
        })?;
        main.key_url_zone_size.set(size);
        Ok(())
    })();
    done(cf, result)
}

/// Adds the zone when the configuration has key URLs: after the locations are merged.
pub fn add_zone(cf: &mut ngx_conf_t) -> Result<(), ()> {
    let Some(main) = JwtMain::of(cf) else {
        return Err(());
    };
    if main.key_urls.borrow().is_empty() {
        return Ok(());
    }
    let size = match main.key_url_zone_size.get() {
        0 => zone::DEFAULT_SIZE,
        size => size,
    };
    let zone = Zone::add(cf, size, main).ok_or(())?;
    for source in main.key_urls.borrow().iter() {
        source.set_zone(zone);
    }
    Ok(())
}

/// Starts this worker's fetches: called when the worker starts.
pub fn start_all(cycle: &ngx_cycle_t) {
    let Some(main) = JwtMain::of(cycle) else {
        return;
    };
    for source in main.key_urls.borrow().iter() {
        source.start();
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl KeyUrl {
    pub fn zone_id(&self) -> &[u8; 32] {
        &self.id
    }

    pub fn set_zone(&self, zone: Zone) {
        self.zone.set(Some(zone));
    }

    fn with<T>(&self, f: impl FnOnce(&mut zone::Entry, zone::Slab) -> T) -> Option<T> {
        self.zone.get()?.with(&self.id, f)
    }

    /// Starts the background task of this worker, once.
    fn start(self: &Rc<Self>) {
        {
            let mut state = self.state.borrow_mut();
            if state.started {
                return;
            }
            state.started = true;
        }
        let source = self.clone();
        // SAFETY: reading the current cycle's address.
        let cycle = unsafe { ngx_cycle };
        net::spawn("auth_jwt_key_url", async move {
            // SAFETY: as above.
            while !shutting_down() && unsafe { ngx_cycle } == cycle {
                let now = now_ms();
                if let Claim::Fetch = source.claim(now, false) {
                    source.fetch().await;
                } else {
                    source.sync();
                    if !source.pending(now) {
                        source.waiters.wake_all();
                    }
                }
                let now = now_ms();
                let next = source.next_wake(now).saturating_sub(now).max(100);
                ngx::async_::sleep(Duration::from_millis(next as u64)).await;
            }
        });
    }

    /// Until another worker's fetch ends, looks at the zone every 100 ms; then wakes the
    /// requests of this worker that wait.
    fn watch(self: &Rc<Self>) {
        {
            let mut state = self.state.borrow_mut();
            if state.watching {
                return;
            }
            state.watching = true;
        }
        let source = self.clone();
        net::spawn("auth_jwt_key_url", async move {
            while source.pending(now_ms()) && !shutting_down() {
                ngx::async_::sleep(Duration::from_millis(100)).await;
            }
            source.sync();
            source.state.borrow_mut().watching = false;
            source.waiters.wake_all();
        });
    }

    /// Whether this worker may fetch now: a fetch is due (or a token has an unknown kid and
    /// the cooldown has passed) and no other worker is fetching.
    fn claim(&self, now: i64, unknown_kid: bool) -> Claim {
        let cooldown = (self.spec.schedule.cooldown * 1000) as i64;
        let lease = self.limit() as i64;
        let claim = self.with(|e, _| {
            if e.lease_until > now {
                return Claim::Busy;
            }
            if unknown_kid {
                if e.refetched != 0 && now.saturating_sub(e.refetched) < cooldown {
                    return Claim::NotDue;
                }
                e.refetched = now;
            } else if e.next_fetch > now {
                return Claim::NotDue;
            }
            e.lease_until = now + lease;
            Claim::Fetch
        });
        match claim {
            Some(claim) => claim,
            // Without the zone a worker fetches for itself, but never for a kid.
            None if unknown_kid => Claim::NotDue,
            None => Claim::Fetch,
        }
    }

    /// A first fetch has not ended yet, or one is running.
    fn pending(&self, now: i64) -> bool {
        self.with(|e, _| e.lease_until > now || e.next_fetch == 0)
            .unwrap_or(false)
    }

    /// When the background task looks again (ms since the epoch).
    fn next_wake(&self, now: i64) -> i64 {
        let refresh = (self.spec.schedule.retry_after() * 1000) as i64;
        self.with(|e, _| {
            if e.lease_until > now {
                now + 100
            } else {
                e.next_fetch
            }
        })
        .unwrap_or(now + refresh)
    }

    /// Parses the zone's document if it is not the one in use; true when the keys changed.
    fn sync(&self) -> bool {
        let local = self.state.borrow().keys.as_ref().map(|k| k.generation);
        let in_use = self.state.borrow().keys.as_ref().map(|k| k.fingerprint);
        let body = self
            .with(|e, _| {
                let newer = e.fetched != 0 && Some(e.fingerprint) != in_use && !e.body().is_empty();
                newer.then(|| e.body().to_vec())
            })
            .flatten();
        if let Some(body) = body {
            self.take(&body);
        }
        self.state.borrow().keys.as_ref().map(|k| k.generation) != local
    }

    /// Fetches the keys for all workers, this one holding the lease; wakes the requests of
    /// this worker that wait.
    async fn fetch(self: &Rc<Self>) {
        let url = &self.spec.url;
        let result = self.fetch_jwks().await;
        let now = now_ms();
        match result {
            Ok((body, max_age)) => {
                let fp = fingerprint(&[&body]);
                let refresh = (self.spec.schedule.refresh_after(max_age) * 1000) as i64;
                let stored = self.with(|e, slab| {
                    e.lease_until = 0;
                    e.fetched = now;
                    e.next_fetch = now + refresh;
                    e.fingerprint == fp && !e.body().is_empty() || e.store(&slab, &body, fp)
                });
                if stored == Some(false) {
                    cycle_log().error(
                        NGX_LOG_ERR,
                        0,
                        format_args!(
                            "auth_jwt_key_url: \"{url}\": no room for {} bytes in the shared zone; \
                             other workers keep the keys they have",
                            body.len()
                        ),
                    );
                }
                self.take(&body);
            }
            Err(err) => {
                let retry = (self.spec.schedule.retry_after() * 1000) as i64;
                self.with(|e, _| {
                    e.lease_until = 0;
                    e.next_fetch = now + retry;
                });
                let kept = if self.state.borrow().keys.is_some() {
                    ", the keys fetched before stay in use"
                } else {
                    ""
                };
                cycle_log().error(
                    NGX_LOG_ERR,
                    0,
                    format_args!("auth_jwt_key_url: fetching \"{url}\" failed: {err}{kept}"),
                );
            }
        }
        self.waiters.wake_all();
    }

    /// The JWK Set's body and `max-age`, through the discovery document if the URL is one.
    async fn fetch_jwks(&self) -> Result<(Vec<u8>, Option<u64>), String> {
        let mut url = self.spec.url.clone();
        for _ in 0..2 {
            let response = client::get(&url, &self.reach, "fetching keys")
                .await
                .map_err(|err: FetchError| err.to_string())?;
            if response.status != 200 {
                return Err(format!("\"{url}\" answered {}", response.status));
            }
            match Document::read(&url, &response.body) {
                Ok(Document::Jwks) => {
                    let max_age = response.max_age();
                    return Ok((response.body, max_age));
                }
                Ok(Document::Discovery(jwks)) if url == self.spec.url => url = jwks,
                Ok(Document::Discovery(_)) => {
                    return Err(format!("\"{url}\" is a discovery document, not a JWK Set"))
                }
                Err(err) => return Err(format!("\"{url}\": {err}")),
            }
        }
        Err("too many documents".into())
    }

    /// Parses a JWK Set unless it is the one in use or the one refused last.
    fn take(&self, body: &[u8]) {
        let url = &self.spec.url;
        let fp = fingerprint(&[body]);
        let mut state = self.state.borrow_mut();
        if state.keys.as_ref().is_some_and(|k| k.fingerprint == fp) || state.refused == Some(fp) {
            return;
        }
        match keys::load(body, Some(KeyFormat::Jwks)) {
            Ok(loaded) => {
                let mut log = cycle_log();
                for skipped in &loaded.skipped {
                    log.error(
                        NGX_LOG_WARN,
                        0,
                        format_args!("auth_jwt_key_url: \"{url}\": {skipped}, skipped"),
                    );
                }
                log.error(
                    NGX_LOG_INFO,
                    0,
                    format_args!(
                        "auth_jwt_key_url: \"{url}\": {} key{} in use",
                        loaded.keys.len(),
                        if loaded.keys.len() == 1 { "" } else { "s" }
                    ),
                );
                state.keys = Some(Rc::new(UrlKeys {
                    keys: loaded.keys,
                    generation: crate::file_cache::next_generation(),
                    fingerprint: fp,
                }));
                state.refused = None;
            }
            Err(err) => {
                state.refused = Some(fp);
                let kept = if state.keys.is_some() {
                    ", the keys fetched before stay in use"
                } else {
                    ""
                };
                cycle_log().error(
                    NGX_LOG_ERR,
                    0,
                    format_args!("auth_jwt_key_url: \"{url}\": {err}{kept}"),
                );
            }
        }
    }

    fn limit(&self) -> ngx_msec_t {
        (self.spec.timeout * 1000 + 1000) as ngx_msec_t
    }
}

/// What the key URLs of a location give a request.
pub enum Keys {
    Ready {
        keys: Vec<Rc<UrlKeys>>,
        /// A URL has no keys because its fetches failed.
        failed: bool,
    },
    /// The request is parked until a first fetch ends.
    Wait,
}

/// Waits allowed per request, whatever they wait for.
const MAX_WAITS: u8 = 32;

pub fn keys(r: &mut ngx_http_request_t, jcf: &JwtConf) -> Keys {
    let mut out = Vec::new();
    let mut failed = false;
    for source in jcf.key_urls() {
        source.start();
        if source.state.borrow().keys.is_none() {
            source.sync();
        }
        if let Some(keys) = &source.state.borrow().keys {
            out.push(keys.clone());
            continue;
        }
        if source.pending(now_ms()) && park(r, source) {
            source.watch();
            return Keys::Wait;
        }
        failed = true;
    }
    Keys::Ready { keys: out, failed }
}

/// For a token that a key the provider has just added could verify: parks the request until a
/// URL is fetched again (by this worker or another), unless each was fetched for that reason
/// within its cooldown. True when parked.
pub fn refetch_for_unknown_kid(r: &mut ngx_http_request_t, jcf: &JwtConf) -> bool {
    let now = now_ms();
    for source in jcf.key_urls() {
        // Another worker may have fetched newer keys already: verify again with them.
        if source.sync() {
            let parked = park(r, source);
            source.waiters.wake_all();
            return parked;
        }
        match source.claim(now, true) {
            Claim::Fetch => {
                // Parked first: a fetch that ends at once still wakes the request.
                let parked = park(r, source);
                let fetching = source.clone();
                net::spawn("auth_jwt_key_url", async move { fetching.fetch().await });
                return parked;
            }
            Claim::Busy => {
                let parked = park(r, source);
                source.watch();
                return parked;
            }
            Claim::NotDue => {}
        }
    }
    false
}

/// Parks `r` until `source` is fetched, unless the request has waited too often already.
fn park(r: &mut ngx_http_request_t, source: &KeyUrl) -> bool {
    let Some(waits) = JwtCtx::of_or_create(r).map(|ctx| ctx.key_url_waits.get()) else {
        return false;
    };
    if waits >= MAX_WAITS || !source.waiters.park(r, source.limit()) {
        return false;
    }
    if let Some(ctx) = JwtCtx::of(r) {
        ctx.key_url_waits.set(waits + 1);
    }
    true
}
