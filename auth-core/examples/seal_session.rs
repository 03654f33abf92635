//! Prints a session cookie of auth_oidc as a login would set it, for scripts/bench and the
//! tests: the tokens are of the sizes a provider's are, and they expire in a day, or in
//! EXPIRES_IN seconds (negative: expired), an hour or more after they were refreshed.
//!
//! With `--stored N PREFIX`, N sessions kept in an `auth_redis` store instead, one per line:
//! the cookie with its ticket, the key in the store and the value there, separated by tabs.
//!
//!   seal_session KEYFILE PROVIDER COOKIE_NAME [EXPIRES_IN]   prints `COOKIE_NAME=...`
//!   seal_session --stored N PREFIX KEYFILE PROVIDER COOKIE_NAME

use std::{env, fs, process};

use auth_core::oidc::mark::hex;
use auth_core::oidc::ticket::Ticket;
use auth_core::oidc::{cookie, Sealer, Session};

fn main() {
    let mut args: Vec<String> = env::args().skip(1).collect();
    let mut stored = None;
    if args.first().map(String::as_str) == Some("--stored") && args.len() >= 3 {
        let n: usize = args[1].parse().unwrap_or_else(|_| usage());
        stored = Some((n, args[2].clone()));
        args.drain(..3);
    }
    let (key, provider, name, expires_in) = match args.as_slice() {
        [key, provider, name] => (key, provider, name, 86_400),
        [key, provider, name, expires_in] => match expires_in.parse::<i64>() {
            Ok(expires_in) => (key, provider, name, expires_in),
            Err(_) => usage(),
        },
        _ => usage(),
    };
    let secret = fs::read(key).unwrap_or_else(|e| {
        eprintln!("seal_session: {key}: {e}");
        process::exit(1);
    });
    let sealer = Sealer::new(&[&secret]).unwrap_or_else(|e| {
        eprintln!("seal_session: {e}");
        process::exit(1);
    });
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let token = |len: usize| "x".repeat(len);
    let refreshed = now.min(now + expires_in - 3600);
    let session = Session {
        sub: "bench".into(),
        sid: Some(token(36)),
        id_token: format!("{}.{}.{}", token(100), token(600), token(342)),
        access_token: Some(format!("{}.{}.{}", token(100), token(500), token(342))),
        refresh_token: Some(token(43)),
        started: refreshed,
        refreshed,
        tokens_expire: now + expires_in,
        ends: now + 86_400,
        userinfo: None,
    };
    let sealed = session.seal(&sealer, provider).unwrap_or_else(|e| {
        eprintln!("seal_session: {e}");
        process::exit(1);
    });
    if let Some((n, prefix)) = stored {
        for _ in 0..n {
            let ticket = Ticket::new().unwrap_or_else(|e| {
                eprintln!("seal_session: {e}");
                process::exit(1);
            });
            let value = ticket.seal(sealed.as_bytes()).unwrap_or_else(|e| {
                eprintln!("seal_session: {e}");
                process::exit(1);
            });
            let key = format!("{prefix}session:{}", hex(&ticket.name()));
            println!("{name}={}\t{key}\t{value}", ticket.text());
        }
        return;
    }
    let parts = cookie::split(name, &sealed).unwrap_or_default();
    let line: Vec<String> = parts.iter().map(|(n, v)| format!("{n}={v}")).collect();
    println!("{}", line.join("; "));
}

fn usage() -> ! {
    eprintln!("usage: seal_session [--stored N PREFIX] KEYFILE PROVIDER COOKIE_NAME [EXPIRES_IN]");
    process::exit(2);
}
