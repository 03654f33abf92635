//! `auth_jwt` and its companion directives.

mod binding;
mod handler;
mod introspection;
pub mod key_file;
pub mod key_request;
pub mod key_set;
pub mod key_url;
mod resource;
pub mod variables;

use core::cell::{Cell, RefCell};
use core::ffi::{c_char, c_void};
use core::ptr;
use std::os::unix::ffi::OsStrExt;
use std::rc::Rc;

use auth_core::jwt::scope::is_scope_token;
use auth_core::jwt::{Alg, JwtError, Policy, Verified};
use auth_core::keys::{self, Key, KeyFormat};
use ngx::ffi::{
    ngx_command_t, ngx_conf_t, ngx_http_complex_value_t, ngx_str_t, NGX_HTTP_FORBIDDEN,
    NGX_HTTP_UNAUTHORIZED, NGX_LOG_WARN,
};

use crate::bearer::{Dpop, Mtls};
pub use binding::{set_auth_jwt_dpop, set_auth_jwt_dpop_window, set_auth_jwt_mtls_binding};
pub use handler::access_handler;
pub use introspection::{resolve as resolve_introspection, set_auth_jwt_introspection};
use key_file::KeyFile;
pub use resource::{register as register_resource, set_auth_jwt_resource, JwtSrv};
pub use variables::remote_user;

use crate::directive::{self, args, compile_complex_value, done, parse_seconds, DUPLICATE};
use crate::key_source::KeySource;
use crate::log::Sink;
use crate::requirement::Require;
use crate::text::{str_bytes, text};

/// What auth_jwt keeps for the whole configuration.
#[derive(Default)]
pub struct JwtMain {
    /// Keys fetched by auth_jwt_key_request, by location and URI.
    fetched_keys: key_request::FetchedKeysByUri,
    /// Key files named with variables, by path.
    key_files: key_file::KeyFiles,
    /// The keys of locations with keys from run time, joined.
    key_sets: key_set::KeySets,
    /// The DPoP proofs seen, once a location accepts DPoP.
    dpop_replays: Cell<Option<crate::dpop::Replays>>,
    /// The answers of introspection endpoints, once a location asks one.
    introspection_zone: RefCell<Option<Rc<crate::bearer::introspection::Zone>>>,
}

/// auth_jwt's part of a request.
#[derive(Default)]
pub struct JwtCtx {
    /// The verdict of auth_jwt.
    verdict: RefCell<Option<Result<Rc<Verified>, JwtError>>>,
    /// The subrequests of auth_jwt_key_request, while they run and when they are done.
    key_fetch: RefCell<Option<key_request::KeyFetch>>,
    /// How often auth_jwt_key_url parked the request.
    key_url_waits: Cell<u8>,
    /// How often the request waited for an introspection.
    introspection_waits: Cell<u32>,
}

pub struct JwtConf {
    pub realm: *mut ngx_http_complex_value_t,
    /// Where the token comes from; null: `Authorization: Bearer`.
    pub token: *mut ngx_http_complex_value_t,
    /// Keys of the files named without variables, read with the configuration.
    keys: Option<Rc<Vec<Key>>>,
    /// Key files named with variables.
    key_files: Option<Rc<Vec<KeyFile>>>,
    /// URIs of `auth_jwt_key_request`.
    key_requests: Option<Rc<Vec<*mut ngx_http_complex_value_t>>>,
    /// `auth_jwt_key_url` as written, and the sources they are once merged.
    key_url_specs: Option<Rc<Vec<key_url::Spec>>>,
    key_urls: Option<Rc<Vec<Rc<KeySource>>>>,
    /// `auth_jwt_ssl_trusted_certificate`, its full name.
    ssl_trusted: Option<Vec<u8>>,
    /// Seconds that keys fetched by subrequests are used without fetching them again.
    key_cache: Option<u64>,
    leeway: Option<u64>,
    algorithms: Option<Vec<Alg>>,
    issuers: Option<Vec<String>>,
    audiences: Option<Vec<String>>,
    require_exp: Option<bool>,
    requires: Option<Rc<Vec<Require>>>,
    /// `auth_jwt_scope`: every one must be granted.
    scopes: Option<Rc<Vec<String>>>,
    /// `auth_jwt_resource`.
    resource: Option<Rc<auth_core::jwt::resource::Resource>>,
    dpop: Option<Dpop>,
    dpop_window: Option<u64>,
    /// `auth_jwt_mtls_binding`: on when there; `mtls_set` once the directive was given.
    mtls: Option<Rc<Mtls>>,
    mtls_set: bool,
    /// `auth_jwt_introspection`.
    introspection: Option<Rc<introspection::Introspection>>,
    /// Resolved by merge.
    pub policy: Rc<Policy>,
}

impl Default for JwtConf {
    fn default() -> Self {
        Self {
            realm: ptr::null_mut(),
            token: ptr::null_mut(),
            keys: None,
            key_files: None,
            key_requests: None,
            key_url_specs: None,
            key_urls: None,
            ssl_trusted: None,
            key_cache: None,
            leeway: None,
            algorithms: None,
            issuers: None,
            audiences: None,
            require_exp: None,
            requires: None,
            scopes: None,
            resource: None,
            dpop: None,
            dpop_window: None,
            mtls: None,
            mtls_set: false,
            introspection: None,
            policy: Rc::default(),
        }
    }
}

impl JwtConf {
    pub fn keys(&self) -> &[Key] {
        self.keys.as_deref().map_or(&[], Vec::as_slice)
    }

    pub fn key_files(&self) -> &[KeyFile] {
        self.key_files.as_deref().map_or(&[], Vec::as_slice)
    }

    pub fn key_requests(&self) -> &[*mut ngx_http_complex_value_t] {
        self.key_requests.as_deref().map_or(&[], Vec::as_slice)
    }

    pub fn key_urls(&self) -> &[Rc<KeySource>] {
        self.key_urls.as_deref().map_or(&[], Vec::as_slice)
    }

    /// Whether keys come only from files read with the configuration.
    pub fn keys_are_static(&self) -> bool {
        self.key_files.is_none() && self.key_requests.is_none() && self.key_url_specs.is_none()
    }

    pub fn key_cache(&self) -> u64 {
        self.key_cache.unwrap_or(0)
    }

    /// The policy for verifying with `keys`: the algorithms they imply unless
    /// `auth_jwt_algorithms` names them, and the configured rules.
    pub fn policy_for(&self, keys: &[Key]) -> Policy {
        Policy {
            algorithms: self
                .algorithms
                .clone()
                .unwrap_or_else(|| keys::implied_algorithms(keys)),
            issuers: self.issuers.clone().unwrap_or_default(),
            audiences: self.audiences.clone().unwrap_or_default(),
            resource: self.resource.as_ref().map(|r| r.uri.clone()),
            leeway: self.leeway.unwrap_or(0),
            require_exp: self.require_exp.unwrap_or(true),
        }
    }

    /// Whether a key added by the provider could change the verdict: a kid no key has, or an
    /// algorithm that only the keys' types rule out.
    pub fn new_key_may_help(&self, err: &auth_core::jwt::JwtError) -> bool {
        use auth_core::jwt::JwtError;
        match err {
            JwtError::UnknownKey => true,
            JwtError::AlgNotAllowed(alg) => self.algorithms.is_none() && alg.parse::<Alg>().is_ok(),
            _ => false,
        }
    }

    pub fn requires(&self) -> &[Require] {
        self.requires.as_deref().map_or(&[], Vec::as_slice)
    }

    /// The scopes a token must grant.
    pub fn scopes(&self) -> &[String] {
        self.scopes.as_deref().map_or(&[], Vec::as_slice)
    }

    /// The scopes a request without a token is told of: those it must grant, else those the
    /// resource supports.
    pub fn scopes_to_ask(&self) -> &[String] {
        match (&self.scopes, &self.resource) {
            (None, Some(resource)) => &resource.scopes,
            _ => self.scopes(),
        }
    }

    /// The URL of the resource's metadata, for challenges.
    pub fn resource_metadata(&self) -> Option<&str> {
        self.resource.as_deref().map(|r| r.metadata_url.as_str())
    }

    pub fn merge(&mut self, prev: &Self) {
        if self.realm.is_null() {
            self.realm = prev.realm;
            self.token = prev.token;
        }
        // Each key directive inherits on its own, as nginx's directives do: a level that gives
        // auth_jwt_key_request keeps the auth_jwt_key_file of the level above.
        if self.keys.is_none() && self.key_files.is_none() {
            self.keys = prev.keys.clone();
            self.key_files = prev.key_files.clone();
        }
        if self.key_requests.is_none() {
            self.key_requests = prev.key_requests.clone();
        }
        if self.key_url_specs.is_none() {
            self.key_url_specs = prev.key_url_specs.clone();
        }
        if self.ssl_trusted.is_none() {
            self.ssl_trusted = prev.ssl_trusted.clone();
        }
        self.key_cache = self.key_cache.or(prev.key_cache);
        if self.requires.is_none() {
            self.requires = prev.requires.clone();
        }
        if self.scopes.is_none() {
            self.scopes = prev.scopes.clone();
        }
        if self.resource.is_none() {
            self.resource = prev.resource.clone();
        }
        self.dpop = self.dpop.or(prev.dpop);
        self.dpop_window = self.dpop_window.or(prev.dpop_window);
        if self.introspection.is_none() {
            self.introspection = prev.introspection.clone();
        }
        if !self.mtls_set {
            self.mtls = prev.mtls.clone();
            self.mtls_set = prev.mtls_set;
        }
        self.leeway = self.leeway.or(prev.leeway);
        self.require_exp = self.require_exp.or(prev.require_exp);
        if self.algorithms.is_none() {
            self.algorithms = prev.algorithms.clone();
        }
        if self.issuers.is_none() {
            self.issuers = prev.issuers.clone();
        }
        if self.audiences.is_none() {
            self.audiences = prev.audiences.clone();
        }

        self.policy = Rc::new(self.policy_for(self.keys()));
    }
}

/// The setter's configuration context and its location's JwtConf.
fn conf<'a>(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> (&'a mut ngx_conf_t, &'a mut JwtConf) {
    // SAFETY: nginx passes a valid configuration context; cmd.offset is this part's.
    unsafe { (&mut *cf, directive::part::<JwtConf>(conf, cmd)) }
}

pub fn set_auth_jwt(cf: *mut ngx_conf_t, cmd: *mut ngx_command_t, c: *mut c_void) -> *mut c_char {
    let (cf, jcf) = conf(cf, cmd, c);
    if !jcf.realm.is_null() {
        return DUPLICATE;
    }
    let result = (|| {
        let realm = compile_complex_value(cf, args(cf)[1], false).ok_or("invalid realm")?;
        if let Some(arg) = args(cf).get(2).copied() {
            let Some(source) = str_bytes(&arg).strip_prefix(b"token=") else {
                return Err(format!(
                    "invalid parameter \"{}\"",
                    str_bytes(&arg).escape_ascii()
                ));
            };
            if !source.starts_with(b"$") {
                return Err("token= takes a variable".into());
            }
            let source = ngx_str_t {
                len: source.len(),
                data: source.as_ptr().cast_mut(),
            };
            jcf.token = compile_complex_value(cf, source, false).ok_or("invalid token=")?;
        }
        jcf.realm = realm;
        Ok(())
    })();
    done(cf, result)
}

pub fn set_auth_jwt_key_file(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    let (cf, jcf) = conf(cf, cmd, c);
    let result = (|| {
        let args = args(cf);
        let format = match args.get(2) {
            None => None,
            Some(arg) => Some(text(arg)?.parse::<KeyFormat>().map_err(|_| {
                format!(
                    "invalid key format \"{}\"; expected jwks, pem or hmac",
                    text(arg).unwrap_or("")
                )
            })?),
        };
        let path = compile_complex_value(cf, args[1], true).ok_or("invalid file name")?;
        // SAFETY: compile_complex_value returned an initialized complex value.
        let cv = unsafe { &*path };
        if !cv.lengths.is_null() {
            let files = jcf.key_files.get_or_insert_with(Rc::default);
            Rc::get_mut(files)
                .ok_or("key files are shared")?
                .push(KeyFile { path, format });
            return Ok(());
        }

        // A name without variables is read now, so that `nginx -t` reports its problems.
        let path = str_bytes(&cv.value);
        let shown = path.escape_ascii();
        let data = std::fs::read(std::ffi::OsStr::from_bytes(path))
            .map_err(|err| format!("cannot read \"{shown}\": {err}"))?;
        let loaded = keys::load(&data, format).map_err(|err| format!("\"{shown}\": {err}"))?;
        for skipped in &loaded.skipped {
            Sink::Conf(cf).error(
                NGX_LOG_WARN,
                0,
                format_args!("\"auth_jwt_key_file\": \"{shown}\": {skipped}, skipped"),
            );
        }
        let keys = jcf.keys.get_or_insert_with(Rc::default);
        Rc::get_mut(keys)
            .ok_or("keys are shared")?
            .extend(loaded.keys);
        Ok(())
    })();
    done(cf, result)
}

/// A directive that sets one value once: "is duplicate" on a repeat, else `parse`'s verdict.
fn set_once<T>(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
    field: fn(&mut JwtConf) -> &mut Option<T>,
    parse: fn(&[ngx_str_t]) -> Result<T, String>,
) -> *mut c_char {
    let (cf, jcf) = conf(cf, cmd, c);
    let slot = field(jcf);
    if slot.is_some() {
        return DUPLICATE;
    }
    let result = parse(&args(cf)[1..]).map(|value| *slot = Some(value));
    done(cf, result)
}

fn seconds(value: &ngx_str_t) -> Result<u64, String> {
    let value = str_bytes(value);
    parse_seconds(value).ok_or_else(|| format!("invalid value \"{}\"", value.escape_ascii()))
}

fn strings(args: &[ngx_str_t]) -> Result<Vec<String>, String> {
    args.iter().map(|a| text(a).map(str::to_owned)).collect()
}

pub fn set_auth_jwt_leeway(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    set_once(cf, cmd, c, |j| &mut j.leeway, |args| seconds(&args[0]))
}

/// Keys from files are parsed once, when the configuration is loaded; the time applies to keys
/// fetched by `auth_jwt_key_request`.
pub fn set_auth_jwt_key_cache(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    set_once(cf, cmd, c, |j| &mut j.key_cache, |args| seconds(&args[0]))
}

pub fn set_auth_jwt_key_request(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    let (cf, jcf) = conf(cf, cmd, c);
    let uri = args(cf)[1];
    let result = (|| {
        let bytes = str_bytes(&uri);
        if !matches!(bytes.first(), Some(b'/' | b'$')) {
            return Err(format!(
                "invalid URI \"{}\"; it must start with \"/\"",
                bytes.escape_ascii()
            ));
        }
        let cv = compile_complex_value(cf, uri, false).ok_or("invalid URI")?;
        let requests = jcf.key_requests.get_or_insert_with(Rc::default);
        Rc::get_mut(requests)
            .ok_or("key requests are shared")?
            .push(cv);
        Ok(())
    })();
    done(cf, result)
}

pub fn set_auth_jwt_type(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    _c: *mut c_void,
) -> *mut c_char {
    // SAFETY: nginx passes a valid configuration context.
    let cf = unsafe { &mut *cf };
    let result = match str_bytes(&args(cf)[1]) {
        b"signed" => Ok(()),
        b"encrypted" | b"nested" => Err("only signed tokens (JWS) are supported".to_owned()),
        other => Err(format!("invalid value \"{}\"", other.escape_ascii())),
    };
    done(cf, result)
}

pub fn set_auth_jwt_algorithms(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    set_once(
        cf,
        cmd,
        c,
        |j| &mut j.algorithms,
        |args| {
            args.iter()
                .map(|arg| {
                    let name = text(arg)?;
                    name.parse::<Alg>()
                        .map_err(|_| format!("unsupported algorithm \"{name}\""))
                })
                .collect()
        },
    )
}

pub fn set_auth_jwt_issuer(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    set_once(cf, cmd, c, |j| &mut j.issuers, strings)
}

pub fn set_auth_jwt_audience(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    set_once(cf, cmd, c, |j| &mut j.audiences, strings)
}

/// `auth_jwt_scope scope ...`.
pub fn set_auth_jwt_scope(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    set_once(cf, cmd, c, |j| &mut j.scopes, scope_tokens)
}

fn scope_tokens(args: &[ngx_str_t]) -> Result<Rc<Vec<String>>, String> {
    let scopes = strings(args)?;
    match scopes.iter().find(|s| !is_scope_token(s)) {
        Some(bad) => Err(format!("invalid scope \"{}\"", bad.escape_default())),
        None => Ok(Rc::new(scopes)),
    }
}

pub fn set_auth_jwt_require_exp(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    set_once(
        cf,
        cmd,
        c,
        |j| &mut j.require_exp,
        |args| directive::flag(str_bytes(&args[0])),
    )
}

pub fn set_auth_jwt_require(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    let (cf, jcf) = conf(cf, cmd, c);
    let result = (|| {
        let require = Require::parse(cf, NGX_HTTP_UNAUTHORIZED, |error| match error {
            b"401" => Ok(NGX_HTTP_UNAUTHORIZED),
            b"403" => Ok(NGX_HTTP_FORBIDDEN),
            _ => Err("error= must be 401 or 403".to_owned()),
        })?;
        let requires = jcf.requires.get_or_insert_with(Rc::default);
        Rc::get_mut(requires)
            .ok_or("requirements are shared")?
            .push(require);
        Ok(())
    })();
    done(cf, result)
}

fn set_path_variable(cf: *mut ngx_conf_t, header: bool) -> *mut c_char {
    // SAFETY: nginx passes a valid configuration context.
    let cf = unsafe { &mut *cf };
    let result = (|| {
        let args = args(cf);
        let name = str_bytes(&args[1])
            .strip_prefix(b"$")
            .ok_or_else(|| {
                format!(
                    "invalid variable name \"{}\"",
                    str_bytes(&args[1]).escape_ascii()
                )
            })?
            .to_vec();
        let names = args[2..]
            .iter()
            .map(|a| text(a).map(str::to_owned))
            .collect::<Result<Vec<_>, _>>()?;
        variables::add_path_variable(cf, &name, header, names).map_err(str::to_owned)
    })();
    done(cf, result)
}

pub fn set_auth_jwt_claim_set(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    _c: *mut c_void,
) -> *mut c_char {
    set_path_variable(cf, false)
}

pub fn set_auth_jwt_header_set(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    _c: *mut c_void,
) -> *mut c_char {
    set_path_variable(cf, true)
}
