//! htpasswd files: `user:hash[:comment]` lines, as Apache's tools write them.

mod hash;
pub mod idle;
mod libcrypt;
mod md5crypt;
mod scheme;

use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;
use thiserror::Error;
use zeroize::Zeroizing;

pub use hash::{HashRef, PasswordHash, MAX_PASSWORD_LEN};
use scheme::Scheme;
pub use scheme::{HashError, VerifyError};

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
    #[error("the file's users take more than 4 GiB")]
    TooLarge,
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

/// A user's name and hash, `name_len` and `hash_len` bytes from `at` in the file's bytes.
#[derive(Clone, Copy)]
struct User {
    at: u32,
    name_len: u32,
    hash_len: u32,
    entry: Entry,
}

/// The first line for a user name decides, whatever its hash.
#[derive(Clone, Copy)]
enum Entry {
    Hash(Scheme),
    Unusable { line: u32 },
}

/// What a file says of a user name.
#[derive(Debug)]
pub enum Lookup<'a> {
    Hash(HashRef<'a>),
    /// The name's first line has a hash that cannot be used: no password matches.
    Unusable {
        line: usize,
    },
    Unknown,
}

/// The users of one htpasswd file: names and hashes, ready to check, back to back in one
/// buffer, and a table of where each user's are.
#[derive(Default)]
pub struct Htpasswd {
    bytes: Zeroizing<Vec<u8>>,
    users: Vec<User>,
    index: HashTable<u32>,
    hasher: RandomState,
    /// The first usable hash, checked for unknown users and unusable entries too, so that
    /// their refusal takes as long as a wrong password's and does not tell which users exist.
    decoy: Option<u32>,
}

impl Htpasswd {
    /// Parses a whole file as `ngx_http_auth_basic_module` reads it: a line starting with `#`
    /// or CR is a comment, the name runs from the line's first byte to the first `:`, the hash
    /// from there to the next `:`, CR or the end of the line.
    pub fn parse(data: &[u8]) -> (Self, Vec<LineWarning>) {
        let lines = memchr::memchr_iter(b'\n', data).count() + 1;
        // A line takes no more bytes here than in the file, with its newline: the buffer
        // never moves, and leaves no copy of a {PLAIN} password behind.
        let mut file = Self {
            bytes: Zeroizing::new(Vec::with_capacity(data.len() + 1)),
            users: Vec::with_capacity(lines),
            index: HashTable::with_capacity(lines),
            ..Self::default()
        };
        let mut warnings = Vec::new();

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
            let key = file.hasher.hash_one(user);
            if file.find(key, user).is_some() {
                warn(LineError::Duplicate, None);
                continue;
            }

            let at = file.bytes.len();
            file.bytes.extend_from_slice(user);
            let parsed = if hash.is_empty() {
                Err(LineError::EmptyHash)
            } else {
                hash::prepare(hash, &mut file.bytes).map_err(LineError::from)
            };
            let entry = match parsed {
                Ok(scheme) => Entry::Hash(scheme),
                Err(error) => {
                    warn(error, Some(user));
                    Entry::Unusable {
                        line: u32::try_from(number).unwrap_or(u32::MAX),
                    }
                }
            };
            // Offsets, lengths and the number of users are all bounded by the buffer's length.
            if u32::try_from(file.bytes.len()).is_err() {
                file.bytes.truncate(at);
                warn(LineError::TooLarge, None);
                break;
            }
            let slot = file.users.len() as u32;
            if file.decoy.is_none() && matches!(entry, Entry::Hash(_)) {
                file.decoy = Some(slot);
            }
            file.users.push(User {
                at: at as u32,
                name_len: user.len() as u32,
                hash_len: (file.bytes.len() - at - user.len()) as u32,
                entry,
            });
            let Self {
                bytes,
                users,
                index,
                hasher,
                ..
            } = &mut file;
            index.insert_unique(key, slot, |&i| {
                hasher.hash_one(name(bytes, &users[i as usize]))
            });
        }

        file.bytes = Zeroizing::new(file.bytes.to_vec());
        file.users.shrink_to_fit();
        file.index.shrink_to_fit(|&i| {
            file.hasher
                .hash_one(name(&file.bytes, &file.users[i as usize]))
        });
        (file, warnings)
    }

    fn find(&self, key: u64, user: &[u8]) -> Option<&User> {
        self.index
            .find(key, |&i| name(&self.bytes, &self.users[i as usize]) == user)
            .map(|&i| &self.users[i as usize])
    }

    fn hash_of(&self, user: &User) -> Option<HashRef<'_>> {
        let Entry::Hash(scheme) = user.entry else {
            return None;
        };
        let at = user.at as usize + user.name_len as usize;
        Some(HashRef::new(
            scheme,
            &self.bytes[at..at + user.hash_len as usize],
        ))
    }

    pub fn lookup(&self, user: &[u8]) -> Lookup<'_> {
        let Some(found) = self.find(self.hasher.hash_one(user), user) else {
            return Lookup::Unknown;
        };
        match (found.entry, self.hash_of(found)) {
            (Entry::Unusable { line }, _) => Lookup::Unusable {
                line: line as usize,
            },
            (Entry::Hash(_), hash) => hash.map_or(Lookup::Unknown, Lookup::Hash),
        }
    }

    /// The usable hash of `user`, if the file has one.
    pub fn get(&self, user: &[u8]) -> Option<HashRef<'_>> {
        match self.lookup(user) {
            Lookup::Hash(hash) => Some(hash),
            _ => None,
        }
    }

    /// A hash to check the password of an unknown user against, in the same time.
    pub fn decoy(&self) -> Option<HashRef<'_>> {
        self.hash_of(&self.users[self.decoy? as usize])
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

fn name<'a>(bytes: &'a [u8], user: &User) -> &'a [u8] {
    &bytes[user.at as usize..][..user.name_len as usize]
}

impl core::fmt::Debug for Htpasswd {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Htpasswd")
            .field("users", &self.users.len())
            .finish_non_exhaustive()
    }
}
