//! Why is my token refused? Checks a JWT as auth_jwt would, without nginx.
//!
//!   jwt-check --key FILE[:jwks|pem|hmac] [--key ...] [--alg ALG ...] [--issuer S ...]
//!             [--audience S ...] [--leeway SECONDS] [--no-require-exp] [--now UNIX] [TOKEN|-]
//!
//! Prints `valid` with the verified header and claims, or `invalid: <reason>` with the same
//! reason words as `$jwt_error`. Exit status: 0 valid, 1 invalid, 2 usage or key file error.

use std::io::Read;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};
use std::{env, fs};

use auth_core::jwt::{verify, Alg, Policy};
use auth_core::keys::{self, KeyFormat};

const USAGE: &str = "usage: jwt-check --key FILE[:jwks|pem|hmac] [--key ...] [--alg ALG ...] \
[--issuer S ...] [--audience S ...] [--leeway SECONDS] [--no-require-exp] [--now UNIX] [TOKEN|-]";

fn fail(message: &str) -> ExitCode {
    eprintln!("jwt-check: {message}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut keys = Vec::new();
    let mut algorithms = Vec::new();
    let mut policy = Policy {
        require_exp: true,
        ..Policy::default()
    };
    let mut now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut token = None;

    let mut args = env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        let result: Result<(), String> = (|| {
            match arg.as_str() {
                "--key" => {
                    let spec = value("--key")?;
                    let (path, format) = match spec.rsplit_once(':') {
                        Some((path, f)) if f.parse::<KeyFormat>().is_ok() => {
                            (path.to_owned(), f.parse::<KeyFormat>().ok())
                        }
                        _ => (spec.clone(), None),
                    };
                    let data = fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
                    let loaded = keys::load(&data, format).map_err(|e| format!("{path}: {e}"))?;
                    for skipped in &loaded.skipped {
                        eprintln!("jwt-check: {path}: {skipped}, skipped");
                    }
                    keys.extend(loaded.keys);
                }
                "--alg" => {
                    let name = value("--alg")?;
                    algorithms.push(
                        name.parse::<Alg>()
                            .map_err(|_| format!("unsupported algorithm \"{name}\""))?,
                    );
                }
                "--issuer" => policy.issuers.push(value("--issuer")?),
                "--audience" => policy.audiences.push(value("--audience")?),
                "--leeway" => {
                    policy.leeway = value("--leeway")?
                        .parse()
                        .map_err(|_| "--leeway takes seconds".to_owned())?;
                }
                "--no-require-exp" => policy.require_exp = false,
                "--now" => {
                    now = value("--now")?
                        .parse()
                        .map_err(|_| "--now takes a Unix time".to_owned())?;
                }
                "-h" | "--help" => return Err(USAGE.to_owned()),
                _ if token.is_none() && !arg.starts_with("--") => token = Some(arg.clone()),
                _ => return Err(format!("unexpected \"{arg}\"\n{USAGE}")),
            }
            Ok(())
        })();
        if let Err(message) = result {
            return fail(&message);
        }
    }

    if keys.is_empty() {
        return fail(&format!("no --key\n{USAGE}"));
    }
    policy.algorithms = if algorithms.is_empty() {
        keys::implied_algorithms(&keys)
    } else {
        algorithms
    };

    let token = match token.as_deref() {
        None | Some("-") => {
            let mut text = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut text) {
                return fail(&format!("stdin: {e}"));
            }
            text
        }
        Some(token) => token.to_owned(),
    };

    match verify(token.trim().as_bytes(), &keys, &policy, now) {
        Ok(verified) => {
            println!("valid");
            if let Some(alg) = verified.alg {
                println!("alg: {alg}");
            }
            println!(
                "header: {}",
                serde_json::Value::Object(verified.header().clone())
            );
            println!(
                "claims: {}",
                serde_json::Value::Object(verified.claims().clone())
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            println!("invalid: {} ({err})", err.code());
            ExitCode::from(1)
        }
    }
}
