//! Why a DPoP proof was refused.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DpopError {
    #[error("no DPoP proof")]
    Missing,
    #[error("more than one DPoP proof")]
    Several,
    #[error("malformed DPoP proof: {0}")]
    Malformed(&'static str),
    #[error("DPoP proof typ is not \"dpop+jwt\"")]
    Type,
    #[error("DPoP proof algorithm \"{0}\" is not allowed")]
    AlgNotAllowed(String),
    #[error("DPoP proof key: {0}")]
    BadKey(String),
    #[error("DPoP proof signature verification failed")]
    BadSignature,
    #[error("DPoP proof htm is not the request's method")]
    Method,
    #[error("DPoP proof htu is not the request's URI")]
    Uri,
    #[error("DPoP proof iat is out of the accepted window")]
    Stale,
    #[error("DPoP proof ath is not the access token's hash")]
    TokenHash,
    #[error("DPoP proof key is not the one the token is bound to")]
    KeyMismatch,
    #[error("DPoP proof was used before")]
    Replayed,
}
