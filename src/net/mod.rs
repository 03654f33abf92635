//! The module's own HTTP requests (to identity providers), on nginx's event loop.

pub mod client;
pub mod peer;
pub mod ssl;

use core::future::{poll_fn, Future};
use core::pin::pin;
use core::task::Poll;
use core::time::Duration;

use ngx::ffi::{ngx_cycle, NGX_LOG_ALERT};

use crate::guard;
use crate::log::Sink;

/// `fut`'s output, or `None` when `limit` passes first; `fut` is then dropped.
pub async fn timeout<F: Future>(limit: Duration, fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    let mut sleep = pin!(ngx::async_::sleep(limit));
    poll_fn(|cx| {
        if let Poll::Ready(out) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        sleep.as_mut().poll(cx).map(|()| None)
    })
    .await
}

/// Runs `fut` on nginx's event loop; a panic in it ends the task with an alert.
pub fn spawn(what: &'static str, fut: impl Future<Output = ()> + 'static) {
    let mut fut = Box::pin(fut);
    let mut failed = false;
    ngx::async_::spawn(poll_fn(move |cx| {
        if failed {
            return Poll::Ready(());
        }
        match guard::catch(|| fut.as_mut().poll(cx)) {
            Ok(poll) => poll,
            Err(panic) => {
                failed = true;
                // SAFETY: the cycle's log lives as long as the worker.
                Sink::Log(unsafe { (*ngx_cycle).log }).error(
                    NGX_LOG_ALERT,
                    0,
                    format_args!("{what}: internal error: {panic}"),
                );
                Poll::Ready(())
            }
        }
    }))
    .detach();
}
