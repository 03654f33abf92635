//! Bearer mode: with `bearer_audience`, a request with `Authorization: Bearer` is admitted by a
//! JWT access token of the provider (RFC 9068) instead of a session: signature by the
//! provider's keys, `typ` `at+jwt`, `iss`, `aud`, `exp`. Verified tokens are kept in the
//! worker's auth_jwt cache.

use std::rc::Rc;

use auth_core::jwt::{self, JwtError, Policy, Verified};
use ngx::ffi::{ngx_http_request_t, NGX_LOG_INFO};
use serde_json::Value;

use super::exchange::LEEWAY;
use super::provider::{Provider, Ready};
use crate::cache::TokenCache;
use crate::part::MainPart;
use crate::request;
use crate::text::str_bytes;

/// The token of `Authorization: Bearer <token>`, if the request has one.
pub fn token(r: &ngx_http_request_t) -> Option<Vec<u8>> {
    // SAFETY: a non-null header points to an element of the request's header list.
    let header = unsafe { r.headers_in.authorization.as_ref() }?;
    let value = str_bytes(&header.value);
    let space = value.iter().position(|&c| c == b' ')?;
    if !value[..space].eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    Some(value[space..].trim_ascii().to_vec())
}

pub fn verify(
    r: &ngx_http_request_t,
    provider: &Provider,
    ready: &Rc<Ready>,
    token: &[u8],
    now: i64,
) -> Result<Rc<Verified>, JwtError> {
    let s = &provider.settings;
    let cache = TokenCache::of(r);
    // Keys of another fetch are another generation: a withdrawn key admits nothing from here.
    let generation = ready.generation.to_le_bytes();
    let digest = cache.and_then(|c| {
        c.digest(&[
            b"auth_oidc bearer",
            provider.name.as_bytes(),
            &generation,
            token,
        ])
    });
    if let (Some(cache), Some(digest)) = (cache, &digest) {
        if let Some(verified) = cache.with(|c| c.get(digest, now)).flatten() {
            return Ok(verified);
        }
    }
    let policy = Policy {
        algorithms: ready.metadata.id_token_algorithms.clone(),
        issuers: vec![s.issuer.clone()],
        audiences: s.bearer_audiences.clone(),
        resource: None,
        leeway: LEEWAY,
        require_exp: true,
    };
    let verified = jwt::verify(token, &ready.keys, &policy, now)?;
    // RFC 9068, 4: an ID token, or any other JWT of the provider, is not an access token.
    let typ = verified.header().get("typ").and_then(Value::as_str);
    if !typ.is_some_and(|t| {
        t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
    }) {
        return Err(JwtError::Malformed("typ is not at+jwt"));
    }
    let verified = Rc::new(verified);
    if let (Some(cache), Some(digest)) = (cache, digest) {
        let expires = verified.exp.map_or(now, |e| e as i64);
        cache.with(|c| c.insert(digest, verified.clone(), now, expires));
    }
    request::debug(
        r,
        format_args!("auth_oidc: bearer token of \"{}\" verified", provider.name),
    );
    Ok(verified)
}

pub fn log_refusal(r: &ngx_http_request_t, err: &JwtError) {
    request::log(r).error(
        NGX_LOG_INFO,
        0,
        format_args!("auth_oidc: bearer token refused: {err}"),
    );
}
