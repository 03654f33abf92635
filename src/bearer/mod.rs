//! The resource server's side of a request, for `auth_jwt` and the providers' bearer mode: the
//! token as the request presents it (`Bearer` or `DPoP`), what binds it to its sender (a DPoP
//! key, RFC 9449; a client certificate, RFC 8705), and the challenges of RFC 6750 and 9449. A
//! bound token is refused wherever its binding cannot be checked, so a stolen one is useless.

pub mod introspection;

use auth_core::dpop::{algorithm_names, bound_key, DEFAULT_WINDOW};
use auth_core::jwt::{JwtError, Verified};
use auth_core::mtls::{bound_certificate, certificate_thumbprint};
use ngx::ffi::{ngx_conf_t, ngx_http_complex_value_t, ngx_http_request_t, ngx_int_t, ngx_str_t};
use ngx::ngx_string;

use crate::directive::compile_complex_value;
use crate::dpop::{self, Replays};
use crate::request::{self, complex_value, quoted};
use crate::text::str_bytes;

/// `off`, `on` or `required`: whether DPoP tokens are accepted, and plain Bearer ones too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dpop {
    #[default]
    Off,
    /// `DPoP` tokens with a proof, and `Bearer` tokens that are not bound to a key.
    On,
    /// `DPoP` tokens only.
    Required,
}

impl Dpop {
    /// `off`, `on` or `required`.
    pub fn parse(value: &[u8]) -> Result<Dpop, String> {
        match value {
            b"off" => Ok(Dpop::Off),
            b"on" => Ok(Dpop::On),
            b"required" => Ok(Dpop::Required),
            other => Err(format!(
                "invalid value \"{}\"; it must be \"off\", \"on\" or \"required\"",
                other.escape_ascii()
            )),
        }
    }
}

/// How the request presented its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Bearer,
    Dpop,
}

/// A check of certificate-bound tokens: the variables that tell the client certificate.
pub struct Mtls {
    verify: *mut ngx_http_complex_value_t,
    certificate: *mut ngx_http_complex_value_t,
}

impl Mtls {
    /// The variables of nginx's ssl module that the check reads.
    pub fn compile(cf: &mut ngx_conf_t) -> Result<Mtls, String> {
        let verify: ngx_str_t = ngx_string!("$ssl_client_verify");
        let certificate: ngx_str_t = ngx_string!("$ssl_client_raw_cert");
        Ok(Mtls {
            verify: compile_complex_value(cf, verify, false).ok_or("needs nginx's ssl module")?,
            certificate: compile_complex_value(cf, certificate, false)
                .ok_or("needs nginx's ssl module")?,
        })
    }
}

/// What binds tokens to their senders where a request is checked.
pub struct Binding<'a> {
    pub dpop: Dpop,
    /// Seconds a proof's `iat` may be off.
    pub window: u64,
    /// The proofs seen, when DPoP is accepted.
    pub replays: Option<Replays>,
    pub mtls: Option<&'a Mtls>,
}

impl Binding<'_> {
    pub const DEFAULT_WINDOW: u64 = DEFAULT_WINDOW;
}

/// The token of `Authorization: Bearer <token>`, or of `Authorization: DPoP <token>` where
/// DPoP is accepted (schemes without case); an empty string for anything else.
pub fn presented(r: &ngx_http_request_t, dpop: Dpop) -> (ngx_str_t, Scheme) {
    let header = r.headers_in.authorization;
    let none = (ngx_str_t::default(), Scheme::Bearer);
    if header.is_null() {
        return none;
    }
    // SAFETY: a non-null header points to an element of the request's header list.
    let value = str_bytes(unsafe { &(*header).value });
    let Some(space) = value.iter().position(|&c| c == b' ') else {
        return none;
    };
    let scheme = match &value[..space] {
        s if s.eq_ignore_ascii_case(b"bearer") => Scheme::Bearer,
        s if s.eq_ignore_ascii_case(b"dpop") && dpop != Dpop::Off => Scheme::Dpop,
        _ => return none,
    };
    let token = value[space..].trim_ascii();
    let token = ngx_str_t {
        len: token.len(),
        data: token.as_ptr().cast_mut(),
    };
    (token, scheme)
}

/// Checks what binds the token to its sender, as it was presented.
pub fn check(
    r: &mut ngx_http_request_t,
    binding: &Binding,
    verified: &Verified,
    scheme: Scheme,
    token: &[u8],
    now: i64,
) -> Result<(), JwtError> {
    // A token without `cnf` is bound to nothing: its claims need not be read.
    if !verified.confirmed {
        return match scheme {
            Scheme::Dpop => Err(JwtError::Binding("a DPoP token that is not bound to a key")),
            Scheme::Bearer if binding.dpop == Dpop::Required => {
                Err(JwtError::Binding("a Bearer token where DPoP is required"))
            }
            Scheme::Bearer => Ok(()),
        };
    }
    let claims = verified.claims();
    match (scheme, bound_key(claims)) {
        (Scheme::Dpop, Some(Ok(jkt))) => {
            dpop::check(r, token, jkt, binding.window, binding.replays, now)
                .map_err(JwtError::Proof)?;
        }
        (_, Some(Err(()))) => return Err(JwtError::Binding("cnf.jkt is not a string")),
        (Scheme::Dpop, None) => {
            return Err(JwtError::Binding("a DPoP token that is not bound to a key"))
        }
        (Scheme::Bearer, Some(Ok(_))) => {
            return Err(JwtError::Binding(
                "a token bound to a DPoP key sent as Bearer",
            ))
        }
        (Scheme::Bearer, None) if binding.dpop == Dpop::Required => {
            return Err(JwtError::Binding("a Bearer token where DPoP is required"))
        }
        (Scheme::Bearer, None) => {}
    }

    let Some(mtls) = binding.mtls else {
        return Ok(());
    };
    let Some(bound) = bound_certificate(claims) else {
        return Ok(());
    };
    let bound = bound.map_err(|()| JwtError::Binding("cnf.x5t#S256 is not a string"))?;
    let verified_certificate = complex_value(r, mtls.verify)
        .filter(|v| str_bytes(v) == b"SUCCESS")
        .and_then(|_| complex_value(r, mtls.certificate))
        .and_then(|pem| certificate_thumbprint(str_bytes(&pem)));
    match verified_certificate {
        None => Err(JwtError::Binding(
            "a token bound to a certificate, without a verified client certificate",
        )),
        Some(thumbprint) if thumbprint != bound => Err(JwtError::Binding(
            "a token bound to another client certificate",
        )),
        Some(_) => Ok(()),
    }
}

/// One refusal's challenges.
pub struct Challenge<'a> {
    pub realm: &'a [u8],
    /// The scheme the request used; the `error` goes on its challenge.
    pub scheme: Scheme,
    pub error: Option<&'a str>,
    /// The scopes the resource requires (scope-tokens, checked).
    pub scope: &'a [String],
    /// The resource's metadata URL (RFC 9728, 5.1), checked.
    pub resource_metadata: Option<&'a str>,
    pub dpop: Dpop,
}

/// Answers `status` with one `WWW-Authenticate` per scheme accepted, Bearer first (RFC 6750, 3;
/// RFC 9449, 7.1): `realm`, the `error` on the challenge of the scheme the token came with,
/// `scope`, `resource_metadata`; the DPoP challenge names the algorithms proofs may use.
pub fn challenge(r: &mut ngx_http_request_t, c: &Challenge, status: u32) -> ngx_int_t {
    let bearer = c.dpop != Dpop::Required;
    let error_on_bearer = bearer && c.scheme == Scheme::Bearer;
    let mut values = Vec::with_capacity(2);
    if bearer {
        let error = c.error.filter(|_| error_on_bearer);
        values.push(one(b"Bearer", c, error, None));
    }
    if c.dpop != Dpop::Off {
        let error = c.error.filter(|_| !error_on_bearer);
        values.push(one(b"DPoP", c, error, Some(&algorithm_names())));
    }
    request::challenges(r, &values, status)
}

fn one(scheme: &[u8], c: &Challenge, error: Option<&str>, algs: Option<&str>) -> Vec<u8> {
    let mut value = Vec::with_capacity(c.realm.len() + 64);
    value.extend_from_slice(scheme);
    value.extend_from_slice(b" realm=");
    quoted(c.realm, &mut value);
    if let Some(error) = error {
        value.extend_from_slice(b", error=\"");
        value.extend_from_slice(error.as_bytes());
        value.push(b'"');
    }
    if !c.scope.is_empty() {
        value.extend_from_slice(b", scope=\"");
        value.extend_from_slice(c.scope.join(" ").as_bytes());
        value.push(b'"');
    }
    if let Some(url) = c.resource_metadata {
        value.extend_from_slice(b", resource_metadata=");
        quoted(url.as_bytes(), &mut value);
    }
    if let Some(algs) = algs {
        value.extend_from_slice(b", algs=\"");
        value.extend_from_slice(algs.as_bytes());
        value.push(b'"');
    }
    value
}

/// The `error` of a refusal's challenge: `invalid_dpop_proof` for a proof, else
/// `invalid_token`; none for a request without a token.
pub fn error_of(err: &JwtError) -> Option<&'static str> {
    match err {
        JwtError::Missing => None,
        JwtError::Proof(_) => Some("invalid_dpop_proof"),
        _ => Some("invalid_token"),
    }
}
