//! Panics stop where nginx calls into the module: a request gets a 500, a directive fails the
//! configuration, a variable fails. The alert line then says what panicked and where.

use core::cell::RefCell;
use core::fmt;
use core::panic::AssertUnwindSafe;
use std::any::Any;
use std::panic;
use std::sync::Once;

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// A caught panic: its message and location.
pub struct Panic(String);

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Keeps panic messages for the alert line. Rust's default hook would print them to stderr,
/// which a daemonized nginx has pointed at its error log, outside of nginx's log format.
pub fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        panic::set_hook(Box::new(|info| {
            let text = match info.location() {
                Some(at) => format!(
                    "panicked at {}:{}: {}",
                    at.file(),
                    at.line(),
                    message(info.payload())
                ),
                None => format!("panicked: {}", message(info.payload())),
            };
            let _ = LAST_PANIC.try_with(|last| {
                if let Ok(mut last) = last.try_borrow_mut() {
                    *last = Some(text);
                }
            });
        }));
    });
}

/// Runs `f`, catching a panic.
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, Panic> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let recorded = LAST_PANIC
            .try_with(|last| last.try_borrow_mut().ok()?.take())
            .ok()
            .flatten();
        Panic(recorded.unwrap_or_else(|| format!("panicked: {}", message(&*payload))))
    })
}

fn message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(no message)"
    }
}
