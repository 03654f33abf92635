//! A worker's commands to one store: queued, written together on one connection, their replies
//! handed back in order. The connection is made on the first command and kept; when it breaks,
//! the commands waiting fail, and new ones fail at once until a backoff has passed.

use core::cell::RefCell;
use core::future::poll_fn;
use core::task::{Poll, Waker};
use std::collections::VecDeque;
use std::rc::Rc;

use auth_core::redis::command;
use ngx::ffi::{ngx_current_msec, ngx_msec_t, NGX_LOG_ERR};

use super::connection::{connect, Connection};
use super::error::RedisError;
use super::{Redis, Reply};
use crate::net;
use crate::worker::{cycle_log, shutting_down};

/// Backoff after a failed connection, doubled up to the most.
const BACKOFF_MS: ngx_msec_t = 250;
const MAX_BACKOFF_MS: ngx_msec_t = 4000;

#[derive(Default)]
struct Slot {
    reply: RefCell<Option<Result<Reply, RedisError>>>,
    waker: RefCell<Option<Waker>>,
}

impl Slot {
    fn fill(&self, reply: Result<Reply, RedisError>) {
        *self.reply.borrow_mut() = Some(reply);
        // Waking may run the waiting task at once: nothing is borrowed then.
        let waker = self.waker.borrow_mut().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

#[derive(Default)]
pub struct Pipe {
    queued: VecDeque<(Vec<u8>, Rc<Slot>)>,
    sent: VecDeque<Rc<Slot>>,
    /// The connection's task, while it runs.
    task: Option<Waker>,
    running: bool,
    /// No new connection before then; why the last one failed.
    down: Option<(ngx_msec_t, String)>,
    backoff: ngx_msec_t,
}

fn now_ms() -> ngx_msec_t {
    // SAFETY: nginx's cached clock, updated by the worker's event loop.
    unsafe { ngx_current_msec }
}

impl Redis {
    /// Runs one command; an error reply is an `Err`.
    pub async fn call(self: &Rc<Self>, args: &[&[u8]]) -> Result<Reply, RedisError> {
        match self.call_raw(args).await? {
            Reply::Error(err) => Err(RedisError::Server(err)),
            reply => Ok(reply),
        }
    }

    async fn call_raw(self: &Rc<Self>, args: &[&[u8]]) -> Result<Reply, RedisError> {
        if shutting_down() {
            return Err(RedisError::ShuttingDown);
        }
        let slot = Rc::new(Slot::default());
        let (start, task) = {
            let mut pipe = self.pipe.borrow_mut();
            if let Some((until, why)) = &pipe.down {
                if now_ms() >= *until {
                    pipe.down = None;
                } else {
                    return Err(RedisError::Down(why.clone()));
                }
            }
            pipe.queued.push_back((command(args), slot.clone()));
            (
                !core::mem::replace(&mut pipe.running, true),
                pipe.task.take(),
            )
        };
        // Waking or spawning may run the connection's task at once: nothing is borrowed then.
        if let Some(task) = task {
            task.wake();
        }
        if start {
            let redis = self.clone();
            net::spawn("auth_redis", async move { redis.run().await });
        }
        let wait = poll_fn(|cx| {
            if let Some(reply) = slot.reply.borrow_mut().take() {
                return Poll::Ready(reply);
            }
            *slot.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        });
        net::timeout(self.settings.timeout, wait)
            .await
            .unwrap_or(Err(RedisError::TimedOut))
    }

    /// The server answers again: the next command connects without waiting for the backoff.
    pub fn reachable(&self) {
        let mut pipe = self.pipe.borrow_mut();
        pipe.down = None;
        pipe.backoff = 0;
    }

    /// The connection's task: made, then serving until it breaks.
    async fn run(self: Rc<Self>) {
        let made = net::timeout(self.settings.timeout, connect(&self, "talking to Redis")).await;
        let err = match made {
            Some(Ok(mut conn)) => {
                self.pipe.borrow_mut().backoff = 0;
                self.serve(&mut conn).await
            }
            Some(Err(err)) => err,
            None => RedisError::Io("connecting timed out".into()),
        };
        let failed: Vec<Rc<Slot>> = {
            let mut pipe = self.pipe.borrow_mut();
            let mut failed: Vec<_> = pipe.sent.drain(..).collect();
            failed.extend(pipe.queued.drain(..).map(|(_, slot)| slot));
            pipe.running = false;
            pipe.task = None;
            // A connection that worked is made anew at once; one that could not be made, not
            // before the backoff.
            let was_up = matches!(err, RedisError::Closed(_)) && pipe.backoff == 0;
            pipe.backoff = if was_up {
                0
            } else {
                (pipe.backoff * 2).clamp(BACKOFF_MS, MAX_BACKOFF_MS)
            };
            if !was_up {
                pipe.down = Some((now_ms().wrapping_add(pipe.backoff), err.to_string()));
            }
            failed
        };
        if !shutting_down() {
            cycle_log().error(NGX_LOG_ERR, 0, format_args!("{}: {err}", self.shown()));
        }
        for slot in failed {
            slot.fill(Err(err.clone()));
        }
    }

    async fn serve(&self, conn: &mut Connection) -> RedisError {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let out = {
                let mut pipe = self.pipe.borrow_mut();
                let mut out = Vec::new();
                while let Some((bytes, slot)) = pipe.queued.pop_front() {
                    out.extend_from_slice(&bytes);
                    pipe.sent.push_back(slot);
                }
                out
            };
            if !out.is_empty() {
                if let Err(err) = conn.send(&out).await {
                    return err;
                }
            }
            let read = poll_fn(|cx| {
                {
                    let mut pipe = self.pipe.borrow_mut();
                    if !pipe.queued.is_empty() {
                        return Poll::Ready(Ok(None));
                    }
                    pipe.task = Some(cx.waker().clone());
                }
                conn.peer.as_mut().poll_read(cx, &mut buf).map_ok(Some)
            })
            .await;
            let n = match read {
                Ok(None) => continue,
                Ok(Some(0)) => return RedisError::Closed(conn.to.clone()),
                Ok(Some(n)) => n,
                Err(_) if shutting_down() => return RedisError::ShuttingDown,
                Err(e) => return RedisError::Io(format!("recv() from {} failed: {e}", conn.to)),
            };
            conn.replies.push(&buf[..n]);
            loop {
                let reply = match conn.replies.pop() {
                    Ok(Some(reply)) => reply,
                    Ok(None) => break,
                    Err(err) => return err.into(),
                };
                let slot = self.pipe.borrow_mut().sent.pop_front();
                let Some(slot) = slot else {
                    return RedisError::Unexpected;
                };
                slot.fill(Ok(reply));
            }
        }
    }
}
