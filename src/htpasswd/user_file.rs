//! htpasswd files held in memory, re-read when they change on disk.

use std::io;

use auth_core::htpasswd::Htpasswd;
use ngx::ffi::NGX_LOG_WARN;

use crate::file_cache::{FileCache, Version};
use crate::log::Sink;

/// Lines reported per load; the rest are counted.
const MAX_LINE_WARNINGS: usize = 10;

/// One version of a user file, as read.
pub type Users = Version<Htpasswd>;

/// The user files of one configuration cycle, by path.
#[derive(Default)]
pub struct UserFiles(FileCache<Htpasswd>);

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
    pub fn get(&self, sink: &mut Sink, path: &[u8]) -> io::Result<Users> {
        self.0.get(sink, path, |data, sink| {
            let (users, warnings) = Htpasswd::parse(data);
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
            Some(users)
        })
    }
}
