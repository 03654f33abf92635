//! The byte layout of sealed values: fields one after the other, each a length and its bytes.

pub struct Writer(Vec<u8>);

impl Writer {
    pub fn new() -> Writer {
        Writer(Vec::with_capacity(1024))
    }

    pub fn bytes(&mut self, value: &[u8]) -> &mut Self {
        self.0
            .extend_from_slice(&(value.len() as u32).to_le_bytes());
        self.0.extend_from_slice(value);
        self
    }

    pub fn text(&mut self, value: &str) -> &mut Self {
        self.bytes(value.as_bytes())
    }

    /// `None` is written as a length that no field has.
    pub fn optional(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(value) => self.text(value),
            None => {
                self.0.extend_from_slice(&u32::MAX.to_le_bytes());
                self
            }
        }
    }

    pub fn number(&mut self, value: i64) -> &mut Self {
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub fn finish(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.0)
    }
}

pub struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader(data)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn length(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    pub fn text(&mut self) -> Option<String> {
        let n = self.length()?;
        String::from_utf8(self.take(n as usize)?.to_vec()).ok()
    }

    pub fn optional(&mut self) -> Option<Option<String>> {
        let n = self.length()?;
        if n == u32::MAX {
            return Some(None);
        }
        Some(Some(
            String::from_utf8(self.take(n as usize)?.to_vec()).ok()?,
        ))
    }

    pub fn number(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    /// Everything was read.
    pub fn end(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_short_or_long_input() {
        let data = Writer::new()
            .text("a")
            .optional(None)
            .optional(Some(""))
            .number(-5)
            .finish();
        let mut r = Reader::new(&data);
        assert_eq!(r.text().as_deref(), Some("a"));
        assert_eq!(r.optional(), Some(None));
        assert_eq!(r.optional(), Some(Some(String::new())));
        assert_eq!(r.number(), Some(-5));
        assert!(r.end());
        assert_eq!(Reader::new(&data[..3]).text(), None);
        assert_eq!(Reader::new(&[9, 0, 0, 0, b'x']).text(), None);
    }
}
