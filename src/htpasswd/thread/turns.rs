//! Turns at the thread pool: a worker runs about one slow hash per CPU it may use at a time,
//! and the other checks wait here, in order. A thread of idle policy still gets a small share
//! of a busy CPU at every tick, so each one more running takes more from the event loop: 16
//! bcrypt logins at once delayed one request in a hundred of the same worker by 8 ms, one at a
//! time by none.

use core::cell::{Cell, RefCell};
use core::num::NonZero;
use core::ptr;
use std::collections::VecDeque;

use ngx::ffi::{
    ngx_core_conf_t, ngx_core_module, ngx_cycle, ngx_post_event, ngx_posted_events,
    ngx_thread_pool_t, ngx_thread_task_post, ngx_thread_task_t,
};

#[derive(Default)]
struct Turns {
    limit: Cell<usize>,
    running: Cell<usize>,
    waiting: RefCell<VecDeque<(*mut ngx_thread_pool_t, *mut ngx_thread_task_t)>>,
}

thread_local! {
    static TURNS: Turns = Turns::default();
}

/// Hashes one worker may run at once: the CPUs it may use, shared with the other workers.
fn limit() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, NonZero::get);
    // SAFETY: the cycle and its core configuration are set before the worker serves requests.
    let workers = unsafe {
        let ccf = (*(*ngx_cycle).conf_ctx.add(ngx_core_module.index)).cast::<ngx_core_conf_t>();
        (*ccf).worker_processes
    };
    (cpus / usize::try_from(workers).unwrap_or(1).max(1)).max(1)
}

pub enum Turn {
    Now,
    /// After the checks running or waiting before it.
    Later,
}

/// Hands `task` to `pool` now, or when a running check is done; `None` when the pool refused
/// it.
///
/// # Safety
/// `pool` and `task` must be valid, and stay so until the task's event handler runs.
pub unsafe fn submit(pool: *mut ngx_thread_pool_t, task: *mut ngx_thread_task_t) -> Option<Turn> {
    TURNS.with(|turns| {
        if turns.limit.get() == 0 {
            turns.limit.set(limit());
        }
        if turns.running.get() >= turns.limit.get() {
            turns.waiting.borrow_mut().push_back((pool, task));
            return Some(Turn::Later);
        }
        // SAFETY: as the caller promises.
        if unsafe { ngx_thread_task_post(pool, task) } != 0 {
            return None;
        }
        turns.running.set(turns.running.get() + 1);
        Some(Turn::Now)
    })
}

/// A check is done: the next one waiting gets its turn. Should the pool refuse it, it runs
/// here and its event is posted, as the pool would have.
pub fn next() {
    TURNS.with(|turns| {
        turns.running.set(turns.running.get().saturating_sub(1));
        if turns.running.get() >= turns.limit.get() {
            return;
        }
        let Some((pool, task)) = turns.waiting.borrow_mut().pop_front() else {
            return;
        };
        turns.running.set(turns.running.get() + 1);
        // SAFETY: submit's caller keeps the task valid until its event handler runs, which
        // is after this.
        unsafe {
            if ngx_thread_task_post(pool, task) != 0 {
                super::hash((*task).ctx);
                ngx_post_event(&mut (*task).event, ptr::addr_of_mut!(ngx_posted_events));
            }
        }
    })
}
