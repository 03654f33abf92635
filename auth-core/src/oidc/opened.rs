//! Sessions opened recently, by their sealed value: the next request of the same session is
//! admitted without decoding and decrypting its cookie again. Entries are found by the end of
//! the value, which is its AES-GCM tag, then compared whole, so nothing but that very value
//! finds one; `ends` is checked on each use.

use core::num::NonZeroUsize;
use std::rc::Rc;

use lru::LruCache;

use super::seal::Sealer;
use super::session::{Session, SessionError};
use super::ticket::Ticket;

/// Bytes at the end of a sealed value that key its entry: the tag, in base64url.
const KEY: usize = 24;

type Key = [u8; KEY];

fn key(sealed: &[u8]) -> Key {
    let mut key = [0u8; KEY];
    let tail = &sealed[sealed.len().saturating_sub(KEY)..];
    key[..tail.len()].copy_from_slice(tail);
    key
}

pub struct Opened {
    entries: LruCache<Key, (Box<[u8]>, Rc<Session>)>,
}

impl Opened {
    pub fn new(max: NonZeroUsize) -> Self {
        Opened {
            entries: LruCache::new(max),
        }
    }

    /// `Session::open`, from the cache when `sealed` was opened before.
    pub fn open(
        &mut self,
        sealer: &Sealer,
        provider: &str,
        sealed: &[u8],
        now: i64,
    ) -> Result<Rc<Session>, SessionError> {
        let key = key(sealed);
        if let Some((value, session)) = self.entries.get(&key) {
            if **value == *sealed {
                if now >= session.ends {
                    return Err(SessionError::Expired);
                }
                return Ok(session.clone());
            }
        }
        let session = Rc::new(Session::open(sealer, provider, sealed, now)?);
        self.entries.put(key, (sealed.into(), session.clone()));
        Ok(session)
    }
}

/// Stored sessions opened recently, by their ticket: the next request of the same session is
/// admitted without reading the node's copy or the store; `ends` is checked on each use.
pub struct OpenedTickets {
    entries: LruCache<Ticket, Rc<Session>>,
}

impl OpenedTickets {
    pub fn new(max: NonZeroUsize) -> Self {
        OpenedTickets {
            entries: LruCache::new(max),
        }
    }

    pub fn get(&mut self, ticket: &Ticket, now: i64) -> Option<Rc<Session>> {
        let session = self.entries.get(ticket)?.clone();
        if now >= session.ends {
            self.entries.pop(ticket);
            return None;
        }
        Some(session)
    }

    pub fn put(&mut self, ticket: &Ticket, session: Rc<Session>) {
        self.entries.put(ticket.clone(), session);
    }

    pub fn remove(&mut self, ticket: &Ticket) {
        self.entries.pop(ticket);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            sub: "alice".into(),
            sid: None,
            id_token: "h.p.s".into(),
            access_token: None,
            refresh_token: None,
            started: 0,
            refreshed: 0,
            tokens_expire: 1_000,
            ends: 2_000,
            userinfo: None,
        }
    }

    #[test]
    fn the_same_value_opens_from_the_cache_until_the_session_ends() {
        let sealer = Sealer::random().unwrap();
        let sealed = session().seal(&sealer, "idp").unwrap();
        let mut opened = Opened::new(NonZeroUsize::new(2).unwrap());
        let first = opened.open(&sealer, "idp", sealed.as_bytes(), 10).unwrap();
        let again = opened.open(&sealer, "idp", sealed.as_bytes(), 11).unwrap();
        assert!(Rc::ptr_eq(&first, &again));
        assert_eq!(
            opened.open(&sealer, "idp", sealed.as_bytes(), 2_000),
            Err(SessionError::Expired)
        );
    }

    #[test]
    fn another_value_with_the_same_end_is_opened_for_itself() {
        let sealer = Sealer::random().unwrap();
        let sealed = session().seal(&sealer, "idp").unwrap();
        let mut opened = Opened::new(NonZeroUsize::new(2).unwrap());
        opened.open(&sealer, "idp", sealed.as_bytes(), 10).unwrap();
        let mut forged = sealed.clone().into_bytes();
        forged[0] = if forged[0] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            opened.open(&sealer, "idp", &forged, 10),
            Err(SessionError::Invalid)
        );
        assert!(opened.open(&sealer, "idp", sealed.as_bytes(), 10).is_ok());
    }

    #[test]
    fn what_does_not_open_is_not_kept() {
        let sealer = Sealer::random().unwrap();
        let sealed = session().seal(&sealer, "idp").unwrap();
        let mut opened = Opened::new(NonZeroUsize::new(2).unwrap());
        let mut altered = sealed.clone().into_bytes();
        altered[20] ^= 1;
        for _ in 0..2 {
            assert_eq!(
                opened.open(&sealer, "idp", &altered, 10),
                Err(SessionError::Invalid)
            );
        }
        assert_eq!(opened.entries.len(), 0);
    }

    #[test]
    fn a_ticket_finds_its_session_until_it_ends_or_is_removed() {
        let mut opened = OpenedTickets::new(NonZeroUsize::new(2).unwrap());
        let ticket = Ticket::new().unwrap();
        let other = Ticket::new().unwrap();
        let s = Rc::new(session());
        opened.put(&ticket, s.clone());
        assert!(Rc::ptr_eq(&opened.get(&ticket, s.ends - 1).unwrap(), &s));
        assert!(opened.get(&other, s.ends - 1).is_none());
        assert!(opened.get(&ticket, s.ends).is_none());
        assert!(
            opened.get(&ticket, s.ends - 1).is_none(),
            "an ended session is dropped"
        );
        opened.put(&ticket, s.clone());
        opened.remove(&ticket);
        assert!(opened.get(&ticket, s.ends - 1).is_none());
    }
}
