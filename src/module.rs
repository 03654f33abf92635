//! The module's face: the one `ngx_module_t`, its directives and callbacks, and the main,
//! location and request state of every capability. It is the only code that knows where each
//! capability's part of that state lies (the `part` impls at the end); the capabilities below
//! it never see one another.

use core::ffi::{c_char, c_void, CStr};
use core::mem::offset_of;
use core::ptr::{self, addr_of, addr_of_mut};
use std::rc::Rc;

use auth_core::jwt::Verified;
use ngx::core::{Status, NGX_CONF_ERROR, NGX_CONF_OK};
use ngx::ffi::{
    ngx_array_create, ngx_array_push, ngx_array_t, ngx_command_t, ngx_conf_t, ngx_cycle_t,
    ngx_http_handler_pt, ngx_http_module_t, ngx_http_output_header_filter_pt,
    ngx_http_phases_NGX_HTTP_ACCESS_PHASE, ngx_http_phases_NGX_HTTP_PRECONTENT_PHASE,
    ngx_http_request_t, ngx_http_top_header_filter, ngx_int_t, ngx_module_t, ngx_pool_cleanup_add,
    ngx_pool_cleanup_pt, ngx_uint_t, NGX_CONF_1MORE, NGX_CONF_2MORE, NGX_CONF_BLOCK,
    NGX_CONF_TAKE1, NGX_CONF_TAKE12, NGX_HTTP_LMT_CONF, NGX_HTTP_LOC_CONF,
    NGX_HTTP_LOC_CONF_OFFSET, NGX_HTTP_MAIN_CONF, NGX_HTTP_MAIN_CONF_OFFSET, NGX_HTTP_MODULE,
    NGX_HTTP_SRV_CONF, NGX_LOG_ALERT, NGX_LOG_EMERG,
};
use ngx::http::{
    HttpModule, HttpModuleConfExt, HttpModuleLocationConf, HttpModuleMainConf,
    HttpModuleServerConf, Merge, MergeConfigError, NgxHttpCoreModule,
};
use ngx::ngx_string;

use crate::cache::{self, TokenCache};
use crate::guard;
use crate::htpasswd::{self, HtpasswdConf, HtpasswdCtx, HtpasswdMain};
use crate::jwt::{self, JwtConf, JwtCtx, JwtMain, JwtSrv};
use crate::key_source::{self, KeySources};
use crate::log::Sink;
use crate::net::ssl::SslContexts;
use crate::oidc::{self, OidcConf, OidcCtx, OidcMain, OidcSrv};
use crate::part::{LocPart, MainPart, RequestPart, SrvPart};
use crate::redis::{self, RedisStores};
use crate::remote_user;
use crate::require::{self, RequireConf};
#[cfg(feature = "test-hooks")]
use crate::signature_check::{self, SignatureCheckConf};
#[cfg(feature = "test-hooks")]
use crate::test_hooks;

static MODULE_CTX: ngx_http_module_t = ngx_http_module_t {
    preconfiguration: Some(Module::preconfiguration),
    postconfiguration: Some(Module::postconfiguration),
    create_main_conf: Some(Module::create_main_conf),
    init_main_conf: None,
    create_srv_conf: Some(Module::create_srv_conf),
    merge_srv_conf: None,
    create_loc_conf: Some(Module::create_loc_conf),
    merge_loc_conf: Some(Module::merge_loc_conf),
};

ngx::ngx_modules!(ngx_http_auth_rs_module);

#[used]
#[allow(non_upper_case_globals)]
pub static mut ngx_http_auth_rs_module: ngx_module_t = ngx_module_t {
    ctx: addr_of!(MODULE_CTX) as *mut c_void,
    commands: addr_of_mut!(COMMANDS) as *mut _,
    type_: NGX_HTTP_MODULE as _,
    init_process: Some(init_process),
    ..ngx_module_t::default()
};

/// Who admitted a request, for `$remote_user`: a token first, then a session.
static REMOTE_USER_SOURCES: [remote_user::Source; 2] = [jwt::remote_user, oidc::remote_user];

pub struct Module;

impl HttpModule for Module {
    fn module() -> &'static ngx_module_t {
        // SAFETY: nginx only writes to the module structure before any configuration is parsed.
        unsafe { &*ptr::addr_of!(ngx_http_auth_rs_module) }
    }

    unsafe extern "C" fn preconfiguration(cf: *mut ngx_conf_t) -> ngx_int_t {
        guard::install_hook();
        guard_init(cf, |cf| {
            match jwt::variables::register(cf).and_then(|()| oidc::variables::register(cf)) {
                Some(()) => {
                    remote_user::take_over(cf, &REMOTE_USER_SOURCES);
                    Status::NGX_OK.into()
                }
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
            if OidcMain::of(cf).is_some_and(OidcMain::has_providers) {
                insert_header_filter();
            }
            // The zone of the key sources once every source is known: the locations' ones
            // are, the providers' come with oidc::init.
            let sources = KeySources::of(cf).ok_or(());
            let ready = RedisStores::init(cf).and_then(|()| oidc::init(cf));
            match ready.and_then(|()| sources?.add_zone(cf)) {
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
            jwt::register_resource(cf, &conf.jwt);
            match jwt::key_url::resolve(cf, &mut conf.jwt)
                .and_then(|()| jwt::resolve_introspection(cf, &conf.jwt))
                .and_then(|()| oidc::resolve(cf, &mut conf.oidc))
            {
                Ok(()) => NGX_CONF_OK,
                Err(()) => NGX_CONF_ERROR,
            }
        })
    }
}

/// A worker starts: it fetches the keys of auth_jwt_key_url and the providers' metadata and
/// keys.
extern "C" fn init_process(cycle: *mut ngx_cycle_t) -> ngx_int_t {
    // SAFETY: nginx passes the worker's cycle.
    let cycle = unsafe { &*cycle };
    let started = guard::catch(|| {
        if let Some(sources) = KeySources::of(cycle) {
            sources.start_all();
        }
        oidc::start(cycle);
    });
    match started {
        Ok(()) => Status::NGX_OK.into(),
        Err(_) => Status::NGX_ERROR.into(),
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

/// The header filter below this module's, for the configuration being read.
static mut NEXT_HEADER_FILTER: ngx_http_output_header_filter_pt = None;

/// Puts the header filter in place, at the top of the chain: above the headers filter,
/// whose `expires` runs after it.
fn insert_header_filter() {
    // SAFETY: the filter chain is built at configuration time, in one thread; each
    // configuration read builds it anew from the bottom.
    unsafe {
        NEXT_HEADER_FILTER = ngx_http_top_header_filter;
        ngx_http_top_header_filter = Some(header_filter);
    }
}

extern "C" fn header_filter(r: *mut ngx_http_request_t) -> ngx_int_t {
    // SAFETY: nginx calls header filters with a valid request whose connection is alive.
    let r = unsafe { &mut *r };
    match guard::catch(|| oidc::header_filter(r)) {
        Ok(Some(())) => {}
        Ok(None) => return Status::NGX_ERROR.into(),
        Err(panic) => {
            // SAFETY: a request's connection lives as long as the request.
            let log = unsafe { (*r.connection).log };
            Sink::Log(log).error(
                NGX_LOG_ALERT,
                0,
                format_args!("auth_oidc: internal error in the header filter: {panic}"),
            );
        }
    }
    // SAFETY: set with this filter, before any request; the chain ends in nginx's own.
    match unsafe { NEXT_HEADER_FILTER } {
        Some(next) => unsafe { next(r) },
        None => Status::NGX_ERROR.into(),
    }
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
        htpasswd::access_handler,
        jwt::access_handler,
        #[cfg(feature = "test-hooks")]
        signature_check::access_handler,
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
    unsafe { slot.write(Some(require::precontent_handler)) };

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

#[derive(Default)]
pub struct MainConf {
    pub htpasswd: HtpasswdMain,
    pub jwt: JwtMain,
    pub oidc: OidcMain,
    /// Shared by auth_jwt and auth_oidc's bearer mode.
    pub tokens: TokenCache,
    /// The JWK Sets of auth_jwt_key_url and of the providers, fetched once per nginx.
    pub key_sources: KeySources,
    /// The TLS contexts of auth_jwt_key_url and the providers, shared.
    pub ssl_contexts: SslContexts,
    /// The `auth_redis` stores.
    pub redis: RedisStores,
}

// SAFETY: MainConf is the type create_main_conf allocates for this module.
unsafe impl HttpModuleMainConf for Module {
    type MainConf = MainConf;
}

#[derive(Default)]
pub struct SrvConf {
    pub jwt: JwtSrv,
    pub oidc: OidcSrv,
}

// SAFETY: SrvConf is the type create_srv_conf allocates for this module.
unsafe impl HttpModuleServerConf for Module {
    type ServerConf = SrvConf;
}

#[derive(Default)]
pub struct LocConf {
    pub htpasswd: HtpasswdConf,
    pub jwt: JwtConf,
    pub oidc: OidcConf,
    pub require: RequireConf,
    #[cfg(feature = "test-hooks")]
    pub signature_check: SignatureCheckConf,
}

// SAFETY: LocConf is the type create_loc_conf allocates for this module.
unsafe impl HttpModuleLocationConf for Module {
    type LocationConf = LocConf;
}

impl Merge for LocConf {
    fn merge(&mut self, prev: &Self) -> Result<(), MergeConfigError> {
        self.htpasswd.merge(&prev.htpasswd);
        self.jwt.merge(&prev.jwt);
        self.oidc.merge(&prev.oidc);
        self.require.merge(&prev.require);
        #[cfg(feature = "test-hooks")]
        self.signature_check.merge(&prev.signature_check);
        Ok(())
    }
}

/// What the module keeps for a request. It lives in a cleanup of the main request's pool, so
/// it survives internal redirects (which clear the ctx array; realip finds its ctx the same
/// way) and subrequests see it too.
#[derive(Default)]
pub struct RequestCtx {
    pub htpasswd: HtpasswdCtx,
    pub jwt: JwtCtx,
    pub oidc: OidcCtx,
}

extern "C" fn drop_ctx(data: *mut c_void) {
    // SAFETY: registered only for cleanups whose data is a RequestCtx written by
    // request_ctx_or_create().
    unsafe { ptr::drop_in_place(data.cast::<RequestCtx>()) };
}

/// One copy of the cleanup handler's address, so that storing and finding it agree.
static DROP_CTX: ngx_pool_cleanup_pt = Some(drop_ctx);

fn ctx_slot(r: &ngx_http_request_t) -> *mut *mut c_void {
    // SAFETY: r.main is the main request; its ctx array has a slot for every HTTP module.
    unsafe { (*r.main).ctx.add(Module::module().ctx_index) }
}

/// The context of this request, if the module made one.
fn request_ctx(r: &ngx_http_request_t) -> Option<&RequestCtx> {
    let slot = ctx_slot(r);
    // SAFETY: the slot holds null or a RequestCtx living in a cleanup of the main request's
    // pool, which outlives the request and its subrequests.
    unsafe {
        if (*slot).is_null() {
            let mut cln = (*(*r.main).pool).cleanup;
            while !cln.is_null() {
                if (*cln).handler.map(|h| h as usize) == DROP_CTX.map(|h| h as usize) {
                    *slot = (*cln).data;
                    break;
                }
                cln = (*cln).next;
            }
        }
        (*slot).cast::<RequestCtx>().as_ref()
    }
}

/// The context of this request, made on first use; `None` when out of memory.
fn request_ctx_or_create(r: &ngx_http_request_t) -> Option<&RequestCtx> {
    if request_ctx(r).is_none() {
        // SAFETY: the cleanup drops the context when the main request's pool is destroyed.
        unsafe {
            let cln = ngx_pool_cleanup_add((*r.main).pool, core::mem::size_of::<RequestCtx>());
            if cln.is_null() {
                return None;
            }
            ptr::write((*cln).data.cast::<RequestCtx>(), RequestCtx::default());
            (*cln).handler = DROP_CTX;
            *ctx_slot(r) = (*cln).data;
        }
    }
    request_ctx(r)
}

/// Where each capability's parts lie.
macro_rules! parts {
    (
        main: $($main:ty => $mfield:ident),*;
        srv: $($srv:ty => $sfield:ident),*;
        loc: $($loc:ty => $lfield:ident),*;
        request: $($req:ty => $rfield:ident),*
    ) => {
        $(impl MainPart for $main {
            #[inline]
            fn of(o: &impl HttpModuleConfExt) -> Option<&'static Self> {
                Module::main_conf(o).map(|mcf| &mcf.$mfield)
            }
        })*
        $(impl SrvPart for $srv {
            #[inline]
            fn of(o: &impl HttpModuleConfExt) -> Option<&'static Self> {
                Module::server_conf(o).map(|scf| &scf.$sfield)
            }
        })*
        $(impl LocPart for $loc {
            #[inline]
            fn of(o: &impl HttpModuleConfExt) -> Option<&'static Self> {
                Module::location_conf(o).map(|lcf| &lcf.$lfield)
            }
        })*
        $(impl RequestPart for $req {
            #[inline]
            fn of(r: &ngx_http_request_t) -> Option<&Self> {
                request_ctx(r).map(|ctx| &ctx.$rfield)
            }
            #[inline]
            fn of_or_create(r: &ngx_http_request_t) -> Option<&Self> {
                request_ctx_or_create(r).map(|ctx| &ctx.$rfield)
            }
        })*
    };
}

parts!(
    main: HtpasswdMain => htpasswd, JwtMain => jwt, OidcMain => oidc, TokenCache => tokens,
        KeySources => key_sources, SslContexts => ssl_contexts, RedisStores => redis;
    srv: JwtSrv => jwt, OidcSrv => oidc;
    loc: HtpasswdConf => htpasswd, JwtConf => jwt, OidcConf => oidc, RequireConf => require;
    request: HtpasswdCtx => htpasswd, JwtCtx => jwt, OidcCtx => oidc
);

#[cfg(feature = "test-hooks")]
parts!(main: ; srv: ; loc: SignatureCheckConf => signature_check; request: );

const ANY_LOC_CONF: u32 =
    NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_HTTP_LMT_CONF;

/// A directive: its name, where and with what arguments it is allowed, its setter, and which
/// part of which configuration the setter gets (`cmd.offset` into it).
macro_rules! command {
    ($name:literal, $type:expr, $set:path, loc $($field:tt)+) => {
        command!(@ $name, $type, $set, NGX_HTTP_LOC_CONF_OFFSET, offset_of!(LocConf, $($field)+))
    };
    ($name:literal, $type:expr, $set:path, main $($field:tt)+) => {
        command!(@ $name, $type, $set, NGX_HTTP_MAIN_CONF_OFFSET, offset_of!(MainConf, $($field)+))
    };
    (@ $name:literal, $type:expr, $set:path, $conf:expr, $offset:expr) => {
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
            offset: $offset,
            post: ptr::null_mut(),
        }
    };
}

const COMMANDS_LEN: usize = 34 + 2 * cfg!(feature = "test-hooks") as usize;

static mut COMMANDS: [ngx_command_t; COMMANDS_LEN] = [
    command!("auth_htpasswd", ANY_LOC_CONF | NGX_CONF_TAKE1, htpasswd::set_auth_htpasswd, loc htpasswd),
    command!("auth_htpasswd_user_file", ANY_LOC_CONF | NGX_CONF_TAKE1, htpasswd::set_auth_htpasswd_user_file, loc htpasswd),
    command!("auth_htpasswd_cache", NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE12, cache::set_worker_cache::<()>, main htpasswd.cache),
    command!("auth_jwt_cache", NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE12, cache::set_worker_cache::<Rc<Verified>>, main tokens.0),
    command!("auth_jwt", ANY_LOC_CONF | NGX_CONF_TAKE12, jwt::set_auth_jwt, loc jwt),
    command!("auth_jwt_key_file", ANY_LOC_CONF | NGX_CONF_TAKE12, jwt::set_auth_jwt_key_file, loc jwt),
    command!("auth_jwt_key_cache", ANY_LOC_CONF | NGX_CONF_TAKE1, jwt::set_auth_jwt_key_cache, loc jwt),
    command!("auth_jwt_key_request", ANY_LOC_CONF | NGX_CONF_TAKE1, jwt::set_auth_jwt_key_request, loc jwt),
    command!("auth_jwt_key_url", ANY_LOC_CONF | NGX_CONF_1MORE, jwt::key_url::set_auth_jwt_key_url, loc jwt),
    command!("auth_jwt_key_url_zone", NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, key_source::set_auth_jwt_key_url_zone, main key_sources),
    command!("auth_jwt_ssl_trusted_certificate", ANY_LOC_CONF | NGX_CONF_TAKE1, jwt::key_url::set_auth_jwt_ssl_trusted_certificate, loc jwt),
    command!("auth_jwt_leeway", ANY_LOC_CONF | NGX_CONF_TAKE1, jwt::set_auth_jwt_leeway, loc jwt),
    command!("auth_jwt_type", ANY_LOC_CONF | NGX_CONF_TAKE1, jwt::set_auth_jwt_type, loc jwt),
    command!("auth_jwt_require", ANY_LOC_CONF | NGX_CONF_1MORE, jwt::set_auth_jwt_require, loc jwt),
    command!("auth_jwt_algorithms", ANY_LOC_CONF | NGX_CONF_1MORE, jwt::set_auth_jwt_algorithms, loc jwt),
    command!("auth_jwt_issuer", ANY_LOC_CONF | NGX_CONF_1MORE, jwt::set_auth_jwt_issuer, loc jwt),
    command!("auth_jwt_audience", ANY_LOC_CONF | NGX_CONF_1MORE, jwt::set_auth_jwt_audience, loc jwt),
    command!("auth_jwt_resource", ANY_LOC_CONF | NGX_CONF_1MORE, jwt::set_auth_jwt_resource, loc jwt),
    command!("auth_jwt_scope", ANY_LOC_CONF | NGX_CONF_1MORE, jwt::set_auth_jwt_scope, loc jwt),
    command!("auth_jwt_dpop", ANY_LOC_CONF | NGX_CONF_TAKE1, jwt::set_auth_jwt_dpop, loc jwt),
    command!("auth_jwt_dpop_window", ANY_LOC_CONF | NGX_CONF_TAKE1, jwt::set_auth_jwt_dpop_window, loc jwt),
    command!("auth_jwt_mtls_binding", ANY_LOC_CONF | NGX_CONF_TAKE1, jwt::set_auth_jwt_mtls_binding, loc jwt),
    command!("auth_jwt_introspection", ANY_LOC_CONF | NGX_CONF_1MORE, jwt::set_auth_jwt_introspection, loc jwt),
    command!("auth_jwt_require_exp", ANY_LOC_CONF | NGX_CONF_TAKE1, jwt::set_auth_jwt_require_exp, loc jwt),
    command!("auth_jwt_claim_set", NGX_HTTP_MAIN_CONF | NGX_CONF_2MORE, jwt::set_auth_jwt_claim_set, main jwt),
    command!("auth_jwt_header_set", NGX_HTTP_MAIN_CONF | NGX_CONF_2MORE, jwt::set_auth_jwt_header_set, main jwt),
    command!("auth_redis", NGX_HTTP_MAIN_CONF | NGX_CONF_BLOCK | NGX_CONF_TAKE1, redis::set_auth_redis, main redis),
    command!("oidc_provider", NGX_HTTP_MAIN_CONF | NGX_CONF_BLOCK | NGX_CONF_TAKE1, oidc::set_oidc_provider, main oidc),
    command!("oidc_session_key", NGX_HTTP_MAIN_CONF | NGX_CONF_1MORE, oidc::set_oidc_session_key, main oidc),
    command!("oidc_session_zone", NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, oidc::set_oidc_session_zone, main oidc),
    command!("auth_oidc", NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1, oidc::set_auth_oidc, loc oidc),
    command!("auth_oidc_cache_control", ANY_LOC_CONF | NGX_CONF_TAKE1, oidc::set_auth_oidc_cache_control, loc oidc),
    command!("auth_require", ANY_LOC_CONF | NGX_CONF_1MORE, require::set_auth_require, loc require),
    #[cfg(feature = "test-hooks")]
    command!("auth_rs_test_panic", ANY_LOC_CONF | ngx::ffi::NGX_CONF_NOARGS, test_hooks::set_panic, loc signature_check),
    #[cfg(feature = "test-hooks")]
    command!("auth_rs_test_signature_check", ANY_LOC_CONF | ngx::ffi::NGX_CONF_TAKE2, signature_check::set_auth_rs_test_signature_check, loc signature_check),
    ngx_command_t::empty(),
];

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
