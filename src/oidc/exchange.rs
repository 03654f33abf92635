//! The callback's code exchanged for tokens at the token endpoint, on nginx's event loop, and
//! the ID token checked: the session it makes, or why there is none.

use core::cell::RefCell;
use std::rc::Rc;

use auth_core::jwt::{self, JwtError, Policy, Verified};
use auth_core::oidc::id_token::{self, Expect, IdTokenError};
use auth_core::oidc::ticket::Ticket;
use auth_core::oidc::token::{self, Client, Grant, TokenError, Tokens};
use auth_core::oidc::userinfo::{self, UserinfoError};
use auth_core::oidc::{Login, Session};
use thiserror::Error;

use super::provider::{Provider, Ready};
use crate::net::client::{self, FetchError};
use crate::redis::RedisError;
use crate::request;
use crate::wait::Waiters;

/// Seconds of clock skew allowed between the provider and this server.
pub const LEEWAY: u64 = 60;

#[derive(Debug, Error)]
pub enum ExchangeError {
    #[error("the provider takes neither client_secret_basic nor client_secret_post")]
    ClientAuth,
    #[error("the token endpoint: {0}")]
    Fetch(#[from] FetchError),
    #[error("the token endpoint: {0}")]
    Token(#[from] TokenError),
    #[error("the token response has no id_token")]
    NoIdToken,
    #[error("ID token refused: {0}")]
    Jwt(#[from] JwtError),
    #[error("{0}")]
    IdToken(#[from] IdTokenError),
    #[error("the UserInfo endpoint: {0}")]
    UserinfoFetch(FetchError),
    #[error("the UserInfo endpoint: {0}")]
    Userinfo(#[from] UserinfoError),
    #[error("the session cannot be sealed")]
    Seal,
}

impl ExchangeError {
    /// The provider could not be reached or answered nonsense: the server's problem.
    pub fn is_upstream(&self) -> bool {
        matches!(
            self,
            ExchangeError::Fetch(_)
                | ExchangeError::UserinfoFetch(_)
                | ExchangeError::ClientAuth
                | ExchangeError::Seal
        ) || matches!(self, ExchangeError::Token(TokenError::Status(s)) if *s >= 500)
            || matches!(self, ExchangeError::Userinfo(UserinfoError::Status(s)) if *s >= 500)
    }

    /// The provider refused the grant (a refresh token spent, revoked, expired): retrying
    /// cannot help.
    pub fn refused_by_provider(&self) -> bool {
        matches!(self, ExchangeError::Token(TokenError::Provider { .. }))
            || matches!(self, ExchangeError::Token(TokenError::Status(s)) if (400..500).contains(s))
    }

    /// The provider's answer failed verification (its ID token's signature, `iss`, `aud`,
    /// `azp`, `sub`, …): asking again cannot make it right. A key the worker does not have yet
    /// is not that: a refetch of the keys may catch up.
    pub fn answer_refused(&self) -> bool {
        match self {
            ExchangeError::Jwt(err) => !matches!(err, JwtError::UnknownKey),
            ExchangeError::IdToken(_) => true,
            _ => false,
        }
    }

    pub fn code(&self) -> &'static str {
        if self.is_upstream() {
            return "provider_unavailable";
        }
        match self {
            ExchangeError::Fetch(_)
            | ExchangeError::UserinfoFetch(_)
            | ExchangeError::ClientAuth
            | ExchangeError::Seal => "provider_unavailable",
            ExchangeError::Token(_) | ExchangeError::NoIdToken => "token_error",
            ExchangeError::Jwt(_) | ExchangeError::IdToken(_) => "bad_id_token",
            ExchangeError::Userinfo(_) => "bad_userinfo",
        }
    }
}

/// Whether a key that the provider added since the keys were fetched could verify `token`,
/// which `err` refused: its `kid` is unknown, or it has none and no key verifies it.
pub fn new_key_may_help(err: &JwtError, token: &[u8]) -> bool {
    match err {
        JwtError::UnknownKey => true,
        JwtError::BadSignature => !jwt::has_kid(token),
        _ => false,
    }
}

/// Verifies a token of the provider under `policy`; when a key the provider added since could
/// verify it, with the keys fetched anew (at most once per cooldown for the whole nginx, by
/// this task or another worker).
pub async fn verify_fresh(
    provider: &Provider,
    ready: &Ready,
    token: &[u8],
    policy: &Policy,
    now: i64,
) -> Result<Verified, JwtError> {
    let err = match jwt::verify(token, &ready.keys, policy, now) {
        Err(err) if new_key_may_help(&err, token) => err,
        verified => return verified,
    };
    match provider.refetched(ready.generation).await {
        Some(fresh) if fresh.generation != ready.generation => {
            jwt::verify(token, &fresh.keys, policy, now)
        }
        _ => Err(err),
    }
}

/// One exchange, shared by the request that waits for it and the task that runs it.
pub struct Exchange {
    pub login: Login,
    pub outcome: RefCell<Option<Result<Session, ExchangeError>>>,
    /// With sessions in a cluster's store: the session kept there, under its ticket, and
    /// sealed.
    pub stored: RefCell<Option<Result<(Ticket, String), RedisError>>>,
    pub waiters: Waiters,
}

/// A grant at the provider's token endpoint, with the client's authentication.
pub async fn token_request(
    provider: &Provider,
    ready: &Ready,
    grant: &Grant<'_>,
    what: &str,
) -> Result<Tokens, ExchangeError> {
    let s = &provider.settings;
    let metadata = &ready.metadata;
    let auth = metadata
        .client_auth(s.client_secret.is_some())
        .ok_or(ExchangeError::ClientAuth)?;
    let reach = provider
        .reach()
        .ok_or(ExchangeError::Fetch(FetchError::NoSsl))?;
    let client = Client {
        id: &s.client_id,
        secret: s.client_secret.as_deref(),
        auth,
    };
    let request = token::request(
        &metadata.token_endpoint,
        client::user_agent(),
        &client,
        grant,
    );
    let response = client::send(&metadata.token_endpoint, &reach, what, &request).await?;
    Ok(token::parse_response(response.status, &response.body)?)
}

/// With `userinfo on`, the UserInfo endpoint's claims about `sub`, had with the access token.
pub async fn userinfo(
    provider: &Provider,
    ready: &Ready,
    access_token: &str,
    sub: &str,
) -> Result<Option<String>, ExchangeError> {
    let endpoint = match &ready.metadata.userinfo_endpoint {
        Some(endpoint) if provider.settings.userinfo => endpoint,
        _ => return Ok(None),
    };
    let reach = provider
        .reach()
        .ok_or(ExchangeError::UserinfoFetch(FetchError::NoSsl))?;
    let request = userinfo::request(endpoint, client::user_agent(), access_token)?;
    let response = client::send(endpoint, &reach, "fetching UserInfo", &request)
        .await
        .map_err(ExchangeError::UserinfoFetch)?;
    let content_type = response.header("content-type");
    Ok(Some(userinfo::parse_response(
        response.status,
        content_type,
        &response.body,
        sub,
    )?))
}

pub async fn run(
    provider: &Provider,
    ready: &Ready,
    code: &str,
    redirect_uri: &str,
    exchange: &Rc<Exchange>,
) -> Result<Session, ExchangeError> {
    let s = &provider.settings;
    let metadata = &ready.metadata;
    let login = &exchange.login;
    let grant = Grant::Code {
        code,
        redirect_uri,
        verifier: login.verifier.as_deref(),
    };
    let tokens = token_request(provider, ready, &grant, "exchanging the code").await?;
    let id_token = tokens.id_token.ok_or(ExchangeError::NoIdToken)?;
    let now = request::now();
    let policy = id_token::policy(metadata, &s.client_id, LEEWAY);
    let verified = verify_fresh(provider, ready, id_token.as_bytes(), &policy, now).await?;
    let id = id_token::check(
        &verified,
        &s.client_id,
        Expect::Login {
            nonce: &login.nonce,
        },
        now,
        LEEWAY,
    )?;
    let userinfo = userinfo(provider, ready, &tokens.access_token, &id.sub).await?;
    Ok(Session {
        sub: id.sub,
        sid: id.sid,
        id_token,
        access_token: Some(tokens.access_token),
        refresh_token: tokens.refresh_token,
        started: now,
        refreshed: now,
        tokens_expire: tokens.expires_in.map_or(id.exp, |e| now.saturating_add(e)),
        ends: now + s.session_timeout as i64,
        userinfo,
    })
}
