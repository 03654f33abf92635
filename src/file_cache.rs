//! Files named at run time (user files, key files), parsed once per version and held in memory
//! per worker; a request costs a `stat`, and a file is read and parsed again only when it changed.

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

use ngx::ffi::{NGX_LOG_ERR, NGX_LOG_WARN};
use zeroize::Zeroize;

use crate::log::Sink;

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

/// One parsed version of a file; `generation` differs for every parse, so that what was
/// verified against one version is not taken for another.
pub struct Version<T> {
    pub value: Rc<T>,
    pub generation: u64,
}

impl<T> Clone for Version<T> {
    fn clone(&self) -> Self {
        Self {
            value: self.value.clone(),
            generation: self.generation,
        }
    }
}

static GENERATION: AtomicU64 = AtomicU64::new(1);

/// A number no other version of anything in this process has: what a version is told by.
pub fn next_generation() -> u64 {
    GENERATION.fetch_add(1, Ordering::Relaxed)
}

struct Entry<T> {
    /// The version on disk when the file was last looked at.
    identity: Identity,
    /// The last version that could be parsed; `None` if none could.
    version: Option<Version<T>>,
}

/// The files of one configuration cycle, by path.
pub struct FileCache<T> {
    files: RefCell<HashMap<Box<[u8]>, Entry<T>>>,
}

impl<T> Default for FileCache<T> {
    fn default() -> Self {
        Self {
            files: RefCell::default(),
        }
    }
}

impl<T> FileCache<T> {
    /// The current version of `path`, read and parsed again if the file changed since the last
    /// call. `parse` logs why a version cannot be used and answers `None`; the version parsed
    /// before then stays in use, and that version of the file is not parsed again.
    ///
    /// When the file exists but cannot be read, the last version read is kept.
    pub fn get(
        &self,
        sink: &mut Sink,
        path: &[u8],
        parse: impl FnOnce(&[u8], &mut Sink) -> Option<T>,
    ) -> io::Result<Version<T>> {
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

        if let Some(entry) = files.get(path) {
            if entry.identity == current {
                return entry.version.clone().ok_or_else(unusable);
            }
        }

        let (identity, mut data) = match read(os_path) {
            Ok(read) => read,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                files.remove(path);
                return Err(err);
            }
            Err(err) => {
                let Some(version) = files.get(path).and_then(|e| e.version.clone()) else {
                    return Err(err);
                };
                sink.io_error(
                    NGX_LOG_ERR,
                    &err,
                    format_args!(
                        "cannot re-read \"{}\", using the contents read before",
                        path.escape_ascii()
                    ),
                );
                return Ok(version);
            }
        };

        let parsed = parse(&data, sink);
        data.zeroize();

        let previous = files.remove(path).and_then(|e| e.version);
        let version = match parsed {
            Some(value) => Some(Version {
                value: Rc::new(value),
                generation: next_generation(),
            }),
            None => {
                if previous.is_some() {
                    sink.error(
                        NGX_LOG_WARN,
                        0,
                        format_args!(
                            "\"{}\": using the contents read before",
                            path.escape_ascii()
                        ),
                    );
                }
                previous
            }
        };
        files.insert(
            path.into(),
            Entry {
                identity,
                version: version.clone(),
            },
        );
        version.ok_or_else(unusable)
    }
}

fn unusable() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "no usable contents")
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
