//! Replies as they come off a connection: bytes in, whole replies out, in order. A reply
//! larger than the bound, or bytes that are no reply, end the connection.

use redis_protocol::resp2::decode::decode;
use thiserror::Error;

use super::Reply;

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum ReplyError {
    #[error("a reply larger than {0} bytes")]
    TooLarge(usize),
    #[error("a malformed reply: {0}")]
    Malformed(String),
}

pub struct Replies {
    buf: Vec<u8>,
    max: usize,
}

impl Replies {
    /// Replies of at most `max` bytes each.
    pub fn new(max: usize) -> Replies {
        Replies {
            buf: Vec::new(),
            max,
        }
    }

    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next whole reply, if it is in.
    pub fn pop(&mut self) -> Result<Option<Reply>, ReplyError> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        match decode(&self.buf) {
            Ok(Some((reply, used))) => {
                self.buf.drain(..used);
                Ok(Some(reply))
            }
            Ok(None) if self.buf.len() > self.max => Err(ReplyError::TooLarge(self.max)),
            Ok(None) => Ok(None),
            Err(err) => Err(ReplyError::Malformed(err.details().to_owned())),
        }
    }

    /// Whether part of a reply is in.
    pub fn partial(&self) -> bool {
        !self.buf.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_come_whole_and_in_order_whatever_the_reads() {
        let wire = b"+OK\r\n$5\r\nhello\r\n:42\r\n*2\r\n$1\r\na\r\n$-1\r\n-ERR no\r\n";
        let mut replies = Replies::new(1024);
        let mut out = Vec::new();
        for b in wire {
            replies.push(&[*b]);
            while let Some(r) = replies.pop().unwrap() {
                out.push(r);
            }
        }
        assert_eq!(
            out,
            vec![
                Reply::SimpleString(b"OK".to_vec()),
                Reply::BulkString(b"hello".to_vec()),
                Reply::Integer(42),
                Reply::Array(vec![Reply::BulkString(b"a".to_vec()), Reply::Null]),
                Reply::Error("ERR no".into()),
            ]
        );
        assert!(!replies.partial());
    }

    #[test]
    fn an_oversized_reply_is_refused_before_it_is_whole() {
        let mut replies = Replies::new(64);
        replies.push(b"$1000000000\r\n");
        assert_eq!(replies.pop(), Ok(None));
        replies.push(&[b'x'; 100]);
        assert_eq!(replies.pop(), Err(ReplyError::TooLarge(64)));
    }

    #[test]
    fn garbage_is_refused() {
        let mut replies = Replies::new(64);
        replies.push(b"?what\r\n");
        assert!(matches!(replies.pop(), Err(ReplyError::Malformed(_))));
    }
}
