//! JWK Sets (RFC 7517): `use`, `key_ops` and `alg` decide which keys verify what.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use super::{bit_length, ec_family, Key, KeyError, Loaded, Material, Skipped, MIN_RSA_BITS};
use crate::jose::{parse_object, Alg, Family};

/// The usable keys of a set; a key that cannot be used is skipped with its reason (RFC 7517,
/// section 5), and the set is refused only when no key is left.
pub fn load(data: &[u8]) -> Result<Loaded, KeyError> {
    let set =
        parse_object(data).ok_or(KeyError::NotJwks("invalid JSON or duplicate member names"))?;
    let Some(Value::Array(entries)) = set.get("keys") else {
        return Err(KeyError::NotJwks("no \"keys\" array"));
    };

    let mut loaded = Loaded::default();
    for (index, entry) in entries.iter().enumerate() {
        let skip = |kid: Option<&Value>, reason: String| Skipped {
            index,
            kid: kid.and_then(Value::as_str).map(str::to_owned),
            reason,
        };
        let Value::Object(jwk) = entry else {
            loaded.skipped.push(skip(None, "not a JSON object".into()));
            continue;
        };
        match parse_jwk(jwk) {
            Ok(Some(key)) => loaded.keys.push(key),
            Ok(None) => {}
            Err(reason) => loaded.skipped.push(skip(jwk.get("kid"), reason)),
        }
    }

    if loaded.keys.is_empty() {
        return Err(KeyError::NoUsableKey(loaded.skipped));
    }
    Ok(loaded)
}

fn string<'a>(jwk: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, String> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("\"{name}\" is not a string")),
    }
}

fn bytes(jwk: &Map<String, Value>, name: &str) -> Result<Vec<u8>, String> {
    let value = string(jwk, name)?.ok_or_else(|| format!("no \"{name}\""))?;
    URL_SAFE_NO_PAD
        .decode(value)
        .map_err(|_| format!("\"{name}\" is not base64url"))
}

/// Members that only a private or secret key has (RFC 7518, 6.2.2, 6.3.2, 6.4; RFC 8037, 2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// A public key given inline, as a DPoP proof's `jwk` header carries it (RFC 9449, 4.2): an
/// EC, RSA or Ed25519 key with no private member, fit for signatures.
pub fn public_jwk(jwk: &Map<String, Value>) -> Result<Key, String> {
    if let Some(member) = PRIVATE_MEMBERS.iter().find(|m| jwk.contains_key(**m)) {
        return Err(format!("the key has the private member \"{member}\""));
    }
    match parse_jwk(jwk)? {
        Some(key) if key.family != Family::Hmac => Ok(key),
        _ => Err("not a public signature key this module verifies with".into()),
    }
}

/// A key for signature verification, `None` for a key meant for something else.
fn parse_jwk(jwk: &Map<String, Value>) -> Result<Option<Key>, String> {
    if string(jwk, "use")?.is_some_and(|u| u != "sig") {
        return Ok(None);
    }

    match jwk.get("key_ops") {
        None => {}
        Some(Value::Array(ops)) if ops.iter().any(|op| op.as_str() == Some("verify")) => {}
        Some(Value::Array(_)) => return Ok(None),
        Some(_) => return Err("\"key_ops\" is not an array".into()),
    }

    let alg = match string(jwk, "alg")? {
        None => None,
        Some(name) => match name.parse::<Alg>() {
            Ok(alg) => Some(alg),
            // An algorithm of JWE or one this module does not verify: not a key for us.
            Err(()) => return Ok(None),
        },
    };

    let kty = string(jwk, "kty")?.ok_or("no \"kty\"")?;
    let (family, material) = match kty {
        "RSA" => {
            let n = bytes(jwk, "n")?;
            let e = bytes(jwk, "e")?;
            let bits = bit_length(&n);
            if bits < MIN_RSA_BITS {
                return Err(KeyError::RsaTooSmall(bits).to_string());
            }
            (
                Family::Rsa,
                Material::rsa_components(&n, &e).ok_or("invalid RSA key")?,
            )
        }
        "EC" => {
            let size = match string(jwk, "crv")? {
                Some("P-256") => 32,
                Some("P-384") => 48,
                Some("P-521") => 66,
                Some(_) => return Ok(None),
                None => return Err("no \"crv\"".into()),
            };
            let (x, y) = (bytes(jwk, "x")?, bytes(jwk, "y")?);
            if x.len() != size || y.len() != size {
                return Err("\"x\" or \"y\" does not fit the curve".into());
            }
            let point = [&[0x04][..], &x, &y].concat();
            let family = ec_family(&point).ok_or("invalid EC point")?;
            let material = Material::ec(family, &point).ok_or("invalid EC point")?;
            (family, material)
        }
        "OKP" => {
            if string(jwk, "crv")? != Some("Ed25519") {
                return Ok(None);
            }
            let x = bytes(jwk, "x")?;
            if x.len() != 32 {
                return Err("\"x\" is not an Ed25519 public key".into());
            }
            (
                Family::Ed25519,
                Material::ed25519(&x).ok_or("invalid Ed25519 key")?,
            )
        }
        "oct" => {
            let k = bytes(jwk, "k")?;
            if k.is_empty() {
                return Err("empty \"k\"".into());
            }
            (Family::Hmac, Material::hmac(&k).ok_or("HMAC key refused")?)
        }
        _ => return Ok(None),
    };

    if alg.is_some_and(|a| a.family() != family) {
        return Err(format!(
            "\"alg\" {} does not fit a key of type {kty}",
            alg.unwrap()
        ));
    }

    let mut key = Key::new(family, material);
    key.alg = alg;
    key.kid = string(jwk, "kid")?.map(str::to_owned);
    Ok(Some(key))
}
