//! `auth_redis name { ... }`: a Redis or Valkey server (or a Sentinel-watched primary) that
//! several nginx nodes share. Each worker keeps a connection to it on nginx's event loop,
//! pipelines its commands and makes it anew with backoff; a worker that waits never blocks.

mod client;
mod connection;
mod error;
mod settings;
mod subscriber;

use core::cell::{Cell, RefCell};
use core::ffi::{c_char, c_void};
use core::ptr;
use std::rc::Rc;

use ngx::core::{NGX_CONF_ERROR, NGX_CONF_OK};
use ngx::ffi::{ngx_command_t, ngx_conf_t, NGX_LOG_EMERG};
use ngx::http::{HttpModuleLocationConf, NgxHttpCoreModule};

pub use auth_core::redis::Reply;
use client::Pipe;
pub use error::RedisError;
pub use settings::Settings;
pub use subscriber::Listener;

use crate::directive::{self, args, position};
use crate::log::Sink;
use crate::net::client::Reach;
use crate::net::ssl::{SslContexts, Trust};
use crate::part::MainPart;
use crate::text::text;

/// The `auth_redis` blocks of the configuration.
#[derive(Default)]
pub struct RedisStores(RefCell<Vec<Rc<Redis>>>);

pub struct Redis {
    pub name: String,
    pub settings: Settings,
    reach: Cell<Option<Reach>>,
    /// This worker's connection for commands.
    pipe: RefCell<Pipe>,
}

impl RedisStores {
    pub fn find(&self, name: &str) -> Option<Rc<Redis>> {
        self.0.borrow().iter().find(|r| r.name == name).cloned()
    }

    /// After the configuration is read: TLS contexts and the resolver.
    pub fn init(cf: &mut ngx_conf_t) -> Result<(), ()> {
        let Some(stores) = RedisStores::of(cf) else {
            return Ok(());
        };
        if stores.0.borrow().is_empty() {
            return Ok(());
        }
        let contexts = SslContexts::of(cf).ok_or(())?;
        let clcf = NgxHttpCoreModule::location_conf(cf).ok_or(())?;
        let (resolver, resolver_timeout) = (clcf.resolver, clcf.resolver_timeout);
        for redis in stores.0.borrow().iter() {
            let s = &redis.settings;
            let ssl = if s.tls {
                let trust = Trust {
                    trusted: s.trusted.clone().unwrap_or_default(),
                    crl: Vec::new(),
                };
                match contexts.get(cf, &trust) {
                    Ok(ssl) => ssl,
                    Err(why) => {
                        Sink::Log(cf.log).error(
                            NGX_LOG_EMERG,
                            0,
                            format_args!("\"auth_redis\" \"{}\": {why} in {}", redis.name, s.at),
                        );
                        return Err(());
                    }
                }
            } else {
                ptr::null_mut()
            };
            redis.reach.set(Some(Reach {
                ssl,
                resolver,
                resolver_timeout,
                timeout: s.timeout,
                max_body: 0,
            }));
        }
        Ok(())
    }
}

impl Redis {
    /// A key of the module's: the prefix, then `parts`.
    pub fn key(&self, parts: &[&[u8]]) -> Vec<u8> {
        let mut key = self.settings.prefix.clone();
        for part in parts {
            key.extend_from_slice(part);
        }
        key
    }

    /// How this store is named in log lines.
    pub fn shown(&self) -> String {
        format!("auth_redis \"{}\"", self.name)
    }
}

/// `auth_redis name { ... }`.
pub fn set_auth_redis(cf: *mut ngx_conf_t, cmd: *mut ngx_command_t, c: *mut c_void) -> *mut c_char {
    // SAFETY: nginx passes a valid configuration context; cmd.offset is this part's.
    let (cf, stores) = unsafe { (&mut *cf, directive::part::<RedisStores>(c, cmd)) };
    let fail = |cf: &mut ngx_conf_t, why: String| {
        Sink::Conf(cf).error(NGX_LOG_EMERG, 0, format_args!("\"auth_redis\": {why}"));
        NGX_CONF_ERROR
    };
    let name = match text(&args(cf)[1]) {
        Ok(name) if !name.is_empty() => name.to_owned(),
        _ => return fail(cf, "invalid name".into()),
    };
    if stores.find(&name).is_some() {
        return fail(cf, format!("\"{name}\" is duplicate"));
    }
    let mut settings = Box::new(Settings::new(position(cf)));
    let rv = directive::block(cf, &mut *settings, |cf, s| s.directive(cf));
    if rv != NGX_CONF_OK {
        return rv;
    }
    if let Err(why) = settings.check() {
        return fail(cf, format!("\"{name}\" {why}"));
    }
    stores.0.borrow_mut().push(Rc::new(Redis {
        name,
        settings: *settings,
        reach: Cell::new(None),
        pipe: RefCell::new(Pipe::default()),
    }));
    NGX_CONF_OK
}
