//! Caches made in each worker, as `auth_htpasswd_cache` and `auth_jwt_cache` size them.

use core::cell::{Cell, RefCell};
use core::ffi::{c_char, c_void};
use core::num::NonZeroUsize;
use core::ops::Deref;
use std::rc::Rc;

use auth_core::cache::{Cache, Digest};
use auth_core::jwt::Verified;
use ngx::ffi::{ngx_command_t, ngx_conf_t, ngx_str_t};

use crate::directive::{self, args, done, parse_seconds, DUPLICATE};
use crate::text::str_bytes;

/// Entries and seconds of validity when the directive is not given.
const DEFAULT_MAX: usize = 1024;
const DEFAULT_VALID: i64 = 60;

/// A cache made in each worker on first use, so that each has its own random key.
pub struct WorkerCache<V> {
    /// `None`: off.
    size: Cell<Option<(NonZeroUsize, i64)>>,
    set: Cell<bool>,
    cache: RefCell<Option<Cache<V>>>,
}

impl<V> Default for WorkerCache<V> {
    fn default() -> Self {
        Self {
            size: Cell::new(NonZeroUsize::new(DEFAULT_MAX).map(|max| (max, DEFAULT_VALID))),
            set: Cell::new(false),
            cache: RefCell::new(None),
        }
    }
}

impl<V: Clone> WorkerCache<V> {
    /// Runs `f` on the cache, unless it is off.
    pub fn with<T>(&self, f: impl FnOnce(&mut Cache<V>) -> T) -> Option<T> {
        let (max, valid) = self.size.get()?;
        let mut cache = self.cache.borrow_mut();
        Some(f(cache.get_or_insert_with(|| Cache::new(max, valid))))
    }

    pub fn digest(&self, parts: &[&[u8]]) -> Option<Digest> {
        self.with(|cache| cache.digest(parts))
    }
}

/// Tokens verified lately, with their claims (`auth_jwt_cache`): auth_jwt's and those of
/// auth_oidc's bearer mode, under digests that never meet.
#[derive(Default)]
pub struct TokenCache(pub WorkerCache<Rc<Verified>>);

impl Deref for TokenCache {
    type Target = WorkerCache<Rc<Verified>>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// Parses `off | max=N [valid=time]`.
fn parse(args: &[ngx_str_t]) -> Result<Option<(NonZeroUsize, i64)>, String> {
    if let [arg] = args {
        if str_bytes(arg) == b"off" {
            return Ok(None);
        }
    }

    let mut max = None;
    let mut valid = DEFAULT_VALID;
    for arg in args {
        let text = str_bytes(arg);
        if let Some(n) = text.strip_prefix(b"max=") {
            max = core::str::from_utf8(n)
                .ok()
                .and_then(|n| n.parse::<NonZeroUsize>().ok());
            if max.is_none() {
                return Err(format!("invalid \"{}\"", text.escape_ascii()));
            }
        } else if let Some(time) = text.strip_prefix(b"valid=") {
            valid = parse_seconds(time)
                .and_then(|s| i64::try_from(s).ok())
                .filter(|&s| s > 0)
                .ok_or_else(|| format!("invalid \"{}\"", text.escape_ascii()))?;
        } else {
            return Err(format!("invalid parameter \"{}\"", text.escape_ascii()));
        }
    }

    match max {
        Some(max) => Ok(Some((max, valid))),
        None => Err("\"max\" or \"off\" is required".into()),
    }
}

/// `auth_htpasswd_cache` and `auth_jwt_cache`: `cmd.offset` is where the cache lies in the
/// main configuration.
pub fn set_worker_cache<V>(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    // SAFETY: nginx passes a valid configuration context; the command table gives the offset
    // of a WorkerCache<V> in this module's main configuration.
    let (cf, cache) = unsafe { (&mut *cf, directive::part::<WorkerCache<V>>(conf, cmd)) };
    if cache.set.get() {
        return DUPLICATE;
    }
    let result = parse(&args(cf)[1..]).map(|size| {
        cache.size.set(size);
        cache.set.set(true);
    });
    done(cf, result)
}
