//! Several nginx nodes as one, through an `auth_redis` store (`cluster` or a `session_store`
//! that names one): sessions kept in the store, sealed with a key that only their cookie
//! holds; the marks of logouts, published to every node and kept for nodes that come later;
//! the logout tokens seen; and refreshes, one per refresh token across the nodes, their
//! results sealed with the refresh token they replace.

use core::time::Duration;
use std::rc::Rc;

use auth_core::oidc::mark::{hex, Mark};
use auth_core::oidc::ticket::{open_for, seal_for, Ticket};
use auth_core::redis::{bytes, Reply};
use ngx::ffi::{ngx_conf_t, NGX_LOG_ERR};

use super::zone::Zone;
use crate::directive::conf_str;
use crate::net;
use crate::redis::{Listener, Redis, RedisError};
use crate::request;
use crate::store::Store;
use crate::worker::cycle_log;

/// This node's copy of the stored sessions it opened: one zone per store.
const CACHE_SIZE: usize = 16 * 1024 * 1024;
const BYTES_PER_PLACE: usize = 1024;
/// Marks read at most when catching up: what the zone holds.
const MAX_MARKS: usize = super::zone::MARKS;
/// Marks read at once when catching up.
const PAGE: usize = 1000;
/// How often a node waiting for another node's refresh looks again.
const REFRESH_POLL: Duration = Duration::from_millis(50);

pub struct Cluster {
    pub redis: Rc<Redis>,
    pub cache: Rc<Store>,
    /// The node's marks; those the store has not taken yet are pending there, so that a
    /// reload or another worker loses none of them.
    zone: Zone,
    /// Which cluster of the configuration this is, from 1, for the marks pending.
    number: u8,
}

/// What a node may do about a refresh, as the store says.
pub enum Claim {
    /// This node refreshes.
    Mine,
    /// Another node did: the new session, sealed.
    Done(Vec<u8>),
    /// Another node's refresh was refused by the provider.
    Refused,
    /// The store cannot say.
    Unavailable(RedisError),
}

impl Cluster {
    pub fn add(
        cf: &mut ngx_conf_t,
        redis: Rc<Redis>,
        zone: Zone,
        number: usize,
    ) -> Result<Cluster, String> {
        let number = u8::try_from(number)
            .ok()
            .filter(|n| *n > 0)
            .ok_or("too many auth_redis stores with providers; at most 255")?;
        // nginx keeps the zone's name: it lives in the configuration's pool.
        let shm_name = conf_str(cf, format!("auth_redis_{}", redis.name).as_bytes())?;
        let cache = Store::shared::<BYTES_PER_PLACE>(cf, shm_name, CACHE_SIZE)?;
        Ok(Cluster {
            redis,
            cache: Rc::new(cache),
            zone,
            number,
        })
    }

    pub fn shown(&self) -> String {
        self.redis.shown()
    }

    fn session_key(&self, ticket: &Ticket) -> Vec<u8> {
        self.redis
            .key(&[b"session:", hex(&ticket.name()).as_bytes()])
    }

    /// The session of `ticket`, sealed as a cookie would have it; `None` when the store has
    /// none, or one that the ticket does not open.
    pub async fn fetch(&self, ticket: &Ticket) -> Result<Option<String>, RedisError> {
        let reply = self
            .redis
            .call(&[b"GET", &self.session_key(ticket)])
            .await?;
        Ok(bytes(&reply)
            .and_then(|sealed| ticket.open(sealed))
            .and_then(|plain| String::from_utf8(plain).ok()))
    }

    /// Keeps `sealed` under `ticket` for `ttl` seconds.
    pub async fn keep(&self, ticket: &Ticket, sealed: &str, ttl: i64) -> Result<(), RedisError> {
        let value = ticket
            .seal(sealed.as_bytes())
            .map_err(|e| RedisError::Io(e.to_string()))?;
        let ttl = ttl.max(1).to_string();
        let key = self.session_key(ticket);
        self.redis
            .call(&[b"SET", &key, value.as_bytes(), b"EX", ttl.as_bytes()])
            .await
            .map(|_| ())
    }

    /// Keeps `sealed` in the background, the error logged.
    pub fn keep_later(self: &Rc<Self>, ticket: Ticket, sealed: String, ttl: i64) {
        let this = self.clone();
        net::spawn("auth_oidc", async move {
            if let Err(err) = this.keep(&ticket, &sealed, ttl).await {
                cycle_log().error(
                    NGX_LOG_ERR,
                    0,
                    format_args!(
                        "auth_oidc: {}: a refreshed session cannot be stored: {err}",
                        this.shown()
                    ),
                );
            }
        });
    }

    /// Forgets the session of `ticket`, here at once and in the store in the background.
    pub fn forget(self: &Rc<Self>, ticket: &Ticket) {
        self.cache.remove(&ticket.name());
        let this = self.clone();
        let key = self.session_key(ticket);
        net::spawn("auth_oidc", async move {
            let _ = this.redis.call(&[b"DEL", &key]).await;
        });
    }

    /// Whether `id` (a logout token's) is seen for the first time by any node.
    pub async fn first_use(&self, id: &[u8; 32], ttl: i64) -> Result<bool, RedisError> {
        let key = self.redis.key(&[b"seen:", hex(id).as_bytes()]);
        let ttl = ttl.max(1).to_string();
        let reply = self
            .redis
            .call(&[b"SET", &key, b"1", b"NX", b"EX", ttl.as_bytes()])
            .await?;
        Ok(!matches!(reply, Reply::Null))
    }

    /// Tells every node of `mark`, now or as soon as the store is back.
    pub fn publish(self: &Rc<Self>, mark: Mark) {
        let this = self.clone();
        net::spawn("auth_oidc", async move {
            if this.send(&mark).await.is_err() {
                this.zone.set_pending(&mark.id, this.number);
            }
        });
    }

    async fn send(&self, mark: &Mark) -> Result<(), RedisError> {
        let text = mark.text();
        let until = mark.until.to_string();
        let marks = self.redis.key(&[b"marks"]);
        self.redis
            .call(&[b"ZADD", &marks, until.as_bytes(), text.as_bytes()])
            .await?;
        self.redis
            .call(&[b"PUBLISH", &self.redis.channel(), text.as_bytes()])
            .await
            .map(|_| ())
    }

    /// The marks that hold now, for a node that was away; the marks made here meanwhile go
    /// out.
    async fn catch_up(&self) -> Result<(), RedisError> {
        let zone = self.zone;
        let now = request::now();
        let marks = self.redis.key(&[b"marks"]);
        let now_text = now.to_string();
        self.redis
            .call(&[b"ZREMRANGEBYSCORE", &marks, b"-inf", now_text.as_bytes()])
            .await?;
        let page = PAGE.to_string();
        let mut offset = 0;
        // As many as the zone holds, a page at a time.
        while offset < MAX_MARKS {
            let from = offset.to_string();
            let held = self
                .redis
                .call(&[
                    b"ZRANGEBYSCORE",
                    &marks,
                    now_text.as_bytes(),
                    b"+inf",
                    b"LIMIT",
                    from.as_bytes(),
                    page.as_bytes(),
                ])
                .await?;
            let Reply::Array(items) = held else {
                break;
            };
            for item in &items {
                if let Some(mark) = bytes(item).and_then(Mark::parse) {
                    zone.mark(&mark.id, mark.at, mark.until, mark.weak);
                }
            }
            if items.len() < PAGE {
                break;
            }
            offset += PAGE;
        }
        let pending = zone.take_pending(self.number, now);
        for (i, &(id, at, until, weak)) in pending.iter().enumerate() {
            let mark = Mark {
                id,
                at,
                until,
                weak,
            };
            if let Err(err) = self.send(&mark).await {
                for (id, ..) in &pending[i..] {
                    zone.set_pending(id, self.number);
                }
                return Err(err);
            }
        }
        Ok(())
    }

    fn refresh_key(&self, id: &[u8; 32]) -> Vec<u8> {
        self.redis.key(&[b"refresh:", hex(id).as_bytes()])
    }

    /// Takes the refresh of `id` for this node for `lease` seconds, or waits for the node that
    /// has it, until `lease` passes.
    pub async fn claim(&self, id: &[u8; 32], refresh_token: &str, lease: i64) -> Claim {
        let key = self.refresh_key(id);
        let lease_text = lease.max(1).to_string();
        let deadline = request::now() + lease;
        loop {
            let set = self
                .redis
                .call(&[b"SET", &key, b"lease", b"NX", b"EX", lease_text.as_bytes()])
                .await;
            match set {
                Ok(Reply::Null) => {}
                Ok(_) => return Claim::Mine,
                Err(err) => return Claim::Unavailable(err),
            }
            match self.redis.call(&[b"GET", &key]).await {
                Ok(Reply::Null) => continue,
                Ok(reply) => match bytes(&reply) {
                    Some(b"lease") => {}
                    Some(b"refused") => return Claim::Refused,
                    Some(value) => {
                        return match open_for(refresh_token.as_bytes(), value) {
                            Some(sealed) => Claim::Done(sealed),
                            None => Claim::Unavailable(RedisError::Unexpected),
                        };
                    }
                    None => return Claim::Unavailable(RedisError::Unexpected),
                },
                Err(err) => return Claim::Unavailable(err),
            }
            if request::now() > deadline {
                return Claim::Unavailable(RedisError::TimedOut);
            }
            ngx::async_::sleep(REFRESH_POLL).await;
        }
    }

    /// The refresh this node claimed is over: the new session (sealed), or `None` when the
    /// provider refused it, for `ttl` seconds; with neither, others may try again.
    pub async fn settle(
        &self,
        id: &[u8; 32],
        refresh_token: &str,
        outcome: Option<Option<&[u8]>>,
        ttl: i64,
    ) {
        let key = self.refresh_key(id);
        let ttl = ttl.max(1).to_string();
        let result = match outcome {
            None => self.redis.call(&[b"DEL", &key]).await,
            Some(None) => {
                self.redis
                    .call(&[b"SET", &key, b"refused", b"EX", ttl.as_bytes()])
                    .await
            }
            Some(Some(sealed)) => match seal_for(refresh_token.as_bytes(), sealed) {
                Ok(value) => {
                    self.redis
                        .call(&[b"SET", &key, value.as_bytes(), b"EX", ttl.as_bytes()])
                        .await
                }
                Err(e) => Err(RedisError::Io(e.to_string())),
            },
        };
        if let Err(err) = result {
            cycle_log().error(
                NGX_LOG_ERR,
                0,
                format_args!(
                    "auth_oidc: {}: a refresh's outcome cannot be shared: {err}",
                    self.shown()
                ),
            );
        }
    }

    /// Listens, in this worker, for the marks of the other nodes.
    pub fn start(self: &Rc<Self>) {
        self.redis.subscribe(Rc::new(Marks {
            cluster: self.clone(),
        }));
    }
}

/// Applies the other nodes' marks to this node's zone.
struct Marks {
    cluster: Rc<Cluster>,
}

impl Listener for Marks {
    fn connected(&self) {
        let cluster = self.cluster.clone();
        net::spawn("auth_oidc", async move {
            if let Err(err) = cluster.catch_up().await {
                cycle_log().error(
                    NGX_LOG_ERR,
                    0,
                    format_args!(
                        "auth_oidc: {}: the marks of logouts cannot be read: {err}",
                        cluster.shown()
                    ),
                );
            }
        });
    }

    fn message(&self, payload: &[u8]) {
        if let Some(mark) = Mark::parse(payload) {
            self.cluster
                .zone
                .mark(&mark.id, mark.at, mark.until, mark.weak);
        }
    }
}
