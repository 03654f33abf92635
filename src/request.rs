//! What both access handlers do with a request: evaluate complex values, copy into the request
//! pool, answer with a challenge, and contain panics.

use core::ptr;
use ngx::core::Status;
use ngx::ffi::{
    ngx_cached_time, ngx_http_complex_value, ngx_http_complex_value_t, ngx_http_finalize_request,
    ngx_http_request_t, ngx_http_send_response, ngx_int_t, ngx_list_push, ngx_pnalloc, ngx_str_t,
    ngx_table_elt_t, NGX_HTTP_INTERNAL_SERVER_ERROR, NGX_LOG_ALERT,
};
use ngx::ngx_string;

use crate::guard;
use crate::log::Sink;
use crate::text::str_bytes;

/// Runs an access handler; a panic becomes a 500 for this request and an alert in the log.
pub fn guard(
    r: *mut ngx_http_request_t,
    directive: &str,
    handler: impl FnOnce(&mut ngx_http_request_t) -> ngx_int_t,
) -> ngx_int_t {
    // SAFETY: nginx calls access handlers with a valid request whose connection is alive.
    let r = unsafe { &mut *r };
    let log = unsafe { (*r.connection).log };

    match guard::catch(|| handler(r)) {
        Ok(rc) => rc,
        Err(panic) => {
            Sink::Log(log).error(
                NGX_LOG_ALERT,
                0,
                format_args!("{directive}: internal error, request refused: {panic}"),
            );
            NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t
        }
    }
}

/// The time in seconds since the Unix epoch, as nginx caches it for each turn of its event loop
/// (`ngx_time()`).
#[allow(clippy::unnecessary_cast)] // time_t is 32 bits wide on some targets
pub fn now() -> i64 {
    // SAFETY: nginx points ngx_cached_time at a valid slot before it reads the configuration,
    // and only this thread, the event loop's, moves it.
    unsafe { (*ngx_cached_time).sec as i64 }
}

/// Logs `args` at debug level, for nginx built with --with-debug.
pub fn debug(r: &ngx_http_request_t, args: core::fmt::Arguments) {
    // SAFETY: a request's connection and its log live as long as the request.
    let log = unsafe { (*r.connection).log };
    ngx::ngx_log_debug!(mask: ngx::log::DebugMask::Http, log, "{args}");
}

/// The request's log, for messages about this request.
pub fn log(r: &ngx_http_request_t) -> Sink<'static> {
    // SAFETY: a request's connection and its log live as long as the request.
    Sink::Log(unsafe { (*r.connection).log })
}

/// Evaluates a complex value; the bytes live in the request pool.
pub fn complex_value(
    r: &mut ngx_http_request_t,
    cv: *mut ngx_http_complex_value_t,
) -> Option<ngx_str_t> {
    let mut value = ngx_str_t::default();
    // SAFETY: cv was compiled at configuration time; the result is allocated from r's pool.
    if unsafe { ngx_http_complex_value(r, cv, &mut value) } != Status::NGX_OK.0 {
        return None;
    }
    Some(value)
}

/// The realm of a check configured with `cv`: `Err(NGX_DECLINED)` when there is none or it
/// evaluates to "off", `Err(NGX_ERROR)` when it cannot be evaluated.
pub fn realm(
    r: &mut ngx_http_request_t,
    cv: *mut ngx_http_complex_value_t,
) -> Result<ngx_str_t, ngx_int_t> {
    if cv.is_null() {
        return Err(Status::NGX_DECLINED.into());
    }
    let realm = complex_value(r, cv).ok_or(Status::NGX_ERROR.0)?;
    if str_bytes(&realm) == b"off" {
        return Err(Status::NGX_DECLINED.into());
    }
    Ok(realm)
}

/// Answers `status` with `body` (copied into the request pool) from an access handler: the
/// response is sent and the request finalized here, as the rewrite module's `return` does, and
/// the access phase stops at the NGX_DONE returned without touching the request again.
pub fn send(
    r: &mut ngx_http_request_t,
    status: u32,
    content_type: Option<&[u8]>,
    body: &[u8],
) -> ngx_int_t {
    let Some(value) = pool_str(r, body) else {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    };
    let mut content_type = match content_type.map(|t| pool_str(r, t)) {
        Some(Some(t)) => Some(t),
        Some(None) => return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t,
        None => None,
    };
    let ct = content_type.as_mut().map_or(ptr::null_mut(), ptr::from_mut);
    // SAFETY: an all-zero complex value with `value` set is that constant string; the body and
    // content type live in the request pool.
    unsafe {
        let mut cv: ngx_http_complex_value_t = core::mem::zeroed();
        cv.value = value;
        let rc = ngx_http_send_response(r, status as usize, ct, &mut cv);
        ngx_http_finalize_request(r, rc);
    }
    Status::NGX_DONE.into()
}

/// Copies `bytes` into the request pool.
pub fn pool_str(r: &mut ngx_http_request_t, bytes: &[u8]) -> Option<ngx_str_t> {
    // SAFETY: r.pool is the live request pool; ngx_pnalloc returns len bytes or NULL.
    let data = unsafe { ngx_pnalloc(r.pool, bytes.len().max(1)) }.cast::<u8>();
    if data.is_null() {
        return None;
    }
    // SAFETY: `data` has room for bytes.len() bytes and does not overlap `bytes`.
    unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), data, bytes.len()) };
    Some(ngx_str_t {
        len: bytes.len(),
        data,
    })
}

/// `realm` as an RFC 9110 quoted-string, control characters dropped.
pub fn quoted(realm: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in realm {
        match c {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', c]),
            0..=0x1f | 0x7f => {}
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

/// Answers `status` (401 or 403) with a `WWW-Authenticate: <value>` challenge.
pub fn challenge(r: &mut ngx_http_request_t, value: &[u8], status: u32) -> ngx_int_t {
    if set_www_authenticate(r, value).is_none() {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    }
    status as ngx_int_t
}

/// Answers `status` with one `WWW-Authenticate` per value, in order.
pub fn challenges(r: &mut ngx_http_request_t, values: &[Vec<u8>], status: u32) -> ngx_int_t {
    for value in values {
        if set_www_authenticate(r, value).is_none() {
            return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
        }
    }
    status as ngx_int_t
}

fn set_www_authenticate(r: &mut ngx_http_request_t, value: &[u8]) -> Option<()> {
    // nginx before 1.23 clears only the last challenge when a later check admits the request
    // under `satisfy any`, so an earlier one joins this header (RFC 9110 allows a list).
    #[cfg(not(nginx_header_chains))]
    let joined;
    #[cfg(not(nginx_header_chains))]
    let value = match unsafe { r.headers_out.www_authenticate.as_mut() } {
        // SAFETY: a non-null www_authenticate points to an element of headers_out.headers.
        Some(previous) if previous.hash != 0 => {
            joined = [str_bytes(&previous.value), b", ", value].concat();
            previous.hash = 0;
            &joined[..]
        }
        _ => value,
    };

    let value = pool_str(r, value)?;

    // SAFETY: headers_out.headers is the request's initialized output header list.
    let h = unsafe { ngx_list_push(&mut r.headers_out.headers) }.cast::<ngx_table_elt_t>();
    if h.is_null() {
        return None;
    }

    // SAFETY: `h` is a fresh list element; all-zero is a valid ngx_table_elt_t.
    let h = unsafe {
        ptr::write_bytes(h, 0, 1);
        &mut *h
    };
    h.hash = 1;
    h.key = ngx_string!("WWW-Authenticate");
    h.value = value;

    // A check that admits the request later clears every challenge in the chain.
    #[cfg(nginx_header_chains)]
    {
        h.next = r.headers_out.www_authenticate;
    }
    r.headers_out.www_authenticate = h;

    Some(())
}
