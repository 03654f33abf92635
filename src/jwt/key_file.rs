//! `auth_jwt_key_file` with variables: the files a request names, each read and parsed once per
//! version and per worker, never per request.

use std::io;

use auth_core::keys::{self, Key, KeyFormat};
use ngx::ffi::{ngx_http_complex_value_t, ngx_http_request_t, NGX_LOG_ERR, NGX_LOG_WARN};

use super::{JwtConf, JwtMain};
use crate::file_cache::{FileCache, Version};
use crate::log::Sink;
use crate::part::MainPart;
use crate::request::complex_value;
use crate::text::str_bytes;

pub struct KeyFile {
    pub path: *mut ngx_http_complex_value_t,
    pub format: Option<KeyFormat>,
}

/// The key files named with variables, by path.
#[derive(Default)]
pub struct KeyFiles(FileCache<Vec<Key>>);

/// The keys of the files a request names; `failed` when a file exists but gives no keys.
#[derive(Default)]
pub struct FileKeys {
    pub found: Vec<Version<Vec<Key>>>,
    pub failed: bool,
}

/// A file that is missing gives no keys and is logged, as `auth_basic_user_file` is: the
/// token is then judged by the other keys.
pub fn keys(r: &mut ngx_http_request_t, jcf: &JwtConf, log: &mut Sink) -> FileKeys {
    let mut out = FileKeys::default();
    let Some(main) = JwtMain::of(r) else {
        out.failed = true;
        return out;
    };
    for file in jcf.key_files() {
        let Some(path) = complex_value(r, file.path) else {
            out.failed = true;
            continue;
        };
        let path = str_bytes(&path);
        match main
            .key_files
            .0
            .get(log, path, |data, sink| parse(data, file.format, path, sink))
        {
            Ok(version) => out.found.push(version),
            Err(err) if err.kind() == io::ErrorKind::NotFound => log.io_error(
                NGX_LOG_ERR,
                &err,
                format_args!("open() \"{}\" failed", path.escape_ascii()),
            ),
            // Why the contents cannot be used was logged when they were read.
            Err(err) if err.kind() == io::ErrorKind::InvalidData => out.failed = true,
            Err(err) => {
                log.io_error(
                    NGX_LOG_ERR,
                    &err,
                    format_args!("auth_jwt_key_file: cannot read \"{}\"", path.escape_ascii()),
                );
                out.failed = true;
            }
        }
    }
    out
}

fn parse(data: &[u8], format: Option<KeyFormat>, path: &[u8], log: &mut Sink) -> Option<Vec<Key>> {
    match keys::load(data, format) {
        Ok(loaded) => {
            for skipped in &loaded.skipped {
                log.error(
                    NGX_LOG_WARN,
                    0,
                    format_args!(
                        "auth_jwt_key_file \"{}\": {skipped}, skipped",
                        path.escape_ascii()
                    ),
                );
            }
            Some(loaded.keys)
        }
        Err(err) => {
            log.error(
                NGX_LOG_ERR,
                0,
                format_args!("auth_jwt_key_file \"{}\": {err}", path.escape_ascii()),
            );
            None
        }
    }
}
