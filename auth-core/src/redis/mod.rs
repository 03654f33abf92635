//! Redis and Valkey, as the module speaks to them: commands sent as RESP arrays of bulk
//! strings, replies read with `redis-protocol` and bounded in size, and where a server is.

mod address;
mod replies;

pub use address::{Address, AddressError};
pub use redis_protocol::resp2::types::OwnedFrame as Reply;
pub use replies::{Replies, ReplyError};

use redis_protocol::resp2::encode::encode;
use redis_protocol::resp2::types::Resp2Frame;

/// `args` as one command, ready to be written.
pub fn command(args: &[&[u8]]) -> Vec<u8> {
    let frame = Reply::Array(args.iter().map(|a| Reply::BulkString(a.to_vec())).collect());
    let mut out = vec![0; frame.encode_len(false)];
    // The buffer has the frame's length: encoding bulk strings into it cannot fail.
    let n = encode(&mut out, &frame, false).unwrap_or(0);
    out.truncate(n);
    out
}

/// The bytes of a bulk or simple string reply.
pub fn bytes(reply: &Reply) -> Option<&[u8]> {
    match reply {
        Reply::BulkString(b) | Reply::SimpleString(b) => Some(b),
        _ => None,
    }
}

/// The primary's address in a Sentinel's answer to `SENTINEL get-master-addr-by-name`.
pub fn sentinel_primary(reply: &Reply) -> Option<(String, u16)> {
    let Reply::Array(parts) = reply else {
        return None;
    };
    let [host, port] = parts.as_slice() else {
        return None;
    };
    let host = core::str::from_utf8(bytes(host)?).ok()?.to_owned();
    let port = core::str::from_utf8(bytes(port)?).ok()?.parse().ok()?;
    Some((host, port))
}

/// Whether a reply to `ROLE` is a primary's.
pub fn is_primary(reply: &Reply) -> bool {
    matches!(reply, Reply::Array(parts) if parts.first().and_then(bytes) == Some(b"master"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_is_an_array_of_bulk_strings() {
        assert_eq!(
            command(&[b"SET", b"k", b"a b"]),
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na b\r\n"
        );
    }

    #[test]
    fn a_sentinel_names_the_primary() {
        let reply = Reply::Array(vec![
            Reply::BulkString(b"127.0.0.1".to_vec()),
            Reply::BulkString(b"6380".to_vec()),
        ]);
        assert_eq!(sentinel_primary(&reply), Some(("127.0.0.1".into(), 6380)));
        assert_eq!(sentinel_primary(&Reply::Null), None);
        let bad = Reply::Array(vec![
            Reply::BulkString(b"h".to_vec()),
            Reply::BulkString(b"99999".to_vec()),
        ]);
        assert_eq!(sentinel_primary(&bad), None);
    }

    #[test]
    fn role_tells_a_primary() {
        let primary = Reply::Array(vec![
            Reply::BulkString(b"master".to_vec()),
            Reply::Integer(1),
        ]);
        let replica = Reply::Array(vec![Reply::BulkString(b"slave".to_vec())]);
        assert!(is_primary(&primary));
        assert!(!is_primary(&replica));
    }
}
