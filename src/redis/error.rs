//! Why a command to a store failed.

use auth_core::redis::ReplyError;
use thiserror::Error;

#[derive(Debug, Clone, Error)]
pub enum RedisError {
    #[error("timed out")]
    TimedOut,
    #[error("{0} (not tried again yet)")]
    Down(String),
    #[error("{0}")]
    Io(String),
    #[error("connection closed by {0}")]
    Closed(String),
    #[error("the server answered \"{0}\"")]
    Server(String),
    #[error("{0} is not the primary")]
    NotPrimary(String),
    #[error("sentinel {0} does not know the primary \"{1}\"")]
    Sentinel(String, String),
    #[error(transparent)]
    Reply(#[from] ReplyError),
    #[error("an unexpected reply")]
    Unexpected,
    #[error("not configured in this worker")]
    NotReady,
    #[error("the worker is shutting down")]
    ShuttingDown,
}
