//! Sessions kept in a store that other parties can read (Redis): the cookie carries a ticket,
//! a random id and a key of the session's own; the store holds, under a name derived from the
//! id, only the session sealed with that key. Without the cookie, the store yields nothing.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::seal::{SealError, Sealer};
use crate::keys::fingerprint;

const ID_LEN: usize = 16;
const KEY_LEN: usize = 32;

/// A session's ticket, as its cookie carries it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Ticket {
    id: [u8; ID_LEN],
    key: [u8; KEY_LEN],
}

impl core::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Ticket(..)")
    }
}

impl Ticket {
    pub fn new() -> Result<Ticket, SealError> {
        let mut bytes = [0u8; ID_LEN + KEY_LEN];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| SealError::Random)?;
        Ok(Ticket::from_bytes(&bytes))
    }

    fn from_bytes(bytes: &[u8; ID_LEN + KEY_LEN]) -> Ticket {
        let mut id = [0; ID_LEN];
        let mut key = [0; KEY_LEN];
        id.copy_from_slice(&bytes[..ID_LEN]);
        key.copy_from_slice(&bytes[ID_LEN..]);
        Ticket { id, key }
    }

    /// The ticket of a cookie's value, if it is one.
    pub fn parse(text: &str) -> Option<Ticket> {
        let mut bytes = [0u8; ID_LEN + KEY_LEN];
        match URL_SAFE_NO_PAD.decode_slice(text, &mut bytes) {
            Ok(n) if n == bytes.len() && text.len() == 64 => Some(Ticket::from_bytes(&bytes)),
            _ => None,
        }
    }

    pub fn text(&self) -> String {
        let mut bytes = [0u8; ID_LEN + KEY_LEN];
        bytes[..ID_LEN].copy_from_slice(&self.id);
        bytes[ID_LEN..].copy_from_slice(&self.key);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// What names the session in the store, and in a node's own memory.
    pub fn name(&self) -> [u8; 32] {
        fingerprint(&[b"stored session", &self.id])
    }

    /// `value` sealed with the session's key.
    pub fn seal(&self, value: &[u8]) -> Result<String, SealError> {
        Sealer::new(&[&self.key])?.seal(b"stored session", value)
    }

    /// What `seal` sealed with this ticket; `None` for anything else.
    pub fn open(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        Sealer::new(&[&self.key])
            .ok()?
            .open(b"stored session", sealed)
    }
}

/// `value` sealed under `secret` (at least 32 bytes), for those who know the secret: a
/// refreshed session under the refresh token it replaces.
pub fn seal_for(secret: &[u8], value: &[u8]) -> Result<String, SealError> {
    Sealer::new(&[&fingerprint(&[b"sealed for", secret])])?.seal(b"shared", value)
}

pub fn open_for(secret: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    Sealer::new(&[&fingerprint(&[b"sealed for", secret])])
        .ok()?
        .open(b"shared", sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_round_trips_and_opens_only_its_own() {
        let ticket = Ticket::new().unwrap();
        let text = ticket.text();
        assert_eq!(text.len(), 64);
        let back = Ticket::parse(&text).unwrap();
        assert_eq!(back.name(), ticket.name());
        let sealed = ticket.seal(b"session").unwrap();
        assert!(!sealed.contains("session"));
        assert_eq!(back.open(sealed.as_bytes()).unwrap(), b"session");
        let other = Ticket::new().unwrap();
        assert_ne!(other.name(), ticket.name());
        assert!(other.open(sealed.as_bytes()).is_none());
        assert!(Ticket::parse(&text[1..]).is_none());
        assert!(Ticket::parse("x").is_none());
    }

    #[test]
    fn sealed_for_a_secret_opens_with_it_only() {
        let sealed = seal_for(b"refresh-token-1", b"new").unwrap();
        assert_eq!(
            open_for(b"refresh-token-1", sealed.as_bytes()).unwrap(),
            b"new"
        );
        assert!(open_for(b"refresh-token-2", sealed.as_bytes()).is_none());
    }
}
