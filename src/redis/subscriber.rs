//! What the nodes tell one another, as it happens: a worker subscribes to the store's channel
//! on a connection of its own, made anew with backoff for as long as the worker runs. Each
//! time it is made, the listener is told, to catch up on what it may have missed.

use core::time::Duration;
use std::rc::Rc;

use auth_core::redis::{bytes, command, Reply};
use ngx::ffi::{NGX_LOG_ERR, NGX_LOG_NOTICE};

use super::connection::connect;
use super::error::RedisError;
use super::Redis;
use crate::net;
use crate::worker::{cycle_log, shutting_down};

const BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(4);

pub trait Listener {
    /// Subscribed, after a start or an outage.
    fn connected(&self);
    fn message(&self, payload: &[u8]);
}

impl Redis {
    /// The channel of the module's messages.
    pub fn channel(&self) -> Vec<u8> {
        self.key(&[b"events"])
    }

    /// Subscribes this worker to the store's channel, until it exits.
    pub fn subscribe(self: &Rc<Self>, listener: Rc<dyn Listener>) {
        let redis = self.clone();
        net::spawn("auth_redis", async move {
            let mut backoff = BACKOFF;
            let mut failing = false;
            while !shutting_down() {
                let err = redis.listen(&*listener, &mut failing).await;
                if shutting_down() {
                    return;
                }
                if !failing {
                    cycle_log().error(
                        NGX_LOG_ERR,
                        0,
                        format_args!("{}: subscription lost: {err}", redis.shown()),
                    );
                    failing = true;
                    backoff = BACKOFF;
                }
                ngx::async_::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        });
    }

    async fn listen(&self, listener: &dyn Listener, failing: &mut bool) -> RedisError {
        let made = net::timeout(self.settings.timeout, connect(self, "subscribed to Redis")).await;
        let mut conn = match made {
            Some(Ok(conn)) => conn,
            Some(Err(err)) => return err,
            None => return RedisError::Io("connecting timed out".into()),
        };
        let channel = self.channel();
        if let Err(err) = conn.send(&command(&[b"SUBSCRIBE", &channel])).await {
            return err;
        }
        loop {
            let reply = match conn.reply().await {
                Ok(reply) => reply,
                Err(err) => return err,
            };
            let Reply::Array(parts) = &reply else {
                return RedisError::Unexpected;
            };
            match parts.first().and_then(bytes) {
                Some(b"subscribe") => {
                    // The server is back: commands need not wait for their backoff.
                    self.reachable();
                    if *failing {
                        cycle_log().error(
                            NGX_LOG_NOTICE,
                            0,
                            format_args!("{}: subscribed again", self.shown()),
                        );
                        *failing = false;
                    }
                    listener.connected();
                }
                Some(b"message") => {
                    if let Some(payload) = parts.get(2).and_then(bytes) {
                        listener.message(payload);
                    }
                }
                _ => return RedisError::Unexpected,
            }
        }
    }
}
