//! The signature check of one token and nothing else, with the key `verify` picks for it: what
//! the crypto costs where the module runs it, without the rest of the pipeline. For
//! benchmarks: the test hook `auth_rs_test_signature_check` that scripts/bench measures next
//! to `auth_jwt`.

use serde_json::Value;

use super::{base64url, candidates, parse_object, Alg, JwtError};
use crate::keys::Key;

pub struct SignatureOnly {
    key: Key,
    alg: Alg,
    message: Vec<u8>,
    signature: Vec<u8>,
}

impl SignatureOnly {
    /// Splits and decodes `token` once and finds its key among `keys`, whose check must pass.
    pub fn new(token: &[u8], keys: &[Key]) -> Result<Self, JwtError> {
        let token = token.trim_ascii();
        let Some(last) = token.iter().rposition(|&c| c == b'.') else {
            return Err(JwtError::Malformed("not three dot-separated parts"));
        };
        let (message, signature) = (&token[..last], &token[last + 1..]);
        let Some(first) = message.iter().position(|&c| c == b'.') else {
            return Err(JwtError::Malformed("not three dot-separated parts"));
        };
        let header =
            decode(&message[..first]).ok_or(JwtError::Malformed("header is not base64url"))?;
        let header =
            parse_object(&header).ok_or(JwtError::Malformed("header is not a JSON object"))?;
        let alg: Alg = header
            .get("alg")
            .and_then(Value::as_str)
            .and_then(|alg| alg.parse().ok())
            .ok_or(JwtError::Malformed("header has no alg"))?;
        let kid = header.get("kid").and_then(Value::as_str);
        let signature =
            decode(signature).ok_or(JwtError::Malformed("signature is not base64url"))?;

        let key = candidates(keys, alg, kid)
            .find(|k| k.verify(alg, message, &signature))
            .ok_or(JwtError::BadSignature)?;
        Ok(Self {
            key: key.clone(),
            alg,
            message: message.to_vec(),
            signature,
        })
    }

    /// The check, as `verify` makes it.
    pub fn check(&self) -> bool {
        self.key.verify(self.alg, &self.message, &self.signature)
    }
}

fn decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![0; base64url::decoded_len(text)];
    base64url::decode(text, &mut out)?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::load;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../t/fixtures/jwt/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn checks_the_token_with_its_key_and_refuses_a_forged_one() {
        let keys = load(&fixture("jwks.json"), None).unwrap().keys;
        for name in [
            "hs256.jwt",
            "rs256.jwt",
            "ps256.jwt",
            "es256.jwt",
            "eddsa.jwt",
        ] {
            let token = fixture(name);
            assert!(SignatureOnly::new(&token, &keys).unwrap().check(), "{name}");

            let mut forged = token.trim_ascii().to_vec();
            let last = forged.len() - 2;
            forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
            assert_eq!(
                SignatureOnly::new(&forged, &keys).err(),
                Some(JwtError::BadSignature),
                "{name}"
            );
        }
    }

    #[test]
    fn refuses_what_is_not_a_token() {
        let keys = load(&fixture("jwks.json"), None).unwrap().keys;
        for token in [&b""[..], b"abc", b"a.b", b"!!.e30.AAAA", b"e30.e30.AAAA"] {
            assert!(matches!(
                SignatureOnly::new(token, &keys),
                Err(JwtError::Malformed(_))
            ));
        }
    }
}
