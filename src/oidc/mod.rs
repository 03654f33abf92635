//! `oidc_provider`, `auth_oidc` and `oidc_session_key`: an OpenID Connect relying party in the
//! worker. The provider's metadata and keys are fetched in the background; a browser without
//! a session is sent to log in, the callback's code is exchanged on nginx's event loop, and
//! the session lives in a sealed cookie.

mod backchannel;
mod bearer;
mod exchange;
mod frontchannel;
mod handler;
mod headers;
mod provider;
mod refresh;
mod sessions;
mod store;
pub mod variables;
pub mod zone;

use core::ffi::{c_char, c_void};
use core::ptr::NonNull;
use std::rc::Rc;
use std::sync::OnceLock;

use auth_core::oidc::seal::random_secret;
use auth_core::oidc::Sealer;
use ngx::ffi::{
    ngx_command_t, ngx_conf_t, ngx_http_complex_value_t, ngx_http_request_t, NGX_LOG_EMERG,
    NGX_LOG_ERR, NGX_LOG_WARN,
};
use ngx::http::{HttpModuleLocationConf, HttpModuleMainConf, NgxHttpCoreModule};

pub use exchange::Exchange;
pub use handler::access_handler;
pub use provider::{set_oidc_provider, start_all, Provider};
pub use store::{set_oidc_session_zone, Store};

use crate::conf::{args, compile_complex_value, done, readable_path, str_bytes, LocConf, Module};
use crate::log::Sink;

/// `auth_oidc` of a location.
#[derive(Default)]
pub struct OidcConf {
    /// `None`: not set here; `Some(None)`: `off`.
    name: Option<Option<String>>,
    /// A name with variables, evaluated per request.
    name_cv: Option<NonNull<ngx_http_complex_value_t>>,
    /// Where the directive is.
    at: String,
    pub provider: Option<Rc<Provider>>,
}

impl OidcConf {
    pub fn merge(&mut self, prev: &OidcConf) {
        if self.name.is_none() {
            self.name = prev.name.clone();
            self.name_cv = prev.name_cv;
            self.at = prev.at.clone();
            self.provider = prev.provider.clone();
        }
    }

    /// The provider of `r`: `None` when there is none, or the name evaluates to "" or "off";
    /// `Err(())` when the name evaluates to no provider, which is logged.
    pub fn provider_for(&self, r: &mut ngx_http_request_t) -> Result<Option<Rc<Provider>>, ()> {
        let Some(cv) = self.name_cv else {
            return Ok(self.provider.clone());
        };
        let value = crate::request::complex_value(r, cv.as_ptr()).ok_or(())?;
        let name = str_bytes(&value);
        if name.is_empty() || name == b"off" {
            return Ok(None);
        }
        let found = Module::main_conf(r).and_then(|mcf| {
            mcf.oidc_providers
                .borrow()
                .iter()
                .find(|p| p.name.as_bytes() == name)
                .cloned()
        });
        if found.is_none() {
            crate::request::log(r).error(
                NGX_LOG_ERR,
                0,
                format_args!(
                    "auth_oidc: no oidc_provider \"{}\", the value of \"auth_oidc\" in {}",
                    name.escape_ascii(),
                    self.at
                ),
            );
            return Err(());
        }
        Ok(found)
    }
}

/// Where the directive being parsed is, as `file:line`.
pub(crate) fn position(cf: &ngx_conf_t) -> String {
    // SAFETY: while a directive is parsed, conf_file is the file being read.
    unsafe {
        let file = &*cf.conf_file;
        format!(
            "{}:{}",
            str_bytes(&file.file.name).escape_ascii(),
            file.line
        )
    }
}

/// `auth_oidc name | off`.
pub fn set_auth_oidc(cf: *mut ngx_conf_t, _: *mut ngx_command_t, c: *mut c_void) -> *mut c_char {
    // SAFETY: nginx passes a valid configuration context and this module's LocConf.
    let (cf, lcf) = unsafe { (&mut *cf, &mut *c.cast::<LocConf>()) };
    if lcf.oidc.name.is_some() {
        return c"is duplicate".as_ptr().cast_mut();
    }
    let result = (|| {
        let arg = args(cf)[1];
        let name = crate::jwt::text(&arg)?;
        lcf.oidc.at = position(cf);
        if name.contains('$') {
            let cv = compile_complex_value(cf, arg, false).ok_or("invalid value")?;
            lcf.oidc.name_cv = NonNull::new(cv);
            lcf.oidc.name = Some(None);
            return Ok(());
        }
        lcf.oidc.name = Some((name != "off").then(|| name.to_owned()));
        Ok(())
    })();
    done(cf, result)
}

/// Gives the location the provider that `auth_oidc` names, once every provider is known.
pub fn resolve(cf: &mut ngx_conf_t, ocf: &mut OidcConf) -> Result<(), ()> {
    let Some(Some(name)) = &ocf.name else {
        return Ok(());
    };
    if ocf.provider.as_ref().is_some_and(|p| &p.name == name) {
        return Ok(());
    }
    let mcf = Module::main_conf(cf).ok_or(())?;
    let found = mcf
        .oidc_providers
        .borrow()
        .iter()
        .find(|p| &p.name == name)
        .cloned();
    match found {
        Some(provider) => {
            ocf.provider = Some(provider);
            Ok(())
        }
        None => {
            Sink::Log(cf.log).error(
                NGX_LOG_EMERG,
                0,
                format_args!("\"auth_oidc\": no oidc_provider \"{name}\" in {}", ocf.at),
            );
            Err(())
        }
    }
}

/// `oidc_session_key file ...`: the secrets that seal session cookies; the first seals, all
/// open, so that a secret can be rolled over.
pub fn set_oidc_session_key(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    _c: *mut c_void,
) -> *mut c_char {
    // SAFETY: nginx passes a valid configuration context.
    let cf = unsafe { &mut *cf };
    let result = (|| {
        let mcf = Module::main_conf(cf).ok_or("no main configuration")?;
        if mcf.oidc_sealer.borrow().is_some() {
            return Err("is duplicate".to_owned());
        }
        let mut secrets = Vec::new();
        for arg in &args(cf)[1..] {
            let path = readable_path(cf, arg)?;
            let os = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&path);
            let secret = std::fs::read(os)
                .map_err(|err| format!("cannot read \"{}\": {err}", path.escape_ascii()))?;
            secrets.push(secret);
        }
        let refs: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
        let sealer = Sealer::new(&refs).map_err(|err| err.to_string())?;
        *mcf.oidc_sealer.borrow_mut() = Some(Rc::new(sealer));
        Ok(())
    })();
    done(cf, result)
}

/// The secret of a configuration without `oidc_session_key`: made once per nginx process, so
/// that sessions survive reloads but not a restart.
fn process_secret() -> Option<&'static [u8; 32]> {
    static SECRET: OnceLock<Option<[u8; 32]>> = OnceLock::new();
    SECRET.get_or_init(|| random_secret().ok()).as_ref()
}

/// After the configuration is read: each provider gets its TLS context and resolver, and the
/// configuration a sealer.
pub fn init(cf: &mut ngx_conf_t) -> Result<(), ()> {
    let mcf = Module::main_conf(cf).ok_or(())?;
    if mcf.oidc_providers.borrow().is_empty() {
        return Ok(());
    }
    if mcf.oidc_sealer.borrow().is_none() {
        let sealer = process_secret()
            .and_then(|s| Sealer::new(&[s]).ok())
            .ok_or(())?;
        *mcf.oidc_sealer.borrow_mut() = Some(Rc::new(sealer));
        let at = mcf.oidc_providers.borrow()[0].settings.at.clone();
        Sink::Log(cf.log).error(
            NGX_LOG_WARN,
            0,
            format_args!(
                "no \"oidc_session_key\": OpenID Connect sessions end when nginx restarts, \
                 for the oidc_provider in {at}"
            ),
        );
    }
    mcf.oidc_zone.set(Some(zone::Zone::add(cf).ok_or(())?));
    let clcf = NgxHttpCoreModule::location_conf(cf).ok_or(())?;
    let (resolver, resolver_timeout) = (clcf.resolver, clcf.resolver_timeout);
    let providers = mcf.oidc_providers.borrow().clone();
    for (i, provider) in providers.iter().enumerate() {
        let name = &provider.settings.cookie_name;
        if let Some(other) = providers[..i]
            .iter()
            .find(|p| &p.settings.cookie_name == name)
        {
            Sink::Log(cf.log).error(
                NGX_LOG_EMERG,
                0,
                format_args!(
                    "\"oidc_provider\" \"{}\": cookie_name \"{name}\" is the one of \"{}\"; \
                     each provider needs its own in {}",
                    provider.name, other.name, provider.settings.at
                ),
            );
            return Err(());
        }
    }
    let stores = mcf.oidc_stores.borrow().clone();
    for provider in providers {
        let prepared = provider
            .set_store(&stores)
            .and_then(|()| provider.prepare(cf, &mcf.ssl_contexts, resolver, resolver_timeout));
        if let Err(why) = prepared {
            Sink::Log(cf.log).error(
                NGX_LOG_EMERG,
                0,
                format_args!(
                    "\"oidc_provider\" \"{}\": {why} in {}",
                    provider.name, provider.settings.at
                ),
            );
            return Err(());
        }
    }
    Ok(())
}
