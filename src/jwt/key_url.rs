//! `auth_jwt_key_url`: JWK Sets fetched from an identity provider, once per nginx, in the
//! background, with nginx's resolver and TLS (the key sources of `crate::key_source`). A request
//! never waits on the network except for the first fetch after the worker started and for a
//! refetch that a token with an unknown `kid` asked for; both are bounded by the URL's timeout.

use core::ffi::{c_char, c_void};
use std::rc::Rc;

use auth_core::http::Url;
use auth_core::key_url::{Schedule, DEFAULT_COOLDOWN};
use ngx::ffi::{ngx_command_t, ngx_conf_t, ngx_http_request_t, NGX_LOG_EMERG};
use ngx::http::{HttpModuleLocationConf, NgxHttpCoreModule};

use super::{JwtConf, JwtCtx};
use crate::directive::{args, done, parse_seconds, position, readable_path, DUPLICATE};
use crate::key_source::{self, Fetched, KeySources, UrlKeys};
use crate::log::Sink;
use crate::net::ssl::{SslContexts, Trust};
use crate::part::{MainPart, RequestPart};
use crate::text::{str_bytes, text};

const DEFAULT_TIMEOUT: u64 = 10;

/// `auth_jwt_key_url` as written.
#[derive(Clone, PartialEq, Eq)]
pub struct Spec {
    url: Url,
    schedule: Schedule,
    timeout: u64,
    /// Where the directive is, for errors found when the configuration is merged.
    at: String,
}

/// The directive: `auth_jwt_key_url url [refresh=time] [cooldown=time] [timeout=time]`.
pub fn set_auth_jwt_key_url(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    let (cf, jcf) = super::conf(cf, cmd, c);
    let result = (|| {
        let args = args(cf);
        let text = text(&args[1])?;
        let url = Url::parse(text).map_err(|err| format!("invalid URL \"{text}\": {err}"))?;
        let mut schedule = Schedule {
            refresh: None,
            cooldown: DEFAULT_COOLDOWN,
        };
        let mut timeout = DEFAULT_TIMEOUT;
        for arg in &args[2..] {
            let arg = str_bytes(arg);
            let (name, value) = match arg.iter().position(|&c| c == b'=') {
                Some(eq) => (&arg[..eq], &arg[eq + 1..]),
                None => (arg, &b""[..]),
            };
            let seconds = parse_seconds(value);
            match (name, seconds) {
                (b"refresh", Some(s)) if s > 0 => schedule.refresh = Some(s),
                (b"cooldown", Some(s)) if s > 0 => schedule.cooldown = s,
                (b"timeout", Some(s)) if s > 0 => timeout = s,
                _ => return Err(format!("invalid parameter \"{}\"", arg.escape_ascii())),
            }
        }
        let at = position(cf);
        let specs = jcf.key_url_specs.get_or_insert_with(Rc::default);
        Rc::get_mut(specs).ok_or("key URLs are shared")?.push(Spec {
            url,
            schedule,
            timeout,
            at,
        });
        Ok(())
    })();
    done(cf, result)
}

/// `auth_jwt_ssl_trusted_certificate file`: the certificates that key URLs over https are
/// verified with, instead of the system's.
pub fn set_auth_jwt_ssl_trusted_certificate(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    let (cf, jcf) = super::conf(cf, cmd, c);
    if jcf.ssl_trusted.is_some() {
        return DUPLICATE;
    }
    let result = readable_path(cf, &args(cf)[1]).map(|path| jcf.ssl_trusted = Some(path));
    done(cf, result)
}

/// Gives the location its key URLs, each with the TLS context and resolver in effect there;
/// a URL used the same way elsewhere is the same source.
pub fn resolve(cf: &mut ngx_conf_t, jcf: &mut JwtConf) -> Result<(), ()> {
    let Some(specs) = jcf.key_url_specs.clone() else {
        return Ok(());
    };
    let Some(clcf) = NgxHttpCoreModule::location_conf(cf) else {
        return Err(());
    };
    let (resolver, resolver_timeout) = (clcf.resolver, clcf.resolver_timeout);
    let (Some(all), Some(contexts)) = (KeySources::of(cf), SslContexts::of(cf)) else {
        return Err(());
    };
    let trust = Trust {
        trusted: jcf.ssl_trusted.clone().unwrap_or_default(),
        crl: Vec::new(),
    };
    let mut sources = Vec::with_capacity(specs.len());
    for spec in specs.iter() {
        // SAFETY: the core module gave every location a resolver, maybe one without servers.
        let has_resolver = unsafe { resolver.as_ref() }.is_some_and(|r| r.connections.nelts > 0);
        let source = if !spec.url.host_is_address() && !has_resolver {
            Err(format!(
                "no resolver defined to resolve \"{}\"; add \"resolver\" or use an address",
                spec.url.host
            ))
        } else {
            let settings = key_source::Settings {
                url: spec.url.clone(),
                schedule: spec.schedule,
                timeout: spec.timeout,
                backoff: false,
            };
            // `auth_jwt_introspection auto` reads the endpoint from the discovery document,
            // which only a checked source keeps.
            let check: Option<key_source::Check> = jcf
                .introspection_is_auto()
                .then(|| Box::new(|_: &[u8]| Ok(())) as key_source::Check);
            all.source(
                cf,
                "auth_jwt_key_url",
                &settings,
                check,
                &trust,
                resolver,
                resolver_timeout,
                contexts,
            )
        };
        match source {
            Ok(source) => sources.push(source),
            Err(why) => {
                Sink::Log(cf.log).error(
                    NGX_LOG_EMERG,
                    0,
                    format_args!("\"auth_jwt_key_url\": {why} in {}", spec.at),
                );
                return Err(());
            }
        }
    }
    jcf.key_urls = Some(Rc::new(sources));
    Ok(())
}

/// What the key URLs of a location give a request.
pub enum Keys {
    Ready {
        keys: Vec<Rc<UrlKeys>>,
        /// A URL has no keys because its fetches failed.
        failed: bool,
    },
    /// The request is parked until a first fetch ends.
    Wait,
}

pub fn keys(r: &mut ngx_http_request_t, jcf: &JwtConf) -> Keys {
    let mut out = Vec::new();
    let mut failed = false;
    for source in jcf.key_urls() {
        let Some(waits) = JwtCtx::of_or_create(r).map(|ctx| ctx.key_url_waits.get()) else {
            return Keys::Ready {
                keys: out,
                failed: true,
            };
        };
        match source.keys_for(r, waits) {
            Fetched::Keys(keys) => out.push(keys),
            Fetched::Wait => {
                waited(r);
                return Keys::Wait;
            }
            Fetched::Failed => failed = true,
        }
    }
    Keys::Ready { keys: out, failed }
}

/// For a token that a key the provider has just added could verify: parks the request until a
/// URL is fetched again (by this worker or another), unless each was fetched for that reason
/// within its cooldown. True when parked.
pub fn refetch_for_unknown_kid(r: &mut ngx_http_request_t, jcf: &JwtConf) -> bool {
    for source in jcf.key_urls() {
        let Some(waits) = JwtCtx::of_or_create(r).map(|ctx| ctx.key_url_waits.get()) else {
            return false;
        };
        if let Some(parked) = source.refetch_for_unknown_kid(r, waits) {
            if parked {
                waited(r);
            }
            return parked;
        }
    }
    false
}

/// Counts a wait of the request.
fn waited(r: &ngx_http_request_t) {
    if let Some(ctx) = JwtCtx::of(r) {
        ctx.key_url_waits.set(ctx.key_url_waits.get() + 1);
    }
}
