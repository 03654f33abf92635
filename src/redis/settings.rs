//! The directives of an `auth_redis` block.

use core::time::Duration;

use auth_core::redis::Address;
use ngx::ffi::ngx_conf_t;
use zeroize::Zeroizing;

use crate::directive::{args, flag, parse_msec, readable_path};
use crate::text::{str_bytes, text};

pub struct Settings {
    /// Where the block is.
    pub at: String,
    pub server: Option<Address>,
    pub sentinels: Vec<Address>,
    pub sentinel_master: Option<String>,
    pub username: Option<String>,
    pub password: Option<Zeroizing<Vec<u8>>>,
    pub database: u32,
    pub tls: bool,
    pub trusted: Option<Vec<u8>>,
    /// Bounds a connection's making and each command.
    pub timeout: Duration,
    pub prefix: Vec<u8>,
}

impl Settings {
    pub fn new(at: String) -> Settings {
        Settings {
            at,
            server: None,
            sentinels: Vec::new(),
            sentinel_master: None,
            username: None,
            password: None,
            database: 0,
            tls: false,
            trusted: None,
            timeout: Duration::from_secs(1),
            prefix: b"ngx-auth:".to_vec(),
        }
    }

    pub fn directive(&mut self, cf: &mut ngx_conf_t) -> Result<(), String> {
        let all = args(cf);
        let name = str_bytes(&all[0]);
        let values = &all[1..];
        let one = || match values {
            [value] => Ok(value),
            _ => Err("takes one argument".to_owned()),
        };
        let once = |set: bool| {
            if set {
                Err("is duplicate".to_owned())
            } else {
                Ok(())
            }
        };
        match name {
            b"server" => {
                once(self.server.is_some())?;
                let value = text(one()?)?;
                self.server = Some(Address::parse(value).map_err(|e| e.to_string())?);
            }
            b"sentinel" => {
                once(!self.sentinels.is_empty())?;
                if values.is_empty() {
                    return Err("takes at least one address".into());
                }
                for value in values {
                    let address = Address::parse(text(value)?).map_err(|e| e.to_string())?;
                    self.sentinels.push(address);
                }
            }
            b"sentinel_master" => {
                once(self.sentinel_master.is_some())?;
                let value = text(one()?)?;
                if value.is_empty() || value.bytes().any(|b| b.is_ascii_whitespace()) {
                    return Err(format!("invalid name \"{}\"", value.escape_default()));
                }
                self.sentinel_master = Some(value.to_owned());
            }
            b"username" => {
                once(self.username.is_some())?;
                let value = text(one()?)?;
                if value.is_empty() {
                    return Err("invalid user name".into());
                }
                self.username = Some(value.to_owned());
            }
            b"password_file" => {
                once(self.password.is_some())?;
                let path = readable_path(cf, one()?)?;
                let os = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&path);
                let mut secret = Zeroizing::new(
                    std::fs::read(os)
                        .map_err(|e| format!("cannot read \"{}\": {e}", path.escape_ascii()))?,
                );
                while secret.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    secret.pop();
                }
                if secret.is_empty() || secret.contains(&b'\n') {
                    return Err(format!(
                        "\"{}\" must hold one line, the password",
                        path.escape_ascii()
                    ));
                }
                self.password = Some(secret);
            }
            b"database" => {
                let value = text(one()?)?;
                self.database = value
                    .parse()
                    .ok()
                    .filter(|d| *d < 1 << 16)
                    .ok_or_else(|| format!("invalid number \"{}\"", value.escape_default()))?;
            }
            b"tls" => self.tls = flag(str_bytes(one()?))?,
            b"ssl_trusted_certificate" => {
                once(self.trusted.is_some())?;
                self.trusted = Some(readable_path(cf, one()?)?);
            }
            b"timeout" => {
                let value = str_bytes(one()?);
                let ms = parse_msec(value)
                    .filter(|ms| *ms > 0)
                    .ok_or_else(|| format!("invalid value \"{}\"", value.escape_ascii()))?;
                self.timeout = Duration::from_millis(ms);
            }
            b"prefix" => {
                let value = str_bytes(one()?);
                if value
                    .iter()
                    .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
                {
                    return Err(format!("invalid prefix \"{}\"", value.escape_ascii()));
                }
                self.prefix = value.to_vec();
            }
            _ => return Err("unknown directive in auth_redis".into()),
        }
        Ok(())
    }

    /// What the block as a whole must be.
    pub fn check(&self) -> Result<(), String> {
        match (&self.server, self.sentinels.is_empty()) {
            (None, true) => return Err("has neither \"server\" nor \"sentinel\"".into()),
            (Some(_), false) => return Err("has both \"server\" and \"sentinel\"".into()),
            _ => {}
        }
        if !self.sentinels.is_empty() && self.sentinel_master.is_none() {
            return Err("has \"sentinel\" without \"sentinel_master\"".into());
        }
        if self.sentinels.is_empty() && self.sentinel_master.is_some() {
            return Err("has \"sentinel_master\" without \"sentinel\"".into());
        }
        if self.username.is_some() && self.password.is_none() {
            return Err("has \"username\" without \"password_file\"".into());
        }
        if self.trusted.is_some() && !self.tls {
            return Err("has \"ssl_trusted_certificate\" with \"tls off\"".into());
        }
        let unix = |a: &Address| matches!(a, Address::Unix(_));
        if self.tls && (self.server.as_ref().is_some_and(unix) || self.sentinels.iter().any(unix)) {
            return Err("has \"tls on\" with a unix: socket".into());
        }
        Ok(())
    }
}
