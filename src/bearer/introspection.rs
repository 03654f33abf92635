//! Opaque access tokens checked at an introspection endpoint (RFC 7662), from the worker's
//! event loop, for `auth_jwt_introspection` and the providers' bearer mode. Answers are kept for
//! all workers in the zone `auth_rs_introspection`, by a digest of the endpoint, the client and
//! the token, and in the worker's token cache; one request per token is in flight for the whole
//! nginx, the others wait for its answer.

use std::rc::Rc;

use auth_core::http::Url;
use auth_core::jwt::introspection::{self, Answer, Client};
use auth_core::jwt::{JwtError, Policy, Verified};
use auth_core::keys::fingerprint;
use ngx::ffi::{ngx_conf_t, ngx_http_request_t, ngx_msec_t, ngx_str_t, NGX_LOG_ERR};
use ngx::ngx_string;

use crate::cache::TokenCache;
use crate::net;
use crate::net::client::{self, Reach};
use crate::part::MainPart;
use crate::request;
use crate::store::Store;
use crate::wait::Waiters;
use crate::worker::cycle_log;

/// The zone of answers: about 20,000 of them.
const ZONE_SIZE: usize = 10 * 1024 * 1024;
const BYTES_PER_PLACE: usize = 512;
/// Seconds a token the endpoint calls inactive is remembered, at most.
const NEGATIVE: i64 = 5;
/// Seconds a failed introspection is handed to the requests that waited for it.
const FAILED: i64 = 2;
/// A request that waits for another worker's introspection looks again this often.
const POLL_MS: ngx_msec_t = 50;

const ACTIVE: u8 = b'1';
const INACTIVE: u8 = b'0';
const FAILURE: u8 = b'2';

/// How to ask an endpoint, and how long answers are kept.
pub struct Introspector {
    /// Whom the log lines are about: `auth_jwt`, `auth_oidc: provider "name"`.
    pub who: String,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Seconds an active answer is kept at most.
    pub cache: u64,
    /// Seconds for each introspection.
    pub timeout: u64,
}

/// The answers of one configuration, and the requests of this worker that wait for them.
pub struct Zone {
    store: Store,
    waiters: Waiters,
}

impl Zone {
    /// The zone `auth_rs_introspection`, which every user of introspection shares.
    pub fn add(cf: &mut ngx_conf_t) -> Result<Rc<Zone>, String> {
        let name: ngx_str_t = ngx_string!("auth_rs_introspection");
        let store = Store::shared::<BYTES_PER_PLACE>(cf, name, ZONE_SIZE)?;
        Ok(Rc::new(Zone {
            store,
            waiters: Waiters::default(),
        }))
    }
}

/// One question: a token of a request, to `endpoint`.
pub struct Ask<'a> {
    pub intro: &'a Rc<Introspector>,
    pub endpoint: Url,
    pub reach: Reach,
    /// What the answer's claims must satisfy.
    pub policy: &'a Policy,
    /// What the worker's cache keeps this user's answers under (its configuration).
    pub user: usize,
    /// How often the request waited so far; the caller counts each `Outcome::Wait`.
    pub waits: u32,
}

/// What the endpoint's answer gives a request.
pub enum Outcome {
    Done(Result<Rc<Verified>, JwtError>),
    /// Parked until the answer comes.
    Wait,
    /// The endpoint could not be asked, or did not answer: why.
    Unavailable(String),
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

pub fn introspect(
    r: &mut ngx_http_request_t,
    zone: &Rc<Zone>,
    ask: Ask,
    token: &[u8],
    now: i64,
) -> Outcome {
    let intro = ask.intro;
    let cache = TokenCache::of(r);
    let user = ask.user.to_le_bytes();
    let digest = cache.and_then(|c| c.digest(&[&user[..], b"introspection", token]));
    if let Some(verified) = digest
        .and_then(|d| cache.and_then(|c| c.with(|c| c.get(&d, now))))
        .flatten()
    {
        return Outcome::Done(Ok(verified));
    }

    let client_id = intro.client_id.as_deref().unwrap_or_default();
    let key = fingerprint(&[
        ask.endpoint.to_string().as_bytes(),
        client_id.as_bytes(),
        token,
    ]);

    // An answer kept for another user with a longer cache is too old for this one.
    let value = zone.store.get(&key, now).unwrap_or_default();
    let answer = Kept::read(&value).filter(|kept| kept.fetched >= now - intro.cache as i64);
    if let Some(kept) = answer {
        return match kept.kind {
            ACTIVE => {
                let verified = introspection::accept(kept.rest, ask.policy, now).map(Rc::new);
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

    let lease = now + intro.timeout as i64 + 2;
    if zone.store.lease(&key, lease, now) {
        let Ok(token) = core::str::from_utf8(token).map(str::to_owned) else {
            zone.store.remove(&key);
            return Outcome::Done(Err(JwtError::Malformed("not text")));
        };
        let (task_intro, task_zone, endpoint, reach) =
            (intro.clone(), zone.clone(), ask.endpoint, ask.reach);
        net::spawn("introspection", async move {
            run(&task_intro, &endpoint, reach, &token, &key, &task_zone).await;
        });
    }
    wait(r, zone, intro, ask.waits)
}

/// Parks the request for a poll of the zone; woken sooner when this worker's introspection
/// ends.
fn wait(r: &mut ngx_http_request_t, zone: &Zone, intro: &Introspector, waits: u32) -> Outcome {
    let most = (intro.timeout * 1000 / POLL_MS as u64 + 40) as u32;
    if waits >= most {
        return Outcome::Unavailable("the introspection did not end in time".into());
    }
    if !zone.waiters.park(r, POLL_MS) {
        return Outcome::Unavailable("out of memory".into());
    }
    Outcome::Wait
}

async fn run(
    intro: &Introspector,
    endpoint: &Url,
    reach: Reach,
    token: &str,
    key: &[u8; 32],
    zone: &Zone,
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
                format_args!(
                    "{}: introspection at \"{endpoint}\" failed: {why}",
                    intro.who
                ),
            );
            (FAILURE, why.into_bytes(), now + FAILED)
        }
    };
    let value = [&[kind][..], &now.to_le_bytes(), &rest].concat();
    if zone.store.put(key, &value, until, now).is_none() {
        zone.store.remove(key);
    }
    zone.waiters.wake_all();
}
