//! ngx_http_auth_rs_module: authentication in the nginx worker.

mod cache;
mod conf;
mod ctx;
mod file_cache;
#[cfg(nginx_threads)]
mod flight;
mod guard;
mod htpasswd;
mod jwt;
mod log;
mod net;
mod oidc;
mod request;
mod require;
#[cfg(feature = "test-hooks")]
mod test_hooks;
#[cfg(nginx_threads)]
mod thread;
mod user_file;
mod wait;

use core::ffi::c_void;
use core::ptr::{addr_of, addr_of_mut};

use ngx::core::Status;
use ngx::ffi::{ngx_cycle_t, ngx_http_module_t, ngx_int_t, ngx_module_t, NGX_HTTP_MODULE};
use ngx::http::HttpModule;

use crate::conf::Module;

static MODULE_CTX: ngx_http_module_t = ngx_http_module_t {
    preconfiguration: Some(Module::preconfiguration),
    postconfiguration: Some(Module::postconfiguration),
    create_main_conf: Some(Module::create_main_conf),
    init_main_conf: None,
    create_srv_conf: None,
    merge_srv_conf: None,
    create_loc_conf: Some(Module::create_loc_conf),
    merge_loc_conf: Some(Module::merge_loc_conf),
};

ngx::ngx_modules!(ngx_http_auth_rs_module);

#[used]
#[allow(non_upper_case_globals)]
pub static mut ngx_http_auth_rs_module: ngx_module_t = ngx_module_t {
    ctx: addr_of!(MODULE_CTX) as *mut c_void,
    commands: addr_of_mut!(conf::COMMANDS) as *mut _,
    type_: NGX_HTTP_MODULE as _,
    init_process: Some(init_process),
    ..ngx_module_t::default()
};

/// A worker starts: it fetches the keys of auth_jwt_key_url and the providers' metadata.
extern "C" fn init_process(cycle: *mut ngx_cycle_t) -> ngx_int_t {
    // SAFETY: nginx passes the worker's cycle.
    let cycle = unsafe { &*cycle };
    let started = guard::catch(|| {
        jwt::key_url::start_all(cycle);
        oidc::start_all(cycle);
    });
    match started {
        Ok(()) => Status::NGX_OK.into(),
        Err(_) => Status::NGX_ERROR.into(),
    }
}
