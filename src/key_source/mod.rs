//! JWK Sets fetched once per nginx, in the background, with nginx's resolver and TLS: the keys
//! of `auth_jwt_key_url` and of each `oidc_provider`, with the discovery document they came
//! through. One worker fetches for all and keeps the documents in a shared zone; the others
//! parse them when their fingerprint changes. A request waits on the network only for the first
//! fetch after the worker started and for a refetch that a token with an unknown `kid` asked
//! for; both are bounded by the source's timeout.

mod zone;

use core::cell::{Cell, RefCell};
use core::ffi::{c_char, c_void};
use core::time::Duration;
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use auth_core::http::Url;
use auth_core::key_url::{Document, Schedule};
use auth_core::keys::{self, fingerprint, Key, KeyFormat};
use ngx::ffi::{
    ngx_command_t, ngx_conf_t, ngx_cycle, ngx_http_request_t, ngx_msec_t, ngx_resolver_t,
    NGX_LOG_ERR, NGX_LOG_INFO, NGX_LOG_WARN,
};

use crate::directive::{self, args, done, zone_size};
use crate::file_cache::next_generation;
use crate::net;
use crate::net::client::{self, FetchError, Reach};
use crate::net::ssl::{SslContexts, Trust};
use crate::text::str_bytes;
use crate::wait::Waiters;
use crate::worker::{cycle_log, shutting_down};

use zone::Zone;

/// The largest document accepted.
const MAX_BODY: usize = 256 * 1024;
/// Waits allowed per request, whatever they wait for.
const MAX_WAITS: u8 = 32;

/// Where the keys are, and when they are fetched.
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    /// A JWK Set, or a discovery document whose `jwks_uri` is followed.
    pub url: Url,
    pub schedule: Schedule,
    /// Seconds for each fetch.
    pub timeout: u64,
    /// A failed fetch is tried again after 5 seconds, doubling up to a tenth of the refresh
    /// time, rather than after a tenth of the refresh time.
    pub backoff: bool,
}

/// One URL with the TLS and resolver settings of where it is used; shared by every user with
/// the same. The state is each worker's own.
pub struct KeySource {
    /// Whom the log lines are about: `auth_jwt_key_url`, `auth_oidc: provider "name"`.
    who: String,
    /// What the discovery document must be (a provider's metadata); a fetch whose document
    /// is refused counts as failed. With it, the document is kept and fingerprinted too.
    check: Option<Check>,
    settings: Settings,
    trust: Trust,
    /// The URL's entry in the zone: a digest of the URL and the trust.
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
    /// The fingerprint of the last documents that gave no keys: not parsed or logged again.
    refused: Option<[u8; 32]>,
    /// Why this worker's last fetch or parse failed.
    error: Option<String>,
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

/// A check of the discovery document a fetch led through (empty: the URL was a JWK Set).
pub type Check = Box<dyn Fn(&[u8]) -> Result<(), String>>;

/// The keys of one fetch, as this worker parsed them.
pub struct UrlKeys {
    pub keys: Vec<Key>,
    /// Distinct for every parse: what was verified with other keys is not taken from caches.
    pub generation: u64,
    fingerprint: [u8; 32],
    /// The discovery document the URL was, if it was one.
    pub discovery: Option<Rc<[u8]>>,
}

/// What a source gives a request.
pub enum Fetched {
    Keys(Rc<UrlKeys>),
    /// The request is parked until a first fetch ends.
    Wait,
    /// No fetch gave keys.
    Failed,
}

/// The key sources of a configuration, one per URL and trust.
#[derive(Default)]
pub struct KeySources {
    all: RefCell<Vec<Rc<KeySource>>>,
    /// `auth_jwt_key_url_zone`; 0: the default.
    zone_size: Cell<usize>,
}

impl KeySources {
    /// The source of `settings` fetched with `trust` and `resolver`, made on first use; one
    /// with a `check` of its discovery document is its user's own.
    #[allow(clippy::too_many_arguments)]
    pub fn source(
        &self,
        cf: &mut ngx_conf_t,
        who: &str,
        settings: &Settings,
        check: Option<Check>,
        trust: &Trust,
        resolver: *mut ngx_resolver_t,
        resolver_timeout: ngx_msec_t,
        contexts: &SslContexts,
    ) -> Result<Rc<KeySource>, String> {
        let known = self
            .all
            .borrow()
            .iter()
            .find(|k| {
                check.is_none()
                    && k.check.is_none()
                    && &k.settings == settings
                    && &k.trust == trust
                    && k.reach.resolver == resolver
            })
            .cloned();
        if let Some(source) = known {
            return Ok(source);
        }
        let ssl = if settings.url.https {
            contexts.get(cf, trust)?
        } else {
            core::ptr::null_mut()
        };
        if self.all.borrow().len() >= zone::MAX_URLS {
            return Err(format!("more than {} distinct key URLs", zone::MAX_URLS));
        }
        let url = settings.url.to_string();
        // A checked source has an entry of its own: another user's may hold a document that
        // its check refuses.
        let owner = if check.is_some() { who.as_bytes() } else { &[] };
        let id = fingerprint(&[url.as_bytes(), &trust.trusted, &trust.crl, owner]);
        let source = Rc::new(KeySource {
            who: who.to_owned(),
            check,
            settings: settings.clone(),
            trust: trust.clone(),
            id,
            zone: Cell::new(None),
            reach: Reach {
                ssl,
                resolver,
                resolver_timeout,
                timeout: Duration::from_secs(settings.timeout),
                max_body: MAX_BODY,
            },
            state: RefCell::default(),
            waiters: Waiters::default(),
        });
        self.all.borrow_mut().push(source.clone());
        Ok(source)
    }

    fn has(&self, id: &[u8; 32]) -> bool {
        self.all.borrow().iter().any(|k| &k.id == id)
    }

    /// Adds the zone when the configuration has sources: once every source is known.
    pub fn add_zone(&self, cf: &mut ngx_conf_t) -> Result<(), ()> {
        if self.all.borrow().is_empty() {
            return Ok(());
        }
        let size = match self.zone_size.get() {
            0 => zone::DEFAULT_SIZE,
            size => size,
        };
        let zone = Zone::add(cf, size, self).ok_or(())?;
        for source in self.all.borrow().iter() {
            source.zone.set(Some(zone));
        }
        Ok(())
    }

    /// Starts this worker's fetches: called when the worker starts.
    pub fn start_all(&self) {
        for source in self.all.borrow().iter() {
            source.start();
        }
    }
}

/// `auth_jwt_key_url_zone size`: the shared memory zone's size.
pub fn set_auth_jwt_key_url_zone(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    // SAFETY: nginx passes a valid configuration context; cmd.offset is this part's.
    let (cf, sources) = unsafe { (&mut *cf, directive::part::<KeySources>(c, cmd)) };
    let result = (|| {
        if sources.zone_size.get() != 0 {
            return Err("is duplicate".to_owned());
        }
        let size = zone_size(str_bytes(&args(cf)[1])).map_err(|min| {
            format!(
                "invalid size \"{}\"; at least {}k",
                str_bytes(&args(cf)[1]).escape_ascii(),
                min / 1024
            )
        })?;
        sources.zone_size.set(size);
        Ok(())
    })();
    done(cf, result)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl KeySource {
    /// The keys for `r`, which waits when the first fetch has not ended yet, unless it has
    /// waited `waits` times already (the caller counts a `Wait`).
    pub fn keys_for(self: &Rc<Self>, r: &mut ngx_http_request_t, waits: u8) -> Fetched {
        if let Some(keys) = self.current() {
            return Fetched::Keys(keys);
        }
        if self.pending(now_ms()) && self.park(r, waits) {
            self.watch();
            return Fetched::Wait;
        }
        Fetched::Failed
    }

    /// The keys of this worker, if a fetch gave them.
    pub fn current(self: &Rc<Self>) -> Option<Rc<UrlKeys>> {
        self.start();
        if self.state.borrow().keys.is_none() {
            self.sync();
        }
        self.state.borrow().keys.clone()
    }

    /// Why the last fetch failed, as this worker or the zone knows it.
    pub fn error(&self) -> Option<String> {
        let shared = self
            .with(|e, _| String::from_utf8_lossy(e.error()).into_owned())
            .filter(|e| !e.is_empty());
        shared.or_else(|| self.state.borrow().error.clone())
    }

    /// For a token that a key the provider has just added could verify: parks the request
    /// until the URL is fetched again (by this worker or another), unless it was fetched for
    /// that reason within its cooldown (`None`). `Some(true)` when parked (the caller counts
    /// it among the request's `waits`).
    pub fn refetch_for_unknown_kid(
        self: &Rc<Self>,
        r: &mut ngx_http_request_t,
        waits: u8,
    ) -> Option<bool> {
        // Another worker may have fetched newer keys already: verify again with them.
        if self.sync() {
            let parked = self.park(r, waits);
            self.waiters.wake_all();
            return Some(parked);
        }
        match self.claim(now_ms(), true) {
            Claim::Fetch => {
                // Parked first: a fetch that ends at once still wakes the request.
                let parked = self.park(r, waits);
                let fetching = self.clone();
                net::spawn("key source", async move { fetching.fetch().await });
                Some(parked)
            }
            Claim::Busy => {
                let parked = self.park(r, waits);
                self.watch();
                Some(parked)
            }
            Claim::NotDue => None,
        }
    }

    /// The same for a task: waits for the refetch (this worker's or another's); true when
    /// the keys are worth a second try.
    pub async fn refetched(self: &Rc<Self>) -> bool {
        if self.sync() {
            return true;
        }
        match self.claim(now_ms(), true) {
            Claim::Fetch => {
                self.fetch().await;
                true
            }
            Claim::Busy => {
                let until = now_ms() + self.limit() as i64;
                while self.pending(now_ms()) && now_ms() < until && !shutting_down() {
                    ngx::async_::sleep(Duration::from_millis(100)).await;
                }
                self.sync();
                true
            }
            Claim::NotDue => false,
        }
    }

    /// Parks `r` until the source is fetched, unless the request has waited too often already.
    fn park(&self, r: &mut ngx_http_request_t, waits: u8) -> bool {
        waits < MAX_WAITS && self.waiters.park(r, self.limit())
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
        net::spawn("key source", async move {
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
        net::spawn("key source", async move {
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
        let cooldown = (self.settings.schedule.cooldown * 1000) as i64;
        // A discovery document and its JWK Set: two requests.
        let lease = 2 * self.limit() as i64;
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
        let refresh = (self.settings.schedule.retry_after() * 1000) as i64;
        self.with(|e, _| {
            if e.lease_until > now {
                now + 100
            } else {
                e.next_fetch
            }
        })
        .unwrap_or(now + refresh)
    }

    /// Parses the zone's documents if they are not the ones in use; true when the keys
    /// changed.
    fn sync(&self) -> bool {
        let local = self.state.borrow().keys.as_ref().map(|k| k.generation);
        let in_use = self.state.borrow().keys.as_ref().map(|k| k.fingerprint);
        let documents = self
            .with(|e, _| {
                let newer = e.fetched != 0 && Some(e.fingerprint) != in_use && !e.body().is_empty();
                newer.then(|| (e.body().to_vec(), e.discovery().to_vec()))
            })
            .flatten();
        if let Some((body, discovery)) = documents {
            self.take(&body, &discovery);
        }
        self.state.borrow().keys.as_ref().map(|k| k.generation) != local
    }

    /// Milliseconds from a failed fetch, the `failures`th in a row, to the next try.
    fn retry_ms(&self, failures: u32) -> i64 {
        let tenth = self.settings.schedule.retry_after();
        let seconds = if self.settings.backoff {
            5u64.saturating_mul(1 << failures.saturating_sub(1).min(16))
                .min(tenth)
        } else {
            tenth
        };
        (seconds * 1000) as i64
    }

    /// Fetches the keys for all workers, this one holding the lease; wakes the requests of
    /// this worker that wait.
    async fn fetch(self: &Rc<Self>) {
        let url = &self.settings.url;
        let who = &self.who;
        let result = self
            .fetch_jwks()
            .await
            .and_then(|(body, discovery, max_age)| {
                match &self.check {
                    Some(check) => check(&discovery).map(|()| (body, discovery, max_age)),
                    // Only a checked source needs the discovery document.
                    None => Ok((body, Vec::new(), max_age)),
                }
            });
        let now = now_ms();
        match result {
            Ok((body, discovery, max_age)) => {
                let fp = fingerprint(&[&body, &discovery]);
                let refresh = (self.settings.schedule.refresh_after(max_age) * 1000) as i64;
                let stored = self.with(|e, slab| {
                    e.lease_until = 0;
                    e.fetched = now;
                    e.next_fetch = now + refresh;
                    e.failures = 0;
                    e.set_error(&slab, "");
                    e.fingerprint == fp && !e.body().is_empty()
                        || e.store(&slab, &body, &discovery, fp)
                });
                if stored == Some(false) {
                    cycle_log().error(
                        NGX_LOG_ERR,
                        0,
                        format_args!(
                            "{who}: \"{url}\": no room for {} bytes in the shared zone; \
                             other workers keep the keys they have",
                            body.len() + discovery.len()
                        ),
                    );
                }
                self.take(&body, &discovery);
            }
            Err(err) => {
                let error = format!("fetching \"{url}\" failed: {err}");
                self.with(|e, slab| {
                    e.lease_until = 0;
                    e.failures = e.failures.saturating_add(1);
                    e.next_fetch = now + self.retry_ms(e.failures);
                    e.set_error(&slab, &error);
                });
                self.state.borrow_mut().error = Some(error.clone());
                let kept = if self.state.borrow().keys.is_some() {
                    ", the keys fetched before stay in use"
                } else {
                    ""
                };
                cycle_log().error(NGX_LOG_ERR, 0, format_args!("{who}: {error}{kept}"));
            }
        }
        self.waiters.wake_all();
    }

    /// The JWK Set's body, the discovery document that led to it (empty when the URL is a JWK
    /// Set), and `max-age`.
    async fn fetch_jwks(&self) -> Result<(Vec<u8>, Vec<u8>, Option<u64>), String> {
        let mut url = self.settings.url.clone();
        let mut discovery = Vec::new();
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
                    return Ok((response.body, discovery, max_age));
                }
                Ok(Document::Discovery(jwks)) if url == self.settings.url => {
                    discovery = response.body;
                    url = jwks;
                }
                Ok(Document::Discovery(_)) => {
                    return Err(format!("\"{url}\" is a discovery document, not a JWK Set"))
                }
                Err(err) => return Err(format!("\"{url}\": {err}")),
            }
        }
        Err("too many documents".into())
    }

    /// Parses a JWK Set unless it is the one in use or the one refused last.
    fn take(&self, body: &[u8], discovery: &[u8]) {
        let url = &self.settings.url;
        let who = &self.who;
        let fp = fingerprint(&[body, discovery]);
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
                        format_args!("{who}: \"{url}\": {skipped}, skipped"),
                    );
                }
                log.error(
                    NGX_LOG_INFO,
                    0,
                    format_args!(
                        "{who}: \"{url}\": {} key{} in use",
                        loaded.keys.len(),
                        if loaded.keys.len() == 1 { "" } else { "s" }
                    ),
                );
                state.keys = Some(Rc::new(UrlKeys {
                    keys: loaded.keys,
                    generation: next_generation(),
                    fingerprint: fp,
                    discovery: (!discovery.is_empty()).then(|| Rc::from(discovery)),
                }));
                state.refused = None;
                state.error = None;
            }
            Err(err) => {
                state.refused = Some(fp);
                let kept = if state.keys.is_some() {
                    ", the keys fetched before stay in use"
                } else {
                    ""
                };
                let error = format!("\"{url}\": {err}");
                cycle_log().error(NGX_LOG_ERR, 0, format_args!("{who}: {error}{kept}"));
                state.error = Some(error);
            }
        }
    }

    fn limit(&self) -> ngx_msec_t {
        (self.settings.timeout * 1000 + 1000) as ngx_msec_t
    }
}
