//! `auth_htpasswd` and `auth_htpasswd_user_file`: HTTP Basic credentials checked against
//! htpasswd files held in memory; slow hashes in a thread pool, once for identical
//! credentials.

#[cfg(nginx_threads)]
mod flight;
mod handler;
#[cfg(nginx_threads)]
mod thread;
mod user_file;

use core::cell::{Cell, RefCell};
use core::ffi::{c_char, c_void};
use core::ptr;
#[cfg(nginx_threads)]
use std::rc::Rc;

use ngx::core::{NGX_CONF_ERROR, NGX_CONF_OK};
use ngx::ffi::{ngx_command_t, ngx_conf_t, ngx_http_complex_value_t};

pub use handler::access_handler;

use crate::cache::WorkerCache;
use crate::directive::{self, args, compile_complex_value, DUPLICATE};
use crate::log::Sink;
use crate::part::MainPart;
use crate::text::str_bytes;
use user_file::UserFiles;

/// `auth_htpasswd` and `auth_htpasswd_user_file` of a location.
pub struct HtpasswdConf {
    realm: *mut ngx_http_complex_value_t,
    user_file: *mut ngx_http_complex_value_t,
}

impl Default for HtpasswdConf {
    fn default() -> Self {
        Self {
            realm: ptr::null_mut(),
            user_file: ptr::null_mut(),
        }
    }
}

impl HtpasswdConf {
    pub fn merge(&mut self, prev: &Self) {
        if self.realm.is_null() {
            self.realm = prev.realm;
        }
        if self.user_file.is_null() {
            self.user_file = prev.user_file;
        }
    }
}

pub struct HtpasswdMain {
    user_files: UserFiles,
    /// Where slow password hashes are checked: the thread pool "default".
    #[cfg(nginx_threads)]
    thread_pool: Cell<*mut ngx::ffi::ngx_thread_pool_t>,
    /// Slow checks running, that requests with the same credentials wait for.
    #[cfg(nginx_threads)]
    flights: flight::Flights,
    /// Whether the notice that slow hashes are checked in the event loop was given.
    #[cfg(not(nginx_threads))]
    no_threads_noticed: Cell<bool>,
    /// Passwords verified lately, by user file version, user and password
    /// (`auth_htpasswd_cache`).
    pub cache: WorkerCache<()>,
}

impl Default for HtpasswdMain {
    fn default() -> Self {
        Self {
            user_files: UserFiles::default(),
            #[cfg(nginx_threads)]
            thread_pool: Cell::new(ptr::null_mut()),
            #[cfg(nginx_threads)]
            flights: Default::default(),
            #[cfg(not(nginx_threads))]
            no_threads_noticed: Cell::new(false),
            cache: WorkerCache::default(),
        }
    }
}

/// auth_htpasswd's part of a request.
#[derive(Default)]
pub struct HtpasswdCtx {
    /// A password check running in, or back from, a thread pool.
    #[cfg(nginx_threads)]
    password: RefCell<Option<thread::PasswordCheck>>,
    /// Another request's check of the same credentials, waited for.
    #[cfg(nginx_threads)]
    flight: RefCell<Option<Rc<flight::Flight>>>,
}

pub fn set_auth_htpasswd(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    // SAFETY: nginx passes a valid configuration context; cmd.offset is this part's.
    let (cf, hcf) = unsafe { (&mut *cf, directive::part::<HtpasswdConf>(conf, cmd)) };

    if !hcf.realm.is_null() {
        return DUPLICATE;
    }

    match compile_complex_value(cf, args(cf)[1], false) {
        Some(cv) => {
            hcf.realm = cv;
            NGX_CONF_OK
        }
        None => NGX_CONF_ERROR,
    }
}

pub fn set_auth_htpasswd_user_file(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    // SAFETY: nginx passes a valid configuration context; cmd.offset is this part's.
    let (cf, hcf) = unsafe { (&mut *cf, directive::part::<HtpasswdConf>(conf, cmd)) };

    if !hcf.user_file.is_null() {
        return DUPLICATE;
    }

    let Some(cv) = compile_complex_value(cf, args(cf)[1], true) else {
        return NGX_CONF_ERROR;
    };
    hcf.user_file = cv;

    let Some(main) = HtpasswdMain::of(cf) else {
        return NGX_CONF_ERROR;
    };
    #[cfg(nginx_threads)]
    if main.thread_pool.get().is_null() {
        // SAFETY: cf is the live configuration; a NULL name means the pool "default".
        main.thread_pool
            .set(unsafe { ngx::ffi::ngx_thread_pool_add(cf, ptr::null_mut()) });
    }
    #[cfg(not(nginx_threads))]
    if !main.no_threads_noticed.replace(true) {
        Sink::Conf(cf).error(
            ngx::ffi::NGX_LOG_NOTICE,
            0,
            format_args!(
                "nginx was built without threads: slow password hashes are checked in the event loop"
            ),
        );
    }

    // SAFETY: compile_complex_value returned an initialized complex value.
    let cv = unsafe { &*cv };
    if cv.lengths.is_null() {
        // A path without variables is read now, so `nginx -t` reports its problems.
        main.user_files
            .preload(&mut Sink::Conf(cf), str_bytes(&cv.value));
    }

    NGX_CONF_OK
}
