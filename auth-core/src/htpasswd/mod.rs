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

/// A line that cannot be used as it is: its 1-based number and the reason. `refused` names the
/// user whose first line it is: that user is refused from then on, as `auth_basic` refuses a
/// user whose hash it cannot match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineWarning {
    pub line: usize,
    pub error: LineError,
    pub refused: Option<Box<[u8]>>,
}

/// The first line for a user name decides, whatever its hash.
#[derive(Debug)]
enum Entry {
    Hash(PasswordHash),
    Unusable { line: usize },
}

/// What a file says of a user name.
#[derive(Debug)]
pub enum Lookup<'a> {
    Hash(&'a PasswordHash),
    /// The name's first line has a hash that cannot be used: no password matches.
    Unusable {
        line: usize,
    },
    Unknown,
}

/// The users of one htpasswd file, in a hash map.
#[derive(Debug, Default)]
pub struct Htpasswd {
    users: HashMap<Box<[u8]>, Entry>,
    /// The first usable hash, checked for unknown users and unusable entries too, so that
    /// their refusal takes as long as a wrong password's and does not tell which users exist.
    decoy: Option<PasswordHash>,
}

impl Htpasswd {
    /// Parses a whole file as `ngx_http_auth_basic_module` reads it: a line starting with `#`
    /// or CR is a comment, the name runs from the line's first byte to the first `:`, the hash
    /// from there to the next `:`, CR or the end of the line.
    pub fn parse(data: &[u8]) -> (Self, Vec<LineWarning>) {
        let mut users = HashMap::new();
        let mut warnings = Vec::new();
        let mut decoy = None;

        for (index, line) in data.split(|&c| c == b'\n').enumerate() {
            if matches!(line.first(), None | Some(b'#' | b'\r')) || line.trim_ascii().is_empty() {
                continue;
            }

            let number = index + 1;
            let mut warn = |error, refused: Option<&[u8]>| {
                warnings.push(LineWarning {
                    line: number,
                    error,
                    refused: refused.map(Into::into),
                })
            };

            let Some(colon) = line.iter().position(|&c| c == b':') else {
                warn(LineError::NoColon, None);
                continue;
            };

            let user = &line[..colon];
            let rest = &line[colon + 1..];
            let end = rest
                .iter()
                .position(|&c| c == b':' || c == b'\r')
                .unwrap_or(rest.len());
            let hash = &rest[..end];

            if user.is_empty() {
                warn(LineError::EmptyUser, None);
                continue;
            }
            if users.contains_key(user) {
                warn(LineError::Duplicate, None);
                continue;
            }

            let parsed = if hash.is_empty() {
                Err(LineError::EmptyHash)
            } else {
                PasswordHash::parse(hash).map_err(LineError::from)
            };
            let entry = match parsed {
                Ok(hash) => {
                    if decoy.is_none() {
                        decoy = Some(hash.clone());
                    }
                    Entry::Hash(hash)
                }
                Err(error) => {
                    warn(error, Some(user));
                    Entry::Unusable { line: number }
                }
            };
            users.insert(user.into(), entry);
        }

        (Self { users, decoy }, warnings)
    }

    pub fn lookup(&self, user: &[u8]) -> Lookup<'_> {
        match self.users.get(user) {
            Some(Entry::Hash(hash)) => Lookup::Hash(hash),
            Some(Entry::Unusable { line }) => Lookup::Unusable { line: *line },
            None => Lookup::Unknown,
        }
    }

    /// The usable hash of `user`, if the file has one.
    pub fn get(&self, user: &[u8]) -> Option<&PasswordHash> {
        match self.lookup(user) {
            Lookup::Hash(hash) => Some(hash),
            _ => None,
        }
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
