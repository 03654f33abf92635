//! The `Authorization: Basic` credentials of RFC 7617.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use thiserror::Error;
use zeroize::Zeroizing;

const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why an `Authorization` header carries no usable Basic credentials.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum BasicError {
    #[error("authorization scheme is not Basic")]
    OtherScheme,
    #[error("no credentials after the Basic scheme")]
    Empty,
    #[error("credentials are not valid base64")]
    InvalidBase64,
    #[error("credentials have no colon")]
    NoColon,
    #[error("user name is empty")]
    EmptyUser,
    #[error("credentials contain a control character")]
    ControlCharacter,
}

/// A user name and password; the decoded buffer is wiped when dropped.
pub struct Credentials {
    decoded: Zeroizing<Vec<u8>>,
    colon: usize,
}

impl Credentials {
    pub fn user(&self) -> &[u8] {
        &self.decoded[..self.colon]
    }

    pub fn password(&self) -> &[u8] {
        &self.decoded[self.colon + 1..]
    }
}

impl core::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &String::from_utf8_lossy(self.user()))
            .finish_non_exhaustive()
    }
}

/// Parses the value of an `Authorization` header holding Basic credentials.
///
/// Stricter than most servers: the token68 must be the whole rest of the value, and user-id and
/// password must be free of control characters (RFC 7617, section 2).
pub fn parse_authorization(value: &[u8]) -> Result<Credentials, BasicError> {
    const SCHEME: &[u8] = b"basic";

    let scheme_len = value.iter().position(|&c| c == b' ').unwrap_or(value.len());

    if !value[..scheme_len].eq_ignore_ascii_case(SCHEME) {
        return Err(BasicError::OtherScheme);
    }

    let token = value[scheme_len..].trim_ascii();

    if token.is_empty() {
        return Err(BasicError::Empty);
    }

    let decoded = Zeroizing::new(
        BASE64
            .decode(token)
            .map_err(|_| BasicError::InvalidBase64)?,
    );

    if decoded.iter().any(|&c| c < 0x20 || c == 0x7f) {
        return Err(BasicError::ControlCharacter);
    }

    let colon = decoded
        .iter()
        .position(|&c| c == b':')
        .ok_or(BasicError::NoColon)?;

    if colon == 0 {
        return Err(BasicError::EmptyUser);
    }

    Ok(Credentials { decoded, colon })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Result<(String, String), BasicError> {
        parse_authorization(value.as_bytes()).map(|c| {
            (
                String::from_utf8(c.user().to_vec()).unwrap(),
                String::from_utf8(c.password().to_vec()).unwrap(),
            )
        })
    }

    fn ok(user: &str, password: &str) -> Result<(String, String), BasicError> {
        Ok((user.to_owned(), password.to_owned()))
    }

    #[test]
    fn rfc7617_example() {
        assert_eq!(
            parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
            ok("Aladdin", "open sesame")
        );
    }

    #[test]
    fn scheme_is_case_insensitive_and_spaces_are_skipped() {
        assert_eq!(parse("bAsIc   dXNlcjpwYXNz"), ok("user", "pass"));
    }

    #[test]
    fn padding_may_be_omitted() {
        assert_eq!(parse("Basic dXNlcjpwYXNzMQ"), ok("user", "pass1"));
        assert_eq!(parse("Basic dXNlcjpwYXNzMQ=="), ok("user", "pass1"));
    }

    #[test]
    fn password_may_contain_colons_and_be_empty() {
        assert_eq!(parse("Basic dTphOmI6Yw=="), ok("u", "a:b:c"));
        assert_eq!(parse("Basic dTo="), ok("u", ""));
    }

    #[test]
    fn utf8_is_passed_through() {
        // "jürgen:pässwörd"
        assert_eq!(
            parse("Basic asO8cmdlbjpww6Rzc3fDtnJk"),
            ok("jürgen", "pässwörd")
        );
    }

    #[test]
    fn refusals() {
        use BasicError::*;
        assert_eq!(parse("Bearer abc").unwrap_err(), OtherScheme);
        assert_eq!(parse("Basicx dXNlcjpwYXNz").unwrap_err(), OtherScheme);
        assert_eq!(parse("").unwrap_err(), OtherScheme);
        assert_eq!(parse("X").unwrap_err(), OtherScheme);
        assert_eq!(parse("Basic").unwrap_err(), Empty);
        assert_eq!(parse("Basic    ").unwrap_err(), Empty);
        assert_eq!(parse("Basic !!!!").unwrap_err(), InvalidBase64);
        assert_eq!(parse("Basic dXNlcjpwYXNz junk").unwrap_err(), InvalidBase64);
        assert_eq!(parse("Basic dXNlcjpwYXNz=junk").unwrap_err(), InvalidBase64);
        assert_eq!(parse("Basic dXNlcnBhc3M=").unwrap_err(), NoColon);
        assert_eq!(parse("Basic OnBhc3M=").unwrap_err(), EmptyUser);
        // "user:pa\0ss" and "us\ter:pass"
        assert_eq!(
            parse("Basic dXNlcjpwYQBzcw==").unwrap_err(),
            ControlCharacter
        );
        assert_eq!(
            parse("Basic dXMJZXI6cGFzcw==").unwrap_err(),
            ControlCharacter
        );
    }

    #[test]
    fn debug_never_shows_the_password() {
        let c = parse_authorization(b"Basic dXNlcjpzM2NyM3Q=").unwrap();
        let shown = format!("{c:?}");
        assert!(shown.contains("user"));
        assert!(!shown.contains("s3cr3t"));
    }
}
