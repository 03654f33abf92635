//! Unpadded base64url (RFC 4648, section 5), as JWS compact parts are: decoded in one small
//! loop, four characters to three bytes. The bits past the last byte must be zero, as the
//! base64 crate's engines want them.

/// The 6-bit value of each byte of the alphabet; `INVALID` for the others, `=` included.
static VALUE: [u8; 256] = {
    let mut value = [INVALID; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut i = 0;
    while i < 64 {
        value[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    value
};

const INVALID: u8 = 0xff;

/// The length that `text` decodes to.
pub(super) fn decoded_len(text: &[u8]) -> usize {
    text.len() / 4 * 3 + (text.len() % 4).saturating_sub(1)
}

/// Decodes `text` into the start of `out`, which must hold `decoded_len(text)` bytes: the
/// length written, or `None` if `text` is not unpadded base64url.
pub(super) fn decode(text: &[u8], out: &mut [u8]) -> Option<usize> {
    let len = decoded_len(text);
    if text.len() % 4 == 1 || out.len() < len {
        return None;
    }
    let out = &mut out[..len];
    let mut quads = text.chunks_exact(4);
    let mut triples = out.chunks_exact_mut(3);
    // Any invalid character sets the high bit of its value, and so of `bad`.
    let mut bad = 0u8;
    for (quad, triple) in (&mut quads).zip(&mut triples) {
        let [a, b, c, d] = [quad[0], quad[1], quad[2], quad[3]].map(|x| VALUE[x as usize]);
        bad |= a | b | c | d;
        let n = u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d);
        triple.copy_from_slice(&n.to_be_bytes()[1..]);
    }
    let rest = quads.remainder();
    let tail = triples.into_remainder();
    match *rest {
        [] => {}
        [a, b] => {
            let [a, b] = [a, b].map(|x| VALUE[x as usize]);
            bad |= a | b | nonzero(b & 0x0f);
            tail[0] = a << 2 | b >> 4;
        }
        [a, b, c] => {
            let [a, b, c] = [a, b, c].map(|x| VALUE[x as usize]);
            bad |= a | b | c | nonzero(c & 0x03);
            let n = u32::from(a) << 12 | u32::from(b) << 6 | u32::from(c);
            tail.copy_from_slice(&(n >> 2).to_be_bytes()[2..]);
        }
        _ => return None,
    }
    (bad & 0x80 == 0).then_some(len)
}

/// The high bit, when any bit of `bits` (below 0x80) is set.
fn nonzero(bits: u8) -> u8 {
    bits.wrapping_add(0x7f) & 0x80
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    use super::*;

    #[test]
    fn decodes_as_the_base64_crate_does() {
        // Every text of up to 3 characters from a set with the edge cases, then random ones.
        let set = b"AQgw_-9zaZ=+/ .\x00\xff";
        let mut texts: Vec<Vec<u8>> = vec![Vec::new()];
        for len in 1..=3 {
            let mut next = Vec::new();
            for text in texts.iter().filter(|t| t.len() == len - 1) {
                for &c in set {
                    let mut t = text.clone();
                    t.push(c);
                    next.push(t);
                }
            }
            texts.extend(next);
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut random = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for _ in 0..200_000 {
            // The encoding of random bytes, then at times a character changed or one less.
            let bytes: Vec<u8> = (0..random() % 48).map(|_| random() as u8).collect();
            let mut text = URL_SAFE_NO_PAD.encode(&bytes).into_bytes();
            let at = (random() as usize) % text.len().max(1);
            match random() % 4 {
                1 if !text.is_empty() => text[at] = set[(random() as usize) % set.len()],
                2 if !text.is_empty() => text[at] = ALPHABET[(random() as usize) % 64],
                3 => {
                    text.pop();
                }
                _ => {}
            }
            texts.push(text);
        }
        for bytes in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar"] {
            texts.push(URL_SAFE_NO_PAD.encode(bytes).into_bytes());
        }
        for text in texts {
            let mut out = [0u8; 64];
            let ours = decode(&text, &mut out).map(|n| out[..n].to_vec());
            let theirs = URL_SAFE_NO_PAD.decode(&text).ok();
            assert_eq!(ours, theirs, "{:?}", String::from_utf8_lossy(&text));
            if let Some(bytes) = theirs {
                assert_eq!(decoded_len(&text), bytes.len());
            }
        }
    }

    #[test]
    fn a_short_buffer_is_refused() {
        let mut out = [0u8; 2];
        assert_eq!(decode(b"Zm9v", &mut out), None);
        let mut out = [0u8; 3];
        assert_eq!(decode(b"Zm9v", &mut out), Some(3));
        assert_eq!(&out, b"foo");
    }
}
