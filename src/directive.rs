//! What every directive's setter needs: its arguments, its place in the configuration, its
//! part of the module's configuration, and nginx's syntax for times, sizes, files and values
//! with variables.

use core::ffi::{c_char, c_void};

use ngx::core::{Status, NGX_CONF_ERROR, NGX_CONF_OK};
use ngx::ffi::{
    ngx_command_t, ngx_conf_t, ngx_http_compile_complex_value, ngx_http_compile_complex_value_t,
    ngx_http_complex_value_t, ngx_parse_size, ngx_parse_time, ngx_pcalloc, ngx_str_t,
    NGX_LOG_EMERG,
};

use crate::log::Sink;
use crate::text::str_bytes;

/// The part of a configuration structure that a directive sets: `cmd.offset` bytes into
/// `conf`, as nginx's own slots (`ngx_conf_set_flag_slot`) find theirs.
///
/// # Safety
/// `conf` is the configuration nginx passes to the setter of `cmd`, and the command table put
/// the offset of a `T` within it in `cmd.offset`.
pub unsafe fn part<'a, T>(conf: *mut c_void, cmd: *mut ngx_command_t) -> &'a mut T {
    // SAFETY: as the caller promises.
    unsafe { &mut *conf.cast::<u8>().add((*cmd).offset).cast::<T>() }
}

/// What the directives of a block are read into, and how.
struct Block<T> {
    conf: *mut T,
    each: fn(&mut ngx_conf_t, &mut T) -> Result<(), String>,
}

/// Reads the block of the directive being read (`name { ... }`): each directive in it goes to
/// `each` with `conf`; the first that fails ends the reading with its file and line.
pub fn block<T>(
    cf: &mut ngx_conf_t,
    conf: &mut T,
    each: fn(&mut ngx_conf_t, &mut T) -> Result<(), String>,
) -> *mut c_char {
    let mut block = Block { conf, each };
    let saved = *cf;
    cf.handler = Some(block_directive::<T>);
    cf.handler_conf = core::ptr::from_mut(&mut block).cast();
    // SAFETY: cf is the live configuration; the block's directives go to block_directive with
    // `block`, which outlives the call.
    let rv = unsafe { ngx::ffi::ngx_conf_parse(cf, core::ptr::null_mut()) };
    *cf = saved;
    rv
}

/// One directive inside a block.
unsafe extern "C" fn block_directive<T>(
    cf: *mut ngx_conf_t,
    _: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    // SAFETY: nginx passes the live configuration and the handler_conf set by block().
    let (cf, block) = unsafe { (&mut *cf, &mut *conf.cast::<Block<T>>()) };
    // SAFETY: block.conf is the caller's, borrowed for the whole block.
    let conf = unsafe { &mut *block.conf };
    let result = crate::guard::catch(|| (block.each)(cf, conf))
        .unwrap_or_else(|panic| Err(format!("internal error: {panic}")));
    match result {
        Ok(()) => NGX_CONF_OK,
        Err(why) => {
            let name = str_bytes(&args(cf)[0]).escape_ascii().to_string();
            Sink::Conf(cf).error(NGX_LOG_EMERG, 0, format_args!("\"{name}\": {why}"));
            NGX_CONF_ERROR
        }
    }
}

/// `bytes` as an nginx string from cf's pool, which lives as long as the configuration;
/// NUL-terminated, as OpenSSL's file functions need.
pub fn conf_str(cf: &mut ngx_conf_t, bytes: &[u8]) -> Result<ngx_str_t, String> {
    // SAFETY: the allocation is len + 1 bytes from cf's pool, which outlives its use.
    unsafe {
        let data = ngx::ffi::ngx_pnalloc(cf.pool, bytes.len() + 1).cast::<u8>();
        if data.is_null() {
            return Err("out of memory".into());
        }
        core::ptr::copy_nonoverlapping(bytes.as_ptr(), data, bytes.len());
        *data.add(bytes.len()) = 0;
        Ok(ngx_str_t {
            len: bytes.len(),
            data,
        })
    }
}

/// The "is duplicate" answer of a directive given twice.
pub const DUPLICATE: *mut c_char = c"is duplicate".as_ptr().cast_mut();

/// Turns a setter's outcome into what nginx expects; the message gets file and line.
pub fn done(cf: &mut ngx_conf_t, result: Result<(), String>) -> *mut c_char {
    match result {
        Ok(()) => NGX_CONF_OK,
        Err(message) => {
            let directive = String::from_utf8_lossy(str_bytes(&args(cf)[0])).into_owned();
            Sink::Conf(cf).error(NGX_LOG_EMERG, 0, format_args!("\"{directive}\": {message}"));
            NGX_CONF_ERROR
        }
    }
}

/// Where the directive being parsed is, as `file:line`.
pub fn position(cf: &ngx_conf_t) -> String {
    // SAFETY: while a directive is parsed, conf_file is the file being read.
    unsafe {
        let file = &*cf.conf_file;
        format!(
            "{}:{}",
            str_bytes(&file.file.name).escape_ascii(),
            file.line
        )
    }
}

/// The full name of a file argument (relative names under the configuration prefix), which
/// must be readable.
pub fn readable_path(cf: &mut ngx_conf_t, arg: &ngx_str_t) -> Result<Vec<u8>, String> {
    let mut name: ngx_str_t = *arg;
    // SAFETY: cf.cycle is the cycle being configured; the full name goes in its pool.
    if unsafe { ngx::ffi::ngx_conf_full_name(cf.cycle, &mut name, 1) } != 0 {
        return Err("out of memory".to_owned());
    }
    let path = str_bytes(&name).to_vec();
    let os = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&path);
    std::fs::File::open(os)
        .map_err(|err| format!("cannot read \"{}\": {err}", path.escape_ascii()))?;
    Ok(path)
}

/// A time in nginx's syntax ("90", "1m30s", "1h"), in seconds.
pub fn parse_seconds(value: &[u8]) -> Option<u64> {
    let mut value = ngx_str_t {
        len: value.len(),
        data: value.as_ptr().cast_mut(),
    };
    // SAFETY: value points to value.len readable bytes; ngx_parse_time only reads them.
    u64::try_from(unsafe { ngx_parse_time(&mut value, 1) }).ok()
}

/// A time in nginx's syntax ("500ms", "1s"), in milliseconds.
pub fn parse_msec(value: &[u8]) -> Option<u64> {
    let mut value = ngx_str_t {
        len: value.len(),
        data: value.as_ptr().cast_mut(),
    };
    // SAFETY: as in parse_seconds.
    u64::try_from(unsafe { ngx_parse_time(&mut value, 0) }).ok()
}

/// `on` or `off`, as nginx's flag directives take them.
pub fn flag(value: &[u8]) -> Result<bool, String> {
    match value {
        b"on" => Ok(true),
        b"off" => Ok(false),
        other => Err(format!(
            "invalid value \"{}\"; it must be \"on\" or \"off\"",
            other.escape_ascii()
        )),
    }
}

/// The directive's name and arguments.
pub fn args(cf: &ngx_conf_t) -> &'static [ngx_str_t] {
    // SAFETY: while a directive is handled, cf->args holds its name and arguments, allocated
    // from the configuration pool.
    unsafe { core::slice::from_raw_parts((*cf.args).elts.cast::<ngx_str_t>(), (*cf.args).nelts) }
}

/// A shared memory zone's size as `ngx_parse_size` reads it (`1m`, `64k`); `Err` with the
/// least size nginx allows (8 pages) when it is invalid or below that.
pub fn zone_size(text: &[u8]) -> Result<usize, usize> {
    let mut value = ngx_str_t {
        len: text.len(),
        data: text.as_ptr().cast_mut(),
    };
    // SAFETY: value points to text, which ngx_parse_size only reads; ngx_pagesize is set at
    // start.
    let (size, min) = unsafe { (ngx_parse_size(&mut value), 8 * ngx::ffi::ngx_pagesize) };
    usize::try_from(size).ok().filter(|&s| s >= min).ok_or(min)
}

/// Compiles a directive argument, which may contain variables.
pub fn compile_complex_value(
    cf: &mut ngx_conf_t,
    mut value: ngx_str_t,
    conf_prefix: bool,
) -> Option<*mut ngx_http_complex_value_t> {
    let value = &mut value as *mut ngx_str_t;

    // SAFETY: the pool outlives the configuration; ngx_pcalloc zeroes the allocation.
    let cv = unsafe { ngx_pcalloc(cf.pool, core::mem::size_of::<ngx_http_complex_value_t>()) }
        .cast::<ngx_http_complex_value_t>();
    if cv.is_null() {
        return None;
    }

    // SAFETY: an all-zero ngx_http_compile_complex_value_t is its documented initial state.
    let mut ccv: ngx_http_compile_complex_value_t = unsafe { core::mem::zeroed() };
    ccv.cf = cf;
    ccv.value = value;
    ccv.complex_value = cv;
    ccv.set_conf_prefix(conf_prefix.into());

    // SAFETY: ccv is fully initialized and points to live configuration data.
    if unsafe { ngx_http_compile_complex_value(&mut ccv) } != Status::NGX_OK.0 {
        return None;
    }

    Some(cv)
}
