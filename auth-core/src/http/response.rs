//! An HTTP/1.1 response read from a connection the client closes after it: the head through
//! `httparse`, the body framed by `Content-Length`, `chunked` or the end of the connection, and
//! at most `max_body` bytes of it.

use thiserror::Error;

const MAX_HEAD: usize = 16 * 1024;
const MAX_HEADERS: usize = 64;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ResponseError {
    #[error("invalid response header: {0}")]
    Head(&'static str),
    #[error("response header is too large")]
    HeadTooLarge,
    #[error("response body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("invalid chunked body")]
    Chunked,
    #[error("connection closed before the response ended")]
    Truncated,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Names lowercased, in the order received.
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// Seconds of `Cache-Control: max-age`; 0 for `no-cache` or `no-store`.
    pub fn max_age(&self) -> Option<u64> {
        let mut max_age = None;
        for (_, value) in self.headers.iter().filter(|(n, _)| n == "cache-control") {
            for directive in value.split(|&c| c == b',') {
                let directive = directive.trim_ascii();
                let lower = directive.to_ascii_lowercase();
                if lower == b"no-cache" || lower == b"no-store" {
                    return Some(0);
                }
                if let Some(seconds) = lower.strip_prefix(b"max-age=") {
                    let seconds = seconds
                        .strip_prefix(b"\"")
                        .and_then(|s| s.strip_suffix(b"\""))
                        .unwrap_or(seconds);
                    if !seconds.is_empty() && seconds.iter().all(u8::is_ascii_digit) {
                        max_age = Some(
                            core::str::from_utf8(seconds)
                                .ok()
                                .and_then(|s| s.parse().ok())
                                .unwrap_or(u64::MAX),
                        );
                    }
                }
            }
        }
        max_age
    }
}

enum Framing {
    Length(usize),
    Chunked(Chunked),
    UntilClose,
}

#[derive(Default)]
struct Chunked {
    /// Where undecoded input starts.
    pos: usize,
    /// Bytes left of the chunk being read, then its CRLF.
    left: usize,
    in_data: bool,
    done: bool,
}

struct Head {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    /// Bytes of the head in `buf`.
    len: usize,
    framing: Framing,
}

/// Fed with what the connection gives, until it says the response is complete.
pub struct ResponseReader {
    max_body: usize,
    buf: Vec<u8>,
    head: Option<Head>,
    body: Vec<u8>,
}

impl ResponseReader {
    pub fn new(max_body: usize) -> Self {
        ResponseReader {
            max_body,
            buf: Vec::new(),
            head: None,
            body: Vec::new(),
        }
    }

    /// Takes more bytes; `Ok(true)` once the response is complete.
    pub fn push(&mut self, data: &[u8]) -> Result<bool, ResponseError> {
        self.buf.extend_from_slice(data);
        loop {
            if self.head.is_none() && !self.parse_head()? {
                return Ok(false);
            }
            let Some(head) = &self.head else {
                return Ok(false);
            };
            // Interim responses (100 Continue and the like) come before the real one.
            if (100..200).contains(&head.status) && head.status != 101 {
                let len = head.len;
                self.head = None;
                self.buf.drain(..len);
                continue;
            }
            return self.parse_body();
        }
    }

    /// The response, once `push` said it is complete or the connection has ended.
    pub fn finish(self, eof: bool) -> Result<Response, ResponseError> {
        let Some(Head {
            status,
            headers,
            framing,
            ..
        }) = self.head
        else {
            return Err(ResponseError::Truncated);
        };
        let complete = match &framing {
            Framing::Length(n) => self.body.len() == *n,
            Framing::Chunked(c) => c.done,
            Framing::UntilClose => eof,
        };
        if !complete {
            return Err(ResponseError::Truncated);
        }
        Ok(Response {
            status,
            headers,
            body: self.body,
        })
    }

    fn parse_head(&mut self) -> Result<bool, ResponseError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        let len = match response.parse(&self.buf) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => {
                if self.buf.len() > MAX_HEAD {
                    return Err(ResponseError::HeadTooLarge);
                }
                return Ok(false);
            }
            Err(httparse::Error::TooManyHeaders) => return Err(ResponseError::HeadTooLarge),
            Err(_) => return Err(ResponseError::Head("malformed")),
        };
        if len > MAX_HEAD {
            return Err(ResponseError::HeadTooLarge);
        }
        let status = response.code.ok_or(ResponseError::Head("no status"))?;
        let headers = response
            .headers
            .iter()
            .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
            .collect::<Vec<_>>();

        let mut framing = Framing::UntilClose;
        let mut length: Option<usize> = None;
        for (name, value) in &headers {
            match name.as_str() {
                "transfer-encoding" => {
                    let last = value.rsplit(|&c| c == b',').next().unwrap_or_default();
                    if !last.trim_ascii().eq_ignore_ascii_case(b"chunked") {
                        return Err(ResponseError::Head("unsupported transfer encoding"));
                    }
                    framing = Framing::Chunked(Chunked::default());
                }
                "content-length" => {
                    let n = core::str::from_utf8(value.trim_ascii())
                        .ok()
                        .filter(|s| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
                        .and_then(|s| s.parse::<usize>().ok())
                        .ok_or(ResponseError::Head("invalid Content-Length"))?;
                    if length.is_some_and(|l| l != n) {
                        return Err(ResponseError::Head("conflicting Content-Length"));
                    }
                    length = Some(n);
                }
                _ => {}
            }
        }
        if !matches!(framing, Framing::Chunked(_)) {
            if let Some(n) = length {
                if n > self.max_body {
                    return Err(ResponseError::TooLarge(self.max_body));
                }
                framing = Framing::Length(n);
            }
        }
        if status == 204 || status == 304 {
            framing = Framing::Length(0);
        }
        self.head = Some(Head {
            status,
            headers,
            len,
            framing,
        });
        Ok(true)
    }

    fn parse_body(&mut self) -> Result<bool, ResponseError> {
        let max = self.max_body;
        let Some(Head {
            len: head_len,
            framing,
            ..
        }) = &mut self.head
        else {
            return Ok(false);
        };
        let head_len = *head_len;
        match framing {
            Framing::Length(n) => {
                let have = self.buf.len() - head_len;
                let take = have.min(*n - self.body.len());
                self.body
                    .extend_from_slice(&self.buf[head_len..head_len + take]);
                self.buf.truncate(head_len);
                Ok(self.body.len() == *n)
            }
            Framing::UntilClose => {
                self.body.extend_from_slice(&self.buf[head_len..]);
                self.buf.truncate(head_len);
                if self.body.len() > max {
                    return Err(ResponseError::TooLarge(max));
                }
                Ok(false)
            }
            Framing::Chunked(c) => {
                if c.pos < head_len {
                    c.pos = head_len;
                }
                let done = decode_chunks(&self.buf, c, &mut self.body, max)?;
                // Keep only what is not decoded yet.
                self.buf.drain(head_len..c.pos);
                c.pos = head_len;
                Ok(done)
            }
        }
    }
}

fn decode_chunks(
    buf: &[u8],
    c: &mut Chunked,
    body: &mut Vec<u8>,
    max: usize,
) -> Result<bool, ResponseError> {
    while !c.done {
        let rest = &buf[c.pos..];
        if c.in_data {
            if c.left > 0 {
                let take = rest.len().min(c.left);
                body.extend_from_slice(&rest[..take]);
                c.pos += take;
                c.left -= take;
                if c.left > 0 {
                    return Ok(false);
                }
                continue;
            }
            if rest.len() < 2 {
                return Ok(false);
            }
            if &rest[..2] != b"\r\n" {
                return Err(ResponseError::Chunked);
            }
            c.pos += 2;
            c.in_data = false;
            continue;
        }
        let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
            if rest.len() > 1024 {
                return Err(ResponseError::Chunked);
            }
            return Ok(false);
        };
        let line = &rest[..eol];
        let size = line
            .split(|&b| b == b';')
            .next()
            .unwrap_or_default()
            .trim_ascii();
        if size.is_empty() || size.len() > 15 || !size.iter().all(u8::is_ascii_hexdigit) {
            return Err(ResponseError::Chunked);
        }
        let size = usize::from_str_radix(core::str::from_utf8(size).unwrap_or("x"), 16)
            .map_err(|_| ResponseError::Chunked)?;
        if size == 0 {
            // Trailers, then an empty line.
            let after = &rest[eol + 2..];
            let mut at = 0;
            loop {
                let Some(end) = after[at..].windows(2).position(|w| w == b"\r\n") else {
                    if after.len() > MAX_HEAD {
                        return Err(ResponseError::HeadTooLarge);
                    }
                    return Ok(false);
                };
                if end == 0 {
                    c.pos += eol + 2 + at + 2;
                    c.done = true;
                    return Ok(true);
                }
                at += end + 2;
            }
        }
        if body.len().saturating_add(size) > max {
            return Err(ResponseError::TooLarge(max));
        }
        c.pos += eol + 2;
        c.left = size;
        c.in_data = true;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(parts: &[&[u8]], max: usize) -> Result<Response, ResponseError> {
        let mut reader = ResponseReader::new(max);
        for part in parts {
            if reader.push(part)? {
                return reader.finish(false);
            }
        }
        reader.finish(true)
    }

    fn bytewise(all: &[u8], max: usize) -> Result<Response, ResponseError> {
        let parts = all.chunks(1).collect::<Vec<_>>();
        read(&parts, max)
    }

    #[test]
    fn content_length_in_any_split() {
        let all = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nCache-Control: public, max-age=600\r\n\r\nhello";
        for split in 0..all.len() {
            let r = read(&[&all[..split], &all[split..]], 100).unwrap();
            assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]));
            assert_eq!(r.max_age(), Some(600));
        }
    }

    #[test]
    fn chunked_with_extensions_and_trailers() {
        let all = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n";
        let r = bytewise(all, 100).unwrap();
        assert_eq!(r.body, b"hello 0123456789");
        let r = read(&[all], 100).unwrap();
        assert_eq!(r.body, b"hello 0123456789");
    }

    #[test]
    fn until_close_and_interim_responses() {
        let r = read(&[b"HTTP/1.0 200 OK\r\n\r\nab", b"cd"], 100).unwrap();
        assert_eq!(r.body, b"abcd");
        let r = read(
            &[b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"],
            100,
        )
        .unwrap();
        assert_eq!(r.status, 404);
    }

    #[test]
    fn limits_and_malformed_input() {
        assert_eq!(
            read(&[b"HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n"], 100),
            Err(ResponseError::TooLarge(100))
        );
        let big = vec![b'x'; 101];
        assert_eq!(
            read(&[b"HTTP/1.1 200 OK\r\n\r\n", &big], 100),
            Err(ResponseError::TooLarge(100))
        );
        assert_eq!(
            read(
                &[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n"],
                100
            ),
            Err(ResponseError::TooLarge(100))
        );
        assert_eq!(
            read(&[b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"], 100),
            Err(ResponseError::Truncated)
        );
        assert_eq!(
            read(
                &[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello"],
                100
            ),
            Err(ResponseError::Truncated)
        );
        assert_eq!(read(&[b"HTTP/1.1 200"], 100), Err(ResponseError::Truncated));
        for bad in [
            &b"garbage\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        ] {
            assert!(
                matches!(read(&[bad], 100), Err(ResponseError::Head(_))),
                "{}",
                bad.escape_ascii()
            );
        }
        assert_eq!(
            read(
                &[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"],
                100
            ),
            Err(ResponseError::Chunked)
        );
        assert_eq!(
            read(
                &[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n"],
                100
            ),
            Err(ResponseError::Chunked)
        );
        let mut huge = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        huge.resize(MAX_HEAD + 10, b'a');
        assert_eq!(read(&[&huge], 100), Err(ResponseError::HeadTooLarge));
    }

    #[test]
    fn cache_control() {
        let with = |v: &str| Response {
            status: 200,
            headers: vec![("cache-control".into(), v.as_bytes().to_vec())],
            body: vec![],
        };
        assert_eq!(with("max-age=\"60\"").max_age(), Some(60));
        assert_eq!(with("no-cache").max_age(), Some(0));
        assert_eq!(
            with("Max-Age=99999999999999999999999").max_age(),
            Some(u64::MAX)
        );
        assert_eq!(with("max-age=").max_age(), None);
        assert_eq!(with("private").max_age(), None);
    }
}
