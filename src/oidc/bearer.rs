//! Bearer mode: with `bearer_audience`, a request with `Authorization: Bearer` (or `DPoP`, with
//! `bearer_dpop`) is admitted by a JWT access token of the provider (RFC 9068) instead of a
//! session: signature by the provider's keys, `typ` `at+jwt`, `iss`, `aud`, `exp`; then what
//! binds it to its sender and the scopes of `bearer_scope`, as `auth_jwt` checks them
//! (`crate::bearer`). Verified tokens are kept in the worker's auth_jwt cache.

use std::rc::Rc;

use auth_core::jwt::{self, scope, JwtError, Policy, Verified};
use ngx::ffi::{
    ngx_http_request_t, ngx_int_t, NGX_HTTP_FORBIDDEN, NGX_HTTP_UNAUTHORIZED, NGX_LOG_INFO,
};
use serde_json::Value;

use super::exchange::LEEWAY;
use super::provider::{Provider, Ready};
use super::OidcCtx;
use crate::bearer::introspection::{self, Ask, Outcome};
use crate::bearer::{Binding, Challenge, Scheme};
use crate::cache::TokenCache;
use crate::part::{MainPart, RequestPart};
use crate::request;
use crate::text::str_bytes;

/// The token of `Authorization: Bearer <token>` (or `DPoP <token>` where the provider takes
/// DPoP), if the request has one, and how it came.
pub fn token(r: &ngx_http_request_t, provider: &Provider) -> Option<(Vec<u8>, Scheme)> {
    let (token, scheme) = crate::bearer::presented(r, provider.settings.bearer_dpop);
    let token = str_bytes(&token);
    (!token.is_empty()).then(|| (token.to_vec(), scheme))
}

/// Checks what binds a verified token to its sender, and the scopes it must grant.
pub fn admit(
    r: &mut ngx_http_request_t,
    provider: &Provider,
    verified: &Verified,
    scheme: Scheme,
    token: &[u8],
    now: i64,
) -> Result<(), JwtError> {
    let s = &provider.settings;
    let binding = Binding {
        dpop: s.bearer_dpop,
        window: Binding::DEFAULT_WINDOW,
        replays: s.bearer_replays,
        mtls: None,
    };
    crate::bearer::check(r, &binding, verified, scheme, token, now)?;
    let lacking = scope::missing(&s.bearer_scopes, verified.claims()).join(" ");
    if !lacking.is_empty() {
        return Err(JwtError::InsufficientScope(lacking));
    }
    Ok(())
}

/// Refuses the request: 401, or 403 for a scope, with the provider's challenges.
pub fn refuse(
    r: &mut ngx_http_request_t,
    provider: &Provider,
    scheme: Scheme,
    err: &JwtError,
) -> ngx_int_t {
    let s = &provider.settings;
    let (error, status) = match err {
        JwtError::InsufficientScope(_) => (Some("insufficient_scope"), NGX_HTTP_FORBIDDEN),
        err => (crate::bearer::error_of(err), NGX_HTTP_UNAUTHORIZED),
    };
    let c = Challenge {
        realm: provider.name.as_bytes(),
        scheme,
        error,
        scope: &s.bearer_scopes,
        resource_metadata: None,
        dpop: s.bearer_dpop,
    };
    crate::bearer::challenge(r, &c, status)
}

/// What the provider's access tokens must satisfy.
fn policy(provider: &Provider, ready: &Ready) -> Policy {
    let s = &provider.settings;
    Policy {
        algorithms: ready.metadata.id_token_algorithms.clone(),
        issuers: vec![s.issuer.clone()],
        audiences: s.bearer_audiences.clone(),
        resource: None,
        leeway: LEEWAY,
        require_exp: true,
    }
}

/// Whether `token` goes to the provider's introspection endpoint: it is not a JWS, and
/// `bearer_introspection` is on.
pub fn introspects(provider: &Provider, token: &[u8]) -> bool {
    provider.introspector.is_some() && !jwt::looks_like_jws(token)
}

/// An opaque access token, asked about at the provider's introspection endpoint.
pub fn introspect(
    r: &mut ngx_http_request_t,
    provider: &Provider,
    ready: &Ready,
    token: &[u8],
    now: i64,
) -> Outcome {
    let (Some(intro), Some(zone)) = (
        &provider.introspector,
        &provider.settings.bearer_introspection,
    ) else {
        return Outcome::Unavailable("no introspection".into());
    };
    let Some(endpoint) = ready.metadata.introspection_endpoint.clone() else {
        return Outcome::Unavailable(
            "the provider's metadata has no introspection_endpoint".into(),
        );
    };
    let Some(reach) = provider.reach() else {
        return Outcome::Unavailable("no TLS context".into());
    };
    let Some(waits) = OidcCtx::of_or_create(r).map(|ctx| ctx.introspection_waits.get()) else {
        return Outcome::Unavailable("out of memory".into());
    };
    let policy = policy(provider, ready);
    let ask = Ask {
        intro,
        endpoint,
        reach,
        policy: &policy,
        user: core::ptr::from_ref(provider) as usize,
        waits,
    };
    let outcome = introspection::introspect(r, zone, ask, token, now);
    if matches!(outcome, Outcome::Wait) {
        if let Some(ctx) = OidcCtx::of(r) {
            ctx.introspection_waits.set(waits + 1);
        }
    }
    outcome
}

pub fn verify(
    r: &ngx_http_request_t,
    provider: &Provider,
    ready: &Rc<Ready>,
    token: &[u8],
    now: i64,
) -> Result<Rc<Verified>, JwtError> {
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
    let verified = jwt::verify(token, &ready.keys, &policy(provider, ready), now)?;
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
