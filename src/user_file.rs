//! htpasswd files held in memory, re-read when they change on disk.

use core::cell::RefCell;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::{self, File, Metadata};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use auth_core::htpasswd::Htpasswd;
use ngx::ffi::{NGX_LOG_ERR, NGX_LOG_WARN};
use zeroize::Zeroize;

use crate::log::Sink;

/// Lines reported per load; the rest are counted.
const MAX_LINE_WARNINGS: usize = 10;

/// What identifies one version of a file: editors and `htpasswd` replace it (new inode),
/// an in-place write changes the size or the modification time.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl From<&Metadata> for Identity {
    fn from(meta: &Metadata) -> Self {
        Self {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
        }
    }
}

struct UserFile {
    identity: Identity,
    users: Users,
}

/// One version of a user file, as read; `generation` differs for every read, so that what was
/// verified against one version is not taken for another.
#[derive(Clone)]
pub struct Users {
    pub users: Rc<Htpasswd>,
    pub generation: u64,
}

static GENERATION: AtomicU64 = AtomicU64::new(1);

/// The files of one configuration cycle, by path.
#[derive(Default)]
pub struct UserFiles {
    files: RefCell<HashMap<Box<[u8]>, UserFile>>,
}

impl UserFiles {
    /// Reads a file named by the configuration; a missing file is not an error yet.
    pub fn preload(&self, sink: &mut Sink, path: &[u8]) {
        match self.get(sink, path) {
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => sink.io_error(
                NGX_LOG_WARN,
                &err,
                format_args!("cannot read \"{}\"", path.escape_ascii()),
            ),
        }
    }

    /// The current contents of `path`, re-read if the file changed since the last call.
    ///
    /// When the file exists but cannot be read, the last contents read are kept.
    pub fn get(&self, sink: &mut Sink, path: &[u8]) -> io::Result<Users> {
        let os_path = Path::new(OsStr::from_bytes(path));
        let mut files = self.files.borrow_mut();

        let current = match fs::metadata(os_path) {
            Ok(meta) => Identity::from(&meta),
            Err(err) => {
                if err.kind() == io::ErrorKind::NotFound {
                    files.remove(path);
                }
                return Err(err);
            }
        };

        if let Some(file) = files.get(path) {
            if file.identity == current {
                return Ok(file.users.clone());
            }
        }

        match read(os_path) {
            Ok((identity, mut data)) => {
                let (users, warnings) = Htpasswd::parse(&data);
                data.zeroize();

                for warning in warnings.iter().take(MAX_LINE_WARNINGS) {
                    let outcome = match &warning.refused {
                        Some(user) => format!("user \"{}\" is refused", user.escape_ascii()),
                        None => "line skipped".to_owned(),
                    };
                    sink.error(
                        NGX_LOG_WARN,
                        0,
                        format_args!(
                            "\"{}\":{}: {}, {outcome}",
                            path.escape_ascii(),
                            warning.line,
                            warning.error
                        ),
                    );
                }
                if warnings.len() > MAX_LINE_WARNINGS {
                    sink.error(
                        NGX_LOG_WARN,
                        0,
                        format_args!(
                            "\"{}\": {} more lines cannot be used",
                            path.escape_ascii(),
                            warnings.len() - MAX_LINE_WARNINGS
                        ),
                    );
                }

                let users = Users {
                    users: Rc::new(users),
                    generation: GENERATION.fetch_add(1, Ordering::Relaxed),
                };
                files.insert(
                    path.into(),
                    UserFile {
                        identity,
                        users: users.clone(),
                    },
                );
                Ok(users)
            }
            Err(err) if err.kind() != io::ErrorKind::NotFound => match files.get(path) {
                Some(file) => {
                    sink.io_error(
                        NGX_LOG_ERR,
                        &err,
                        format_args!(
                            "cannot re-read \"{}\", using the contents read before",
                            path.escape_ascii()
                        ),
                    );
                    Ok(file.users.clone())
                }
                None => Err(err),
            },
            Err(err) => {
                files.remove(path);
                Err(err)
            }
        }
    }
}

/// Reads a file and the identity of the version read.
fn read(path: &Path) -> io::Result<(Identity, Vec<u8>)> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let mut data = Vec::with_capacity(meta.len() as usize);
    file.read_to_end(&mut data)?;
    Ok((Identity::from(&meta), data))
}
