//! The access handler of `auth_htpasswd`: HTTP Basic credentials checked against a user file.

use std::io;

use auth_core::basic::parse_authorization;
use auth_core::htpasswd::{HashRef, Lookup, VerifyError};
use ngx::core::Status;
use ngx::ffi::{
    ngx_http_request_t, ngx_int_t, NGX_HTTP_FORBIDDEN, NGX_HTTP_INTERNAL_SERVER_ERROR,
    NGX_HTTP_UNAUTHORIZED, NGX_LOG_CRIT, NGX_LOG_ERR, NGX_LOG_INFO,
};

#[cfg(nginx_threads)]
use super::{thread, HtpasswdCtx};
use super::{HtpasswdConf, HtpasswdMain};
use crate::log::Sink;
#[cfg(nginx_threads)]
use crate::part::RequestPart;
use crate::part::{LocPart, MainPart};
use crate::request::{self, complex_value, debug, pool_str, quoted};
use crate::text::str_bytes;

pub extern "C" fn access_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    request::guard(r, "auth_htpasswd", handle)
}

fn handle(r: &mut ngx_http_request_t) -> ngx_int_t {
    let Some(hcf) = HtpasswdConf::of(r) else {
        return Status::NGX_DECLINED.into();
    };

    if hcf.user_file.is_null() {
        return Status::NGX_DECLINED.into();
    }

    #[cfg(feature = "test-hooks")]
    crate::test_hooks::panic_if_asked(r, "auth_htpasswd");

    let realm = match request::realm(r, hcf.realm) {
        Ok(realm) => realm,
        Err(rc) => return rc,
    };
    let realm = str_bytes(&realm);

    // A verdict back from the thread pool is taken now, so that it serves once at most.
    let finished = match finished_check(r) {
        Ok(finished) => finished,
        Err(rc) => return rc,
    };

    let mut log = request::log(r);

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

    let Some(path) = complex_value(r, hcf.user_file) else {
        return Status::NGX_ERROR.into();
    };
    let path = str_bytes(&path);

    let Some(main) = HtpasswdMain::of(r) else {
        return Status::NGX_ERROR.into();
    };

    let users = match main.user_files.get(&mut log, path) {
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

    // An unknown user's password, and that of a user whose hash cannot be used, is checked
    // against another user's hash all the same, so that the refusal takes as long as for a
    // wrong password.
    let (hash, refusal) = match users.value.lookup(user) {
        Lookup::Hash(hash) => (Some(hash), None),
        Lookup::Unusable { line } => (users.value.decoy(), Some(Refusal::Unusable { line })),
        Lookup::Unknown => (users.value.decoy(), Some(Refusal::NotFound)),
    };
    let Some(hash) = hash else {
        return refuse(
            r,
            &mut log,
            refusal.unwrap_or(Refusal::NotFound),
            user,
            path,
            realm,
        );
    };

    let now = request::now();
    let generation = users.generation.to_le_bytes();
    let digest = if hash.is_cheap() || refusal.is_some() {
        None
    } else {
        main.cache
            .digest(&[path, &generation, user, credentials.password()])
    };
    let cached = digest
        .and_then(|d| main.cache.with(|cache| cache.get(&d, now)))
        .flatten()
        .is_some();

    // Back from waiting for another request's check of the same credentials.
    #[cfg(nginx_threads)]
    let waited = HtpasswdCtx::of(r).and_then(|ctx| ctx.flight.take());
    #[cfg(nginx_threads)]
    let shared = waited.as_ref().and_then(|flight| flight.verdict());
    #[cfg(not(nginx_threads))]
    let shared: Option<Result<bool, VerifyError>> = None;

    let verdict = if cached {
        debug(
            r,
            format_args!(
                "auth_htpasswd: user \"{}\" verified from cache",
                user.escape_ascii()
            ),
        );
        Ok(true)
    } else if let Some(verdict) = shared {
        debug(
            r,
            format_args!(
                "auth_htpasswd: user \"{}\": verdict of the same check by another request",
                user.escape_ascii()
            ),
        );
        verdict
    } else {
        let check = Check {
            user,
            hash,
            password: credentials.password(),
            flight: [path, &generation, user, credentials.password()],
            #[cfg(nginx_threads)]
            may_wait: waited.is_none(),
        };
        let Some(verdict) = check_password(r, main, finished, check) else {
            return Status::NGX_AGAIN.into();
        };
        if let (Ok(true), Some(digest)) = (&verdict, digest) {
            main.cache
                .with(|cache| cache.insert(digest, (), now, i64::MAX));
        }
        verdict
    };

    if let Some(refusal) = refusal {
        return refuse(r, &mut log, refusal, user, path, realm);
    }

    match verdict {
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

/// Why a user is refused whatever the password.
#[derive(Clone, Copy)]
enum Refusal {
    NotFound,
    /// The user's first line, whose hash cannot be used.
    Unusable {
        line: usize,
    },
}

fn refuse(
    r: &mut ngx_http_request_t,
    log: &mut Sink,
    refusal: Refusal,
    user: &[u8],
    path: &[u8],
    realm: &[u8],
) -> ngx_int_t {
    let (user, path) = (user.escape_ascii(), path.escape_ascii());
    match refusal {
        Refusal::NotFound => log.error(
            NGX_LOG_ERR,
            0,
            format_args!("user \"{user}\" was not found in \"{path}\""),
        ),
        Refusal::Unusable { line } => log.error(
            NGX_LOG_ERR,
            0,
            format_args!(
                "user \"{user}\": password mismatch, the hash in \"{path}\":{line} cannot be used"
            ),
        ),
    }
    challenge(r, realm)
}

/// A password check finished in a thread pool: the user and the verdict.
type Finished = Option<(Vec<u8>, Result<bool, VerifyError>)>;

/// Takes the verdict of a thread-pool check; `Err(NGX_AGAIN)` while one still runs.
fn finished_check(r: &ngx_http_request_t) -> Result<Finished, ngx_int_t> {
    #[cfg(nginx_threads)]
    {
        use thread::PasswordCheck;

        if let Some(ctx) = HtpasswdCtx::of(r) {
            match ctx.password.take() {
                Some(PasswordCheck::Done { user, verdict }) => return Ok(Some((user, verdict))),
                Some(PasswordCheck::Running) => {
                    ctx.password.replace(Some(PasswordCheck::Running));
                    return Err(Status::NGX_AGAIN.into());
                }
                None => {}
            }
        }
    }

    #[cfg(not(nginx_threads))]
    let _ = r;

    Ok(None)
}

/// A password to check.
struct Check<'a> {
    user: &'a [u8],
    hash: HashRef<'a>,
    password: &'a [u8],
    /// What identifies the same check for another request: file, version, user, password.
    flight: [&'a [u8]; 4],
    /// Whether the request may wait for another's check (it has not waited yet).
    #[cfg(nginx_threads)]
    may_wait: bool,
}

/// The verdict on a password: the finished thread-pool check for this user, or one computed
/// here; `None` while a check runs in a thread pool, this request's or another's with the same
/// credentials.
fn check_password(
    r: &mut ngx_http_request_t,
    main: &HtpasswdMain,
    finished: Finished,
    check: Check,
) -> Option<Result<bool, VerifyError>> {
    if let Some((checked_user, verdict)) = finished {
        if checked_user == check.user {
            return Some(verdict);
        }
    }

    #[cfg(nginx_threads)]
    {
        let pool = main.thread_pool.get();
        if check.hash.is_slow() && !pool.is_null() {
            let digest = main.flights.digest(&check.flight);
            if check.may_wait {
                if let Some(flight) = main.flights.join(r, &digest) {
                    debug(
                        r,
                        format_args!(
                            "auth_htpasswd: user \"{}\": waiting for the same check",
                            check.user.escape_ascii()
                        ),
                    );
                    let ctx = HtpasswdCtx::of_or_create(r)?;
                    ctx.flight.replace(Some(flight));
                    return None;
                }
            }
            if thread::post(r, pool, check.user, check.hash, check.password, digest) {
                main.flights.start(digest);
                return None;
            }
        }
    }

    #[cfg(not(nginx_threads))]
    let _ = (r, main);

    Some(check.hash.verify(check.password))
}

/// Makes the verified user name available to other modules.
fn set_user(r: &mut ngx_http_request_t, user: &[u8]) -> Option<()> {
    r.headers_in.user = pool_str(r, user)?;
    Some(())
}

/// Answers 401 with `WWW-Authenticate: Basic realm="…", charset="UTF-8"` (RFC 7617).
fn challenge(r: &mut ngx_http_request_t, realm: &[u8]) -> ngx_int_t {
    let mut value = Vec::with_capacity(realm.len() + 32);
    value.extend_from_slice(b"Basic realm=");
    quoted(realm, &mut value);
    value.extend_from_slice(b", charset=\"UTF-8\"");
    request::challenge(r, &value, NGX_HTTP_UNAUTHORIZED)
}
