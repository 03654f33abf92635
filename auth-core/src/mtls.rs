//! Certificate-bound access tokens (RFC 8705, 3): the token's `cnf."x5t#S256"` is the
//! SHA-256 of the client certificate the TLS handshake verified.

use aws_lc_rs::digest::{digest, SHA256};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{Map, Value};

/// The base64url SHA-256 of a PEM certificate's DER (`x5t#S256`); `None` if it is not one.
pub fn certificate_thumbprint(pem: &[u8]) -> Option<String> {
    let text = core::str::from_utf8(pem).ok()?;
    let body = text
        .trim()
        .strip_prefix("-----BEGIN CERTIFICATE-----")?
        .trim_end()
        .strip_suffix("-----END CERTIFICATE-----")?;
    let base64: String = body.split_ascii_whitespace().collect();
    let der = STANDARD.decode(base64).ok()?;
    if der.is_empty() {
        return None;
    }
    Some(URL_SAFE_NO_PAD.encode(digest(&SHA256, &der).as_ref()))
}

/// The certificate a token is bound to (`cnf."x5t#S256"`), if it is bound to one; a value
/// that is not a string binds it to no certificate that can be shown.
pub fn bound_certificate(claims: &Map<String, Value>) -> Option<Result<&str, ()>> {
    let x5t = claims.get("cnf")?.as_object()?.get("x5t#S256")?;
    Some(x5t.as_str().ok_or(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_of_a_pem_certificate() {
        // The DER here is not a real certificate: the thumbprint is of the bytes, whatever
        // they hold.
        let pem = b"-----BEGIN CERTIFICATE-----\nAAEC\nAwQF\n-----END CERTIFICATE-----\n";
        let expected = URL_SAFE_NO_PAD.encode(digest(&SHA256, &[0, 1, 2, 3, 4, 5]).as_ref());
        assert_eq!(certificate_thumbprint(pem), Some(expected));
        assert_eq!(certificate_thumbprint(b""), None);
        assert_eq!(
            certificate_thumbprint(b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----"),
            None
        );
    }

    #[test]
    fn bound_certificates() {
        let claims = |json: &[u8]| crate::jose::parse_object(json).unwrap();
        assert_eq!(
            bound_certificate(&claims(br#"{"cnf":{"x5t#S256":"abc"}}"#)),
            Some(Ok("abc"))
        );
        assert_eq!(
            bound_certificate(&claims(br#"{"cnf":{"x5t#S256":[]}}"#)),
            Some(Err(()))
        );
        assert_eq!(
            bound_certificate(&claims(br#"{"cnf":{"jkt":"abc"}}"#)),
            None
        );
    }
}
