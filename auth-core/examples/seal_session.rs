//! Prints a session cookie of auth_oidc as a login would set it, for scripts/bench: the tokens
//! are of the sizes a provider's are, and they expire in a day.
//!
//!   seal_session KEYFILE PROVIDER COOKIE_NAME   prints `COOKIE_NAME=...`

use std::{env, fs, process};

use auth_core::oidc::{cookie, Sealer, Session};

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    let [key, provider, name] = args.as_slice() else {
        eprintln!("usage: seal_session KEYFILE PROVIDER COOKIE_NAME");
        process::exit(2);
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
    let session = Session {
        sub: "bench".into(),
        sid: Some(token(36)),
        id_token: format!("{}.{}.{}", token(100), token(600), token(342)),
        access_token: Some(format!("{}.{}.{}", token(100), token(500), token(342))),
        refresh_token: Some(token(43)),
        started: now,
        refreshed: now,
        tokens_expire: now + 86_400,
        ends: now + 86_400,
        userinfo: None,
    };
    let sealed = session.seal(&sealer, provider).unwrap_or_else(|e| {
        eprintln!("seal_session: {e}");
        process::exit(1);
    });
    let parts = cookie::split(name, &sealed).unwrap_or_default();
    let line: Vec<String> = parts.iter().map(|(n, v)| format!("{n}={v}")).collect();
    println!("{}", line.join("; "));
}
