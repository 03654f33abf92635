//! `auth_jwt_introspection`: opaque access tokens checked at the authorization server's
//! introspection endpoint (RFC 7662) by `crate::bearer::introspection`: the directive, the
//! endpoint it names or that `auth_jwt_key_url`'s discovery document gives, and which tokens go
//! there.

use core::cell::RefCell;
use core::ffi::{c_char, c_void};
use core::time::Duration;
use std::rc::Rc;

use auth_core::http::Url;
use auth_core::jwt::introspection::{self, MAX_ANSWER};
use ngx::ffi::{ngx_command_t, ngx_conf_t, ngx_http_request_t, NGX_LOG_EMERG};
use ngx::http::{HttpModuleLocationConf, NgxHttpCoreModule};

use super::key_url::{self, Keys};
use super::{conf, JwtConf, JwtCtx, JwtMain};
pub use crate::bearer::introspection::Outcome;
use crate::bearer::introspection::{introspect, Ask, Introspector, Zone};
use crate::directive::{args, done, parse_seconds, position, DUPLICATE};
use crate::log::Sink;
use crate::net::client::Reach;
use crate::net::ssl::{SslContexts, Trust};
use crate::part::{MainPart, RequestPart};
use crate::text::text;

/// Seconds an answer is kept by default.
const DEFAULT_CACHE: u64 = 60;
const DEFAULT_TIMEOUT: u64 = 5;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Tokens that are not a JWS.
    Opaque,
    Always,
}

enum Endpoint {
    Url(Url),
    /// The `introspection_endpoint` of the discovery document of `auth_jwt_key_url`.
    Auto,
}

pub struct Introspection {
    endpoint: Endpoint,
    settings: Rc<Introspector>,
    mode: Mode,
    /// Where the directive is, for errors found at merge.
    at: String,
    /// Set at merge, with the resolver and trust of the location.
    reach: RefCell<Option<Reach>>,
    /// With `auto`: the endpoint of the discovery document of this generation of keys.
    discovered: RefCell<Option<(u64, Option<Rc<Url>>)>>,
}

/// `auth_jwt_introspection url|auto [client_id=id] [client_secret=secret |
/// client_secret_file=file] [cache=time] [mode=opaque|always] [timeout=time]`.
pub fn set_auth_jwt_introspection(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    let (cf, jcf) = conf(cf, cmd, c);
    if jcf.introspection.is_some() {
        return DUPLICATE;
    }
    let result = (|| {
        let all = args(cf);
        let first = text(&all[1])?;
        let endpoint = if first == "auto" {
            Endpoint::Auto
        } else {
            let url = Url::parse(first).map_err(|err| format!("invalid URL \"{first}\": {err}"))?;
            if !url.https && !url.host_is_loopback() {
                return Err(format!("\"{first}\" must be https"));
            }
            Endpoint::Url(url)
        };
        let mut mode = Mode::Opaque;
        let mut intro = Introspector {
            who: "auth_jwt".to_owned(),
            client_id: None,
            client_secret: None,
            cache: DEFAULT_CACHE,
            timeout: DEFAULT_TIMEOUT,
        };
        for arg in &all[2..] {
            let arg = text(arg)?;
            let (name, value) = arg.split_once('=').unwrap_or((arg, ""));
            match name {
                "client_id" if !value.is_empty() => intro.client_id = Some(value.to_owned()),
                "client_secret" if !value.is_empty() => {
                    intro.client_secret = Some(value.to_owned())
                }
                "client_secret_file" => {
                    let secret = std::fs::read_to_string(value)
                        .map_err(|err| format!("cannot read \"{value}\": {err}"))?;
                    let secret = secret.trim();
                    if secret.is_empty() {
                        return Err(format!("\"{value}\" is empty"));
                    }
                    intro.client_secret = Some(secret.to_owned());
                }
                "cache" => {
                    intro.cache = parse_seconds(value.as_bytes())
                        .ok_or_else(|| format!("invalid parameter \"{arg}\""))?
                }
                "timeout" => match parse_seconds(value.as_bytes()) {
                    Some(s) if s > 0 => intro.timeout = s,
                    _ => return Err(format!("invalid parameter \"{arg}\"")),
                },
                "mode" if value == "opaque" => mode = Mode::Opaque,
                "mode" if value == "always" => mode = Mode::Always,
                _ => return Err(format!("invalid parameter \"{arg}\"")),
            }
        }
        if intro.client_secret.is_some() && intro.client_id.is_none() {
            return Err("client_secret without client_id".to_owned());
        }
        let main = JwtMain::of(&*cf).ok_or("no main configuration")?;
        if main.introspection_zone.borrow().is_none() {
            *main.introspection_zone.borrow_mut() = Some(Zone::add(cf)?);
        }
        jcf.introspection = Some(Rc::new(Introspection {
            endpoint,
            settings: Rc::new(intro),
            mode,
            at: position(cf),
            reach: RefCell::new(None),
            discovered: RefCell::new(None),
        }));
        Ok(())
    })();
    done(cf, result)
}

/// Gives the location's introspection its resolver and TLS context.
pub fn resolve(cf: &mut ngx_conf_t, jcf: &JwtConf) -> Result<(), ()> {
    let Some(intro) = jcf.introspection.as_deref() else {
        return Ok(());
    };
    if intro.reach.borrow().is_some() {
        return Ok(());
    }
    let result = (|| {
        if matches!(intro.endpoint, Endpoint::Auto) && jcf.key_url_specs.is_none() {
            return Err(
                "\"auto\" takes the endpoint of auth_jwt_key_url's discovery document, \
                        and there is no auth_jwt_key_url"
                    .to_owned(),
            );
        }
        let clcf = NgxHttpCoreModule::location_conf(cf).ok_or("no core configuration")?;
        let contexts = SslContexts::of(cf).ok_or("no TLS contexts")?;
        let needs_tls = match &intro.endpoint {
            Endpoint::Url(url) => url.https,
            Endpoint::Auto => true,
        };
        let trust = Trust {
            trusted: jcf.ssl_trusted.clone().unwrap_or_default(),
            crl: Vec::new(),
        };
        let ssl = if needs_tls {
            contexts.get(cf, &trust)?
        } else {
            core::ptr::null_mut()
        };
        *intro.reach.borrow_mut() = Some(Reach {
            ssl,
            resolver: clcf.resolver,
            resolver_timeout: clcf.resolver_timeout,
            timeout: Duration::from_secs(intro.settings.timeout),
            max_body: MAX_ANSWER,
        });
        Ok(())
    })();
    result.map_err(|why| {
        Sink::Log(cf.log).error(
            NGX_LOG_EMERG,
            0,
            format_args!("\"auth_jwt_introspection\": {why} in {}", intro.at),
        );
    })
}

impl JwtConf {
    pub fn introspection_is_auto(&self) -> bool {
        self.introspection
            .as_deref()
            .is_some_and(|i| matches!(i.endpoint, Endpoint::Auto))
    }

    /// Whether `token` goes to the introspection endpoint.
    pub fn introspects(&self, token: &[u8], looks_like_jws: bool) -> bool {
        match self.introspection.as_deref() {
            Some(intro) => !token.is_empty() && (intro.mode == Mode::Always || !looks_like_jws),
            None => false,
        }
    }
}

pub fn check(r: &mut ngx_http_request_t, jcf: &JwtConf, token: &[u8], now: i64) -> Outcome {
    let Some(intro) = jcf.introspection.clone() else {
        return Outcome::Unavailable("no introspection".into());
    };
    let (Some(main), Some(waits)) = (
        JwtMain::of(r),
        JwtCtx::of_or_create(r).map(|ctx| ctx.introspection_waits.get()),
    ) else {
        return Outcome::Unavailable("no configuration".into());
    };
    let Some(zone) = main.introspection_zone.borrow().clone() else {
        return Outcome::Unavailable("no zone".into());
    };
    let Some(reach) = *intro.reach.borrow() else {
        return Outcome::Unavailable("not resolved".into());
    };
    let endpoint = match endpoint(r, jcf, &intro) {
        Ok(Some(endpoint)) => endpoint,
        Ok(None) => return Outcome::Wait,
        Err(why) => return Outcome::Unavailable(why),
    };
    let ask = Ask {
        intro: &intro.settings,
        endpoint,
        reach,
        policy: &jcf.policy,
        user: jcf as *const JwtConf as usize,
        waits,
    };
    let outcome = introspect(r, &zone, ask, token, now);
    if matches!(outcome, Outcome::Wait) {
        if let Some(ctx) = JwtCtx::of(r) {
            ctx.introspection_waits.set(waits + 1);
        }
    }
    outcome
}

/// The endpoint to ask: the configured one, or, with `auto`, that of the discovery document
/// of `auth_jwt_key_url` (`None`: the request waits for its first fetch).
fn endpoint(
    r: &mut ngx_http_request_t,
    jcf: &JwtConf,
    intro: &Introspection,
) -> Result<Option<Url>, String> {
    if let Endpoint::Url(url) = &intro.endpoint {
        return Ok(Some(url.clone()));
    }
    let keys = match key_url::keys(r, jcf) {
        Keys::Ready { keys, .. } => keys,
        Keys::Wait => return Ok(None),
    };
    let Some(fetched) = keys.iter().find(|k| k.discovery.is_some()) else {
        return Err("auth_jwt_key_url gave no discovery document".into());
    };
    let mut discovered = intro.discovered.borrow_mut();
    let url = match &*discovered {
        Some((generation, url)) if *generation == fetched.generation => url.clone(),
        _ => {
            // Once per fetch of the document, not per request.
            let document = fetched.discovery.as_deref().unwrap_or_default();
            let url = introspection::discovered_endpoint(document).map(Rc::new);
            *discovered = Some((fetched.generation, url.clone()));
            url
        }
    };
    url.map(|u| Some((*u).clone()))
        .ok_or_else(|| "the discovery document has no introspection_endpoint".into())
}
