//! A logged-in user's session, kept in the browser: the tokens and their times, sealed for one
//! provider.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use thiserror::Error;

use super::codec::{Reader, Writer};
use super::seal::{SealError, Sealer};

#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum SessionError {
    /// Not sealed by this nginx for this provider, altered, or cut.
    #[error("session cookie is not valid")]
    Invalid,
    /// Past `session_timeout`.
    #[error("session expired")]
    Expired,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub sub: String,
    /// The provider's session id (`sid`), for logout.
    pub sid: Option<String>,
    pub id_token: String,
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    /// When the user logged in.
    pub started: i64,
    /// When the tokens were had: the login or the last refresh.
    pub refreshed: i64,
    /// When the tokens expire: the access token's `expires_in`, else the id_token's `exp`.
    pub tokens_expire: i64,
    /// When the session ends, whatever the tokens say: the login (or last refresh) plus
    /// `session_timeout`.
    pub ends: i64,
    /// The UserInfo endpoint's claims as compact JSON, with `userinfo on`.
    pub userinfo: Option<String>,
}

impl Session {
    fn context(provider: &str) -> Vec<u8> {
        [b"session\0", provider.as_bytes()].concat()
    }

    pub fn seal(&self, sealer: &Sealer, provider: &str) -> Result<String, SealError> {
        let plain = Writer::new()
            .text(&self.sub)
            .optional(self.sid.as_deref())
            .text(&self.id_token)
            .optional(self.access_token.as_deref())
            .optional(self.refresh_token.as_deref())
            .number(self.started)
            .number(self.refreshed)
            .number(self.tokens_expire)
            .number(self.ends)
            .optional(self.userinfo.as_deref())
            .finish();
        sealer.seal(&Session::context(provider), &plain)
    }

    pub fn open(
        sealer: &Sealer,
        provider: &str,
        sealed: &[u8],
        now: i64,
    ) -> Result<Session, SessionError> {
        let plain = sealer
            .open(&Session::context(provider), sealed)
            .ok_or(SessionError::Invalid)?;
        let mut r = Reader::new(&plain);
        let session = (|| {
            Some(Session {
                sub: r.text()?,
                sid: r.optional()?,
                id_token: r.text()?,
                access_token: r.optional()?,
                refresh_token: r.optional()?,
                started: r.number()?,
                refreshed: r.number()?,
                tokens_expire: r.number()?,
                ends: r.number()?,
                // Absent from the sessions of versions without UserInfo.
                userinfo: if r.end() { None } else { r.optional()? },
            })
        })()
        .filter(|_| r.end())
        .ok_or(SessionError::Invalid)?;
        if now >= session.ends {
            return Err(SessionError::Expired);
        }
        Ok(session)
    }

    /// The ID token's claims, as the provider signed them when the session began.
    pub fn claims(&self) -> Option<serde_json::Map<String, serde_json::Value>> {
        let payload = self.id_token.split('.').nth(1)?;
        let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
        crate::jose::parse_object(&json)
    }

    /// Time to refresh the tokens: there is a refresh token, and they expire within a quarter
    /// of their lifetime, or a minute if that is less.
    pub fn wants_refresh(&self, now: i64) -> bool {
        let lifetime = (self.tokens_expire - self.refreshed).max(0);
        let margin = (lifetime / 4).min(MAX_REFRESH_MARGIN);
        self.refresh_token.is_some() && now + margin >= self.tokens_expire
    }

    /// The tokens have expired.
    pub fn expired(&self, now: i64) -> bool {
        now >= self.tokens_expire
    }
}

/// A new random id for a session kept on the server.
pub fn new_id() -> Result<[u8; 32], SealError> {
    super::seal::random_secret()
}

/// A session id as its cookie carries it.
pub fn id_text(id: &[u8; 32]) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

/// The session id of a cookie's value, if it is one.
pub fn id_from_text(text: &str) -> Option<[u8; 32]> {
    let mut id = [0u8; 32];
    match URL_SAFE_NO_PAD.decode_slice(text, &mut id) {
        Ok(32) if text.len() == 43 => Some(id),
        _ => None,
    }
}

/// Tokens are refreshed at most this many seconds before they expire.
pub const MAX_REFRESH_MARGIN: i64 = 60;

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            sub: "alice".into(),
            sid: Some("sid-1".into()),
            id_token: "h.p.s".into(),
            access_token: None,
            refresh_token: Some("rt".into()),
            started: 0,
            refreshed: 0,
            tokens_expire: 1_000,
            ends: 2_000,
            userinfo: Some(r#"{"sub":"alice"}"#.into()),
        }
    }

    #[test]
    fn opens_for_its_provider_until_it_ends() {
        let sealer = Sealer::random().unwrap();
        let sealed = session().seal(&sealer, "idp").unwrap();
        assert_eq!(
            Session::open(&sealer, "idp", sealed.as_bytes(), 1_999),
            Ok(session())
        );
        assert_eq!(
            Session::open(&sealer, "idp", sealed.as_bytes(), 2_000),
            Err(SessionError::Expired)
        );
        assert_eq!(
            Session::open(&sealer, "other", sealed.as_bytes(), 0),
            Err(SessionError::Invalid)
        );
        assert_eq!(
            Session::open(&Sealer::random().unwrap(), "idp", sealed.as_bytes(), 0),
            Err(SessionError::Invalid)
        );
    }

    #[test]
    fn a_session_sealed_without_userinfo_opens() {
        let sealer = Sealer::random().unwrap();
        let s = session();
        let plain = Writer::new()
            .text(&s.sub)
            .optional(s.sid.as_deref())
            .text(&s.id_token)
            .optional(s.access_token.as_deref())
            .optional(s.refresh_token.as_deref())
            .number(s.started)
            .number(s.refreshed)
            .number(s.tokens_expire)
            .number(s.ends)
            .finish();
        let sealed = sealer.seal(&Session::context("idp"), &plain).unwrap();
        assert_eq!(
            Session::open(&sealer, "idp", sealed.as_bytes(), 0),
            Ok(Session {
                userinfo: None,
                ..session()
            })
        );
    }

    #[test]
    fn ids_round_trip_and_nothing_else_is_one() {
        let id = new_id().unwrap();
        assert_ne!(id, new_id().unwrap());
        let text = id_text(&id);
        assert_eq!(text.len(), 43);
        assert_eq!(id_from_text(&text), Some(id));
        for bad in [
            "",
            "abc",
            &text[1..],
            &format!("{text}A"),
            &text.replace(&text[..1], "+"),
        ] {
            assert_eq!(id_from_text(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_login_state_is_not_a_session() {
        let sealer = Sealer::random().unwrap();
        let login = sealer.seal(b"login\0idp", b"whatever").unwrap();
        assert_eq!(
            Session::open(&sealer, "idp", login.as_bytes(), 0),
            Err(SessionError::Invalid)
        );
    }

    #[test]
    fn claims_come_from_the_id_token() {
        let s = Session {
            id_token: format!(
                "e30.{}.sig",
                URL_SAFE_NO_PAD.encode(r#"{"sub":"alice","n":1}"#)
            ),
            ..session()
        };
        assert_eq!(s.claims().unwrap()["sub"], "alice");
        assert!(session().claims().is_none());
    }

    #[test]
    fn refresh_is_due_near_expiry_with_a_refresh_token() {
        let s = session();
        assert!(!s.wants_refresh(900));
        assert!(s.wants_refresh(940));
        assert!(!s.expired(999) && s.expired(1_000));
        let short = Session {
            refreshed: 992,
            ..session()
        };
        assert!(!short.wants_refresh(993));
        assert!(short.wants_refresh(998));
        let without = Session {
            refresh_token: None,
            ..session()
        };
        assert!(!without.wants_refresh(2_000));
    }
}
