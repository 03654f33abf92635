use auth_core::jwt::{verify, Alg, JwtError, Policy};
use auth_core::keys::{implied_algorithms, load, Key, KeyError, KeyFormat};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

const NOW: i64 = 1_800_000_000;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../t/fixtures/jwt/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn token(name: &str) -> Vec<u8> {
    fixture(name).trim_ascii().to_vec()
}

fn keys(name: &str) -> Vec<Key> {
    load(&fixture(name), None).unwrap().keys
}

fn policy(keys: &[Key]) -> Policy {
    Policy {
        algorithms: implied_algorithms(keys),
        require_exp: true,
        ..Policy::default()
    }
}

fn b64(data: &str) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

fn hs256(secret: &[u8], header: &str, payload: &str) -> Vec<u8> {
    let message = format!("{}.{}", b64(header), b64(payload));
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, message.as_bytes());
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref())).into_bytes()
}

const SECRET: &[u8] = b"a-test-secret-that-is-32-bytes!!";

#[test]
fn every_algorithm_from_the_jwks() {
    let keys = keys("jwks.json");
    let policy = policy(&keys);
    for (file, alg) in [
        ("rs256.jwt", Alg::RS256),
        ("rs512-nokid.jwt", Alg::RS512),
        ("ps256.jwt", Alg::PS256),
        ("es256.jwt", Alg::ES256),
        ("es384.jwt", Alg::ES384),
        ("eddsa.jwt", Alg::EdDSA),
        ("hs256.jwt", Alg::HS256),
    ] {
        let verified =
            verify(&token(file), &keys, &policy, NOW).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(verified.alg, Some(alg));
        assert_eq!(verified.claim("sub").unwrap(), "alice");
        assert_eq!(
            verified.claim("profile.email").unwrap(),
            "alice@example.com"
        );
    }
}

#[test]
fn pem_spki_pkcs1_and_certificate() {
    for file in ["rsa.pem", "rsa-pkcs1.pem", "rsa.crt"] {
        let keys = keys(file);
        assert!(
            verify(&token("rs256.jwt"), &keys, &policy(&keys), NOW).is_ok(),
            "{file}"
        );
    }
    for (file, jwt) in [
        ("ec256.pem", "es256.jwt"),
        ("ec384.pem", "es384.jwt"),
        ("ed25519.pem", "eddsa.jwt"),
    ] {
        let keys = keys(file);
        assert!(
            verify(&token(jwt), &keys, &policy(&keys), NOW).is_ok(),
            "{file}"
        );
    }
    let keys = load(&fixture("hmac.secret"), Some(KeyFormat::Hmac))
        .unwrap()
        .keys;
    assert!(verify(&token("hs256.jwt"), &keys, &policy(&keys), NOW).is_ok());
}

#[test]
fn the_longest_signature_rsa_8192() {
    let keys = keys("rsa8192.pem");
    let policy = policy(&keys);
    let token = token("rs256-8192.jwt");
    assert_eq!(
        verify(&token, &keys, &policy, NOW).unwrap().alg,
        Some(Alg::RS256)
    );

    let mut tampered = token.clone();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        verify(&tampered, &keys, &policy, NOW).unwrap_err(),
        JwtError::BadSignature
    );
    // One byte longer than any signature: refused before any key is tried.
    let mut longer = token.clone();
    longer.extend_from_slice(b"AA");
    assert_eq!(
        verify(&longer, &keys, &policy, NOW).unwrap_err(),
        JwtError::Malformed("signature is not base64url")
    );
}

#[test]
fn key_loading_refusals() {
    assert_eq!(
        load(&fixture("rsa1024.pem"), None).unwrap_err(),
        KeyError::RsaTooSmall(1024)
    );
    assert_eq!(
        load(&fixture("rsa.key"), None).unwrap_err(),
        KeyError::PrivateKey
    );
    assert_eq!(load(b"", None).unwrap_err(), KeyError::Empty);
    assert_eq!(load(b"secret", None).unwrap_err(), KeyError::UnknownFormat);
    assert!(matches!(
        load(b"{\"keys\":[]}", None).unwrap_err(),
        KeyError::NoUsableKey(skipped) if skipped.is_empty()
    ));
    assert!(matches!(
        load(b"{\"keys\":1}", None).unwrap_err(),
        KeyError::NotJwks(_)
    ));
    assert!(matches!(
        load(b"{\"keys\":[],\"keys\":[]}", None).unwrap_err(),
        KeyError::NotJwks(_)
    ));
    assert!(matches!(
        load(
            br#"{"keys":[{"kty":"RSA","alg":"HS256","n":"AQAB","e":"AQAB"}]}"#,
            None
        )
        .unwrap_err(),
        KeyError::NoUsableKey(skipped) if skipped.len() == 1
    ));
}

/// RFC 7517, section 5: keys that cannot be used are ignored; the set is still used.
#[test]
fn unusable_keys_are_skipped_with_their_reason() {
    let good = fixture("jwks.json");
    let good = std::str::from_utf8(&good).unwrap();
    let good_keys = &good[good.find('[').unwrap() + 1..good.rfind(']').unwrap()];
    let set = format!(
        r#"{{"keys":[{{"kid":"no-kty","n":"AQAB"}},
            {{"kty":"RSA","kid":"small","n":"AQAB","e":"AQAB"}},
            {{"kty":"oct","kid":"confused","alg":"RS256","k":"c2VjcmV0"}},
            7,
            {{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}},
            {{"kty":"future","kid":"new-type"}},
            {good_keys}]}}"#
    );
    let loaded = load(set.as_bytes(), None).unwrap();

    let skipped: Vec<_> = loaded.skipped.iter().map(ToString::to_string).collect();
    assert_eq!(
        skipped,
        [
            r#"key 0 (kid "no-kty"): no "kty""#,
            r#"key 1 (kid "small"): RSA key of 17 bits; at least 2048 are required"#,
            r#"key 2 (kid "confused"): "alg" RS256 does not fit a key of type oct"#,
            "key 3: not a JSON object",
        ]
    );
    assert_eq!(loaded.keys.len(), keys("jwks.json").len());
    let policy = policy(&loaded.keys);
    assert!(verify(&token("rs256.jwt"), &loaded.keys, &policy, NOW).is_ok());
    assert!(verify(&token("es256.jwt"), &loaded.keys, &policy, NOW).is_ok());
}

#[test]
fn the_key_type_decides_the_algorithm() {
    // HS256 signed with the RSA public key as the secret: the classic confusion.
    let pem = fixture("rsa.pem");
    let keys = keys("rsa.pem");
    let forged = hs256(
        &pem,
        r#"{"alg":"HS256"}"#,
        r#"{"sub":"mallory","exp":4102444800}"#,
    );
    assert_eq!(
        verify(&forged, &keys, &policy(&keys), NOW).unwrap_err(),
        JwtError::AlgNotAllowed("HS256".into())
    );

    // Even when HS256 is allowed, an RSA key never acts as an HMAC secret.
    let mut loose = policy(&keys);
    loose.algorithms = Alg::ALL.to_vec();
    assert_eq!(
        verify(&forged, &keys, &loose, NOW).unwrap_err(),
        JwtError::UnknownKey
    );
}

#[test]
fn none_in_any_case_is_refused() {
    let keys = keys("jwks.json");
    let mut loose = policy(&keys);
    loose.algorithms = Alg::ALL.to_vec();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let t = format!(
            "{}.{}.",
            b64(&format!(r#"{{"alg":"{alg}"}}"#)),
            b64(r#"{"sub":"x"}"#)
        );
        assert!(matches!(
            verify(t.as_bytes(), &keys, &loose, NOW).unwrap_err(),
            JwtError::AlgNotAllowed(_)
        ));
    }
}

fn hs(header: &str, payload: &str) -> Result<auth_core::jwt::Verified, JwtError> {
    let keys = load(SECRET, Some(KeyFormat::Hmac)).unwrap().keys;
    let mut p = policy(&keys);
    p.leeway = 30;
    p.issuers = vec!["https://issuer.example".into()];
    p.audiences = vec!["api".into()];
    verify(&hs256(SECRET, header, payload), &keys, &p, NOW)
}

#[test]
fn claims() {
    let ok = r#","iss":"https://issuer.example","aud":"api"}"#;
    let h = r#"{"alg":"HS256"}"#;
    assert!(hs(h, &format!(r#"{{"exp":{}{ok}"#, NOW + 1)).is_ok());
    assert!(hs(h, &format!(r#"{{"exp":{}{ok}"#, NOW - 29)).is_ok());
    assert_eq!(
        hs(h, &format!(r#"{{"exp":{}{ok}"#, NOW - 30)).unwrap_err(),
        JwtError::Expired
    );
    assert!(hs(h, &format!(r#"{{"exp":{}.5{ok}"#, NOW)).is_ok());
    assert_eq!(
        hs(h, &format!(r#"{{"exp":"{}"{ok}"#, NOW + 100))
            .unwrap_err()
            .code(),
        "malformed"
    );
    assert_eq!(
        hs(h, &format!(r#"{{"sub":"x"{ok}"#)).unwrap_err().code(),
        "expired"
    );
    assert!(hs(
        h,
        &format!(r#"{{"exp":{},"nbf":{}{ok}"#, NOW + 100, NOW + 30)
    )
    .is_ok());
    assert_eq!(
        hs(
            h,
            &format!(r#"{{"exp":{},"nbf":{}{ok}"#, NOW + 100, NOW + 31)
        )
        .unwrap_err(),
        JwtError::NotYetValid
    );
    let exp = format!(r#"{{"exp":{}"#, NOW + 100);
    assert_eq!(
        hs(h, &format!(r#"{exp},"iss":"evil","aud":"api"}}"#)).unwrap_err(),
        JwtError::BadIssuer
    );
    assert_eq!(
        hs(h, &format!(r#"{exp},"aud":"api"}}"#)).unwrap_err(),
        JwtError::BadIssuer
    );
    assert_eq!(
        hs(
            h,
            &format!(r#"{exp},"iss":"https://issuer.example","aud":["web"]}}"#)
        )
        .unwrap_err(),
        JwtError::BadAudience
    );
    assert!(hs(
        h,
        &format!(r#"{exp},"iss":"https://issuer.example","aud":["web","api"]}}"#)
    )
    .is_ok());
    assert_eq!(
        hs(
            h,
            &format!(r#"{exp},"exp":1,"iss":"https://issuer.example","aud":"api"}}"#)
        )
        .unwrap_err()
        .code(),
        "malformed"
    );
}

#[test]
fn the_checked_members_among_others() {
    let ok = format!(r#"{{"exp":{},"iss":"https://issuer.example""#, NOW + 100);
    let h = r#"{"alg":"HS256","typ":"JWT","x":{"y":[1,{"z":null}]}}"#;
    assert!(hs(h, &format!(r#"{ok},"aud":["web","api"]}}"#)).is_ok());
    // RFC 7519, 4.1.3: aud is a string or an array of strings, or the token is malformed,
    // whether an audience is required or not.
    let malformed = [
        "7",
        "null",
        r#"{"api":1}"#,
        r#"[["api"]]"#,
        r#"["web",7,{"a":1},"api"]"#,
        r#"["api",null]"#,
    ];
    for aud in malformed {
        assert_eq!(
            hs(h, &format!(r#"{ok},"aud":{aud}}}"#)).unwrap_err().code(),
            "malformed",
            "{aud}"
        );
    }
    let keys = load(SECRET, Some(KeyFormat::Hmac)).unwrap().keys;
    let token = hs256(SECRET, h, &format!(r#"{ok},"aud":["web",7]}}"#));
    assert!(policy(&keys).audiences.is_empty());
    assert_eq!(
        verify(&token, &keys, &policy(&keys), NOW)
            .unwrap_err()
            .code(),
        "malformed",
        "without auth_jwt_audience too"
    );
    for claims in [
        format!(r#"{ok},"aud":"api","o":{{"a":1,"a":2}}}}"#),
        format!(r#"{ok},"aud":"api","aud":"web"}}"#),
        format!(r#"{ok},"aud":"api","l":[{{"b":1,"b":2}}]}}"#),
    ] {
        assert_eq!(hs(h, &claims).unwrap_err().code(), "malformed", "{claims}");
    }
    let claims = format!(r#"{ok},"aud":"api"}}"#);
    for header in [
        r#"{"alg":"HS256","alg":"none"}"#,
        r#"{"alg":"HS256","x":{"a":1,"a":2}}"#,
        r#"{"alg":"HS256","kid":"k","kid":"k"}"#,
    ] {
        assert_eq!(
            hs(header, &claims).unwrap_err().code(),
            "malformed",
            "{header}"
        );
    }

    // Header and claims are built when asked for, whole.
    let verified = hs(
        r#"{"alg":"HS256","typ":"at+jwt","x":{"y":"z"}}"#,
        &format!(r#"{ok},"aud":"api","sub":"alice","p":{{"q":[1,2]}}}}"#),
    )
    .unwrap();
    assert_eq!(verified.exp, Some((NOW + 100) as f64));
    assert_eq!(verified.claim("sub").unwrap(), "alice");
    assert_eq!(verified.claim("p.q").unwrap()[1], 2);
    assert_eq!(verified.header_field("typ").unwrap(), "at+jwt");
    assert_eq!(verified.header_field("x.y").unwrap(), "z");
    assert_eq!(verified.claims().len(), 5);
    assert_eq!(verified.header().len(), 3);
}

#[test]
fn header_rules() {
    let p = format!(
        r#"{{"exp":{},"iss":"https://issuer.example","aud":"api"}}"#,
        NOW + 100
    );
    assert_eq!(
        hs(r#"{"alg":"HS256","crit":["exp"],"exp":1}"#, &p)
            .unwrap_err()
            .code(),
        "malformed"
    );
    assert_eq!(
        hs(r#"{"alg":"HS256","crit":[]}"#, &p).unwrap_err().code(),
        "malformed"
    );
    assert_eq!(
        hs(r#"{"alg":"HS256","alg":"HS256"}"#, &p)
            .unwrap_err()
            .code(),
        "malformed"
    );
    // A raw secret has no kid, so any kid may name it; keys with kids must match.
    assert!(hs(r#"{"alg":"HS256","kid":"../../etc/passwd"}"#, &p).is_ok());
    let jwks = keys("jwks.json");
    let forged = hs256(SECRET, r#"{"alg":"HS256","kid":"../../etc/passwd"}"#, &p);
    assert_eq!(
        verify(&forged, &jwks, &policy(&jwks), NOW).unwrap_err(),
        JwtError::UnknownKey
    );
    assert_eq!(
        hs(r#"{"alg":"HS256","kid":7}"#, &p).unwrap_err().code(),
        "malformed"
    );
    assert_eq!(
        hs(r#"{"alg":"hs256"}"#, &p).unwrap_err().code(),
        "alg_not_allowed"
    );
    // Keys in the token's header are never used.
    assert!(hs(
        r#"{"alg":"HS256","jwk":{"kty":"oct","k":"AAAA"},"jku":"http://x/","x5u":"http://x/"}"#,
        &p
    )
    .is_ok());
}

#[test]
fn tampering() {
    let keys = keys("jwks.json");
    let policy = policy(&keys);
    for file in [
        "rs256.jwt",
        "ps256.jwt",
        "es256.jwt",
        "eddsa.jwt",
        "hs256.jwt",
    ] {
        let good = String::from_utf8(token(file)).unwrap();
        let (rest, signature) = good.rsplit_once('.').unwrap();
        let (header, _) = rest.split_once('.').unwrap();
        let other_payload = b64(r#"{"sub":"mallory","exp":4102444800}"#);
        let cases = [
            format!("{header}.{other_payload}.{signature}"),
            format!("{rest}.{}", &signature[..signature.len() - 4]),
            format!("{rest}."),
            format!("{rest}.{}", b64("x")),
            format!("{rest}.{signature}."),
            rest.to_string(),
            format!("{rest}.{signature}="),
            format!("{rest}.{}", signature.replace(['A', 'B'], "C")),
        ];
        for case in cases {
            let err = verify(case.as_bytes(), &keys, &policy, NOW).unwrap_err();
            assert!(
                matches!(err.code(), "bad_signature" | "malformed"),
                "{file}: {case}: {err}"
            );
        }
    }
    // ECDSA r = s = 0.
    let good = String::from_utf8(token("es256.jwt")).unwrap();
    let (rest, _) = good.rsplit_once('.').unwrap();
    let zero = format!("{rest}.{}", URL_SAFE_NO_PAD.encode([0u8; 64]));
    assert_eq!(
        verify(zero.as_bytes(), &keys, &policy, NOW).unwrap_err(),
        JwtError::BadSignature
    );
}

#[test]
fn junk_never_panics() {
    let keys = keys("jwks.json");
    let policy = policy(&keys);
    let deep = format!("{{\"alg\":{}1{}}}", "[".repeat(5000), "]".repeat(5000));
    for junk in [
        "".to_string(),
        ".".into(),
        "..".into(),
        "...".into(),
        "a.b.c".into(),
        format!("{}.{}.x", b64("null"), b64("{}")),
        format!("{}.{}.x", b64(&deep), b64("{}")),
        format!("{}.{}.x", b64("{\"alg\":\"RS256\"}"), b64("[]")),
        "x".repeat(20_000),
        "\u{1F600}.\u{1F600}.\u{1F600}".into(),
    ] {
        assert!(verify(junk.as_bytes(), &keys, &policy, NOW).is_err());
    }
}

/// RFC 7515 A.1–A.4, RFC 7520 4.1–4.4 and RFC 8037 A.4, copied from the RFCs.
#[test]
fn rfc_known_answers() {
    let vectors: serde_json::Value = serde_json::from_slice(
        &std::fs::read(format!(
            "{}/tests/fixtures/rfc-vectors.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();

    for vector in vectors.as_array().unwrap() {
        let name = vector["name"].as_str().unwrap();
        let jwks = serde_json::json!({ "keys": [vector["jwk"]] }).to_string();
        let keys = load(jwks.as_bytes(), None)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .keys;
        let alg: Alg = vector["alg"].as_str().unwrap().parse().unwrap();
        let policy = Policy {
            algorithms: vec![alg],
            ..Policy::default()
        };
        let token = vector["token"].as_str().unwrap().as_bytes();

        // Claims are checked only after the signature: a text payload fails there.
        match verify(token, &keys, &policy, 1_300_819_000) {
            Ok(verified) => {
                assert!(vector["claims"].is_object(), "{name}");
                assert_eq!(verified.claim("iss").unwrap(), "joe", "{name}");
                assert_eq!(
                    verify(token, &keys, &policy, 1_300_819_380).unwrap_err(),
                    JwtError::Expired,
                    "{name}"
                );
            }
            Err(err) => {
                assert!(vector["claims"].is_null(), "{name}: {err}");
                assert_eq!(
                    err,
                    JwtError::Malformed("payload is not a JSON object"),
                    "{name}"
                );
            }
        }

        // One flipped bit in the signature.
        let mut bad = token.to_vec();
        let last = bad.len() - 2;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            verify(&bad, &keys, &policy, 1_300_819_000).unwrap_err(),
            JwtError::BadSignature,
            "{name}"
        );
    }
}

#[test]
fn fingerprints_tell_key_sets_apart() {
    use auth_core::keys::fingerprint;
    let one = fingerprint(&[b"{\"keys\":[]}", b"x"]);
    assert_eq!(one, fingerprint(&[b"{\"keys\":[]}", b"x"]));
    assert_ne!(one, fingerprint(&[b"{\"keys\":[]}x"]));
    assert_ne!(one, fingerprint(&[b"{\"keys\":[]", b"}x"]));
    assert_ne!(fingerprint(&[]), fingerprint(&[b""]));
}

#[test]
fn jws_shape() {
    use auth_core::jwt::looks_like_jws;
    assert!(looks_like_jws(&token("rs256.jwt")));
    assert!(looks_like_jws(b"a.b.c"));
    for bad in [
        &b""[..],
        b"abc",
        b"a.b",
        b"a.b.c.d",
        b"a..c",
        b"a.b.",
        b"a b.c.d",
        b"a.b.c=",
        b"\xff.b.c",
    ] {
        assert!(!looks_like_jws(bad), "{:?}", String::from_utf8_lossy(bad));
    }
    let long = [&b"a.b."[..], &[b'c'; 16 * 1024]].concat();
    assert!(!looks_like_jws(&long));

    // The same verdict as the rule spelled out, for every string of up to 5 bytes over an
    // alphabet with each class of byte.
    let spelled_out = |t: &[u8]| {
        t.iter().filter(|&&c| c == b'.').count() == 2
            && t.split(|&c| c == b'.').all(|part| {
                !part.is_empty()
                    && part
                        .iter()
                        .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
            })
    };
    let alphabet = b"a.-_=\xff";
    let mut strings: Vec<Vec<u8>> = vec![Vec::new()];
    let mut level: Vec<Vec<u8>> = vec![Vec::new()];
    for _ in 0..5 {
        level = level
            .iter()
            .flat_map(|s| alphabet.iter().map(move |&c| [s.as_slice(), &[c]].concat()))
            .collect();
        strings.extend(level.iter().cloned());
    }
    for s in &strings {
        assert_eq!(
            looks_like_jws(s),
            spelled_out(s),
            "{:?}",
            String::from_utf8_lossy(s)
        );
    }
}
