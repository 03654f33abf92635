//! Directives, configuration structures and their create/merge/init callbacks.

use core::cell::{Cell, RefCell};
use core::ffi::{c_char, c_void, CStr};
use core::ptr;
use std::rc::Rc;

use auth_core::jwt::Verified;

use ngx::core::{Status, NGX_CONF_ERROR, NGX_CONF_OK};
use ngx::ffi::{
    ngx_array_create, ngx_array_push, ngx_array_t, ngx_command_t, ngx_conf_t,
    ngx_http_compile_complex_value, ngx_http_compile_complex_value_t, ngx_http_complex_value_t,
    ngx_http_handler_pt, ngx_http_module_t, ngx_http_phases_NGX_HTTP_ACCESS_PHASE,
    ngx_http_phases_NGX_HTTP_PRECONTENT_PHASE, ngx_int_t, ngx_module_t, ngx_parse_size,
    ngx_parse_time, ngx_pcalloc, ngx_str_t, ngx_uint_t, NGX_CONF_1MORE, NGX_CONF_2MORE,
    NGX_CONF_BLOCK, NGX_CONF_TAKE1, NGX_CONF_TAKE12, NGX_HTTP_LMT_CONF, NGX_HTTP_LOC_CONF,
    NGX_HTTP_LOC_CONF_OFFSET, NGX_HTTP_MAIN_CONF, NGX_HTTP_MAIN_CONF_OFFSET, NGX_HTTP_MODULE,
    NGX_HTTP_SRV_CONF, NGX_LOG_EMERG,
};
use ngx::http::{
    HttpModule, HttpModuleLocationConf, HttpModuleMainConf, Merge, MergeConfigError,
    NgxHttpCoreModule,
};
use ngx::ngx_string;

use crate::cache::{self, WorkerCache};
use crate::guard;
use crate::jwt::{self, JwtConf};
use crate::log::Sink;
use crate::oidc::{self, OidcConf};
use crate::require::RequireConf;
use crate::user_file::UserFiles;

pub struct Module;

impl HttpModule for Module {
    fn module() -> &'static ngx_module_t {
        // SAFETY: nginx only writes to the module structure before any configuration is parsed.
        unsafe { &*ptr::addr_of!(crate::ngx_http_auth_rs_module) }
    }

    unsafe extern "C" fn preconfiguration(cf: *mut ngx_conf_t) -> ngx_int_t {
        guard::install_hook();
        guard_init(cf, |cf| {
            match jwt::variables::register(cf).and_then(|()| oidc::variables::register(cf)) {
                Some(()) => Status::NGX_OK.into(),
                None => Status::NGX_ERROR.into(),
            }
        })
    }

    unsafe extern "C" fn postconfiguration(cf: *mut ngx_conf_t) -> ngx_int_t {
        guard_init(cf, |cf| {
            let rc = insert_handlers(cf);
            if rc != Status::NGX_OK.0 {
                return rc;
            }
            match jwt::key_url::add_zone(cf).and_then(|()| oidc::init(cf)) {
                Ok(()) => Status::NGX_OK.into(),
                Err(()) => Status::NGX_ERROR.into(),
            }
        })
    }

    unsafe extern "C" fn merge_loc_conf(
        cf: *mut ngx_conf_t,
        prev: *mut c_void,
        conf: *mut c_void,
    ) -> *mut c_char {
        // SAFETY: nginx passes this module's location configurations, made by create_loc_conf.
        let (prev, conf) = unsafe { (&*prev.cast::<LocConf>(), &mut *conf.cast::<LocConf>()) };
        guard_conf(cf, || {
            if conf.merge(prev).is_err() {
                return NGX_CONF_ERROR;
            }
            // SAFETY: nginx passes a valid configuration context.
            let cf = unsafe { &mut *cf };
            match jwt::key_url::resolve(cf, &mut conf.jwt)
                .and_then(|()| oidc::resolve(cf, &mut conf.oidc))
            {
                Ok(()) => NGX_CONF_OK,
                Err(()) => NGX_CONF_ERROR,
            }
        })
    }
}

/// Runs a configuration-time hook; a panic fails the configuration instead of the process.
fn guard_init(cf: *mut ngx_conf_t, init: impl FnOnce(&mut ngx_conf_t) -> ngx_int_t) -> ngx_int_t {
    // SAFETY: nginx passes a valid configuration context.
    let cf = unsafe { &mut *cf };
    guard::catch(|| init(&mut *cf)).unwrap_or_else(|panic| {
        Sink::Conf(cf).error(NGX_LOG_EMERG, 0, format_args!("internal error: {panic}"));
        Status::NGX_ERROR.into()
    })
}

/// Puts the access handlers in place.
fn insert_handlers(cf: &mut ngx_conf_t) -> ngx_int_t {
    let Some(cmcf) = NgxHttpCoreModule::main_conf_mut(cf) else {
        return Status::NGX_ERROR.into();
    };
    let access: *mut ngx_array_t =
        &mut cmcf.phases[ngx_http_phases_NGX_HTTP_ACCESS_PHASE as usize].handlers;

    // Handlers run in the reverse order of this array. Ours go just before auth_basic's
    // (or allow/deny's) and so run right after it: `deny` answers 403 before credentials
    // are looked at, as with auth_basic; auth_basic's challenge heads the chain of
    // WWW-Authenticate headers that ours extend; and a success under `satisfy any` spares
    // auth_request, which runs later.
    let position = module_handler(cf, access, c"ngx_http_auth_basic_module")
        .or_else(|| module_handler(cf, access, c"ngx_http_access_module"));

    // auth_jwt, the cheaper check, runs first.
    // auth_oidc, which may send the browser away, runs last.
    let ours = [
        oidc::access_handler,
        crate::htpasswd::access_handler,
        jwt::access_handler,
        #[cfg(feature = "test-hooks")]
        crate::test_hooks::signature_check_handler,
    ];

    for handler in ours {
        // SAFETY: the access phase array holds ngx_http_handler_pt elements.
        let slot = unsafe { ngx_array_push(access) }.cast::<ngx_http_handler_pt>();
        if slot.is_null() {
            return Status::NGX_ERROR.into();
        }
        // SAFETY: slot is the element just pushed.
        unsafe { slot.write(Some(handler)) };
    }

    // SAFETY: the array holds nelts initialized handler pointers.
    let handlers = unsafe {
        core::slice::from_raw_parts_mut(
            (*access).elts.cast::<ngx_http_handler_pt>(),
            (*access).nelts,
        )
    };
    let end = handlers.len() - ours.len();
    let at = position.filter(|&p| p < end).unwrap_or(end);
    handlers[at..].rotate_right(ours.len());

    // auth_require, after every access check.
    let precontent: *mut ngx_array_t =
        &mut cmcf.phases[ngx_http_phases_NGX_HTTP_PRECONTENT_PHASE as usize].handlers;
    // SAFETY: the precontent phase array holds ngx_http_handler_pt elements.
    let slot = unsafe { ngx_array_push(precontent) }.cast::<ngx_http_handler_pt>();
    if slot.is_null() {
        return Status::NGX_ERROR.into();
    }
    // SAFETY: slot is the element just pushed.
    unsafe { slot.write(Some(crate::require::precontent_handler)) };

    Status::NGX_OK.into()
}

/// Where the access handler of the module `name` sits in the access phase array.
///
/// Handlers of nginx's modules are not exported, so the module's init is run once more
/// against an empty array to learn the pointer; auth_basic's and access's inits only push
/// that handler.
fn module_handler(cf: &mut ngx_conf_t, access: *mut ngx_array_t, name: &CStr) -> Option<usize> {
    // SAFETY: cycle->modules holds modules_n valid module pointers during configuration.
    let modules =
        unsafe { core::slice::from_raw_parts((*cf.cycle).modules, (*cf.cycle).modules_n) };
    let init = modules.iter().find_map(|&m| {
        // SAFETY: every module has a NUL-terminated name; HTTP modules have an ngx_http_module_t ctx.
        unsafe {
            let module = &*m;
            if module.name.is_null()
                || module.type_ != NGX_HTTP_MODULE as ngx_uint_t
                || CStr::from_ptr(module.name) != name
            {
                return None;
            }
            (*module.ctx.cast::<ngx_http_module_t>()).postconfiguration
        }
    })?;

    // SAFETY: a one-element array from the configuration pool stands in while init runs;
    // the real array is put back whatever init does.
    let probe = unsafe {
        let empty = ngx_array_create(cf.pool, 1, core::mem::size_of::<ngx_http_handler_pt>());
        if empty.is_null() {
            return None;
        }
        let saved = ptr::replace(access, ptr::read(empty));
        let rc = init(cf);
        let pushed = ptr::replace(access, saved);
        if rc != Status::NGX_OK.0 || pushed.nelts != 1 {
            return None;
        }
        (*pushed.elts.cast::<ngx_http_handler_pt>())?
    };

    // SAFETY: the array holds nelts handler pointers.
    let handlers = unsafe {
        core::slice::from_raw_parts(
            (*access).elts.cast::<ngx_http_handler_pt>(),
            (*access).nelts,
        )
    };
    handlers
        .iter()
        .position(|&h| h.map(|f| f as usize) == Some(probe as usize))
}

pub struct MainConf {
    pub user_files: UserFiles,
    /// Where slow password hashes are checked: the thread pool "default".
    #[cfg(nginx_threads)]
    pub thread_pool: Cell<*mut ngx::ffi::ngx_thread_pool_t>,
    /// Slow checks running, that requests with the same credentials wait for.
    #[cfg(nginx_threads)]
    pub flights: crate::flight::Flights,
    /// Whether the notice that slow hashes are checked in the event loop was given.
    #[cfg(not(nginx_threads))]
    pub no_threads_noticed: Cell<bool>,
    /// Passwords verified lately, by user file version, user and password.
    pub htpasswd_cache: WorkerCache<()>,
    /// Tokens verified lately, by token and location.
    pub jwt_cache: WorkerCache<Rc<Verified>>,
    /// Keys fetched by auth_jwt_key_request, by location and URI.
    pub fetched_keys: jwt::key_request::FetchedKeysByUri,
    /// Key files named with variables, by path.
    pub key_files: jwt::key_file::KeyFiles,
    /// The keys of locations with keys from run time, joined.
    pub key_sets: jwt::key_set::KeySets,
    /// The sources of auth_jwt_key_url, one per URL and settings.
    pub key_urls: RefCell<Vec<Rc<jwt::key_url::KeyUrl>>>,
    pub ssl_contexts: jwt::key_url::SslContexts,
    /// `auth_jwt_key_url_zone`; 0: the default.
    pub key_url_zone_size: Cell<usize>,
    /// The `oidc_provider` blocks.
    pub oidc_providers: RefCell<Vec<Rc<oidc::Provider>>>,
    /// The `oidc_session_zone`s.
    pub oidc_stores: RefCell<Vec<Rc<oidc::Store>>>,
    /// What seals session cookies: `oidc_session_key`, or a secret of the process.
    pub oidc_sealer: RefCell<Option<Rc<auth_core::oidc::Sealer>>>,
    /// Refreshes of all workers.
    pub oidc_zone: Cell<Option<oidc::zone::Zone>>,
    /// Requests of this worker that wait for a refresh.
    pub oidc_refresh_waiters: crate::wait::Waiters,
}

impl Default for MainConf {
    fn default() -> Self {
        Self {
            user_files: UserFiles::default(),
            #[cfg(nginx_threads)]
            thread_pool: Cell::new(ptr::null_mut()),
            #[cfg(nginx_threads)]
            flights: Default::default(),
            #[cfg(not(nginx_threads))]
            no_threads_noticed: Cell::new(false),
            htpasswd_cache: WorkerCache::default(),
            jwt_cache: WorkerCache::default(),
            fetched_keys: Default::default(),
            key_files: Default::default(),
            key_sets: Default::default(),
            key_urls: RefCell::default(),
            ssl_contexts: RefCell::default(),
            key_url_zone_size: Cell::new(0),
            oidc_providers: RefCell::default(),
            oidc_stores: RefCell::default(),
            oidc_sealer: RefCell::default(),
            oidc_zone: Cell::new(None),
            oidc_refresh_waiters: Default::default(),
        }
    }
}

// SAFETY: MainConf is the type create_main_conf allocates for this module.
unsafe impl HttpModuleMainConf for Module {
    type MainConf = MainConf;
}

pub struct LocConf {
    pub htpasswd_realm: *mut ngx_http_complex_value_t,
    pub htpasswd_user_file: *mut ngx_http_complex_value_t,
    pub jwt: JwtConf,
    pub oidc: OidcConf,
    pub require: RequireConf,
    #[cfg(feature = "test-hooks")]
    pub test_signature_check: Option<Rc<auth_core::jwt::SignatureOnly>>,
}

impl Default for LocConf {
    fn default() -> Self {
        Self {
            htpasswd_realm: ptr::null_mut(),
            htpasswd_user_file: ptr::null_mut(),
            jwt: JwtConf::default(),
            oidc: OidcConf::default(),
            require: RequireConf::default(),
            #[cfg(feature = "test-hooks")]
            test_signature_check: None,
        }
    }
}

// SAFETY: LocConf is the type create_loc_conf allocates for this module.
unsafe impl HttpModuleLocationConf for Module {
    type LocationConf = LocConf;
}

impl Merge for LocConf {
    fn merge(&mut self, prev: &Self) -> Result<(), MergeConfigError> {
        if self.htpasswd_realm.is_null() {
            self.htpasswd_realm = prev.htpasswd_realm;
        }
        if self.htpasswd_user_file.is_null() {
            self.htpasswd_user_file = prev.htpasswd_user_file;
        }
        self.jwt.merge(&prev.jwt);
        self.oidc.merge(&prev.oidc);
        self.require.merge(&prev.require);
        #[cfg(feature = "test-hooks")]
        if self.test_signature_check.is_none() {
            self.test_signature_check
                .clone_from(&prev.test_signature_check);
        }
        Ok(())
    }
}

const ANY_LOC_CONF: u32 =
    NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_HTTP_LMT_CONF;

macro_rules! command {
    ($name:literal, $type:expr, $set:path) => {
        command!($name, $type, $set, NGX_HTTP_LOC_CONF_OFFSET)
    };
    ($name:literal, $type:expr, $set:path, $conf:expr) => {
        ngx_command_t {
            name: ngx_string!($name),
            type_: ($type) as ngx_uint_t,
            set: {
                extern "C" fn set(
                    cf: *mut ngx_conf_t,
                    cmd: *mut ngx_command_t,
                    conf: *mut c_void,
                ) -> *mut c_char {
                    guard_conf(cf, || $set(cf, cmd, conf))
                }
                Some(set)
            },
            conf: $conf,
            offset: 0,
            post: ptr::null_mut(),
        }
    };
}

const COMMANDS_LEN: usize = 26 + 2 * cfg!(feature = "test-hooks") as usize;

pub static mut COMMANDS: [ngx_command_t; COMMANDS_LEN] = [
    command!(
        "auth_htpasswd",
        ANY_LOC_CONF | NGX_CONF_TAKE1,
        set_auth_htpasswd
    ),
    command!(
        "auth_htpasswd_user_file",
        ANY_LOC_CONF | NGX_CONF_TAKE1,
        set_auth_htpasswd_user_file
    ),
    command!(
        "auth_htpasswd_cache",
        NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE12,
        cache::set_auth_htpasswd_cache,
        NGX_HTTP_MAIN_CONF_OFFSET
    ),
    command!(
        "auth_jwt_cache",
        NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE12,
        cache::set_auth_jwt_cache,
        NGX_HTTP_MAIN_CONF_OFFSET
    ),
    command!(
        "auth_jwt",
        ANY_LOC_CONF | NGX_CONF_TAKE12,
        jwt::set_auth_jwt
    ),
    command!(
        "auth_jwt_key_file",
        ANY_LOC_CONF | NGX_CONF_TAKE12,
        jwt::set_auth_jwt_key_file
    ),
    command!(
        "auth_jwt_key_cache",
        ANY_LOC_CONF | NGX_CONF_TAKE1,
        jwt::set_auth_jwt_key_cache
    ),
    command!(
        "auth_jwt_key_request",
        ANY_LOC_CONF | NGX_CONF_TAKE1,
        jwt::set_auth_jwt_key_request
    ),
    command!(
        "auth_jwt_key_url",
        ANY_LOC_CONF | NGX_CONF_1MORE,
        jwt::key_url::set_auth_jwt_key_url
    ),
    command!(
        "auth_jwt_key_url_zone",
        NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
        jwt::key_url::set_auth_jwt_key_url_zone,
        NGX_HTTP_MAIN_CONF_OFFSET
    ),
    command!(
        "auth_jwt_ssl_trusted_certificate",
        ANY_LOC_CONF | NGX_CONF_TAKE1,
        jwt::key_url::set_auth_jwt_ssl_trusted_certificate
    ),
    command!(
        "auth_jwt_leeway",
        ANY_LOC_CONF | NGX_CONF_TAKE1,
        jwt::set_auth_jwt_leeway
    ),
    command!(
        "auth_jwt_type",
        ANY_LOC_CONF | NGX_CONF_TAKE1,
        jwt::set_auth_jwt_type
    ),
    command!(
        "auth_jwt_require",
        ANY_LOC_CONF | NGX_CONF_1MORE,
        jwt::set_auth_jwt_require
    ),
    command!(
        "auth_jwt_algorithms",
        ANY_LOC_CONF | NGX_CONF_1MORE,
        jwt::set_auth_jwt_algorithms
    ),
    command!(
        "auth_jwt_issuer",
        ANY_LOC_CONF | NGX_CONF_1MORE,
        jwt::set_auth_jwt_issuer
    ),
    command!(
        "auth_jwt_audience",
        ANY_LOC_CONF | NGX_CONF_1MORE,
        jwt::set_auth_jwt_audience
    ),
    command!(
        "auth_jwt_require_exp",
        ANY_LOC_CONF | NGX_CONF_TAKE1,
        jwt::set_auth_jwt_require_exp
    ),
    command!(
        "auth_jwt_claim_set",
        NGX_HTTP_MAIN_CONF | NGX_CONF_2MORE,
        jwt::set_auth_jwt_claim_set
    ),
    command!(
        "auth_jwt_header_set",
        NGX_HTTP_MAIN_CONF | NGX_CONF_2MORE,
        jwt::set_auth_jwt_header_set
    ),
    command!(
        "oidc_provider",
        NGX_HTTP_MAIN_CONF | NGX_CONF_BLOCK | NGX_CONF_TAKE1,
        oidc::set_oidc_provider,
        NGX_HTTP_MAIN_CONF_OFFSET
    ),
    command!(
        "oidc_session_key",
        NGX_HTTP_MAIN_CONF | NGX_CONF_1MORE,
        oidc::set_oidc_session_key,
        NGX_HTTP_MAIN_CONF_OFFSET
    ),
    command!(
        "oidc_session_zone",
        NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
        oidc::set_oidc_session_zone,
        NGX_HTTP_MAIN_CONF_OFFSET
    ),
    command!(
        "auth_oidc",
        NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
        oidc::set_auth_oidc
    ),
    command!(
        "auth_require",
        ANY_LOC_CONF | NGX_CONF_1MORE,
        crate::require::set_auth_require
    ),
    #[cfg(feature = "test-hooks")]
    command!(
        "auth_rs_test_panic",
        ANY_LOC_CONF | ngx::ffi::NGX_CONF_NOARGS,
        crate::test_hooks::set_panic
    ),
    #[cfg(feature = "test-hooks")]
    command!(
        "auth_rs_test_signature_check",
        ANY_LOC_CONF | ngx::ffi::NGX_CONF_TAKE2,
        crate::test_hooks::set_signature_check
    ),
    ngx_command_t::empty(),
];

fn set_auth_htpasswd(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    // SAFETY: nginx passes a valid configuration context and this module's LocConf.
    let (cf, lcf) = unsafe { (&mut *cf, &mut *conf.cast::<LocConf>()) };

    if !lcf.htpasswd_realm.is_null() {
        return c"is duplicate".as_ptr().cast_mut();
    }

    match compile_complex_value(cf, args(cf)[1], false) {
        Some(cv) => {
            lcf.htpasswd_realm = cv;
            NGX_CONF_OK
        }
        None => NGX_CONF_ERROR,
    }
}

fn set_auth_htpasswd_user_file(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    // SAFETY: nginx passes a valid configuration context and this module's LocConf.
    let (cf, lcf) = unsafe { (&mut *cf, &mut *conf.cast::<LocConf>()) };

    if !lcf.htpasswd_user_file.is_null() {
        return c"is duplicate".as_ptr().cast_mut();
    }

    let Some(cv) = compile_complex_value(cf, args(cf)[1], true) else {
        return NGX_CONF_ERROR;
    };
    lcf.htpasswd_user_file = cv;

    let Some(mcf) = Module::main_conf(cf) else {
        return NGX_CONF_ERROR;
    };
    #[cfg(nginx_threads)]
    if mcf.thread_pool.get().is_null() {
        // SAFETY: cf is the live configuration; a NULL name means the pool "default".
        mcf.thread_pool
            .set(unsafe { ngx::ffi::ngx_thread_pool_add(cf, ptr::null_mut()) });
    }
    #[cfg(not(nginx_threads))]
    if !mcf.no_threads_noticed.replace(true) {
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
        mcf.user_files
            .preload(&mut Sink::Conf(cf), str_bytes(&cv.value));
    }

    NGX_CONF_OK
}

/// Runs a directive's setter; a panic fails the configuration instead of the process.
fn guard_conf(cf: *mut ngx_conf_t, setter: impl FnOnce() -> *mut c_char) -> *mut c_char {
    guard::catch(setter).unwrap_or_else(|panic| {
        // SAFETY: nginx passes a valid configuration context.
        Sink::Conf(unsafe { &mut *cf }).error(
            NGX_LOG_EMERG,
            0,
            format_args!("internal error while reading the directive: {panic}"),
        );
        NGX_CONF_ERROR
    })
}

/// Turns a setter's outcome into what nginx expects; the message gets file and line.
pub fn done(cf: &mut ngx_conf_t, result: Result<(), String>) -> *mut c_char {
    match result {
        Ok(()) => NGX_CONF_OK,
        Err(message) => {
            let directive = String::from_utf8_lossy(str_bytes(&args(cf)[0])).into_owned();
            Sink::Conf(cf).error(NGX_LOG_EMERG, 0, format_args!("\"{directive}\": {message}"));
            NGX_CONF_ERROR
        }
    }
}

/// The full name of a file argument (relative names under the configuration prefix), which
/// must be readable.
pub fn readable_path(cf: &mut ngx_conf_t, arg: &ngx_str_t) -> Result<Vec<u8>, String> {
    let mut name: ngx_str_t = *arg;
    // SAFETY: cf.cycle is the cycle being configured; the full name goes in its pool.
    if unsafe { ngx::ffi::ngx_conf_full_name(cf.cycle, &mut name, 1) } != 0 {
        return Err("out of memory".to_owned());
    }
    let path = str_bytes(&name).to_vec();
    let os = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&path);
    std::fs::File::open(os)
        .map_err(|err| format!("cannot read \"{}\": {err}", path.escape_ascii()))?;
    Ok(path)
}

/// A time in nginx's syntax ("90", "1m30s", "1h"), in seconds.
pub fn parse_seconds(value: &[u8]) -> Option<u64> {
    let mut value = ngx_str_t {
        len: value.len(),
        data: value.as_ptr().cast_mut(),
    };
    // SAFETY: value points to value.len readable bytes; ngx_parse_time only reads them.
    u64::try_from(unsafe { ngx_parse_time(&mut value, 1) }).ok()
}

/// The directive's name and arguments.
pub fn args(cf: &ngx_conf_t) -> &'static [ngx_str_t] {
    // SAFETY: while a directive is handled, cf->args holds its name and arguments, allocated
    // from the configuration pool.
    unsafe { core::slice::from_raw_parts((*cf.args).elts.cast::<ngx_str_t>(), (*cf.args).nelts) }
}

/// A shared memory zone's size as `ngx_parse_size` reads it (`1m`, `64k`); `Err` with the
/// least size nginx allows (8 pages) when it is invalid or below that.
pub fn zone_size(text: &[u8]) -> Result<usize, usize> {
    let mut value = ngx_str_t {
        len: text.len(),
        data: text.as_ptr().cast_mut(),
    };
    // SAFETY: value points to text, which ngx_parse_size only reads; ngx_pagesize is set at
    // start.
    let (size, min) = unsafe { (ngx_parse_size(&mut value), 8 * ngx::ffi::ngx_pagesize) };
    usize::try_from(size).ok().filter(|&s| s >= min).ok_or(min)
}

/// Compiles a directive argument, which may contain variables.
pub fn compile_complex_value(
    cf: &mut ngx_conf_t,
    mut value: ngx_str_t,
    conf_prefix: bool,
) -> Option<*mut ngx_http_complex_value_t> {
    let value = &mut value as *mut ngx_str_t;

    // SAFETY: the pool outlives the configuration; ngx_pcalloc zeroes the allocation.
    let cv = unsafe { ngx_pcalloc(cf.pool, core::mem::size_of::<ngx_http_complex_value_t>()) }
        .cast::<ngx_http_complex_value_t>();
    if cv.is_null() {
        return None;
    }

    // SAFETY: an all-zero ngx_http_compile_complex_value_t is its documented initial state.
    let mut ccv: ngx_http_compile_complex_value_t = unsafe { core::mem::zeroed() };
    ccv.cf = cf;
    ccv.value = value;
    ccv.complex_value = cv;
    ccv.set_conf_prefix(conf_prefix.into());

    // SAFETY: ccv is fully initialized and points to live configuration data.
    if unsafe { ngx_http_compile_complex_value(&mut ccv) } != Status::NGX_OK.0 {
        return None;
    }

    Some(cv)
}

pub fn str_bytes(s: &ngx_str_t) -> &[u8] {
    if s.len == 0 || s.data.is_null() {
        return &[];
    }
    // SAFETY: an ngx_str_t with a non-null data pointer holds `len` readable bytes.
    unsafe { core::slice::from_raw_parts(s.data, s.len) }
}
