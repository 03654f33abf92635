//! Slow hashes at Linux's `SCHED_IDLE` policy, each on a thread of its own that ends with it:
//! the hash gets only CPU time nothing else wants, and no thread of nginx's pool ever changes
//! policy. Linux lets an unprivileged thread enter `SCHED_IDLE` but not leave it (that takes
//! CAP_SYS_NICE or an RLIMIT_NICE that allows it), and a pool thread left idle would serve
//! every later task of the pool (`aio threads` too) at idle priority.

use std::thread;

/// bcrypt and SHA-crypt keep their state on the stack, a few KiB; libxcrypt's on the heap.
const STACK_SIZE: usize = 256 * 1024;

/// Runs `hash` at `SCHED_IDLE` on a new thread while the calling pool thread waits for it,
/// or, if no thread can be made, in the calling thread at its own policy.
pub fn hash_at_idle_priority(hash: impl Fn() + Sync) {
    let ran = thread::scope(|scope| {
        thread::Builder::new()
            .name("auth-rs-hash".into())
            .stack_size(STACK_SIZE)
            .spawn_scoped(scope, || {
                let param = libc::sched_param { sched_priority: 0 };
                // SAFETY: a plain system call on the calling thread (pid 0); refused, it
                // leaves the thread at its policy.
                unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
                hash();
            })
            .map(|hashing| hashing.join())
            .is_ok()
    });
    if !ran {
        hash();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn policy() -> i32 {
        // SAFETY: a plain system call on the calling thread.
        unsafe { libc::sched_getscheduler(0) }
    }

    #[test]
    fn the_hash_runs_idle_and_the_caller_keeps_its_policy() {
        let before = policy();
        let seen = Mutex::new(Vec::new());
        hash_at_idle_priority(|| {
            seen.lock()
                .unwrap()
                .push((policy(), thread::current().name().map(String::from)))
        });
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen, [(libc::SCHED_IDLE, Some("auth-rs-hash".to_string()))]);
        assert_eq!(policy(), before);
    }
}
