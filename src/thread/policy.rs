//! The scheduling policy of a thread while it hashes: `SCHED_IDLE`, when the worker may return
//! the thread to the default policy afterwards. Linux lets a process leave `SCHED_IDLE` only
//! with CAP_SYS_NICE or an RLIMIT_NICE that allows its nice value; a worker running as an
//! unprivileged user has neither, and a pool thread left idle would serve every later task
//! of the pool (`aio threads` too) at idle priority.

use core::ffi::c_int;
use core::sync::atomic::{AtomicBool, Ordering};

use ngx::ffi::{ngx_core_conf_t, ngx_core_module, ngx_cycle_t, NGX_LOG_NOTICE};
use ngx::http::HttpModuleMainConf;

use crate::conf::Module;
use crate::log::Sink;

static IDLE_WHILE_HASHING: AtomicBool = AtomicBool::new(false);

/// Whether the configuration checks passwords in a thread pool at all.
fn hashes_in_pool(cycle: &ngx_cycle_t) -> bool {
    Module::main_conf(cycle).is_some_and(|mcf| !mcf.thread_pool.get().is_null())
}

/// In the master, which forks the workers: RLIMIT_NICE is raised, if need be and if the
/// master may, to what lets a worker return a thread to its own nice value
/// (`worker_priority`), and no further.
pub fn allow_return(cycle: &ngx_cycle_t) {
    if !hashes_in_pool(cycle) {
        return;
    }
    // SAFETY: the core module's configuration is set before modules are initialised.
    let priority = unsafe {
        let ccf = (*cycle.conf_ctx.add(ngx_core_module.index)).cast::<ngx_core_conf_t>();
        (*ccf).priority
    };
    let need = libc::rlim_t::try_from(20 - priority.clamp(-20, 19)).unwrap_or(20);
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain system calls with a valid rlimit.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NICE, &mut limit) != 0 || limit.rlim_cur >= need {
            return;
        }
        limit.rlim_cur = need;
        limit.rlim_max = limit.rlim_max.max(need);
        libc::setrlimit(libc::RLIMIT_NICE, &limit);
    }
}

/// In a worker, once: whether a thread of it can leave `SCHED_IDLE`, tried on a thread of its
/// own; the hashes use `SCHED_IDLE` only if so.
pub fn probe(cycle: &ngx_cycle_t) {
    if !hashes_in_pool(cycle) {
        return;
    }
    let returns = std::thread::Builder::new()
        .name("auth-rs-probe".into())
        .spawn(|| set(libc::SCHED_IDLE) && set(libc::SCHED_OTHER))
        .ok()
        .and_then(|t| t.join().ok())
        .unwrap_or(false);
    IDLE_WHILE_HASHING.store(returns, Ordering::Relaxed);
    if !returns {
        Sink::Log(cycle.log).error(
            NGX_LOG_NOTICE,
            0,
            format_args!(
                "auth_htpasswd: slow hashes run at the default scheduling policy: \
                 a thread of this worker cannot return from SCHED_IDLE (RLIMIT_NICE)"
            ),
        );
    }
}

/// Runs `hash` in the calling pool thread, at idle priority if the probe allowed it.
pub fn while_hashing(hash: impl FnOnce()) {
    let idle = IDLE_WHILE_HASHING.load(Ordering::Relaxed);
    // The hash yields to the event loop: a flood of bcrypt logins must not slow every other
    // request of the worker, whose threads share its CPUs. SCHED_IDLE does that where nice 19
    // still takes a share of the CPU from the worker. The thread returns to the default policy
    // before nginx takes the pool's locks again, which the worker takes too: a lock held by an
    // idle thread waits behind every other busy one, and so would the worker.
    if idle {
        set(libc::SCHED_IDLE);
    }
    hash();
    if idle {
        set(libc::SCHED_OTHER);
    }
}

/// Sets the calling thread's policy; false when refused, which leaves it as it was.
fn set(policy: c_int) -> bool {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: a plain system call on the calling thread (pid 0).
    unsafe { libc::sched_setscheduler(0, policy, &param) == 0 }
}
