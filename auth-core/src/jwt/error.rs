//! Why a token was refused; `code()` is what `$jwt_error` shows.

use thiserror::Error;

use crate::dpop::DpopError;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum JwtError {
    #[error("no token")]
    Missing,
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    #[error("algorithm \"{0}\" is not allowed")]
    AlgNotAllowed(String),
    #[error("no key fits the token's kid and algorithm")]
    UnknownKey,
    #[error("signature verification failed")]
    BadSignature,
    #[error("token expired")]
    Expired,
    #[error("token has no exp claim")]
    NoExpiry,
    #[error("token not valid yet")]
    NotYetValid,
    #[error("issuer not accepted")]
    BadIssuer,
    #[error("audience not accepted")]
    BadAudience,
    #[error("required value is empty or \"0\"")]
    RequireFailed,
    #[error("scope \"{0}\" not granted")]
    InsufficientScope(String),
    #[error("{0}")]
    Proof(DpopError),
    #[error("{0}")]
    Binding(&'static str),
    #[error("the introspection endpoint says the token is not active")]
    Inactive,
}

impl JwtError {
    pub fn code(&self) -> &'static str {
        match self {
            JwtError::Missing => "missing",
            JwtError::Malformed(_) => "malformed",
            JwtError::AlgNotAllowed(_) => "alg_not_allowed",
            JwtError::UnknownKey => "unknown_key",
            JwtError::BadSignature => "bad_signature",
            JwtError::Expired | JwtError::NoExpiry => "expired",
            JwtError::NotYetValid => "not_yet_valid",
            JwtError::BadIssuer => "bad_issuer",
            JwtError::BadAudience => "bad_audience",
            JwtError::RequireFailed => "require_failed",
            JwtError::InsufficientScope(_) => "insufficient_scope",
            JwtError::Proof(_) => "invalid_dpop_proof",
            JwtError::Binding(_) => "binding",
            JwtError::Inactive => "inactive",
        }
    }
}
