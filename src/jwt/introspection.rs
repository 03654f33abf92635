//! `auth_jwt_introspection`: opaque access tokens checked at the authorization server's
//! introspection endpoint (RFC 7662), from the worker's event loop. Answers are kept for all
//! workers in the zone `auth_rs_introspection`, by a digest of the endpoint, the client and the
//! token, and in the worker's token cache; one request per token is in flight for the whole
//! nginx, the others wait for its answer.

use core::cell::RefCell;
use core::ffi::{c_char, c_void};
use core::time::Duration;
use std::rc::Rc;

use auth_core::http::Url;
use auth_core::jwt::introspection::{self, Answer, Client, MAX_ANSWER};
use auth_core::jwt::{JwtError, Verified};
use auth_core::keys::fingerprint;
use ngx::ffi::{
    ngx_command_t, ngx_conf_t, ngx_http_request_t, ngx_msec_t, ngx_str_t, NGX_LOG_EMERG,
    NGX_LOG_ERR,
};
use ngx::http::{HttpModuleLocationConf, NgxHttpCoreModule};
use ngx::ngx_string;

use super::key_url::{self, Keys};
use super::{conf, JwtConf, JwtCtx, JwtMain};
use crate::cache::TokenCache;
use crate::directive::{args, done, parse_seconds, position, DUPLICATE};
use crate::log::Sink;
use crate::net;
use crate::net::client::{self, Reach};
use crate::net::ssl::{SslContexts, Trust};
use crate::part::{MainPart, RequestPart};
use crate::request;
use crate::store::Store;
use crate::text::text;
use crate::worker::cycle_log;

/// The zone of answers: about 20,000 of them.
const ZONE_SIZE: usize = 10 * 1024 * 1024;
const BYTES_PER_PLACE: usize = 512;
/// Seconds an answer is kept by default.
const DEFAULT_CACHE: u64 = 60;
/// Seconds a token the endpoint calls inactive is remembered, at most.
const NEGATIVE: i64 = 5;
/// Seconds a failed introspection is handed to the requests that waited for it.
const FAILED: i64 = 2;
const DEFAULT_TIMEOUT: u64 = 5;
/// A request that waits for another worker's introspection looks again this often.
const POLL_MS: ngx_msec_t = 50;

const ACTIVE: u8 = b'1';
const INACTIVE: u8 = b'0';
const FAILURE: u8 = b'2';

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Tokens that are not a JWS.
    Opaque,
    Always,
}

enum Endpoint {
    Url(Url),
    /// The `introspection_endpoint` of the discovery document of `auth_jwt_key_url`.
    Auto,
}

pub struct Introspection {
    endpoint: Endpoint,
    client_id: Option<String>,
    client_secret: Option<String>,
    cache: u64,
    mode: Mode,
    timeout: u64,
    /// Where the directive is, for errors found at merge.
    at: String,
    /// Set at merge, with the resolver and trust of the location.
    reach: RefCell<Option<Reach>>,
    /// With `auto`: the endpoint of the discovery document of this generation of keys.
    discovered: RefCell<Option<(u64, Option<Rc<Url>>)>>,
}

/// An answer as the zone keeps it: its kind, when it was fetched, then the claims of an active
/// token or why the introspection failed.
struct Kept<'a> {
    kind: u8,
    fetched: i64,
    rest: &'a [u8],
}

impl<'a> Kept<'a> {
    fn read(value: &'a [u8]) -> Option<Kept<'a>> {
        let (&kind, value) = value.split_first()?;
        let (fetched, rest) = value.split_first_chunk::<8>()?;
        Some(Kept {
            kind,
            fetched: i64::from_le_bytes(*fetched),
            rest,
        })
    }
}

/// `auth_jwt_introspection url|auto [client_id=id] [client_secret=secret |
/// client_secret_file=file] [cache=time] [mode=opaque|always] [timeout=time]`.
pub fn set_auth_jwt_introspection(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    let (cf, jcf) = conf(cf, cmd, c);
    if jcf.introspection.is_some() {
        return DUPLICATE;
    }
    let result = (|| {
        let all = args(cf);
        let first = text(&all[1])?;
        let endpoint = if first == "auto" {
            Endpoint::Auto
        } else {
            let url = Url::parse(first).map_err(|err| format!("invalid URL \"{first}\": {err}"))?;
            if !url.https && !url.host_is_loopback() {
                return Err(format!("\"{first}\" must be https"));
            }
            Endpoint::Url(url)
        };
        let mut intro = Introspection {
            endpoint,
            client_id: None,
            client_secret: None,
            cache: DEFAULT_CACHE,
            mode: Mode::Opaque,
            timeout: DEFAULT_TIMEOUT,
            at: position(cf),
            reach: RefCell::new(None),
            discovered: RefCell::new(None),
        };
        for arg in &all[2..] {
            let arg = text(arg)?;
            let (name, value) = arg.split_once('=').unwrap_or((arg, ""));
            match name {
                "client_id" if !value.is_empty() => intro.client_id = Some(value.to_owned()),
                "client_secret" if !value.is_empty() => {
                    intro.client_secret = Some(value.to_owned())
                }
                "client_secret_file" => {
                    let secret = std::fs::read_to_string(value)
                        .map_err(|err| format!("cannot read \"{value}\": {err}"))?;
                    let secret = secret.trim();
                    if secret.is_empty() {
                        return Err(format!("\"{value}\" is empty"));
                    }
                    intro.client_secret = Some(secret.to_owned());
                }
                "cache" => {
                    intro.cache = parse_seconds(value.as_bytes())
                        .ok_or_else(|| format!("invalid parameter \"{arg}\""))?
                }
                "timeout" => match parse_seconds(value.as_bytes()) {
                    Some(s) if s > 0 => intro.timeout = s,
                    _ => return Err(format!("invalid parameter \"{arg}\"")),
                },
                "mode" if value == "opaque" => intro.mode = Mode::Opaque,
                "mode" if value == "always" => intro.mode = Mode::Always,
                _ => return Err(format!("invalid parameter \"{arg}\"")),
            }
        }
        if intro.client_secret.is_some() && intro.client_id.is_none() {
            return Err("client_secret without client_id".to_owned());
        }
        let main = JwtMain::of(&*cf).ok_or("no main configuration")?;
        if main.introspection_store.borrow().is_none() {
            let name: ngx_str_t = ngx_string!("auth_rs_introspection");
            let store = Store::add::<BYTES_PER_PLACE>(cf, name, ZONE_SIZE)?;
            *main.introspection_store.borrow_mut() = Some(Rc::new(store));
        }
        jcf.introspection = Some(Rc::new(intro));
        Ok(())
    })();
    done(cf, result)
}

/// Gives the location's introspection its resolver and TLS context.
pub fn resolve(cf: &mut ngx_conf_t, jcf: &JwtConf) -> Result<(), ()> {
    let Some(intro) = jcf.introspection.as_deref() else {
        return Ok(());
    };
    if intro.reach.borrow().is_some() {
        return Ok(());
    }
    let result = (|| {
        if matches!(intro.endpoint, Endpoint::Auto) && jcf.key_url_specs.is_none() {
            return Err(
                "\"auto\" takes the endpoint of auth_jwt_key_url's discovery document, \
                        and there is no auth_jwt_key_url"
                    .to_owned(),
            );
        }
        let clcf = NgxHttpCoreModule::location_conf(cf).ok_or("no core configuration")?;
        let contexts = SslContexts::of(cf).ok_or("no TLS contexts")?;
        let needs_tls = match &intro.endpoint {
            Endpoint::Url(url) => url.https,
            Endpoint::Auto => true,
        };
        let trust = Trust {
            trusted: jcf.ssl_trusted.clone().unwrap_or_default(),
            crl: Vec::new(),
        };
        let ssl = if needs_tls {
            contexts.get(cf, &trust)?
        } else {
            core::ptr::null_mut()
        };
        *intro.reach.borrow_mut() = Some(Reach {
            ssl,
            resolver: clcf.resolver,
            resolver_timeout: clcf.resolver_timeout,
            timeout: Duration::from_secs(intro.timeout),
            max_body: MAX_ANSWER,
        });
        Ok(())
    })();
    result.map_err(|why| {
        Sink::Log(cf.log).error(
            NGX_LOG_EMERG,
            0,
            format_args!("\"auth_jwt_introspection\": {why} in {}", intro.at),
        );
    })
}

impl JwtConf {
    pub fn introspection_is_auto(&self) -> bool {
        self.introspection
            .as_deref()
            .is_some_and(|i| matches!(i.endpoint, Endpoint::Auto))
    }

    /// Whether `token` goes to the introspection endpoint.
    pub fn introspects(&self, token: &[u8], looks_like_jws: bool) -> bool {
        match self.introspection.as_deref() {
            Some(intro) => !token.is_empty() && (intro.mode == Mode::Always || !looks_like_jws),
            None => false,
        }
    }
}

/// What the endpoint's answer gives a request.
pub enum Outcome {
    Done(Result<Rc<Verified>, JwtError>),
    /// Parked until the answer comes.
    Wait,
    /// The endpoint could not be asked, or did not answer: why.
    Unavailable(String),
}

pub fn check(r: &mut ngx_http_request_t, jcf: &JwtConf, token: &[u8], now: i64) -> Outcome {
    let Some(intro) = jcf.introspection.clone() else {
        return Outcome::Unavailable("no introspection".into());
    };
    let Some(main) = JwtMain::of(r) else {
        return Outcome::Unavailable("no configuration".into());
    };
    let Some(store) = main.introspection_store.borrow().clone() else {
        return Outcome::Unavailable("no zone".into());
    };

    let cache = TokenCache::of(r);
    let location = (jcf as *const JwtConf as usize).to_le_bytes();
    let digest = cache.and_then(|c| c.digest(&[&location, b"introspection", token]));
    if let Some(verified) = digest
        .and_then(|d| cache.and_then(|c| c.with(|c| c.get(&d, now))))
        .flatten()
    {
        return Outcome::Done(Ok(verified));
    }

    let endpoint = match endpoint(r, jcf, &intro) {
        Ok(Some(endpoint)) => endpoint,
        Ok(None) => return Outcome::Wait,
        Err(why) => return Outcome::Unavailable(why),
    };
    let client_id = intro.client_id.as_deref().unwrap_or_default();
    let key = fingerprint(&[endpoint.to_string().as_bytes(), client_id.as_bytes(), token]);

    // An answer kept for another location with a longer cache= is too old for this one.
    let value = store.get(&key, now).unwrap_or_default();
    let answer = Kept::read(&value).filter(|kept| kept.fetched >= now - intro.cache as i64);
    if let Some(kept) = answer {
        return match kept.kind {
            ACTIVE => {
                let verified = introspection::accept(kept.rest, &jcf.policy, now).map(Rc::new);
                let cached = (&verified, digest, cache.filter(|_| intro.cache > 0));
                if let (Ok(verified), Some(digest), Some(cache)) = cached {
                    let until = kept.fetched.saturating_add(intro.cache as i64);
                    let expires = verified.exp.map_or(until, |exp| (exp as i64).min(until));
                    cache.with(|c| c.insert(digest, verified.clone(), now, expires));
                }
                Outcome::Done(verified)
            }
            INACTIVE => Outcome::Done(Err(JwtError::Inactive)),
            _ => Outcome::Unavailable(String::from_utf8_lossy(kept.rest).into_owned()),
        };
    }

    let Some(reach) = *intro.reach.borrow() else {
        return Outcome::Unavailable("not resolved".into());
    };
    let lease = now + intro.timeout as i64 + 2;
    if store.lease(&key, lease, now) {
        let Ok(token) = core::str::from_utf8(token).map(str::to_owned) else {
            store.remove(&key);
            return Outcome::Done(Err(JwtError::Malformed("not text")));
        };
        let task_intro = intro.clone();
        net::spawn("auth_jwt_introspection", async move {
            run(&task_intro, &endpoint, reach, &token, &key, &store).await;
        });
    }
    wait(r, &intro)
}

/// The endpoint to ask: the configured one, or, with `auto`, that of the discovery document
/// of `auth_jwt_key_url` (`None`: the request waits for its first fetch).
fn endpoint(
    r: &mut ngx_http_request_t,
    jcf: &JwtConf,
    intro: &Introspection,
) -> Result<Option<Url>, String> {
    if let Endpoint::Url(url) = &intro.endpoint {
        return Ok(Some(url.clone()));
    }
    let keys = match key_url::keys(r, jcf) {
        Keys::Ready { keys, .. } => keys,
        Keys::Wait => return Ok(None),
    };
    let Some(fetched) = keys.iter().find(|k| k.discovery.is_some()) else {
        return Err("auth_jwt_key_url gave no discovery document".into());
    };
    let mut discovered = intro.discovered.borrow_mut();
    let url = match &*discovered {
        Some((generation, url)) if *generation == fetched.generation => url.clone(),
        _ => {
            // Once per fetch of the document, not per request.
            let document = fetched.discovery.as_deref().unwrap_or_default();
            let url = introspection::discovered_endpoint(document).map(Rc::new);
            *discovered = Some((fetched.generation, url.clone()));
            url
        }
    };
    url.map(|u| Some((*u).clone()))
        .ok_or_else(|| "the discovery document has no introspection_endpoint".into())
}

/// Parks the request for a poll of the zone; woken sooner when this worker's introspection
/// ends.
fn wait(r: &mut ngx_http_request_t, intro: &Introspection) -> Outcome {
    let (Some(main), Some(ctx)) = (JwtMain::of(r), JwtCtx::of_or_create(r)) else {
        return Outcome::Unavailable("out of memory".into());
    };
    let waits = ctx.introspection_waits.get();
    let most = (intro.timeout * 1000 / POLL_MS as u64 + 40) as u32;
    if waits >= most {
        return Outcome::Unavailable("the introspection did not end in time".into());
    }
    ctx.introspection_waits.set(waits + 1);
    if !main.introspection_waiters.park(r, POLL_MS) {
        return Outcome::Unavailable("out of memory".into());
    }
    Outcome::Wait
}

async fn run(
    intro: &Introspection,
    endpoint: &Url,
    reach: Reach,
    token: &str,
    key: &[u8; 32],
    store: &Store,
) {
    let client = intro
        .client_id
        .as_deref()
        .zip(intro.client_secret.as_deref())
        .map(|(id, secret)| Client { id, secret });
    let request = introspection::request(endpoint, client::user_agent(), client.as_ref(), token);
    let answer = match client::send(endpoint, &reach, "introspecting a token", &request).await {
        Ok(response) => introspection::parse_response(response.status, &response.body)
            .map_err(|err| err.to_string()),
        Err(err) => Err(err.to_string()),
    };
    let now = request::now();
    let (kind, rest, until) = match answer {
        Ok(Answer::Active { claims, exp }) => {
            let until = now.saturating_add(intro.cache.max(1) as i64);
            let until = exp.map_or(until, |exp| exp.min(until)).max(now + 1);
            (ACTIVE, claims, until)
        }
        Ok(Answer::Inactive) => (
            INACTIVE,
            Vec::new(),
            now + NEGATIVE.min(intro.cache.max(1) as i64),
        ),
        Err(why) => {
            cycle_log().error(
                NGX_LOG_ERR,
                0,
                format_args!("auth_jwt: introspection at \"{endpoint}\" failed: {why}"),
            );
            (FAILURE, why.into_bytes(), now + FAILED)
        }
    };
    let value = [&[kind][..], &now.to_le_bytes(), &rest].concat();
    if store.put(key, &value, until, now).is_none() {
        store.remove(key);
    }
    // SAFETY: the cycle's configuration lives as long as the worker runs this task.
    if let Some(main) = unsafe { JwtMain::of(&*ngx::ffi::ngx_cycle) } {
        main.introspection_waiters.wake_all();
    }
}
