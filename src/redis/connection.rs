//! Making a connection: the primary's address (from a Sentinel when there are sentinels),
//! TCP or a Unix socket, TLS when asked for, then AUTH, SELECT and, behind Sentinel, a check
//! that the server is the primary still.

use core::pin::Pin;

use auth_core::redis::{command, is_primary, sentinel_primary, Address, Replies, Reply};

use super::error::RedisError;
use super::Redis;
use crate::net::client::{resolve, Reach};
use crate::net::peer::Peer;

/// Largest reply read.
pub const MAX_REPLY: usize = 1024 * 1024;

pub struct Connection {
    pub peer: Pin<Box<Peer>>,
    pub replies: Replies,
    /// Where it goes, for log lines.
    pub to: String,
}

impl Connection {
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), RedisError> {
        let to = &self.to;
        self.peer
            .write_all(bytes)
            .await
            .map_err(|e| RedisError::Io(format!("send() to {to} failed: {e}")))
    }

    /// The next reply, waiting for it.
    pub async fn reply(&mut self) -> Result<Reply, RedisError> {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(reply) = self.replies.pop()? {
                return Ok(reply);
            }
            let n = self
                .peer
                .read(&mut buf)
                .await
                .map_err(|e| RedisError::Io(format!("recv() from {} failed: {e}", self.to)))?;
            if n == 0 {
                return Err(RedisError::Closed(self.to.clone()));
            }
            self.replies.push(&buf[..n]);
        }
    }
}

/// A connection ready for commands, to the primary.
pub async fn connect(redis: &Redis, what: &str) -> Result<Connection, RedisError> {
    let s = &redis.settings;
    let reach = redis.reach.get().ok_or(RedisError::NotReady)?;
    let address = match (&s.server, &s.sentinel_master) {
        (Some(address), _) => address.clone(),
        (None, Some(master)) => ask_sentinels(redis, &reach, master).await?,
        (None, None) => return Err(RedisError::NotReady),
    };
    let mut conn = open(&address, &reach, s.tls, what).await?;
    let mut hello = Vec::new();
    let mut expected = 0;
    if let Some(password) = &s.password {
        hello.extend(match &s.username {
            Some(user) => command(&[b"AUTH", user.as_bytes(), password]),
            None => command(&[b"AUTH", password]),
        });
        expected += 1;
    }
    if s.database != 0 {
        hello.extend(command(&[b"SELECT", s.database.to_string().as_bytes()]));
        expected += 1;
    }
    if !s.sentinels.is_empty() {
        hello.extend(command(&[b"ROLE"]));
        expected += 1;
    }
    if expected > 0 {
        conn.send(&hello).await?;
        for _ in 0..expected {
            match conn.reply().await? {
                Reply::Error(err) => return Err(RedisError::Server(err)),
                reply @ Reply::Array(_) if !is_primary(&reply) => {
                    return Err(RedisError::NotPrimary(conn.to.clone()));
                }
                _ => {}
            }
        }
    }
    conn.peer.set_idle();
    Ok(conn)
}

async fn open(
    address: &Address,
    reach: &Reach,
    tls: bool,
    what: &str,
) -> Result<Connection, RedisError> {
    let to = address.to_string();
    let connection = |peer| Connection {
        peer,
        replies: Replies::new(MAX_REPLY),
        to: to.clone(),
    };
    match address {
        Address::Unix(path) => {
            let mut peer = Peer::unix(path, what).map_err(|e| RedisError::Io(e.to_string()))?;
            peer.connect()
                .await
                .map_err(|e| RedisError::Io(format!("connect() to {to} failed: {e}")))?;
            Ok(connection(peer))
        }
        Address::Tcp { host, port } => {
            let addrs = resolve(host, *port, reach)
                .await
                .map_err(|e| RedisError::Io(e.to_string()))?;
            let mut last = RedisError::Io(format!("{host} has no address"));
            for addr in addrs {
                let mut peer = Peer::new(addr, what).map_err(|e| RedisError::Io(e.to_string()))?;
                if let Err(e) = peer.connect().await {
                    last = RedisError::Io(format!("connect() to {addr} failed: {e}"));
                    continue;
                }
                if tls {
                    if let Err(e) = peer.handshake(reach.ssl, host).await {
                        last = RedisError::Io(format!("SSL to {addr}: {e}"));
                        continue;
                    }
                }
                return Ok(connection(peer));
            }
            Err(last)
        }
    }
}

/// The primary's address, from the first sentinel that knows it.
async fn ask_sentinels(redis: &Redis, reach: &Reach, master: &str) -> Result<Address, RedisError> {
    let s = &redis.settings;
    let mut last = RedisError::NotReady;
    for sentinel in &s.sentinels {
        let asked = async {
            let mut conn = open(sentinel, reach, s.tls, "asking a sentinel").await?;
            conn.send(&command(&[
                b"SENTINEL",
                b"get-master-addr-by-name",
                master.as_bytes(),
            ]))
            .await?;
            let reply = conn.reply().await?;
            let (host, port) = sentinel_primary(&reply)
                .ok_or_else(|| RedisError::Sentinel(sentinel.to_string(), master.to_owned()))?;
            Ok::<_, RedisError>(Address::Tcp { host, port })
        };
        match asked.await {
            Ok(address) => return Ok(address),
            Err(err) => last = err,
        }
    }
    Err(last)
}
