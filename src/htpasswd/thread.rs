//! Slow password checks (bcrypt, SHA-crypt, yescrypt) in an nginx thread pool, so that the
//! worker goes on serving everyone else; the request resumes in the access phase when the
//! check is done.

use core::ffi::c_void;
use core::ptr;

use auth_core::cache::Digest;
use auth_core::htpasswd::{idle, HashRef, PasswordHash, VerifyError};
use ngx::ffi::{
    ngx_current_msec, ngx_event_t, ngx_event_timer_rbtree, ngx_http_request_t,
    ngx_http_run_posted_requests, ngx_log_t, ngx_msec_t, ngx_pcalloc, ngx_rbtree_delete,
    ngx_rbtree_insert, ngx_thread_pool_t, ngx_thread_task_alloc, ngx_thread_task_t, NGX_LOG_ALERT,
};
use zeroize::Zeroizing;

use super::{HtpasswdCtx, HtpasswdMain};
use crate::guard::{self, Panic};
use crate::log::Sink;
use crate::part::{MainPart, RequestPart};

mod turns;

/// A password check handed to a thread pool, as the request context records it.
pub enum PasswordCheck {
    Running,
    /// The verdict for `user`'s password.
    Done {
        user: Vec<u8>,
        verdict: Result<bool, VerifyError>,
    },
}

struct Job {
    /// A timer, in the request pool, that keeps a worker shutting down after a reload from
    /// exiting while the check runs or waits for its turn: nginx waits only for requests that
    /// have timers. It is set again each time it expires.
    keepalive: *mut ngx_event_t,
    user: Vec<u8>,
    hash: PasswordHash,
    password: Zeroizing<Vec<u8>>,
    verdict: Option<Result<bool, VerifyError>>,
    panic: Option<Panic>,
    /// Requests with the same credentials wait for this check (super::flight).
    flight: Digest,
    #[cfg(feature = "test-hooks")]
    test_panic: bool,
}

/// Posts the check; `false` when it could not be posted and must run here instead.
pub fn post(
    r: &mut ngx_http_request_t,
    pool: *mut ngx_thread_pool_t,
    user: &[u8],
    hash: HashRef,
    password: &[u8],
    flight: Digest,
) -> bool {
    if HtpasswdCtx::of_or_create(r).is_none() {
        return false;
    }

    // SAFETY: r.pool is the live request pool; the task holds one pointer to the job.
    let task = unsafe { ngx_thread_task_alloc(r.pool, core::mem::size_of::<*mut Job>()) };
    if task.is_null() {
        return false;
    }

    // SAFETY: r.pool is the live request pool; zeroed memory is an idle event.
    let keepalive =
        unsafe { ngx_pcalloc(r.pool, core::mem::size_of::<ngx_event_t>()) }.cast::<ngx_event_t>();
    if keepalive.is_null() {
        return false;
    }

    let job = Box::into_raw(Box::new(Job {
        keepalive,
        user: user.to_vec(),
        hash: hash.to_owned(),
        password: Zeroizing::new(password.to_vec()),
        verdict: None,
        panic: None,
        flight,
        #[cfg(feature = "test-hooks")]
        test_panic: crate::test_hooks::asked(r, "thread"),
    }));

    // SAFETY: the task and its ctx were just allocated; the request outlives the task because
    // `blocked` keeps nginx from freeing it until password_checked runs.
    let turn = unsafe {
        let task = &mut *task;
        *task.ctx.cast::<*mut Job>() = job;
        task.handler = Some(check_password);
        task.event.handler = Some(password_checked);
        task.event.data = (r as *mut ngx_http_request_t).cast();

        let timer = &mut *keepalive;
        timer.handler = Some(keepalive_expired);
        timer.data = r.connection.cast();
        timer.log = (*r.connection).log;
        add_timer(timer, KEEPALIVE_MS);

        let Some(turn) = turns::submit(pool, task) else {
            delete_timer(timer);
            drop(Box::from_raw(job));
            return false;
        };

        let main = &mut *r.main;
        main.set_blocked(main.blocked() + 1);
        turn
    };
    crate::request::debug(
        r,
        format_args!(
            "auth_htpasswd: user \"{}\": password checked in a thread pool{}",
            user.escape_ascii(),
            match turn {
                turns::Turn::Now => "",
                turns::Turn::Later => ", after the checks before it",
            }
        ),
    );
    r.set_aio(1);
    if let Some(ctx) = HtpasswdCtx::of(r) {
        ctx.password.replace(Some(PasswordCheck::Running));
    }
    true
}

struct JobData(*mut c_void);

// SAFETY: the job is touched by one thread at a time: the hashing thread, while the pool
// thread that hands it over waits for it.
unsafe impl Sync for JobData {}

impl JobData {
    fn get(&self) -> *mut c_void {
        self.0
    }
}

/// Runs in a pool thread.
unsafe extern "C" fn check_password(data: *mut c_void, _log: *mut ngx_log_t) {
    let job = JobData(data);
    // SAFETY: as below.
    idle::hash_at_idle_priority(|| unsafe { hash(job.get()) });
}

/// # Safety
/// `data` is the task's ctx holding the job.
unsafe fn hash(data: *mut c_void) {
    // SAFETY: data is the task's ctx holding the job, which only this thread touches until
    // the completion event runs.
    let job = unsafe { &mut **data.cast::<*mut Job>() };
    let checked = guard::catch(|| {
        #[cfg(feature = "test-hooks")]
        if job.test_panic {
            panic!("test hook: thread");
        }
        job.hash.verify(&job.password)
    });
    job.verdict = Some(checked.unwrap_or_else(|panic| {
        job.panic = Some(panic);
        Err(VerifyError::Internal)
    }));
}

const KEEPALIVE_MS: ngx_msec_t = 1000;

unsafe extern "C" fn keepalive_expired(ev: *mut ngx_event_t) {
    // SAFETY: ev is a job's keepalive, in the pool of a request that `blocked` keeps alive
    // until password_checked deletes the timer.
    unsafe { add_timer(&mut *ev, KEEPALIVE_MS) };
}

/// ngx_event_add_timer, which is inline in C.
///
/// # Safety
/// `ev` must stay valid, and in the worker's thread, until the timer is deleted or expires.
unsafe fn add_timer(ev: &mut ngx_event_t, ms: ngx_msec_t) {
    // SAFETY: the timer tree and clock are the worker's, used from its thread only.
    unsafe {
        ev.timer.key = ngx_current_msec.wrapping_add(ms);
        ngx_rbtree_insert(ptr::addr_of_mut!(ngx_event_timer_rbtree), &mut ev.timer);
    }
    ev.set_timer_set(1);
}

/// ngx_event_del_timer, which is inline in C.
///
/// # Safety
/// `ev` must have a timer set by add_timer.
unsafe fn delete_timer(ev: &mut ngx_event_t) {
    // SAFETY: as for add_timer; the node is in the tree.
    unsafe { ngx_rbtree_delete(ptr::addr_of_mut!(ngx_event_timer_rbtree), &mut ev.timer) };
    ev.timer.left = ptr::null_mut();
    ev.timer.right = ptr::null_mut();
    ev.timer.parent = ptr::null_mut();
    ev.set_timer_set(0);
}

/// Runs in the worker's event loop when the thread is done.
unsafe extern "C" fn password_checked(ev: *mut ngx_event_t) {
    // SAFETY: ev is the event of a task posted by post(); its data is the request, kept alive
    // by `blocked`; the task (and so the job pointer) is in the request pool.
    unsafe {
        let r = &mut *(*ev).data.cast::<ngx_http_request_t>();
        let task = ev
            .cast::<u8>()
            .sub(core::mem::offset_of!(ngx_thread_task_t, event))
            .cast::<ngx_thread_task_t>();
        let job = *Box::from_raw(*(*task).ctx.cast::<*mut Job>());
        let timer = &mut *job.keepalive;
        if timer.timer_set() != 0 {
            delete_timer(timer);
        }
        let verdict = job.verdict.unwrap_or(Err(VerifyError::Internal));
        if let Some(panic) = &job.panic {
            Sink::Log((*r.connection).log).error(
                NGX_LOG_ALERT,
                0,
                format_args!("auth_htpasswd: internal error in a thread: {panic}"),
            );
        }

        if let Some(main) = HtpasswdMain::of(r) {
            main.flights.land(&job.flight, &verdict);
        }

        if let Some(ctx) = HtpasswdCtx::of(r) {
            ctx.password.replace(Some(PasswordCheck::Done {
                user: job.user,
                verdict,
            }));
        }

        let main = &mut *r.main;
        main.set_blocked(main.blocked() - 1);
        r.set_aio(0);
        turns::next();

        let c = r.connection;
        if r.done() != 0 {
            if let Some(handler) = (*(*c).write).handler {
                handler((*c).write);
            }
        } else {
            if let Some(handler) = r.write_event_handler {
                handler(r);
            }
            ngx_http_run_posted_requests(c);
        }
    }
}
