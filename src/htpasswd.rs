//! The access handler of `auth_htpasswd`: HTTP Basic credentials checked against a user file.

use core::panic::AssertUnwindSafe;
use core::ptr;
use std::io;
use std::panic;

use auth_core::basic::parse_authorization;
use ngx::core::Status;
use ngx::ffi::{
    ngx_http_complex_value, ngx_http_complex_value_t, ngx_http_request_t, ngx_int_t, ngx_list_push,
    ngx_pnalloc, ngx_str_t, ngx_table_elt_t, NGX_HTTP_FORBIDDEN, NGX_HTTP_INTERNAL_SERVER_ERROR,
    NGX_HTTP_UNAUTHORIZED, NGX_LOG_ALERT, NGX_LOG_CRIT, NGX_LOG_ERR, NGX_LOG_INFO,
};
use ngx::http::{HttpModuleLocationConf, HttpModuleMainConf};
use ngx::ngx_string;

use crate::conf::{str_bytes, Module};
use crate::log::Sink;

pub extern "C" fn access_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    // SAFETY: nginx calls access handlers with a valid request whose connection is alive.
    let r = unsafe { &mut *r };
    let log = unsafe { (*r.connection).log };

    match panic::catch_unwind(AssertUnwindSafe(|| handle(r))) {
        Ok(rc) => rc,
        Err(_) => {
            Sink::Log(log).error(
                NGX_LOG_ALERT,
                0,
                format_args!("auth_htpasswd: internal error, request refused"),
            );
            NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t
        }
    }
}

fn handle(r: &mut ngx_http_request_t) -> ngx_int_t {
    let Some(lcf) = Module::location_conf(r) else {
        return Status::NGX_DECLINED.into();
    };

    if lcf.htpasswd_realm.is_null() || lcf.htpasswd_user_file.is_null() {
        return Status::NGX_DECLINED.into();
    }

    let Some(realm) = complex_value(r, lcf.htpasswd_realm) else {
        return Status::NGX_ERROR.into();
    };
    let realm = str_bytes(&realm);

    if realm == b"off" {
        return Status::NGX_DECLINED.into();
    }

    // SAFETY: a request's connection and its log live as long as the request.
    let mut log = Sink::Log(unsafe { (*r.connection).log });

    let header = r.headers_in.authorization;
    if header.is_null() {
        log.error(
            NGX_LOG_INFO,
            0,
            format_args!("no user/password was provided for basic authentication"),
        );
        return challenge(r, realm);
    }

    // SAFETY: a non-null header pointer refers to an element of headers_in.headers.
    let credentials = match parse_authorization(str_bytes(unsafe { &(*header).value })) {
        Ok(credentials) => credentials,
        Err(err) => {
            log.error(
                NGX_LOG_INFO,
                0,
                format_args!("client sent invalid basic authentication credentials: {err}"),
            );
            return challenge(r, realm);
        }
    };

    let user = credentials.user();

    let Some(path) = complex_value(r, lcf.htpasswd_user_file) else {
        return Status::NGX_ERROR.into();
    };
    let path = str_bytes(&path);

    let Some(mcf) = Module::main_conf(r) else {
        return Status::NGX_ERROR.into();
    };

    let users = match mcf.user_files.get(&mut log, path) {
        Ok(users) => users,
        Err(err) => {
            let (level, rc) = if err.kind() == io::ErrorKind::NotFound {
                (NGX_LOG_ERR, NGX_HTTP_FORBIDDEN)
            } else {
                (NGX_LOG_CRIT, NGX_HTTP_INTERNAL_SERVER_ERROR)
            };
            log.io_error(
                level,
                &err,
                format_args!("open() \"{}\" failed", path.escape_ascii()),
            );
            return rc as ngx_int_t;
        }
    };

    let Some(hash) = users.get(user) else {
        log.error(
            NGX_LOG_ERR,
            0,
            format_args!(
                "user \"{}\" was not found in \"{}\"",
                user.escape_ascii(),
                path.escape_ascii()
            ),
        );
        return challenge(r, realm);
    };

    match hash.verify(credentials.password()) {
        Ok(true) => {
            if set_user(r, user).is_none() {
                return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
            }
            Status::NGX_OK.into()
        }
        Ok(false) => {
            log.error(
                NGX_LOG_ERR,
                0,
                format_args!("user \"{}\": password mismatch", user.escape_ascii()),
            );
            challenge(r, realm)
        }
        Err(err) => {
            log.error(
                NGX_LOG_ERR,
                0,
                format_args!("user \"{}\": {err}", user.escape_ascii()),
            );
            NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t
        }
    }
}

/// Evaluates a complex value; the bytes live in the request pool.
fn complex_value(
    r: &mut ngx_http_request_t,
    cv: *mut ngx_http_complex_value_t,
) -> Option<ngx_str_t> {
    let mut value = ngx_str_t::default();
    // SAFETY: cv was compiled at configuration time; the result is allocated from r's pool.
    if unsafe { ngx_http_complex_value(r, cv, &mut value) } != Status::NGX_OK.into() {
        return None;
    }
    Some(value)
}

/// Copies `bytes` into the request pool.
fn pool_str(r: &mut ngx_http_request_t, bytes: &[u8]) -> Option<ngx_str_t> {
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

/// Makes the verified user name available to `$remote_user` and other modules.
fn set_user(r: &mut ngx_http_request_t, user: &[u8]) -> Option<()> {
    r.headers_in.user = pool_str(r, user)?;
    Some(())
}

/// Answers 401 with `WWW-Authenticate: Basic realm="…", charset="UTF-8"` (RFC 7617).
fn challenge(r: &mut ngx_http_request_t, realm: &[u8]) -> ngx_int_t {
    let mut value = Vec::with_capacity(realm.len() + 32);
    value.extend_from_slice(b"Basic realm=\"");
    for &c in realm {
        match c {
            b'"' | b'\\' => value.extend_from_slice(&[b'\\', c]),
            0..=0x1f | 0x7f => {}
            _ => value.push(c),
        }
    }
    value.extend_from_slice(b"\", charset=\"UTF-8\"");

    if set_www_authenticate(r, &value).is_none() {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    }

    NGX_HTTP_UNAUTHORIZED as ngx_int_t
}

fn set_www_authenticate(r: &mut ngx_http_request_t, value: &[u8]) -> Option<()> {
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

    // An access handler that grants access later clears every challenge in the chain.
    #[cfg(nginx_header_chains)]
    {
        h.next = r.headers_out.www_authenticate;
    }
    r.headers_out.www_authenticate = h;

    Some(())
}
