//! htpasswd files: `user:hash[:comment]` lines, as Apache's tools write them.

mod hash;
mod libcrypt;
mod md5crypt;

use std::collections::HashMap;

use thiserror::Error;

pub use hash::{HashError, PasswordHash, VerifyError, MAX_PASSWORD_LEN};

/// Why a line of an htpasswd file was skipped.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum LineError {
    #[error("no ':' after the user name")]
    NoColon,
    #[error("empty user name")]
    EmptyUser,
    #[error("empty password hash")]
    EmptyHash,
    #[error("duplicate user, the first entry is used")]
    Duplicate,
    #[error(transparent)]
    Hash(#[from] HashError),
}

/// A skipped line: its 1-based number and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineWarning {
    pub line: usize,
    pub error: LineError,
}

/// The users of one htpasswd file, in a hash map.
#[derive(Debug, Default)]
pub struct Htpasswd {
    users: HashMap<Box<[u8]>, PasswordHash>,
    /// The first user's hash, checked for unknown users too, so that their refusal takes as
    /// long as a wrong password's and does not tell which users exist.
    decoy: Option<PasswordHash>,
}

impl Htpasswd {
    /// Parses a whole file; lines that cannot be used are skipped and reported.
    pub fn parse(data: &[u8]) -> (Self, Vec<LineWarning>) {
        let mut users = HashMap::new();
        let mut warnings = Vec::new();
        let mut decoy = None;

        for (index, line) in data.split(|&c| c == b'\n').enumerate() {
            let line = line.trim_ascii();

            if line.is_empty() || line[0] == b'#' {
                continue;
            }

            let warn = |error| LineWarning {
                line: index + 1,
                error,
            };

            let Some(colon) = line.iter().position(|&c| c == b':') else {
                warnings.push(warn(LineError::NoColon));
                continue;
            };

            let user = &line[..colon];
            let rest = &line[colon + 1..];
            let hash = rest.split(|&c| c == b':').next().unwrap_or_default();

            let error = if user.is_empty() {
                Some(LineError::EmptyUser)
            } else if hash.is_empty() {
                Some(LineError::EmptyHash)
            } else if users.contains_key(user) {
                Some(LineError::Duplicate)
            } else {
                match PasswordHash::parse(hash) {
                    Ok(hash) => {
                        if decoy.is_none() {
                            decoy = Some(hash.clone());
                        }
                        users.insert(user.into(), hash);
                        None
                    }
                    Err(error) => Some(error.into()),
                }
            };

            if let Some(error) = error {
                warnings.push(warn(error));
            }
        }

        (Self { users, decoy }, warnings)
    }

    pub fn get(&self, user: &[u8]) -> Option<&PasswordHash> {
        self.users.get(user)
    }

    /// A hash to check the password of an unknown user against, in the same time.
    pub fn decoy(&self) -> Option<&PasswordHash> {
        self.decoy.as_ref()
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}
