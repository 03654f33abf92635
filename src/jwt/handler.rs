//! The access handler of `auth_jwt`.

use std::rc::Rc;

use auth_core::jwt::{looks_like_jws, scope, verify, JwtError, Verified};
use ngx::core::Status;
use ngx::ffi::{
    ngx_http_request_t, ngx_int_t, NGX_HTTP_FORBIDDEN, NGX_HTTP_INTERNAL_SERVER_ERROR,
    NGX_HTTP_SERVICE_UNAVAILABLE, NGX_HTTP_UNAUTHORIZED, NGX_LOG_ERR, NGX_LOG_INFO,
};

use super::introspection::{self, Outcome};
use super::key_file;
use super::key_request::{self, Keys};
use super::key_set::{KeySet, Part};
use super::key_url;
use super::resource;
use super::{JwtConf, JwtCtx, JwtMain};
use crate::bearer::{self, Challenge, Scheme};
use crate::cache::TokenCache;
use crate::log::Sink;
use crate::part::{LocPart, MainPart, RequestPart};
use crate::request::{self, complex_value};
use crate::text::str_bytes;

pub extern "C" fn access_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    request::guard(r, "auth_jwt", handle)
}

fn handle(r: &mut ngx_http_request_t) -> ngx_int_t {
    if let Some(rc) = resource::metadata(r) {
        return rc;
    }
    let Some(jcf) = JwtConf::of(r) else {
        return Status::NGX_DECLINED.into();
    };

    let realm = match request::realm(r, jcf.realm) {
        Ok(realm) => realm,
        Err(rc) => return rc,
    };
    let realm = str_bytes(&realm);

    #[cfg(feature = "test-hooks")]
    crate::test_hooks::panic_if_asked(r, "auth_jwt");

    let mut log = request::log(r);

    let (token, scheme) = if jcf.token.is_null() {
        bearer::presented(r, jcf.dpop())
    } else {
        let Some(value) = complex_value(r, jcf.token) else {
            return Status::NGX_ERROR.into();
        };
        (value, Scheme::Bearer)
    };

    if jcf.keys().is_empty() && jcf.keys_are_static() && jcf.introspection.is_none() {
        log.error(
            NGX_LOG_ERR,
            0,
            format_args!("auth_jwt: no keys; add auth_jwt_key_file or auth_jwt_key_request"),
        );
    }

    let now = request::now();
    let jws = looks_like_jws(str_bytes(&token));

    let result = if jcf.introspects(str_bytes(&token), jws) {
        match introspection::check(r, jcf, str_bytes(&token), now) {
            Outcome::Done(result) => result,
            Outcome::Wait => return Status::NGX_AGAIN.into(),
            Outcome::Unavailable(why) => {
                log.error(
                    NGX_LOG_ERR,
                    0,
                    format_args!("auth_jwt: the token cannot be introspected: {why}"),
                );
                return NGX_HTTP_SERVICE_UNAVAILABLE as ngx_int_t;
            }
        }
    } else {
        // Keys are looked for only for what may be a token: garbage must not cost a subrequest.
        let joined = if jcf.keys_are_static() || !jws {
            None
        } else {
            match run_time_keys(r, jcf, &mut log, now) {
                Ok(set) => Some(set),
                Err(rc) => return rc,
            }
        };

        let result = verify_cached(jcf, joined.as_deref(), str_bytes(&token), now, r);

        // A key the provider has just added: fetch its keys again, once per cooldown.
        if !jcf.key_urls().is_empty()
            && result.as_ref().is_err_and(|e| jcf.new_key_may_help(e))
            && key_url::refetch_for_unknown_kid(r, jcf)
        {
            return Status::NGX_AGAIN.into();
        }
        result
    };

    if let Err(err) = &result {
        match err {
            JwtError::Missing => log.error(NGX_LOG_INFO, 0, format_args!("no JWT was provided")),
            err => log.error(NGX_LOG_INFO, 0, format_args!("JWT refused: {err}")),
        }
    }

    let missing = matches!(result, Err(JwtError::Missing));
    let verified = result.as_ref().ok().cloned();
    let result = match result {
        Ok(verified) => {
            let binding = jcf.binding(JwtMain::of(r));
            bearer::check(r, &binding, &verified, scheme, str_bytes(&token), now)
                .map(|()| verified)
                .inspect_err(|err| log.error(NGX_LOG_INFO, 0, format_args!("JWT refused: {err}")))
        }
        err => err,
    };
    let refusal = result.as_ref().err().and_then(bearer::error_of);
    let verified = verified.filter(|_| result.is_ok());
    match JwtCtx::of_or_create(r) {
        Some(ctx) => ctx.verdict.replace(Some(result)),
        None => return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t,
    };

    let Some(verified) = verified else {
        let scope = if missing { jcf.scopes_to_ask() } else { &[] };
        return challenge(r, jcf, realm, scheme, refusal, scope, NGX_HTTP_UNAUTHORIZED);
    };

    if !jcf.scopes().is_empty() {
        let lacking = scope::missing(jcf.scopes(), verified.claims()).join(" ");
        if !lacking.is_empty() {
            log.error(
                NGX_LOG_INFO,
                0,
                format_args!("JWT refused: scope \"{}\" not granted", lacking),
            );
            if let Some(ctx) = JwtCtx::of(r) {
                ctx.verdict
                    .replace(Some(Err(JwtError::InsufficientScope(lacking))));
            }
            let required = jcf.scopes();
            return challenge(
                r,
                jcf,
                realm,
                scheme,
                Some("insufficient_scope"),
                required,
                NGX_HTTP_FORBIDDEN,
            );
        }
    }

    for require in jcf.requires() {
        for &value in &require.values {
            let Some(value) = complex_value(r, value) else {
                return Status::NGX_ERROR.into();
            };
            let value = str_bytes(&value);
            if value.is_empty() || value == b"0" {
                log.error(
                    NGX_LOG_INFO,
                    0,
                    format_args!("JWT refused: auth_jwt_require failed"),
                );
                if let Some(ctx) = JwtCtx::of(r) {
                    ctx.verdict.replace(Some(Err(JwtError::RequireFailed)));
                }
                let (error, status) = if require.status == NGX_HTTP_FORBIDDEN {
                    ("insufficient_scope", NGX_HTTP_FORBIDDEN)
                } else {
                    ("invalid_token", NGX_HTTP_UNAUTHORIZED)
                };
                return challenge(r, jcf, realm, scheme, Some(error), &[], status);
            }
        }
    }

    Status::NGX_OK.into()
}

/// The location's keys joined with those of its key files named with variables and of its key
/// requests; `Err(NGX_AGAIN)` while keys are fetched, 500 when sources failed and no key is left.
fn run_time_keys(
    r: &mut ngx_http_request_t,
    jcf: &JwtConf,
    log: &mut Sink,
    now: i64,
) -> Result<Rc<KeySet>, ngx_int_t> {
    let files = key_file::keys(r, jcf, log);
    let (fetched, fetch_failed) = if jcf.key_requests().is_empty() {
        (Vec::new(), false)
    } else {
        match key_request::keys(r, jcf, now) {
            Keys::Ready { keys, failed } => (keys, failed),
            Keys::Pending => return Err(Status::NGX_AGAIN.into()),
        }
    };
    let (urls, url_failed) = match key_url::keys(r, jcf) {
        key_url::Keys::Ready { keys, failed } => (keys, failed),
        key_url::Keys::Wait => return Err(Status::NGX_AGAIN.into()),
    };
    let parts = files
        .found
        .iter()
        .map(|f| Part {
            keys: &f.value,
            generation: f.generation,
        })
        .chain(fetched.iter().map(|f| Part {
            keys: &f.keys,
            generation: f.generation,
        }))
        .chain(urls.iter().map(|u| Part {
            keys: &u.keys,
            generation: u.generation,
        }))
        .collect::<Vec<_>>();
    let Some(main) = JwtMain::of(r) else {
        return Err(Status::NGX_ERROR.into());
    };
    let set = main.key_sets.join(jcf, &parts);

    // Without any key, a source that failed is the server's fault, not the token's.
    if set.keys.is_empty() && (files.failed || fetch_failed || url_failed) {
        log.error(
            NGX_LOG_ERR,
            0,
            format_args!("auth_jwt: no keys to verify the token with"),
        );
        return Err(NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t);
    }
    Ok(set)
}

/// Verifies a token, or finds it verified lately for this location's keys and policy.
fn verify_cached(
    jcf: &JwtConf,
    joined: Option<&KeySet>,
    token: &[u8],
    now: i64,
    r: &ngx_http_request_t,
) -> Result<Rc<Verified>, JwtError> {
    let (keys, policy, generation) = match joined {
        Some(set) => (set.keys.as_slice(), &set.policy, set.generation),
        None => (jcf.keys(), &*jcf.policy, 0),
    };
    let Some(cache) = TokenCache::of(r) else {
        return verify(token, keys, policy, now).map(Rc::new);
    };

    // Locations with other keys or rules never share entries: their configuration is part of
    // the key, and it lives as long as the cache, which a reload replaces. Keys read or fetched
    // at run time add their set's generation: a token is not admitted from the cache once its
    // key is withdrawn.
    let location = (jcf as *const _ as usize).to_le_bytes();
    let digest = if token.is_empty() {
        None
    } else {
        cache.digest(&[&location, &generation.to_le_bytes(), token])
    };

    if let Some(verified) = digest
        .and_then(|d| cache.with(|cache| cache.get(&d, now)))
        .flatten()
    {
        request::debug(r, format_args!("auth_jwt: token verified from cache"));
        return Ok(verified);
    }

    let verified = Rc::new(verify(token, keys, policy, now)?);
    if let Some(digest) = digest {
        let expires = match verified.exp {
            Some(exp) => exp.floor() as i64,
            None => i64::MAX,
        };
        cache.with(|cache| cache.insert(digest, verified.clone(), now, expires));
    }
    Ok(verified)
}

/// Answers with the location's challenges (`crate::bearer::challenge`).
fn challenge(
    r: &mut ngx_http_request_t,
    jcf: &JwtConf,
    realm: &[u8],
    scheme: Scheme,
    error: Option<&str>,
    scope: &[String],
    status: u32,
) -> ngx_int_t {
    let c = Challenge {
        realm,
        scheme,
        error,
        scope,
        resource_metadata: jcf.resource_metadata(),
        dpop: jcf.dpop(),
    };
    bearer::challenge(r, &c, status)
}
